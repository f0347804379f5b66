"""SQL of the gateway manager: gateway rows (a resource) and registered ports (internal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from alcor.resources import repo
from alcor.resources.gateway import GATEWAY
from alcor.resources.repo import Where
from alcor.store import Store
from alcor.store.revisions import tombstone


@dataclass(frozen=True, slots=True)
class RegisteredPort:
    """A port as registered (or queued to be registered) at Zeta, and that outbox row."""

    port_id: str
    network_id: str
    node_id: str
    body: dict[str, Any]
    create_row: int


async def gateway_of_network(db: Store, network_id: str) -> dict[str, Any] | None:
    """Return the gateway of `network_id`, or None."""
    found = await repo.find(db, GATEWAY, Where("t.network_id = ?", (network_id,)))
    return found[0] if found else None


async def gateways_of_networks(db: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return {network id: gateway} for the networks of `ids` that have one."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        where = Where(f"t.network_id IN ({', '.join('?' for _ in chunk)})", tuple(chunk))
        out.update({g["network_id"]: g for g in await repo.find(db, GATEWAY, where)})
    return out


async def all_gateways(db: Store) -> list[dict[str, Any]]:
    """Return every gateway."""
    return await repo.find(db, GATEWAY, Where("TRUE"), order="t.network_id")


async def delete_gateway(db: Store, gateway: dict[str, Any]) -> None:
    """Delete a gateway row (recorded, with a tombstone of its last revision)."""
    await repo.delete(db, GATEWAY, gateway["id"])
    await tombstone(db, "gateway", gateway)


async def registered(db: Store, port_ids: list[str]) -> dict[str, RegisteredPort]:
    """Return {port id: registration} for the ports of `port_ids` that have one."""
    out: dict[str, RegisteredPort] = {}
    for start in range(0, len(port_ids), 500):
        chunk = port_ids[start : start + 500]
        for row in await db.fetch(
            "SELECT port_id, network_id, node_id, body, create_row FROM gateway_ports "
            f"WHERE port_id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        ):
            out[row[0]] = _registered(row)
    return out


async def registered_in_network(db: Store, network_id: str) -> list[RegisteredPort]:
    """Return the registrations of a network's ports, by port id."""
    return [
        _registered(row)
        for row in await db.fetch(
            "SELECT port_id, network_id, node_id, body, create_row FROM gateway_ports "
            "WHERE network_id = ? ORDER BY port_id",
            [network_id],
        )
    ]


async def registered_on_node(db: Store, node_id: str) -> list[str]:
    """Return the ids of the registered ports bound to `node_id`."""
    return [
        r[0]
        for r in await db.fetch("SELECT port_id FROM gateway_ports WHERE node_id = ?", [node_id])
    ]


async def registered_ids(db: Store) -> set[str]:
    """Return the ids of every registered port."""
    return {r[0] for r in await db.fetch("SELECT port_id FROM gateway_ports")}


async def save_registration(db: Store, reg: RegisteredPort) -> None:
    """Insert or replace a port's registration."""
    await db.execute(
        "INSERT INTO gateway_ports (port_id, network_id, node_id, body, create_row) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (port_id) DO UPDATE SET "
        "network_id = excluded.network_id, node_id = excluded.node_id, body = excluded.body, "
        "create_row = excluded.create_row",
        [reg.port_id, reg.network_id, reg.node_id, orjson.dumps(reg.body).decode(), reg.create_row],
    )


async def forget_registration(db: Store, port_id: str) -> None:
    """Delete a port's registration."""
    await db.execute("DELETE FROM gateway_ports WHERE port_id = ?", [port_id])


def _registered(row: Any) -> RegisteredPort:
    return RegisteredPort(row[0], row[1], row[2], orjson.loads(row[3]), row[4])
