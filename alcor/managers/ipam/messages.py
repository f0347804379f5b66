"""IPAM contract: pools, allocations and availability (run inside the caller's transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from alcor.bus import Command
from alcor.resources.records import FixedIp


class Allocation(TypedDict):
    """One address of a subnet and the port holding it (`auto`: derived from its MAC)."""

    port_id: str
    ip_address: str
    auto: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSubnetPools(Command[None]):
    """(Re)build a subnet's free addresses from its allocation pools minus allocations."""

    subnet: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class DropSubnet(Command[None]):
    """Forget a deleted subnet's pools and every allocation in it."""

    subnet_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocatePortIps(Command[list[FixedIp]]):
    """Resolve a port's fixed_ips request (northbound §5.3) and return the new full list.

    `requested` None = automatic (create without fixed_ips). `current` is the port's present
    list on update: addresses asked for again are kept, the others released.
    """

    port_id: str
    network_id: str
    subnets: list[dict[str, Any]]
    requested: list[dict[str, Any]] | None
    mac: str
    current: list[FixedIp] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleasePortIps(Command[None]):
    """Release every address of a port (or only those of `subnet_id`)."""

    port_id: str
    subnet_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetAllocations(Command[list[Allocation]]):
    """Return a subnet's allocations: [{port_id, ip_address, auto}]."""

    subnet_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IpAllocated(Command[str | None]):
    """Return the port holding `ip` in the subnet, or None."""

    subnet_id: str
    ip: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetAvailability(Command[tuple[int, int]]):
    """Return (total pool addresses, used addresses) of a subnet; exact beyond 2^53."""

    subnet_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocateAutomaticIps(Command[list[list[FixedIp]]]):
    """Automatic addresses (§5.3, fixed_ips absent) for many new ports at once (bulk)."""

    network_id: str
    subnets: list[dict[str, Any]]
    port_ids: list[str]
    macs: list[str]
