"""IPAM manager: address pools as free ranges; allocations unique per subnet."""

from __future__ import annotations

import ipaddress
from typing import Any

import netaddr

from alcor import errors
from alcor.bus import Bus
from alcor.managers.ipam import repo
from alcor.managers.ipam.messages import (
    AllocateAutomaticIps,
    AllocatePortIps,
    Allocation,
    DropSubnet,
    IpAllocated,
    ReleasePortIps,
    SetSubnetPools,
    SubnetAllocations,
    SubnetAvailability,
)
from alcor.resources.records import FixedIp
from alcor.store import Store, ranges

AUTO_MODES = ("slaac", "dhcpv6-stateless")


def is_auto_subnet(subnet: dict[str, Any]) -> bool:
    """Return True for IPv6 subnets whose addresses are derived from the MAC (EUI-64)."""
    return subnet["ip_version"] == 6 and subnet.get("ipv6_address_mode") in AUTO_MODES


def eui64(cidr: str, mac: str) -> str:
    """Return the EUI-64 address of `mac` in the /64 `cidr`."""
    return str(ipaddress.ip_address(str(netaddr.EUI(mac).ipv6(netaddr.IPNetwork(cidr).first))))


def _pool(subnet_id: str) -> str:
    return f"subnet:{subnet_id}"


def _int(ip: str) -> int:
    return int(ipaddress.ip_address(ip))


def _text(value: int, version: int) -> str:
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return str(cls(value))


class IpamManager:
    """Allocate and release fixed IPs inside the caller's transaction."""

    name = "ipam"
    requires = ("store", "bus")

    def __init__(self, bus: Bus, store: Store) -> None:
        self._bus = bus
        self._store = store

    async def start(self) -> None:
        """Register the IPAM commands."""
        self._bus.handle(SetSubnetPools, self._set_pools)
        self._bus.handle(DropSubnet, self._drop)
        self._bus.handle(AllocatePortIps, self._allocate)
        self._bus.handle(ReleasePortIps, self._release)
        self._bus.handle(AllocateAutomaticIps, self._allocate_automatic)
        self._bus.handle(SubnetAllocations, self._allocations)
        self._bus.handle(IpAllocated, self._holder)
        self._bus.handle(SubnetAvailability, self._availability)

    async def stop(self) -> None:
        """Own nothing."""

    # ---- pools -------------------------------------------------------------------------
    async def _set_pools(self, cmd: SetSubnetPools) -> None:
        db = self._store
        subnet_id = cmd.subnet["id"]
        bounds = [(_int(p["start"]), _int(p["end"])) for p in cmd.subnet["allocation_pools"]]
        await repo.set_pools(db, subnet_id, bounds)
        await ranges.reset(db, _pool(subnet_id), bounds, await repo.allocated_values(db, subnet_id))

    async def _drop(self, cmd: DropSubnet) -> None:
        db = self._store
        await ranges.drop(db, _pool(cmd.subnet_id))
        await repo.drop_subnet(db, cmd.subnet_id)

    # ---- allocation --------------------------------------------------------------------
    async def _allocate(self, cmd: AllocatePortIps) -> list[FixedIp]:
        subnets = {s["id"]: s for s in cmd.subnets}
        if cmd.requested is None:
            wanted = self._automatic(cmd.subnets)
        else:
            held = {(e["subnet_id"], e["ip_address"]) for e in cmd.current}
            wanted = [self._resolve(item, cmd.subnets, subnets, held) for item in cmd.requested]
        # On auto-address subnets a subnet-only request means the EUI-64 of the port's MAC,
        # so a MAC change re-derives it and an unchanged one is kept.
        wanted = [
            (subnet_id, eui64(subnets[subnet_id]["cidr"], cmd.mac))
            if ip is None and subnet_id in subnets and is_auto_subnet(subnets[subnet_id])
            else (subnet_id, ip)
            for subnet_id, ip in wanted
        ]
        kept, fresh = _match_current(wanted, cmd.current)
        _reject_duplicates(wanted)
        for entry in cmd.current:
            if entry not in kept:
                await self._release_one(entry["subnet_id"], entry["ip_address"])
        result = list(kept)
        for subnet_id, ip in fresh:
            if subnet_id in (ANY_V4, ANY_V6):
                subnet, address = await self._take_first_free(
                    cmd.subnets, subnet_id, cmd.network_id
                )
            else:
                subnet = subnets[subnet_id]
                address = await self._take(subnet, ip, cmd.mac, cmd.network_id)
            await self._record(subnet, address, cmd.port_id, cmd.network_id)
            result.append({"subnet_id": subnet["id"], "ip_address": address})
        order = {s["id"]: i for i, s in enumerate(cmd.subnets)}
        result.sort(key=lambda e: (order.get(e["subnet_id"], 0), _int(e["ip_address"])))
        return result

    async def _allocate_automatic(self, cmd: AllocateAutomaticIps) -> list[list[FixedIp]]:
        """Bulk form of the automatic allocation: ranges consumed once per subnet."""
        db = self._store
        count = len(cmd.port_ids)
        per_port: list[list[FixedIp]] = [[] for _ in range(count)]
        rows: list[tuple[Any, ...]] = []
        for version in (4, 6):
            remaining = list(range(count))
            candidates = [
                s for s in cmd.subnets if s["ip_version"] == version and not is_auto_subnet(s)
            ]
            for subnet in candidates:
                values = await ranges.take_many(db, _pool(subnet["id"]), len(remaining))
                # The pool may hold fewer addresses than asked: zip stops at the shorter.
                rows.extend(
                    self._row(subnet, index, _text(value, version), cmd, per_port)
                    for index, value in zip(remaining, values, strict=False)
                )
                remaining = remaining[len(values) :]
                if not remaining:
                    break
            if candidates and remaining:
                raise errors.IpAddressGenerationFailure(net_id=cmd.network_id)
        for subnet in (s for s in cmd.subnets if is_auto_subnet(s)):
            for index in range(count):
                ip = eui64(subnet["cidr"], cmd.macs[index])
                rows.append(self._row(subnet, index, ip, cmd, per_port))
        await repo.insert_allocations(db, rows)
        order = {s["id"]: i for i, s in enumerate(cmd.subnets)}
        for fixed in per_port:
            if len(fixed) > 1:
                fixed.sort(key=lambda e: (order.get(e["subnet_id"], 0), _int(e["ip_address"])))
        return per_port

    @staticmethod
    def _row(
        subnet: dict[str, Any],
        index: int,
        ip: str,
        cmd: AllocateAutomaticIps,
        per_port: list[list[FixedIp]],
    ) -> tuple[Any, ...]:
        per_port[index].append({"subnet_id": subnet["id"], "ip_address": ip})
        return (
            subnet["id"],
            ranges.key(_int(ip)),
            ip,
            cmd.port_ids[index],
            cmd.network_id,
            1 if is_auto_subnet(subnet) else 0,
        )

    @staticmethod
    def _automatic(subnets: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        wanted: list[tuple[str, str | None]] = []
        v4 = [s for s in subnets if s["ip_version"] == 4]
        v6 = [s for s in subnets if s["ip_version"] == 6 and not is_auto_subnet(s)]
        # One address of each version: the first subnet with a free address (ANY marks it).
        if v4:
            wanted.append((ANY_V4, None))
        if v6:
            wanted.append((ANY_V6, None))
        wanted.extend((s["id"], None) for s in subnets if is_auto_subnet(s))
        return wanted

    def _resolve(
        self,
        item: dict[str, Any],
        subnets: list[dict[str, Any]],
        by_id: dict[str, dict[str, Any]],
        held: set[tuple[str, str]],
    ) -> tuple[str, str | None]:
        ip = item.get("ip_address")
        subnet_id = item.get("subnet_id")
        if subnet_id is not None and subnet_id not in by_id:
            raise errors.InvalidInput(
                error_message=f"Failed to create port on network, "
                f"because fixed_ips included invalid subnet "
                f"{subnet_id}"
            )
        if ip is None:
            if subnet_id is None:
                raise errors.HTTPBadRequest(
                    msg="Invalid input for fixed_ips. Reason: each item needs subnet_id or "
                    "ip_address."
                )
            return subnet_id, None
        address = ipaddress.ip_address(ip)
        if subnet_id is None:
            for subnet in subnets:
                if address in ipaddress.ip_network(subnet["cidr"]):
                    subnet_id = subnet["id"]
                    break
            else:
                raise errors.InvalidIpForNetwork(ip_address=ip)
        subnet = by_id[subnet_id]
        if not _usable(subnet, address):
            raise errors.InvalidIpForSubnet(ip_address=ip)
        # Listing an address the port already holds is fine (clients send the whole list
        # back); only new explicit addresses are refused on auto-address subnets.
        if (
            is_auto_subnet(subnet)
            and ip != subnet.get("gateway_ip")
            and (subnet_id, str(address)) not in held
        ):
            raise errors.InvalidInput(
                error_message=f"IPv6 address {ip} cannot be directly "
                f"assigned to a port on subnet {subnet_id} "
                f"with {subnet['ipv6_address_mode']} address "
                f"mode"
            )
        return subnet_id, str(address)

    async def _take_first_free(
        self, subnets: list[dict[str, Any]], which: str, network_id: str
    ) -> tuple[dict[str, Any], str]:
        """Take the lowest free address of the first subnet (creation order) that has one."""
        version = 4 if which == ANY_V4 else 6
        for subnet in subnets:
            if subnet["ip_version"] != version or is_auto_subnet(subnet):
                continue
            value = await ranges.take_lowest(self._store, _pool(subnet["id"]))
            if value is not None:
                return subnet, _text(value, version)
        raise errors.IpAddressGenerationFailure(net_id=network_id)

    async def _take(self, subnet: dict[str, Any], ip: str | None, mac: str, network_id: str) -> str:
        db = self._store
        pool = _pool(subnet["id"])
        if ip is None and is_auto_subnet(subnet):
            ip = eui64(subnet["cidr"], mac)
        if ip is None:
            value = await ranges.take_lowest(db, pool)
            if value is None:
                raise errors.IpAddressGenerationFailure(net_id=network_id)
            return _text(value, subnet["ip_version"])
        if (
            not await ranges.take(db, pool, _int(ip))
            and await self._holder_of(subnet["id"], ip) is not None
        ):
            raise errors.IpAddressAlreadyAllocated(ip=ip, subnet_id=subnet["id"])
        return ip

    async def _record(self, subnet: dict[str, Any], ip: str, port_id: str, network_id: str) -> None:
        # The gateway address of an auto-address subnet (a router interface) is explicit,
        # not automatic: it must block the subnet's deletion like any other (§4.2).
        auto = is_auto_subnet(subnet) and ip != subnet.get("gateway_ip")
        await repo.insert_allocation(
            self._store, subnet["id"], _int(ip), ip, port_id, network_id, auto
        )

    async def _holder_of(self, subnet_id: str, ip: str) -> str | None:
        return await repo.holder(self._store, subnet_id, _int(ip))

    async def _release_one(self, subnet_id: str, ip: str) -> None:
        db, value = self._store, _int(ip)
        await repo.delete_allocation(db, subnet_id, value)
        if await repo.in_pools(db, subnet_id, value):
            await ranges.give_back(db, _pool(subnet_id), value)

    async def _release(self, cmd: ReleasePortIps) -> None:
        for subnet_id, ip in await repo.port_allocations(self._store, cmd.port_id, cmd.subnet_id):
            await self._release_one(subnet_id, ip)

    # ---- queries -----------------------------------------------------------------------
    async def _allocations(self, cmd: SubnetAllocations) -> list[Allocation]:
        return [
            {"port_id": port, "ip_address": ip, "auto": auto}
            for port, ip, auto in await repo.subnet_allocations(self._store, cmd.subnet_id)
        ]

    async def _holder(self, cmd: IpAllocated) -> str | None:
        return await self._holder_of(cmd.subnet_id, cmd.ip)

    async def _availability(self, cmd: SubnetAvailability) -> tuple[int, int]:
        db = self._store
        total = sum(last - first + 1 for first, last in await repo.pool_bounds(db, cmd.subnet_id))
        return total, await repo.count_allocations(db, cmd.subnet_id)


ANY_V4 = "*v4"
ANY_V6 = "*v6"


def _usable(subnet: dict[str, Any], address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    network = ipaddress.ip_network(subnet["cidr"])
    if address not in network:
        return False
    if address == network.network_address and network.prefixlen < network.max_prefixlen - 1:
        return False
    return not (
        network.version == 4 and address == network.broadcast_address and network.prefixlen < 31
    )


def _match_current(
    wanted: list[tuple[str, str | None]], current: list[FixedIp]
) -> tuple[list[FixedIp], list[tuple[str, str | None]]]:
    """Split the request into entries kept from `current` and entries to allocate.

    Explicit addresses are matched first; a subnet-only item then reuses an address the
    port still holds on that subnet that no explicit item claimed (as Neutron does).
    """
    kept: list[FixedIp] = []
    fresh: list[tuple[str, str | None]] = []
    for explicit in (True, False):
        for subnet_id, ip in wanted:
            if (ip is not None) != explicit:
                continue
            match = next(
                (
                    e
                    for e in current
                    if e not in kept
                    and e["subnet_id"] == subnet_id
                    and (ip is None or e["ip_address"] == ip)
                ),
                None,
            )
            if match is not None:
                kept.append(match)
            else:
                fresh.append((subnet_id, ip))
    return kept, fresh


def _reject_duplicates(wanted: list[tuple[str, str | None]]) -> None:
    seen: set[tuple[str, str]] = set()
    for subnet_id, ip in wanted:
        if ip is None:
            continue
        if (subnet_id, ip) in seen:
            raise errors.IpAddressAlreadyAllocated(ip=ip, subnet_id=subnet_id)
        seen.add((subnet_id, ip))
