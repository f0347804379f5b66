"""Address groups (/v2.0/address-groups): named sets of CIDRs that security group rules
refer to by remote_address_group_id (address-group, rbac-address-group)."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.types import (
    CIDR4,
    CIDR6,
    IPV4,
    IPV6,
    Bool,
    Invalid,
    ListOf,
    Type,
    pattern_schema,
)


class AddressGroupNotFound(errors.NotFound):
    """No visible address group with that id."""

    type_name = None
    message = "Address group {id} could not be found."


class AddressesNotFound(errors.NotFound):
    """Removing addresses the group does not have."""

    type_name = None
    message = "Addresses {addresses} not found in the address group {address_group_id}."


class AddressGroupInUse(errors.InUse):
    """Security group rules refer to the group."""

    message = "Address group {address_group_id} is in use on one or more security group rules."


class AddressCidr(Type):
    """A CIDR (a prefix length is required), returned as its network."""

    def convert(self, value: Any) -> str:
        if not isinstance(value, str) or "/" not in value:
            raise Invalid(f"'{value}' is not a valid IP subnet")
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise Invalid(f"'{value}' is not a valid IP subnet") from None

    def schema(self) -> dict[str, Any]:
        # A CIDR whose host bits are set is taken as its network (no strictness to state).
        return pattern_schema(CIDR4, CIDR6)


class AddressOrCidr(AddressCidr):
    """An address (a /32 or /128) or a CIDR: what add_addresses / remove_addresses take."""

    def convert(self, value: Any) -> str:
        if isinstance(value, str) and "/" not in value:
            try:
                return str(ipaddress.ip_network(value.strip()))
            except ValueError:
                raise Invalid(f"'{value}' is not a valid IP address or subnet") from None
        return super().convert(value)

    def schema(self) -> dict[str, Any]:
        return pattern_schema(IPV4, IPV6, CIDR4, CIDR6)


ADDRESSES = ListOf(AddressCidr(), collapse_duplicates=True)
ACTION_ADDRESSES = ListOf(AddressOrCidr(), collapse_duplicates=True)

ADDRESS_GROUP = Resource(
    name="address_group",
    collection="address_groups",
    path="address-groups",
    table="address_groups",
    not_found=AddressGroupNotFound,
    attrs=(
        *std_attrs(),
        Attr("addresses", ADDRESSES, default=[]),
        Attr("shared", Bool(), default=False, create="A"),
    ),
)
