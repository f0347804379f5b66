"""End-to-end programming latency: API response → the port's host has applied it.

Reference agents run in their own process (`alcor agent --count N`), so their CPU does not
share the controller's event loop. Each agent records the wall-clock time it applied a port;
the benchmark compares it with the wall-clock time the API answered the create.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import aiohttp

from alcor.bench.client import Client
from alcor.bench.cpu import CpuShares
from alcor.bench.server import agent_block, free_port
from alcor.bench.stats import Samples

FIRST_IP = agent_block(0)


class AgentProcess:
    """N reference agents in a child process, with their admin HTTP API."""

    def __init__(
        self, count: int, controller_port: int, workdir: Any, first_ip: str = FIRST_IP
    ) -> None:
        self.count = count
        self.admin = f"http://127.0.0.1:{free_port()}"
        self._args = [
            sys.executable,
            "-m",
            "alcor",
            "agent",
            "--listen",
            f"{first_ip}:50001",
            "--count",
            str(count),
            "--controller",
            f"127.0.0.1:{controller_port}",
            "--admin",
            self.admin.removeprefix("http://"),
        ]
        self._log = workdir / "agents.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> list[str]:
        """Start the agents; return their IPs once the admin API lists all of them."""
        log = open(self._log, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(self._args, stdout=log, stderr=log)
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"alcor agent exited; see {self._log}")
                try:
                    async with session.get(self.admin + "/agents") as resp:
                        if resp.status == 200:
                            agents = await resp.json()
                            if len(agents) == self.count:
                                return [a["ip"] for a in agents]
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("agents did not start")

    async def programmed(self, ips: list[str]) -> dict[str, float]:
        """Return port id -> time the port was applied, over every agent."""
        out: dict[str, float] = {}
        async with aiohttp.ClientSession() as session:
            for ip in ips:
                async with session.get(f"{self.admin}/agents/{ip}/state") as resp:
                    out.update((await resp.json()).get("port_programmed_at", {}))
        return out

    async def stop(self) -> None:
        """Stop the agents."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            await asyncio.get_running_loop().run_in_executor(None, self.proc.wait)


async def register(
    client: Client, ips: list[str], transport: str, prefix: str = "bench-host"
) -> list[str]:
    """Register one node per agent IP (named `<prefix>-<i>`); return the node names."""
    hosts = []
    for i, ip in enumerate(ips):
        name = f"{prefix}-{i}"
        await client.call(
            "POST",
            "/nodes",
            {
                "host_info": {
                    "node_id": name,
                    "node_name": name,
                    "local_ip": ip,
                    "server_port": 50001,
                    "agent_type": "alcor",
                    "transport": transport,
                    "mac_address": f"52:54:00:05:{i >> 8 & 255:02x}:{i & 255:02x}",
                }
            },
        )
        hosts.append(name)
    return hosts


async def _wait_active(client: Client, ids: list[str], timeout: float = 60.0) -> int:
    """Wait until the ports are ACTIVE (or time runs out); return how many are."""
    deadline = time.monotonic() + timeout
    active = 0
    while time.monotonic() < deadline:
        body, _ = await client.call("GET", "/v2.0/ports?status=ACTIVE&fields=id")
        done = {p["id"] for p in body["ports"]}
        active = sum(1 for i in ids if i in done)
        if active == len(ids):
            break
        await asyncio.sleep(0.2)
    return active


async def offered(
    client: Client,
    net: str,
    hosts: list[str],
    count: int,
    rate: float | None,
    clients: int,
    latencies: Samples | None = None,
) -> dict[str, float]:
    """Create ports at `rate` per second (open loop), or as fast as `clients` allow, bound
    round-robin to `hosts` (none: unbound); each create's latency goes to `latencies`."""
    answered: dict[str, float] = {}

    async def create(i: int) -> None:
        port: dict[str, Any] = {"network_id": net, "name": f"e2e{i}"}
        if hosts:
            port["binding:host_id"] = hosts[i % len(hosts)]
        sent = time.perf_counter()
        body, _ = await client.call("POST", "/v2.0/ports", {"port": port})
        if latencies is not None:
            latencies.add(time.perf_counter() - sent)
        answered[body["port"]["id"]] = time.time()

    if rate is None:
        numbers = iter(range(count))

        async def worker() -> None:
            for i in numbers:
                await create(i)

        await asyncio.gather(*(worker() for _ in range(clients)))
        return answered
    started = time.monotonic()
    tasks = []
    for i in range(count):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(create(i)))
    await asyncio.gather(*tasks)
    return answered


def server_pid(server: Any) -> int | None:
    """Return the pid of the benchmark's own `alcor serve`, if it runs one."""
    proc = getattr(server, "proc", None)
    return proc.pid if proc is not None else None


async def network(client: Client, name: str) -> str:
    """Create a network with a /16 subnet for the e2e ports; return its id."""
    net, _ = await client.call("POST", "/v2.0/networks", {"network": {"name": name}})
    net_id: str = net["network"]["id"]
    await client.call(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net_id, "cidr": "172.20.0.0/16", "ip_version": 4}},
    )
    return net_id


async def measure(
    client: Client,
    agents: AgentProcess,
    ips: list[str],
    hosts: list[str],
    net_id: str,
    label: str,
    count: int,
    rate: float | None,
    server_pid: int | None = None,
) -> Samples:
    """Create `count` ports bound round-robin to `hosts` at `rate` (None = 16 closed-loop
    clients) and return each port's send -> applied latency.

    With `server_pid`, the row also gives the cores the controller, the agents' process and
    this load generator used from the first create until every port was ACTIVE
    (`cpu_controller`, `cpu_agents`, `cpu_bench`): which of them bounds the rate.
    """
    pids = {"controller": server_pid, "bench": os.getpid()} if server_pid else {}
    if pids and agents.proc is not None:
        pids["agents"] = agents.proc.pid
    clock = CpuShares(pids)
    started, first_sent = time.perf_counter(), time.time()
    clock.start()
    answered = await offered(client, net_id, hosts, count, rate, 16)
    active = await _wait_active(client, list(answered))
    cores = clock.stop()
    programmed = await agents.programmed(ips)
    samples = Samples(label, extra={"agents": len(hosts), "active": active})
    samples.extra.update((f"cpu_{name}", used) for name, used in cores.items())
    done = [programmed[port_id] for port_id in answered if port_id in programmed]
    for port_id, at in answered.items():
        if port_id in programmed:
            samples.add(max(0.0, programmed[port_id] - at))
    samples.wall = time.perf_counter() - started
    samples.extra["api_ports_per_s"] = round(len(answered) / samples.wall, 1)
    if done:
        # from the first send to the last port applied: the rate the hosts kept up with
        span = max(done) - first_sent
        samples.extra["programmed_per_s"] = round(len(done) / span, 1) if span > 0 else None
    return samples


async def run(
    client: Client, server: Any, sizes: Any, progress: Any, transport: str = "grpc"
) -> list[Samples]:
    """Measure programming latency at a fixed offered rate and at saturation."""
    agents = AgentProcess(sizes.agents, server.grpc_port, server.workdir)
    ips = await agents.start()
    try:
        hosts = await register(client, ips, transport)
        net_id = await network(client, "e2e")
        results = []
        for label, rate in (
            (f"e2e at {sizes.e2e_rate:g} ports/s", sizes.e2e_rate),
            ("e2e at saturation (16 clients)", None),
        ):
            samples = await measure(
                client, agents, ips, hosts, net_id, label, sizes.e2e_ports, rate, server_pid(server)
            )
            results.append(samples)
            progress("e2e", len(results), 2)
        return results
    finally:
        await agents.stop()
