"""SQL of the gateway manager: gateway rows (a resource) and registered ports (internal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

from alcor.resources import repo
from alcor.resources.gateway import GATEWAY
from alcor.resources.repo import Where
from alcor.store.revisions import tombstone


@dataclass(frozen=True, slots=True)
class RegisteredPort:
    """A port as registered (or queued to be registered) at Zeta, and that outbox row."""

    port_id: str
    network_id: str
    node_id: str
    body: dict[str, Any]
    create_row: int


def gateway_of_network(db: sqlite_utils.Database, network_id: str) -> dict[str, Any] | None:
    """Return the gateway of `network_id`, or None."""
    found = repo.find(db, GATEWAY, Where("t.network_id = ?", (network_id,)))
    return found[0] if found else None


def gateways_of_networks(db: sqlite_utils.Database, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return {network id: gateway} for the networks of `ids` that have one."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        where = Where(f"t.network_id IN ({', '.join('?' for _ in chunk)})", tuple(chunk))
        out.update({g["network_id"]: g for g in repo.find(db, GATEWAY, where)})
    return out


def all_gateways(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Return every gateway."""
    return repo.find(db, GATEWAY, Where("1"), order="t.network_id")


def delete_gateway(db: sqlite_utils.Database, gateway: dict[str, Any]) -> None:
    """Delete a gateway row (recorded, with a tombstone of its last revision)."""
    repo.delete(db, GATEWAY, gateway["id"])
    tombstone(db, "gateway", gateway)


def registered(db: sqlite_utils.Database, port_ids: list[str]) -> dict[str, RegisteredPort]:
    """Return {port id: registration} for the ports of `port_ids` that have one."""
    out: dict[str, RegisteredPort] = {}
    for start in range(0, len(port_ids), 500):
        chunk = port_ids[start : start + 500]
        for row in db.execute(
            "SELECT port_id, network_id, node_id, body, create_row FROM gateway_ports "
            f"WHERE port_id IN ({', '.join('?' for _ in chunk)})",
            chunk,
        ):
            out[row[0]] = _registered(row)
    return out


def registered_in_network(db: sqlite_utils.Database, network_id: str) -> list[RegisteredPort]:
    """Return the registrations of a network's ports, by port id."""
    return [
        _registered(row)
        for row in db.execute(
            "SELECT port_id, network_id, node_id, body, create_row FROM gateway_ports "
            "WHERE network_id = ? ORDER BY port_id",
            [network_id],
        )
    ]


def registered_on_node(db: sqlite_utils.Database, node_id: str) -> list[str]:
    """Return the ids of the registered ports bound to `node_id`."""
    return [
        r[0] for r in db.execute("SELECT port_id FROM gateway_ports WHERE node_id = ?", [node_id])
    ]


def registered_ids(db: sqlite_utils.Database) -> set[str]:
    """Return the ids of every registered port."""
    return {r[0] for r in db.execute("SELECT port_id FROM gateway_ports")}


def save_registration(db: sqlite_utils.Database, reg: RegisteredPort) -> None:
    """Insert or replace a port's registration."""
    db.execute(
        "INSERT OR REPLACE INTO gateway_ports (port_id, network_id, node_id, body, create_row) "
        "VALUES (?, ?, ?, ?, ?)",
        [reg.port_id, reg.network_id, reg.node_id, orjson.dumps(reg.body).decode(), reg.create_row],
    )


def forget_registration(db: sqlite_utils.Database, port_id: str) -> None:
    """Delete a port's registration."""
    db.execute("DELETE FROM gateway_ports WHERE port_id = ?", [port_id])


def _registered(row: Any) -> RegisteredPort:
    return RegisteredPort(row[0], row[1], row[2], orjson.loads(row[3]), row[4])
