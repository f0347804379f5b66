"""Google protobuf + grpcio code compiled at test time from our .proto files.

It is the independent implementation that our betterproto code must match byte for byte
on the wire. grpcio-tools and protobuf are test-only dependencies.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest

import alcor.proto

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
