"""Port queries and link tables beyond the generic repository: async SQL (alcor/store/db.py).

`port_security_groups` links ports to their groups (indexed both ways); `ip_allocations`
(owned by IPAM) is read here to find ports by address or subnet without scanning ports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from alcor.managers.port.messages import QueryPorts
from alcor.resources import repo
from alcor.resources.port import PORT
from alcor.resources.repo import Where
from alcor.store import Store
from alcor.store.db import marks

SUBPORT_OWNER = "trunk:subport"  # Neutron's device_owner of a trunk's subports
_INSERT_LINK = "INSERT INTO port_security_groups (port_id, security_group_id) VALUES (?, ?)"


def in_security_groups(group_ids: Sequence[str]) -> Where:
    """Select the ports in one of the groups (the `security_groups` list filter)."""
    return Where(
        "t.id IN (SELECT port_id FROM port_security_groups "
        f"WHERE security_group_id IN ({marks(group_ids)}))",
        tuple(group_ids),
    )


repo.register_list_filter(PORT, "security_groups", in_security_groups)


def own_or_on_own_network(project_id: str) -> Where:
    """Select ports of `project_id` or on one of its networks (the member view)."""
    return Where("t.project_id = ? OR t.network_project_id = ?", (project_id, project_id))


def subports_of(trunk_id: str) -> Where:
    """Select the ports attached to a trunk as its subports."""
    return Where("t.device_id = ? AND t.device_owner = ?", (trunk_id, SUBPORT_OWNER))


def with_addresses(filters: Mapping[str, Sequence[str]]) -> Where | None:
    """Select ports by `fixed_ips` filters: ip_address, subnet_id, ip_address_substr.

    Driven from the allocations index (ip / subnet), not a scan of every port; None when
    no such filter is given.
    """
    clauses = []
    params: list[Any] = []
    for key, column in (("ip_address", "ip"), ("subnet_id", "subnet_id")):
        values = filters.get(key)
        if values:
            clauses.append(f"a.{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    substrings = filters.get("ip_address_substr")
    if substrings:
        clauses.append("(" + " OR ".join("a.ip LIKE ?" for _ in substrings) + ")")
        params.extend(f"%{v}%" for v in substrings)
    if not clauses:
        return None
    return Where(
        "t.id IN (SELECT a.port_id FROM ip_allocations a WHERE " + " AND ".join(clauses) + ")",
        tuple(params),
    )


def matching(cmd: QueryPorts) -> tuple[Where, str]:
    """Return the condition and the order (with the limit) of an internal port query."""
    clauses, params = [], []
    for column, value in (
        ("network_id", cmd.network_id),
        ("device_id", cmd.device_id),
        ("device_owner", cmd.device_owner),
        ("binding_host_id", cmd.host_id),
    ):
        if value is not None:
            clauses.append(f"t.{column} = ?")
            params.append(value)
    if cmd.device_owner_prefix is not None:
        clauses.append("t.device_owner LIKE ?")
        params.append(cmd.device_owner_prefix + "%")
    if cmd.not_project is not None:
        clauses.append("t.project_id != ?")
        params.append(cmd.not_project)
    if cmd.subnet_id is not None:
        clauses.append(holding_addresses_in(cmd.subnet_id).sql)
        params.append(cmd.subnet_id)
    if cmd.security_group_id is not None:
        clauses.append(
            "t.id IN (SELECT port_id FROM port_security_groups WHERE security_group_id = ?)"
        )
        params.append(cmd.security_group_id)
    order = "t.id" + (f" LIMIT {int(cmd.limit)}" if cmd.limit else "")
    return Where(" AND ".join(clauses) or "TRUE", tuple(params)), order


def holding_addresses_in(subnet_id: str) -> Where:
    """Select the ports with an address in `subnet_id`."""
    return Where("t.id IN (SELECT port_id FROM ip_allocations WHERE subnet_id = ?)", (subnet_id,))


def non_router_ports_on(network_id: str) -> Where:
    """Select the ports of `network_id` that are not router ports."""
    return Where("t.network_id = ? AND t.device_owner NOT LIKE 'network:router%'", (network_id,))


async def subnet_owner(db: Store, subnet_id: str) -> tuple[str, str] | None:
    """Return (project_id, network_id) of a subnet, or None when it does not exist."""
    row = await db.fetchone("SELECT project_id, network_id FROM subnets WHERE id = ?", [subnet_id])
    return (row[0], row[1]) if row is not None else None


async def network_is_public(db: Store, network_id: str) -> bool:
    """Return True when the network is shared or external."""
    row = await db.fetchone(
        "SELECT 1 FROM networks WHERE id = ? AND (shared = 1 OR router_external = 1)",
        [network_id],
    )
    return row is not None


async def link_security_groups(db: Store, links: Iterable[tuple[str, str]]) -> None:
    """Add (port_id, security_group_id) links."""
    await db.executemany(_INSERT_LINK, list(links))


async def unlink_security_groups(db: Store, port_id: str) -> None:
    """Remove every group link of the port."""
    await db.execute("DELETE FROM port_security_groups WHERE port_id = ?", [port_id])


async def bump_neighbor_revisions(db: Store, port_ids: Sequence[str]) -> None:
    """Apply the revision rule (last + 1) to the ports' neighbor_revision, in bulk.

    Written in SQL: a router interface change touches every port of its subnets. Each
    bump is a change of the port, recorded as such (other processes learn it from there).
    """
    for start in range(0, len(port_ids), 500):
        chunk = port_ids[start : start + 500]
        await db.execute(
            f"UPDATE ports SET neighbor_revision = neighbor_revision + 1 WHERE id IN ({marks(chunk)})",
            chunk,
        )
        await repo.record_updates(db, PORT, chunk)
