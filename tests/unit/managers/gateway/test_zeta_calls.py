"""Outbox rows to Zeta calls, against the double: probes, batching, wrong answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from alcor.gateway.client import ZetaHttpClient as ZetaClient
from alcor.managers.gateway.messages import PORT_CREATE, PORT_DELETE, VPC_CREATE, VPC_DELETE
from alcor.managers.gateway.state import _content
from alcor.managers.gateway.worker import backoff
from alcor.managers.gateway.zeta import ZetaCalls
from alcor.store.outbox import Row
from tests.zeta_double import ZetaDouble, served

VPC = "v1"


def row(row_id: int, kind: str, target: str, payload: dict[str, Any], attempts: int = 0) -> Row:
    return Row(row_id, kind, VPC, target, payload, 0.0, attempts, 0.0, None, None, None, None)


def port_row(row_id: int, port_id: str, attempts: int = 0) -> Row:
    body = {
        "port_id": port_id,
        "vpc_id": VPC,
        "ips_port": [{"ip": "10.0.0.5", "vip": ""}],
        "mac_port": "fa:16:3e:00:00:01",
        "ip_node": "192.0.2.1",
        "mac_node": "52:54:00:00:00:01",
    }
    return row(row_id, PORT_CREATE, port_id, body, attempts)


@pytest.fixture
async def double() -> AsyncIterator[ZetaDouble]:
    async with served() as zeta:
        yield zeta


@pytest.fixture
async def calls(double) -> AsyncIterator[ZetaCalls]:
    client = ZetaClient(double.url, timeout_s=2.0)
    await client.start()
    yield ZetaCalls(client, port_batch=3)
    await client.stop()


def test_backoff_doubles_from_the_base_up_to_the_cap_with_jitter():
    """The n-th retry waits between half and all of min(cap, base * 2^(n-1))."""
    for attempts, ceiling in ((1, 1.0), (2, 2.0), (5, 16.0), (9, 256.0), (10, 300.0), (40, 300.0)):
        delays = [backoff(attempts, 1.0, 300.0) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempts
        assert len(set(delays)) > 1  # jittered


def test_backoff_survives_a_row_failing_for_ever():
    """A row retried thousands of times (a short cap) still gets a delay, not an
    OverflowError that ends its lane."""
    assert 0.025 <= backoff(5000, 0.01, 0.05) <= 0.05


def test_take_batches_consecutive_port_creates_up_to_port_batch():
    """Port creates go together (at most port_batch); any other kind goes alone."""
    calls = ZetaCalls(ZetaClient("http://127.0.0.1:1", 1.0), port_batch=3)
    ports = [port_row(i, f"p{i}") for i in range(1, 6)]
    assert [r.id for r in calls.take(ports)] == [1, 2, 3]
    delete = row(9, PORT_DELETE, "p1", {"port_id": "p1"})
    assert [r.id for r in calls.take([*ports[:2], delete, ports[2]])] == [1, 2]
    assert [r.id for r in calls.take([delete, *ports])] == [9]


async def test_vpc_create_retry_reads_first_and_finds_it(calls, double):
    """A retried create of a VPC Zeta has is done by the GET alone."""
    create = row(1, VPC_CREATE, VPC, {"vpc_id": VPC, "vni": 7})
    assert (await calls.send([create])).done == {1: "sent"}
    again = await calls.send([row(1, VPC_CREATE, VPC, {"vpc_id": VPC, "vni": 7}, attempts=1)])
    assert again.done == {1: "found"} and again.vpc["zgc_id"]
    assert [(c.method, c.path) for c in double.calls] == [
        ("POST", "/vpcs"),
        ("GET", f"/vpcs/{VPC}"),
    ]


async def test_port_batch_retry_sends_only_the_missing(calls, double):
    """After an unknown outcome, ports found at Zeta are done; only the others are sent."""
    await calls.send([row(1, VPC_CREATE, VPC, {"vpc_id": VPC, "vni": 7})])
    await calls.send([port_row(2, "p1")])
    result = await calls.send([port_row(2, "p1", attempts=1), port_row(3, "p2", attempts=1)])
    assert result.done == {2: "found", 3: "sent"} and not result.lost_signal
    assert double.calls[-1].body == [port_row(3, "p2").payload]


async def test_delete_of_something_gone_is_done(calls, double):
    """Zeta answers 500 to a DELETE of an unknown id; a GET confirms it is gone."""
    result = await calls.send([row(1, PORT_DELETE, "p9", {"port_id": "p9"})])
    assert result.done == {1: "gone"}
    assert [(c.method, c.status) for c in double.calls] == [("DELETE", 500), ("GET", 500)]


async def test_vpc_with_ports_is_not_deleted(calls, double):
    """A VPC delete Zeta refuses (ports reference it) fails, visible, to be retried."""
    await calls.send([row(1, VPC_CREATE, VPC, {"vpc_id": VPC, "vni": 7})])
    await calls.send([port_row(2, "p1")])
    result = await calls.send([row(3, VPC_DELETE, VPC, {"vpc_id": VPC})])
    assert result.done == {} and "still there" in result.error


async def test_lost_vnis_are_signalled(calls, double):
    """After Zeta's restart a port create is refused, its VPC unreadable: lost signal."""
    await calls.send([row(1, VPC_CREATE, VPC, {"vpc_id": VPC, "vni": 7})])
    double.restart()
    result = await calls.send([port_row(2, "p1")])
    assert result.lost_signal and result.done == {}


async def test_unreachable_zeta_fails_the_attempt(double):
    """Nothing listening: the attempt fails with the reason, nothing is done."""
    client = ZetaClient("http://127.0.0.1:9", timeout_s=1.0)
    await client.start()
    try:
        result = await ZetaCalls(client, 3).send([port_row(1, "p1", attempts=1)])
    finally:
        await client.stop()
    assert result.done == {} and result.error.startswith("zeta unreachable")


async def test_wrong_answers_are_failures_not_crashes():
    """A Zeta answering 200 with HTML to POST /vpcs: not done, the answer is the error."""

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy</html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", html)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = ZetaClient(str(server.make_url("")).rstrip("/"), timeout_s=1.0)
    await client.start()
    try:
        result = await ZetaCalls(client, 3).send(
            [row(1, VPC_CREATE, VPC, {"vpc_id": VPC, "vni": 7})]
        )
    finally:
        await client.stop()
        await server.close()
    assert result.done == {} and "<html>proxy</html>" in result.error


def test_zeta_answer_is_parsed_defensively():
    """port_ibo "8300" is an int; entries that are not an IP and a MAC are dropped."""
    content = _content(
        {
            "zgc_id": "z1",
            "port_ibo": "8300",
            "gws": [{"ip": "10.0.0.1", "mac": "AA:BB:CC:00:00:01"}, {"ip": "nope", "mac": "x"}, 7],
        }
    )
    assert content == {
        "zgc_id": "z1",
        "destinations": [{"ip_address": "10.0.0.1", "mac_address": "aa:bb:cc:00:00:01"}],
        "port_inband_operation": 8300,
    }
    assert _content({"port_ibo": "x"}) == {
        "zgc_id": None,
        "destinations": [],
        "port_inband_operation": None,
    }
