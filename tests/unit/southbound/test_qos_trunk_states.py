"""QoS policies and subport VLANs in host views and port states: alcor agents only."""

from __future__ import annotations

from typing import Any

from alcor.proto import schema
from alcor.southbound.builder import StateBuilder
from alcor.southbound.view import PORT, QOS_POLICY, compute_view
from tests.unit.southbound.test_topology import _node, _port, _topology


def _setup() -> tuple[Any, StateBuilder]:
    topo = _topology()
    topo.set_node({**_node("alcor", "10.1.0.3"), "agent_type": "alcor"})
    topo.networks["net"].qos_policy_id = "q-net"
    for policy in ("q-own", "q-net"):
        topo.set_qos(
            {
                "id": policy,
                "name": policy,
                "revision_number": 2,
                "rules": [{"id": "r", "type": "bandwidth_limit", "max_kbps": 10}],
            }
        )
    topo.set_trunk(
        {
            "id": "t",
            "port_id": "parent",
            "sub_ports": [{"port_id": "sub", "segmentation_type": "vlan", "segmentation_id": 5}],
        }
    )
    for host in ("h1", "alcor"):
        topo.set_port({**_port(f"own-{host}", host), "qos_policy_id": "q-own"})
        topo.set_port({**_port(f"dhcp-{host}", host), "device_owner": "network:dhcp"})
    topo.set_port({**_port("sub", "alcor"), "device_owner": "trunk:subport", "device_id": "t"})
    return topo, StateBuilder(topo)


def _port_state(builder: StateBuilder, topo: Any, port_id: str, node: str) -> Any:
    built = builder.config(PORT, port_id, topo.nodes[node])
    assert built is not None
    return schema.PortConfiguration().parse(built[1])


def test_only_alcor_hosts_hold_the_policies_their_ports_use() -> None:
    """An alcor host holds its ports' own policies and their network's (not for network:
    ports); an ACA host holds none."""
    topo, _ = _setup()
    assert compute_view(topo, "h1").qos == frozenset()
    assert compute_view(topo, "alcor").qos == {"q-own", "q-net"}  # the subport inherits q-net
    topo.drop_port("sub")
    assert compute_view(topo, "alcor").qos == {"q-own"}  # the DHCP port inherits nothing


def test_port_states_name_policy_and_vlan_for_alcor_agents_only() -> None:
    """The same port at the same revision: alcor agents get qos_policy_id and the subport's
    VLAN, ACA neither; the policy state carries its rules."""
    topo, builder = _setup()
    aca = _port_state(builder, topo, "own-h1", "h1")
    alcor = _port_state(builder, topo, "own-h1", "alcor")
    assert (aca.qos_policy_id, alcor.qos_policy_id) == ("", "q-own")
    sub = _port_state(builder, topo, "sub", "alcor")
    assert (sub.trunk.parent_port_id, sub.trunk.segmentation_id) == ("parent", 5)
    assert not _port_state(builder, topo, "sub", "h1").is_set("trunk")
    # A port that merely has the trunk's id but is no longer its subport carries no VLAN.
    topo.set_port({**_port("sub", "alcor"), "revision_number": 2})
    assert not _port_state(builder, topo, "sub", "alcor").is_set("trunk")
    built = builder.config(QOS_POLICY, "q-own", topo.nodes["alcor"])
    assert built is not None and built[0] == 2
    policy = schema.QosPolicyConfiguration().parse(built[1])
    assert [(r.type, r.max_kbps) for r in policy.rules] == [("bandwidth_limit", 10)]
