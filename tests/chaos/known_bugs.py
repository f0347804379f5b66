"""Product bugs the suite has found and not yet seen fixed: the reasons of its xfail marks.

Each mark also names the exception it expects (`raises=NotConverged`, ...), so a test that
fails for any other reason still fails. When a fix lands, the strict marks turn into
failures (XPASS): remove the mark and the reason here. Marks on random workloads are not
strict (a random run hits a bug only when it lands in its window).
"""

# alcor/southbound/view.py in_view(SUBNET) is `reachable or granted_subnets`: the subnets
# of the neighbors' other fixed IPs (part of D(H) in §3.1) are not, so a diff withdraws them.
NEIGHBOR_SUBNET_BUG = (
    "a subnet that only a neighbor's other fixed IP needs (spec §3.1 SUBNET context) is "
    "withdrawn from the host when its own last port there leaves (e.g. a host left with "
    "IPv6-only ports loses the IPv4 subnet of its dual-stack neighbors)"
)

# Channels (mode, subs, published, _port_vpc) live in memory only.
TOPIC_RESTART_BUG = (
    "after a server kill -9 the VPC-topic state is gone: REST shows no subscription while the "
    "agents still consume the topic, a deleted port no longer marks its VPC, and the subnets "
    "a host got from the topic are never withdrawn"
)

# A neighbor delivered per host before the host subscribed keeps its ledger row; the port's
# DELETE then reaches the host through the topic only, and the row is never cleared.
TOPIC_LEDGER_BUG = (
    "a port deleted in a VPC on its topic stays acked in the ledger of a subscribed host that "
    "held its neighbor per host before subscribing: the host deletes it from the topic, the "
    "ledger shows it held forever"
)

# Channels._leave hands back the published neighbors only.
TOPIC_LEAVE_BUG = (
    "a host that leaves a VPC on its topic (its last port there moves away) keeps the VPC "
    "and SUBNET contexts it had: the hand-back withdraws neighbors only, and the ledger does "
    "not list those contexts"
)
