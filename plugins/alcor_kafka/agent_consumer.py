"""Agent side of the Kafka path: consume a host topic or a per-VPC topic, apply, reply, commit.

Southbound spec §2.4 (host topic) and §2.5 (per-VPC topics). Each consumer stores its
offsets in the agent's group (`alcor-agent-<node_id>`) and commits only after the reply
to a record was acknowledged by the broker, so an agent that stops mid-way re-applies
(harmless: revisions) rather than skips. Partitions are assigned directly, not through a
group rebalance: `start()` returns once the consumer is positioned, and the host consumer
and the VPC consumers of one agent share the group without disturbing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code

from alcor.proto import schema
from alcor.southbound.wire import decode_reply

from . import wire
from .clients import end_offsets, retrieve, stop_consumer

_LOGGER = logging.getLogger(__name__)
ST = schema.OperationStatus
# The agent's apply step: a GoalStateV2 in, its reply out (a message or already encoded).
Apply = Callable[[bytes], Awaitable[schema.GoalStateOperationReply | bytes]]
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
RETRY_S = 0.5
STOP_TIMEOUT_S = 10.0
_UNKNOWN_TOPIC = 3
_TOPIC_ALREADY_EXISTS = 36


def reply_producer(
    bootstrap: str | Sequence[str], max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> AIOKafkaProducer:
    """Return an (unstarted) producer for replies; many agent consumers may share one."""
    return AIOKafkaProducer(
        bootstrap_servers=_servers(bootstrap),
        acks="all",
        compression_type="gzip",
        max_request_size=max_message_bytes,
        request_timeout_ms=10000,
        client_id="alcor-agent",
    )


class _TopicConsumer:
    """Consume one topic in order: apply each record, reply, commit after the reply."""

    kind: ClassVar[str] = "topic"

    def __init__(
        self,
        bootstrap: str | Sequence[str],
        topic: str,
        group_id: str,
        local_ip: str,
        apply: Apply,
        reply_topic: str = "alcor-replies",
        *,
        node_id: str | None = None,
        producer: AIOKafkaProducer | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        fetch_max_wait_ms: int = 100,
    ) -> None:
        self.bootstrap = _servers(bootstrap)
        self.topic = topic
        self.group_id = group_id
        self.local_ip = local_ip
        self.node_id = node_id or group_id.removeprefix("alcor-agent-")
        self.reply_topic = reply_topic
        self.max_message_bytes = max_message_bytes
        # See KafkaConfig.fetch_max_wait_ms: the latency it adds on brokers like Tansu.
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.applied = 0  # records handed to `apply`
        self.positions: dict[TopicPartition, int] = {}
        self._apply = apply
        self._key = local_ip.encode()
        self._producer = producer
        self._owns_producer = producer is None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = False  # applying a batch
        self._stopping = False

    async def start(self) -> None:
        """Connect, assign the topic's partitions, position them and start consuming."""
        partitions = await self._partitions()
        if self._producer is None:
            self._producer = reply_producer(self.bootstrap, self.max_message_bytes)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            # Used only when a stored position falls outside the log: never skip records.
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.max_message_bytes,
            fetch_max_bytes=max(self.max_message_bytes, 52428800),
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            client_id=f"alcor-agent-{self.node_id}",
        )
        try:
            if self._owns_producer:
                await self._producer.start()
            await consumer.start()
            tps = [TopicPartition(self.topic, p) for p in partitions]
            consumer.assign(tps)
            await self._position(consumer, tps)
            for tp in tps:
                self.positions[tp] = await consumer.position(tp)
        except BaseException:
            with contextlib.suppress(Exception):
                await stop_consumer(consumer)
            await self._stop_producer()
            raise
        self._consumer = consumer
        self._positioned()
        self._task = asyncio.create_task(self._run(), name=f"kafka-{self.kind}-{self.topic}")
        self._task.add_done_callback(_log_crash)

    @property
    def running(self) -> bool:
        """Return True while the consuming task runs (it ends on stop() or a crash)."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop consuming and close the clients this consumer opened.

        A batch being applied is finished first (applied, replied, committed), so a stop
        never leaves a commit half done.
        """
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            if not self._busy:
                task.cancel()  # waiting for records: nothing to finish
            # A crash was logged when it happened (_log_crash).
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, STOP_TIMEOUT_S)
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await stop_consumer(consumer)
        await self._stop_producer()

    async def _stop_producer(self) -> None:
        if self._owns_producer and self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    # ---- hooks -------------------------------------------------------------------------
    async def _position(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        raise NotImplementedError

    def _positioned(self) -> None:
        """Called once every partition has a position."""

    def _advanced(self) -> None:
        """Called after positions moved forward."""

    def _accept(self, key: bytes | None) -> bool:
        return True

    def _reply_for(self, reply: schema.GoalStateOperationReply | bytes) -> bytes | None:
        return reply if isinstance(reply, bytes) else bytes(reply)

    def _extra_headers(self) -> list[tuple[str, bytes]]:
        return []

    async def _create_topic(self, admin: AIOKafkaAdminClient) -> bool:
        return False

    # ---- consuming ---------------------------------------------------------------------
    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            for attempt in range(2):
                (entry,) = await admin.describe_topics([self.topic])
                code = entry["error_code"]
                if not code:
                    return sorted(p["partition"] for p in entry["partitions"]) or [0]
                if code != _UNKNOWN_TOPIC or attempt or not await self._create_topic(admin):
                    raise for_code(code)(f"topic {self.topic}")
        finally:
            await admin.close()
        raise AssertionError("unreachable")

    async def _run(self) -> None:
        assert self._consumer is not None
        while not self._stopping:
            try:
                batches = await self._consumer.getmany(timeout_ms=1000)
            except KafkaError as exc:
                _LOGGER.warning("%s: reading %s failed: %s", self.node_id, self.topic, exc)
                await asyncio.sleep(RETRY_S)
                continue
            self._busy = True
            try:
                for tp, records in batches.items():
                    await self._process(tp, records)
            finally:
                self._busy = False

    async def _process(self, tp: TopicPartition, records: list[Any]) -> None:
        assert self._consumer is not None and self._producer is not None
        pending = []
        try:
            for record in records:
                if record.value is None or not self._accept(record.key):
                    continue
                fut = await self._handle(record)
                if fut is not None:
                    pending.append(fut)
            await asyncio.gather(*pending)
        except KafkaError as exc:
            # The reply did not reach the broker: go back and apply again (revisions make
            # the repeat harmless), so the controller gets its reply.
            _LOGGER.warning(
                "%s: replying to %s records failed, retrying: %s", self.node_id, self.topic, exc
            )
            self._consumer.seek(tp, records[0].offset)
            await asyncio.sleep(RETRY_S)
            return
        next_offset = records[-1].offset + 1
        self.positions[tp] = next_offset
        try:
            await self._consumer.commit({tp: next_offset})
        except KafkaError as exc:  # the next commit covers these records
            _LOGGER.warning(
                "%s: committing %s@%d failed: %s", self.node_id, self.topic, next_offset, exc
            )
        self._advanced()

    async def _handle(self, record: Any) -> asyncio.Future[Any] | None:
        assert self._producer is not None
        headers = wire.headers_dict(record.headers)
        self.applied += 1
        try:
            reply = await self._apply(record.value)
        except Exception:
            # No reply: the controller times out and re-sends the same revisions.
            _LOGGER.exception("%s: applying %s@%d failed", self.node_id, self.topic, record.offset)
            return None
        out = self._reply_for(reply)
        if out is None:
            return None
        reply_headers = [(wire.H_REQUEST_ID, headers.get(wire.H_REQUEST_ID, "").encode())]
        if wire.H_PART in headers:
            reply_headers.append((wire.H_PART, headers[wire.H_PART].encode()))
        reply_headers += [
            (wire.H_HOST_IP, self._key),
            (wire.H_NODE_ID, self.node_id.encode()),
            *self._extra_headers(),
        ]
        fut: asyncio.Future[Any] = await self._producer.send(
            self.reply_topic, out, key=self._key, headers=reply_headers
        )
        fut.add_done_callback(retrieve)
        return fut


class HostTopicConsumer(_TopicConsumer):
    """Consume a node's host topic (group `alcor-agent-<node_id>`, no auto-commit).

    On the very first start of the group it begins at the end of the topic and commits that
    position at once, so everything published while the agent is later offline is caught
    up. Records keyed with another host's IP (shared `mq_topic`) are skipped.
    """

    kind: ClassVar[str] = "host"

    async def _position(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        for tp in tps:
            committed = await consumer.committed(tp)
            if committed is None:
                end = (await end_offsets(consumer, [tp]))[tp]
                consumer.seek(tp, end)
                await consumer.commit({tp: end})
            else:
                consumer.seek(tp, committed)

    def _accept(self, key: bytes | None) -> bool:
        return key == self._key

    async def _create_topic(self, admin: AIOKafkaAdminClient) -> bool:
        # The agent may start before the controller created its topic.
        configs = {"max.message.bytes": str(self.max_message_bytes)}
        response = await admin.create_topics([NewTopic(self.topic, 1, 1, topic_configs=configs)])
        for _name, code, *_ in response.topic_errors:
            if code and code != _TOPIC_ALREADY_EXISTS:
                raise for_code(code)(f"creating topic {self.topic}")
        return True


class VpcTopicConsumer(_TopicConsumer):
    """Consume a subscribed per-VPC topic from its earliest offset.

    `caught_up` is set once everything up to the end offset seen at start (subscribe time)
    has been applied, which is when the agent answers the Subscribe. Replies are sent only
    for records with a non-SUCCESS status, and carry `alcor-topic`.
    """

    kind: ClassVar[str] = "vpc"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets: dict[TopicPartition, int] = {}
        self.caught_up = asyncio.Event()

    async def _position(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        self.targets = await end_offsets(consumer, tps)
        await consumer.seek_to_beginning(*tps)

    def _positioned(self) -> None:
        self._advanced()

    def _advanced(self) -> None:
        if all(self.positions.get(tp, 0) >= end for tp, end in self.targets.items()):
            self.caught_up.set()

    async def wait_caught_up(self, timeout: float | None = None) -> None:
        """Wait until the records present at subscribe time are applied."""
        async with asyncio.timeout(timeout):
            await self.caught_up.wait()

    def _reply_for(self, reply: schema.GoalStateOperationReply | bytes) -> bytes | None:
        if isinstance(reply, bytes):
            reply = decode_reply(reply)
        # OUT_OF_ORDER is routine here (contexts re-sent at the same revision): not a failure.
        failed = [
            s
            for s in reply.operation_statuses
            if s.operation_status not in (ST.SUCCESS, ST.OUT_OF_ORDER)
        ]
        if not failed:
            return None
        return bytes(
            schema.GoalStateOperationReply(
                format_version=reply.format_version,
                operation_statuses=failed,
                message_total_operation_time=reply.message_total_operation_time,
            )
        )

    def _extra_headers(self) -> list[tuple[str, bytes]]:
        return [(wire.H_TOPIC, self.topic.encode())]


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _LOGGER.error("Kafka consumer task %s crashed", task.get_name(), exc_info=task.exception())


def _servers(bootstrap: str | Sequence[str]) -> list[str]:
    if isinstance(bootstrap, str):
        return [s.strip() for s in bootstrap.split(",") if s.strip()]
    return list(bootstrap)
