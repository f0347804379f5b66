"""Trunk manager: owns trunks and their subports (trunk_subports)."""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.common import RequestContext, check_write
from alcor.managers.generic import CrudManager
from alcor.managers.network.messages import LookupNetwork
from alcor.managers.port.messages import GetPort, LookupPorts, SetSubports
from alcor.managers.trunk import repo as trunk_repo
from alcor.managers.trunk.messages import (
    CheckPortNotInTrunk,
    CreateTrunks,
    DeleteTrunk,
    EditSubports,
    GetTrunk,
    ListTrunks,
    TrunkChanged,
    TrunkDeleted,
    TrunkDetails,
    TrunkOfParent,
    UpdateTrunk,
)
from alcor.resources.trunk import (
    TRUNK,
    VLAN_RANGE,
    DuplicateSubPort,
    ParentPortInUse,
    PortInUseAsSubPort,
    PortInUseAsTrunkParent,
    SubPortMtuGreaterThanTrunkPortMtu,
    SubPortNotFound,
    TrunkDisabled,
    TrunkPortInUse,
)
from alcor.store import Store, current_transaction


class TrunkManager(CrudManager):
    """Create, read, update and delete trunks; add and remove their subports."""

    resource = TRUNK
    name = "trunk"
    label = "Trunk"
    requires = ("store", "bus", "network", "port")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        # How many trunks exist (an upper bound while a create is uncommitted): port reads
        # skip the trunk_details query while there are none.
        self._count = 0

    async def start(self) -> None:
        """Register the trunk commands."""
        self._count = await trunk_repo.count(self._store)
        self._bus.handle(CreateTrunks, self.create)
        self._bus.handle(GetTrunk, self.get)
        self._bus.handle(ListTrunks, self.list_visible)
        self._bus.handle(UpdateTrunk, self.update)
        self._bus.handle(DeleteTrunk, self.delete)
        self._bus.handle(EditSubports, self.edit_subports)
        self._bus.handle(CheckPortNotInTrunk, self._check_port)
        self._bus.handle(TrunkDetails, self._details)
        self._bus.handle(TrunkOfParent, self._of_parent)

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        """Attach each trunk's subports (in the order they were added)."""
        out = list(objs)
        for obj in out:
            obj["sub_ports"] = await self._subports(obj["id"])
        return out

    async def _subports(self, trunk_id: str) -> list[dict[str, Any]]:
        return await trunk_repo.subports(self._store, trunk_id)

    # ---- create / update / delete ----------------------------------------------------------
    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        obj["status"] = "DOWN"
        parent = await self._bus.call(GetPort(ctx=ctx, id=obj["port_id"]))
        await self._check_free(parent["id"])
        obj["sub_ports"] = await self._prepare_subports(ctx, obj, parent, obj["sub_ports"])

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        self._count += 1
        await self._insert_subports(obj["id"], obj["sub_ports"])
        self._bus.publish(TrunkChanged(trunk=dict(obj)))
        await self._attach(obj, obj["sub_ports"], attach=True)

    async def after_update(
        self, ctx: RequestContext, obj: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        self._bus.publish(TrunkChanged(trunk=(await self.decorate([dict(obj)]))[0]))

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        if not obj["admin_state_up"]:
            raise TrunkDisabled(trunk_id=obj["id"])
        obj["sub_ports"] = await self._subports(obj["id"])
        await trunk_repo.delete_subports(self._store, obj["id"])
        await self._attach(obj, obj["sub_ports"], attach=False)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        txn = current_transaction()
        if txn is not None:
            txn.after_commit.append(self._forget_one)
        self._bus.publish(TrunkDeleted(trunk=obj))

    def _forget_one(self) -> None:
        self._count = max(0, self._count - 1)

    # ---- subports --------------------------------------------------------------------------
    async def edit_subports(self, cmd: EditSubports) -> dict[str, Any]:
        """Handle add_subports / remove_subports: all or nothing."""
        async with self._store.transaction():
            trunk = await self.get_visible(cmd.ctx, cmd.id)
            check_write(cmd.ctx, trunk, "add_subports" if cmd.add else "remove_subports")
            if not trunk["admin_state_up"]:
                raise TrunkDisabled(trunk_id=trunk["id"])
            if cmd.add:
                parent = await self._bus.call(GetPort(ctx=cmd.ctx, id=trunk["port_id"]))
                edited = await self._prepare_subports(cmd.ctx, trunk, parent, cmd.sub_ports)
                await self._insert_subports(trunk["id"], edited)
            else:
                edited = cmd.sub_ports
                await self._remove_subports(trunk["id"], edited)
            await self.write(trunk, {})
            out = (await self.decorate([trunk]))[0]
            # Announced before the subports' own changes, so that whoever reads a subport
            # at its new revision already knows its VLAN.
            self._bus.publish(TrunkChanged(trunk=dict(out)))
            await self._attach(trunk, edited, attach=cmd.add)
        return out

    async def _attach(
        self, trunk: dict[str, Any], subports: list[dict[str, Any]], attach: bool
    ) -> None:
        """Have the port manager attach (bind with the parent) or release subports."""
        if subports:
            await self._bus.call(
                SetSubports(
                    trunk_id=trunk["id"],
                    parent_id=trunk["port_id"],
                    port_ids=[s["port_id"] for s in subports],
                    attach=attach,
                )
            )

    async def _prepare_subports(
        self,
        ctx: RequestContext,
        trunk: dict[str, Any],
        parent: dict[str, Any],
        items: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Check new subports (Neutron's order of checks); return them with their VLANs."""
        taken = {
            (s["segmentation_type"], s["segmentation_id"])
            for s in await self._subports(trunk["id"])
        }
        parent_mtu = await self._mtu(parent["network_id"])
        out = []
        for item in items:
            port = await self._bus.call(GetPort(ctx=ctx, id=item["port_id"]))
            if port["id"] == parent["id"]:
                raise ParentPortInUse(port_id=port["id"])
            mtu = await self._mtu(port["network_id"])
            if mtu > parent_mtu:
                raise SubPortMtuGreaterThanTrunkPortMtu(
                    port_id=port["id"], port_mtu=mtu, trunk_id=trunk["id"], trunk_mtu=parent_mtu
                )
            subport = await self._segmentation(port, item)
            await self._check_free(port["id"])
            if port["device_id"]:
                raise errors.PortInUse(
                    port_id=port["id"], net_id=port["network_id"], device_id=port["device_id"]
                )
            key = (subport["segmentation_type"], subport["segmentation_id"])
            if key in taken:
                raise DuplicateSubPort(
                    segmentation_type=key[0], segmentation_id=key[1], trunk_id=trunk["id"]
                )
            taken.add(key)
            out.append(subport)
        return out

    async def _segmentation(self, port: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        kind, seg = item.get("segmentation_type"), item.get("segmentation_id")
        if kind == "inherit":
            network = await self._bus.call(LookupNetwork(id=port["network_id"]))
            if network is None or network["provider:network_type"] != "vlan":
                raise errors.InvalidInput(
                    error_message="Segmentation type 'inherit' needs a subport on a VLAN network"
                )
            kind, seg = "vlan", network["provider:segmentation_id"]
        if kind is None or seg is None:
            raise errors.InvalidInput(
                error_message=f"Invalid subport details '{item}': missing segmentation "
                "information. Must specify both segmentation_id and segmentation_type"
            )
        if isinstance(seg, bool) or not isinstance(seg, int | str) or not str(seg).isdigit():
            raise errors.InvalidInput(
                error_message=f"Invalid subport details: segmentation_id '{seg}' is not an integer"
            )
        if not VLAN_RANGE[0] <= int(seg) <= VLAN_RANGE[1]:
            raise errors.InvalidInput(error_message=f"Segmentation ID '{seg}' is not in range")
        return {"port_id": port["id"], "segmentation_type": kind, "segmentation_id": int(seg)}

    async def _mtu(self, network_id: str) -> int:
        network = await self._bus.call(LookupNetwork(id=network_id))
        return int(network["mtu"]) if network else 0

    async def _check_free(self, port_id: str) -> None:
        """A port is in at most one trunk, as parent or as subport."""
        # The unique indexes hold each role alone; a port made the parent of one trunk and
        # a subport of another at once by two processes is kept out by this lock.
        await self._store.lock(f"trunk_port:{port_id}")
        if await trunk_repo.trunk_of_subport(self._store, port_id) is not None:
            raise TrunkPortInUse(port_id=port_id)
        if await trunk_repo.trunk_of_parent(self._store, port_id) is not None:
            raise ParentPortInUse(port_id=port_id)

    async def _insert_subports(self, trunk_id: str, subports: list[dict[str, Any]]) -> None:
        await trunk_repo.insert_subports(self._store, trunk_id, subports)

    async def _remove_subports(self, trunk_id: str, items: list[dict[str, Any]]) -> None:
        for item in items:
            if not await trunk_repo.delete_subport(self._store, trunk_id, item["port_id"]):
                raise SubPortNotFound(trunk_id=trunk_id, port_id=item["port_id"])

    # ---- what ports need -------------------------------------------------------------------
    async def _check_port(self, cmd: CheckPortNotInTrunk) -> None:
        parent_of = await trunk_repo.trunk_of_parent(self._store, cmd.port_id)
        if parent_of is not None:
            raise PortInUseAsTrunkParent(port_id=cmd.port_id, trunk_id=parent_of)
        subport_of = await trunk_repo.trunk_of_subport(self._store, cmd.port_id)
        if subport_of is not None:
            raise PortInUseAsSubPort(port_id=cmd.port_id, trunk_id=subport_of)

    async def _of_parent(self, cmd: TrunkOfParent) -> str | None:
        if not self._count:
            return None
        return await trunk_repo.trunk_of_parent(self._store, cmd.port_id)

    async def _details(self, cmd: TrunkDetails) -> dict[str, dict[str, Any]]:
        if not self._count or not cmd.port_ids:
            return {}
        out: dict[str, dict[str, Any]] = {}
        for trunk_id, port_id in await trunk_repo.trunks_of_parents(self._store, cmd.port_ids):
            subports = await self._subports(trunk_id)
            ports = await self._bus.call(LookupPorts(ids=[s["port_id"] for s in subports]))
            for subport in subports:
                subport["mac_address"] = ports.get(subport["port_id"], {}).get("mac_address")
            out[port_id] = {"trunk_id": trunk_id, "sub_ports": subports}
        return out
