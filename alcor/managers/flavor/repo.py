"""Flavor/service profile bindings (flavor_service_profiles) and flavor use: synchronous SQL."""

from __future__ import annotations

import sqlite_utils


def bindings(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """Return every (flavor id, service profile id) binding, oldest first."""
    return list(
        db.execute(
            "SELECT flavor_id, service_profile_id FROM flavor_service_profiles ORDER BY rowid"
        )
    )


def bind(db: sqlite_utils.Database, flavor_id: str, profile_id: str) -> None:
    """Bind a service profile to a flavor."""
    db.execute(
        "INSERT INTO flavor_service_profiles (flavor_id, service_profile_id) VALUES (?, ?)",
        [flavor_id, profile_id],
    )


def unbind(db: sqlite_utils.Database, flavor_id: str, profile_id: str | None = None) -> None:
    """Unbind a service profile from a flavor (every profile, when None)."""
    if profile_id is None:
        db.execute("DELETE FROM flavor_service_profiles WHERE flavor_id = ?", [flavor_id])
    else:
        db.execute(
            "DELETE FROM flavor_service_profiles WHERE flavor_id = ? AND service_profile_id = ?",
            [flavor_id, profile_id],
        )


def used_by_router(db: sqlite_utils.Database, flavor_id: str) -> bool:
    """Return True when a router has the flavor (routers are read here, never written)."""
    row = db.execute("SELECT 1 FROM routers WHERE flavor_id = ? LIMIT 1", [flavor_id]).fetchone()
    return row is not None
