"""The broker fixtures themselves: reachable, restartable, relay outages keep state."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError

from tests.kafka_broker import wait_until_ready


async def _topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def test_session_broker_answers_metadata(kafka_broker):
    """The session broker is ready when the fixture returns."""
    assert isinstance(await _topics(kafka_broker.bootstrap), list)


async def test_flaky_broker_keeps_state_across_disconnect(flaky_kafka):
    """A relay outage refuses clients; after it the topic and its records are still there."""
    admin = AIOKafkaAdminClient(bootstrap_servers=flaky_kafka.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic("keep", 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=flaky_kafka.bootstrap)
    await producer.start()
    try:
        first = await producer.send_and_wait("keep", b"one")
        await flaky_kafka.disconnect()
        with pytest.raises(KafkaConnectionError):
            await _topics(flaky_kafka.bootstrap)
        await flaky_kafka.reconnect()
        second = await producer.send_and_wait("keep", b"two")
    finally:
        await producer.stop()
    assert "keep" in await _topics(flaky_kafka.bootstrap)
    assert second.offset == first.offset + 1


async def test_stop_start_relaunches_with_empty_storage(flaky_kafka):
    """stop()/start() relaunch the process on the same port; memory storage starts empty."""
    admin = AIOKafkaAdminClient(bootstrap_servers=flaky_kafka.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic("gone", 1, 1)])
    await admin.close()
    await flaky_kafka.disconnect()
    await flaky_kafka.stop()
    assert not flaky_kafka.running
    await flaky_kafka.start()
    await wait_until_ready(flaky_kafka.bootstrap)
    assert "gone" not in await _topics(flaky_kafka.bootstrap)
