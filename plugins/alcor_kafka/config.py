"""The `[southbound.kafka]` config section (southbound spec §2.1, §2.4, §2.5)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COMPRESSIONS = ("gzip", "none", "lz4", "snappy", "zstd")


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    """Every key of `[southbound.kafka]` with its default."""

    bootstrap_servers: tuple[str, ...]
    host_topic_prefix: str = "alcor-host-"
    vpc_topic_prefix: str = "alcor-vpc-"
    reply_topic: str = "alcor-replies"
    # Producer max_request_size and the max.message.bytes of every topic alcor creates.
    max_message_bytes: int = 64 * 1024 * 1024
    reply_timeout_s: float = 30.0
    auto_create_topics: bool = True
    # gzip works everywhere; lz4/snappy/zstd need extra Python packages for aiokafka.
    compression: str = "gzip"
    # Off by default: revisions make a duplicate harmless, and brokers without
    # InitProducerId (Tansu) refuse idempotent producers.
    idempotent: bool = False
    vpc_topic_delete_grace_s: float = 3600.0
    lag_poll_s: float = 10.0
    tombstone_delay_s: float = 86400.0
    # Replication factor of the topics alcor creates (1 suits a single broker).
    replication_factor: int = 1
    # Longest a fetch of the reply consumer waits at the broker for new records. Kafka
    # answers a waiting fetch as soon as a record arrives, so this only paces idle polling;
    # Tansu (the test broker) lets it run out, which adds about half of it per hop.
    fetch_max_wait_ms: int = 100

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> KafkaConfig:
        """Validate a config section; raise ValueError naming the first bad key."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in section:
            if key not in fields:
                raise ValueError(f"southbound.kafka.{key}: unknown key")
        if "bootstrap_servers" not in section:
            raise ValueError("southbound.kafka.bootstrap_servers: required key missing")
        values = dict(section)
        values["bootstrap_servers"] = _servers(values["bootstrap_servers"])
        for name, value in list(values.items()):
            values[name] = _check_type(name, fields[name].type, value)
        config = cls(**values)
        config._check_values()
        return config

    def _check_values(self) -> None:
        if self.compression not in COMPRESSIONS:
            raise ValueError(
                f"southbound.kafka.compression: must be one of "
                f"{', '.join(COMPRESSIONS)}, got {self.compression!r}"
            )
        if self.max_message_bytes < 1024:
            raise ValueError("southbound.kafka.max_message_bytes: must be at least 1024")
        for name in ("reply_timeout_s", "lag_poll_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"southbound.kafka.{name}: must be positive")
        for name in ("vpc_topic_delete_grace_s", "tombstone_delay_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"southbound.kafka.{name}: must not be negative")
        if not 0 <= self.fetch_max_wait_ms <= 60000:
            raise ValueError("southbound.kafka.fetch_max_wait_ms: must be 0..60000")
        if self.replication_factor < 1:
            raise ValueError("southbound.kafka.replication_factor: must be at least 1")

    @property
    def compression_type(self) -> str | None:
        """Return the aiokafka `compression_type` (None for "none")."""
        return None if self.compression == "none" else self.compression


def _servers(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise ValueError(
            'southbound.kafka.bootstrap_servers: expected "host:port" or a non-empty list of them'
        )
    return tuple(value)


_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _check_type(name: str, hint: Any, value: Any) -> Any:
    expected = _TYPES.get(str(hint))
    if expected is None:
        return value
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(
            f"southbound.kafka.{name}: expected {expected.__name__}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value
