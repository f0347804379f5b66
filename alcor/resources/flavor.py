"""Flavors and service profiles (/v2.0/flavors, /v2.0/service_profiles): named kinds of a
service (a router flavor, l3-flavors) and the drivers behind them (flavors)."""

from __future__ import annotations

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.types import Bool, ListOf, String, Uuid

L3_SERVICE_TYPE = "L3_ROUTER_NAT"
# Neutron's L3 service provider drivers: alcor accepts them in service profiles and runs
# every router its own way (distributed, on each host that needs it).
KNOWN_DRIVERS = frozenset(
    {
        "neutron.services.l3_router.service_providers.single_node.SingleNodeDriver",
        "neutron.services.l3_router.service_providers.dvr.DvrDriver",
        "neutron.services.l3_router.service_providers.l3_agent_scheduler.L3AgentSchedulerDriver",
        "neutron.services.l3_router.service_providers.dvrha.DvrHaDriver",
        "neutron.services.l3_router.service_providers.ha.HaDriver",
    }
)


class FlavorNotFound(errors.NotFound):
    """No flavor with that id."""

    type_name = None
    message = "Flavor {id} could not be found."


class FlavorInUse(errors.InUse):
    """Routers use the flavor."""

    message = "Flavor {flavor_id} is used by some service instance."


class ServiceProfileNotFound(errors.NotFound):
    """No service profile with that id."""

    type_name = None
    message = "Service Profile {id} could not be found."


class ServiceProfileInUse(errors.InUse):
    """Flavors use the profile."""

    message = "Service Profile {sp_id} is used by some service instance."


class ServiceProfileDriverNotFound(errors.NotFound):
    """The driver is none alcor knows."""

    type_name = None
    message = "Service Profile driver {driver} could not be found."


class FlavorServiceProfileBindingExists(errors.Conflict):
    """The profile is already the flavor's."""

    message = "Service Profile {sp_id} is already associated with flavor {fl_id}."


class FlavorServiceProfileBindingNotFound(errors.NotFound):
    """The profile is not the flavor's."""

    type_name = None
    message = "Service Profile {sp_id} is not associated with flavor {fl_id}."


FLAVOR = Resource(
    name="flavor",
    collection="flavors",
    path="flavors",
    table="flavors",
    not_found=FlavorNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        Attr("name", String(255), default="", update="Y"),
        Attr("description", String(1024), default="", update="Y"),
        Attr("service_type", String(36), create="R"),
        Attr("enabled", Bool(), default=True, update="Y"),
        Attr("service_profiles", ListOf(Uuid()), create="-", column=None, filter=False),
    ),
)

SERVICE_PROFILE = Resource(
    name="service_profile",
    collection="service_profiles",
    path="service_profiles",
    table="service_profiles",
    not_found=ServiceProfileNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        Attr("description", String(1024), default="", update="Y"),
        Attr("driver", String(1024), default="", update="Y"),
        Attr("metainfo", String(4096), default="", update="Y"),
        Attr("enabled", Bool(), default=True, update="Y"),
        Attr("flavors", ListOf(Uuid()), create="-", column=None, filter=False),
    ),
)
