"""Port forwarding manager: owns the port forwardings of floating IPs."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor import errors
from alcor.managers.common import RequestContext, changed, check_write, stamp_new
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)
from alcor.managers.floatingip.messages import GetFloatingIp
from alcor.managers.generic import CrudManager
from alcor.managers.port.messages import GetPort
from alcor.managers.port_forwarding import repo as pf_repo
from alcor.managers.port_forwarding.messages import (
    AllPortForwardings,
    CreatePortForwardings,
    DeletePortForwarding,
    FipPortForwardings,
    GetPortForwarding,
    ListPortForwardings,
    PortForwardingChanged,
    PortForwardingDeleted,
    UpdatePortForwarding,
)
from alcor.managers.router.messages import FindRouterForFloatingIp
from alcor.resources import repo
from alcor.resources.base import defaults
from alcor.resources.port_forwarding import (
    PORT_FORWARDING,
    FipInUseByPortForwarding,
    PortForwardingConflict,
    PortForwardingNotFound,
)
from alcor.resources.repo import Page, Where
from alcor.store.revisions import next_revision

# The floating IP, its owner and the router doing the NAT, kept with each forwarding, and
# the revision of the NAT state on the internal port's host (southbound; rises per update).
INTERNAL = ("floatingip_id", "project_id", "router_id", "floating_ip_address", "sb_revision")
repo.register_extra_columns(PORT_FORWARDING, INTERNAL)
# What a floating IP shows of its forwardings (expose-port-forwarding-in-fip, with the id
# and internal port of floating-ip-port-forwarding-detail).
IN_FIP = (
    "id",
    "internal_port_id",
    "protocol",
    "internal_ip_address",
    "internal_port",
    "external_port",
)


class PortForwardingManager(CrudManager):
    """Create, read, update and delete port forwardings (a sub-resource of floating IPs)."""

    resource = PORT_FORWARDING
    name = "port_forwarding"
    label = "Port forwarding"
    requires = ("store", "bus", "floatingip", "port", "router")

    async def start(self) -> None:
        """Register the port forwarding commands."""
        self._bus.handle(CreatePortForwardings, self.create)
        self._bus.handle(GetPortForwarding, self.get)
        self._bus.handle(ListPortForwardings, self.list_visible)
        self._bus.handle(UpdatePortForwarding, self.update)
        self._bus.handle(DeletePortForwarding, self.delete)
        self._bus.handle(FipPortForwardings, self._of_fips)
        self._bus.handle(AllPortForwardings, self._all)

    # ---- lookups through the (visible) floating IP -----------------------------------------
    async def _fip(self, ctx: RequestContext, fip_id: str | None) -> dict[str, Any]:
        # Writes check their ports against every other forwarding (external ports of the
        # floating IP, the internal port's): one lock makes that check-then-write hold
        # across processes (no lock outside a transaction: reads take none).
        await self._store.lock("port_forwardings")
        return await self._bus.call(GetFloatingIp(ctx=ctx, id=fip_id or ""))

    async def _pf(
        self, ctx: RequestContext, fip_id: str | None, pf_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        fip = await self._fip(ctx, fip_id)
        pf = await self.lookup(pf_id)
        if pf is None or pf["floatingip_id"] != fip["id"]:
            raise PortForwardingNotFound(id=pf_id)
        return fip, pf

    async def get(self, cmd: GetCommand) -> dict[str, Any]:
        return (await self._pf(cmd.ctx, cmd.parent, cmd.id))[1]

    async def list_visible(self, cmd: ListCommand) -> Page:
        fip = await self._fip(cmd.ctx, cmd.parent)
        where = [Where("t.floatingip_id = ?", (fip["id"],))]
        return await repo.list_page(self._store, self.resource, cmd.query, where)

    async def _all(self, cmd: AllPortForwardings) -> list[dict[str, Any]]:
        return await repo.find(self._store, self.resource, Where("TRUE"))

    async def _of_fips(self, cmd: FipPortForwardings) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(cmd.fip_ids), 500):
            chunk = cmd.fip_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for pf in await repo.find(
                self._store, self.resource, Where(f"t.floatingip_id IN ({marks})", tuple(chunk))
            ):
                out.setdefault(pf["floatingip_id"], []).append(
                    {k: pf[k] for k in IN_FIP if pf.get(k) is not None or k.endswith("_port")}
                )
        return out

    # ---- writes --------------------------------------------------------------------------
    async def create(self, cmd: CreateCommand) -> list[dict[str, Any]]:
        async with self._store.transaction():
            fip = await self._fip(cmd.ctx, cmd.parent)
            check_write(cmd.ctx, fip, "create_floatingip_port_forwarding")
            if fip["port_id"]:
                raise errors.Conflict(
                    message=f"Floating IP {fip['id']} is associated with port {fip['port_id']}: "
                    "it cannot forward ports"
                )
            out = []
            for item in cmd.items:
                pf = defaults(self.resource, item)
                stamp_new(pf)
                pf.update(floatingip_id=fip["id"], project_id=fip["project_id"])
                pf["floating_ip_address"] = fip["floating_ip_address"]
                pf["sb_revision"] = 1
                await self._complete(cmd.ctx, fip, pf, item)
                await repo.insert(self._store, self.resource, pf)
                self._bus.publish(PortForwardingChanged(port_forwarding=dict(pf)))
                out.append(pf)
        return out

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        async with self._store.transaction():
            fip, pf = await self._pf(cmd.ctx, cmd.parent, cmd.id)
            check_write(cmd.ctx, fip, "update_floatingip_port_forwarding")
            merged = dict(pf)
            for side in ("internal", "external"):
                # The stored range stands for the side unless the update gives it anew.
                merged.pop(f"{side}_port")
                if f"{side}_port" in cmd.changes:
                    merged.pop(f"{side}_port_range")
            merged.update(cmd.changes)
            await self._complete(cmd.ctx, fip, merged, cmd.changes, updating=True)
            diff = changed(pf, {k: merged[k] for k in merged if k in pf})
            if diff:
                await self.write(pf, {**diff, "sb_revision": next_revision(pf, "sb_revision")})
                self._bus.publish(PortForwardingChanged(port_forwarding=dict(pf)))
        return pf

    async def delete(self, cmd: DeleteCommand) -> None:
        async with self._store.transaction():
            fip, pf = await self._pf(cmd.ctx, cmd.parent, cmd.id)
            check_write(cmd.ctx, fip, "delete_floatingip_port_forwarding")
            await repo.delete(self._store, self.resource, pf["id"])
            self._bus.publish(PortForwardingDeleted(port_forwarding=pf))

    # ---- checks ----------------------------------------------------------------------------
    async def _complete(
        self,
        ctx: RequestContext,
        fip: dict[str, Any],
        pf: dict[str, Any],
        given: dict[str, Any],
        updating: bool = False,
    ) -> None:
        """Resolve ports, ranges, internal address and router; refuse conflicts."""
        for side in ("external", "internal"):
            _ports(pf, side)
        port = await self._bus.call(GetPort(ctx=ctx, id=pf["internal_port_id"]))
        if not updating or "internal_port_id" in given:
            await self._check_port_free(port["id"])
        v4 = [f for f in port["fixed_ips"] if ipaddress.ip_address(f["ip_address"]).version == 4]
        address = pf.get("internal_ip_address")
        chosen = [f for f in v4 if address in (None, f["ip_address"])]
        if not chosen or (address is None and len(chosen) > 1):
            raise errors.BadRequest(
                resource="port_forwarding",
                msg=f"The requested internal IP address {address} is not a fixed IPv4 address "
                f"of port {port['id']}",
            )
        pf["internal_ip_address"] = chosen[0]["ip_address"]
        router_id = await self._bus.call(
            FindRouterForFloatingIp(
                network_id=fip["floating_network_id"], subnet_id=chosen[0]["subnet_id"]
            )
        )
        if router_id is None:
            raise errors.ExternalGatewayForFloatingIPNotFound(
                external_network_id=fip["floating_network_id"],
                subnet_id=chosen[0]["subnet_id"],
                port_id=port["id"],
            )
        pf["router_id"] = router_id
        await self._check_overlaps(pf)

    async def _check_port_free(self, port_id: str) -> None:
        """A port with a floating IP of its own cannot also be a forwarding target."""
        fip_id = await pf_repo.floating_ip_of_port(self._store, port_id)
        if fip_id is not None:
            raise errors.Conflict(
                message=f"Port {port_id} has floating IP {fip_id}: it cannot be the target of "
                "a port forwarding"
            )

    async def _check_overlaps(self, pf: dict[str, Any]) -> None:
        """One mapping per external port of a floating IP, one per internal endpoint."""
        others = await repo.find(
            self._store,
            self.resource,
            Where(
                "t.id != ? AND t.protocol = ? AND (t.floatingip_id = ? OR "
                "(t.internal_port_id = ? AND t.internal_ip_address = ?))",
                (
                    pf["id"],
                    pf["protocol"],
                    pf["floatingip_id"],
                    pf["internal_port_id"],
                    pf["internal_ip_address"],
                ),
            ),
        )
        for other in others:
            external = other["floatingip_id"] == pf["floatingip_id"] and _overlap(
                other["external_port_range"], pf["external_port_range"]
            )
            internal = (
                other["internal_port_id"] == pf["internal_port_id"]
                and other["internal_ip_address"] == pf["internal_ip_address"]
                and _overlap(other["internal_port_range"], pf["internal_port_range"])
            )
            if external or internal:
                raise PortForwardingConflict(
                    msg=f"A port forwarding with the same {'external' if external else 'internal'}"
                    f" endpoint already exists: {other['id']}"
                )


def _ports(pf: dict[str, Any], side: str) -> None:
    """Set `<side>_port` and `<side>_port_range` from whichever was given (exactly one)."""
    port, span = pf.get(f"{side}_port"), pf.get(f"{side}_port_range")
    if port is not None and span is not None:
        raise errors.BadRequest(
            resource="port_forwarding",
            msg=f"{side}_port and {side}_port_range cannot both be given",
        )
    if port is None and span is None:
        raise errors.BadRequest(
            resource="port_forwarding", msg=f"{side}_port or {side}_port_range is required"
        )
    first, last = (port, port) if port is not None else _bounds(str(span))
    pf[f"{side}_port"] = first if first == last else None
    pf[f"{side}_port_range"] = f"{first}:{last}"
    if side == "internal":
        external = _bounds(pf["external_port_range"])
        if last - first not in (0, external[1] - external[0]):
            raise errors.BadRequest(
                resource="port_forwarding",
                msg="The internal port range must have the size of the external one, or be one "
                "port",
            )


def _bounds(span: str) -> tuple[int, int]:
    first, last = span.split(":")
    return int(first), int(last)


def _overlap(a: str, b: str) -> bool:
    (a1, a2), (b1, b2) = _bounds(a), _bounds(b)
    return a1 <= b2 and b1 <= a2


__all__ = ["FipInUseByPortForwarding", "PortForwardingManager"]
