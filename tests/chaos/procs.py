"""The processes of a chaos run: `alcor serve` and `alcor agent` as real subprocesses.

Each process logs to its own file in the run's directory. Faults are plain signals:
`kill()` is SIGKILL (no clean-up of any kind), `pause()` / `resume()` are SIGSTOP / SIGCONT.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

READY_TIMEOUT_S = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on `host` a moment ago."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def toml_text(settings: dict[str, Any]) -> str:
    """Render dotted keys ("southbound.retry.base_s": 0.05) as a TOML document."""
    sections: dict[str, list[str]] = {}
    for dotted, value in settings.items():
        section, _, key = dotted.rpartition(".")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        else:  # str or list of str: JSON strings are TOML basic strings
            text = json.dumps(value)
        sections.setdefault(section, []).append(f"{key} = {text}")
    return "\n".join(
        f"[{section}]\n" + "\n".join(lines) + "\n" for section, lines in sections.items()
    )


def log_tail(path: Path, chars: int = 3000) -> str:
    """Return the end of a log file (for failure messages)."""
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


async def poll(
    probe: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.05
) -> bool:
    """Call `probe` until it returns True or `timeout` seconds pass; return the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if await probe():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)


async def http_ok(url: str) -> bool:
    """Tell whether a GET of `url` answers 200 right now."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            async with session.get(url) as resp:
                return resp.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


class Proc:
    """One subprocess with its log file; signals as faults."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.starts = 0
        self.paused = False
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """Return the log file of the current (or last) start."""
        return self.workdir / f"{self.name}-{self.starts}.log"

    @property
    def running(self) -> bool:
        """Tell whether the process is alive (a paused process is alive)."""
        return self._popen is not None and self._popen.poll() is None

    def launch(self, args: list[str], env: dict[str, str] | None = None) -> None:
        """Start `python -m alcor <args>` with its output in a fresh log file."""
        assert not self.running, f"{self.name} is already running"
        self.starts += 1
        base = {k: v for k, v in os.environ.items() if not k.startswith("ALCOR")}
        with self.log_path.open("wb") as log:
            self._popen = subprocess.Popen(
                [sys.executable, "-m", "alcor", *args],
                cwd=self.workdir,
                env={**base, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.paused = False

    async def wait_ready(self, url: str) -> None:
        """Wait until `url` answers 200; fail with the log if the process dies or hangs."""

        async def ready() -> bool:
            if not self.running:
                raise AssertionError(f"{self.name} exited:\n{log_tail(self.log_path)}")
            return await http_ok(url)

        if not await poll(ready, READY_TIMEOUT_S):
            raise AssertionError(f"{self.name} not ready at {url}:\n{log_tail(self.log_path)}")

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` to the process."""
        assert self._popen is not None and self.running, f"{self.name} is not running"
        self._popen.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL the process and reap it (a crash: nothing is flushed or closed)."""
        popen, self._popen = self._popen, None
        self.paused = False
        if popen is not None and popen.poll() is None:
            popen.send_signal(signal.SIGKILL)
            popen.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP the process: its sockets stay open, nothing is read or answered."""
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT a paused process."""
        self.signal(signal.SIGCONT)
        self.paused = False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM), SIGKILL after `timeout`."""
        popen = self._popen
        if popen is None or popen.poll() is not None:
            self._popen = None
            return
        if self.paused:
            self.resume()
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._popen = None


class ServerProc(Proc):
    """`alcor serve` on fixed loopback ports and one SQLite file, restartable after a kill."""

    def __init__(self, workdir: Path, settings: dict[str, Any]) -> None:
        super().__init__("serve", workdir)
        self.port = free_port()
        self.grpc_port = free_port()
        self.db_path = workdir / "alcor.db"
        self.settings = {
            "store.path": str(self.db_path),
            "server.host": "127.0.0.1",
            "server.port": self.port,
            "southbound.grpc_server.host": "127.0.0.1",
            "southbound.grpc_server.port": self.grpc_port,
            **settings,
        }

    @property
    def url(self) -> str:
        """Return the base URL of the REST API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_address(self) -> str:
        """Return host:port of the controller's RequestGoalStates server."""
        return f"127.0.0.1:{self.grpc_port}"

    async def start(self) -> None:
        """Start on the same ports and database as before; wait until the API answers."""
        config = self.workdir / "alcor.toml"
        config.write_text(toml_text(self.settings))
        self.launch(["serve", "--config", str(config)])
        await self.wait_ready(f"{self.url}/healthz")


class AgentProc(Proc):
    """One `alcor agent` process serving one host (its own loopback IP and ports)."""

    def __init__(
        self,
        workdir: Path,
        ip: str,
        node_id: str,
        controller: str,
        kafka: str | None = None,
    ) -> None:
        super().__init__(f"agent-{node_id}", workdir)
        self.ip = ip
        self.node_id = node_id
        self.controller = controller
        self.kafka = kafka
        self.port = free_port(ip)
        self.subscribe_port = free_port(ip)
        self.admin_port = free_port()

    @property
    def admin_url(self) -> str:
        """Return the base URL of the agent's admin API."""
        return f"http://127.0.0.1:{self.admin_port}"

    async def start(self, announce: bool = True) -> None:
        """Start the agent; with `announce` it sends AGENT_RESTARTED to the controller.

        Without it the agent comes up empty and silent: the controller is not told.
        """
        args = [
            "agent",
            "--listen",
            f"{self.ip}:{self.port}",
            "--subscribe-port",
            str(self.subscribe_port),
            "--node-id",
            self.node_id,
            "--admin",
            f"127.0.0.1:{self.admin_port}",
        ]
        if announce:
            args += ["--controller", self.controller]
        if self.kafka:
            args += ["--kafka", self.kafka]
        self.launch(args)
        await self.wait_ready(f"{self.admin_url}/agents")

    async def dump(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        """Return the agent's tables (GET /agents/{ip}/state on its admin API)."""
        assert not self.paused, f"{self.name} is paused: its admin API cannot answer"
        async with session.get(f"{self.admin_url}/agents/{self.ip}/state") as resp:
            assert resp.status == 200, (self.name, resp.status, await resp.text())
            data: dict[str, Any] = await resp.json()
            return data
