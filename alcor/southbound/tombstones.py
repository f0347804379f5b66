"""DELETE revisions of resources that are gone (southbound spec §4.1).

Deletes seen since start are kept in memory; anything older (after a restart) is read
from the store's `tombstones` table, which the managers write in the deleting transaction:
`prefetch` reads the ones a message may need before it is built (building never waits).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

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

TombstoneReader = Callable[[str, str], Awaitable["int | None"]]


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
        """Return the tombstone of `key` if seen since start or prefetched, else None."""
        return self._known.get(key)

    async def prefetch(
        self,
        keys: Iterable[Key],
        current: Callable[[str, str], int | None],
        held: Callable[[Key], bool],
    ) -> None:
        """Read the stored tombstones of held keys with no current revision (read once)."""
        if self._read is None:
            return
        for key in keys:
            if key in self._known or not held(key) or current(*key) is not None:
                continue
            kind = STORED_KIND.get(key[0])
            if kind is None:
                continue
            resource_id = port_of_neighbor(key[1]) if key[0] == NEIGHBOR else key[1]
            revision = await self._read(kind, resource_id)
            if revision is not None:
                self._known[key] = revision
