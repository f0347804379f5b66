"""Address groups: sets of CIDRs for security group rules."""
