"""Routers (/v2.0/routers, native /project/{p}/routers)."""

from dataclasses import dataclass
from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.port import FIXED_IP
from alcor.resources.types import Bool, Enum, IpAddress, ListOf, Obj, String, Type, Uuid

ROUTE = Obj(fields=(("destination", String(64), True), ("nexthop", IpAddress(), True)))


@dataclass(frozen=True)
class GatewayInfo(Type):
    """external_gateway_info: `{}` means no gateway (like null), else an object as `info`."""

    info: Obj

    def convert(self, value: Any) -> dict[str, Any] | None:
        if value == {}:
            return None
        return self.info.convert(value)

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "object", "maxProperties": 0}, self.info.schema()]}

    @property
    def is_scalar(self) -> bool:
        return False


GATEWAY = GatewayInfo(
    Obj(
        fields=(
            ("network_id", Uuid(), True),
            ("enable_snat", Bool(), False),
            ("external_fixed_ips", ListOf(FIXED_IP), False),
        )
    )
)

ROUTER = Resource(
    name="router",
    collection="routers",
    path="routers",
    native_path="routers",
    table="routers",
    not_found=errors.RouterNotFound,
    attrs=(
        *std_attrs(status=Enum(("ACTIVE", "DOWN", "ERROR"))),
        Attr("admin_state_up", Bool(), default=True, update="Y"),
        Attr("external_gateway_info", GATEWAY, nullable=True, default=None, update="Y"),
        # null clears the routes, like [] (Tempest's extra-route tests send it).
        Attr("routes", ListOf(ROUTE, unique=True), default=[], update="Y", nullable=True),
        Attr("distributed", Bool(), default=True, create="A", update="A", read="A"),
        # Recorded for Neutron compatibility (l3-ha): alcor routers run on every host that
        # needs them, so there is no router host whose failure HA would have to cover.
        Attr("ha", Bool(), default=False, create="A", update="A", read="A"),
        # l3-flavors: recorded; every alcor router runs the same way whatever its flavor.
        Attr("flavor_id", Uuid(), nullable=True, default=None),
        # router_availability_zone: the zones asked for; availability_zones (computed) are
        # those, or every configured zone (an alcor router runs on any host that needs it).
        Attr(
            "availability_zone_hints",
            ListOf(String(255), unique=True),
            default=[],
            create="Y",
            filter=True,
        ),
        Attr("availability_zones", ListOf(String(255)), create="-", column=None, filter=False),
    ),
    native_ignored=frozenset(
        {"owner", "routetable", "gateway_ports", "availability_zones", "conntrack_helpers"}
    ),
)
