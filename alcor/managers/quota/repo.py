"""Per-project quota overrides (table `quotas`): synchronous SQL."""

from __future__ import annotations

from collections.abc import Mapping

import sqlite_utils


def overrides(db: sqlite_utils.Database) -> list[tuple[str, str, int]]:
    """Return every stored (project_id, resource, hard_limit)."""
    rows = db.execute("SELECT project_id, resource, hard_limit FROM quotas").fetchall()
    return [(project, resource, int(limit)) for project, resource, limit in rows]


def projects(db: sqlite_utils.Database, project_id: str | None = None) -> list[str]:
    """Return the projects with overrides (only `project_id`, if given), sorted."""
    sql = "SELECT DISTINCT project_id FROM quotas"
    params: list[str] = []
    if project_id is not None:
        sql += " WHERE project_id = ?"
        params.append(project_id)
    return [row[0] for row in db.execute(sql + " ORDER BY project_id", params)]


def set_limits(db: sqlite_utils.Database, project_id: str, limits: Mapping[str, int]) -> None:
    """Store (or replace) the project's limits of the given resources."""
    for resource, limit in limits.items():
        db.execute(
            "INSERT OR REPLACE INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)",
            [project_id, resource, limit],
        )


def delete_project(db: sqlite_utils.Database, project_id: str) -> bool:
    """Drop every override of the project; return False when it had none."""
    cursor = db.execute("DELETE FROM quotas WHERE project_id = ?", [project_id])
    return bool(cursor.rowcount)
