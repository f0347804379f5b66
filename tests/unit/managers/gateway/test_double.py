"""The Zeta double behaves as Zeta's code does (southbound spec §8.4), 500s and 405s."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.zeta_double import ZetaDouble

PORT = {
    "port_id": "p1",
    "vpc_id": "v1",
    "ips_port": [{"ip": "10.0.0.5", "vip": ""}],
    "mac_port": "fa:16:3e:00:00:01",
    "ip_node": "192.0.2.1",
    "mac_node": "52:54:00:00:00:01",
}


@pytest.fixture
async def zeta() -> AsyncIterator[tuple[ZetaDouble, TestClient]]:
    double = ZetaDouble()
    double.create_zgc()
    async with TestClient(TestServer(double.app())) as client:
        yield double, client


async def status(client, method, path, body=None):
    async with client.request(method, path, json=body) as resp:
        return resp.status


async def test_vpc_create_answer_and_duplicate(zeta):
    """201 with zgc_id, gws and port_ibo (a string); the same id again is a 500."""
    double, client = zeta
    async with client.post("/vpcs", json={"vpc_id": "v1", "vni": 7}) as resp:
        assert resp.status == 201
        answer = await resp.json()
    assert answer["zgc_id"] == next(iter(double.zgcs)) and answer["port_ibo"] == "8300"
    assert len(answer["gws"]) == 3
    assert await status(client, "POST", "/vpcs", {"vpc_id": "v1", "vni": 7}) == 500
    assert await status(client, "POST", "/vpcs", {"vpc_id": "v2", "vni": 8, "vpc_vni": 8}) == 500


async def test_unknown_ids_are_500_and_array_writes_405(zeta):
    """Zeta's blunt errors: unknown id 500, array PUT/DELETE of /ports 405."""
    _, client = zeta
    for method in ("GET", "PUT", "DELETE"):
        assert await status(client, method, "/ports/nope", {"mac_port": "x"}) == 500
    assert await status(client, "GET", "/vpcs/nope") == 500
    assert await status(client, "DELETE", "/vpcs/nope") == 500
    assert await status(client, "PUT", "/ports", [PORT]) == 405
    assert await status(client, "DELETE", "/ports", [PORT]) == 405


async def test_ports_need_a_known_vni_and_are_not_idempotent(zeta):
    """Ports of a VPC whose VNI Zeta lacks are a 500; a port twice is a 500."""
    double, client = zeta
    assert await status(client, "POST", "/ports", [PORT]) == 500
    await status(client, "POST", "/vpcs", {"vpc_id": "v1", "vni": 7})
    assert await status(client, "POST", "/ports", [PORT]) == 201
    assert await status(client, "POST", "/ports", [PORT]) == 500
    assert await status(client, "DELETE", "/vpcs/v1") == 500  # a port references it
    assert await status(client, "PUT", "/ports/p1", {"mac_port": "fa:16:3e:00:00:09"}) == 200
    assert double.ports["p1"]["mac_port"] == "fa:16:3e:00:00:09"


async def test_restart_forgets_vnis_and_the_zgc_but_not_rows(zeta):
    """After a restart: rows stay, GET /vpcs/{id} and POST /vpcs and /ports answer 500."""
    double, client = zeta
    await status(client, "POST", "/vpcs", {"vpc_id": "v1", "vni": 7})
    double.restart()
    assert "v1" in double.vpcs
    assert await status(client, "GET", "/vpcs/v1") == 500
    assert await status(client, "POST", "/vpcs", {"vpc_id": "v2", "vni": 8}) == 500
    assert await status(client, "POST", "/ports", [PORT]) == 500
    double.create_zgc()
    assert await status(client, "GET", "/vpcs/v1") == 200  # the old row reads again
    assert await status(client, "POST", "/ports", [PORT]) == 500  # its VNI is still gone


async def test_fault_switches(zeta):
    """fail_next answers 500 doing nothing; commit_then_fail does the work, then 500."""
    double, client = zeta
    double.fail_next(1)
    assert await status(client, "POST", "/vpcs", {"vpc_id": "v1", "vni": 7}) == 500
    assert double.vpcs == {}
    double.commit_then_fail(1)
    assert await status(client, "POST", "/vpcs", {"vpc_id": "v1", "vni": 7}) == 500
    assert "v1" in double.vpcs
    assert [(c.method, c.status) for c in double.calls] == [("POST", 500), ("POST", 500)]
