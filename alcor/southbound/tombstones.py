"""DELETE revisions of resources that are gone (southbound spec §4.1).

Deletes seen since start are kept in memory; anything older (after a restart) is read
from the store's `tombstones` table, which the managers write in the deleting transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from alcor.southbound.view import (
    DHCP,
    NEIGHBOR,
    PORT,
    ROUTER,
    SECURITYGROUP,
    SUBNET,
    VPC,
    Key,
    port_of_neighbor,
)

# The managers' tombstone kinds, per southbound kind.
STORED_KIND = {
    PORT: "port",
    DHCP: "port",
    NEIGHBOR: "neighbor",
    SUBNET: "subnet",
    VPC: "network",
    ROUTER: "router",
    SECURITYGROUP: "security_group",
}

TombstoneReader = Callable[[str, str], "int | None"]


class Tombstones:
    """Last-plus-one revisions of deleted resources, by southbound key."""

    def __init__(self, read: TombstoneReader | None = None) -> None:
        self._known: dict[Key, int] = {}
        self._read = read

    def __setitem__(self, key: Key, revision: int) -> None:
        self._known[key] = revision

    def __contains__(self, key: Key) -> bool:
        return key in self._known

    def get(self, key: Key) -> int | None:
        """Return the tombstone seen since start, or None."""
        return self._known.get(key)

    def lookup(self, key: Key) -> int | None:
        """Return the stored tombstone of `key` (read once, then remembered), or None."""
        known = self._known.get(key)
        if known is not None or self._read is None:
            return known
        kind = STORED_KIND.get(key[0])
        if kind is None:
            return None
        resource_id = port_of_neighbor(key[1]) if key[0] == NEIGHBOR else key[1]
        revision = self._read(kind, resource_id)
        if revision is not None:
            self._known[key] = revision
        return revision
