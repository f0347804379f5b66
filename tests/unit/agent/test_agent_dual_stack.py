"""Dual-stack neighbors (ARP for IPv4, neighbor discovery for IPv6), address pairs, DHCP."""

from __future__ import annotations

import pytest
from agent_helpers import (
    GW_MAC,
    RT,
    TUNNEL,
    S,
    context,
    dhcp,
    goal_state,
    neighbor,
    router,
    statuses,
    subnet,
)

from alcor.agent import AgentState, Applier

V6_SUBNET = subnet(sid="sub-6", cidr="fd00::/64", gw_ip="fd00::1")


@pytest.fixture
def agent() -> Applier:
    """An agent holding the VPC, the IPv4 subnet sub-1 and the IPv6 subnet sub-6."""
    applier = Applier(AgentState("10.0.0.12"))
    applier.apply_v2(goal_state(*context(), V6_SUBNET))
    return applier


def _fixed(ip: str, sid: str) -> S.NeighborConfigurationFixedIp:
    return S.NeighborConfigurationFixedIp(S.NeighborType.L2, sid, ip, tunnel_id=TUNNEL)


def test_a_dual_stack_neighbor_fills_arp_and_neighbor_discovery(agent: Applier) -> None:
    """The IPv4 address goes to ARP, the IPv6 one to ND, both to the port's MAC and host."""
    state = neighbor(fixed_ips=[_fixed("10.10.0.5", "sub-1"), _fixed("fd00::5", "sub-6")])
    assert statuses(agent.apply_v2(goal_state(state))) == {("NEIGHBOR", "p-a"): "SUCCESS"}
    v4 = agent.state.lookup("10.10.0.5", TUNNEL)
    v6 = agent.state.lookup("fd00::5", TUNNEL)
    assert v4 is not None and v6 is not None
    assert (v4.mac, v4.host_ip) == (v6.mac, v6.host_ip) == ("fa:16:3e:aa:aa:aa", "192.168.1.11")
    dump = agent.state.to_json()
    assert [e["ip"] for e in dump["arp"]] == ["10.10.0.5"]
    assert [e["ip"] for e in dump["nd"]] == ["fd00::5"]


def test_an_ipv6_only_neighbor_and_its_delete(agent: Applier) -> None:
    """An IPv6-only port is a neighbor too; its DELETE empties the ND table."""
    agent.apply_v2(goal_state(neighbor(fixed_ips=[_fixed("fd00::7", "sub-6")])))
    assert agent.state.to_json()["nd"][0]["ip"] == "fd00::7"
    agent.apply_v2(goal_state(neighbor(rev=2, op=S.OperationType.DELETE)))
    assert agent.state.to_json()["nd"] == []
    assert agent.state.lookup("fd00::7", TUNNEL) is None


def test_allowed_address_pairs_are_neighbors_of_their_port(agent: Applier) -> None:
    """A pair address answers with the pair's MAC on the port's host; a prefix has no entry."""
    pairs = [
        S.NeighborConfigurationAllowAddressPair("10.10.0.100", "fa:16:3e:00:00:99"),
        S.NeighborConfigurationAllowAddressPair("fd00::100", ""),
        S.NeighborConfigurationAllowAddressPair("10.10.1.0/24", ""),
    ]
    agent.apply_v2(goal_state(neighbor(allow_address_pairs=pairs)))
    pair = agent.state.lookup("10.10.0.100", TUNNEL)
    assert pair is not None and (pair.mac, pair.port_id) == ("fa:16:3e:00:00:99", "p-a")
    v6_pair = agent.state.lookup("fd00::100", TUNNEL)
    assert v6_pair is not None and v6_pair.mac == "fa:16:3e:aa:aa:aa"  # the port's own MAC
    agent.apply_v2(goal_state(neighbor(rev=2, op=S.OperationType.DELETE)))
    dump = agent.state.to_json()
    assert dump["arp"] == [] and dump["nd"] == []


def test_a_bad_pair_is_refused_with_its_reason(agent: Applier) -> None:
    """An invalid pair is INVALID_ARG, and the reply says why."""
    pairs = [S.NeighborConfigurationAllowAddressPair("10.10.0.300", "")]
    reply = S.GoalStateOperationReply().parse(
        agent.apply_v2(goal_state(neighbor(allow_address_pairs=pairs)))
    )
    [status] = reply.operation_statuses
    assert status.operation_status == S.OperationStatus.INVALID_ARG
    assert "10.10.0.300" in status.status_message


def test_dhcp_for_an_ipv6_only_port_with_extra_options(agent: Applier) -> None:
    """DHCP takes an IPv6-only port, and keeps the port's extra DHCP options."""
    _, key, state = dhcp(ip="10.10.0.6", sid="sub-6")
    state.configuration.ipv4_address = ""
    state.configuration.ipv6_address = "fd00::6"
    state.configuration.extra_dhcp_options = [
        S.DhcpConfigurationExtraDhcpOption("bootfile-name", "pxelinux.0", 4)
    ]
    assert statuses(agent.apply_v2(goal_state((RT.DHCP, key, state)))) == {
        ("DHCP", "p-b"): "SUCCESS"
    }
    entry = agent.state.dhcp["fa:16:3e:bb:bb:bb"]
    assert (entry["ipv4"], entry["ipv6"]) == ("", "fd00::6")
    assert entry["extra_dhcp_options"] == [
        {"name": "bootfile-name", "value": "pxelinux.0", "ip_version": 4}
    ]


def test_a_router_on_an_ipv6_subnet_answers_neighbor_discovery(agent: Applier) -> None:
    """A router interface on an IPv6 subnet is accepted; its gateway answers ND, not ARP."""
    assert statuses(agent.apply_v2(goal_state(router(subnets=("sub-6",))))) == {
        ("ROUTER", "r-1"): "SUCCESS"
    }
    gateway = agent.state.lookup("fd00::1", TUNNEL)
    assert gateway is not None and gateway.mac == GW_MAC
    assert [e["ip"] for e in agent.state.to_json()["nd"]] == ["fd00::1"]
    agent.apply_v2(goal_state(router(rev=2, op=S.OperationType.DELETE)))
    assert agent.state.to_json()["nd"] == []
