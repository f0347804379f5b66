"""`alcor bench --scenario zeta`: the seed's Zeta scale test, against the Zeta double.

One VPC, ports bound round-robin over hosts registered through the API (no agents: the
Zeta part needs none), created by concurrent single-port API calls. Measured per round:
the API's create rate with Zeta off and with Zeta on (fresh store each, alternating, so
slow drift of the machine's load hits both), and with Zeta on the time from the first
create until the double holds every port (registered in batches of `zeta.port_batch`).
The double is tests/zeta_double.py, started as its own process from the checkout; with
--zeta-url the same load goes to that Zeta instead.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

import alcor
from alcor.bench.client import Client
from alcor.bench.cpu import cpu_seconds
from alcor.bench.scenarios import Progress, Sizes, timed_concurrent
from alcor.bench.server import ServerProcess, free_port
from alcor.bench.stats import Samples

CHECKOUT = Path(alcor.__file__).resolve().parents[1]
DOUBLE = CHECKOUT / "tests" / "zeta_double.py"


class DoubleProcess:
    """The Zeta double (tests/zeta_double.py) in its own process, with a ZGC."""

    def __init__(self, workdir: Path) -> None:
        if not DOUBLE.exists():
            raise RuntimeError(
                f"the zeta scenario needs the Zeta double of a checkout ({DOUBLE}), "
                "or --zeta-url of a Zeta to load"
            )
        self.url = f"http://127.0.0.1:{free_port()}"
        self._log = workdir / "zeta-double.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        """Start the double and wait until it answers."""
        port = self.url.rsplit(":", 1)[1]
        log = open(self._log, "ab")  # noqa: SIM115 - lives as long as the process
        args = [sys.executable, "-m", "tests.zeta_double", "--port", port, "--zgc"]
        self.proc = subprocess.Popen(args, cwd=CHECKOUT, stdout=log, stderr=log)
        for _ in range(500):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Zeta double exited; see {self._log}")
            try:
                await self.state()
                return
            except aiohttp.ClientError:
                await asyncio.sleep(0.02)
        raise RuntimeError("the Zeta double did not answer within 10 s")

    async def state(self) -> dict[str, int]:
        """Return the double's counts (vpcs, ports, calls)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.url + "/_double/state") as resp,
        ):
            return await resp.json()  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Stop the double."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


async def run(sizes: Sizes, progress: Progress, zeta_url: str | None = None) -> list[Samples]:
    """Run the rounds; return the create rates (off, on) and the time to Zeta."""
    rounds: dict[bool, list[Samples]] = {False: [], True: []}
    to_zeta: list[dict[str, Any]] = []
    for number in range(sizes.zeta_rounds):
        for enabled in (False, True):
            label = (
                f"zeta round {number + 1}/{sizes.zeta_rounds}, Zeta {'on' if enabled else 'off'}"
            )
            samples, reached = await _round(sizes, enabled, zeta_url, label, progress)
            rounds[enabled].append(samples)
            if reached is not None:
                to_zeta.append(reached)
    return _results(sizes, rounds, to_zeta)


async def _round(
    sizes: Sizes, enabled: bool, zeta_url: str | None, label: str, progress: Progress
) -> tuple[Samples, dict[str, Any] | None]:
    server = ServerProcess()
    double = DoubleProcess(server.workdir) if enabled and zeta_url is None else None
    try:
        if double is not None:
            await double.start()
        url = zeta_url or (double.url if double is not None else "")
        server.extra_env.update(_zeta_env(enabled, url, sizes))
        await server.start()
        client = Client(server.url)
        try:
            network_id = await _vpc(client, sizes.zeta_hosts)
            started, cpu = time.perf_counter(), _cpu_seconds(server)
            samples = await timed_concurrent(
                label,
                sizes.zeta_ports,
                sizes.clients,
                _creator(client, network_id, sizes),
                progress,
            )
            created = time.perf_counter()
            samples.extra["serve_cpu_s"] = round(_cpu_seconds(server) - cpu, 2)
            reached = None
            if double is not None:
                reached = await _until_all_at_zeta(double, sizes.zeta_ports, started, created)
                await _gateway_settled(client, network_id)
        finally:
            await client.close()
    finally:
        await server.stop()
        server.cleanup()
        if double is not None:
            double.stop()
    return samples, reached


def _cpu_seconds(server: ServerProcess) -> float:
    """Return the CPU time alcor has used (user + system, Linux /proc): what Zeta's work
    costs it, apart from how busy the rest of the machine is."""
    assert server.proc is not None
    used = cpu_seconds(server.proc.pid)
    assert used is not None, "/proc cannot tell this process's CPU time"
    return used


# The hosts have no agents: after its first failed push each stays in backoff for the run,
# so the southbound's retries to them (identical with Zeta on and off, but noisy) stay out.
QUIET_SOUTHBOUND = {
    "ALCOR__SOUTHBOUND__RETRY__BASE_S": "3600",
    "ALCOR__SOUTHBOUND__RETRY__CAP_S": "3600",
    "ALCOR__SOUTHBOUND__AUDIT_INTERVAL_S": "0",
}


def _zeta_env(enabled: bool, url: str, sizes: Sizes) -> dict[str, str]:
    if not enabled:
        return {**QUIET_SOUTHBOUND, "ALCOR__ZETA__ENABLED": "false"}
    return {
        **QUIET_SOUTHBOUND,
        "ALCOR__ZETA__ENABLED": "true",
        "ALCOR__ZETA__URL": f'"{url}"',
        "ALCOR__ZETA__PORT_BATCH": str(sizes.zeta_port_batch),
    }


async def _vpc(client: Client, hosts: int) -> str:
    """Register the hosts (one bulk call) and create the VPC with a /16 subnet."""
    nodes = [
        {
            "node_id": f"bench-host-{i}",
            "node_name": f"bench-host-{i}",
            "local_ip": f"127.3.{i // 250}.{1 + i % 250}",
            "mac_address": f"52:54:00:03:{i // 250:02x}:{1 + i % 250:02x}",
            "server_port": free_port(),  # nothing listens: no agents needed for Zeta
        }
        for i in range(hosts)
    ]
    await client.call("POST", "/nodes", {"host_infos": nodes})
    net, _ = await client.call("POST", "/v2.0/networks", {"network": {"name": "zeta-vpc"}})
    subnet = {"network_id": net["network"]["id"], "ip_version": 4, "cidr": "10.64.0.0/16"}
    await client.call("POST", "/v2.0/subnets", {"subnet": subnet})
    return str(net["network"]["id"])


def _creator(client: Client, network_id: str, sizes: Sizes) -> Any:
    async def create(i: int) -> float:
        port = {"network_id": network_id, "binding:host_id": f"bench-host-{i % sizes.zeta_hosts}"}
        return (await client.call("POST", "/v2.0/ports", {"port": port}))[1]

    return create


async def _until_all_at_zeta(
    double: DoubleProcess, ports: int, started: float, created: float
) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        state = await double.state()
        if state["ports"] >= ports:
            done = time.perf_counter()
            return {
                "seconds": done - started,
                "after_last_create": done - created,
                "calls": state["calls"],
            }
        await asyncio.sleep(0.02)
    raise RuntimeError("the ports did not all reach Zeta within 600 s")


async def _gateway_settled(client: Client, network_id: str) -> None:
    for _ in range(3000):
        body, _ = await client.call("GET", f"/v2.0/gateways?network_id={network_id}")
        gateway = body["gateways"][0]
        if gateway["status"] == "READY" and gateway["pending_operations"] == 0:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"gateway did not settle: {gateway}")


def _results(
    sizes: Sizes, rounds: dict[bool, list[Samples]], to_zeta: list[dict[str, Any]]
) -> list[Samples]:
    rates = {k: [s.count / s.wall for s in v] for k, v in rounds.items()}
    cpu = {k: [s.extra["serve_cpu_s"] for s in v] for k, v in rounds.items()}
    out = []
    for enabled, name in ((False, "off"), (True, "on")):
        median = statistics.median(rates[enabled])
        # The round whose rate is the median stands for all (its latencies, its wall time).
        row = min(rounds[enabled], key=lambda s: abs(s.count / s.wall - median))
        row.name = f"zeta: port create, Zeta {name} ({sizes.clients} clients)"
        row.extra = {
            "hosts": sizes.zeta_hosts,
            "rounds": sizes.zeta_rounds,
            "rates": [round(r, 1) for r in rates[enabled]],
            "median_rate": round(median, 1),
            "serve_cpu_s": cpu[enabled],
        }
        out.append(row)
    out[1].extra["on_off_ratio"] = round(
        statistics.median(rates[True]) / statistics.median(rates[False]), 3
    )
    out[1].extra["cpu_on_off_ratio"] = round(
        statistics.median(cpu[True]) / statistics.median(cpu[False]), 3
    )
    if to_zeta:
        seconds = [r["seconds"] for r in to_zeta]
        reach = Samples(f"zeta: every port at Zeta ({sizes.zeta_ports:,} ports)")
        reach.latencies = seconds
        reach.count = len(seconds)
        reach.wall = sum(seconds)
        reach.extra = {
            "median_s": round(statistics.median(seconds), 3),
            "seconds": [round(s, 3) for s in seconds],
            "after_last_create_s": [round(r["after_last_create"], 3) for r in to_zeta],
            "zeta_calls": [r["calls"] for r in to_zeta],
            "port_batch": sizes.zeta_port_batch,
        }
        out.append(reach)
    return out
