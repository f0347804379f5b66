"""The schema agrees with the attribute tables that validate and render resources."""

from __future__ import annotations

import pytest
import sqlite_utils

import alcor.app  # noqa: F401 - importing the managers registers their extra columns
from alcor.resources import repo
from alcor.resources.network import NETWORK
from alcor.resources.node import NODE
from alcor.resources.port import PORT
from alcor.resources.security_group import SECURITY_GROUP, SECURITY_GROUP_RULE
from alcor.resources.subnet import SUBNET
from alcor.store.schema import MIGRATIONS


@pytest.fixture(scope="module")
def db() -> sqlite_utils.Database:
    """An in-memory database with every migration applied."""
    database = sqlite_utils.Database(memory=True)
    for migration in MIGRATIONS:
        migration(database)
    return database


@pytest.mark.parametrize(
    "resource",
    [NETWORK, SUBNET, PORT, NODE, SECURITY_GROUP, SECURITY_GROUP_RULE],
    ids=lambda r: r.name,
)
def test_every_stored_attribute_has_a_column(db, resource):
    """Each attribute (and registered internal column) of a resource has its table column."""
    columns = set(db[resource.table].columns_dict)
    wanted = set(repo.codec(resource).columns)
    assert wanted <= columns, sorted(wanted - columns)


def test_lookup_columns_are_indexed(db):
    """Hot lookups (ports by network/host/device, nodes by local_ip) use indexes."""

    def indexed(table: str) -> set[str]:
        return {idx.columns[0] for idx in db[table].indexes}

    assert {"network_id", "binding_host_id", "device_id", "project_id"} <= indexed("ports")
    assert {"local_ip", "node_name"} <= indexed("nodes")
    assert {"port_id"} <= indexed("ip_allocations")
