"""Measure goal-state assembly from cached entries against a naive betterproto encode.

Run: .venv/bin/python scripts/bench_encoding.py [N ...]   (default: 10000 1000000)
"""

from __future__ import annotations

import sys
import time

from alcor.proto import schema
from alcor.southbound import encoding

RT = schema.ResourceType
TUNNEL = 1001
SUBNET_ID = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
VPC_ID = "2b1a5b1e-0d5c-4d6e-9e43-2f0b1c8d9e01"


def _s(field: int, value: str) -> bytes:
    b = value.encode()
    return bytes((field << 3 | 2,)) + encoding.varint(len(b)) + b


def _v(field: int, value: int) -> bytes:
    return bytes((field << 3,)) + encoding.varint(value)


def _m(field: int, body: bytes) -> bytes:
    return bytes((field << 3 | 2,)) + encoding.varint(len(body)) + body


def neighbor_bytes(i: int) -> tuple[str, bytes]:
    """Encode NeighborState i by hand, as encode_state would (betterproto is too slow for 1M)."""
    pid = f"{i:08x}-0000-4000-8000-{i:012x}"
    ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    mac = f"fa:16:3e:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
    fixed = _s(2, SUBNET_ID) + _s(3, ip) + _v(5, TUNNEL)
    cfg = (
        _v(1, 1)
        + _s(2, f"{i:032x}")
        + _s(3, pid)
        + _v(4, 1)
        + _s(5, VPC_ID)
        + _s(7, mac)
        + _s(8, "52:54:00:00:00:0a")
        + _s(9, "192.168.1.11")
        + _m(10, fixed)
    )
    return f"{pid}_n", _v(1, 1) + _m(2, cfg)


def main(n: int) -> None:
    """Print timings for one host message with `n` neighbor states."""
    states = [neighbor_bytes(i) for i in range(n)]
    t = time.perf_counter()
    entries = [encoding.v2_entry(RT.NEIGHBOR, k, b) for k, b in states]
    t_entries = time.perf_counter() - t
    resources = [(RT.NEIGHBOR, k) for k, _ in states]
    t, cpu = time.perf_counter(), time.process_time()
    data = encoding.assemble_goal_state_v2("10.0.0.11", resources, {7: entries})
    t_assemble, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(
        f"n={n:,}: {len(data):,} bytes; map entries from cached states "
        f"{t_entries * 1e3:.1f} ms; assemble from cached entries "
        f"{t_assemble * 1e3:.1f} ms wall / {cpu * 1e3:.1f} ms CPU"
    )
    if n <= 10_000:
        msgs = {k: schema.NeighborState().parse(b) for k, b in states}
        host = {
            "10.0.0.11": schema.HostResources([schema.ResourceIdType(k, i) for k, i in resources])
        }
        gs = schema.GoalStateV2(format_version=102, host_resources=host, neighbor_states=msgs)
        t, cpu = time.perf_counter(), time.process_time()
        naive = bytes(gs)
        t_naive, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(
            f"  naive betterproto encode of the same message: {t_naive * 1e3:.0f} ms wall / "
            f"{cpu * 1e3:.0f} ms CPU; identical bytes: {naive == data}"
        )


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["10000", "1000000"]:
        main(int(arg))
