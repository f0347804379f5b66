"""`alcor serve` on the event loop its configuration names ([server] loop)."""

from __future__ import annotations

import json
import subprocess
import urllib.request

from tests.integration.conftest import BIN


def test_serve_runs_on_uvloop_when_configured(serve) -> None:
    """With server.loop = uvloop the process announces it and serves the API."""
    server = serve(ALCOR__SERVER__LOOP="uvloop")
    assert "event loop: uvloop" in server.banner
    body = json.dumps({"network": {"name": "on-uvloop"}}).encode()
    request = urllib.request.Request(f"{server.url}/v2.0/networks", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 201
    with urllib.request.urlopen(f"{server.url}/v2.0/networks", timeout=30) as resp:
        names = [n["name"] for n in json.loads(resp.read())["networks"]]
    assert names == ["on-uvloop"]
    assert server.stop() == 0


def test_serve_names_the_default_loop(serve) -> None:
    """Without configuration the standard library's loop runs, API first, and says so."""
    server = serve()
    assert "event loop: asyncio (API first)" in server.banner
    assert server.stop() == 0


def test_an_unknown_loop_is_a_usage_error(tmp_path) -> None:
    """A loop name that is neither asyncio nor uvloop stops start-up with a clear message."""
    result = subprocess.run(
        [str(BIN / "alcor"), "serve", "--db", str(tmp_path / "a.db")],
        env={"ALCOR__SERVER__LOOP": "trio", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "server.loop: must be asyncio or uvloop, got 'trio'" in result.stderr
    assert not (tmp_path / "a.db").exists()
