"""Compute nodes (the Alcor node registry, /nodes; admin only, not project-scoped)."""

from dataclasses import dataclass
from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.types import (
    Enum,
    Int,
    Invalid,
    IpAddress,
    String,
    Type,
    mac_is_valid,
    pattern_schema,
)
from alcor.southbound.loader import node_transports

NODE_ID = String(255, min_len=1, pattern=r"[A-Za-z0-9._:-]+")
TOPIC = String(249, min_len=1, pattern=r"[A-Za-z0-9._-]+")


class HostMac(Type):
    """A host MAC address: any valid MAC, returned lower-case colon-separated."""

    def convert(self, value: Any) -> str:
        if not isinstance(value, str) or not mac_is_valid(value) or len(value) != 17:
            raise Invalid(f"'{value}' is not a valid MAC address")
        return value.lower().replace("-", ":")

    def schema(self) -> dict[str, Any]:
        # One separator throughout, as netaddr reads it.
        return pattern_schema(
            "[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", "[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}"
        )


@dataclass(frozen=True)
class TransportName(Type):
    """`auto` or the name of an installed southbound transport (entry point), read per call."""

    def convert(self, value: Any) -> str:
        allowed = node_transports()
        if not isinstance(value, str) or value not in allowed:
            raise Invalid(f"'{value}' is not in {allowed}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": node_transports()}


NODE = Resource(
    name="host_info",
    collection="host_infos",
    path="nodes",
    table="nodes",
    not_found=errors.NodeNotFound,
    has_tags=False,
    attrs=(
        # Accepted on PUT only when equal to the path id (checked by the manager), §12.1.
        Attr(
            "node_id",
            NODE_ID,
            create="Y",
            update="Y",
            doc="primary key; on PUT only the path's own id is accepted (and ignored)",
        ),
        Attr("node_name", String(255, min_len=1), create="R", update="Y"),
        Attr("local_ip", IpAddress(), create="R", update="Y"),
        Attr("mac_address", HostMac(), create="R", update="Y"),
        Attr("veth", String(255), default="", update="Y"),
        Attr("server_port", Int(1, 65535), update="Y"),
        Attr("host_dvr_mac", HostMac(), update="Y", nullable=True, default=None),
        Attr("data-path-ip", IpAddress(), update="Y", nullable=True, default=None),
        Attr("ncm_id", String(255), update="Y", nullable=True, default=None),
        Attr("transport", TransportName(), update="Y"),
        Attr("mq_topic", TOPIC, update="Y", nullable=True, default=None),
        Attr("grpc_api", Enum(("v1", "v2")), update="Y", default="v2"),
        Attr("agent_type", Enum(("aca", "alcor")), update="Y", default="aca"),
        Attr("subscribe_port", Int(1, 65535), update="Y", nullable=True, default=None),
    ),
)
