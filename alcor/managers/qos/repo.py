"""QoS queries: who binds a policy, the default policy, the minimum rules (synchronous SQL)."""

from __future__ import annotations

from typing import Any

from alcor.resources import repo
from alcor.resources.qos import RULES
from alcor.resources.repo import Where
from alcor.store import Store

# Bindings live on the networks and ports (their qos_policy_id): read here, never written.
_USERS = (
    ("network", "SELECT id, project_id FROM networks WHERE qos_policy_id = ?"),
    ("port", "SELECT id, project_id FROM ports WHERE qos_policy_id = ?"),
)
# The rule types that reserve resources (port-resource-request).
MINIMUM_TYPES = ("minimum_bandwidth", "minimum_packet_rate")


async def first_user(db: Store, policy_id: str) -> tuple[str, str] | None:
    """Return (kind, id) of a network or port bound to the policy, if any."""
    for kind, sql in _USERS:
        row = await db.fetchone(sql + " LIMIT 1", [policy_id])
        if row is not None:
            return kind, row[0]
    return None


async def user_projects(db: Store, policy_id: str) -> set[str]:
    """Return the projects of the networks and ports bound to the policy."""
    return {row[1] for _, sql in _USERS for row in await db.fetch(sql, [policy_id]) if row[1]}


async def default_of(db: Store, project_id: str) -> str | None:
    """Return the id of the project's default policy (qos-default), or None."""
    row = await db.fetchone(
        "SELECT id FROM qos_policies WHERE project_id = ? AND is_default = 1", [project_id]
    )
    return row[0] if row else None


async def minimum_rules(db: Store) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Return {policy id: {rule type: rules}} for every policy with minimum rules."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind in MINIMUM_TYPES:
        for rule in await repo.find(db, RULES[kind], Where("TRUE", ()), order="t.id"):
            out.setdefault(rule["qos_policy_id"], {}).setdefault(kind, []).append(rule)
    return out
