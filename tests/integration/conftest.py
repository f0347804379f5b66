"""Fixtures of the integration tests: an admin Api, Apis on configured apps, a network."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from tests.integration.api import Api

BIN = Path(sys.executable).parent


@pytest.fixture
def api(client) -> Api:
    """An Api on the default client (noauth, admin)."""
    return Api(client)


@pytest.fixture
async def make_api(make_config) -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    """Return a factory of Apis on apps built with config overrides (own SQLite file each)."""
    clients: list[TestClient] = []

    async def factory(**overrides: Any) -> Api:
        client = TestClient(TestServer(make_web_app(build(make_config(**overrides)))))
        await client.start_server()
        clients.append(client)
        return Api(client)

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def net(api) -> dict[str, Any]:
    """A network with one IPv4 subnet 10.0.0.0/24 (the subnet is under `subnet`)."""
    network = await api.network(name="net1")
    network["subnet"] = await api.subnet(network["id"], "10.0.0.0/24", name="sub1")
    return network


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One `alcor serve` process."""

    proc: subprocess.Popen[str]
    url: str
    log: Path  # its stderr
    banner: str = ""  # the line it printed once listening

    def stop(self) -> int:
        """Send SIGTERM and return the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[[], Server]]:
    """Return a starter of `alcor serve` on a free port and tmp_path/alcor.db."""
    started: list[Server] = []
    logs: list[Any] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALCOR")}
    env["ALCOR__SOUTHBOUND__GRPC_SERVER__ENABLED"] = "false"

    def start(*args: str, **more_env: str) -> Server:
        port = free_port()
        log = (tmp_path / f"serve-{len(started)}.log").open("w")
        logs.append(log)
        proc = subprocess.Popen(
            [
                str(BIN / "alcor"),
                "serve",
                "--port",
                str(port),
                "--db",
                str(tmp_path / "alcor.db"),
                "--log-level",
                "warning",
                *args,
            ],
            cwd=tmp_path,
            env={**env, **more_env},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        server = Server(proc, f"http://127.0.0.1:{port}", Path(log.name))
        started.append(server)
        # The announcement is printed once the components have started and the port listens.
        line = server.banner = proc.stdout.readline()
        assert f"listening on {server.url}" in line, (line, log.name)
        assert "store: SQLite" in line
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        server.proc.stdout.close()
    for log in logs:
        log.close()
