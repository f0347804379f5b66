"""Topic administration for the Kafka transport: create once, delete, offsets and lag."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code

from .config import KafkaConfig

_LOGGER = logging.getLogger(__name__)
TOPIC_ALREADY_EXISTS = 36
UNKNOWN_TOPIC = 3


@dataclass(frozen=True, slots=True)
class TopicLag:
    """A consumer group's progress on a topic (summed over partitions)."""

    committed: int  # -1 when the group has committed nothing on the topic
    end: int
    lag: int  # end - committed (end when nothing is committed)


class TopicAdmin:
    """Create topics on first use (remembering which exist), delete them, read offsets."""

    def __init__(self, config: KafkaConfig) -> None:
        self.config = config
        self._admin: AIOKafkaAdminClient | None = None
        self._known: set[str] = set()
        self._creating: dict[str, asyncio.Future[None]] = {}

    async def open(self) -> None:
        """Start the admin client."""
        admin = AIOKafkaAdminClient(bootstrap_servers=list(self.config.bootstrap_servers),
                                    request_timeout_ms=int(self.config.reply_timeout_s * 1000),
                                    client_id="alcor-controller-admin")
        await admin.start()
        self._admin = admin

    async def close(self) -> None:
        """Close the admin client."""
        admin, self._admin = self._admin, None
        self._known.clear()
        if admin is not None:
            await admin.close()

    def forget(self) -> None:
        """Forget which topics exist (after a broker failure: it may come back empty)."""
        self._known.clear()

    def host_configs(self) -> dict[str, str]:
        """Return the configs of a per-host (and the reply) topic."""
        return {"max.message.bytes": str(self.config.max_message_bytes)}

    def vpc_configs(self) -> dict[str, str]:
        """Return the configs of a per-VPC topic (compacted: the latest state per key)."""
        return {**self.host_configs(), "cleanup.policy": "compact"}

    async def ensure(self, topic: str, configs: dict[str, str], *, force: bool = False) -> None:
        """Create `topic` with one partition unless known to exist (concurrent calls share)."""
        if topic in self._known and not force:
            return
        if not self.config.auto_create_topics:
            self._known.add(topic)
            return
        pending = self._creating.get(topic)
        if pending is not None:
            await asyncio.shield(pending)
            return
        pending = asyncio.get_running_loop().create_future()
        self._creating[topic] = pending
        try:
            await self._create(topic, configs)
            self._known.add(topic)
            pending.set_result(None)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                pending.cancel()
            else:
                pending.set_exception(exc)
                pending.exception()  # retrieved here; sharers re-raise it
            raise
        finally:
            del self._creating[topic]

    async def _create(self, topic: str, configs: dict[str, str]) -> None:
        admin = self._require()
        new = NewTopic(topic, 1, self.config.replication_factor, topic_configs=configs)
        response = await admin.create_topics([new])
        for name, code, message in _topic_errors(response):
            if code == TOPIC_ALREADY_EXISTS:
                continue
            if code:
                raise for_code(code)(f"creating topic {name}: {message}")
            _LOGGER.info("created Kafka topic %s %s", name, configs)

    async def partitions(self, topic: str) -> list[int]:
        """Return the partition numbers of `topic` (KafkaError if it does not exist)."""
        described = await self._require().describe_topics([topic])
        for entry in described:
            if entry["topic"] == topic:
                if entry["error_code"]:
                    raise for_code(entry["error_code"])(f"describing topic {topic}")
                return sorted(p["partition"] for p in entry["partitions"]) or [0]
        raise for_code(UNKNOWN_TOPIC)(f"topic {topic} not found")

    async def delete(self, topic: str) -> None:
        """Delete a topic (a missing topic is not an error)."""
        self._known.discard(topic)
        response = await self._require().delete_topics([topic])
        for name, code in response.topic_error_codes:
            if code and code != UNKNOWN_TOPIC:
                raise for_code(code)(f"deleting topic {name}")
        _LOGGER.info("deleted Kafka topic %s", topic)

    async def lag(self, consumer: AIOKafkaConsumer, group_id: str, topic: str) -> TopicLag:
        """Return `group_id`'s committed offset against the end offset of `topic`."""
        tps = [TopicPartition(topic, p) for p in await self.partitions(topic)]
        ends = await consumer.end_offsets(tps)
        committed = await self._require().list_consumer_group_offsets(group_id, partitions=tps)
        total_end = sum(ends.values())
        offsets = [committed[tp].offset for tp in tps if tp in committed]
        done = [o for o in offsets if o >= 0]
        total_committed = sum(done) if done else -1
        behind = sum(ends[tp] - max(committed[tp].offset, 0) if tp in committed else ends[tp]
                     for tp in tps)
        return TopicLag(total_committed, total_end, behind)

    def _require(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            raise KafkaError("Kafka admin client is not connected")
        return self._admin


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    """Return (topic, error code, message) from any CreateTopicsResponse version."""
    out = []
    for entry in getattr(response, "topic_errors", ()):
        name, code = entry[0], entry[1]
        out.append((name, code, entry[2] if len(entry) > 2 else None))
    return out
