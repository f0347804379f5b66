"""Topic administration for the Kafka transport: create once, delete, offsets and lag."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code

from .clients import end_offsets, stop_consumer
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
        self._probe: AIOKafkaConsumer | None = None  # end offsets; no group
        self._probe_lock = asyncio.Lock()
        self._known: set[str] = set()
        self._creating: dict[str, asyncio.Future[None]] = {}

    async def open(self) -> None:
        """Start the admin client and the offset probe."""
        servers = list(self.config.bootstrap_servers)
        admin = AIOKafkaAdminClient(
            bootstrap_servers=servers,
            request_timeout_ms=int(self.config.reply_timeout_s * 1000),
            client_id="alcor-controller-admin",
        )
        probe = AIOKafkaConsumer(
            bootstrap_servers=servers,
            enable_auto_commit=False,
            fetch_max_wait_ms=self.config.fetch_max_wait_ms,
            max_partition_fetch_bytes=self.config.max_message_bytes,
            client_id="alcor-controller-offsets",
        )
        try:
            await admin.start()
            await probe.start()
        except BaseException:
            await admin.close()
            await stop_consumer(probe)
            raise
        self._admin, self._probe = admin, probe

    async def close(self) -> None:
        """Close the admin client and the offset probe."""
        admin, self._admin = self._admin, None
        probe, self._probe = self._probe, None
        self._known.clear()
        if admin is not None:
            await admin.close()
        if probe is not None:
            await stop_consumer(probe)

    def forget(self) -> None:
        """Forget which topics exist (after a broker failure: it may come back empty)."""
        self._known.clear()

    def host_configs(self) -> dict[str, str]:
        """Return the configs of a per-host (and the reply) topic."""
        return {"max.message.bytes": str(self.config.max_message_bytes)}

    def vpc_configs(self) -> dict[str, str]:
        """Return the configs of a per-VPC topic (compacted: the latest state per key)."""
        return {**self.host_configs(), "cleanup.policy": "compact"}

    async def ensure(self, topic: str, configs: dict[str, str], *, force: bool = False) -> bool:
        """Create `topic` with one partition unless known to exist; True if created now.

        Concurrent calls for one topic share a single request.
        """
        if topic in self._known and not force:
            return False
        if not self.config.auto_create_topics:
            self._known.add(topic)
            return False
        pending = self._creating.get(topic)
        if pending is not None:
            await asyncio.shield(pending)
            return False
        pending = asyncio.get_running_loop().create_future()
        self._creating[topic] = pending
        try:
            created = await self._create(topic, configs)
            self._known.add(topic)
            pending.set_result(None)
            return created
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                pending.cancel()
            else:
                pending.set_exception(exc)
                pending.exception()  # retrieved here; sharers re-raise it
            raise
        finally:
            del self._creating[topic]

    async def _create(self, topic: str, configs: dict[str, str]) -> bool:
        admin = self._require()
        new = NewTopic(topic, 1, self.config.replication_factor, topic_configs=configs)
        response = await admin.create_topics([new])
        created = False
        for name, code, message in _topic_errors(response):
            if code == TOPIC_ALREADY_EXISTS:
                continue
            if code:
                raise for_code(code)(f"creating topic {name}: {message}")
            created = True
            _LOGGER.info("created Kafka topic %s %s", name, configs)
        return created

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

    async def lags(self, topic: str, group_ids: list[str]) -> dict[str, TopicLag]:
        """Return each group's committed offsets against the end offsets of `topic`."""
        if self._probe is None:
            raise KafkaError("Kafka offset probe is not connected")
        tps = [TopicPartition(topic, p) for p in await self.partitions(topic)]
        async with self._probe_lock:
            self._probe.assign(tps)
            ends = await end_offsets(self._probe, tps)
        out = {}
        for group_id in group_ids:
            committed = await self._require().list_consumer_group_offsets(group_id, partitions=tps)
            offsets = {tp: committed[tp].offset if tp in committed else -1 for tp in tps}
            done = [o for o in offsets.values() if o >= 0]
            behind = sum(max(ends[tp] - max(offsets[tp], 0), 0) for tp in tps)
            out[group_id] = TopicLag(sum(done) if done else -1, sum(ends.values()), behind)
        return out

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
