"""The topology's port indexes: which hosts hold bound ports of a network."""

from __future__ import annotations

from typing import Any

from alcor.southbound.topology import Topology


def _node(name: str, ip: str) -> dict[str, Any]:
    return {
        "node_id": name,
        "node_name": name,
        "local_ip": ip,
        "server_port": 50001,
        "mac_address": "52:54:00:00:00:01",
    }


def _port(port_id: str, host: str, network: str = "net") -> dict[str, Any]:
    return {
        "id": port_id,
        "network_id": network,
        "project_id": "p",
        "revision_number": 1,
        "mac_address": "fa:16:3e:00:00:01",
        "binding:vif_type": "ovs",
        "binding:host_id": host,
        "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"}],
    }


def _topology() -> Topology:
    topo = Topology()
    topo.set_network(
        {
            "id": "net",
            "project_id": "p",
            "name": "n",
            "revision_number": 1,
            "provider:segmentation_id": 100,
        }
    )
    topo.set_node(_node("h1", "10.1.0.1"))
    topo.set_node(_node("h2", "10.1.0.2"))
    return topo


def test_hosts_in_network_counts_bound_ports_per_host():
    """Two ports on h1 and one on h2: both hosts listed; dropping one of h1's keeps h1."""
    topo = _topology()
    for port_id, host in (("a", "h1"), ("b", "h1"), ("c", "h2")):
        topo.set_port(_port(port_id, host))
    assert topo.hosts_in_network["net"] == {"h1": 2, "h2": 1}
    topo.drop_port("a")
    assert topo.hosts_in_network["net"] == {"h1": 1, "h2": 1}
    topo.drop_port("c")
    assert topo.hosts_in_network["net"] == {"h1": 1}


def test_rebinding_a_port_moves_it_between_hosts():
    """A port updated from h1 to h2 leaves h1 and counts on h2; unbinding leaves both."""
    topo = _topology()
    topo.set_port(_port("a", "h1"))
    topo.set_port(_port("a", "h2"))
    assert topo.hosts_in_network["net"] == {"h2": 1}
    topo.set_port(_port("a", ""))
    assert topo.hosts_in_network["net"] == {}
