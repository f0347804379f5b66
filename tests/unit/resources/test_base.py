"""Body validation from the attribute tables (northbound §1.5) and rendering rules."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.resources.base import (
    defaults,
    make_renderer,
    readable_names,
    validate_create,
    validate_update,
)
from alcor.resources.network import NETWORK
from alcor.resources.port import PORT
from alcor.resources.subnet import SUBNET

NET_ID = "11111111-1111-4111-8111-111111111111"


def _message(exc_info: pytest.ExceptionInfo) -> str:
    assert isinstance(exc_info.value, errors.HTTPBadRequest)
    return exc_info.value.text


def test_create_returns_converted_values_given():
    """Given attributes come back converted; nothing absent is added."""
    out = validate_create(NETWORK, {"name": "n", "admin_state_up": "false", "mtu": "1400"})
    assert out == {"name": "n", "admin_state_up": False, "mtu": 1400}


def test_unknown_attributes_are_reported_before_type_errors():
    """Unknown attributes win over a bad value earlier in the body (Appendix A)."""
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_update(NETWORK, {"mtu": "big", "colour": "blue"})
    assert _message(info) == "Unrecognized attribute(s) 'colour'"


def test_unlisted_extension_attributes_are_unknown():
    """Attributes of extensions alcor does not list are refused like any unknown one."""
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(PORT, {"network_id": NET_ID, "hints": "x", "numa_affinity_policy": None})
    assert _message(info) == "Unrecognized attribute(s) 'hints, numa_affinity_policy'"


def test_attributes_are_checked_in_body_order():
    """The first failing attribute in body order is the one reported."""
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(NETWORK, {"mtu": "big", "admin_state_up": "maybe"})
    assert _message(info).startswith("Invalid input for mtu. Reason: ")
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(NETWORK, {"admin_state_up": "maybe", "mtu": "big"})
    assert _message(info) == (
        "Invalid input for admin_state_up. Reason: 'maybe' cannot be converted to boolean."
    )


def test_read_only_attribute_in_post_and_put():
    """Create-only or read-only attributes get the spec's two messages."""
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(NETWORK, {"status": "ACTIVE"})
    assert _message(info) == "Attribute 'status' not allowed in POST"
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_update(PORT, {"network_id": NET_ID})
    assert _message(info) == "Cannot update read-only attribute network_id"


def test_missing_required_attribute():
    """A missing required attribute names itself."""
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(SUBNET, {"cidr": "10.0.0.0/24"})
    assert _message(info) == (
        "Failed to parse request. Required attribute 'network_id' not specified"
    )


def test_null_only_where_the_table_allows_it():
    """null is accepted for nullable attributes and refused elsewhere."""
    assert (
        validate_create(SUBNET, {"network_id": NET_ID, "cidr": "10.0.0.0/24", "gateway_ip": None})[
            "gateway_ip"
        ]
        is None
    )
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(NETWORK, {"name": None})
    assert _message(info).startswith("Invalid input for name. Reason: ")


def test_nested_errors_name_the_nested_attribute():
    """A bad nested value names the attribute, the index and the field."""
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(
            PORT,
            {"network_id": NET_ID, "fixed_ips": [{"ip_address": "10.0.0.5"}, {"ip_address": "x"}]},
        )
    message = _message(info)
    assert message.startswith("Invalid input for fixed_ips. Reason: [1]: ip_address: ")


@pytest.mark.parametrize(
    "resource, attr, value",
    [
        (PORT, "security_groups", [NET_ID, NET_ID]),
        (SUBNET, "dns_nameservers", ["10.0.0.53", "10.0.0.53"]),
        (SUBNET, "host_routes", [{"destination": "10.1.0.0/24", "nexthop": "10.0.0.9"}] * 2),
    ],
)
def test_duplicate_list_items_are_refused(resource, attr, value):
    """Duplicates in security_groups, dns_nameservers and host_routes are 400."""
    body = {"network_id": NET_ID, attr: value}
    if resource is SUBNET:
        body["cidr"] = "10.0.0.0/24"
    with pytest.raises(errors.HTTPBadRequest, match=f"Invalid input for {attr}"):
        validate_create(resource, body)


def test_duplicate_tags_are_collapsed():
    """Duplicate tags collapse instead of failing."""
    assert validate_create(NETWORK, {"tags": ["a", "b", "a"]})["tags"] == ["a", "b"]


@pytest.mark.parametrize(
    "tags", [[""], ["a,b"], ["x" * 61], [5], "a", [f"t{i}" for i in range(51)]]
)
def test_invalid_tags_are_refused(tags):
    """Tags are 1-60 characters without commas, at most 50."""
    with pytest.raises(errors.HTTPBadRequest, match="Invalid input for tags"):
        validate_create(NETWORK, {"tags": tags})


def test_project_and_tenant_must_match():
    """project_id and tenant_id may both be sent but must agree; tenant_id maps to project_id."""
    assert validate_create(NETWORK, {"tenant_id": "p"}) == {"project_id": "p"}
    assert validate_create(NETWORK, {"tenant_id": "p", "project_id": "p"}) == {"project_id": "p"}
    with pytest.raises(errors.HTTPBadRequest) as info:
        validate_create(NETWORK, {"tenant_id": "p", "project_id": "q"})
    assert _message(info) == "'project_id' and 'tenant_id' do not match"


def test_client_id_must_be_a_uuid_and_is_normalised():
    """A client-supplied id must be a UUID; it is normalised to lowercase dashed."""
    assert validate_create(NETWORK, {"id": NET_ID.upper()})["id"] == NET_ID
    with pytest.raises(errors.HTTPBadRequest, match="Invalid input for id"):
        validate_create(NETWORK, {"id": "my-net"})


def test_body_item_must_be_an_object():
    """An item that is not a JSON object is 400."""
    with pytest.raises(errors.HTTPBadRequest):
        validate_create(NETWORK, ["name"])


def test_native_paths_ignore_the_original_alcors_attributes():
    """On native paths the listed attributes are dropped; on /v2.0 they are errors."""
    body = {
        "name": "vpc",
        "revision_number": 0,
        "is_default": True,
        "create_at": "x",
        "status": "ACTIVE",
    }
    assert validate_create(NETWORK, body, native=True) == {"name": "vpc"}
    with pytest.raises(errors.HTTPBadRequest):
        validate_create(NETWORK, body)
    port = {"network_id": NET_ID, "fast_path": True, "binding:vif_type": "ovs", "veth_name": "vm1"}
    assert validate_create(PORT, port, native=True) == {"network_id": NET_ID}


def test_defaults_fill_only_what_is_absent_and_copy_mutables():
    """defaults() completes the given attributes without sharing mutable defaults."""
    first = defaults(NETWORK, {"name": "x"})
    second = defaults(NETWORK, {})
    assert first["name"] == "x" and second["name"] == ""
    first["tags"].append("t")
    assert second["tags"] == [] and defaults(NETWORK, {})["tags"] == []


def test_restricted_attributes_are_only_readable_with_the_right_role():
    """Admin-only and service-only attributes are omitted for others; tenant_id mirrors project."""
    member = readable_names(PORT, admin=False, service=False)
    service = readable_names(PORT, admin=False, service=True)
    assert "binding:host_id" not in member and "binding:host_id" in service
    assert "provider:network_type" not in readable_names(NETWORK, admin=False, service=True)
    assert "provider:network_type" in readable_names(NETWORK, admin=True, service=True)
    render = make_renderer(["id", "tenant_id", "name"])
    assert render({"id": "i", "project_id": "p", "name": "n", "secret": 1}) == {
        "id": "i",
        "tenant_id": "p",
        "name": "n",
    }
