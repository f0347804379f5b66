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

# A withdraw DELETE goes out before the ledger durably notes it (acks, statuses and deletes
# are written lazily), so a kill -9 right after restores the row as "acked, present"; the
# restorer then marks only keys not acked at their current revision, wanted or not, so the
# DELETE is never re-sent (restore.py's docstring says "deleted if no longer wanted").
WITHDRAW_CRASH_BUG = (
    "killed right after a withdraw, the restored ledger shows the key acked on a host that "
    "deleted it (or still holds it unwanted): the restorer re-sends nothing for keys acked "
    "at their current revision, wanted or not, and a re-entry at that revision is never sent"
)

# southbound/audit.py compares a host with its own view only; Channels' subscriptions are
# not part of the intent it audits against.
AUDIT_TOPIC_BUG = (
    "the audit ignores VPC topics: an auto host subscribed to a VPC topic holds that VPC's "
    "neighbors and subnets beyond its own view by design, and the audit reports them as extra "
    "drift (a repair would delete them)"
)

# Channels (mode, subs, published, _port_vpc) live in memory only.
TOPIC_RESTART_BUG = (
    "after a server kill -9 the VPC-topic state is gone: REST shows no subscription while the "
    "agents still consume the topic, a deleted port no longer marks its VPC, and the subnets "
    "a host got from the topic are never withdrawn"
)

# alcor/southbound/view.py in_view(SUBNET) is `reachable or granted_subnets`: the subnets
# of the neighbors' other fixed IPs (part of D(H) in §3.1) are not, so a diff withdraws them.
NEIGHBOR_SUBNET_BUG = (
    "a subnet that only a neighbor's other fixed IP needs (spec §3.1 SUBNET context) is "
    "withdrawn from the host when its own last port there leaves (e.g. a host left with "
    "IPv6-only ports loses the IPv4 subnet of its dual-stack neighbors)"
)
