"""Address group manager: owns address groups; security group rules refer to them."""

from __future__ import annotations

from typing import Any

from alcor.managers.address_group import repo as ag_repo
from alcor.managers.address_group.messages import (
    AddressGroupChanged,
    AddressGroupDeleted,
    CreateAddressGroups,
    DeleteAddressGroup,
    EditAddresses,
    GetAddressGroup,
    ListAddressGroups,
    LookupAddressGroups,
    UpdateAddressGroup,
    address_group_lock,
)
from alcor.managers.common import RequestContext
from alcor.managers.generic import SharedCrudManager
from alcor.managers.security_group.messages import AddressGroupEdited
from alcor.resources import repo
from alcor.resources.address_group import (
    ADDRESS_GROUP,
    AddressesNotFound,
    AddressGroupInUse,
)


class AddressGroupManager(SharedCrudManager):
    """Create, read, update and delete address groups; add and remove their addresses."""

    resource = ADDRESS_GROUP
    name = "address_group"
    label = "Address group"
    object_type = "address_group"
    requires = ("store", "bus", "rbac")

    async def start(self) -> None:
        """Register the address group commands and make groups shareable."""
        self._bus.handle(CreateAddressGroups, self.create)
        self._bus.handle(GetAddressGroup, self.get)
        self._bus.handle(ListAddressGroups, self.list_visible)
        self._bus.handle(UpdateAddressGroup, self.update)
        self._bus.handle(DeleteAddressGroup, self.delete)
        self._bus.handle(EditAddresses, self.edit_addresses)
        self._bus.handle(LookupAddressGroups, self._lookup_many)
        await self.register_rbac()

    def check_write(self, ctx: RequestContext, obj: dict[str, Any], action: str) -> None:
        """Only the owner (or an admin) changes a group; others that see it through a policy
        get 404, as Neutron answers (neutron-tempest-plugin)."""
        if not ctx.is_admin and obj["project_id"] != ctx.caller.project_id:
            raise self.resource.not_found(id=obj["id"])
        super().check_write(ctx, obj, action)

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await super().after_create(ctx, obj)
        self._bus.publish(AddressGroupChanged(address_group=dict(obj)))

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        # No rule names the group meanwhile (rule creates hold this lock shared).
        await self._store.lock(address_group_lock(obj["id"]))
        if await ag_repo.used_by_rule(self._store, obj["id"]):
            raise AddressGroupInUse(address_group_id=obj["id"])
        await super().before_delete(ctx, obj)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        self._bus.publish(AddressGroupDeleted(address_group=obj))

    async def bound_projects(self, obj: dict[str, Any]) -> set[str]:
        return await ag_repo.rule_projects(self._store, obj["id"])

    async def edit_addresses(self, cmd: EditAddresses) -> dict[str, Any]:
        """Add addresses (duplicates collapse) or remove them (404 for absent ones)."""
        async with self._store.transaction():
            group = await self.get_visible(cmd.ctx, cmd.id)
            self.check_write(cmd.ctx, group, "update_address_group")
            current = list(group["addresses"])
            if cmd.add:
                new = current + [a for a in cmd.addresses if a not in current]
            else:
                missing = [a for a in cmd.addresses if a not in current]
                if missing:
                    raise AddressesNotFound(addresses=missing, address_group_id=group["id"])
                new = [a for a in current if a not in cmd.addresses]
            if new != current:
                await self.write(group, {"addresses": new})
                # The rules naming the group change meaning: their groups' revisions rise.
                await self._bus.call(AddressGroupEdited(address_group_id=group["id"]))
                self._bus.publish(AddressGroupChanged(address_group=dict(group)))
        return (await self.present(cmd.ctx, [group]))[0]

    async def _lookup_many(self, cmd: LookupAddressGroups) -> dict[str, list[str]]:
        groups = await repo.get_many(self._store, self.resource, cmd.ids)
        return {gid: list(group["addresses"]) for gid, group in groups.items()}
