"""The generic repository: a lean read of chosen attributes decodes only those."""

from __future__ import annotations

import pytest

import alcor.app  # noqa: F401 - importing the managers registers their extra columns
from alcor.resources import repo
from alcor.resources.port import PORT
from alcor.southbound.topology import PORT_FIELDS
from alcor.store import Store

STORED = {
    "id": "p1",
    "project_id": "proj",
    "network_id": "n1",
    "name": "web",
    "description": "d",
    "mac_address": "fa:16:3e:00:00:01",
    "admin_state_up": True,
    "status": "DOWN",
    "device_id": "vm",
    "device_owner": "compute:nova",
    "revision_number": 3,
    "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}],
    "security_groups": ["g1"],
    "allowed_address_pairs": [],
    "extra_dhcp_opts": [],
    "tags": ["a"],
    "binding:host_id": "h1",
    "binding:vif_type": "ovs",
    "binding:profile": {"k": "v"},
    "neighbor_revision": 2,
    "network_project_id": "proj",
}


@pytest.fixture
async def db(memory_db: Store) -> Store:
    """The schema with one stored port."""
    await repo.insert(memory_db, PORT, STORED)
    return memory_db


async def test_find_with_names_reads_exactly_those_attributes(db):
    """The topology's fields come back decoded (lists, bools, extra columns), nothing else."""
    (port,) = await repo.find(db, PORT, repo.Where("TRUE"), names=PORT_FIELDS)
    assert set(port) == set(PORT_FIELDS)
    assert port["fixed_ips"] == STORED["fixed_ips"] and port["admin_state_up"] is True
    assert port["neighbor_revision"] == 2 and port["security_groups"] == ["g1"]


async def test_find_without_names_reads_every_attribute(db):
    """The default read is the whole stored object."""
    (port,) = await repo.find(db, PORT, repo.Where("TRUE"))
    assert port["tags"] == ["a"] and port["binding:profile"] == {"k": "v"}
    assert port["description"] == "d"
