"""Gateway manager contract: reads, and the events the southbound builds GatewayStates from.

What a host must get (southbound spec §8.3), from these events: for every host H with VPC
`vpc_id` in its desired state, once the gateway is READY, `vpc_states[vpc_id]` carries
`gateway_ids = [id]` (also stored on the network) and `gateway_states[id]` is INFO with
`revision_number = revision`, `gateway_type = ZETA`, one destination per entry of
`destinations` and `zeta_info.port_inband_operation = port_ibo`. GatewayDeleted: the VPC
goes out without the id and the gateway state as DELETE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command, Event
from alcor.managers.crud import GetCommand, ListCommand, ViewCommand

# The outbox kinds of Zeta calls (southbound spec §8.2), one call each.
VPC_CREATE = "ZETA_VPC_CREATE"  # POST /vpcs
VPC_DELETE = "ZETA_VPC_DELETE"  # DELETE /vpcs/{id}
PORT_CREATE = "ZETA_PORT_CREATE"  # POST /ports (consecutive rows of a VPC in one batch)
PORT_UPDATE = "ZETA_PORT_UPDATE"  # PUT /ports/{id} (mac_port only)
PORT_DELETE = "ZETA_PORT_DELETE"  # DELETE /ports/{id}
OUTBOX_KINDS = (VPC_CREATE, VPC_DELETE, PORT_CREATE, PORT_UPDATE, PORT_DELETE)


@dataclass(frozen=True, slots=True)
class Destination:
    """One Zeta gateway node: the address hosts tunnel to."""

    ip: str
    mac: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayRecord:
    """What hosts need of a gateway (its stored row, in the GatewayState's terms)."""

    id: str
    vpc_id: str
    revision: int
    status: str
    zgc_id: str | None
    destinations: tuple[Destination, ...]
    port_ibo: int  # zeta_info.port_inband_operation (Zeta answers a string; stored as int)

    @classmethod
    def of(cls, row: dict[str, Any]) -> GatewayRecord:
        """Return the record of a stored gateway row."""
        return cls(
            id=row["id"],
            vpc_id=row["network_id"],
            revision=row["revision_number"],
            status=row["status"],
            zgc_id=row.get("zgc_id"),
            destinations=tuple(
                Destination(d["ip_address"], d["mac_address"]) for d in row["destinations"] or ()
            ),
            port_ibo=int(row.get("port_inband_operation") or 0),
        )


class GetGateway(GetCommand):
    """Return one visible gateway (with its outbox state)."""


class ListGateways(ListCommand):
    """List visible gateways (with their outbox state)."""


class ViewGateways(ViewCommand):
    """Show gateway change-record objects as GET does (the watch stream)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewaysOfNetwork(Command[list[GatewayRecord]]):
    """Return the network's gateways that hosts should hold (READY or ERROR after READY)."""

    network_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayChanged(Event):
    """A gateway became READY, or what Zeta answered for it changed (new revision)."""

    gateway: GatewayRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayDeleted(Event):
    """A gateway is gone: Zeta forgot its VPC, or the VPC never reached Zeta."""

    gateway: GatewayRecord
