"""Product bugs the suite has found and not yet seen fixed: the reasons of its xfail marks.

Each mark also names the exception it expects (`raises=NotConverged`, ...), so a test that
fails for any other reason still fails. When a fix lands, the strict marks turn into
failures (XPASS): remove the mark and the reason here.
"""

# The ledger counts a key as held when acked_rev equals its revision, even when the last
# thing sent for it was a DELETE at that same revision (a withdraw carries the current
# revision): such a DELETE is never re-sent after a restart, and a re-entry at the same
# revision is never sent at all.
WITHDRAW_BUG = (
    "a withdrawn key (last sent: DELETE at revision r) still counts as held because "
    "acked_rev == r: the DELETE is not re-sent after a restart and a re-entry at r is never "
    "sent; the ledger shows the DELETE unacked forever"
)


# AGENT_RESTARTED (engine.restart_node) does not touch Channels: the restarted agent is
# never re-subscribed to its VPC topics (spec §6 step 3) while the controller keeps it
# SUBSCRIBED and filters that VPC's neighbors out of its per-host delivery.
RESUBSCRIBE_BUG = (
    "AGENT_RESTARTED does not re-subscribe an auto host to its VPC topics: it stays "
    "SUBSCRIBED, per-host neighbors of the VPC are filtered out, it never gets them"
)

# alcor/agent/program.py _put_router checks every table subnet's gateway IP with is_ipv4.
IPV6_ROUTER_BUG = (
    "a router with an interface on an IPv6 subnet is refused by every reference agent "
    "(INVALID_ARG 'subnet ... has no valid gateway IP/MAC'): the router never reaches a host"
)
