"""The controller's reply consumer: reads `alcor-replies` and completes waiting pushes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from alcor.proto import schema
from alcor.southbound.wire import decode_reply

from . import wire

_LOGGER = logging.getLogger(__name__)
COMMIT_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class AgentReply:
    """A reply record from an agent, as read from the reply topic."""

    request_id: str
    part: str | None
    host_ip: str
    node_id: str
    topic: str | None  # set for replies to per-VPC topic records
    reply: schema.GoalStateOperationReply


ReplyListener = Callable[[AgentReply], None]


@dataclass(slots=True)
class Waiter:
    """One push waiting for the replies to its `parts` records."""

    node_id: str
    host_ip: str
    parts: int
    future: asyncio.Future[schema.GoalStateOperationReply]
    replies: dict[int, schema.GoalStateOperationReply] = field(default_factory=dict)


class ReplyConsumer:
    """Consume the reply topic (group `alcor-controller`) and match replies by request id.

    Partitions are assigned directly rather than by group rebalance: there is one
    controller, a join would add seconds at start, and `start()` can then return only once
    the consumer is positioned, so no reply to a later push can be missed. The group still
    stores the committed offsets.
    """

    def __init__(self, consumer: AIOKafkaConsumer, topic: str) -> None:
        self._consumer = consumer
        self.topic = topic
        self.waiters: dict[str, Waiter] = {}
        self.listener: ReplyListener | None = None
        self._task: asyncio.Task[None] | None = None
        self._committing = False
        self._stopping = False

    async def start(self, partitions: list[int]) -> None:
        """Assign the reply topic's partitions, start at their end and begin reading."""
        tps = [TopicPartition(self.topic, p) for p in partitions]
        self._consumer.assign(tps)
        # Nothing is in flight when the transport starts, so older replies are of no use.
        await self._consumer.seek_to_end(*tps)
        for tp in tps:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run(), name="kafka-reply-consumer")
        self._task.add_done_callback(_log_crash)

    @property
    def alive(self) -> bool:
        """Return False once the reading task has ended (it only ends on a bug)."""
        return self._task is not None and not self._task.done()

    async def rewind(self) -> None:
        """Go back to the start of every assigned partition (the topic was re-created)."""
        tps = list(self._consumer.assignment())
        if tps:
            await self._consumer.seek_to_beginning(*tps)

    async def stop(self) -> None:
        """Stop reading (waiting pushes are failed by the transport); never mid-commit."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            if not self._committing:
                task.cancel()
            # A crash was logged when it happened (_log_crash).
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 10.0)

    async def _run(self) -> None:
        last_commit = time.monotonic()
        while not self._stopping:
            try:
                batches = await self._consumer.getmany(timeout_ms=1000)
            except KafkaError as exc:
                _LOGGER.warning("reading %s failed: %s", self.topic, exc)
                await asyncio.sleep(0.5)
                continue
            for records in batches.values():
                for record in records:
                    self._dispatch(record.headers, record.value)
            if batches and time.monotonic() - last_commit >= COMMIT_EVERY_S:
                last_commit = time.monotonic()
                self._committing = True
                try:
                    await self._consumer.commit()
                except KafkaError as exc:
                    _LOGGER.debug("committing %s offsets failed: %s", self.topic, exc)
                finally:
                    self._committing = False

    def _dispatch(self, raw_headers: object, value: bytes | None) -> None:
        headers = wire.headers_dict(raw_headers)  # type: ignore[arg-type]
        request_id = headers.get(wire.H_REQUEST_ID)
        if not request_id or value is None:
            return
        try:
            reply = decode_reply(value)
            index, total = wire.parse_part(headers.get(wire.H_PART))
        except Exception as exc:  # a malformed record must not stop the consumer
            _LOGGER.warning("dropping malformed reply %s: %s", request_id, exc)
            return
        waiter = self.waiters.get(request_id)
        if waiter is None:
            self._unmatched(headers, request_id, reply)
            return
        host_ip = headers.get(wire.H_HOST_IP)
        if host_ip and host_ip != waiter.host_ip:
            _LOGGER.warning(
                "reply to %s came from %s, expected %s; ignored",
                request_id,
                host_ip,
                waiter.host_ip,
            )
            return
        if total != waiter.parts:
            _LOGGER.warning(
                "reply to %s says %d parts, %d were sent; ignored", request_id, total, waiter.parts
            )
            return
        waiter.replies.setdefault(index, reply)
        if len(waiter.replies) == waiter.parts and not waiter.future.done():
            waiter.future.set_result(wire.merge_replies(waiter.replies))

    def _unmatched(
        self, headers: dict[str, str], request_id: str, reply: schema.GoalStateOperationReply
    ) -> None:
        topic = headers.get(wire.H_TOPIC)
        if topic is None:
            _LOGGER.debug("late or unknown reply %s ignored", request_id)
            return
        if self.listener is None:
            _LOGGER.warning(
                "reply from %s for %s record %s dropped: no listener",
                headers.get(wire.H_HOST_IP),
                topic,
                request_id,
            )
            return
        try:
            self.listener(
                AgentReply(
                    request_id,
                    headers.get(wire.H_PART),
                    headers.get(wire.H_HOST_IP, ""),
                    headers.get(wire.H_NODE_ID, ""),
                    topic,
                    reply,
                )
            )
        except Exception:
            _LOGGER.exception("reply listener failed")


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _LOGGER.error("Kafka task %s crashed", task.get_name(), exc_info=task.exception())
