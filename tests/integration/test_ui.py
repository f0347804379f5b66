"""The /ui/ page in a real headless Chromium (Debian's package, driven by Playwright).

`alcor serve` with two embedded agents; the page must show hosts with their delivery state,
networks, routers and ports per host, follow the watch stream without reloading, point at
problems, and filter. .ci/run installs chromium; elsewhere the test is skipped without it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import Server, free_port

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 20_000


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def _call(server: Server, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def stop(server: Server, page: Any) -> int:
    """Leave the page first: its polling and watch reconnects would otherwise hit a stopped
    server, and the console error fails the test."""
    page.goto("about:blank")
    return server.stop()


@pytest.fixture
def page() -> Iterator[Any]:
    """A Chromium page (Playwright); its console errors fail the test."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1500, "height": 950})
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        tab.set_default_timeout(WAIT_MS)
        yield tab
        browser.close()
    assert errors == []


def test_the_page_shows_the_network_and_follows_changes_live(serve, page) -> None:
    """Hosts, networks, routers and ports appear; new and deleted ports show without reload."""
    server = serve(
        "--embedded-agents",
        "2",
        ALCOR__SOUTHBOUND__GRPC_SERVER__ENABLED="true",
        ALCOR__SOUTHBOUND__GRPC_SERVER__PORT=str(free_port()),
        ALCOR__SOUTHBOUND__AGENT_PORT=str(free_port()),
    )
    net = _call(server, "POST", "/v2.0/networks", {"network": {"name": "web-tier"}})["network"]
    subnet = _call(
        server,
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4}},
    )["subnet"]
    router = _call(server, "POST", "/v2.0/routers", {"router": {"name": "edge"}})["router"]
    _call(
        server,
        "PUT",
        f"/v2.0/routers/{router['id']}/add_router_interface",
        {"subnet_id": subnet["id"]},
    )
    bound = {"network_id": net["id"], "name": "web-1", "binding:host_id": "compute-1"}
    first = _call(server, "POST", "/v2.0/ports", {"port": bound})["port"]

    page.goto(f"{server.url}/ui")  # redirected to /ui/
    page.wait_for_selector("#live.on")
    page.wait_for_selector("[data-host='compute-1'] .bars")
    page.wait_for_selector("[data-host='compute-2']")
    assert "web-tier" in page.inner_text(f"[data-network='{net['id']}']")
    assert "10.0.0.0/24" in page.inner_text(f"[data-router='{router['id']}']")
    page.wait_for_selector(f"[data-port-host='compute-1'] [data-port='{first['id']}'] .ACTIVE")
    assert page.locator("#login").is_hidden()

    # Live: a port created now appears (and goes ACTIVE), a deleted one disappears.
    second = _call(
        server,
        "POST",
        "/v2.0/ports",
        {"port": {**bound, "name": "web-2", "binding:host_id": "compute-2"}},
    )["port"]
    page.wait_for_selector(f"[data-port-host='compute-2'] [data-port='{second['id']}'] .ACTIVE")
    assert "web-2" in page.inner_text("#events")
    _call(server, "DELETE", f"/v2.0/ports/{first['id']}")
    page.wait_for_selector(f"[data-port='{first['id']}']", state="detached")

    # Incidents: a port on a host that is not registered is called out.
    stray = {**bound, "name": "stray", "binding:host_id": "compute-9"}
    _call(server, "POST", "/v2.0/ports", {"port": stray})
    page.wait_for_selector("#problems li:has-text('stray on compute-9: host not registered')")
    assert page.locator("#attention").is_visible()
    acked = "document.querySelector(\"[data-host='compute-2'] .acked b\").textContent"
    page.wait_for_function(f"() => Number({acked}) > 0")  # delivery state is polled

    # The filter narrows every table.
    page.fill("#filter", "web-2")
    page.wait_for_selector("[data-port-host='compute-9']", state="detached")
    assert page.locator("[data-port]").count() == 1
    assert stop(server, page) == 0


def test_the_page_audits_a_host_and_repairs_its_drift(serve, page) -> None:
    """A host whose agent lost its tables behind alcor's back looks fine until audited: the
    page's Audit shows the drift (and calls it out), Repair brings the host back in sync."""
    admin = free_port()
    server = serve(
        "--embedded-agents",
        "2",
        "--agents-admin",
        f"127.0.0.1:{admin}",
        ALCOR__SOUTHBOUND__GRPC_SERVER__ENABLED="true",
        ALCOR__SOUTHBOUND__GRPC_SERVER__PORT=str(free_port()),
        ALCOR__SOUTHBOUND__AGENT_PORT=str(free_port()),
    )
    net = _call(server, "POST", "/v2.0/networks", {"network": {"name": "db-tier"}})["network"]
    _call(
        server,
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "cidr": "10.1.0.0/24", "ip_version": 4}},
    )
    port = {"network_id": net["id"], "name": "db-1", "binding:host_id": "compute-1"}
    port_id = _call(server, "POST", "/v2.0/ports", {"port": port})["port"]["id"]

    page.goto(f"{server.url}/ui/")
    page.wait_for_selector(f"[data-port='{port_id}'] .ACTIVE")
    host = "[data-host='compute-1']"
    page.click(f"{host} button[data-audit]")
    page.wait_for_selector(f"{host} .audit.clean:has-text('in sync')")
    assert page.locator(f"{host} button[data-repair]").count() == 0

    listing = _call(server, "GET", "/nodes")
    nodes = next(v for v in listing.values() if isinstance(v, list))
    ip = next(n["local_ip"] for n in nodes if n["node_name"] == "compute-1")
    agents = f"http://127.0.0.1:{admin}/agents/{ip}"
    # The agents announce their start until their nodes exist; the announcement that lands
    # resyncs the host. Wait for it, or it would heal the drift before the page audits.
    deadline = time.monotonic() + WAIT_MS / 1000
    while not all(a["restarted"] for a in _get_json(f"http://127.0.0.1:{admin}/agents")):
        assert time.monotonic() < deadline, "the embedded agents never finished starting"
        time.sleep(0.05)
    request = urllib.request.Request(f"{agents}/lose-tables", method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 204

    page.click(f"{host} button[data-audit]")
    drift = page.wait_for_selector(f"{host} .audit.drift")
    assert "missing" in drift.inner_text()
    page.wait_for_selector("#problems li:has-text('compute-1: drift')")
    page.click(f"{host} button[data-repair]")
    page.wait_for_selector(f"{host} .audit.clean:has-text('in sync')")
    with urllib.request.urlopen(f"{agents}/state", timeout=30) as resp:
        assert port_id in json.loads(resp.read())["ports"]
    assert stop(server, page) == 0


def test_the_page_shows_a_failing_zeta_gateway(serve, page) -> None:
    """With Zeta on but unreachable, the network's gateway shows ERROR with Zeta's failure,
    and the page calls it out at the top."""
    server = serve(
        ALCOR__ZETA__ENABLED="true",
        ALCOR__ZETA__URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        ALCOR__ZETA__ALARM_AFTER="1",
        ALCOR__ZETA__RETRY_BASE_S="0.05",
        ALCOR__ZETA__RETRY_CAP_S="0.2",
        ALCOR__ZETA__LINGER_S="0",
    )
    net = _call(server, "POST", "/v2.0/networks", {"network": {"name": "edge-tier"}})["network"]
    page.goto(f"{server.url}/ui/")
    row = f"[data-network='{net['id']}']"
    page.wait_for_selector(f"{row} .gateway .ERROR")
    assert page.inner_text(f"{row} .gateway .sub") != ""
    page.wait_for_selector("#problems li:has-text('gateway of network edge-tier is ERROR')")
    assert stop(server, page) == 0
