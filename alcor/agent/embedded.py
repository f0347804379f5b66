"""`alcor serve --embedded-agents N`: reference agents in the controller's process.

A new user sees ports go ACTIVE without any hypervisor: N agents listen on 127.1.0.1 …
(all of 127/8 is local on Linux), register their hosts compute-1..N through the node API
like any host, and ask the controller for their state at start like any agent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from alcor.agent.admin import AdminServer
from alcor.agent.agent import AgentConfig
from alcor.agent.pool import AgentPool
from alcor.agent.register import host_infos, register
from alcor.lifecycle import cancel
from alcor.priority import background

_LOGGER = logging.getLogger(__name__)
FIRST_IP = "127.1.0.1"


class EmbeddedAgents:
    """Start N reference agents once the controller serves, and register their hosts."""

    name = "embedded_agents"
    requires = ("southbound", "node")

    def __init__(
        self,
        count: int,
        agent_port: int,
        controller_host: str,
        controller_port: Callable[[], int | None],
        api_url: str,
        token: str | None = None,
        admin: str = "",
    ) -> None:
        self._count = count
        self._port = agent_port
        self._controller_host = controller_host
        self._controller_port = controller_port
        self._api_url = api_url
        self._token = token
        self._admin_address = admin
        self.pool: AgentPool | None = None
        self.admin: AdminServer | None = None
        self._registering: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the agents (they announce a restart), then register compute-1..N."""
        port = self._controller_port()
        controller = (self._controller_host, port) if port else None
        names = [f"compute-{i}" for i in range(1, self._count + 1)]
        self.pool = AgentPool(
            AgentConfig(ip=FIRST_IP, port=self._port, controller=controller),
            count=self._count,
            node_ids=names,
        )
        with background():  # the hosts' side of the pushes: the API goes first
            await self.pool.start()
        _LOGGER.info("%d embedded agents serving on %s…", self._count, FIRST_IP)
        # The API serves only once every component has started: register from a task.
        hosts = host_infos(self.pool, names)
        self._registering = asyncio.create_task(
            register(self._api_url, hosts, self._token), name="embedded-agents-register"
        )
        self._registering.add_done_callback(_log_failure)
        if self._admin_address:
            host, _, admin_port = self._admin_address.rpartition(":")
            self.admin = AdminServer(self.pool, host or "127.0.0.1", int(admin_port))
            await self.admin.start()

    async def stop(self) -> None:
        """Stop registering, the admin API, then the agents."""
        await cancel(self._registering)
        if self.admin is not None:
            await self.admin.stop()
            self.admin = None
        if self.pool is not None:
            await self.pool.stop()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _LOGGER.error("registering the embedded agents failed", exc_info=task.exception())
