"""Network ACLs and their rules (Alcor-only, native paths P/network-acls, P/network-acl-rules)."""

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.types import Cidr, Enum, Int, ListOf, Obj, Uuid

PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6", "all")
DEFAULT_RULE_NUMBER = 32767  # the four read-only deny rules every ACL starts with
MAX_RULE_NUMBER = DEFAULT_RULE_NUMBER - 1

NETWORK_ACL = Resource(
    name="network_acl",
    collection="network_acls",
    path="network-acls",
    native_path="network-acls",
    table="network_acls",
    not_found=errors.NetworkAclNotFound,
    has_tags=False,
    attrs=(
        *std_attrs(tags=False),
        Attr("vpc_id", Uuid(), create="R", doc="the network (VPC) whose subnets it guards"),
        Attr(
            "associated_subnets",
            ListOf(Uuid(), unique=True),
            default=[],
            update="Y",
            filter=True,
            doc="subnets of vpc_id; a subnet belongs to at most one ACL",
        ),
        Attr(
            "network_acl_rules",
            ListOf(Obj()),
            create="-",
            column=None,
            filter=False,
            doc="the ACL's rules ordered by number",
        ),
    ),
)

NETWORK_ACL_RULE = Resource(
    name="network_acl_rule",
    collection="network_acl_rules",
    path="network-acl-rules",
    native_path="network-acl-rules",
    table="network_acl_rules",
    not_found=errors.NetworkAclRuleNotFound,
    has_tags=False,
    attrs=(
        *std_attrs(tags=False),
        Attr("network_acl_id", Uuid(), create="R"),
        Attr(
            "number",
            Int(),
            create="R",
            update="Y",
            doc=f"1-{MAX_RULE_NUMBER}, unique within the ACL; lower numbers match first",
        ),
        Attr("direction", Enum(("ingress", "egress")), create="R", update="Y"),
        Attr("ether_type", Enum(("IPv4", "IPv6"), fold_case=True), default="IPv4", update="Y"),
        Attr("protocol", Enum(PROTOCOLS, fold_case=True), default="all", update="Y"),
        Attr("ip_prefix", Cidr(), update="Y", doc="default 0.0.0.0/0 or ::/0 by ether_type"),
        Attr("port_range_min", Int(), nullable=True, default=None, update="Y"),
        Attr("port_range_max", Int(), nullable=True, default=None, update="Y"),
        Attr("icmp_type", Int(), nullable=True, default=None, update="Y"),
        Attr("icmp_code", Int(), nullable=True, default=None, update="Y"),
        Attr("action", Enum(("allow", "deny")), create="R", update="Y"),
    ),
)
