"""Address scopes (/v2.0/address-scopes): address spaces subnet pools belong to, within
which addresses are routed without NAT (address-scope, rbac-address-scope)."""

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.types import Bool, IntEnum, String, Uuid


class AddressScopeNotFound(errors.NotFound):
    """No visible address scope with that id."""

    type_name = None
    message = "Address scope {id} could not be found."


class AddressScopeInUse(errors.InUse):
    """Subnet pools belong to the scope."""

    message = (
        "Unable to complete operation on address scope {address_scope_id}. There are one or "
        "more subnet pools in use on the address scope."
    )


class AddressScopeUpdateError(errors.BadRequest):
    """A shared scope stays shared."""

    message = "Unable to update address scope {address_scope_id} : {reason}."


ADDRESS_SCOPE = Resource(
    name="address_scope",
    collection="address_scopes",
    path="address-scopes",
    table="address_scopes",
    not_found=AddressScopeNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        Attr("project_id", String(255), create="Y"),
        Attr("tenant_id", String(255), create="Y", column="project_id", filter=True, sort=True),
        Attr("name", String(255), default="", update="Y"),
        Attr("shared", Bool(), default=False, create="A", update="A"),
        Attr("ip_version", IntEnum((4, 6)), create="R"),
    ),
)
