"""Start and stop an `alcor serve` subprocess with a fresh store for a benchmark run."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

UNLIMITED = (
    "network",
    "subnet",
    "port",
    "router",
    "floatingip",
    "security_group",
    "security_group_rule",
)


# One 127.X.0.0/16 per run: agents listen on fixed ports (50001), and runs from other
# checkouts on the same machine must not find their addresses taken.
_RUN_OCTET = random.randint(20, 250)


def agent_block(block: int) -> str:
    """Return the first agent IP of this run's address block `block` (0-255, 254 agents)."""
    return f"127.{_RUN_OCTET}.{block}.1"


def free_port(host: str = "127.0.0.1") -> int:
    """Return a free TCP port on `host`."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """An `alcor serve` child process on loopback (unlimited quotas, like the baseline)."""

    def __init__(
        self,
        workdir: str | None = None,
        db_name: str = "bench.db",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="alcor-bench-") if workdir is None else None
        self.workdir = Path(workdir or self._tmp.name)  # type: ignore[union-attr]
        self.db = self.workdir / db_name
        self.port = free_port()
        self.grpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None
        self.extra_env = dict(extra_env or {})  # ALCOR__... settings of this run

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in UNLIMITED:
            env[f"ALCOR__QUOTAS__{name.upper()}"] = "-1"
        env["ALCOR__SOUTHBOUND__GRPC_SERVER__PORT"] = str(self.grpc_port)
        env.pop("ALCOR_CONFIG", None)
        env.update(self.extra_env)
        return env

    async def start(self) -> None:
        """Start the server and wait until /healthz answers ok; record the start-up time."""
        started = time.perf_counter()
        log = open(self.workdir / f"serve-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "alcor",
                "serve",
                "--port",
                str(self.port),
                "--db",
                str(self.db),
                "--log-level",
                "WARNING",
            ],
            env=self._env(),
            cwd=self.workdir,
            stdout=log,
            stderr=log,
        )
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    # The log goes with the run's temp directory: say its end here.
                    tail = (self.workdir / f"serve-{self.port}.log").read_text(errors="replace")
                    raise RuntimeError(
                        f"alcor serve exited with {self.proc.returncode}; its log ends:\n"
                        f"{tail[-2000:]}"
                    )
                try:
                    async with session.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            self.startup_s = time.perf_counter() - started
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.02)
        raise RuntimeError("alcor serve did not become healthy within 120 s")

    def rss_mb(self) -> float | None:
        """Return the server's resident set size in MiB."""
        if self.proc is None:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    async def stop(self) -> None:
        """SIGTERM the server and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.proc.wait, 60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def cleanup(self) -> None:
        """Remove the temporary directory."""
        if self._tmp is not None:
            self._tmp.cleanup()
