"""Security groups and rules (/v2.0/security-groups, /v2.0/security-group-rules)."""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.types import Bool, Cidr, Enum, Int, Invalid, ListOf, Obj, String, Type, Uuid

PROTOCOL_NUMBERS = {
    "hopopt": 0,
    "icmp": 1,
    "igmp": 2,
    "ipip": 4,
    "tcp": 6,
    "egp": 8,
    "pgm": 113,
    "udp": 17,
    "ipv6-encap": 41,
    "ipv6-route": 43,
    "ipv6-frag": 44,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "ipv6-icmp": 58,
    "icmpv6": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "ospf": 89,
    "vrrp": 112,
    "sctp": 132,
    "udplite": 136,
    "dccp": 33,
}


class Protocol(Type):
    """An IP protocol: a known name, a number 0-255 (int or numeric string), or any/null."""

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise Invalid(f"'{value}' is not a valid protocol")
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON does not tell 6.0 from 6
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str):
            raise Invalid(f"'{value}' is not a valid protocol")
        text = value.strip().lower()
        if text == "any":
            return None
        if text.isdigit():
            if not 0 <= int(text) <= 255:
                raise errors.SecurityGroupRuleInvalidProtocol(
                    protocol=value, values=sorted(PROTOCOL_NUMBERS)
                )
            return str(int(text))
        if text not in PROTOCOL_NUMBERS:
            raise errors.SecurityGroupRuleInvalidProtocol(
                protocol=value, values=sorted(PROTOCOL_NUMBERS)
            )
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": ["string", "integer", "null"]}


class DefaultSecurityGroupRuleNotFound(errors.NotFound):
    """No default security group rule with that id."""

    type_name = None
    message = "Default Security Group rule {id} does not exist"


class DefaultSecurityGroupRuleExists(errors.InUse):
    """The same template exists for the same kind of group."""

    message = "Default Security group rule already exists. Rule id is {rule_id}."


class SecurityGroupConflict(errors.Conflict):
    """Stateful and stateless groups on one port."""

    message = "Error {reason} while attempting the operation."


RULE_FIELDS = (
    Attr("id", Uuid(), create="Y"),
    Attr("project_id", String(255), create="Y"),
    Attr("tenant_id", String(255), create="Y", column="project_id", filter=True, sort=True),
    Attr("description", String(255), default="", update="Y"),
    Attr("security_group_id", Uuid(), create="R"),
    Attr("direction", Enum(("ingress", "egress")), create="R"),
    Attr("ethertype", Enum(("IPv4", "IPv6"), fold_case=True), default="IPv4"),
    Attr("protocol", Protocol(), nullable=True, default=None),
    Attr("port_range_min", Int(), nullable=True, default=None),
    Attr("port_range_max", Int(), nullable=True, default=None),
    Attr("remote_ip_prefix", Cidr(strict=False, as_given=True), nullable=True, default=None),
    # Any string: an id that is no group (even a malformed one) is 404 SecurityGroupNotFound.
    Attr("remote_group_id", String(255), nullable=True, default=None),
    Attr("remote_address_group_id", Uuid(), nullable=True, default=None),
    # remote_ip_prefix as a network (security-groups-normalized-cidr); the prefix stays
    # as given.
    Attr("normalized_cidr", String(64), create="-", nullable=True),
    Attr("revision_number", Int(), create="-"),
    Attr("created_at", String(None), create="-"),
    Attr("updated_at", String(None), create="-"),
)

SECURITY_GROUP_RULE = Resource(
    name="security_group_rule",
    collection="security_group_rules",
    path="security-group-rules",
    native_path="security-group-rules",
    table="security_group_rules",
    not_found=errors.SecurityGroupRuleNotFound,
    has_tags=False,
    attrs=RULE_FIELDS,
)

SECURITY_GROUP = Resource(
    name="security_group",
    collection="security_groups",
    path="security-groups",
    native_path="security-groups",
    table="security_groups",
    not_found=errors.SecurityGroupNotFound,
    attrs=(
        *std_attrs(),
        Attr("security_group_rules", ListOf(Obj()), create="-", column=None, filter=False),
        # stateful-security-group: a stateless group's rules need no connection tracking.
        Attr("stateful", Bool(), default=True, update="Y"),
        # security-groups-shared-filtering: shared through RBAC policies only.
        Attr("shared", Bool(), create="-"),
    ),
    native_ignored_empty=frozenset({"security_group_rules"}),
)

# Templates of the rules every new group gets (security-groups-default-rules);
# remote_group_id "PARENT" stands for the new group itself.
DEFAULT_SG_RULE = Resource(
    name="default_security_group_rule",
    collection="default_security_group_rules",
    path="default-security-group-rules",
    table="default_security_group_rules",
    not_found=DefaultSecurityGroupRuleNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        Attr("description", String(255), default=""),
        Attr("direction", Enum(("ingress", "egress")), create="R"),
        Attr("ethertype", Enum(("IPv4", "IPv6"), fold_case=True), default="IPv4"),
        Attr("protocol", Protocol(), nullable=True, default=None),
        Attr("port_range_min", Int(), nullable=True, default=None),
        Attr("port_range_max", Int(), nullable=True, default=None),
        Attr("remote_ip_prefix", Cidr(strict=False), nullable=True, default=None),
        Attr("remote_group_id", String(255), nullable=True, default=None),
        Attr("remote_address_group_id", Uuid(), nullable=True, default=None),
        Attr("used_in_default_sg", Bool(), default=True),
        Attr("used_in_non_default_sg", Bool(), default=True),
    ),
)
