"""The schema agrees with the attribute tables that validate and render resources."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import alcor.app
import alcor.resources
from alcor.resources import repo
from alcor.resources.base import Resource
from alcor.store import Store
from alcor.store.schema import LISTED


def _all_resources() -> list[Resource]:
    """Every resource a module of alcor.resources defines (each is stored in its table)."""
    found: dict[str, Resource] = {}
    for info in pkgutil.iter_modules(alcor.resources.__path__):
        module = importlib.import_module(f"alcor.resources.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Resource):
                found.setdefault(value.table, value)
    return sorted(found.values(), key=lambda r: r.table)


RESOURCES = _all_resources()


async def _columns(db: Store, table: str) -> set[str]:
    return {row[1] for row in await db.fetch(f"PRAGMA table_info({table})")}


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
async def test_every_stored_attribute_has_a_column(memory_db, resource):
    """Each attribute (and registered internal column) of a resource has its table column."""
    columns = await _columns(memory_db, resource.table)
    wanted = set(repo.codec(resource).columns)
    assert wanted <= columns, sorted(wanted - columns)


def test_list_values_hold_exactly_the_filtered_list_attributes():
    """The migration copied the list attributes the repository mirrors, and no other."""
    mirrored = {(r.table, column) for r in RESOURCES for _, column in repo.codec(r).listed}
    assert mirrored == set(LISTED)


async def test_lookup_columns_are_indexed(memory_db):
    """Hot lookups (ports by network/host/device, nodes by local_ip) use indexes."""

    async def indexed(table: str) -> set[str]:
        firsts = set()
        for index in await memory_db.fetch(f"PRAGMA index_list({table})"):
            info = await memory_db.fetch(f"PRAGMA index_info({index[1]})")
            firsts.add(info[0][2])
        return firsts

    assert {"network_id", "binding_host_id", "device_id", "project_id"} <= await indexed("ports")
    assert {"local_ip", "node_name"} <= await indexed("nodes")
    assert {"port_id"} <= await indexed("ip_allocations")
