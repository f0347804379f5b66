"""Several real `alcor serve` processes on one PostgreSQL database (the scale-out shape).

`cluster` (function fixture) returns a starter: `await cluster.start()` launches one more
process on a free port against the test's database (`postgres_url`) and waits until it
serves; `.kill(i)` is a kill -9, `.stop(i)` a SIGTERM. Every process is stopped at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.kafka_broker import free_port

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0


@dataclass
class Process:
    """One `alcor serve` child."""

    proc: subprocess.Popen[bytes]
    url: str
    grpc_port: int
    log: Path

    @property
    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.proc.poll() is None


@dataclass
class Cluster:
    """The processes of one test, all on the same database."""

    db_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    async def start(self, **settings: str) -> Process:
        """Start one more process (`settings`: extra ALCOR__SECTION__KEY values)."""
        port, grpc_port = free_port(), free_port()
        index = len(self.processes)
        log = self.workdir / f"serve-{index}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALCOR")}
        env.update(
            {
                "ALCOR__STORE__URL": self.db_url,
                "ALCOR__SOUTHBOUND__GRPC_SERVER__PORT": str(grpc_port),
                "ALCOR__QUOTAS__PORT": "-1",
                "ALCOR__QUOTAS__NETWORK": "-1",
                "ALCOR__QUOTAS__SUBNET": "-1",
                **self.env,
                **settings,
            }
        )
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(BIN / "alcor"), "serve", "--port", str(port), "--log-level", "warning"],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = Process(proc, f"http://127.0.0.1:{port}", grpc_port, log)
        self.processes.append(process)
        await self._wait_healthy(process)
        return process

    async def _wait_healthy(self, process: Process) -> None:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        async with aiohttp.ClientSession() as session:
            while asyncio.get_running_loop().time() < deadline:
                if not process.alive:
                    break
                try:
                    async with session.get(f"{process.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        pytest.fail(f"alcor serve did not start:\n{process.log.read_text()[-3000:]}")

    def kill(self, index: int) -> None:
        """kill -9 one process (no shutdown of any kind)."""
        process = self.processes[index]
        process.proc.send_signal(signal.SIGKILL)
        process.proc.wait()

    def stop(self, index: int) -> int:
        """SIGTERM one process and return its exit code."""
        process = self.processes[index]
        process.proc.send_signal(signal.SIGTERM)
        return process.proc.wait(timeout=60)

    def close(self) -> None:
        """Kill whatever still runs."""
        for process in self.processes:
            if process.alive:
                process.proc.kill()
                process.proc.wait()


@pytest.fixture
async def cluster(postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Start `alcor serve` processes on this test's PostgreSQL database."""
    group = Cluster(postgres_url, tmp_path)
    try:
        yield group
    finally:
        group.close()


async def call(
    session: aiohttp.ClientSession,
    url: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one API request; return (status, JSON body or None)."""
    async with session.request(method, url + path, json=body, headers=headers) as resp:
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data
