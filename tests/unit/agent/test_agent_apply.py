"""What the agent programs: validation as ACA, apply order, ARP, routes, DHCP, gateways."""

from __future__ import annotations

import pytest
from agent_helpers import (
    DVR_MAC,
    GW_MAC,
    OP,
    TUNNEL,
    S,
    context,
    dhcp,
    gateway,
    goal_state,
    goal_state_v1,
    neighbor,
    port,
    router,
    sg,
    statuses,
    subnet,
    vpc,
)

from alcor.agent import AgentState, Applier, ApplyOptions


@pytest.fixture
def agent():
    """A pure applier for an agent at 10.0.0.12 that already holds the VPC and subnet."""
    applier = Applier(AgentState("10.0.0.12"))
    applier.apply_v2(goal_state(*context()))
    return applier


def send(applier: Applier, *states: tuple) -> dict[tuple[str, str], str]:
    """Apply a V2 message and return its statuses."""
    return statuses(applier.apply_v2(goal_state(*states)))


INVALID = {
    "port revision 0": port(rev=0),
    "port empty id": port(pid=""),
    "port admin down": port(admin_state_up=False),
    "port no fixed ip": port(fixed_ips=[]),
    "port unknown subnet": port(sid="sub-x"),
    "port CREATE without FULL": port(update_type=S.UpdateType.DELTA),
    "port CREATE first fixed IP not an IP": port(ip="10.10.0.256"),
    "port CREATE bad mac": port(mac="fa:16:3e:bb:bb"),
    "port UPDATE with device": port(op=OP.UPDATE),
    "port INFO": port(op=OP.INFO),
    "port GET": port(op=OP.GET),
    "neighbor revision 0": neighbor(rev=0),
    "neighbor bad mac": neighbor(mac="zz:16:3e:aa:aa:aa"),
    "neighbor bad host ip": neighbor(host_ip="192.168.1"),
    "neighbor bad fixed ip": neighbor(ip="10.10.0.256"),
    "neighbor unknown subnet": neighbor(sid="sub-x"),
    "router revision 0": router(rev=0),
    "router bad dvr mac": router(dvr="fe:16:11"),
    "router unknown subnet": router(subnets=("sub-x",)),
    "dhcp unknown subnet": dhcp(sid="sub-x"),
    "dhcp bad mac": dhcp(mac="nope"),
    "dhcp bad ipv4": dhcp(ip="fd00::6"),
    "dhcp INFO": dhcp(op=OP.INFO),
    "zeta gateway without destinations": gateway(dests=0),
    "zeta gateway without zeta_info": gateway(zeta=False),
}


@pytest.mark.parametrize("state", INVALID.values(), ids=INVALID.keys())
def test_validation_failure_is_invalid_arg_and_not_applied(agent, state):
    """Each ACA check fails with INVALID_ARG, and the state is not stored."""
    kind, _, msg = state
    rid = msg.configuration.id
    assert send(agent, state)[(kind.name, rid)] == "INVALID_ARG"
    assert agent.state.applied(kind, rid) is None
    assert agent.state.last_errors[-1]["id"] == rid


@pytest.mark.parametrize(
    "bad",
    [
        subnet(sid="sub-v", network_type=S.NetworkType.VLAN, tunnel=4095),
        subnet(sid="sub-v", tunnel=0),
        subnet(sid="sub-v", cidr="10.10.0.0"),
    ],
)
def test_port_on_a_subnet_with_bad_tunnel_or_cidr_is_invalid(agent, bad):
    """A port's subnet needs a tunnel id in range for its type and a CIDR with '/'."""
    assert send(agent, bad, port(sid="sub-v"))[("PORT", "p-b")] == "INVALID_ARG"


def test_router_needs_a_stable_dvr_mac_and_a_valid_gateway(agent):
    """The first host DVR MAC sticks; a subnet without gateway MAC cannot be routed."""
    assert send(agent, router())[("ROUTER", "r-1")] == "SUCCESS"
    other = router(rid="r-2", dvr="fe:16:11:00:00:99")
    assert send(agent, other)[("ROUTER", "r-2")] == "INVALID_ARG"
    no_gw = subnet(sid="sub-2", cidr="10.20.0.0/24", gw_ip="10.20.0.1", gw_mac="")
    assert (
        send(agent, no_gw, router(rid="r-3", subnets=("sub-2",)))[("ROUTER", "r-3")]
        == "INVALID_ARG"
    )


def test_one_message_with_router_ports_neighbors_dhcp_applies_fully():
    """Dependencies inside one message resolve: context and router first, DHCP last."""
    applier = Applier(AgentState("10.0.0.12"))
    # Deliberately listed in reverse dependency order.
    reply = send(
        applier,
        dhcp(),
        neighbor(ntype=S.NeighborType.L3),
        port(),
        router(),
        sg(),
        gateway(),
        subnet(),
        vpc(gateway_ids=["gw-1"]),
    )
    assert set(reply.values()) == {"SUCCESS"}
    assert len(reply) == 8
    st = applier.state
    assert set(st.ports) == {"p-b"} and set(st.routers) == {"r-1"}
    assert st.neighbors["p-a"].fixed_ips[0][4] == "r-1"  # L3 through r-1, not deferred
    assert st.dhcp["fa:16:3e:bb:bb:bb"]["ipv4"] == "10.10.0.6"
    assert st.sg_rules["sg-1"][0]["port_range_min"] == 22
    assert st.gateway_groups() == {
        TUNNEL: {
            "gateway_id": "gw-1",
            "oam_port": 8300,
            "destinations": [
                {"ip_address": "172.16.0.1", "mac_address": "52:54:00:11:00:01"},
                {"ip_address": "172.16.0.2", "mac_address": "52:54:00:11:00:02"},
            ],
        }
    }


def test_every_state_gets_a_status_with_times(agent):
    """One status per state of every kind; state_elapse_time = validation + programming."""
    reply = S.GoalStateOperationReply().parse(
        agent.apply_v2(
            goal_state(
                vpc(rev=2), subnet(rev=2), port(), neighbor(), dhcp(), router(), sg(), gateway()
            )
        )
    )
    assert reply.format_version == 102
    assert len(reply.operation_statuses) == 8
    for s in reply.operation_statuses:
        assert s.state_elapse_time == s.network_configuration_time + s.dataplane_programming_time
    assert reply.message_total_operation_time >= max(
        s.state_elapse_time for s in reply.operation_statuses
    )


def test_arp_table_from_l2_neighbors_and_router_gateways(agent):
    """L2 neighbors fill (ip, tunnel) -> mac/host/port; a router adds its subnet gateways."""
    send(
        agent,
        neighbor(),
        neighbor(pid="p-c", ip="10.10.0.7", mac="fa:16:3e:cc:cc:cc", host_ip="10.0.0.12"),
    )
    st = agent.state
    a = st.arp_lookup("10.10.0.5", TUNNEL)
    assert (a.mac, a.host_ip, a.port_id) == ("fa:16:3e:aa:aa:aa", "192.168.1.11", "p-a")
    assert st.neighbors["p-c"].to_json(st.own_ip)["local"] is True  # own host: ARP only
    assert st.arp_lookup("10.10.0.1", TUNNEL) is None
    send(agent, router())
    gw = st.arp_lookup("10.10.0.1", TUNNEL)
    assert (gw.mac, gw.port_id) == (GW_MAC, "")
    assert st.host_dvr_mac == DVR_MAC
    assert [r["subnet_id"] for r in st.to_json()["routes"]] == ["sub-1"]
    send(agent, neighbor(rev=2, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.5", TUNNEL) is None
    send(agent, router(rev=2, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.1", TUNNEL) is None and not st.routes


def test_an_address_two_neighbors_claim_answers_for_the_one_still_held(agent):
    """A deleted port's neighbor replayed (a VPC topic read from its start) after the new
    owner of its IP: when the replayed one goes, the address answers for the new owner."""
    st = agent.state
    send(agent, neighbor(pid="p-new", mac="fa:16:3e:00:00:0b"))
    send(agent, neighbor(pid="p-old", mac="fa:16:3e:00:00:0a"))
    assert st.arp_lookup("10.10.0.5", TUNNEL).port_id == "p-old"  # the latest claim answers
    send(agent, neighbor(pid="p-old", rev=2, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.5", TUNNEL).port_id == "p-new"
    send(agent, neighbor(pid="p-new", rev=2, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.5", TUNNEL) is None and not st.shadowed


def test_a_shadowed_claim_that_goes_first_leaves_nothing_behind(agent):
    """The earlier claimant goes while shadowed; then the address goes with the last one."""
    st = agent.state
    send(agent, neighbor(pid="p-a"), neighbor(pid="p-b", mac="fa:16:3e:00:00:0b"))
    send(agent, neighbor(pid="p-a", rev=2, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.5", TUNNEL).port_id == "p-b" and not st.shadowed
    send(agent, neighbor(pid="p-b", rev=2, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.5", TUNNEL) is None


def test_a_router_routed_again_leaves_no_old_gateway_entry(agent):
    """Re-programming a router's subnet replaces its gateway entry rather than shadowing it:
    deleting a neighbor that claimed the gateway IP meanwhile brings back only the router."""
    st = agent.state
    send(agent, router())
    send(agent, router(rev=2, update_type=S.UpdateType.DELTA))  # routes sub-1 again
    assert not st.shadowed
    send(agent, neighbor(pid="p-gw", ip="10.10.0.1"))
    send(agent, router(rev=3, update_type=S.UpdateType.DELTA))
    send(agent, neighbor(pid="p-gw", rev=2, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.1", TUNNEL).port_id == ""  # the gateway
    send(agent, router(rev=4, op=OP.DELETE))
    assert st.arp_lookup("10.10.0.1", TUNNEL) is None and not st.shadowed


def test_l3_neighbor_without_router_is_deferred_then_upgraded(agent):
    """An L3 fixed IP with no local router is stored as L2 (SUCCESS), upgraded later."""
    remote = subnet(
        sid="sub-2", cidr="10.20.0.0/24", gw_ip="10.20.0.1", tunnel=1002, gw_mac="fa:16:3e:00:00:02"
    )
    l3 = neighbor(pid="p-r", ip="10.20.0.5", sid="sub-2", ntype=S.NeighborType.L3, tunnel=1002)
    assert send(agent, remote, l3)[("NEIGHBOR", "p-r")] == "SUCCESS"
    st = agent.state
    info = st.neighbors["p-r"].to_json(st.own_ip)["fixed_ips"][0]
    assert (info["l3_deferred"], info["tunnel_id"]) == (True, 1002)
    assert st.arp_lookup("10.20.0.5", 1002) is not None  # still answerable as L2
    send(agent, router(subnets=("sub-1", "sub-2")))
    info = st.neighbors["p-r"].to_json(st.own_ip)["fixed_ips"][0]
    assert (info["l3_deferred"], info["router_id"]) == (False, "r-1")
    # Removing the router's table for sub-2 (FULL replace) defers it again.
    send(agent, router(rev=2, subnets=("sub-1",)))
    assert st.neighbors["p-r"].to_json(st.own_ip)["fixed_ips"][0]["l3_deferred"] is True


def test_router_delta_merges_and_full_replaces(agent):
    """update_type DELTA keeps tables not named; FULL replaces them."""
    sub2 = subnet(sid="sub-2", cidr="10.20.0.0/24", gw_ip="10.20.0.1", tunnel=1002)
    send(agent, sub2, router(subnets=("sub-1",)))
    send(agent, router(rev=2, subnets=("sub-2",), update_type=S.UpdateType.DELTA))
    assert sorted(s for _, s in agent.state.routes) == ["sub-1", "sub-2"]
    send(agent, router(rev=3, subnets=("sub-2",)))
    assert sorted(s for _, s in agent.state.routes) == ["sub-2"]


def test_port_update_is_a_delete_and_dhcp_follows_the_mac(agent):
    """ACA treats port UPDATE (no device) as delete; DHCP is keyed by MAC, found by id."""
    send(agent, port(), dhcp())
    assert send(agent, port(rev=2, op=OP.UPDATE, device_id="", device_owner="")) == {
        ("PORT", "p-b"): "SUCCESS"
    }
    assert "p-b" not in agent.state.ports
    send(agent, dhcp(rev=2, op=OP.UPDATE, mac="fa:16:3e:bb:bb:bc"))
    assert list(agent.state.dhcp) == ["fa:16:3e:bb:bb:bc"]
    send(agent, dhcp(rev=3, op=OP.DELETE))
    assert agent.state.dhcp == {}


def test_pending_until_plug():
    """With pending_until_plug a port CREATE answers PENDING until plugged, then applies."""
    applier = Applier(AgentState("10.0.0.12"), ApplyOptions(pending_until_plug=True))
    assert send(applier, *context(), port())[("PORT", "p-b")] == "PENDING"
    assert applier.state.applied(2, "p-b") is None
    applier.state.plugged.add("p-b")
    assert send(applier, port())[("PORT", "p-b")] == "SUCCESS"


def test_fail_rate_one_fails_everything_but_keeps_revision_checks():
    """--fail-rate 1.0 answers FAILURE; stale states still answer OUT_OF_ORDER first."""
    applier = Applier(AgentState("10.0.0.12"), ApplyOptions(fail_rate=1.0))
    applier.state.bury(0, "vpc-1", 5)
    reply = send(applier, vpc(rev=1), subnet())
    assert reply == {("VPC", "vpc-1"): "OUT_OF_ORDER", ("SUBNET", "sub-1"): "FAILURE"}


def test_context_delete_runs_after_its_users(agent):
    """A subnet DELETE in the same message as a neighbor DELETE still resolves both."""
    send(agent, neighbor())
    reply = send(agent, subnet(rev=2, op=OP.DELETE), neighbor(rev=2))
    assert reply == {("NEIGHBOR", "p-a"): "SUCCESS", ("SUBNET", "sub-1"): "SUCCESS"}
    assert agent.state.subnets == {}


def test_v1_goal_state_applies_like_v2():
    """A V1 GoalState (repeated fields) gives the same result."""
    applier = Applier(AgentState("10.0.0.12"))
    reply = statuses(applier.apply_v1(goal_state_v1(*context(), port(), neighbor(), dhcp())))
    assert set(reply.values()) == {"SUCCESS"} and len(reply) == 5


def test_state_json_uses_spec_field_names(agent):
    """The JSON view names fields as §1 does and enums by name."""
    send(agent, port(), gateway())
    view = agent.state.to_json()
    assert view["ports"]["p-b"]["update_type"] == "FULL"
    assert view["ports"]["p-b"]["fixed_ips"] == [{"subnet_id": "sub-1", "ip_address": "10.10.0.6"}]
    assert view["subnets"]["sub-1"]["network_type"] == "VXLAN"
    assert view["gateways"]["gw-1"]["zeta_info"] == {"port_inband_operation": 8300}
    assert view["applied"]["PORT"] == {"p-b": 1}
    assert view["counters"]["PORT:SUCCESS"] == 1


def test_large_messages_apply_in_steps(monkeypatch):
    """steps_v2 yields between chunks of states and returns the full reply at the end."""
    from alcor.agent import apply as apply_module

    monkeypatch.setattr(apply_module, "CHUNK", 2)
    applier = Applier(AgentState("10.0.0.12"))
    payload = goal_state(
        *context(), *(neighbor(pid=f"p{i}", ip=f"10.10.0.{10 + i}") for i in range(5))
    )
    steps = applier.steps_v2(payload)
    yields = 0
    while True:
        try:
            next(steps)
        except StopIteration as done:
            reply = statuses(done.value)
            break
        yields += 1
    assert yields == 3  # after states 2, 4 and 6 of 7
    assert len(reply) == 7 and set(reply.values()) == {"SUCCESS"}
