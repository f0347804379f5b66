"""The planner's cached host views stay what a full recompute gives, whatever ports do.

Port creates and updates on a host take a shortcut (the view gains the port, or stays);
these tests drive random sequences of port changes and compare every cached view with
compute_view after each one.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from alcor.southbound.planner import Planner
from alcor.southbound.topology import Topology
from alcor.southbound.view import compute_view

HOSTS = ("h1", "h2", "h3")
SUBNETS = ("s1", "s2", "s3")
GROUPS = ("g1", "g2", "g3", "g4")


def _topology(agent_type: str) -> Topology:
    topo = Topology()
    topo.set_network(
        {"id": "net", "project_id": "p", "name": "n", "revision_number": 1,
         "provider:segmentation_id": 100}
    )  # fmt: skip
    for i, host in enumerate(HOSTS):
        topo.set_node(
            {"node_id": host, "node_name": host, "local_ip": f"10.1.0.{i + 1}",
             "server_port": 50001, "mac_address": "52:54:00:00:00:01", "agent_type": agent_type}
        )  # fmt: skip
    for i, subnet in enumerate(SUBNETS):
        topo.set_subnet(
            {"id": subnet, "network_id": "net", "name": subnet, "cidr": f"10.{i}.0.0/24",
             "ip_version": 4, "enable_dhcp": True, "revision_number": 1}
        )  # fmt: skip
    # g2 names g3 as a remote group: a port in g2 brings g3 to its host too.
    for group, remote in (("g1", None), ("g2", "g3"), ("g3", None), ("g4", "g1")):
        rules = [{"id": f"r-{group}", "remote_group_id": remote}] if remote else []
        topo.set_sg({"id": group, "name": group, "revision_number": 1,
                     "security_group_rules": rules})  # fmt: skip
    topo.set_qos({"id": "q1", "name": "q1", "revision_number": 1, "rules": []})
    return topo


def _port(rng: random.Random, port_id: str, revision: int) -> dict[str, Any]:
    subnets = rng.sample(SUBNETS, rng.choice((1, 1, 2)))
    return {
        "id": port_id,
        "network_id": "net",
        "project_id": "p",
        "revision_number": revision,
        "mac_address": "fa:16:3e:00:00:01",
        "binding:vif_type": rng.choice(("ovs", "ovs", "ovs", "unbound")),
        "binding:host_id": rng.choice(HOSTS),
        "admin_state_up": rng.random() > 0.15,
        "fixed_ips": [
            {"subnet_id": s, "ip_address": f"10.{SUBNETS.index(s)}.0.{int(port_id[1:]) + 2}"}
            for s in subnets
        ],
        "security_groups": rng.sample(GROUPS, rng.choice((0, 1, 1, 2))),
        "qos_policy_id": rng.choice(("", "", "q1")),
        "status": rng.choice(("DOWN", "ACTIVE")),
    }


@pytest.mark.parametrize("agent_type", ["alcor", "aca"])
@pytest.mark.parametrize("seed", range(8))
def test_cached_views_equal_a_full_recompute_after_every_port_change(seed, agent_type):
    """Creates, updates (same footprint or not), rebinds and deletes in random order."""
    rng = random.Random(seed)
    topo = _topology(agent_type)
    planner = Planner(topo)
    for host in HOSTS:
        planner.view(host)
    revisions: dict[str, int] = {}
    for _ in range(300):
        port_id = f"p{rng.randrange(12)}"
        if port_id in revisions and rng.random() < 0.2:
            old = topo.drop_port(port_id)
            del revisions[port_id]
            planner.port_changed(old, None, {})
        else:
            revisions[port_id] = revisions.get(port_id, 0) + 1
            body = _port(rng, port_id, revisions[port_id])
            previous = topo.ports.get(port_id)
            if previous is not None and rng.random() < 0.5:
                # A status or name update: the same binding and footprint.
                body["binding:host_id"] = previous.node_id or body["binding:host_id"]
                body["binding:vif_type"] = "ovs" if previous.node_id else "unbound"
                body["admin_state_up"] = previous.admin_up
                body["fixed_ips"] = [
                    {"subnet_id": s, "ip_address": ip} for s, ip in previous.fixed_ips
                ]
                body["security_groups"] = list(previous.sgs)
                body["qos_policy_id"] = previous.qos_policy_id
            old = topo.set_port(body)
            planner.port_changed(old, topo.ports[port_id], {})
        for host in HOSTS:
            assert planner.views[host] == compute_view(topo, host), (seed, host)


def test_a_create_into_the_hosts_subnets_marks_the_port_and_its_dhcp():
    """The shortcut marks what a full refresh marks for a new port: PORT and DHCP."""
    topo = _topology("alcor")
    planner = Planner(topo)
    rng = random.Random(1)
    first = _port(rng, "p1", 1) | {"binding:vif_type": "ovs", "binding:host_id": "h1",
                                   "admin_state_up": True}  # fmt: skip
    topo.set_port(first)
    planner.port_changed(None, topo.ports["p1"], {})
    second = first | {"id": "p2", "fixed_ips": [
        {"subnet_id": s, "ip_address": f"10.{SUBNETS.index(s)}.0.9"} for s, _ in
        topo.ports["p1"].fixed_ips]}  # fmt: skip
    topo.set_port(second)
    marks: dict[str, set[tuple[str, str]]] = {}
    planner.port_changed(None, topo.ports["p2"], marks)
    assert {("PORT", "p2"), ("DHCP", "p2")} <= marks["h1"]
    assert "p2" in planner.views["h1"].ports
