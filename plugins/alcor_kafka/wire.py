"""Kafka record conventions (southbound spec §2.4): headers, chunking, reply merging.

Chunking works on the encoded GoalStateV2 without decoding its states: a protobuf map field
is a run of length-delimited entries, so a message is split by copying entry bytes into
several messages. Every chunk repeats the context states (VPC, subnet, gateway entries) that
the agent resolves within one message, and lists its own states in `host_resources`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from alcor.proto import schema
from alcor.southbound import encoding
from alcor.southbound.wire import read_varint, skip

RT = schema.ResourceType
ST = schema.OperationStatus

H_REQUEST_ID = "alcor-request-id"
H_FORMAT_VERSION = "alcor-format-version"
H_HOST_IP = "alcor-host-ip"
H_PART = "alcor-part"
H_NODE_ID = "alcor-node-id"
# Set by agents on replies to records of a per-VPC topic (not tied to a push).
H_TOPIC = "alcor-topic"
FORMAT_VERSION = str(encoding.FORMAT_VERSION_V2).encode()

# Room for the record key, headers and batch framing inside max_message_bytes.
RECORD_OVERHEAD = 4096

_KIND_BY_FIELD = {field: kind for kind, field in encoding.V2_FIELD.items()}
_CONTEXT_FIELDS = frozenset(encoding.V2_FIELD[k] for k in (RT.VPC, RT.SUBNET, RT.GATEWAY))
_HOST_RESOURCES = 2

Headers = list[tuple[str, bytes]]


def headers_dict(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    """Return record headers as text (last value of a repeated header wins)."""
    return {k: v.decode(errors="replace") for k, v in headers or () if v is not None}


def push_headers(request_id: str, host_ip: str, part: str | None = None) -> Headers:
    """Return the headers of a controller → agent record."""
    out = [
        (H_REQUEST_ID, request_id.encode()),
        (H_FORMAT_VERSION, FORMAT_VERSION),
        (H_HOST_IP, host_ip.encode()),
    ]
    if part is not None:
        out.append((H_PART, part.encode()))
    return out


def parse_part(value: str | None) -> tuple[int, int]:
    """Return (index, total) from an `alcor-part` header ("i/n", 1-based); (1, 1) if absent."""
    if not value:
        return 1, 1
    index, _, total = value.partition("/")
    i, n = int(index), int(total)
    if not 1 <= i <= n:
        raise ValueError(f"bad {H_PART} header {value!r}")
    return i, n


class ChunkTooLarge(ValueError):
    """One state plus its context does not fit in a record."""


@dataclass(frozen=True, slots=True)
class _Entry:
    field: int
    key: str
    raw: bytes  # the whole field, tag included


def _fields(buf: bytes) -> Iterable[tuple[int, int, int, int]]:
    """Yield (field number, wire type, start, end) of each top-level field."""
    pos, size = 0, len(buf)
    while pos < size:
        start = pos
        tag, pos = read_varint(buf, pos)
        pos = skip(buf, pos, tag & 7)
        yield tag >> 3, tag & 7, start, pos


def _entry_key(raw: bytes) -> str:
    """Return the string key (field 1) of an encoded map entry, tag and length included."""
    _, pos = read_varint(raw, 0)
    end_len, pos = read_varint(raw, pos)
    end = pos + end_len
    while pos < end:
        tag, pos = read_varint(raw, pos)
        length, pos = read_varint(raw, pos)
        if tag == 0x0A:
            return raw[pos : pos + length].decode()
        pos += length
    return ""


def split_goal_state(payload: bytes, host_ip: str, limit: int) -> list[bytes]:
    """Split an encoded GoalStateV2 into messages of at most `limit` bytes.

    Returns `[payload]` when it fits. Raises ChunkTooLarge when one state with the context
    states does not fit.
    """
    if len(payload) <= limit:
        return [payload]
    context: list[_Entry] = []
    items: list[_Entry] = []
    for field, wire, start, end in _fields(payload):
        if wire != 2 or field == _HOST_RESOURCES or field not in _KIND_BY_FIELD:
            continue  # format_version and host_resources are rebuilt per chunk
        raw = payload[start:end]
        (context if field in _CONTEXT_FIELDS else items).append(_Entry(field, _entry_key(raw), raw))
    base = sum(len(e.raw) + len(e.key) + 8 for e in context) + len(host_ip) + 32
    chunks: list[list[_Entry]] = []
    size = limit  # forces a new chunk for the first item
    for item in items:
        cost = len(item.raw) + len(item.key) + 8
        if base + cost > limit:
            raise ChunkTooLarge(
                f"state {item.key!r} ({len(item.raw)} bytes) with its context "
                f"does not fit in {limit} bytes"
            )
        if size + cost > limit:
            chunks.append([])
            size = base
        chunks[-1].append(item)
        size += cost
    return [_assemble(host_ip, context, chunk) for chunk in chunks] or [payload]


def _assemble(host_ip: str, context: list[_Entry], chunk: list[_Entry]) -> bytes:
    by_field: dict[int, list[bytes]] = {}
    for entry in (*context, *chunk):
        by_field.setdefault(entry.field, []).append(entry.raw)
    resources = [(int(_KIND_BY_FIELD[e.field]), e.key) for e in (*context, *chunk)]
    return encoding.assemble_goal_state_v2(host_ip, resources, by_field)


_SEVERITY = {ST.SUCCESS: 0, ST.OUT_OF_ORDER: 1, ST.PENDING: 2, ST.INVALID_ARG: 3, ST.FAILURE: 4}


def merge_replies(
    replies: Mapping[int, schema.GoalStateOperationReply],
) -> schema.GoalStateOperationReply:
    """Merge the replies to the chunks of one message into one reply.

    A context state carried by several chunks keeps its most severe status.
    """
    if len(replies) == 1:
        return next(iter(replies.values()))
    merged: dict[tuple[int, str], schema.GoalStateOperationReplyGoalStateOperationStatus] = {}
    total = 0
    for index in sorted(replies):
        reply = replies[index]
        total += reply.message_total_operation_time
        for status in reply.operation_statuses:
            key = (int(status.resource_type), status.resource_id)
            seen = merged.get(key)
            if seen is None or (
                _SEVERITY.get(status.operation_status, 4) > _SEVERITY.get(seen.operation_status, 4)
            ):
                merged[key] = status
    return schema.GoalStateOperationReply(
        format_version=encoding.FORMAT_VERSION_V2,
        operation_statuses=list(merged.values()),
        message_total_operation_time=min(total, 2**32 - 1),
    )
