"""The gRPC transport plugins side by side: push round trip, pushes/s and controller CPU.

Reference agents (`alcor agent --count N`, their own process) receive what a port create
sends each host of its network: one new neighbor state (the VPC and subnet were sent once
before). Each transport pushes to one agent in sequence, then to every agent at once with
one push in flight per agent (the engine's rule). The bench process's CPU time per push
stands for the controller's: all of it (grpcio's C-core threads included), and the event
loop thread's alone, which is what API requests queue behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from alcor.bench.e2e import AgentProcess
from alcor.bench.limits import push_rates
from alcor.bench.server import agent_block
from alcor.bench.stats import Samples
from alcor.proto import schema
from alcor.southbound import encoding

TRANSPORTS = ("grpc", "grpcio")
FIRST_IP = agent_block(2)
AGENT_PORT = 50001
RT = schema.ResourceType
OP = schema.OperationType
_VPC, _SUBNET, _TUNNEL = str(uuid.uuid4()), str(uuid.uuid4()), 4242


def _assemble(states: list[tuple[int, str, Any]]) -> bytes:
    entries: dict[int, list[bytes]] = {}
    for kind, key, state in states:
        entries.setdefault(encoding.V2_FIELD[kind], []).append(
            encoding.v2_entry(kind, key, bytes(state))
        )
    return encoding.assemble_goal_state_v2(
        "bench", [(kind, key) for kind, key, _ in states], entries
    )


def context_payload() -> bytes:
    """The VPC and the subnet the neighbors live in (sent once per agent)."""
    vpc = schema.VpcState(
        OP.INFO,
        schema.VpcConfiguration(
            revision_number=1, id=_VPC, tunnel_id=_TUNNEL, update_type=schema.UpdateType.FULL
        ),
    )
    subnet = schema.SubnetState(
        OP.INFO,
        schema.SubnetConfiguration(
            revision_number=1,
            id=_SUBNET,
            update_type=schema.UpdateType.FULL,
            network_type=schema.NetworkType.VXLAN,
            vpc_id=_VPC,
            cidr="10.128.0.0/16",
            tunnel_id=_TUNNEL,
            gateway=schema.SubnetConfigurationGateway("10.128.0.1", "fa:16:3e:00:00:01"),
        ),
    )
    return _assemble([(RT.VPC, _VPC, vpc), (RT.SUBNET, _SUBNET, subnet)])


def neighbor_payload(i: int) -> bytes:
    """One new neighbor state, the delta a host gets when a port joins its network."""
    port_id = str(uuid.UUID(int=i + 1))
    neighbor = schema.NeighborState(
        OP.CREATE,
        schema.NeighborConfiguration(
            revision_number=1,
            id=port_id,
            update_type=schema.UpdateType.FULL,
            vpc_id=_VPC,
            name=f"p{i}",
            mac_address=f"fa:16:3e:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
            host_mac_address="52:54:00:00:00:0a",
            host_ip_address="192.168.1.11",
            fixed_ips=[
                schema.NeighborConfigurationFixedIp(
                    schema.NeighborType.L2,
                    _SUBNET,
                    f"10.128.{i >> 8 & 255}.{i & 255}",
                    tunnel_id=_TUNNEL,
                )
            ],
        ),
    )
    return _assemble([(RT.NEIGHBOR, f"{port_id}_n", neighbor)])


def installed(names: tuple[str, ...] = TRANSPORTS) -> list[str]:
    """Return the transports of `names` that are installed and load (grpcio is an extra)."""
    found = {ep.name: ep for ep in entry_points(group="alcor.southbound")}
    out = []
    for name in names:
        try:
            found[name].load()
        except (KeyError, ImportError):
            continue
        out.append(name)
    return out


async def run(
    controller_port: int, workdir: Any, sizes: Any, progress: Any, rounds: int = 1
) -> list[Samples]:
    """Measure each installed gRPC transport, interleaved `rounds` times, on the same agents."""
    agents = AgentProcess(sizes.agents, controller_port, workdir, first_ip=FIRST_IP)
    ips = await agents.start()
    payloads = [neighbor_payload(i) for i in range(sizes.limit_calls)]
    payload: Callable[[int], bytes] = payloads.__getitem__
    results: list[Samples] = []
    try:
        for round_ in range(rounds):
            for name in installed():
                one, many = await push_rates(
                    name,
                    [(ip, AGENT_PORT) for ip in ips],
                    payload,
                    sizes.limit_calls,
                    progress,
                    "goal-state",
                    prelude=context_payload(),
                )
                for samples in (one, many):
                    samples.extra.update(transport=name, round=round_ + 1)
                results += [one, many]
    finally:
        await agents.stop()
    return results
