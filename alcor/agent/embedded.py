"""`alcor serve --embedded-agents N`: reference agents in the controller's process.

A new user sees ports go ACTIVE without any hypervisor: N agents listen on 127.1.0.1 …
(all of 127/8 is local on Linux), are registered as nodes compute-1..N, and ask the
controller for their state at start like any agent.
"""

from __future__ import annotations

import logging
from typing import Any

from alcor.agent.admin import AdminServer
from alcor.agent.agent import AgentConfig
from alcor.agent.pool import AgentPool, agent_ips
from alcor.bus import Bus
from alcor.managers.common import admin_context
from alcor.managers.node.messages import CreateNodes, LookupNodes, UpdateNode

_LOGGER = logging.getLogger(__name__)
FIRST_IP = "127.1.0.1"


class EmbeddedAgents:
    """Start N reference agents after the data plane and register them as nodes."""

    name = "embedded_agents"
    requires = ("southbound", "node")

    def __init__(
        self,
        bus: Bus,
        dataplane: Any,
        count: int,
        agent_port: int,
        controller_host: str,
        admin: str = "",
    ) -> None:
        self._bus = bus
        self._dataplane = dataplane
        self._count = count
        self._port = agent_port
        self._controller_host = controller_host
        self._admin_address = admin
        self.pool: AgentPool | None = None
        self.admin: AdminServer | None = None

    async def start(self) -> None:
        """Register compute-1..N, then start their agents (which announce a restart)."""
        ips = agent_ips(FIRST_IP, self._count)
        existing = {n["node_id"]: n for n in await self._bus.call(LookupNodes())}
        new = []
        for i, ip in enumerate(ips, start=1):
            wanted = {
                "node_id": f"compute-{i}",
                "node_name": f"compute-{i}",
                "local_ip": ip,
                "server_port": self._port,
                "agent_type": "alcor",
                "mac_address": f"52:54:00:01:{i >> 8 & 255:02x}:{i & 255:02x}",
            }
            current = existing.get(wanted["node_id"])
            if current is None:
                new.append(wanted)
            elif (current["local_ip"], current["server_port"]) != (ip, self._port):
                await self._bus.call(
                    UpdateNode(
                        ctx=admin_context(),
                        id=wanted["node_id"],
                        changes={"local_ip": ip, "server_port": self._port},
                    )
                )
        if new:
            await self._bus.call(CreateNodes(ctx=admin_context(), items=new))
        controller = (self._controller_host, self._dataplane.server_port)
        self.pool = AgentPool(
            AgentConfig(ip=FIRST_IP, port=self._port, controller=controller),
            count=self._count,
            node_ids=[f"compute-{i}" for i in range(1, self._count + 1)],
        )
        await self.pool.start()
        _LOGGER.info("%d embedded agents serving on %s…", self._count, FIRST_IP)
        if self._admin_address:
            host, _, port = self._admin_address.rpartition(":")
            self.admin = AdminServer(self.pool, host or "127.0.0.1", int(port))
            await self.admin.start()

    async def stop(self) -> None:
        """Stop the admin API, then the agents."""
        if self.admin is not None:
            await self.admin.stop()
            self.admin = None
        if self.pool is not None:
            await self.pool.stop()
