"""Flavor manager: owns flavors, service profiles and the profiles of each flavor."""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.common import RequestContext
from alcor.managers.flavor import repo as flavor_repo
from alcor.managers.flavor.messages import (
    BindServiceProfile,
    CheckFlavor,
    CreateFlavors,
    CreateServiceProfiles,
    DeleteFlavor,
    DeleteServiceProfile,
    GetFlavor,
    GetServiceProfile,
    ListFlavors,
    ListServiceProfiles,
    UpdateFlavor,
    UpdateServiceProfile,
)
from alcor.managers.generic import AdminWrites
from alcor.resources.flavor import (
    FLAVOR,
    KNOWN_DRIVERS,
    SERVICE_PROFILE,
    FlavorInUse,
    FlavorServiceProfileBindingExists,
    FlavorServiceProfileBindingNotFound,
    ServiceProfileDriverNotFound,
    ServiceProfileInUse,
)
from alcor.resources.repo import Where
from alcor.store import Store


class _Global(AdminWrites):
    """Objects of no project, written by admins, readable by all (`readers_all`) or admins."""

    readers_all = True

    def visible_where(self, ctx: RequestContext) -> list[Where]:
        return [] if self.readers_all or ctx.is_admin else [Where("FALSE")]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return self.readers_all or ctx.is_admin

    async def _pairs(self, column: str, ids: list[str]) -> dict[str, list[str]]:
        """Return {id: the ids bound to it} for the flavor/profile bindings by `column`."""
        out: dict[str, list[str]] = {i: [] for i in ids}
        for flavor_id, profile_id in await flavor_repo.bindings(self._store):
            key, value = (
                (flavor_id, profile_id) if column == "flavor_id" else (profile_id, flavor_id)
            )
            if key in out:
                out[key].append(value)
        return out


class ServiceProfiles(_Global):
    """Service profiles: a driver and its meta information (admin only)."""

    resource = SERVICE_PROFILE
    label = "Service profile"
    readers_all = False

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        out = list(objs)
        flavors = await self._pairs("service_profile_id", [o["id"] for o in out])
        for obj in out:
            obj["flavors"] = flavors[obj["id"]]
        return out

    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        _check_driver(obj["driver"])
        if not obj["driver"] and not obj["metainfo"]:
            raise errors.InvalidInput(
                error_message="Service Profile needs either a driver or metainfo"
            )

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        if "driver" in diff:
            _check_driver(diff["driver"])

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        # No flavor binds the profile meanwhile (bindings hold this lock shared).
        await self._store.lock(profile_lock(obj["id"]))
        if (await self._pairs("service_profile_id", [obj["id"]]))[obj["id"]]:
            raise ServiceProfileInUse(sp_id=obj["id"])


class FlavorManager(_Global):
    """Create, read, update and delete flavors; service profiles through ServiceProfiles."""

    resource = FLAVOR
    name = "flavor"
    label = "Flavor"
    requires = ("store", "bus")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        self.profiles = ServiceProfiles(bus, store)

    async def start(self) -> None:
        """Register the flavor and service profile commands."""
        self._bus.handle(CreateFlavors, self.create)
        self._bus.handle(GetFlavor, self.get)
        self._bus.handle(ListFlavors, self.list_visible)
        self._bus.handle(UpdateFlavor, self.update)
        self._bus.handle(DeleteFlavor, self.delete)
        self._bus.handle(CreateServiceProfiles, self.profiles.create)
        self._bus.handle(GetServiceProfile, self.profiles.get)
        self._bus.handle(ListServiceProfiles, self.profiles.list_visible)
        self._bus.handle(UpdateServiceProfile, self.profiles.update)
        self._bus.handle(DeleteServiceProfile, self.profiles.delete)
        self._bus.handle(BindServiceProfile, self._bind)
        self._bus.handle(CheckFlavor, self._check)

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        out = list(objs)
        profiles = await self._pairs("flavor_id", [o["id"] for o in out])
        for obj in out:
            obj["service_profiles"] = profiles[obj["id"]]
        return out

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        # No router takes the flavor, nor a profile binds to it, meanwhile (they hold this
        # lock shared); its bindings go with it.
        await self._store.lock(flavor_lock(obj["id"]))
        if await flavor_repo.used_by_router(self._store, obj["id"]):
            raise FlavorInUse(flavor_id=obj["id"])
        await flavor_repo.unbind(self._store, obj["id"])

    async def _bind(self, cmd: BindServiceProfile) -> dict[str, Any] | None:
        async with self._store.transaction():
            # Neither is deleted by another process until this transaction ends.
            await self._store.lock(flavor_lock(cmd.flavor_id), shared=True)
            await self._store.lock(profile_lock(cmd.profile_id), shared=True)
            flavor = await self.get_visible(cmd.ctx, cmd.flavor_id)
            self.check_write(cmd.ctx, flavor, "update_flavor")
            await self.profiles.get_visible(cmd.ctx, cmd.profile_id)
            db = self._store
            bound = cmd.profile_id in (await self._pairs("flavor_id", [flavor["id"]]))[flavor["id"]]
            if cmd.add:
                if bound:
                    raise FlavorServiceProfileBindingExists(
                        sp_id=cmd.profile_id, fl_id=flavor["id"]
                    )
                await flavor_repo.bind(db, flavor["id"], cmd.profile_id)
                return {"id": cmd.profile_id}
            if not bound:
                raise FlavorServiceProfileBindingNotFound(sp_id=cmd.profile_id, fl_id=flavor["id"])
            await flavor_repo.unbind(db, flavor["id"], cmd.profile_id)
            return None

    async def _check(self, cmd: CheckFlavor) -> None:
        # Kept from deletion by another process until the router's transaction ends.
        await self._store.lock(flavor_lock(cmd.flavor_id), shared=True)
        flavor = await self.lookup(cmd.flavor_id)
        if flavor is None:
            raise self.resource.not_found(id=cmd.flavor_id)
        if flavor["service_type"] != cmd.service_type:
            raise errors.InvalidInput(
                error_message=f"Flavor {cmd.flavor_id} is not for service {cmd.service_type}"
            )
        if not flavor["enabled"]:
            raise errors.InvalidInput(error_message="Flavor is not enabled.")


def flavor_lock(flavor_id: str) -> str:
    """Return the lock name of a flavor's routers and bindings: held shared by a router
    taking the flavor or a profile bound to it, exclusively while the flavor is checked
    unused and deleted."""
    return f"flavor:{flavor_id}"


def profile_lock(profile_id: str) -> str:
    """Return the lock name of a service profile's bindings: held shared while it is bound
    to a flavor, exclusively while it is checked unbound and deleted."""
    return f"service_profile:{profile_id}"


def _check_driver(driver: str) -> None:
    if driver and driver not in KNOWN_DRIVERS:
        raise ServiceProfileDriverNotFound(driver=driver)
