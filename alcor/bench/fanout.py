"""Fan-out scenario, in process: the data plane's build+encode cost at 10,000 ports.

It measures exactly what the targets name: the time to compute and encode every host's
delta when one port joins a subnet of 10,000 ports on 1,000 hosts, and the full goal state
of a new host that needs 10,000 neighbor states. Transport time is measured by `e2e`.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from alcor.bench.stats import Samples
from alcor.southbound.builder import ENTER_OP, StateBuilder
from alcor.southbound.compose import build
from alcor.southbound.delivery import Delivery
from alcor.southbound.planner import Marks, Planner
from alcor.southbound.tombstones import Tombstones
from alcor.southbound.topology import Topology
from alcor.southbound.tracing import trace_both
from alcor.southbound.view import SUBNET, VPC, all_keys
from alcor.trace.model import Packet


def _node(i: int) -> dict[str, Any]:
    return {
        "node_id": f"node-{i}",
        "node_name": f"host-{i}",
        "local_ip": _ip(i),
        "server_port": 50001,
        "mac_address": f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
        "host_dvr_mac": "fe:16:11:00:00:01",
    }


def _ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def _port(i: int, net: str, subnet: str, host: str) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=i + 1)),
        "network_id": net,
        "project_id": "p",
        "name": f"p{i}",
        "mac_address": f"fa:16:3e:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
        "fixed_ips": [
            {"subnet_id": subnet, "ip_address": f"172.{16 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"}
        ],
        "security_groups": [],
        "port_security_enabled": False,  # no groups: the trace's path is open
        "binding:vif_type": "ovs",
        "binding:host_id": host,
        "admin_state_up": True,
        "revision_number": 1,
        "neighbor_revision": 1,
        "device_owner": "compute:nova",
    }


def _topology(hosts: int, ports: int) -> tuple[Topology, str, str]:
    topo = Topology()
    net, subnet = str(uuid.uuid4()), str(uuid.uuid4())
    topo.set_network(
        {
            "id": net,
            "project_id": "p",
            "name": "vpc",
            "cidr": "",
            "provider:segmentation_id": 1001,
            "provider:network_type": "vxlan",
            "revision_number": 1,
        }
    )
    topo.set_subnet(
        {
            "id": subnet,
            "network_id": net,
            "name": "big",
            "cidr": "172.16.0.0/12",
            "ip_version": 4,
            "gateway_ip": "172.16.0.1",
            "gateway_mac": "fa:16:3e:00:00:01",
            "enable_dhcp": True,
            "revision_number": 1,
        }
    )
    for i in range(hosts):
        topo.set_node(_node(i))
    for i in range(ports):
        topo.set_port(_port(i, net, subnet, f"host-{i % hosts}"))
    return topo, net, subnet


REPEAT = 5
TRACES = 50


def run(hosts: int, ports: int) -> list[Samples]:
    """Measure one-port-joins and new-host-joins build+encode costs."""
    topo, net, subnet = _topology(hosts, ports)
    planner = Planner(topo)
    builder = StateBuilder(topo)
    deliveries = {}
    warm = time.perf_counter()
    # Steady state: every neighbor was already encoded once for some host (the cache is
    # shared), and every host holds the subnet and VPC context states.
    node0 = topo.nodes["node-0"]
    for key in all_keys(topo, planner.view("node-0")):
        built = builder.config(*key, node0)
        if built is not None:
            builder.entry(key[0], key[1], ENTER_OP[key[0]], *built)
    for i in range(hosts):
        node_id = f"node-{i}"
        delivery = Delivery(node_id)
        for key in ((SUBNET, subnet), (VPC, net)):
            delivery.sent[key] = (1, True)
            delivery.acked[key] = 1
        planner.view(node_id)
        deliveries[node_id] = delivery
    warm = time.perf_counter() - warm

    join = Samples(f"one port joins a {ports:,}-port subnet on {hosts:,} hosts")
    total_bytes = 0
    for attempt in range(REPEAT):
        started = time.perf_counter()
        marks: Marks = {}
        new_port = _port(ports + attempt, net, subnet, f"host-{attempt}")
        old = topo.set_port(new_port)
        planner.port_changed(old, topo.ports[new_port["id"]], marks)
        total_bytes = 0
        for node_id, keys in marks.items():
            message = build(
                topo,
                builder,
                topo.nodes[node_id],
                planner.view(node_id),
                deliveries[node_id],
                Tombstones(),
                keys,
            )
            if message is not None:
                total_bytes += len(message.payload)
        join.add(time.perf_counter() - started)
    join.wall = sum(join.latencies)
    join.extra.update(
        {
            "hosts_messaged": len(marks),
            "bytes": total_bytes,
            "min_ms": round(min(join.latencies) * 1000, 3),
        }
    )

    newcomer = Samples(f"new host with {ports:,} neighbor states")
    message = None
    for attempt in range(REPEAT):
        node_index = hosts + attempt
        topo.set_node(_node(node_index))
        started = time.perf_counter()
        marks = {}
        port = _port(ports + REPEAT + attempt, net, subnet, f"host-{node_index}")
        old = topo.set_port(port)
        planner.port_changed(old, topo.ports[port["id"]], marks)
        node_id = f"node-{node_index}"
        message = build(
            topo,
            builder,
            topo.nodes[node_id],
            planner.view(node_id),
            Delivery(node_id),
            Tombstones(),
            marks[node_id],
        )
        newcomer.add(time.perf_counter() - started)
    newcomer.wall = sum(newcomer.latencies)
    assert message is not None
    newcomer.extra.update(
        {
            "states": len(message.carried),
            "bytes": len(message.payload),
            "min_ms": round(min(newcomer.latencies) * 1000, 3),
            "cache_warm_s": round(warm, 3),
        }
    )
    return [join, newcomer, _traces(topo, planner, deliveries, ports)]


def _traces(
    topo: Topology, planner: Planner, deliveries: dict[str, Delivery], ports: int
) -> Samples:
    """POST /trace's work between two ports of the 10,000-port network: over what both
    hosts acknowledged (every state acked) and over the intent, compared."""
    samples = Samples(f"trace across a {ports:,}-port network")
    rng = random.Random(7)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(ports)]
    for _ in range(TRACES):
        src, dst = topo.ports[rng.choice(ids)], topo.ports[rng.choice(ids)]
        for rec in (src, dst):
            delivery = deliveries.setdefault(rec.node_id or "", Delivery(rec.node_id or ""))
            for key in all_keys(topo, planner.view(rec.node_id or "")):
                revision = planner_revision(topo, key)
                if revision is not None:
                    delivery.acked[key] = revision
        packet = Packet(src.fixed_ips[0][1], dst.fixed_ips[0][1], "tcp", 22, src.id)
        started = time.perf_counter()
        result = trace_both(topo, planner, deliveries, packet, "acked")
        samples.add(time.perf_counter() - started)
        assert result["verdict"] == "delivered", result
    samples.wall = sum(samples.latencies)
    samples.extra["min_ms"] = round(min(samples.latencies) * 1000, 3)
    return samples


def planner_revision(topo: Topology, key: tuple[str, str]) -> int | None:
    """Return a key's current revision (what a host that acked everything holds)."""
    return StateBuilder(topo).revision(*key)
