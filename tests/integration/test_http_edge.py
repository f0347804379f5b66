"""The HTTP edge: control characters, odd paths, slow and vanishing clients, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import logging
import signal

import aiohttp
import pytest

from tests.integration.api import Api

WAIT = 30.0


async def test_control_characters_in_strings_are_400_and_nothing_is_stored(api) -> None:
    """NUL, newline, tab, DEL and C1 controls in a string attribute answer 400."""
    before = len((await api.get("/v2.0/networks"))["networks"])
    for bad in ("a\x00b", "line\nbreak", "tab\there", "del\x7f", "c1\x85"):
        for attr in ("name", "description"):
            reply = await api.call("POST", "/v2.0/networks", {"network": {attr: bad}})
            assert reply.status == 400 and reply.error == "HTTPBadRequest", (bad, reply.body)
            assert "control characters" in reply.message
    net = await api.network(name="ok")
    reply = await api.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "x\x00"}})
    assert reply.status == 400
    assert len((await api.get("/v2.0/networks"))["networks"]) == before + 1
    assert (await api.get(f"/v2.0/networks/{net['id']}"))["network"]["name"] == "ok"
    assert (await api.network(name="ünïcode ✓"))["name"] == "ünïcode ✓"


async def test_odd_paths_and_methods_answer_neutron_errors(api) -> None:
    """A path with an encoded newline is 404 JSON; an unknown method 405 JSON with Allow."""
    for path in ("/v2.0/networks/a%0Ab", "/v2.0/nets%0A", "/%0A", "/v2.0/networks/%00"):
        reply = await api.call("GET", path)
        assert reply.status == 404, (path, reply.status)
        assert reply.headers["Content-Type"].startswith("application/json")
        assert reply.error in ("HTTPNotFound", "NetworkNotFound"), reply.body
    reply = await api.call("PATCH", "/v2.0/networks")
    assert reply.status == 405 and reply.error == "HTTPMethodNotAllowed"
    assert reply.headers["Allow"] == "GET, POST"


async def _raw(port: int, data: bytes, *, close: bool = False) -> bytes:
    """Send raw bytes; return everything the server answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if close:
        writer.close()
        return b""
    try:
        return await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()


def _metric(text: str, status: int) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("alcor_http_requests_total") and f'status="{status}"' in line
    )


async def test_a_body_that_does_not_arrive_is_408_and_a_vanished_client_is_no_error(
    make_api, caplog
) -> None:
    """5 of 100 body bytes: 408 NeutronError after body_timeout_s, connection closed; a
    client that leaves mid-body is counted as 499, never logged as an error or a 500."""
    api: Api = await make_api(**{"server.body_timeout_s": 0.2})
    port = api.client.server.port
    head = b"POST /v2.0/networks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    answer = await _raw(port, head + b'{"net')
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 408"), answer
    assert json.loads(body)["NeutronError"]["type"] == "HTTPRequestTimeout"

    caplog.set_level(logging.INFO)
    before = await (await api.client.get("/metrics")).text()  # counters are process-wide
    await _raw(port, head + b'{"net', close=True)
    after = before
    async with asyncio.timeout(WAIT):
        while _metric(after, 499) == _metric(before, 499):
            after = await (await api.client.get("/metrics")).text()
    assert _metric(after, 500) == _metric(before, 500)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def _read_line(stream: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(stream.readline(), WAIT)


@pytest.mark.slow
async def test_slow_request_headers_get_408_from_alcor_serve(serve) -> None:
    """`alcor serve` answers a request whose headers never complete with 408 and closes."""
    server = serve(ALCOR__SERVER__HEADER_TIMEOUT_S="0.3")
    port = int(server.url.rsplit(":", 1)[1])
    answer = await _raw(port, b"GET /v2.0/networks HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"HTTPRequestTimeout"' in answer
    garbage = b"GET /v2.0/networks HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n"
    answer = await _raw(port, garbage)  # unparsable: 400 NeutronError, no traceback logged
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request"), answer
    assert b'"HTTPBadRequest"' in answer
    assert server.stop() == 0
    assert "ERROR" not in server.log.read_text()


@pytest.mark.slow
async def test_sigterm_under_load_finishes_every_request_and_exits_0(serve) -> None:
    """16 clients create networks in a loop; SIGTERM: each request sent gets its 201, then
    the clients find the port closed; an open watch stream ends; exit 0; all persisted."""
    server = serve(ALCOR__QUOTAS__NETWORK="-1")
    created: list[str] = []
    failures: list[BaseException] = []
    enough = asyncio.Event()

    async def client(session: aiohttp.ClientSession, n: int) -> None:
        for i in range(500):  # bounded: SIGTERM comes long before
            try:
                async with session.post(
                    f"{server.url}/v2.0/networks", json={"network": {"name": f"c{n}-{i}"}}
                ) as resp:
                    body = await resp.json()
                    if resp.status != 201:
                        failures.append(AssertionError((resp.status, body)))
                        enough.set()
                        return
                    created.append(body["network"]["id"])
            except aiohttp.ClientConnectorError:
                return  # refused: the server stopped accepting, as it should
            except (aiohttp.ClientError, OSError) as exc:
                failures.append(exc)
                enough.set()
                return
            if len(created) >= 200:
                enough.set()

    async with aiohttp.ClientSession() as session:
        watch = await session.get(f"{server.url}/v2.0/watch")
        assert watch.status == 200
        clients = [asyncio.ensure_future(client(session, n)) for n in range(16)]
        await asyncio.wait_for(enough.wait(), WAIT)
        server.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*clients), WAIT)
        rest = await asyncio.wait_for(watch.content.read(), WAIT)
        assert all(json.loads(line)["type"] == "CREATED" for line in rest.splitlines())
    assert failures == []
    assert await asyncio.to_thread(server.proc.wait, WAIT) == 0

    again = serve(ALCOR__QUOTAS__NETWORK="-1")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{again.url}/v2.0/networks?fields=id") as resp:
            stored = {n["id"] for n in (await resp.json())["networks"]}
    assert set(created) <= stored and len(created) == len(set(created))
    assert again.stop() == 0
