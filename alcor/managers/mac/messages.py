"""MAC manager contract."""

from __future__ import annotations

from dataclasses import dataclass

from alcor.bus import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocateMac(Command[str]):
    """Reserve `mac` (validated, unique per network) or generate one unique everywhere."""

    network_id: str
    owner: str
    mac: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseMac(Command[None]):
    """Release a MAC of a network, if `owner` holds it (a borrowed MAC stays reserved)."""

    network_id: str
    mac: str
    owner: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseNetworkMacs(Command[None]):
    """Release every MAC of a deleted network."""

    network_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocateMacs(Command[list[str]]):
    """Generate one unique MAC per owner in one go (bulk creates)."""

    network_id: str
    owners: list[str]
