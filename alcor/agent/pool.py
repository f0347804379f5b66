"""Many reference agents in one process and one event loop (spec §7 multi-agent)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
from dataclasses import replace
from typing import Any

from alcor.trace.evaluate import evaluate
from alcor.trace.model import Packet, Trace

from .agent import Agent, AgentConfig
from .tables import AgentsWorld

_LOGGER = logging.getLogger(__name__)

# Each agent holds two listening sockets and a controller connection.
_FDS_PER_AGENT = 4


def agent_ips(first_ip: str, count: int, step: int = 1) -> list[str]:
    """Return the IPs of `count` agents from `first_ip` in steps of `step`."""
    first = ipaddress.ip_address(first_ip)
    return [str(first + i * step) for i in range(count)]


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class AgentPool:
    """Start, find and stop N agents; agent i listens on `template.ip` + i·ip_step."""

    def __init__(
        self,
        template: AgentConfig,
        count: int = 1,
        ip_step: int = 1,
        node_ids: list[str] | None = None,
    ) -> None:
        self.template = template
        self.count = count
        self.ip_step = ip_step
        self._node_ids = node_ids  # the node each agent serves, when the caller knows them
        self.agents: dict[str, Agent] = {}
        # Connection tracking across the pool's hosts: (src, dst, protocol) of flows let
        # through, so their replies pass the security groups (stateful, as OVS conntrack).
        self.established: set[tuple[str, str, str]] = set()

    async def start(self) -> None:
        """Start every agent concurrently; on a failure stop the ones already started."""
        _raise_fd_limit(self.count * _FDS_PER_AGENT + 256)
        for i, ip in enumerate(agent_ips(self.template.ip, self.count, self.ip_step)):
            node_id = self.template.node_id
            if self._node_ids is not None:
                node_id = self._node_ids[i]
            elif node_id and self.count > 1:
                node_id = f"{node_id}-{i}"
            self.agents[ip] = Agent(replace(self.template, ip=ip, node_id=node_id))
        results = await asyncio.gather(
            *(a.start() for a in self.agents.values()), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self.stop()
            raise errors[0]
        _LOGGER.info("%d agents serving from %s", len(self.agents), self.template.ip)

    async def stop(self) -> None:
        """Stop every agent."""
        agents = list(self.agents.values())
        self.agents.clear()
        await asyncio.gather(*(a.stop() for a in agents), return_exceptions=True)

    def agent(self, ip: str) -> Agent:
        """Return the agent listening on `ip` (KeyError if none)."""
        return self.agents[ip]

    def state(self, ip: str) -> dict[str, Any]:
        """Return the agent's tables as JSON-ready data."""
        return self.agents[ip].state.to_json()

    async def remove(self, ip: str) -> None:
        """Stop one agent and forget it."""
        await self.agents.pop(ip).stop()

    async def wait_restarted(self) -> None:
        """Wait until every agent's AGENT_RESTARTED was answered SUCCESS."""
        await asyncio.gather(*(a.restarted.wait() for a in self.agents.values()))

    def send(self, packet: Packet) -> Trace:
        """Send a packet through the pool's hosts as their tables decide; remember the flow."""
        world = AgentsWorld({ip: agent.state for ip, agent in self.agents.items()})
        trace = evaluate(world, packet, self.established)
        if trace.verdict == "delivered":
            self.established.add((packet.src_ip, packet.dst_ip, packet.protocol))
        return trace
