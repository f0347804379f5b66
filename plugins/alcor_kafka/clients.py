"""aiokafka helpers: end offsets that hold on every broker, a consumer stop that finishes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

_LOGGER = logging.getLogger(__name__)
PROBE_TIMEOUT_MS = 2000


async def end_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], timeout_ms: int = PROBE_TIMEOUT_MS
) -> dict[TopicPartition, int]:
    """Return the end offset of each partition in `tps` (assigned to `consumer`).

    The ListOffsets answer is checked against a fetch of the last record: Tansu (the test
    broker) reports the end of a multi-record batch as the batch's base offset + 1 until
    another batch arrives, while its fetch responses carry the right high watermark. On
    Kafka the fetch only confirms the answer. Moves the consumer's positions: seek
    afterwards.
    """
    listed = await consumer.end_offsets(tps)
    out: dict[TopicPartition, int] = {}
    for tp in tps:
        end = listed[tp]
        if end > 0:
            consumer.seek(tp, end - 1)
            fetched = await consumer.getmany(tp, timeout_ms=timeout_ms)
            offsets = [record.offset + 1 for record in fetched.get(tp, ())]
            end = max(end, consumer.highwater(tp) or 0, *offsets)
        out[tp] = end
    return out


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer and make sure its connections are closed.

    aiokafka's Fetcher.close() cancels its pending fetch tasks and awaits them; a task
    sleeping in its error back-off (broker unreachable) re-raises that CancelledError out of
    stop(), before the client is closed. Only a cancellation of our own task propagates.
    """
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        await consumer._client.close()


async def close_quietly(*closers: Any, timeout: float = 5.0) -> None:
    """Await each closer in turn, bounded; log failures, never raise them."""
    for closer in closers:
        try:
            async with asyncio.timeout(timeout):
                await closer
        except Exception as exc:
            _LOGGER.debug("closing a Kafka client failed: %s", exc)


def retrieve(fut: asyncio.Future[Any]) -> None:
    """Mark a delivery future's exception as seen (whoever awaited it reported it)."""
    if not fut.cancelled():
        fut.exception()
