"""A Zeta that fails, hangs, drops, or answers 500 after committing: nothing lost, nothing
created twice, and every failure visible on the gateway (southbound spec §8.1)."""

from __future__ import annotations

from tests.integration.zeta.conftest import (
    bound_port,
    eventually,
    gateway_of,
    gateway_status,
    settled,
)


def calls(zeta, start=0):
    """(method, path, status) of the double's calls from index `start`."""
    return [(c.method, c.path, c.status) for c in zeta.calls[start:]]


async def test_failed_vpc_create_is_probed_then_sent_once(zapi, zeta):
    """Two 500s: the retry reads the VPC first (absent), then creates it exactly once."""
    zeta.fail_next(2)
    network = await zapi.network(name="n1")
    await settled(zapi, network["id"])
    path = f"/vpcs/{network['id']}"
    assert calls(zeta) == [("POST", "/vpcs", 500), ("GET", path, 500), ("POST", "/vpcs", 201)]


async def test_500_after_commit_is_found_by_the_probe_not_sent_again(zapi, zeta):
    """POST /ports commits, then answers 500: alcor reads the port back and stops there."""
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    await settled(zapi, network["id"])
    start = len(zeta.calls)
    zeta.commit_then_fail(1)
    port = await bound_port(zapi, network["id"], "host-1")
    gateway = await settled(zapi, network["id"])
    assert calls(zeta, start) == [
        ("POST", "/ports", 500),
        ("GET", f"/vpcs/{network['id']}", 200),
        ("GET", f"/ports/{port['id']}", 200),
    ]
    assert list(zeta.ports) == [port["id"]]
    assert gateway["last_error"] is None and gateway["attempts"] == 0


async def test_dropped_connection_is_an_unknown_outcome_retried_once_known(zapi, zeta):
    """No answer at all: the retry reads first, then sends."""
    zeta.drop_next(1)
    network = await zapi.network(name="n1")
    await settled(zapi, network["id"])
    assert calls(zeta) == [
        ("POST", "/vpcs", 0),
        ("GET", f"/vpcs/{network['id']}", 500),
        ("POST", "/vpcs", 201),
    ]


async def test_hanging_zeta_never_holds_the_api_and_creates_nothing_twice(zapi, zeta):
    """While every Zeta call hangs, API writes answer; the timed-out create is found later."""
    zeta.hang()
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    port = await bound_port(zapi, network["id"], "host-1")
    other = await zapi.network(name="n2")
    await zapi.ok("DELETE", f"/v2.0/networks/{other['id']}", status=204)
    gateway = await gateway_of(zapi, network["id"])
    assert gateway["status"] == "PENDING" and gateway["pending_operations"] == 2

    async def timed_out():
        found = await gateway_of(zapi, network["id"])
        return found["last_error"] and "unreachable" in found["last_error"]

    await eventually(timed_out)
    zeta.release()
    await settled(zapi, network["id"])
    assert [c.status for c in zeta.calls if c.path == "/vpcs" and c.vpc == network["id"]].count(
        201
    ) == 1
    await eventually(lambda: _only(zeta, network["id"]))
    assert list(zeta.ports) == [port["id"]]


async def _only(zeta, vpc_id):
    return set(zeta.vpcs) == {vpc_id}


async def test_alarm_after_attempts_then_recovery(zapi, zeta):
    """alarm_after (3) failed attempts: ERROR with the reason, still retrying, then READY."""
    zeta.fail_next(10_000)
    network = await zapi.network(name="n1")
    gateway = await gateway_status(zapi, network["id"], "ERROR")
    assert gateway["attempts"] >= 3 and gateway["pending_operations"] == 1
    assert "answered 500" in gateway["last_error"]
    assert gateway["last_attempt_at"] is not None
    async with zapi.client.get("/metrics") as resp:
        assert 'alcor_gateways{status="ERROR"} 1.0' in await resp.text()
    zeta.fail_next(0)  # Zeta recovers
    gateway = await settled(zapi, network["id"])
    assert gateway["last_error"] is None and gateway["attempts"] == 0
    assert [c.status for c in zeta.calls if c.method == "POST"].count(201) == 1


async def test_one_failing_vpc_does_not_hold_another(zapi, zeta):
    """Lanes are per VPC: one VPC's failing create leaves another's calls flowing."""
    blocked = await zapi.network(name="blocked")
    zeta.fail_next(10_000, when=lambda method, path, body: blocked["id"] in str((path, body)))
    await gateway_status(zapi, blocked["id"], "ERROR")
    await zapi.node("host-1", "192.0.2.11")
    free, _ = await zapi.lan("10.2.0.0/24", name="free")
    port = await bound_port(zapi, free["id"], "host-1")
    await settled(zapi, free["id"])
    assert list(zeta.ports) == [port["id"]]
    assert (await gateway_of(zapi, blocked["id"]))["status"] == "ERROR"
    zeta.fail_next(0)
    await settled(zapi, blocked["id"])


async def test_zeta_down_fails_no_api_call_and_shows_on_the_gateway(make_api):
    """Nothing listens at zeta.url: every API write succeeds; the gateway keeps the calls,
    retrying, with the reason, ERROR after alarm_after attempts."""
    from alcor.bench.server import free_port
    from tests.integration.zeta.conftest import FAST

    zapi = await make_api(**FAST, **{"zeta.url": f"http://127.0.0.1:{free_port()}"})
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    await bound_port(zapi, network["id"], "host-1")
    await zapi.ok("DELETE", f"/v2.0/networks/{network['id']}", status=409)  # in use, as ever
    gateway = await gateway_status(zapi, network["id"], "ERROR")
    assert gateway["last_error"].startswith("zeta unreachable")
    assert gateway["pending_operations"] == 2 and gateway["attempts"] >= 3
