"""Kafka southbound transport: goal states on per-host topics, replies on `alcor-replies`.

Southbound spec §2.4 (normal path) and the topic side of §2.5 (`auto`: per-VPC topics).
One AIOKafkaProducer, one admin client and one reply consumer per controller. Clients
connect lazily: a broker that is down at start-up makes pushes fail (and the data plane
back off), it does not stop the controller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from alcor.proto import schema
from alcor.southbound.base import NodeTarget, SouthboundContext, TransportError

from . import wire
from .clients import close_quietly, retrieve, stop_consumer
from .config import KafkaConfig
from .delayed import Delayed
from .replies import ReplyConsumer, ReplyListener, Waiter
from .topics import TopicAdmin, TopicLag

_LOGGER = logging.getLogger(__name__)
CONTROLLER_GROUP = "alcor-controller"
AGENT_GROUP_PREFIX = "alcor-agent-"
ACK_CHECK_S = 0.5  # while waiting for acks, how often to check the broker is reachable


def agent_group(node_id: str) -> str:
    """Return the consumer group of a node's agent (host topic and VPC topics)."""
    return AGENT_GROUP_PREFIX + node_id


@dataclass(frozen=True, slots=True)
class VpcRecord:
    """One record for a per-VPC topic: key `<port_id>_n`, a GoalStateV2 or None (tombstone)."""

    key: str
    value: bytes | None
    request_id: str = ""  # a new UUID4 when empty


class KafkaTransport:
    """Push goal states through Kafka and wait for the agent's reply (entry point `kafka`)."""

    name: ClassVar[str] = "kafka"

    def __init__(self, ctx: SouthboundContext) -> None:
        self.config = KafkaConfig.from_mapping(ctx.config)
        self._ctx = ctx
        self._producer: AIOKafkaProducer | None = None
        self._replies: ReplyConsumer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self.topics = TopicAdmin(self.config)
        self._connect_lock = asyncio.Lock()
        self._listener: ReplyListener | None = None
        self._later = Delayed()
        self._chunk_limit = self.config.max_message_bytes - wire.RECORD_OVERHEAD

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Begin connecting in the background; the first push waits for it or retries it.

        Returns without yielding to the loop, so callers that start transports lazily
        cannot race each other here.
        """
        self._later.spawn(self._connect_early(), name="kafka-transport-connect")

    async def _connect_early(self) -> None:
        try:
            async with asyncio.timeout(self.config.reply_timeout_s):
                await self._connect()
        except (KafkaError, OSError, TimeoutError) as exc:
            _LOGGER.warning(
                "Kafka broker %s not reachable at start (pushes will retry): %s",
                ",".join(self.config.bootstrap_servers),
                exc,
            )

    async def stop(self) -> None:
        """Fail waiting pushes, cancel scheduled topic work and close every client."""
        await self._later.close()
        await self._disconnect()

    async def _connect(self) -> None:
        async with self._connect_lock:
            if self._replies is not None:
                return
            cfg = self.config
            servers = list(cfg.bootstrap_servers)
            producer = AIOKafkaProducer(
                bootstrap_servers=servers,
                acks="all",
                linger_ms=5,
                max_request_size=cfg.max_message_bytes,
                compression_type=cfg.compression_type,
                enable_idempotence=cfg.idempotent,
                request_timeout_ms=int(cfg.reply_timeout_s * 1000),
                client_id="alcor-controller",
            )
            consumer = AIOKafkaConsumer(
                bootstrap_servers=servers,
                group_id=CONTROLLER_GROUP,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=cfg.max_message_bytes,
                fetch_max_bytes=max(cfg.max_message_bytes, 52428800),
                fetch_max_wait_ms=cfg.fetch_max_wait_ms,
                client_id="alcor-controller",
            )
            try:
                await producer.start()
                await consumer.start()
                await self.topics.open()
                await self.topics.ensure(cfg.reply_topic, self.topics.host_configs())
                partitions = await self.topics.partitions(cfg.reply_topic)
                replies = ReplyConsumer(consumer, cfg.reply_topic)
                replies.listener = self._listener
                await replies.start(partitions)
            except BaseException:
                await close_quietly(producer.stop(), stop_consumer(consumer), self.topics.close())
                raise
            self._producer, self._consumer, self._replies = producer, consumer, replies

    async def _disconnect(self) -> None:
        replies, self._replies = self._replies, None
        if replies is not None:
            await replies.stop()
            for waiter in replies.waiters.values():
                if not waiter.future.done():
                    waiter.future.set_exception(TransportError("Kafka transport stopped"))
        producer, consumer = self._producer, self._consumer
        self._producer = self._consumer = None
        # Bounded: a producer flushing to a dead broker would wait for request_timeout_ms.
        if producer is not None:
            await close_quietly(producer.stop())
        if consumer is not None:
            await close_quietly(stop_consumer(consumer))
        await close_quietly(self.topics.close())

    # ---- per-host push -------------------------------------------------------------------
    def host_topic(self, node: NodeTarget) -> str:
        """Return the node's topic: its `mq_topic`, else prefix + node id."""
        return node.mq_topic or self.config.host_topic_prefix + node.node_id

    async def ensure_host_topic(self, node: NodeTarget) -> str:
        """Create the node's topic now (on node create) instead of at its first push."""
        topic = self.host_topic(node)
        async with self._broker_errors(f"creating {topic}"):
            await self._connect()
            await self._reachable()
            await self.topics.ensure(topic, self.topics.host_configs())
        return topic

    async def push(
        self, node: NodeTarget, payload: bytes, *, request_id: str, timeout: float
    ) -> schema.GoalStateOperationReply:
        """Publish one GoalStateV2 to the node's topic and return the agent's reply.

        The wait is `max(timeout, reply_timeout_s)`. Raises TransportError: "deadline" when
        the reply does not arrive in time, "transport_error" when the broker is unreachable
        or does not acknowledge, "protocol_error" when a state cannot fit in a record.
        """
        if node.grpc_api == "v1":
            # Agents read GoalStateV2 from their topic; V1 exists for ACA over gRPC only.
            raise TransportError(
                f"node {node.node_id}: grpc_api v1 cannot go over Kafka", "protocol_error"
            )
        try:
            chunks = wire.split_goal_state(payload, node.local_ip, self._chunk_limit)
        except ValueError as exc:
            raise TransportError(f"goal state for {node.node_id}: {exc}", "protocol_error") from exc
        topic = self.host_topic(node)
        budget = max(timeout, self.config.reply_timeout_s)
        waiter: Waiter | None = None
        acked = False
        try:
            async with asyncio.timeout(budget):
                producer, replies = await self._ready(topic)
                if request_id in replies.waiters:
                    raise TransportError(
                        f"request {request_id} already in flight", "protocol_error"
                    )
                waiter = Waiter(
                    node.node_id,
                    node.local_ip,
                    len(chunks),
                    asyncio.get_running_loop().create_future(),
                )
                replies.waiters[request_id] = waiter
                await self._produce(producer, topic, node.local_ip, request_id, chunks)
                acked = True
                return await waiter.future
        except TimeoutError as exc:
            if not acked:
                self.topics.forget()
                raise TransportError(
                    f"{topic}: broker did not acknowledge request {request_id} within {budget} s",
                    "transport_error",
                ) from exc
            raise TransportError(
                f"{topic}: no reply from {node.local_ip} to request {request_id} within {budget} s",
                "deadline",
            ) from exc
        except (KafkaError, OSError) as exc:
            self.topics.forget()
            raise TransportError(f"{topic}: {exc}", "transport_error") from exc
        finally:
            if (
                waiter is not None
                and self._replies is not None
                and self._replies.waiters.get(request_id) is waiter
            ):
                del self._replies.waiters[request_id]

    async def _ready(self, topic: str) -> tuple[AIOKafkaProducer, ReplyConsumer]:
        """Connect, fail fast if the broker is unreachable, make sure the topics exist."""
        if self._replies is not None and not self._replies.alive:
            _LOGGER.error("the Kafka reply consumer stopped; reconnecting")
            await self._disconnect()
        await self._connect()
        producer, replies = self._producer, self._replies
        assert producer is not None and replies is not None
        await self._reachable(topic)
        if await self.topics.ensure(self.config.reply_topic, self.topics.host_configs()):
            # Created just now although the consumer was positioned on it: the broker lost
            # its data (or someone deleted the topic). Read the new one from its start.
            await replies.rewind()
        await self.topics.ensure(topic, self.topics.host_configs())
        return producer, replies

    async def _reachable(self, topic: str | None = None) -> None:
        """Raise KafkaConnectionError unless the topic's leader (or any broker) answers.

        Refusing instead of queueing in the producer (or waiting out an admin request)
        while the broker is down keeps memory bounded and lets the data plane back off.
        """
        assert self._producer is not None
        client = self._producer.client
        leader = client.cluster.leader_for_partition(TopicPartition(topic, 0)) if topic else None
        if leader is not None and leader >= 0:
            candidates = [leader]
        else:
            candidates = [broker.nodeId for broker in client.cluster.brokers()]
        for node_id in candidates:
            if await client.ready(node_id):
                return
        if candidates:
            raise KafkaConnectionError(f"no Kafka broker reachable (tried {candidates})")

    async def _produce(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        host_ip: str,
        request_id: str,
        chunks: list[bytes],
    ) -> None:
        key = host_ip.encode()
        total = len(chunks)
        futures = []
        for index, chunk in enumerate(chunks, 1):
            part = f"{index}/{total}" if total > 1 else None
            fut = await producer.send(
                topic, chunk, key=key, headers=wire.push_headers(request_id, host_ip, part)
            )
            fut.add_done_callback(retrieve)
            futures.append(fut)
        await self._acked(futures, topic)

    async def _acked(self, futures: list[asyncio.Future[Any]], topic: str) -> list[Any]:
        """Wait for the broker's acks; fail early if it becomes unreachable meanwhile.

        aiokafka would keep the records and retry until request_timeout_ms; the data plane
        is better served by an early failure (it backs off, then sends the latest state).
        """
        pending = set(futures)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=ACK_CHECK_S)
            if pending:
                await self._reachable(topic)
        return [fut.result() for fut in futures]

    async def forget_node(self, node_id: str) -> None:
        """Fail the pushes still waiting for a reply from a deleted node."""
        if self._replies is None:
            return
        for waiter in self._replies.waiters.values():
            if waiter.node_id == node_id and not waiter.future.done():
                waiter.future.set_exception(TransportError(f"node {node_id} was removed"))

    # ---- replies not tied to a push ------------------------------------------------------
    def set_reply_listener(self, listener: ReplyListener | None) -> None:
        """Receive the agents' replies to per-VPC topic records (non-SUCCESS only)."""
        self._listener = listener
        if self._replies is not None:
            self._replies.listener = listener

    # ---- auto: per-VPC topics ------------------------------------------------------------
    def vpc_topic(self, vpc_id: str) -> str:
        """Return the per-VPC topic name."""
        return self.config.vpc_topic_prefix + vpc_id

    async def create_vpc_topic(self, vpc_id: str) -> str:
        """Create the compacted per-VPC topic (and cancel a scheduled delete of it)."""
        topic = self.vpc_topic(vpc_id)
        self._later.cancel(("delete", topic))
        async with self._broker_errors(f"creating {topic}"):
            await self._connect()
            await self._reachable()
            await self.topics.ensure(topic, self.topics.vpc_configs(), force=True)
        return topic

    async def publish_vpc_records(self, vpc_id: str, records: Iterable[VpcRecord]) -> int:
        """Produce records to the VPC topic, wait for every ack; return the end offset.

        A record with a value cancels a pending tombstone of its key.
        """
        topic = self.vpc_topic(vpc_id)
        last = -1
        async with self._broker_errors(f"publishing to {topic}"):
            producer, _ = await self._ready(topic)
            futures = []
            for record in records:
                if record.value is not None:
                    self._later.cancel(("tombstone", f"{topic}/{record.key}"))
                    if len(record.value) > self._chunk_limit:
                        raise TransportError(
                            f"{topic}: record {record.key} is {len(record.value)} bytes",
                            "protocol_error",
                        )
                headers = [
                    (wire.H_REQUEST_ID, (record.request_id or str(uuid.uuid4())).encode()),
                    (wire.H_FORMAT_VERSION, wire.FORMAT_VERSION),
                ]
                fut = await producer.send(
                    topic, record.value, key=record.key.encode(), headers=headers
                )
                fut.add_done_callback(retrieve)
                futures.append(fut)
            for meta in await self._acked(futures, topic):
                last = max(last, meta.offset)
        return last + 1

    def schedule_tombstone(self, vpc_id: str, key: str, *, after: float | None = None) -> None:
        """Write a null value for `key` after `tombstone_delay_s` (compaction drops it)."""
        delay = self.config.tombstone_delay_s if after is None else after
        topic = self.vpc_topic(vpc_id)
        self._later.schedule(
            ("tombstone", f"{topic}/{key}"),
            delay,
            lambda: self.publish_vpc_records(vpc_id, [VpcRecord(key, None)]),
        )

    async def delete_vpc_topic(self, vpc_id: str, *, after: float | None = None) -> None:
        """Delete the VPC topic after `vpc_topic_delete_grace_s` (or `after`; 0 = now)."""
        topic = self.vpc_topic(vpc_id)
        delay = self.config.vpc_topic_delete_grace_s if after is None else after
        if delay > 0:
            self._later.schedule(
                ("delete", topic), delay, lambda: self.delete_vpc_topic(vpc_id, after=0)
            )
            return
        self._later.cancel(("delete", topic))
        async with self._broker_errors(f"deleting {topic}"):
            await self._connect()
            await self._reachable()
            await self.topics.delete(topic)

    async def consumer_lags(self, topic: str, group_ids: list[str]) -> dict[str, TopicLag]:
        """Return each consumer group's committed offset, the end offset and the lag."""
        async with self._broker_errors(f"reading offsets on {topic}"):
            await self._connect()
            await self._reachable(topic)
            return await self.topics.lags(topic, group_ids)

    async def vpc_lags(self, vpc_id: str, node_ids: list[str]) -> dict[str, TopicLag]:
        """Return how far each node's agent is behind on the VPC topic, by node id."""
        lags = await self.consumer_lags(self.vpc_topic(vpc_id), [agent_group(n) for n in node_ids])
        return {n: lags[agent_group(n)] for n in node_ids}

    # ---- helpers -------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _broker_errors(self, what: str) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.config.reply_timeout_s):
                yield
        except TimeoutError as exc:
            self.topics.forget()
            raise TransportError(f"{what}: timed out", "transport_error") from exc
        except (KafkaError, OSError) as exc:
            self.topics.forget()
            raise TransportError(f"{what}: {exc}", "transport_error") from exc

    def scheduled(self) -> list[tuple[str, str]]:
        """Return the pending delayed actions: ("delete", topic) / ("tombstone", topic/key)."""
        return self._later.pending()

    def inflight(self) -> int:
        """Return the number of pushes waiting for a reply."""
        return len(self._replies.waiters) if self._replies is not None else 0


@contextlib.asynccontextmanager
async def transport(config: Mapping[str, Any]) -> AsyncIterator[KafkaTransport]:
    """Run a started KafkaTransport for the duration of the block (tests, tools)."""
    t = KafkaTransport(SouthboundContext(config=config))
    await t.start()
    try:
        yield t
    finally:
        await t.stop()
