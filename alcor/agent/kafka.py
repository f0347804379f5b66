"""The reference agent's Kafka side: its host topic and the VPC topics it is told about.

Kafka is optional for the agent (the `kafka` extra); this module is imported only when an
agent is started with a bootstrap address.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from alcor_kafka.agent_consumer import HostTopicConsumer, VpcTopicConsumer, reply_producer
from alcor_kafka.transport import agent_group

_LOGGER = logging.getLogger(__name__)
HOST_TOPIC_PREFIX = "alcor-host-"
REPLY_TOPIC = "alcor-replies"
SUBSCRIBE_CATCH_UP_S = 60.0

Apply = Callable[[bytes], Awaitable[Any]]


class AgentKafka:
    """Consume one agent's host topic, and its subscribed per-VPC topics, into `apply`."""

    def __init__(
        self,
        bootstrap: str,
        node_id: str,
        local_ip: str,
        apply: Apply,
        *,
        host_topic: str | None = None,
        reply_topic: str = REPLY_TOPIC,
        fetch_max_wait_ms: int = 100,
    ) -> None:
        self._bootstrap = bootstrap
        self._node_id = node_id
        self._ip = local_ip
        self._apply = apply
        self._host_topic = host_topic or HOST_TOPIC_PREFIX + node_id
        self._reply_topic = reply_topic
        self._fetch_wait = fetch_max_wait_ms
        self._producer: Any = None
        self._host: HostTopicConsumer | None = None
        self._vpcs: dict[str, VpcTopicConsumer] = {}

    def _options(self) -> dict[str, Any]:
        return {
            "node_id": self._node_id,
            "producer": self._producer,
            "fetch_max_wait_ms": self._fetch_wait,
        }

    async def start(self) -> None:
        """Start the reply producer and the host-topic consumer (before announcing a restart)."""
        self._producer = reply_producer(self._bootstrap)
        await self._producer.start()
        self._host = HostTopicConsumer(
            self._bootstrap,
            self._host_topic,
            agent_group(self._node_id),
            self._ip,
            self._apply,
            self._reply_topic,
            **self._options(),
        )
        await self._host.start()

    async def subscribe(self, topic: str) -> None:
        """Read a VPC topic from its start; return once caught up to its end at subscribe time."""
        consumer = self._vpcs.get(topic)
        if consumer is None:
            consumer = VpcTopicConsumer(
                self._bootstrap,
                topic,
                agent_group(self._node_id),
                self._ip,
                self._apply,
                self._reply_topic,
                **self._options(),
            )
            await consumer.start()
            self._vpcs[topic] = consumer
        await consumer.wait_caught_up(SUBSCRIBE_CATCH_UP_S)

    async def unsubscribe(self, topic: str) -> None:
        """Stop consuming a VPC topic."""
        consumer = self._vpcs.pop(topic, None)
        if consumer is not None:
            await consumer.stop()

    def describe(self) -> dict[str, Any]:
        """Return the topics consumed (for the state dump)."""
        return {"host_topic": self._host_topic, "vpc_topics": sorted(self._vpcs)}

    async def stop(self) -> None:
        """Stop every consumer, then the producer."""
        for consumer in [*self._vpcs.values(), self._host]:
            if consumer is not None:
                with contextlib.suppress(Exception):
                    await consumer.stop()
        self._vpcs.clear()
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
