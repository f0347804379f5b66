"""Measure router interface add, security group rule create and a 1,000-rule list.

Starts `alcor serve` (noauth, fresh SQLite file, unlimited quotas) as a subprocess and
drives it over HTTP from this process, one request at a time, so each number is the
end-to-end latency a client sees. Usage:

    python scripts/bench_l3.py [--routers 10] [--subnets-per-router 10] [--ports-per-subnet 10]
                               [--rules 1000] [--lists 20]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

CONFIG = """
[store]
path = "{db}"
[log]
level = "WARNING"
[quotas]
network = -1
subnet = -1
port = -1
router = -1
security_group_rule = -1
[southbound.grpc_server]
enabled = false
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"{name}: n={len(ms)} mean={statistics.mean(ms):.2f} ms "
        f"p50={statistics.median(ms):.2f} ms p95={p95:.2f} ms max={ms[-1]:.2f} ms"
    )


async def _call(
    session: aiohttp.ClientSession, method: str, path: str, body: Any = None, status: int = 200
) -> tuple[Any, float]:
    started = time.perf_counter()
    async with session.request(method, path, json=body) as resp:
        data = await resp.json()
        elapsed = time.perf_counter() - started
        assert resp.status == status, (method, path, resp.status, data)
    return data, elapsed


async def bench(url: str, args: argparse.Namespace) -> None:
    """Run the three measurements against `url` and print them."""
    async with aiohttp.ClientSession(url) as session:
        add_times = []
        for r in range(args.routers):
            router, _ = await _call(session, "POST", "/v2.0/routers", {"router": {}}, 201)
            for s in range(args.subnets_per_router):
                net, _ = await _call(session, "POST", "/v2.0/networks", {"network": {}}, 201)
                subnet, _ = await _call(
                    session,
                    "POST",
                    "/v2.0/subnets",
                    {"subnet": {"network_id": net["network"]["id"], "cidr": f"10.{r}.{s}.0/24"}},
                    201,
                )
                if args.ports_per_subnet:
                    await _call(
                        session,
                        "POST",
                        "/v2.0/ports",
                        {"ports": [{"network_id": net["network"]["id"]}] * args.ports_per_subnet},
                        201,
                    )
                _, elapsed = await _call(
                    session,
                    "PUT",
                    f"/v2.0/routers/{router['router']['id']}/add_router_interface",
                    {"subnet_id": subnet["subnet"]["id"]},
                )
                add_times.append(elapsed)
        print(
            _summary(
                f"router interface add ({args.ports_per_subnet} ports on each subnet)", add_times
            )
        )

        group, _ = await _call(
            session, "POST", "/v2.0/security-groups", {"security_group": {"name": "bench"}}, 201
        )
        rule_times = []
        for i in range(args.rules):
            _, elapsed = await _call(
                session,
                "POST",
                "/v2.0/security-group-rules",
                {
                    "security_group_rule": {
                        "security_group_id": group["security_group"]["id"],
                        "direction": "ingress",
                        "protocol": "tcp",
                        "port_range_min": i + 1,
                    }
                },
                201,
            )
            rule_times.append(elapsed)
        print(_summary("security group rule create (growing group)", rule_times))

        list_times, show_times = [], []
        for _ in range(args.lists):
            body, elapsed = await _call(session, "GET", "/v2.0/security-group-rules")
            list_times.append(elapsed)
            _, elapsed = await _call(
                session, "GET", f"/v2.0/security-groups/{group['security_group']['id']}"
            )
            show_times.append(elapsed)
        count = len(body["security_group_rules"])
        print(_summary(f"list {count} security group rules", list_times))
        print(_summary(f"show a group holding {args.rules + 2} rules", show_times))


def main() -> None:
    """Parse options, start alcor serve, run the benchmark, stop the server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=10)
    parser.add_argument("--subnets-per-router", type=int, default=10)
    parser.add_argument("--ports-per-subnet", type=int, default=10)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--lists", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "alcor.toml"
        config.write_text(CONFIG.format(db=Path(tmp) / "alcor.db"))
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "alcor", "serve", "--config", str(config), "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if "listening on" in line:
                    break
            asyncio.run(bench(f"http://127.0.0.1:{port}", args))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
