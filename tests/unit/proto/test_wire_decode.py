"""The agent's fast dict decoder agrees with betterproto on every populated message."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import betterproto
import pytest
from proto_populate import build_ours

from alcor.proto import schema
from alcor.southbound import wire

MESSAGES = sorted(
    name
    for name, obj in vars(schema).items()
    if inspect.isclass(obj) and issubclass(obj, betterproto.Message)
)


def _as_dict(msg: betterproto.Message) -> dict[str, Any]:
    """The dict the decoder should produce: set fields only, enums as ints."""
    groups = {g: betterproto.which_one_of(msg, g)[0] for g in msg._betterproto.oneof_field_by_group}
    out = {}
    for f in dataclasses.fields(msg):
        group = msg._betterproto.meta_by_field_name[f.name].group
        if group and groups[group] != f.name:
            continue
        out[f.name] = _value(getattr(msg, f.name))
    return out


def _value(v: Any) -> Any:
    if isinstance(v, betterproto.Message):
        return _as_dict(v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, betterproto.Enum):
        return int(v)
    return v


@pytest.mark.parametrize("choice", [0, 1])
@pytest.mark.parametrize("name", MESSAGES)
def test_decode_matches_betterproto(name, choice):
    """wire.decode(cls, bytes) == the populated message's fields."""
    msg = build_ours(getattr(schema, name), choice)
    assert wire.decode(type(msg), bytes(msg)) == _as_dict(msg)


def test_unknown_fields_are_skipped_and_truncation_is_an_error():
    """Fields the schema does not know are skipped; a cut message raises ValueError."""
    data = bytes(schema.ResourceIdType(schema.ResourceType.PORT, "p1"))
    extra = b"\x18\x05" + b"\x22\x02hi" + b"\x2d\x00\x00\x00\x00" + b"\x29" + b"\x00" * 8
    assert wire.decode(schema.ResourceIdType, data + extra) == {"type": 2, "id": "p1"}
    with pytest.raises((ValueError, IndexError)):
        wire.decode(schema.ResourceIdType, data[:-1])


def test_to_json_fills_defaults_and_names_enums():
    """to_json lists every field with its default and enum names."""
    view = wire.to_json(schema.NeighborConfiguration, {"id": "n", "fixed_ips": [{}]})
    assert view["revision_number"] == 0 and view["mac_address"] == ""
    assert view["update_type"] == "DELTA"
    assert view["fixed_ips"] == [
        {
            "neighbor_type": "L2",
            "subnet_id": "",
            "ip_address": "",
            "arion_group": "",
            "tunnel_id": 0,
        }
    ]


@pytest.mark.parametrize("choice", [0, 1])
def test_decode_reply_equals_betterproto_parse(choice):
    """decode_reply builds the same message as parse(), usable like any other."""
    reply = build_ours(schema.GoalStateOperationReply, choice)
    reply.operation_statuses.append(
        schema.GoalStateOperationReplyGoalStateOperationStatus(
            resource_id="n", resource_type=schema.ResourceType.NEIGHBOR
        )
    )  # zeros left off
    data = bytes(reply)
    fast = wire.decode_reply(data)
    assert fast == schema.GoalStateOperationReply().parse(data)
    assert bytes(fast) == data
    last = fast.operation_statuses[-1]
    assert last.operation_status is schema.OperationStatus.SUCCESS
    assert last.resource_type.name == "NEIGHBOR"
    fast.operation_statuses[0].resource_id = "changed"  # still a normal, mutable message
    assert fast.operation_statuses[0].resource_id == "changed"
    assert wire.decode_reply(b"") == schema.GoalStateOperationReply()


def test_decode_map_value_ignores_the_key_and_its_position():
    """A map entry's value decodes whether the key comes first, last or not at all."""
    value = bytes(schema.VpcState(schema.OperationType.DELETE))
    spec = wire.spec_of(schema.VpcState)
    for entry in (
        b"\x0a\x01k\x12" + bytes((len(value),)) + value,
        b"\x12" + bytes((len(value),)) + value + b"\x0a\x01k",
    ):
        assert wire.decode_map_value(entry, 0, len(entry), spec) == {"operation_type": 4}
    assert wire.decode_map_value(b"\x0a\x01k", 0, 3, spec) == {}
    with pytest.raises(ValueError):
        wire.decode_map_value(b"\x12\x05\x08", 0, 3, spec)
