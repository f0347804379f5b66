"""Gateway rows as Zeta's answers and the outbox make them: status, content, removal.

Runs inside the caller's transaction. The revision counts what hosts see (Zeta's answer:
zgc_id, destinations, port_inband_operation); status and last_error change without a
revision bump, as a port's status does.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from alcor.bus import Bus
from alcor.managers.common import bump
from alcor.managers.gateway import repo as gw_repo
from alcor.managers.gateway.messages import (
    VPC_CREATE,
    GatewayChanged,
    GatewayDeleted,
    GatewayRecord,
)
from alcor.managers.gateway.planner import LOST_STATE
from alcor.managers.network.messages import LookupNetwork, SetNetworkGateways
from alcor.resources import repo
from alcor.resources.gateway import GATEWAY
from alcor.resources.types import Invalid, Mac
from alcor.store import Store, outbox

_LOGGER = logging.getLogger(__name__)


class GatewayState:
    """Writes gateway rows, and announces what hosts must learn."""

    def __init__(self, bus: Bus, alarm_after: int) -> None:
        self._bus = bus
        self._alarm_after = alarm_after

    async def refresh(
        self,
        db: Store,
        gateway: dict[str, Any],
        content: dict[str, Any] | None = None,
    ) -> None:
        """Derive status and last_error from the network and the gateway's outbox lane, and
        write them with new `content` (what Zeta answered: a new revision) in one update."""
        changes = {k: v for k, v in (content or {}).items() if gateway[k] != v}
        network = await self._bus.call(LookupNetwork(id=gateway["network_id"]))
        attempts, lost, creating, error = await _lane_state(db, gateway["network_id"])
        if network is None:
            status = "DELETING"
        elif lost:
            status = "ERROR"
        elif creating or changes.get("zgc_id", gateway["zgc_id"]) is None:
            status = "PENDING"
        else:
            status = "READY"
        if attempts >= self._alarm_after:
            status = "ERROR"
        last_error = LOST_STATE if lost else error
        if status == "ERROR" and gateway["status"] != "ERROR":
            _LOGGER.warning("gateway %s is in ERROR: %s", gateway["id"], last_error)
        revised = bool(changes)
        changes.update(status=status, last_error=last_error)
        changes = {k: v for k, v in changes.items() if gateway[k] != v}
        if not changes:
            return
        if revised:
            bump(gateway, changes)
        else:
            gateway.update(changes)
        await repo.update(db, GATEWAY, gateway["id"], changes)

    async def vpc_known(
        self, db: Store, gateway: dict[str, Any], vpc: dict[str, Any] | None
    ) -> None:
        """Store what Zeta answered for the VPC; a change is a new revision hosts get."""
        content = _content(vpc or {})
        if all(gateway[k] == v for k, v in content.items()):
            return
        await self.refresh(db, gateway, content)
        await self._bus.call(
            SetNetworkGateways(network_id=gateway["network_id"], gateway_ids=(gateway["id"],))
        )
        if gateway["status"] != "DELETING":
            self._bus.publish(GatewayChanged(gateway=GatewayRecord.of(gateway)))

    async def removed(self, db: Store, gateway: dict[str, Any]) -> None:
        """Delete the gateway row (its VPC is gone from Zeta, or never reached it)."""
        await gw_repo.delete_gateway(db, gateway)
        await self._bus.call(SetNetworkGateways(network_id=gateway["network_id"], gateway_ids=()))
        self._bus.publish(GatewayDeleted(gateway=GatewayRecord.of(gateway)))


async def _lane_state(db: Store, key: str) -> tuple[int, bool, bool, str | None]:
    """Return the lane's worst attempts, a pending re-creation (lost state), a pending
    create, and the error of its most-tried failing row."""
    attempts, error = await outbox.worst_pending(db, key)
    creates = await outbox.pending_of_kind(db, key, VPC_CREATE)
    lost = any(r.payload.get("resync") for r in creates)
    return attempts, lost, bool(creates), error


def _content(vpc: dict[str, Any]) -> dict[str, Any]:
    """Return the gateway attributes of Zeta's VPC answer, dropping what does not parse."""
    destinations = []
    for gw in vpc.get("gws") or ():
        try:
            ip = str(ipaddress.ip_address(gw["ip"]))
            mac = Mac().convert(gw["mac"])
        except (KeyError, TypeError, ValueError, Invalid):
            _LOGGER.warning("zeta gateway entry %r is not an IP and a MAC; ignored", gw)
            continue
        destinations.append({"ip_address": ip, "mac_address": mac})
    try:
        port_ibo: int | None = int(vpc.get("port_ibo"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        port_ibo = None
    zgc = vpc.get("zgc_id")
    return {
        "zgc_id": str(zgc) if zgc else None,
        "destinations": destinations,
        "port_inband_operation": port_ibo,
    }
