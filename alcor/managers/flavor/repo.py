"""Flavor/service profile bindings (flavor_service_profiles) and flavor use: synchronous SQL."""

from __future__ import annotations

from alcor.store import Store


async def bindings(db: Store) -> list[tuple[str, str]]:
    """Return every (flavor id, service profile id) binding (ordered by ids: both stores)."""
    rows = await db.fetch(
        "SELECT flavor_id, service_profile_id FROM flavor_service_profiles "
        "ORDER BY flavor_id, service_profile_id"
    )
    return [(flavor_id, profile_id) for flavor_id, profile_id in rows]


async def bind(db: Store, flavor_id: str, profile_id: str) -> None:
    """Bind a service profile to a flavor."""
    await db.execute(
        "INSERT INTO flavor_service_profiles (flavor_id, service_profile_id) VALUES (?, ?)",
        [flavor_id, profile_id],
    )


async def unbind(db: Store, flavor_id: str, profile_id: str | None = None) -> None:
    """Unbind a service profile from a flavor (every profile, when None)."""
    if profile_id is None:
        await db.execute("DELETE FROM flavor_service_profiles WHERE flavor_id = ?", [flavor_id])
    else:
        await db.execute(
            "DELETE FROM flavor_service_profiles WHERE flavor_id = ? AND service_profile_id = ?",
            [flavor_id, profile_id],
        )


async def used_by_router(db: Store, flavor_id: str) -> bool:
    """Return True when a router has the flavor (routers are read here, never written)."""
    row = await db.fetchone("SELECT 1 FROM routers WHERE flavor_id = ? LIMIT 1", [flavor_id])
    return row is not None
