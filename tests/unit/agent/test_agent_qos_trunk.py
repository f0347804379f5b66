"""The reference agent's QoS policies and trunk subports: stored, validated, shown, audited."""

from __future__ import annotations

from alcor.agent import AgentState, Applier
from alcor.agent.inventory import held
from alcor.proto import schema as S
from tests.unit.agent.agent_helpers import OP, RT, context, goal_state, port, statuses, vpc

Rule = S.QosPolicyConfigurationRule


def qos(pid: str = "q-1", rev: int = 1, op: OP = OP.CREATE, *rules: Rule) -> tuple:
    """A QoS policy state."""
    cfg = S.QosPolicyConfiguration(
        revision_number=rev, id=pid, update_type=S.UpdateType.FULL, name=pid, rules=list(rules)
    )
    return RT.QOS_POLICY, pid, S.QosPolicyState(op, cfg)


LIMIT = Rule(id="r-1", type="bandwidth_limit", direction="egress", max_kbps=1000)


def test_policies_are_stored_resolved_per_port_and_deleted() -> None:
    """A port's own policy wins; a port without one gets its VPC's, unless it is a network
    port; the inventory counts the policies; a DELETE removes one."""
    state = AgentState("10.0.0.12")
    applier = Applier(state)
    reply = applier.apply_v2(
        goal_state(
            vpc(qos_policy_id="q-net"),
            context()[1],
            qos("q-own", 1, OP.CREATE, LIMIT),
            qos("q-net", 3, OP.CREATE, Rule(id="r-2", type="dscp_marking", dscp_mark=26)),
            port("p-own", qos_policy_id="q-own"),
            port("p-net", ip="10.10.0.7", mac="fa:16:3e:bb:bb:bc"),
            port("p-dhcp", ip="10.10.0.8", mac="fa:16:3e:bb:bb:bd", device_owner="network:dhcp"),
        )
    )
    assert set(statuses(reply).values()) == {"SUCCESS"}
    shown = state.to_json()
    assert shown["port_qos"] == {
        "p-own": {"qos_policy_id": "q-own", "source": "port", "held": "yes"},
        "p-net": {"qos_policy_id": "q-net", "source": "network", "held": "yes"},
    }
    assert shown["qos_policies"]["q-own"]["rules"][0]["max_kbps"] == 1000
    assert held(state)["QOS_POLICY"] == {"q-own": 1, "q-net": 3}
    applier.apply_v2(goal_state(qos("q-own", 2, OP.DELETE)))
    assert set(state.qos_policies) == {"q-net"}
    assert state.to_json()["port_qos"]["p-own"]["held"] == "no"


def test_bad_policies_and_subports_are_refused() -> None:
    """An unknown rule type, a DSCP mark above 63 and a subport without a VLAN in 1-4094
    are INVALID_ARG and leave nothing behind."""
    state = AgentState("10.0.0.12")
    trunk = S.PortConfigurationTrunkInfo("p-parent", "vlan", 4095)
    reply = Applier(state).apply_v2(
        goal_state(
            *context(),
            qos("q-1", 1, OP.CREATE, Rule(id="r", type="shaping")),
            qos("q-2", 1, OP.CREATE, Rule(id="r", type="dscp_marking", dscp_mark=64)),
            port("p-sub", trunk=trunk),
        )
    )
    assert statuses(reply) == {
        ("VPC", "vpc-1"): "SUCCESS",
        ("SUBNET", "sub-1"): "SUCCESS",
        ("QOS_POLICY", "q-1"): "INVALID_ARG",
        ("QOS_POLICY", "q-2"): "INVALID_ARG",
        ("PORT", "p-sub"): "INVALID_ARG",
    }
    assert state.qos_policies == {} and state.ports == {}


def test_subports_show_under_their_parent() -> None:
    """A subport keeps its VLAN; the agent lists subports per parent port."""
    state = AgentState("10.0.0.12")
    trunk = S.PortConfigurationTrunkInfo("p-parent", "vlan", 101)
    Applier(state).apply_v2(
        goal_state(
            *context(),
            port("p-parent"),
            port("p-sub", ip="10.10.0.9", mac="fa:16:3e:bb:bb:be", trunk=trunk),
        )
    )
    assert state.to_json()["trunks"] == {
        "p-parent": [{"port_id": "p-sub", "segmentation_type": "vlan", "segmentation_id": 101}]
    }
