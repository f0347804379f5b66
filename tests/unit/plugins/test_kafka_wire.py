"""Kafka plugin without a broker: config validation, chunking and reply merging."""

from __future__ import annotations

import uuid

import pytest

from alcor.proto import schema
from alcor.southbound import encoding
from alcor.southbound.base import SouthboundContext
from alcor_kafka import wire
from alcor_kafka.config import KafkaConfig
from alcor_kafka.transport import KafkaTransport

RT = schema.ResourceType
ST = schema.OperationStatus
OP = schema.OperationType
HOST = "10.1.0.7"


def goal_state(ports: int, neighbors: int = 0, size: int = 0) -> tuple[bytes, str, str]:
    """Return a GoalStateV2 built like the data plane does, plus its VPC and subnet ids."""
    vpc_id, subnet_id = str(uuid.uuid4()), str(uuid.uuid4())
    entries: dict[int, list[bytes]] = {}
    resources: list[tuple[int, str]] = []

    def add(kind: int, key: str, state: object) -> None:
        entries.setdefault(encoding.V2_FIELD[kind], []).append(
            encoding.v2_entry(kind, key, bytes(state))
        )
        resources.append((kind, key))

    add(
        RT.VPC,
        vpc_id,
        schema.VpcState(
            configuration=schema.VpcConfiguration(revision_number=1, id=vpc_id, cidr="10.0.0.0/16")
        ),
    )
    add(
        RT.SUBNET,
        subnet_id,
        schema.SubnetState(
            configuration=schema.SubnetConfiguration(
                revision_number=1, id=subnet_id, vpc_id=vpc_id, cidr="10.0.0.0/24"
            )
        ),
    )
    for _ in range(ports):
        pid = str(uuid.uuid4())
        add(
            RT.PORT,
            pid,
            schema.PortState(
                operation_type=OP.CREATE,
                configuration=schema.PortConfiguration(revision_number=1, id=pid, name="x" * size),
            ),
        )
    for _ in range(neighbors):
        pid = str(uuid.uuid4())
        add(
            RT.NEIGHBOR,
            f"{pid}_n",
            schema.NeighborState(
                operation_type=OP.CREATE,
                configuration=schema.NeighborConfiguration(revision_number=1, id=pid),
            ),
        )
    return encoding.assemble_goal_state_v2(HOST, resources, entries), vpc_id, subnet_id


def test_config_defaults_and_unknown_key():
    """Defaults follow the spec; an unknown key is a ValueError naming it."""
    config = KafkaConfig.from_mapping({"bootstrap_servers": "127.0.0.1:9092"})
    assert config.bootstrap_servers == ("127.0.0.1:9092",)
    assert (config.host_topic_prefix, config.vpc_topic_prefix, config.reply_topic) == (
        "alcor-host-",
        "alcor-vpc-",
        "alcor-replies",
    )
    assert (config.max_message_bytes, config.reply_timeout_s, config.compression) == (
        67108864,
        30.0,
        "gzip",
    )
    assert config.auto_create_topics and not config.idempotent
    assert (config.vpc_topic_delete_grace_s, config.lag_poll_s, config.tombstone_delay_s) == (
        3600.0,
        10.0,
        86400.0,
    )
    with pytest.raises(ValueError, match=r"southbound\.kafka\.bogus: unknown key"):
        KafkaConfig.from_mapping({"bootstrap_servers": "h:1", "bogus": 1})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({}, "bootstrap_servers: required"),
        ({"bootstrap_servers": []}, "bootstrap_servers: expected"),
        ({"bootstrap_servers": "h:1", "reply_timeout_s": "30"}, "reply_timeout_s: expected float"),
        ({"bootstrap_servers": "h:1", "idempotent": 1}, "idempotent: expected bool"),
        ({"bootstrap_servers": "h:1", "compression": "brotli"}, "compression: must be one of"),
        ({"bootstrap_servers": "h:1", "max_message_bytes": 10}, "max_message_bytes: must be"),
    ],
)
def test_config_rejects_bad_values(section, message):
    """Each bad value is reported with its key."""
    with pytest.raises(ValueError, match=message):
        KafkaConfig.from_mapping(section)


def test_transport_validates_config_in_constructor():
    """KafkaTransport(ctx) raises for a bad section before touching the network."""
    with pytest.raises(ValueError, match=r"southbound\.kafka\.typo: unknown key"):
        KafkaTransport(SouthboundContext(config={"bootstrap_servers": "h:1", "typo": True}))
    t = KafkaTransport(
        SouthboundContext(config={"bootstrap_servers": ["a:1", "b:2"], "reply_timeout_s": 5})
    )
    assert t.config.reply_timeout_s == 5.0


def test_small_goal_state_is_not_split():
    """A message under the limit goes out as is."""
    payload, _, _ = goal_state(3)
    assert wire.split_goal_state(payload, HOST, len(payload)) == [payload]


def test_split_keeps_context_in_every_chunk_and_covers_every_state():
    """Chunks fit the limit, each repeats the VPC and subnet, and together carry all states."""
    payload, vpc_id, subnet_id = goal_state(60, neighbors=60)
    original = schema.GoalStateV2().parse(payload)
    limit = 4000
    chunks = wire.split_goal_state(payload, HOST, limit)
    assert len(chunks) > 3
    ports: set[str] = set()
    neighbors: set[str] = set()
    for chunk in chunks:
        assert len(chunk) <= limit
        gs = schema.GoalStateV2().parse(chunk)
        assert gs.format_version == 102
        assert set(gs.vpc_states) == {vpc_id} and set(gs.subnet_states) == {subnet_id}
        listed = {(r.type, r.id) for r in gs.host_resources[HOST].resources}
        carried = {(RT.VPC, vpc_id), (RT.SUBNET, subnet_id)}
        carried |= {(RT.PORT, k) for k in gs.port_states}
        carried |= {(RT.NEIGHBOR, k) for k in gs.neighbor_states}
        assert listed == carried
        assert not (ports & set(gs.port_states)) and not (neighbors & set(gs.neighbor_states))
        ports |= set(gs.port_states)
        neighbors |= set(gs.neighbor_states)
        for key, state in gs.port_states.items():
            assert state == original.port_states[key]
    assert ports == set(original.port_states) and neighbors == set(original.neighbor_states)


def test_split_refuses_a_state_larger_than_the_limit():
    """One state that cannot fit with its context is an error, not a silent drop."""
    payload, _, _ = goal_state(2, size=5000)
    with pytest.raises(wire.ChunkTooLarge):
        wire.split_goal_state(payload, HOST, 4000)


Status = schema.GoalStateOperationReplyGoalStateOperationStatus


def _status(rid: str, kind: int, status: int) -> Status:
    return schema.GoalStateOperationReplyGoalStateOperationStatus(
        resource_id=rid, resource_type=kind, operation_status=status
    )


def test_merge_replies_keeps_worst_status_of_shared_context():
    """Per-chunk replies merge into one; a repeated context state keeps its worst status."""
    one = schema.GoalStateOperationReply(
        format_version=102,
        message_total_operation_time=10,
        operation_statuses=[
            _status("s", RT.SUBNET, ST.SUCCESS),
            _status("p1", RT.PORT, ST.SUCCESS),
        ],
    )
    two = schema.GoalStateOperationReply(
        format_version=102,
        message_total_operation_time=5,
        operation_statuses=[
            _status("s", RT.SUBNET, ST.FAILURE),
            _status("p2", RT.PORT, ST.PENDING),
        ],
    )
    merged = wire.merge_replies({2: two, 1: one})
    by_id = {s.resource_id: s.operation_status for s in merged.operation_statuses}
    assert by_id == {"s": ST.FAILURE, "p1": ST.SUCCESS, "p2": ST.PENDING}
    assert merged.message_total_operation_time == 15


def test_part_header_parsing():
    """`alcor-part` is "i/n", 1-based; absent means a single record."""
    assert wire.parse_part(None) == (1, 1)
    assert wire.parse_part("2/3") == (2, 3)
    with pytest.raises(ValueError):
        wire.parse_part("4/3")
