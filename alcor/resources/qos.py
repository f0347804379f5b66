"""QoS policies and rules (/v2.0/qos/policies, /v2.0/qos/policies/{id}/<type>_rules,
/v2.0/qos/rule-types): the qos extension and its rule-type extensions."""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.types import Bool, Enum, Int, IntEnum, ListOf, Obj, Uuid

INT_MAX = 2**31 - 1
VALID_DSCP_MARKS: tuple[int, ...] = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34)
VALID_DSCP_MARKS += (36, 38, 40, 44, 46, 48, 56)
DIRECTIONS = ("egress", "ingress")


class QosPolicyNotFound(errors.NotFound):
    """No visible QoS policy with that id."""

    type_name = None
    message = "QoS policy {id} could not be found."


class QosRuleNotFound(errors.NotFound):
    """No rule with that id in the policy."""

    type_name = None
    message = "QoS rule {id} for policy {policy_id} could not be found."

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        fields.setdefault("policy_id", "")
        super().__init__(message, **fields)


class QosRuleTypeNotFound(errors.NotFound):
    """A rule type alcor does not have."""

    type_name = None
    message = "QoS rule type {rule_type} could not be found."


class QosPolicyInUse(errors.InUse):
    """Networks or ports use the policy."""

    message = "QoS Policy {policy_id} is used by {object_type} {object_id}."


class QoSPolicyDefaultAlreadyExists(errors.Conflict):
    """A project has one default policy at most."""

    message = "A default QoS policy exists for project {project_id}."


class QoSRulesConflict(errors.Conflict):
    """A policy has one rule of a type per direction."""

    message = (
        "Rule {new_rule_type} conflicts with rule {rule_id} which already exists in QoS "
        "Policy {policy_id}."
    )


class PolicyRemoveAuthorizationError(errors.NotAuthorized):
    """The caller may not detach a policy it cannot see."""

    type_name = "PolicyRemoveAuthorizationError"
    message = "Failed to remove provided policy {policy_id} because you are not authorized."


QOS_POLICY = Resource(
    name="policy",
    collection="policies",
    path="qos/policies",
    table="qos_policies",
    not_found=QosPolicyNotFound,
    attrs=(
        *std_attrs(),
        Attr("shared", Bool(), default=False, update="Y"),
        Attr("is_default", Bool(), default=False, update="Y"),
        Attr("rules", ListOf(Obj()), create="-", column=None, filter=False),
    ),
)


def _rule_resource(rule_type: str, fields: tuple[Attr, ...]) -> Resource:
    return Resource(
        name=f"{rule_type}_rule",
        collection=f"{rule_type}_rules",
        path=f"qos/policies/{{id}}/{rule_type}_rules",
        table=f"qos_{rule_type}_rules",
        not_found=QosRuleNotFound,
        has_tags=False,
        attrs=(Attr("id", Uuid(), create="Y"), *fields),
    )


def _direction(values: tuple[str, ...] = DIRECTIONS) -> Attr:
    return Attr("direction", Enum(values), default="egress", update="Y")


RULES: dict[str, Resource] = {
    "bandwidth_limit": _rule_resource(
        "bandwidth_limit",
        (
            Attr("max_kbps", Int(0, INT_MAX), create="R", update="Y"),
            Attr("max_burst_kbps", Int(0, INT_MAX), default=0, update="Y"),
            _direction(),
        ),
    ),
    "dscp_marking": _rule_resource(
        "dscp_marking",
        (Attr("dscp_mark", IntEnum(VALID_DSCP_MARKS), create="R", update="Y"),),
    ),
    "minimum_bandwidth": _rule_resource(
        "minimum_bandwidth",
        (Attr("min_kbps", Int(0, INT_MAX), create="R", update="Y"), _direction()),
    ),
    "minimum_packet_rate": _rule_resource(
        "minimum_packet_rate",
        (
            Attr("min_kpps", Int(0, INT_MAX), create="R", update="Y"),
            _direction(("any", *DIRECTIONS)),
        ),
    ),
}


def _range(name: str) -> dict[str, Any]:
    return {
        "parameter_name": name,
        "parameter_type": "range",
        "parameter_values": {"start": 0, "end": INT_MAX},
    }


def _choices(name: str, values: tuple[Any, ...]) -> dict[str, Any]:
    return {"parameter_name": name, "parameter_type": "choices", "parameter_values": list(values)}


# What alcor's data plane accepts per rule type (GET /v2.0/qos/rule-types/{type}).
RULE_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "bandwidth_limit": [
        _range("max_kbps"),
        _range("max_burst_kbps"),
        _choices("direction", DIRECTIONS),
    ],
    "dscp_marking": [_choices("dscp_mark", VALID_DSCP_MARKS)],
    "minimum_bandwidth": [_range("min_kbps"), _choices("direction", DIRECTIONS)],
    "minimum_packet_rate": [_range("min_kpps"), _choices("direction", ("any", *DIRECTIONS))],
}
DRIVER = "alcor"
