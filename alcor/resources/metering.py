"""Metering labels and their rules (/v2.0/metering/metering-labels,
/v2.0/metering/metering-label-rules): count the traffic of routers by prefix (metering,
metering_source_and_destination_filters)."""

from __future__ import annotations

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.types import Bool, Cidr, Enum, String, Uuid


class MeteringLabelNotFound(errors.NotFound):
    """No visible metering label with that id."""

    type_name = None
    message = "Metering label {id} does not exist"


class MeteringLabelRuleNotFound(errors.NotFound):
    """No visible metering label rule with that id."""

    type_name = None
    message = "Metering label rule {id} does not exist"


class MeteringLabelRuleOverlaps(errors.Conflict):
    """Rules of one label and direction do not overlap."""

    message = "Metering label rule with remote_ip_prefix {remote_ip_prefix} overlaps another"


def _project_attrs() -> tuple[Attr, ...]:
    return (
        Attr("id", Uuid(), create="Y"),
        Attr("project_id", String(255), create="Y"),
        Attr("tenant_id", String(255), create="Y", column="project_id", filter=True, sort=True),
    )


METERING_LABEL = Resource(
    name="metering_label",
    collection="metering_labels",
    path="metering/metering-labels",
    table="metering_labels",
    not_found=MeteringLabelNotFound,
    has_tags=False,
    attrs=(
        *_project_attrs(),
        Attr("name", String(255), default=""),
        Attr("description", String(1024), default=""),
        Attr("shared", Bool(), default=False),
    ),
)

METERING_LABEL_RULE = Resource(
    name="metering_label_rule",
    collection="metering_label_rules",
    path="metering/metering-label-rules",
    table="metering_label_rules",
    not_found=MeteringLabelRuleNotFound,
    has_tags=False,
    attrs=(
        *_project_attrs(),
        Attr("metering_label_id", Uuid(), create="R"),
        Attr("direction", Enum(("ingress", "egress")), create="R"),
        Attr("excluded", Bool(), default=False),
        Attr("remote_ip_prefix", Cidr(strict=False), nullable=True, default=None),
        Attr("source_ip_prefix", Cidr(strict=False), nullable=True, default=None),
        Attr("destination_ip_prefix", Cidr(strict=False), nullable=True, default=None),
    ),
)
