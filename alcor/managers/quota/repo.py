"""Per-project quota overrides (table `quotas`): async SQL (alcor/store/db.py)."""

from __future__ import annotations

from collections.abc import Mapping

from alcor.store import Store


async def overrides(db: Store) -> list[tuple[str, str, int]]:
    """Return every stored (project_id, resource, hard_limit)."""
    rows = await db.fetch("SELECT project_id, resource, hard_limit FROM quotas")
    return [(project, resource, int(limit)) for project, resource, limit in rows]


async def limits_of(db: Store, project_id: str) -> dict[str, int]:
    """Return the project's overrides by resource."""
    rows = await db.fetch(
        "SELECT resource, hard_limit FROM quotas WHERE project_id = ?", [project_id]
    )
    return {resource: int(limit) for resource, limit in rows}


async def projects(db: Store, project_id: str | None = None) -> list[str]:
    """Return the projects with overrides (only `project_id`, if given), sorted."""
    sql = "SELECT DISTINCT project_id FROM quotas"
    params: list[str] = []
    if project_id is not None:
        sql += " WHERE project_id = ?"
        params.append(project_id)
    return [row[0] for row in await db.fetch(sql + " ORDER BY project_id", params)]


async def set_limits(db: Store, project_id: str, limits: Mapping[str, int]) -> None:
    """Store (or replace) the project's limits of the given resources."""
    for resource, limit in limits.items():
        await db.execute(
            "INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?) "
            "ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
            [project_id, resource, limit],
        )


async def delete_project(db: Store, project_id: str) -> bool:
    """Drop every override of the project; return False when it had none."""
    return bool(await db.execute("DELETE FROM quotas WHERE project_id = ?", [project_id]))
