"""The gateway read API (northbound §14), metrics, `alcor outbox list`, enabling later."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from alcor.api.web import make_web_app
from alcor.app import build
from alcor.cli import main
from alcor.store import changes
from tests.integration.api import Api
from tests.integration.zeta.conftest import FAST, caught_up, eventually, gateway_of, settled


async def test_gateway_reads_on_both_paths(zapi, zeta):
    """/v2.0 shows network_id, the native path vpc_id; filters and fields= work."""
    network = await zapi.network(name="n1", project_id="p1")
    gateway = await settled(zapi, network["id"])
    assert gateway["project_id"] == gateway["tenant_id"] == "p1"
    shown = (await zapi.get(f"/v2.0/gateways/{gateway['id']}"))["gateway"]
    assert shown == gateway
    native = (await zapi.get(f"/project/p1/gateways/{gateway['id']}"))["gateway"]
    assert native["vpc_id"] == network["id"] and "network_id" not in native
    listed = (await zapi.get(f"/project/p1/gateways?vpc_id={network['id']}"))["gateways"]
    assert [g["id"] for g in listed] == [gateway["id"]]
    only = (await zapi.get("/project/p1/gateways?fields=id&fields=vpc_id"))["gateways"]
    assert only == [{"id": gateway["id"], "vpc_id": network["id"]}]
    assert (await zapi.get("/v2.0/gateways?status=PENDING"))["gateways"] == []
    await zapi.fails(
        "GET", "/v2.0/gateways?pending_operations=1", status=400, error="HTTPBadRequest"
    )


async def test_gateways_are_project_scoped(zapi, zeta):
    """Another project neither lists nor shows a gateway (404)."""
    network = await zapi.network(name="n1", project_id="p1")
    gateway = await settled(zapi, network["id"])
    other = zapi.as_("p2")
    assert (await other.get("/v2.0/gateways"))["gateways"] == []
    await other.fails("GET", f"/v2.0/gateways/{gateway['id']}", status=404, error="GatewayNotFound")
    owner = zapi.as_("p1")
    assert [g["id"] for g in (await owner.get("/v2.0/gateways"))["gateways"]] == [gateway["id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2.0/gateways"),
        ("PUT", "/v2.0/gateways/{id}"),
        ("DELETE", "/v2.0/gateways/{id}"),
        ("POST", "/project/p1/gateways"),
        ("DELETE", "/project/p1/gateways/{id}"),
    ],
)
async def test_gateway_writes_answer_405(zapi, zeta, method, path):
    """The gateway follows its network: writes are not allowed."""
    network = await zapi.network(project_id="p1")
    gateway = await settled(zapi, network["id"])
    reply = await zapi.fails(
        method,
        path.format(id=gateway["id"]),
        {"gateway": {}},
        status=405,
        error="HTTPMethodNotAllowed",
    )
    assert reply.headers["Allow"] == "GET"
    assert (await gateway_of(zapi, network["id"])) == gateway


async def test_unknown_gateway_is_404(zapi):
    """An id that is no gateway is GatewayNotFound."""
    await zapi.fails(
        "GET",
        "/v2.0/gateways/0b3a1f62-0d85-4a5e-b0a4-1c2d3e4f5a6b",
        status=404,
        error="GatewayNotFound",
    )


async def test_outbox_metrics_show_pending_and_attempts(zapi, zeta):
    """Pending rows by kind, the oldest one's age, and attempts by result."""
    zeta.hang()
    network = await zapi.network()
    await caught_up(zapi)
    metrics = await _metrics(zapi)
    assert metrics['alcor_outbox_pending{kind="ZETA_VPC_CREATE"}'] == 1
    assert metrics['alcor_outbox_pending{kind="ZETA_PORT_CREATE"}'] == 0
    assert metrics["alcor_outbox_oldest_age_seconds"] >= 0
    done_before = metrics.get(
        'alcor_outbox_attempts_total{kind="ZETA_VPC_CREATE",result="done"}', 0
    )
    zeta.release()
    await settled(zapi, network["id"])
    metrics = await _metrics(zapi)
    assert metrics['alcor_outbox_pending{kind="ZETA_VPC_CREATE"}'] == 0
    assert metrics["alcor_outbox_oldest_age_seconds"] == 0
    done = metrics['alcor_outbox_attempts_total{kind="ZETA_VPC_CREATE",result="done"}']
    assert done == done_before + 1


async def _metrics(api: Api) -> dict[str, float]:
    async with api.client.get("/metrics") as resp:
        text = await resp.text()
    out = {}
    for line in text.splitlines():
        if line.startswith("alcor_outbox"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


async def test_outbox_list_shows_pending_and_settled_rows(zapi, zeta, tmp_path, make_config):
    """`alcor outbox list [--pending]` reads the store (file or database) beside a running
    server."""
    network = await zapi.network()
    await settled(zapi, network["id"])
    zeta.fail_next(10_000)
    other = await zapi.network()

    async def failed_once():
        found = await gateway_of(zapi, other["id"])
        return found["last_error"] is not None

    await eventually(failed_once)
    db = str(tmp_path / "alcor.db")
    runner = CliRunner(env={"ALCOR__STORE__URL": make_config().store.url or None})
    pending = await asyncio.to_thread(
        runner.invoke, main, ["outbox", "list", "--db", db, "--pending", "--json"]
    )
    assert pending.exit_code == 0, pending.output
    rows = [json.loads(line) for line in pending.output.splitlines()]
    assert [(r["kind"], r["key"]) for r in rows] == [("ZETA_VPC_CREATE", other["id"])]
    assert rows[0]["attempts"] >= 1 and "answered 500" in rows[0]["last_error"]
    everything = await asyncio.to_thread(runner.invoke, main, ["outbox", "list", "--db", db])
    assert everything.exit_code == 0
    assert "ZETA_VPC_CREATE" in everything.output and "sent" in everything.output
    if not make_config().store.url:
        missing = await asyncio.to_thread(
            runner.invoke, main, ["outbox", "list", "--db", str(tmp_path / "none.db")]
        )
        assert missing.exit_code == 1
    zeta.fail_next(0)


async def test_zeta_disabled_makes_no_gateways(api):
    """With zeta.enabled false (the default) networks get no gateway, and no reader of the
    change record holds its retention back."""
    await api.network()
    assert (await api.get("/v2.0/gateways"))["gateways"] == []
    assert await changes.consumer_seq(api.client.alcor.store, "gateway") is None


async def test_enabling_zeta_later_registers_what_exists(make_config, zeta):
    """Networks and bound ports created while disabled reach Zeta at the next start."""
    config = make_config()
    client = TestClient(TestServer(make_web_app(build(config))))
    await client.start_server()
    api = Api(client)
    await api.node("host-1", "192.0.2.11")
    network, _ = await api.lan("10.1.0.0/24")
    port = await api.port(network["id"], **{"binding:host_id": "host-1"})
    await client.close()
    client = TestClient(
        TestServer(make_web_app(build(make_config(**FAST, **{"zeta.url": zeta.url}))))
    )
    await client.start_server()
    try:
        api = Api(client)
        await settled(api, network["id"])
        assert list(zeta.ports) == [port["id"]]
        assert zeta.writes() == [("POST", "/vpcs"), ("POST", "/ports")]
    finally:
        await client.close()
