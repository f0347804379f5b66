"""A third-party transport, installed with pip from the example in docs/plugins.md."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from alcor.config import ConfigError, load_config
from alcor.southbound.commands import WaitIdle
from alcor.southbound.loader import installed_transports, node_transports, transport_class

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
EXAMPLE_BLOCK = re.compile(r"```(?:toml|python)\n# (\S+)\n(.*?)```", re.S)


def example_files() -> dict[str, str]:
    """Return the example plugin's files: fenced blocks whose first line is `# <path>`."""
    return dict(EXAMPLE_BLOCK.findall(DOCS.read_text()))


@pytest.fixture(scope="module")
def tiny_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """pip-install the docs' example into a directory and put it on sys.path."""
    root = tmp_path_factory.mktemp("tiny")
    source, site = root / "src", root / "site"
    files = example_files()
    assert set(files) == {"pyproject.toml", "tiny_transport/__init__.py"}
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield
    sys.path.remove(str(site))
    sys.modules.pop("tiny_transport", None)
    importlib.invalidate_caches()


def test_entry_point_is_discovered(tiny_plugin):
    """The installed entry point is found by name through the loader."""
    assert "tiny" in installed_transports() and "tiny" in node_transports()
    cls = transport_class("tiny")
    assert (cls.__module__, cls.__name__, cls.name) == ("tiny_transport", "TinyTransport", "tiny")


def test_plugin_config_section_is_lifted_and_unknown_tables_still_fail(tiny_plugin, tmp_path):
    """`[southbound.tiny]` reaches the plugin; a table for no installed transport is an error."""
    config = load_config(
        path=None,
        env={"ALCOR__SOUTHBOUND__TINY__LATENCY_MS": "3"},
        overrides={"store.path": str(tmp_path / "a.db"), "southbound.default_transport": "tiny"},
    )
    assert config.southbound.section("tiny") == {"latency_ms": 3}
    assert config.southbound.section("grpc") == {}
    with pytest.raises(ConfigError, match=r"southbound\.nope: unknown key"):
        load_config(path=None, env={}, overrides={"southbound.nope.x": 1})
    with pytest.raises(ConfigError, match="default_transport: must be one of auto, "):
        load_config(path=None, env={}, overrides={"southbound.default_transport": "nope"})


async def test_node_on_plugin_transport_gets_its_port_active(tiny_plugin, client):
    """A node with transport "tiny" is served by the plugin: push arrives, port goes ACTIVE."""
    from tiny_transport import TinyTransport

    bad = await client.post(
        "/nodes",
        json={
            "host_info": {
                "node_id": "n-bad",
                "node_name": "bad",
                "local_ip": "127.0.8.2",
                "mac_address": "52:54:00:00:08:02",
                "transport": "nope",
            }
        },
    )
    assert bad.status == 400 and "tiny" in await bad.text()
    resp = await client.post(
        "/nodes",
        json={
            "host_info": {
                "node_id": "n-tiny",
                "node_name": "compute-tiny",
                "local_ip": "127.0.8.1",
                "mac_address": "52:54:00:00:08:01",
                "transport": "tiny",
            }
        },
    )
    assert resp.status in (200, 201), await resp.text()
    net = await (await client.post("/v2.0/networks", json={"network": {"name": "n"}})).json()
    network_id = net["network"]["id"]
    subnet = await client.post(
        "/v2.0/subnets",
        json={"subnet": {"network_id": network_id, "cidr": "10.8.0.0/24", "ip_version": 4}},
    )
    assert subnet.status == 201, await subnet.text()
    port = await client.post(
        "/v2.0/ports", json={"port": {"network_id": network_id, "binding:host_id": "compute-tiny"}}
    )
    assert port.status == 201, await port.text()
    port_id = (await port.json())["port"]["id"]

    await client.alcor.bus.call(WaitIdle(timeout=10))

    pushed = [m for node_id, m in TinyTransport.received if node_id == "n-tiny"]
    assert any(port_id in m.port_states for m in pushed)
    assert all(m.format_version == 102 for m in pushed)
    shown = await (await client.get(f"/v2.0/ports/{port_id}")).json()
    assert shown["port"]["status"] == "ACTIVE"
    node = await (await client.get("/nodes/n-tiny")).json()
    assert node["host_info"]["transport"] == "tiny"
