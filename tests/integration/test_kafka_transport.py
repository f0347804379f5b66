"""KafkaTransport and the agent-side consumers against a real broker (Tansu)."""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
import uuid

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from alcor.proto import schema
from alcor.southbound.base import TransportError
from alcor_kafka.topics import TopicLag
from alcor_kafka.transport import VpcRecord, agent_group, transport
from tests.integration.kafka_helpers import (
    ST,
    ScriptedApply,
    host_consumer,
    kafka_section,
    make_node,
    port_goal_state,
    read_topic,
    running,
    vpc_consumer,
)


def rid() -> str:
    """Return a fresh request id."""
    return str(uuid.uuid4())


async def test_push_round_trip_returns_the_agents_reply(kafka_broker):
    """A push reaches the host consumer, which applies it; push returns the agent's reply."""
    node = make_node(1)
    apply = ScriptedApply()
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        async with running(host_consumer(t, node, apply)):
            reply = await t.push(node, port_goal_state("p1", "p2"), request_id=rid(), timeout=5)
    assert sorted(s.resource_id for s in reply.operation_statuses) == ["p1", "p2"]
    assert reply.message_total_operation_time == 7
    assert apply.ports() == ["p1", "p2"]


async def test_records_and_replies_carry_exact_keys_and_headers(kafka_broker):
    """Host record: key = local_ip, §2.4 headers; reply record: same id plus host ip, node id."""
    node = make_node(2)
    request_id = rid()
    section = kafka_section(kafka_broker.bootstrap)
    async with transport(section) as t:
        async with running(host_consumer(t, node, ScriptedApply())):
            await t.push(node, port_goal_state("p1"), request_id=request_id, timeout=5)
        (record,) = await read_topic(kafka_broker.bootstrap, t.host_topic(node), 1)
        (reply,) = await read_topic(kafka_broker.bootstrap, section["reply_topic"], 1)
    assert t.host_topic(node) == section["host_topic_prefix"] + node.node_id
    assert record.key == node.local_ip.encode()
    assert list(record.headers) == [
        ("alcor-request-id", request_id.encode()),
        ("alcor-format-version", b"102"),
        ("alcor-host-ip", node.local_ip.encode()),
    ]
    assert schema.GoalStateV2().parse(record.value).format_version == 102
    assert reply.key == node.local_ip.encode()
    assert list(reply.headers) == [
        ("alcor-request-id", request_id.encode()),
        ("alcor-host-ip", node.local_ip.encode()),
        ("alcor-node-id", node.node_id.encode()),
    ]


async def test_missing_reply_is_a_deadline_error(kafka_broker):
    """Nobody consumes the topic: the push fails with kind "deadline" after the timeout."""
    node = make_node(3)
    async with transport(kafka_section(kafka_broker.bootstrap, reply_timeout_s=0.3)) as t:
        started = time.monotonic()
        with pytest.raises(TransportError) as err:
            await t.push(node, port_goal_state("p1"), request_id=rid(), timeout=0.3)
        elapsed = time.monotonic() - started
        assert t.inflight() == 0
    assert err.value.kind == "deadline"
    assert 0.3 <= elapsed < 2


async def test_mq_topic_overrides_the_host_topic(kafka_broker):
    """A node's mq_topic replaces prefix + node id."""
    topic = f"custom-{uuid.uuid4().hex[:8]}"
    node = make_node(4, mq_topic=topic)
    apply = ScriptedApply()
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        assert t.host_topic(node) == topic
        async with running(host_consumer(t, node, apply)):
            await t.push(node, port_goal_state("p9"), request_id=rid(), timeout=5)
    assert apply.ports() == ["p9"]


async def test_shared_group_topic_each_agent_applies_only_its_own(kafka_broker):
    """Two nodes share an mq_topic: each agent skips records keyed with the other's IP."""
    topic = f"group-{uuid.uuid4().hex[:8]}"
    a, b = make_node(5, mq_topic=topic), make_node(6, mq_topic=topic)
    apply_a, apply_b = ScriptedApply(), ScriptedApply()
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        async with running(host_consumer(t, a, apply_a), host_consumer(t, b, apply_b)):
            await t.push(a, port_goal_state("pa", host_ip=a.local_ip), request_id=rid(), timeout=5)
            await t.push(b, port_goal_state("pb", host_ip=b.local_ip), request_id=rid(), timeout=5)
            await t.push(a, port_goal_state("pa2", host_ip=a.local_ip), request_id=rid(), timeout=5)
    assert apply_a.ports() == ["pa", "pa2"]
    assert apply_b.ports() == ["pb"]


async def test_first_start_skips_history_and_offline_agent_catches_up_once(kafka_broker):
    """First start reads from the end; after a stop it resumes from its committed offset.

    Pushes made while the agent is down complete when it comes back (each applied once),
    and a further restart applies nothing again.
    """
    node = make_node(7)
    async with transport(kafka_section(kafka_broker.bootstrap, reply_timeout_s=10)) as t:
        await t.ensure_host_topic(node)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
        await producer.start()
        await producer.send_and_wait(
            t.host_topic(node), port_goal_state("old"), key=node.local_ip.encode()
        )
        await producer.stop()
        apply = ScriptedApply()
        async with running(host_consumer(t, node, apply)):
            await t.push(node, port_goal_state("p1"), request_id=rid(), timeout=5)
        assert apply.ports() == ["p1"]  # "old" predates the group's first start
        pushes = [
            asyncio.create_task(
                t.push(node, port_goal_state(f"q{i}"), request_id=rid(), timeout=10)
            )
            for i in range(3)
        ]
        await asyncio.sleep(0.3)
        assert not any(p.done() for p in pushes)
        async with running(host_consumer(t, node, apply)):
            replies = await asyncio.gather(*pushes)
        assert [r.operation_statuses[0].resource_id for r in replies] == ["q0", "q1", "q2"]
        async with running(host_consumer(t, node, apply)):
            await t.push(node, port_goal_state("p2"), request_id=rid(), timeout=5)
    assert apply.ports() == ["p1", "q0", "q1", "q2", "p2"]


async def test_large_message_is_chunked_and_replies_are_merged(kafka_broker):
    """Over max_message_bytes: n records with alcor-part i/n, one merged reply."""
    node = make_node(8)
    ports = [f"port-{i:03d}" for i in range(200)]
    payload = port_goal_state(*ports)
    apply = ScriptedApply()
    section = kafka_section(kafka_broker.bootstrap, max_message_bytes=8192)
    request_id = rid()
    async with transport(section) as t:
        async with running(host_consumer(t, node, apply, max_message_bytes=8192)):
            reply = await t.push(node, payload, request_id=request_id, timeout=5)
        count = len(apply.payloads)
        records = await read_topic(kafka_broker.bootstrap, t.host_topic(node), count)
    assert len(payload) > 8192 and count > 1
    assert sorted(apply.ports()) == ports
    assert sorted(s.resource_id for s in reply.operation_statuses) == ports
    parts = [dict(r.headers)["alcor-part"].decode() for r in records]
    assert parts == [f"{i}/{count}" for i in range(1, count + 1)]
    assert {dict(r.headers)["alcor-request-id"].decode() for r in records} == {request_id}
    for chunk in apply.payloads:
        assert len(chunk) <= 8192 and list(schema.GoalStateV2().parse(chunk).vpc_states) == [
            "vpc-1"
        ]


async def test_topics_are_created_with_one_partition_and_their_configs(kafka_broker):
    """Host topics: 1 partition, max.message.bytes; VPC topics: compacted too."""
    node = make_node(9)
    section = kafka_section(kafka_broker.bootstrap, max_message_bytes=2097152)
    async with transport(section) as t:
        host = await t.ensure_host_topic(node)
        vpc = await t.create_vpc_topic("vpc-a")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([host, vpc])
        configs = await admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, host),
                ConfigResource(ConfigResourceType.TOPIC, vpc),
            ]
        )
    finally:
        await admin.close()
    assert [len(d["partitions"]) for d in described] == [1, 1]
    by_topic = {r[3]: {e[0]: e[1] for e in r[4]} for resp in configs for r in resp.resources}
    assert by_topic[host] == {"max.message.bytes": "2097152"}
    assert by_topic[vpc] == {"max.message.bytes": "2097152", "cleanup.policy": "compact"}


async def test_vpc_topic_delete_now_later_and_cancelled_by_recreate(kafka_broker):
    """delete_vpc_topic(after=0) deletes; a scheduled delete is cancelled by create_vpc_topic."""
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        gone, kept = await t.create_vpc_topic("gone"), await t.create_vpc_topic("kept")
        await t.delete_vpc_topic("gone", after=0)
        await t.delete_vpc_topic("kept", after=0.2)
        assert t.scheduled() == [("delete", kept)]
        await t.create_vpc_topic("kept")
        assert t.scheduled() == []
        await asyncio.sleep(0.3)
        await t.delete_vpc_topic("later", after=0.05)
        await asyncio.sleep(0.3)
        assert t.scheduled() == []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    assert kept in topics and gone not in topics


async def test_forget_node_fails_its_waiting_push(kafka_broker):
    """A push waiting for a deleted node's reply fails at once."""
    node = make_node(10)
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        push = asyncio.create_task(t.push(node, port_goal_state("p"), request_id=rid(), timeout=10))
        while t.inflight() == 0:
            await asyncio.sleep(0.01)
        await t.forget_node(node.node_id)
        with pytest.raises(TransportError, match="removed"):
            await push


async def test_duplicate_request_id_in_flight_is_refused(kafka_broker):
    """Two concurrent pushes with one request id cannot be told apart: the second fails."""
    node = make_node(11)
    request_id = rid()
    async with transport(kafka_section(kafka_broker.bootstrap, reply_timeout_s=0.5)) as t:
        first = asyncio.create_task(
            t.push(node, port_goal_state("p"), request_id=request_id, timeout=0.5)
        )
        while t.inflight() == 0:
            await asyncio.sleep(0.01)
        with pytest.raises(TransportError) as err:
            await t.push(node, port_goal_state("p"), request_id=request_id, timeout=0.5)
        assert err.value.kind == "protocol_error"
        with pytest.raises(TransportError):
            await first


async def test_push_with_broker_down_fails_fast_with_bounded_memory(flaky_kafka):
    """Broker unreachable: pushes fail fast and nothing piles up; then it all works again.

    Each push fails in well under a second with transport_error; once the broker is back,
    pushes (and the agent) work again without a restart.
    """
    node = make_node(12)
    apply = ScriptedApply()
    payload = port_goal_state("big", name_size=200_000)
    async with transport(kafka_section(flaky_kafka.bootstrap)) as t:
        async with running(host_consumer(t, node, apply)):
            await t.push(node, port_goal_state("before"), request_id=rid(), timeout=5)
            await flaky_kafka.disconnect()
            gc.collect()
            tracemalloc.start()
            baseline = tracemalloc.take_snapshot()
            slowest = 0.0
            for _ in range(50):  # 10 MB of goal states, were they buffered
                started = time.monotonic()
                with pytest.raises(TransportError) as err:
                    await t.push(node, payload, request_id=rid(), timeout=5)
                slowest = max(slowest, time.monotonic() - started)
                assert err.value.kind == "transport_error"
            gc.collect()
            grown = sum(
                s.size_diff for s in tracemalloc.take_snapshot().compare_to(baseline, "filename")
            )
            tracemalloc.stop()
            assert t.inflight() == 0
            assert slowest < 1.0
            assert grown < 2_000_000, f"memory grew by {grown} bytes while the broker was down"
            await flaky_kafka.reconnect()
            deadline = time.monotonic() + 20
            while True:
                try:
                    await t.push(node, port_goal_state("after"), request_id=rid(), timeout=5)
                    break
                except TransportError:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
    assert apply.ports()[0] == "before" and apply.ports()[-1] == "after"


async def test_transport_started_while_broker_down_connects_later(flaky_kafka):
    """start() does not fail on an unreachable broker; pushes fail until it is back."""
    node = make_node(13)
    await flaky_kafka.disconnect()
    async with transport(kafka_section(flaky_kafka.bootstrap)) as t:
        started = time.monotonic()
        with pytest.raises(TransportError) as err:
            await t.push(node, port_goal_state("p"), request_id=rid(), timeout=5)
        assert err.value.kind == "transport_error" and time.monotonic() - started < 2
        await flaky_kafka.reconnect()
        apply = ScriptedApply()
        async with running(host_consumer(t, node, apply)):
            await t.push(node, port_goal_state("p"), request_id=rid(), timeout=5)
    assert apply.ports() == ["p"]


async def test_transport_recovers_after_the_broker_lost_everything(flaky_kafka):
    """A relaunched memory broker has no topics: the transport recreates them and works."""
    node = make_node(14)
    async with transport(kafka_section(flaky_kafka.bootstrap)) as t:
        async with running(host_consumer(t, node, ScriptedApply())):
            await t.push(node, port_goal_state("p"), request_id=rid(), timeout=5)
        await flaky_kafka.disconnect()
        await flaky_kafka.stop()
        with pytest.raises(TransportError):
            await t.push(node, port_goal_state("p"), request_id=rid(), timeout=5)
        await flaky_kafka.start()
        apply = ScriptedApply()
        async with running(host_consumer(t, node, apply)):  # a restarted agent
            # The reply topic is re-created, and the reply consumer reads it from its start.
            await t.push(node, port_goal_state("again"), request_id=rid(), timeout=5)
    assert apply.ports() == ["again"]


async def test_publish_vpc_records_keys_and_headers(kafka_broker):
    """Records land on the VPC topic in order, keyed `<port>_n`, with id and format headers."""
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        await t.create_vpc_topic("v1")
        end = await t.publish_vpc_records(
            "v1", [VpcRecord(f"p{i}_n", port_goal_state(neighbor_ids=[f"p{i}"])) for i in range(5)]
        )
        records = await read_topic(kafka_broker.bootstrap, t.vpc_topic("v1"), 5)
    assert end == 5
    assert [r.key for r in records] == [f"p{i}_n".encode() for i in range(5)]
    assert [h for h, _ in records[0].headers] == ["alcor-request-id", "alcor-format-version"]
    assert agent_group("node-x") == "alcor-agent-node-x"


async def test_vpc_consumer_catches_up_replies_only_failures_and_reports_lag(kafka_broker):
    """A subscribed agent catches up, replies only for failures, and its lag goes to 0.

    It reads the VPC topic from the start and signals caught-up at the end offset seen at
    subscribe time.
    """
    node = make_node(16)
    heard = []
    apply = ScriptedApply(status=lambda key: ST.FAILURE if key == "p3_n" else ST.SUCCESS)
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        t.set_reply_listener(heard.append)
        await t.create_vpc_topic("v2")
        await t.publish_vpc_records(
            "v2", [VpcRecord(f"p{i}_n", port_goal_state(neighbor_ids=[f"p{i}"])) for i in range(40)]
        )
        assert (await t.vpc_lags("v2", [node.node_id]))[node.node_id].lag == 40
        slow = ScriptedApply(status=apply.status)

        async def paced(payload: bytes) -> schema.GoalStateOperationReply:
            await asyncio.sleep(0.005)
            return await slow(payload)

        consumer = vpc_consumer(t, node, "v2", paced)
        async with running(consumer):
            assert consumer.targets == {TopicPartition(t.vpc_topic("v2"), 0): 40}
            assert not consumer.caught_up.is_set()
            await consumer.wait_caught_up(timeout=10)
            assert len(slow.payloads) == 40
            await t.publish_vpc_records(
                "v2", [VpcRecord("p40_n", port_goal_state(neighbor_ids=["p40"]))]
            )
            t.schedule_tombstone("v2", "p0_n", after=0)
            deadline = time.monotonic() + 10
            while (lag := (await t.vpc_lags("v2", [node.node_id]))[node.node_id]) != (
                TopicLag(42, 42, 0)
            ):  # 40 + 1 record + the tombstone, all consumed
                assert time.monotonic() < deadline, lag
                await asyncio.sleep(0.05)
    assert len(slow.payloads) == 41  # the tombstone (null value) is not applied
    assert [(h.topic, h.node_id, h.host_ip) for h in heard] == [
        (t.vpc_topic("v2"), node.node_id, node.local_ip)
    ]
    assert [(s.resource_id, s.operation_status) for s in heard[0].reply.operation_statuses] == [
        ("p3", ST.FAILURE)
    ]


async def test_vpc_consumer_on_empty_topic_is_caught_up_at_once(kafka_broker):
    """Nothing to read at subscribe time: caught up immediately."""
    node = make_node(17)
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        await t.create_vpc_topic("empty")
        consumer = vpc_consumer(t, node, "empty", ScriptedApply())
        async with running(consumer):
            await consumer.wait_caught_up(timeout=1)


async def test_publish_to_missing_kafka_is_a_transport_error(flaky_kafka):
    """The auto helpers report an unreachable broker as TransportError too."""
    async with transport(kafka_section(flaky_kafka.bootstrap, reply_timeout_s=2)) as t:
        await t.create_vpc_topic("v")
        await flaky_kafka.disconnect()
        with pytest.raises(TransportError):
            await t.publish_vpc_records("v", [VpcRecord("k", b"")])
        with pytest.raises(TransportError):
            await t.vpc_lags("v", ["n"])


async def test_status_is_preserved_in_the_reply(kafka_broker):
    """A non-SUCCESS status from the agent reaches the caller unchanged."""
    node = make_node(15)
    apply = ScriptedApply(status=lambda key: ST.INVALID_ARG if key == "bad" else ST.SUCCESS)
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        async with running(host_consumer(t, node, apply)):
            reply = await t.push(node, port_goal_state("ok", "bad"), request_id=rid(), timeout=5)
    assert {s.resource_id: s.operation_status for s in reply.operation_statuses} == {
        "ok": ST.SUCCESS,
        "bad": ST.INVALID_ARG,
    }


async def test_apply_may_return_the_encoded_reply(kafka_broker):
    """The reference agent's apply returns reply bytes; they are published as they are."""
    node = make_node(18)
    scripted = ScriptedApply()

    async def encoded(payload: bytes) -> bytes:
        return bytes(await scripted(payload))

    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        async with running(host_consumer(t, node, encoded)):
            reply = await t.push(node, port_goal_state("p1"), request_id=rid(), timeout=5)
    assert [s.resource_id for s in reply.operation_statuses] == ["p1"]


async def test_broker_lost_while_waiting_for_the_ack_fails_early(flaky_kafka):
    """The record went out, then the broker vanished: the push fails within a second or so.

    It does not wait out aiokafka's retries (request_timeout_ms).
    """
    node = make_node(19)
    async with transport(kafka_section(flaky_kafka.bootstrap, reply_timeout_s=20)) as t:
        async with running(host_consumer(t, node, ScriptedApply())):
            await t.push(node, port_goal_state("p0"), request_id=rid(), timeout=5)
            flaky_kafka.hang()
            push = asyncio.create_task(
                t.push(node, port_goal_state("p1"), request_id=rid(), timeout=20)
            )
            while t.inflight() == 0:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # the produce request is now held in the relay
            started = time.monotonic()
            await flaky_kafka.disconnect()
            with pytest.raises(TransportError) as err:
                await push
            assert err.value.kind == "transport_error"
            assert time.monotonic() - started < 2
            await flaky_kafka.reconnect()


async def test_hung_broker_is_a_transport_error_after_the_deadline(flaky_kafka):
    """Connections stay open but nothing answers: no ack within the deadline."""
    node = make_node(20)
    async with transport(kafka_section(flaky_kafka.bootstrap, reply_timeout_s=1)) as t:
        async with running(host_consumer(t, node, ScriptedApply())):
            await t.push(node, port_goal_state("p0"), request_id=rid(), timeout=1)
            flaky_kafka.hang()
            started = time.monotonic()
            with pytest.raises(TransportError) as err:
                await t.push(node, port_goal_state("p1"), request_id=rid(), timeout=1)
            assert err.value.kind == "transport_error" and "acknowledge" in str(err.value)
            assert 1 <= time.monotonic() - started < 3
            flaky_kafka.resume()


async def test_v1_nodes_are_refused(kafka_broker):
    """GoalState V1 exists for ACA over gRPC; a v1 node on Kafka is a protocol error."""
    node = make_node(21, grpc_api="v1")
    async with transport(kafka_section(kafka_broker.bootstrap)) as t:
        with pytest.raises(TransportError) as err:
            await t.push(node, b"", request_id=rid(), timeout=1)
    assert err.value.kind == "protocol_error"
