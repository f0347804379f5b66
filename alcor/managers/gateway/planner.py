"""What Zeta must be told: desired registrations diffed against what was queued.

Every function runs inside the caller's transaction and only writes rows (gateways,
registrations, outbox): the calls themselves go out later, from the outbox (worker.py).
Zeta is not idempotent, so the plan never repeats a call that may have reached it, and
drops (supersedes) a queued call that never went out when a later change makes it moot.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import orjson

from alcor.managers.common import new_id, stamp_new
from alcor.managers.gateway import repo as gw_repo
from alcor.managers.gateway.messages import (
    PORT_CREATE,
    PORT_DELETE,
    PORT_UPDATE,
    VPC_CREATE,
    VPC_DELETE,
)
from alcor.managers.gateway.repo import RegisteredPort
from alcor.resources import repo
from alcor.resources.gateway import GATEWAY
from alcor.store import Store, outbox

CREATES = frozenset({VPC_CREATE, PORT_CREATE, PORT_UPDATE})
LOST_STATE = "zeta lost state: re-creating the VPC and its ports"


# ---- desired state (pure) -----------------------------------------------------------------
def wants_gateway(network: dict[str, Any] | None) -> bool:
    """Return True for a network Zeta can serve: a VXLAN segment (its VNI)."""
    return (
        network is not None
        and network.get("provider:network_type") == "vxlan"
        and network.get("provider:segmentation_id") is not None
    )


def port_body(
    port: dict[str, Any] | None, node: dict[str, Any] | None, mac_node: str
) -> dict[str, Any] | None:
    """Return the POST /ports body of a bound port, or None when Zeta must not know it.

    Bound = on a registered node with an OVS binding. Zeta programs only the first IP
    (as IPv4), so IPv4 addresses come first and a port without one is not registered.
    """
    if port is None or node is None or port["binding:vif_type"] in ("unbound", "binding_failed"):
        return None
    # Stored addresses are canonical: a colon marks IPv6 (no parsing on this hot path).
    ips = sorted((f["ip_address"] for f in port["fixed_ips"]), key=lambda ip: ":" in ip)
    if not ips or ":" in ips[0]:
        return None
    return {
        "port_id": port["id"],
        "vpc_id": port["network_id"],
        "ips_port": [{"ip": ip, "vip": ""} for ip in ips],
        "mac_port": port["mac_address"],
        "ip_node": node.get("data-path-ip") or node["local_ip"],
        "mac_node": mac_node or node["mac_address"],
    }


# ---- ports ------------------------------------------------------------------------------
async def sync_port(
    db: Store,
    reg: RegisteredPort | None,
    body: dict[str, Any] | None,
    node_id: str,
) -> bool:
    """Queue what turns registration `reg` into `body` (None: not at Zeta); True if any."""
    if reg is None and body is None:
        return False
    if reg is None:
        assert body is not None
        await register_port(db, body, node_id)
        return True
    if body is None:
        await retract_port(db, reg)
        return True
    if reg.body == body:
        if reg.node_id != node_id:  # a renamed node: same address, nothing to tell Zeta
            await gw_repo.save_registration(db, _replace(reg, node_id=node_id))
        return False
    mac_only = {k: v for k, v in reg.body.items() if k != "mac_port"} == {
        k: v for k, v in body.items() if k != "mac_port"
    }
    if mac_only and not await _unsent(db, reg):
        # PUT /ports/{id} changes mac_port and nothing else (southbound spec §8.2).
        await outbox.enqueue(
            db,
            PORT_UPDATE,
            reg.network_id,
            reg.port_id,
            {"port_id": reg.port_id, "mac_port": body["mac_port"]},
        )
        await gw_repo.save_registration(db, _replace(reg, body=body, node_id=node_id))
        return True
    # Zeta has no array PUT and its PUT changes only the MAC: delete, then create again.
    await retract_port(db, reg)
    await register_port(db, body, node_id)
    return True


async def register_port(db: Store, body: dict[str, Any], node_id: str) -> None:
    """Queue a port's POST /ports and remember the registration."""
    row = await outbox.enqueue(db, PORT_CREATE, body["vpc_id"], body["port_id"], body)
    await gw_repo.save_registration(
        db, RegisteredPort(body["port_id"], body["vpc_id"], node_id, body, row)
    )


async def retract_port(db: Store, reg: RegisteredPort) -> None:
    """Take a port back from Zeta: drop its queued calls, and DELETE it if it may be there."""
    # Decided and done in one statement: a worker may be recording an attempt of the create
    # at this moment (its own transaction); reading `attempts` first could miss it.
    unsent = await outbox.supersede_unattempted(db, reg.create_row, time.time())
    queued = await outbox.pending_for_target(db, reg.port_id, from_id=reg.create_row)
    await _supersede(db, [r for r in queued if r.kind in CREATES])
    if not unsent:
        await outbox.enqueue(db, PORT_DELETE, reg.network_id, reg.port_id, {"port_id": reg.port_id})
    await gw_repo.forget_registration(db, reg.port_id)


async def _unsent(db: Store, reg: RegisteredPort) -> bool:
    """Return True when the port's create is still queued and was never attempted."""
    row = await outbox.get(db, reg.create_row)
    return row is not None and row.pending and row.attempts == 0


# ---- gateways ---------------------------------------------------------------------------
async def open_gateway(db: Store, network: dict[str, Any]) -> dict[str, Any]:
    """Create the network's gateway (PENDING) and queue the VPC's registration."""
    gateway = stamp_new(
        {
            "id": new_id(),
            "project_id": network["project_id"],
            "network_id": network["id"],
            "type": "ZETA",
            "status": "PENDING",
            "zgc_id": None,
            "destinations": [],
            "port_inband_operation": None,
            "last_error": None,
        }
    )
    await repo.insert(db, GATEWAY, gateway)
    await _queue_vpc_create(db, network)
    return gateway


async def reopen_gateway(db: Store, network: dict[str, Any]) -> bool:
    """Queue the VPC again when its network came back (same id) after a queued delete."""
    # The last VPC call of the lane that is not a resync's (payloads are JSON text: read
    # here rather than with an engine's JSON functions).
    rows = await db.fetch(
        "SELECT kind, payload FROM outbox WHERE key = ? AND kind IN (?, ?) ORDER BY id DESC",
        [network["id"], VPC_CREATE, VPC_DELETE],
    )
    last = next((kind for kind, payload in rows if "resync" not in orjson.loads(payload)), None)
    if last != VPC_DELETE:
        return False
    await _queue_vpc_create(db, network)
    return True


async def close_gateway(db: Store, gateway: dict[str, Any]) -> bool:
    """Take a VPC back from Zeta after its ports; True when the gateway row went at once.

    Queued creates that never went out are dropped (done, unsent). If Zeta may know the VPC,
    its DELETE goes last in the lane, after the ports' deletes (Zeta refuses to delete a VPC
    its ports still reference).
    """
    key = gateway["network_id"]
    for reg in await gw_repo.registered_in_network(db, key):
        await retract_port(db, reg)
    await _supersede(db, [r for r in await outbox.lane(db, key, 1_000_000) if r.kind in CREATES])
    may_exist = gateway["zgc_id"] is not None or await db.fetchone(
        "SELECT 1 FROM outbox WHERE key = ? AND kind = ? AND attempts > 0 LIMIT 1",
        [key, VPC_CREATE],
    )
    if may_exist:
        # Read again (a window read twice, or another process's consumer), the network's
        # deletion must not queue a second DELETE: Zeta answers 500 to one of a gone VPC.
        if not await _closing(db, key):
            await outbox.enqueue(db, VPC_DELETE, key, key, {"vpc_id": key})
        return False
    if await outbox.lane(db, key, 1):
        return False  # deletes of ports left over from an earlier life of the VPC go first
    await gw_repo.delete_gateway(db, gateway)
    return True


async def _closing(db: Store, key: str) -> bool:
    """Return True when the VPC's own DELETE (not a re-creation's) is already queued."""
    queued = await outbox.pending_of_kind(db, key, VPC_DELETE)
    return any(not row.payload.get("resync") for row in queued)


async def resync(db: Store, gateway: dict[str, Any], vni: int) -> None:
    """Rebuild a VPC that Zeta lost (its VNI and ZGC live in Zeta's memory, §8.1).

    Everything queued for the VPC is dropped; then Zeta's stale rows are deleted (every
    port it may have, then the VPC: a create of a known id is a 500 there), the VPC is
    created again and every registered port is sent again.
    """
    key = gateway["network_id"]
    queued = await outbox.lane(db, key, 1_000_000)
    await _supersede(db, queued)
    regs = await gw_repo.registered_in_network(db, key)
    stale = {r.port_id for r in regs} | {
        r.target for r in queued if r.kind in (PORT_CREATE, PORT_UPDATE, PORT_DELETE)
    }
    for port_id in sorted(stale):
        await outbox.enqueue(db, PORT_DELETE, key, port_id, {"port_id": port_id})
    await outbox.enqueue(db, VPC_DELETE, key, key, {"vpc_id": key, "resync": True})
    await outbox.enqueue(db, VPC_CREATE, key, key, {"vpc_id": key, "vni": vni, "resync": True})
    for reg in regs:
        await register_port(db, reg.body, reg.node_id)


async def _queue_vpc_create(db: Store, network: dict[str, Any]) -> None:
    # Only these two keys: Zeta answers 500 to any other (southbound spec §8.2).
    body = {"vpc_id": network["id"], "vni": network["provider:segmentation_id"]}
    await outbox.enqueue(db, VPC_CREATE, network["id"], network["id"], body)


async def _supersede(db: Store, rows: list[outbox.Row]) -> None:
    await outbox.finish(db, [r.id for r in rows], "superseded", time.time())


def _replace(reg: RegisteredPort, **changes: Any) -> RegisteredPort:
    return dataclasses.replace(reg, **changes)
