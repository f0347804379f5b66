"""The durable state of channel selection (`auto` nodes, southbound spec §2.5).

Three tables (alcor/store/schema.py, migration `southbound_channels`): which VPCs travel on
their topic, which hosts are subscribed, and what was published on each topic (a row is
written before its record is produced, so after a crash every record a topic may hold is
known and a DELETE can follow a port that went away while the controller was down).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from alcor.store import Store


@dataclass
class ChannelState:
    """What channel selection knew at the last stop."""

    mq: set[str] = field(default_factory=set)
    subscribed: set[tuple[str, str]] = field(default_factory=set)  # (node, vpc)
    published: dict[str, dict[str, tuple[int, bool]]] = field(default_factory=dict)


async def load(db: Store) -> ChannelState:
    """Return the persisted channel state."""
    state = ChannelState()
    state.mq = {row[0] for row in await db.fetch("SELECT vpc_id FROM sb_vpc_channels")}
    state.subscribed = {
        (row[0], row[1])
        for row in await db.fetch("SELECT node_id, vpc_id FROM sb_vpc_subscriptions")
    }
    for vpc, port, revision, present in await db.fetch(
        "SELECT vpc_id, port_id, revision, present FROM sb_vpc_published"
    ):
        state.published.setdefault(vpc, {})[port] = (revision, bool(present))
    return state


async def set_mq(db: Store, vpc: str, on: bool) -> None:
    """Record that a VPC travels on its topic (or no longer), with what it published."""
    if on:
        await db.execute(
            "INSERT INTO sb_vpc_channels (vpc_id) VALUES (?) ON CONFLICT DO NOTHING", [vpc]
        )
    else:
        await db.execute("DELETE FROM sb_vpc_channels WHERE vpc_id = ?", [vpc])
        await db.execute("DELETE FROM sb_vpc_published WHERE vpc_id = ?", [vpc])


async def set_subscribed(db: Store, node_id: str, vpc: str, on: bool) -> None:
    """Record a host's subscription to a VPC topic (or its end)."""
    if on:
        await db.execute(
            "INSERT INTO sb_vpc_subscriptions (node_id, vpc_id) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            [node_id, vpc],
        )
    else:
        await db.execute(
            "DELETE FROM sb_vpc_subscriptions WHERE node_id = ? AND vpc_id = ?", [node_id, vpc]
        )


async def will_publish(db: Store, vpc: str, records: Iterable[tuple[str, int, bool]]) -> None:
    """Record what is about to be produced to a VPC topic: (port, revision, present)."""
    await db.executemany(
        "INSERT INTO sb_vpc_published (vpc_id, port_id, revision, present) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (vpc_id, port_id) DO UPDATE SET revision = excluded.revision, "
        "present = excluded.present",
        [(vpc, port, revision, int(present)) for port, revision, present in records],
    )
