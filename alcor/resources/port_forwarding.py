"""Floating IP port forwardings (/v2.0/floatingips/{id}/port_forwardings): DNAT of a
floating IP's port (range) to a port's fixed IP (floating-ip-port-forwarding and its
-description, -port-ranges, -detail, expose-port-forwarding-in-fip extensions)."""

from __future__ import annotations

import re
from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.types import Enum, Int, Invalid, IpAddress, String, Type, Uuid

PROTOCOLS = ("tcp", "udp", "udplite", "sctp", "dccp")


class PortForwardingNotFound(errors.NotFound):
    """No such port forwarding on the floating IP."""

    type_name = None
    message = "Port Forwarding {id} could not be found."


class FipInUseByPortForwarding(errors.InUse):
    """The floating IP forwards ports: it cannot also be associated, or deleted."""

    message = "Floating IP {id} has port forwardings."


class PortForwardingConflict(errors.BadRequest):
    """The external or the internal side is already mapped."""

    message = "Bad port_forwarding request: {msg}."


# 1 through 65535.
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"


class PortRange(Type):
    """A port range "first:last" (or one port), 1-65535."""

    def convert(self, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        found = re.fullmatch(r"\s*(\d+)(?::(\d+))?\s*", value) if isinstance(value, str) else None
        if found is None:
            raise Invalid(f"'{value}' is not a valid port range")
        first = int(found.group(1))
        last = int(found.group(2) or first)
        if not 1 <= first <= 65535 or not 1 <= last <= 65535:
            raise Invalid(f"'{value}' is not a valid port range")
        if first > last:  # an order between two numbers: no schema says it
            raise errors.InvalidInput(error_message=f"'{value}' is not a valid port range")
        return f"{first}:{last}"

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{_PORT}(:{_PORT})?$"}


PORT_FORWARDING = Resource(
    name="port_forwarding",
    collection="port_forwardings",
    path="floatingips/{id}/port_forwardings",
    table="port_forwardings",
    not_found=PortForwardingNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        Attr("internal_port_id", Uuid(), create="R", update="Y"),
        Attr("internal_ip_address", IpAddress(version=4), update="Y"),
        Attr("internal_port", Int(1, 65535), nullable=True, update="Y"),
        Attr("external_port", Int(1, 65535), nullable=True, update="Y"),
        Attr("internal_port_range", PortRange(), nullable=True, update="Y"),
        Attr("external_port_range", PortRange(), nullable=True, update="Y"),
        Attr("protocol", Enum(PROTOCOLS), create="R", update="Y"),
        Attr("description", String(255), default="", update="Y"),
    ),
)
