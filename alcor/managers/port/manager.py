"""Port manager: owns ports and their MAC, fixed IPs, security groups and binding.

Creation lives in create.py, changes in update.py, read and write rights in access.py and
the SQL in repo.py; this module wires the commands and keeps reads, deletes and status.
"""

from __future__ import annotations

import logging
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import PortConfig
from alcor.managers.base import ResourceManager
from alcor.managers.common import RequestContext
from alcor.managers.floatingip.messages import DisassociatePort
from alcor.managers.ipam.messages import ReleasePortIps
from alcor.managers.mac.messages import ReleaseMac
from alcor.managers.port import access, rules
from alcor.managers.port import repo as port_repo
from alcor.managers.port.create import PortCreator
from alcor.managers.port.messages import (
    AddAutoAddresses,
    BumpNeighbors,
    CreatePorts,
    CreateServicePort,
    DeletePort,
    DeleteServicePort,
    GetPort,
    ListPorts,
    LookupPorts,
    PortDeleted,
    PortStatusChanged,
    QueryPorts,
    RebindHost,
    RemoveSubnetAddresses,
    SetPortStatus,
    SetServicePort,
    SetSubports,
    UpdatePort,
    UpdatePorts,
    ViewPorts,
)
from alcor.managers.port.update import PortUpdater
from alcor.managers.qos.messages import PortResourceRequests
from alcor.managers.quota.messages import RegisterUsageCounter
from alcor.managers.trunk.messages import CheckPortNotInTrunk, TrunkDetails
from alcor.resources import dns, repo
from alcor.resources.port import PORT
from alcor.resources.repo import Where
from alcor.store import Store
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
# What present() adds to stored ports.
COMPUTED = frozenset({"dns_assignment", "resource_request", "trunk_details"})
repo.register_extra_columns(PORT, ("neighbor_revision", "network_project_id"))


class PortManager(ResourceManager):
    """Create, read, update and delete ports."""

    resource = PORT
    name = "port"
    requires = (
        "store",
        "bus",
        "network",
        "subnet",
        "ipam",
        "mac",
        "quota",
        "node",
        "security_group",
    )

    def __init__(self, bus: Bus, store: Store, config: PortConfig) -> None:
        super().__init__(bus, store)
        self._creator = PortCreator(bus, store, config)
        self._updater = PortUpdater(bus, store, config)
        self._dns_domain = config.dns_domain

    async def start(self) -> None:
        """Register the port commands."""
        self._bus.handle(CreatePorts, self._create)
        self._bus.handle(GetPort, self.get)
        self._bus.handle(ViewPorts, self.view)
        self._bus.handle(ListPorts, self.list_visible)
        self._bus.handle(UpdatePort, self._update)
        self._bus.handle(DeletePort, self.delete)
        self._bus.handle(UpdatePorts, self._update_many)
        self._bus.handle(QueryPorts, self._query)
        self._bus.handle(LookupPorts, self._lookup_many)
        self._bus.handle(CreateServicePort, self._creator.create_service)
        self._bus.handle(SetServicePort, self._updater.set_service)
        self._bus.handle(DeleteServicePort, self._delete_service)
        self._bus.handle(AddAutoAddresses, self._updater.add_auto_addresses)
        self._bus.handle(RemoveSubnetAddresses, self._updater.remove_subnet_addresses)
        self._bus.handle(BumpNeighbors, self._bump_neighbors)
        self._bus.handle(SetPortStatus, self._set_status)
        self._bus.handle(RebindHost, self._updater.rebind)
        self._bus.handle(SetSubports, self._updater.set_subports)
        await self._bus.call(
            RegisterUsageCounter(resource="port", counter=repo.usage_counter(PORT))
        )

    # ---- visibility: own, or on one's own network --------------------------------------
    def visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        return [port_repo.own_or_on_own_network(ctx.view_project)]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return access.is_visible(obj, ctx)

    def check_write(self, ctx: RequestContext, obj: dict[str, Any], action: str) -> None:
        access.check_write(ctx, obj, action)

    def presented(self, fields: list[str] | None) -> bool:
        return fields is None or not COMPUTED.isdisjoint(fields)

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        """Add every port's dns_assignment (from its fixed IPs, DNS name and domain) and
        trunk_details to the parent ports of trunks (trunk-details)."""
        out = list(objs)
        for port in out:
            port["dns_assignment"] = dns.assignments(port, self._dns_domain)
        details = await self._bus.call(TrunkDetails(port_ids=[p["id"] for p in out]))
        for port in out:
            if port["id"] in details:
                port["trunk_details"] = details[port["id"]]
        return out

    async def present(self, ctx: RequestContext, objs: Any) -> list[dict[str, Any]]:
        """... and, for admins, resource_request."""
        return await self._requests(ctx, await self.decorate(objs))

    async def _requests(
        self, ctx: RequestContext | None, ports: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Add resource_request (what the port's QoS policy reserves) for an admin, its only
        reader."""
        if ctx is not None and ctx.is_admin and ports:
            requests = await self._bus.call(PortResourceRequests(ports=ports))
            for port in ports:
                port["resource_request"] = requests.get(port["id"])
        return ports

    async def _create(self, cmd: CreatePorts) -> list[dict[str, Any]]:
        return await self._requests(cmd.ctx, await self.decorate(await self._creator.create(cmd)))

    async def _update(self, cmd: UpdatePort) -> dict[str, Any]:
        return (
            await self._requests(cmd.ctx, await self.decorate([await self._updater.update(cmd)]))
        )[0]

    async def _update_many(self, cmd: UpdatePorts) -> list[dict[str, Any]]:
        return await self._requests(
            cmd.ctx, await self.decorate(await self._updater.update_many(cmd))
        )

    def extra_where(self, extra: dict[str, list[str]]) -> list[Where]:
        """Translate `fixed_ips=ip_address=X` / `subnet_id=Y` / `ip_address_substr=Z`."""
        where = port_repo.with_addresses(extra)
        return [] if where is None else [where]

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeletePort) -> None:
        """Delete a port (router and floating IP ports are refused)."""
        async with self._store.transaction():
            port = await self.writable(cmd.ctx, cmd.id, "delete_port", cmd.if_match)
            if port["device_owner"] in rules.SERVICE_OWNERS:
                raise errors.ServicePortInUse(port_id=port["id"], device_owner=port["device_owner"])
            await self._bus.call(CheckPortNotInTrunk(port_id=port["id"]))
            await self._bus.call(DisassociatePort(port_id=port["id"]))
            await self._remove(port)

    async def _delete_service(self, cmd: DeleteServicePort) -> None:
        port = await self.lookup(cmd.port_id)
        if port is not None:
            await self._remove(port)

    async def _remove(self, port: dict[str, Any]) -> None:
        db = self._store
        await self._bus.call(ReleasePortIps(port_id=port["id"]))
        await self._bus.call(
            ReleaseMac(network_id=port["network_id"], mac=port["mac_address"], owner=port["id"])
        )
        await port_repo.unlink_security_groups(db, port["id"])
        await repo.delete(db, PORT, port["id"])
        await tombstone(db, "port", port)
        await tombstone(db, "neighbor", port, "neighbor_revision")
        self._bus.publish(PortDeleted(port=port))

    # ---- internal reads and server-maintained state ----------------------------------------
    async def _query(self, cmd: QueryPorts) -> list[dict[str, Any]]:
        where, order = port_repo.matching(cmd)
        return await repo.find(self._store, PORT, where, order=order, names=cmd.fields)

    async def _lookup_many(self, cmd: LookupPorts) -> dict[str, dict[str, Any]]:
        return await repo.get_many(self._store, PORT, cmd.ids)

    async def _bump_neighbors(self, cmd: BumpNeighbors) -> None:
        await port_repo.bump_neighbor_revisions(self._store, cmd.port_ids)

    async def _set_status(self, cmd: SetPortStatus) -> None:
        """Write status changes in one short transaction; status is not revisioned, but
        each is written only at the revision it was decided for."""
        async with self._store.transaction():
            for port_id, (status, revision) in cmd.statuses.items():
                at = repo.all_of(
                    [repo.equals("id", port_id), repo.equals("revision_number", revision)]
                )
                if await repo.set_status(self._store, PORT, status, at):
                    self._bus.publish(PortStatusChanged(port_id=port_id, status=status))
