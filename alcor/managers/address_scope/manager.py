"""Address scope manager: owns address scopes; subnet pools point at them."""

from __future__ import annotations

from typing import Any

from alcor.managers.address_scope.messages import (
    AddressScopeDeleted,
    CreateAddressScopes,
    DeleteAddressScope,
    GetAddressScope,
    ListAddressScopes,
    UpdateAddressScope,
    scope_lock,
)
from alcor.managers.common import RequestContext
from alcor.managers.generic import SharedCrudManager
from alcor.managers.subnetpool.messages import ScopePools
from alcor.resources.address_scope import (
    ADDRESS_SCOPE,
    AddressScopeInUse,
    AddressScopeUpdateError,
)


class AddressScopeManager(SharedCrudManager):
    """Create, read, update and delete address scopes (shareable through RBAC)."""

    resource = ADDRESS_SCOPE
    name = "address_scope"
    label = "Address scope"
    object_type = "address_scope"
    requires = ("store", "bus", "rbac")

    async def start(self) -> None:
        """Register the address scope commands and make scopes shareable."""
        self._bus.handle(CreateAddressScopes, self.create)
        self._bus.handle(GetAddressScope, self.get)
        self._bus.handle(ListAddressScopes, self.list_visible)
        self._bus.handle(UpdateAddressScope, self.update)
        self._bus.handle(DeleteAddressScope, self.delete)
        await self.register_rbac()

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        if obj["shared"] and diff.get("shared") is False:
            raise AddressScopeUpdateError(
                address_scope_id=obj["id"], reason="Shared address scope can't be unshared"
            )
        await super().prepare_update(ctx, obj, diff)

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._store.lock(scope_lock(obj["id"]))  # no pool joins it meanwhile
        if await self._bus.call(ScopePools(address_scope_id=obj["id"])):
            raise AddressScopeInUse(address_scope_id=obj["id"])
        await super().before_delete(ctx, obj)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        self._bus.publish(AddressScopeDeleted(address_scope=obj))

    async def bound_projects(self, obj: dict[str, Any]) -> set[str]:
        pools = await self._bus.call(ScopePools(address_scope_id=obj["id"]))
        return {pool["project_id"] for pool in pools}
