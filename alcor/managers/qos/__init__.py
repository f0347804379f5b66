"""QoS: policies, their rules, and their binding to networks and ports."""
