"""The schema agrees with the attribute tables that validate and render resources."""

from __future__ import annotations

import pytest

import alcor.app  # noqa: F401 - importing the managers registers their extra columns
from alcor.resources import repo
from alcor.resources.base import Resource
from alcor.resources.floatingip import FLOATINGIP
from alcor.resources.network import NETWORK
from alcor.resources.network_acl import NETWORK_ACL, NETWORK_ACL_RULE
from alcor.resources.node import NODE
from alcor.resources.port import PORT
from alcor.resources.router import ROUTER
from alcor.resources.security_group import SECURITY_GROUP, SECURITY_GROUP_RULE
from alcor.resources.subnet import SUBNET
from alcor.resources.subnetpool import SUBNETPOOL
from alcor.store import Store
from alcor.store.schema import LISTED

RESOURCES: list[Resource] = [
    NETWORK,
    SUBNET,
    PORT,
    NODE,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    ROUTER,
    FLOATINGIP,
    SUBNETPOOL,
    NETWORK_ACL,
    NETWORK_ACL_RULE,
]


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
