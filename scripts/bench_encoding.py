"""Measure goal-state assembly from cached entries against a naive betterproto encode."""

from __future__ import annotations

import sys
import time
import uuid

from alcor.proto import schema
from alcor.southbound import encoding

RT = schema.ResourceType


def _neighbor(i: int) -> tuple[str, schema.NeighborState]:
    pid = str(uuid.UUID(int=i))
    return f"{pid}_n", schema.NeighborState(schema.OperationType.CREATE, schema.NeighborConfiguration(
        revision_number=1, request_id=str(uuid.UUID(int=i + 2**64)), id=pid,
        update_type=schema.UpdateType.FULL, vpc_id="2b1a5b1e-0d5c-4d6e-9e43-2f0b1c8d9e01",
        name=f"port-{i}", mac_address="fa:16:3e:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255, i & 255),
        host_mac_address="52:54:00:00:00:0a", host_ip_address="192.168.1.11",
        fixed_ips=[schema.NeighborConfigurationFixedIp(
            schema.NeighborType.L2, "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
            f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", tunnel_id=1001)]))


def main(n: int) -> None:
    """Print timings for one host message with `n` neighbor states."""
    states = [_neighbor(i) for i in range(n)]
    t = time.perf_counter()
    encoded = [(k, encoding.encode_state(s)) for k, s in states]
    t_encode_once = time.perf_counter() - t
    t = time.perf_counter()
    entries = [encoding.v2_entry(RT.NEIGHBOR, k, b) for k, b in encoded]
    t_entries = time.perf_counter() - t
    resources = [(RT.NEIGHBOR, k) for k, _ in states]
    t = time.perf_counter()
    data = encoding.assemble_goal_state_v2("10.0.0.11", resources, {7: entries})
    t_assemble = time.perf_counter() - t
    print(f"n={n}: bytes={len(data):,} encode-once={t_encode_once * 1e3:.1f} ms "
          f"entries-from-cached-states={t_entries * 1e3:.1f} ms "
          f"assemble-from-cached-entries={t_assemble * 1e3:.1f} ms")
    if n <= 100_000:
        gs = schema.GoalStateV2(format_version=102, host_resources={"10.0.0.11": schema.HostResources(
            [schema.ResourceIdType(k, i) for k, i in resources])}, neighbor_states=dict(states))
        t = time.perf_counter()
        naive = bytes(gs)
        print(f"  naive betterproto encode={(time.perf_counter() - t) * 1e3:.1f} ms, "
              f"same bytes: {naive == data}")


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["10000", "1000000"]:
        main(int(arg))
