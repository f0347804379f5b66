"""Our betterproto code and Google's protobuf agree on every message of alcor.schema."""

from __future__ import annotations

import inspect

import betterproto
import pytest
from proto_populate import build_ours, fill_theirs, google_messages

from alcor.proto import schema

OUR_MESSAGES = sorted(
    name
    for name, obj in vars(schema).items()
    if inspect.isclass(obj) and issubclass(obj, betterproto.Message)
)


def test_every_message_has_a_google_twin(pb):
    """The generated betterproto module and protoc's output declare the same messages."""
    assert sorted(google_messages(pb)) == OUR_MESSAGES


@pytest.mark.parametrize("choice", [0, 1], ids=["oneof0", "oneof1"])
@pytest.mark.parametrize("name", OUR_MESSAGES)
def test_round_trip_both_ways(pb, name, choice):
    """Ours-encode decodes equal in Google's code, and Google-encode decodes equal in ours."""
    ours = build_ours(getattr(schema, name), choice)
    theirs = fill_theirs(google_messages(pb)[name](), choice)

    decoded_theirs = type(theirs).FromString(bytes(ours))
    assert decoded_theirs == theirs
    # Every field is present: all but the unchosen members of each oneof.
    skipped = sum(len(o.fields) - 1 for o in theirs.DESCRIPTOR.oneofs)
    assert len(decoded_theirs.ListFields()) == len(theirs.DESCRIPTOR.fields) - skipped

    decoded_ours = type(ours).FromString(theirs.SerializeToString())
    assert decoded_ours == ours


def test_uint64_subnet_tunnel_id_above_2_pow_32(pb):
    """SubnetConfiguration.tunnel_id is uint64 on the wire; other tunnel ids are uint32."""
    big = 2**33 + 5
    data = bytes(schema.SubnetConfiguration(tunnel_id=big))
    assert pb.subnet.SubnetConfiguration.FromString(data).tunnel_id == big
    assert schema.NeighborConfigurationFixedIp(tunnel_id=2**32 - 1).tunnel_id == 2**32 - 1


def test_gateway_oneof_is_exclusive(pb):
    """Setting arion_info after zeta_info leaves only arion_info on the wire, in both codes."""
    cfg = schema.GatewayConfiguration(zeta_info=schema.GatewayConfigurationZeta(8300))
    cfg.arion_info = schema.GatewayConfigurationArion(vni=7)
    assert betterproto.which_one_of(cfg, "extra_info")[0] == "arion_info"
    theirs = pb.gateway.GatewayConfiguration.FromString(bytes(cfg))
    assert theirs.WhichOneof("extra_info") == "arion_info"
    assert theirs.arion_info.vni == 7


def test_zero_values_stay_off_the_wire(pb):
    """Proto3 omits zero values: INFO, SUCCESS, L2 and DELTA encode as nothing."""
    state = schema.VpcState(operation_type=schema.OperationType.INFO)
    assert bytes(state) == b""
    status = schema.GoalStateOperationReplyGoalStateOperationStatus(
        resource_id="p", operation_status=schema.OperationStatus.SUCCESS
    )
    assert bytes(status) == b"\n\x01p"
    assert (
        pb.goalstateprovisioner.GoalStateOperationReply.GoalStateOperationStatus.FromString(
            bytes(status)
        ).operation_status
        == 0
    )


def test_known_bytes_of_a_resource_id():
    """ResourceIdType{NEIGHBOR, "x"} is field 1 varint 3, field 2 string "x"."""
    assert bytes(schema.ResourceIdType(schema.ResourceType.NEIGHBOR, "x")) == b"\x08\x03\x12\x01x"
