"""The agent's revision rule (spec §4.3), row by row, for several kinds."""

from __future__ import annotations

import pytest
from agent_helpers import (
    OP,
    context,
    dhcp,
    goal_state,
    neighbor,
    port,
    router,
    statuses,
    vpc,
)

from alcor.agent import AgentState, Applier
from alcor.agent.state import NEIGHBOR, PORT

# kind name, builder, and the context each needs
KINDS = {
    "VPC": (lambda rev, op: vpc(rev=rev, op=OP.INFO if op is None else op), "vpc-1"),
    "PORT": (lambda rev, op: port(rev=rev, op=op or OP.CREATE), "p-b"),
    "NEIGHBOR": (lambda rev, op: neighbor(rev=rev, op=op or OP.CREATE), "p-a"),
    "DHCP": (lambda rev, op: dhcp(rev=rev, op=op or OP.CREATE), "p-b"),
    "ROUTER": (lambda rev, op: router(rev=rev, op=op or OP.CREATE), "r-1"),
}


class Agent:
    """A pure applier plus helpers: send states of one kind and read the status back."""

    def __init__(self, kind: str, clock=None) -> None:
        kw = {"clock": clock} if clock else {}
        self.state = AgentState("10.0.0.12", **kw)
        self.applier = Applier(self.state)
        self.build, self.rid = KINDS[kind]
        self.kind = kind
        if kind != "VPC":
            self.applier.apply_v2(goal_state(*context()))

    def send(self, rev: int, op: OP | None = None) -> str:
        reply = self.applier.apply_v2(goal_state(self.build(rev, op)))
        return statuses(reply)[(self.kind, self.rid)]

    def applied(self):
        return self.state.applied(_KIND_INT[self.kind], self.rid)

    def tomb(self):
        return self.state.tomb_rev(_KIND_INT[self.kind], self.rid)


_KIND_INT = {"VPC": 0, "PORT": PORT, "NEIGHBOR": NEIGHBOR, "DHCP": 5, "ROUTER": 6}
kinds = pytest.mark.parametrize("kind", sorted(KINDS))


@kinds
def test_new_revision_is_applied(kind):
    """non-DELETE r with nothing applied and no tomb: applied, SUCCESS."""
    a = Agent(kind)
    assert a.send(3) == "SUCCESS"
    assert a.applied() == 3
    assert a.send(4) == "SUCCESS"
    assert a.applied() == 4


@kinds
@pytest.mark.parametrize("rev", [2, 3])
def test_same_or_older_revision_is_out_of_order(kind, rev):
    """non-DELETE r <= applied: not applied, OUT_OF_ORDER."""
    a = Agent(kind)
    a.send(3)
    assert a.send(rev) == "OUT_OF_ORDER"
    assert a.applied() == 3


@kinds
def test_below_tomb_is_out_of_order_and_equal_is_accepted(kind):
    """non-DELETE r < tomb: OUT_OF_ORDER; r == tomb: accepted (re-entry after a withdraw)."""
    a = Agent(kind)
    a.send(3)
    assert a.send(5, OP.DELETE) == "SUCCESS"
    assert (a.applied(), a.tomb()) == (None, 5)
    assert a.send(4) == "OUT_OF_ORDER"
    assert a.applied() is None
    assert a.send(5) == "SUCCESS"
    assert (a.applied(), a.tomb()) == (5, None)


@kinds
@pytest.mark.parametrize("rev", [3, 4])
def test_delete_at_or_above_applied_removes(kind, rev):
    """DELETE r >= applied: removed, tomb = r, SUCCESS (a withdraw carries the current rev)."""
    a = Agent(kind)
    a.send(3)
    assert a.send(rev, OP.DELETE) == "SUCCESS"
    assert (a.applied(), a.tomb()) == (None, rev)


@kinds
def test_delete_below_applied_or_tomb_is_out_of_order(kind):
    """DELETE r < applied, or r < tomb: not applied, OUT_OF_ORDER."""
    a = Agent(kind)
    a.send(3)
    assert a.send(2, OP.DELETE) == "OUT_OF_ORDER"
    assert a.applied() == 3
    a.send(6, OP.DELETE)
    assert a.send(5, OP.DELETE) == "OUT_OF_ORDER"
    assert a.tomb() == 6
    assert a.send(6, OP.DELETE) == "SUCCESS"


@kinds
def test_delete_of_unknown_is_success(kind):
    """A DELETE of an id the agent never had answers SUCCESS and leaves a tomb."""
    a = Agent(kind)
    assert a.send(7, OP.DELETE) == "SUCCESS"
    assert a.tomb() == 7
    assert a.send(6) == "OUT_OF_ORDER"


def test_late_create_after_migration_delete_is_not_resurrected():
    """§4.4: B holds tomb 6; a late CREATE 5 answers OUT_OF_ORDER."""
    a = Agent("PORT")
    assert a.send(6, OP.DELETE) == "SUCCESS"
    assert a.send(5) == "OUT_OF_ORDER"
    assert "p-b" not in a.state.ports


def test_tombstones_expire_after_their_ttl():
    """After agent.tombstone_ttl_s the tomb is forgotten and an older revision applies."""
    now = [1000.0]
    a = Agent("NEIGHBOR", clock=lambda: now[0])
    a.send(5, OP.DELETE)
    now[0] += 86400 - 1
    assert a.send(4) == "OUT_OF_ORDER"
    now[0] += 2
    assert a.send(4) == "SUCCESS"


def test_tombstones_are_capped_lru():
    """Past the cap, the least recently written tombs go first."""
    state = AgentState("10.0.0.12", tomb_cap=2)
    for i in range(3):
        state.bury(NEIGHBOR, f"n{i}", 9)
    assert state.tomb_rev(NEIGHBOR, "n0") is None
    assert state.tomb_rev(NEIGHBOR, "n2") == 9


def test_rejected_states_leave_revisions_for_a_retry():
    """INVALID_ARG/PENDING/FAILURE do not touch applied, so a retry at that rev applies."""
    a = Agent("PORT")
    bad = port(rev=2, mac="not-a-mac")
    assert statuses(a.applier.apply_v2(goal_state(bad)))[("PORT", "p-b")] == "INVALID_ARG"
    assert a.applied() is None
    assert a.send(2) == "SUCCESS"


def test_lookups_use_the_stored_subnet_when_the_messages_copy_is_stale():
    """A rejected (stale) subnet copy in a message does not hide the stored one."""
    from agent_helpers import subnet

    a = Agent("PORT")
    reply = statuses(a.applier.apply_v2(goal_state(subnet(rev=1), port(rev=1))))
    assert reply[("SUBNET", "sub-1")] == "OUT_OF_ORDER"
    assert reply[("PORT", "p-b")] == "SUCCESS"
