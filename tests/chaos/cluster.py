"""A chaos cluster: one `alcor serve`, one `alcor agent` process per host, the REST client."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.chaos.procs import AgentProc, ServerProc
from tests.chaos.rest import Rest

# Fast retries and a short push deadline: faults are noticed and recovered in seconds. No
# periodic audit: delivery alone must converge (the audit scenarios turn it on).
DEFAULT_SETTINGS: dict[str, Any] = {
    "log.level": "INFO",
    "southbound.audit_interval_s": 0.0,
    "southbound.retry.base_s": 0.05,
    "southbound.retry.cap_s": 0.5,
    "southbound.deadline_base_s": 2.0,
}
# auto: a VPC with more than 3 bound ports moves its neighbors to its VPC topic.
AUTO_SETTINGS: dict[str, Any] = {"southbound.auto.upper_ports": 3, "southbound.auto.lower_ports": 1}
KAFKA_SETTINGS: dict[str, Any] = {
    "southbound.kafka.reply_timeout_s": 2.0,
    "southbound.kafka.fetch_max_wait_ms": 20,
}


@dataclass
class Host:
    """One registered node and the agent process serving it."""

    node_id: str
    name: str
    ip: str
    mac: str
    transport: str
    agent: AgentProc


class Cluster:
    """The processes of one scenario and how to reach them."""

    def __init__(
        self,
        workdir: Path,
        session: aiohttp.ClientSession,
        seed: int,
        kafka: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.session = session
        self.seed = seed
        self.kafka = kafka
        all_settings = {**DEFAULT_SETTINGS, **(settings or {})}
        if kafka:
            all_settings = {
                "southbound.kafka.bootstrap_servers": [kafka],
                **KAFKA_SETTINGS,
                **all_settings,
            }
        self.server = ServerProc(workdir, all_settings)
        self.rest = Rest(session, lambda: self.server.url)
        self.hosts: list[Host] = []
        # A loopback /24 of our own (127.0.0.0/8 is all local); other test runs pick others.
        picker = random.SystemRandom()
        self._net = (picker.randrange(200, 255), picker.randrange(0, 256))
        self._token = f"{picker.getrandbits(32):08x}"

    def describe(self) -> str:
        """Return the seed and where the logs are (for failure messages)."""
        return f"chaos seed {self.seed}; logs in {self.workdir}"

    async def start(self, transports: list[str]) -> None:
        """Start the server, register one node per transport and start its agent."""
        await self.server.start()
        for transport in transports:
            self.hosts.append(await self._register(transport))
        await asyncio.gather(*(h.agent.start() for h in self.hosts))

    async def _register(self, transport: str) -> Host:
        i = len(self.hosts)
        a, b = self._net
        ip = f"127.{a}.{b}.{i + 1}"
        node_id = f"chaos-{self._token}-{i}"
        kafka = self.kafka if transport in ("kafka", "auto") else None
        agent = AgentProc(self.workdir, ip, node_id, self.server.grpc_address, kafka)
        host = Host(
            node_id, f"host-{i}", ip, f"52:54:00:{a:02x}:{b:02x}:{i + 1:02x}", transport, agent
        )
        await self.rest.node(
            host.node_id, host.name, ip, (agent.port, agent.subscribe_port), host.mac, transport
        )
        return host

    def host(self, name: str) -> Host:
        """Return the host with node_name `name`."""
        return next(h for h in self.hosts if h.name == name)

    async def crash_server(self) -> None:
        """kill -9 the server and start it again on the same database and ports."""
        self.server.kill()
        await self.server.start()

    async def dumps(self) -> dict[str, dict[str, Any]]:
        """Return the state dump of every running, unpaused agent, by node_id."""
        live = [h for h in self.hosts if h.agent.running and not h.agent.paused]
        states = await asyncio.gather(*(h.agent.dump(self.session) for h in live))
        return {h.node_id: s for h, s in zip(live, states, strict=True)}

    def close(self) -> None:
        """Kill every process of the cluster (paused ones included)."""
        for host in self.hosts:
            host.agent.kill()
        self.server.kill()
