"""Auto-allocation manager: on a project's first GET, a network with one subnet per
default subnet pool, and a router from it to the default external network.

Built through the other managers' commands (as an admin acting for the project) in one
transaction, so a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.auto_allocate import repo
from alcor.managers.auto_allocate.messages import (
    DeleteAutoAllocatedTopology,
    GetAutoAllocatedTopology,
)
from alcor.managers.common import RequestContext, admin_context, deny
from alcor.managers.network.messages import (
    CreateNetworks,
    DefaultExternalNetwork,
    DeleteNetwork,
    NetworkDeleted,
)
from alcor.managers.router.messages import CreateRouters, DeleteRouter, RouterInterface
from alcor.managers.subnet.messages import CreateSubnets, SubnetsOfNetwork
from alcor.managers.subnetpool.messages import DefaultSubnetPool
from alcor.store import Store


class AutoAllocationFailure(errors.Conflict):
    """What auto-allocation needs is missing."""

    message = "Deployment error: {reason}."


class AutoAllocateManager:
    """Build, return and delete auto-allocated topologies."""

    name = "auto_allocate"
    requires = ("store", "bus", "network", "subnet", "subnetpool", "router")

    def __init__(self, bus: Bus, store: Store) -> None:
        self._bus = bus
        self._store = store

    async def start(self) -> None:
        """Register the commands; forget topologies whose network goes."""
        self._bus.handle(GetAutoAllocatedTopology, self.get)
        self._bus.handle(DeleteAutoAllocatedTopology, self.delete)
        self._bus.subscribe(NetworkDeleted, self._network_deleted)

    async def stop(self) -> None:
        """Own nothing."""

    @staticmethod
    def _project(ctx: RequestContext, project_id: str, action: str) -> str:
        """The project asked for ("None": the caller's); others' only for admins."""
        if project_id == "None":
            project_id = ctx.caller.project_id
        if not ctx.is_admin and project_id != ctx.caller.project_id:
            raise deny(action)
        return project_id

    async def get(self, cmd: GetAutoAllocatedTopology) -> dict[str, Any]:
        """Return the project's topology, building it on first ask."""
        project = self._project(cmd.ctx, cmd.project_id, "get_auto_allocated_topology")
        if cmd.dry_run:
            await self._external_network()
            await self._pools()
            return {"id": "dry-run=pass", "project_id": project}
        async with self._store.transaction():
            found = await repo.get(self._store, project)
            if found is None:
                network_id = await self._build(project)
            else:
                network_id = found[0]
        return {"id": network_id, "project_id": project}

    async def _external_network(self) -> str:
        network_id = await self._bus.call(DefaultExternalNetwork())
        if network_id is None:
            raise AutoAllocationFailure(reason="No default router:external network")
        return str(network_id)

    async def _pools(self) -> list[tuple[int, str]]:
        pools = []
        for version in (4, 6):
            try:
                pool = await self._bus.call(
                    DefaultSubnetPool(ctx=admin_context(), ip_version=version)
                )
            except errors.BadRequest:
                continue
            pools.append((version, pool))
        if not pools:
            raise AutoAllocationFailure(reason="No default subnetpools defined")
        return pools

    async def _build(self, project: str) -> str:
        external = await self._external_network()
        pools = await self._pools()
        ctx = admin_context(project)
        (network,) = await self._bus.call(
            CreateNetworks(
                ctx=ctx, items=[{"name": "auto_allocated_network", "project_id": project}]
            )
        )
        subnets: list[dict[str, Any]] = []
        for version, pool in pools:
            item = {
                "name": f"auto_allocated_subnet_v{version}",
                "network_id": network["id"],
                "project_id": project,
                "ip_version": version,
                "subnetpool_id": pool,
            }
            created: list[dict[str, Any]] = await self._bus.call(
                CreateSubnets(ctx=ctx, items=[item])
            )
            subnets.extend(created)
        (router,) = await self._bus.call(
            CreateRouters(
                ctx=ctx,
                items=[
                    {
                        "name": "auto_allocated_router",
                        "project_id": project,
                        "external_gateway_info": {"network_id": external},
                    }
                ],
            )
        )
        for subnet in subnets:
            await self._bus.call(
                RouterInterface(
                    ctx=ctx, id=router["id"], body={"subnet_id": subnet["id"]}, add=True
                )
            )
        await repo.insert(self._store, project, network["id"], router["id"])
        return str(network["id"])

    async def delete(self, cmd: DeleteAutoAllocatedTopology) -> None:
        """Delete the router (its interfaces first), then the network and its subnets."""
        project = self._project(cmd.ctx, cmd.project_id, "delete_auto_allocated_topology")
        async with self._store.transaction():
            found = await repo.get(self._store, project)
            if found is None:
                return
            network_id, router_id = found
            ctx = admin_context(project)
            subnets = await self._bus.call(SubnetsOfNetwork(network_id=network_id))
            with contextlib.suppress(errors.NotFound):  # the router went by hand already
                for subnet in subnets:
                    await self._bus.call(
                        RouterInterface(
                            ctx=ctx, id=router_id, body={"subnet_id": subnet["id"]}, add=False
                        )
                    )
                await self._bus.call(DeleteRouter(ctx=ctx, id=router_id))
            await self._bus.call(DeleteNetwork(ctx=ctx, id=network_id))
            await repo.delete(self._store, project)

    async def _network_deleted(self, event: NetworkDeleted) -> None:
        async with self._store.transaction():
            await repo.forget_network(self._store, event.network["id"])
