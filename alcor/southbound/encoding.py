"""Assemble GoalStateV2 / GoalState bytes from resource states encoded once.

betterproto encodes in pure Python (~20 µs per small state), so a goal state with 10k
neighbors costs ~0.2 s when encoded as one message. On the wire a protobuf map field is
just a repeated field of length-delimited entries `{1: key, 2: value}`, and a repeated
message field is a run of length-delimited values, so a goal state is the concatenation of
per-state pieces. Callers encode each state once per revision (`encode_state`), keep the
bytes (or the whole `v2_entry`) and assemble each host's message by joining them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter

import betterproto

from alcor.proto import schema

RT = schema.ResourceType

FORMAT_VERSION_V1 = 101
FORMAT_VERSION_V2 = 102

# GoalStateV2 map field per resource kind (host_resources is field 2).
V2_FIELD: Mapping[int, int] = {
    RT.VPC: 3,
    RT.SUBNET: 4,
    RT.PORT: 5,
    RT.DHCP: 6,
    RT.NEIGHBOR: 7,
    RT.SECURITYGROUP: 8,
    RT.ROUTER: 9,
    RT.GATEWAY: 10,
    RT.NETWORK_ACL: 11,
    RT.FLOATINGIP: 12,
    RT.QOS_POLICY: 13,
    RT.PORT_FORWARDING: 14,
}
# GoalState (V1) repeated field per resource kind.
V1_FIELD: Mapping[int, int] = {
    RT.VPC: 2,
    RT.SUBNET: 3,
    RT.PORT: 4,
    RT.NEIGHBOR: 5,
    RT.SECURITYGROUP: 6,
    RT.DHCP: 7,
    RT.ROUTER: 8,
    RT.GATEWAY: 9,
}
_HOST_RESOURCES_FIELD = 2
_LEN = 2  # wire type: length-delimited


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Lengths of nearly every state fit here; a table lookup beats building bytes each time.
_SMALL_VARINTS = [_encode_varint(n) for n in range(4096)]


def varint(n: int) -> bytes:
    """Encode a non-negative int as a protobuf varint."""
    return _SMALL_VARINTS[n] if n < 4096 else _encode_varint(n)


def _tag(field_number: int) -> bytes:
    return varint(field_number << 3 | _LEN)


def encode_state(state: betterproto.Message) -> bytes:
    """Encode one resource state (e.g. a NeighborState); do it once per revision."""
    return bytes(state)


def map_entry(field_number: int, key: str, state_bytes: bytes) -> bytes:
    """Encode one `map<string, Msg>` entry of field `field_number`, tag included."""
    k = key.encode()
    body = b"".join((b"\x0a", varint(len(k)), k, b"\x12", varint(len(state_bytes)), state_bytes))
    return b"".join((_tag(field_number), varint(len(body)), body))


def v2_entry(kind: int, key: str, state_bytes: bytes) -> bytes:
    """Encode the GoalStateV2 map entry of a state of `kind` under `key`."""
    return map_entry(V2_FIELD[kind], key, state_bytes)


# ResourceIdType prefix per kind: type=1 (varint, omitted for VPC=0), then the id tag.
_RID_PREFIX = [(b"\x08" + bytes((k,)) if k else b"") + b"\x12" for k in range(128)]


def resource_id_entry(kind: int, rid: str) -> bytes:
    """Encode one `resources` entry (a ResourceIdType) of HostResources, tag included."""
    i = rid.encode()
    prefix = _RID_PREFIX[kind]
    n = varint(len(i))
    return b"".join((b"\x0a", varint(len(prefix) + len(n) + len(i)), prefix, n, i))


def encode_host_resources(resources: Iterable[tuple[int, str]]) -> bytes:
    """Encode a HostResources message listing `(ResourceType, id)` pairs."""
    out = bytearray()
    prefixes = _RID_PREFIX
    for kind, rid in resources:
        i = rid.encode()
        prefix = prefixes[kind]
        n = varint(len(i))
        out += b"\x0a"
        out += varint(len(prefix) + len(n) + len(i))
        out += prefix
        out += n
        out += i
    return bytes(out)


def assemble_goal_state_v2(
    host_ip: str,
    resources: Iterable[tuple[int, str]],
    entries_by_field: Mapping[int, Sequence[bytes]],
    format_version: int = FORMAT_VERSION_V2,
) -> bytes:
    """Join pre-encoded map entries into one GoalStateV2 for the host `host_ip`.

    `entries_by_field` maps a GoalStateV2 field number (see V2_FIELD) to its entries from
    `map_entry`/`v2_entry`; `resources` lists every carried state as `(kind, map key)`.
    """
    entries = [resource_id_entry(kind, rid) for kind, rid in resources]
    return assemble_v2_parts(host_ip, entries, entries_by_field, format_version)


def assemble_v2_parts(
    host_ip: str,
    resource_entries: Sequence[bytes],
    entries_by_field: Mapping[int, Sequence[bytes]],
    format_version: int = FORMAT_VERSION_V2,
) -> bytes:
    """Like assemble_goal_state_v2, with HostResources entries already encoded (cached)."""
    parts = [b"\x08", varint(format_version)] if format_version else []
    parts.append(map_entry(_HOST_RESOURCES_FIELD, host_ip, b"".join(resource_entries)))
    for field_number in sorted(entries_by_field):
        parts.extend(entries_by_field[field_number])
    return b"".join(parts)


def assemble_goal_state_v1(
    states: Iterable[tuple[int, str, bytes]],
    format_version: int = FORMAT_VERSION_V1,
) -> bytes:
    """Join `(kind, key, state_bytes)` into a V1 GoalState: repeated fields, in key order."""
    by_kind: dict[int, list[tuple[str, bytes]]] = {}
    for kind, key, data in states:
        by_kind.setdefault(kind, []).append((key, data))
    parts = [b"\x08", varint(format_version)] if format_version else []
    for kind in sorted(by_kind, key=V1_FIELD.__getitem__):
        tag = _tag(V1_FIELD[kind])
        for _key, data in sorted(by_kind[kind], key=itemgetter(0)):
            parts.extend((tag, varint(len(data)), data))
    return b"".join(parts)
