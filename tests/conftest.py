"""Shared fixtures: a real alcor app on a real SQLite file, driven over HTTP."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import alcor.proto
from alcor.api.web import make_web_app
from alcor.app import build
from alcor.config import StoreConfig, load_config
from alcor.store import Store
from alcor.store.schema import MIGRATIONS
from alcor.store.store import SqliteStore

# The suites that run on both stores (the API over HTTP, the transports' contract); the
# others run on SQLite. A test marked `sqlite_only` says why in its marker's reason.
BOTH_BACKENDS = ("integration", "contract")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every API test once per store: SQLite and the real PostgreSQL."""
    if "backend" not in metafunc.fixturenames:
        return
    parts = metafunc.definition.path.parts
    both = any(suite in parts for suite in BOTH_BACKENDS)
    if metafunc.definition.get_closest_marker("sqlite_only") is not None or not both:
        metafunc.parametrize("backend", ["sqlite"])
    else:
        metafunc.parametrize(
            "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
        )


@pytest.fixture
def make_config(tmp_path, backend, request) -> Callable[..., Any]:
    """Return a factory of test configs (no alcor.toml, no env) on a fresh store: a new
    SQLite file, or a new PostgreSQL database for the `postgresql` backend."""
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else ""

    def factory(**overrides: Any) -> Any:
        values = {
            "store.path": str(tmp_path / "alcor.db"),
            "store.url": url,
            "southbound.grpc_server.port": 0,
        }
        values.update(overrides)
        return load_config(path=None, env={}, overrides=values)

    return factory


@pytest.fixture
async def client(make_config) -> AsyncIterator[TestClient]:
    """An HTTP client of a started alcor (noauth: admin by default)."""
    alcor = build(make_config())
    async with TestClient(TestServer(make_web_app(alcor))) as test_client:
        test_client.alcor = alcor  # type: ignore[attr-defined]
        yield test_client


@pytest.fixture
async def memory_db() -> AsyncIterator[Store]:
    """A started in-memory store with the full schema (repository unit tests)."""
    store = SqliteStore(StoreConfig(path=":memory:"), MIGRATIONS)
    await store.start()
    yield store
    await store.stop()


@pytest.fixture(params=["grpc", "grpcio"])
def push_transport(request) -> Callable[..., Any]:
    """`transport(config)` of each gRPC transport plugin: grpclib's and the C-core grpcio's."""
    from alcor_grpc.transport import transport as grpclib_transport
    from alcor_grpcio.transport import transport as grpcio_transport

    return {"grpc": grpclib_transport, "grpcio": grpcio_transport}[request.param]


# Google protobuf + grpcio code compiled at test time from our .proto files: the
# independent implementation our betterproto code must match on the wire (test-only).
PROTO_SRC = Path(alcor.proto.__file__).parent / "src"
PROTO_FILES = sorted(PROTO_SRC.glob("*.proto"))


@pytest.fixture(scope="session")
def pb(tmp_path_factory: pytest.TempPathFactory) -> types.SimpleNamespace:
    """Compile every .proto with protoc; return the *_pb2 and *_pb2_grpc modules by stem."""
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("google_pb")
    args = ["protoc", f"-I{PROTO_SRC}", f"--python_out={out}", f"--grpc_python_out={out}"]
    assert protoc.main([*args, *map(str, PROTO_FILES)]) == 0
    # The generated modules import each other by top-level name (`import common_pb2`).
    sys.path.insert(0, str(out))
    try:
        modules = {}
        for proto in PROTO_FILES:
            modules[proto.stem] = importlib.import_module(f"{proto.stem}_pb2")
            modules[f"{proto.stem}_grpc"] = importlib.import_module(f"{proto.stem}_pb2_grpc")
    finally:
        sys.path.remove(str(out))
    return types.SimpleNamespace(**modules)


# The Tansu broker fixtures (kafka_broker, flaky_kafka) and the PostgreSQL server
# (postgres_server, postgres_url); each starts only for the tests that request one.
pytest_plugins = ["tests.kafka_broker", "tests.postgres_server", "tests.cluster"]
