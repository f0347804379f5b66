"""Restricted attributes and write rights (northbound §1.4.3, §1.4.4) with noauth callers."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "attrs,action",
    [
        ({"shared": True}, "create_network:shared"),
        ({"router:external": True}, "create_network:router:external"),
        ({"provider:network_type": "vlan"}, "create_network:provider:network_type"),
        ({"provider:physical_network": "physnet1"}, "create_network:provider:physical_network"),
        ({"provider:segmentation_id": 7}, "create_network:provider:segmentation_id"),
    ],
)
async def test_admin_only_network_attributes_on_create(p1, attrs, action):
    """A member setting an admin-only network attribute gets 403 with Neutron's action."""
    reply = await p1.fails(
        "POST", "/v2.0/networks", {"network": attrs}, status=403, error="PolicyNotAuthorized"
    )
    assert reply.message == f"{action} is disallowed by policy."


async def test_member_naming_another_project_is_400_as_neutron(p1):
    """A member creating a network for another project gets Neutron's 400 (not 403)."""
    reply = await p1.fails(
        "POST",
        "/v2.0/networks",
        {"network": {"project_id": "p2"}},
        status=400,
        error="HTTPBadRequest",
    )
    assert "requires admin privileges" in reply.message


async def test_static_defaults_do_not_count_as_set(p1):
    """`shared: false` / `router:external: false` on create equal the defaults: allowed."""
    network = await p1.network(shared=False, **{"router:external": False})
    assert (network["shared"], network["router:external"]) == (False, False)


async def test_admin_only_network_attributes_on_update(p1):
    """On update every restricted attribute present is checked, even an unchanged value."""
    network = await p1.network()
    for attrs, action in (
        ({"shared": False}, "update_network:shared"),
        ({"router:external": True}, "update_network:router:external"),
    ):
        reply = await p1.fails(
            "PUT",
            f"/v2.0/networks/{network['id']}",
            {"network": attrs},
            status=403,
            error="PolicyNotAuthorized",
        )
        assert reply.message == f"{action} is disallowed by policy."


async def test_provider_attributes_are_admin_read(admin, p1):
    """provider:* are omitted for members, unknown to their filters and sort keys."""
    network = await p1.network(name="n")
    assert not any(k.startswith("provider:") for k in network)
    shown = await admin.get(f"/v2.0/networks/{network['id']}")
    assert shown["network"]["provider:network_type"] == "vxlan"
    for query in ("provider:network_type=vxlan", "sort_key=provider:segmentation_id"):
        await p1.fails("GET", f"/v2.0/networks?{query}", status=400, error="HTTPBadRequest")
    fields = await p1.get(
        f"/v2.0/networks/{network['id']}?fields=provider:network_type&fields=name"
    )
    assert fields["network"] == {"name": "n"}
    assert (await admin.get("/v2.0/networks?provider:network_type=vxlan"))["networks"]


@pytest.mark.parametrize(
    "attrs,action",
    [
        ({"binding:host_id": "node1"}, "create_port:binding:host_id"),
        ({"binding:profile": {"a": 1}}, "create_port:binding:profile"),
    ],
)
async def test_binding_attributes_need_admin_or_service(admin, p1, attrs, action):
    """binding:host_id/profile by a member are 403; the service role may set them."""
    network, _ = await p1.lan("10.0.0.0/24")
    reply = await p1.fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": network["id"], **attrs}},
        status=403,
        error="PolicyNotAuthorized",
    )
    assert reply.message == f"{action} is disallowed by policy."
    nova = admin.as_("p1", "service")
    port = await nova.port(network["id"], **attrs)
    assert all(port[k] == v for k, v in attrs.items())


async def test_binding_attributes_are_hidden_from_members(admin, p1):
    """binding:host_id/profile/vif_* are omitted for members and unknown to their filters."""
    network, _ = await p1.lan("10.0.0.0/24")
    port = await p1.port(network["id"])
    assert [k for k in port if k.startswith("binding:")] == ["binding:vnic_type"]
    assert "binding:vif_type" in (await admin.get(f"/v2.0/ports/{port['id']}"))["port"]
    await p1.fails("GET", "/v2.0/ports?binding:host_id=node1", status=400, error="HTTPBadRequest")


async def test_ports_on_another_projects_shared_network(admin, p1):
    """On a shared network: subnet-only fixed IPs yes; MAC, address or security off 403."""
    network, subnet = await admin.lan("10.0.0.0/24", shared=True)
    port = await p1.port(network["id"], fixed_ips=[{"subnet_id": subnet["id"]}])
    assert port["project_id"] == "p1"
    for attrs, action in (
        ({"mac_address": "fa:16:3e:00:00:42"}, "create_port:mac_address"),
        ({"fixed_ips": [{"ip_address": "10.0.0.42"}]}, "create_port:fixed_ips:ip_address"),
        ({"port_security_enabled": False}, "create_port:port_security_enabled"),
        ({"device_owner": "network:dhcp"}, "create_port:device_owner"),
    ):
        reply = await p1.fails(
            "POST",
            "/v2.0/ports",
            {"port": {"network_id": network["id"], **attrs}},
            status=403,
            error="PolicyNotAuthorized",
        )
        assert reply.message == f"{action} is disallowed by policy."


async def test_network_owner_sees_other_projects_ports_on_it(admin, p1, p2):
    """A port is readable by its project and by the owner of its network."""
    network, _ = await p1.lan("10.0.0.0/24", shared=False)
    await admin.ok("PUT", f"/v2.0/networks/{network['id']}", {"network": {"shared": True}})
    port = await p2.port(network["id"])
    assert port["id"] in {p["id"] for p in (await p1.get("/v2.0/ports"))["ports"]}
    assert (await p2.get(f"/v2.0/ports/{port['id']}"))["port"]["id"] == port["id"]
    await admin.fails(
        "PUT",
        f"/v2.0/networks/{network['id']}",
        {"network": {"shared": False}},
        status=409,
        error="InvalidSharedSetting",
    )


async def test_native_path_scope_applies_to_admins_too(admin, p1):
    """An admin on /project/{p}/… sees what p sees and creates for p; other bodies 400."""
    await p1.network(name="mine")
    await admin.network(name="admins")
    listed = (await admin.get("/project/p1/vpcs"))["networks"]
    assert [n["name"] for n in listed] == ["mine"]
    await admin.fails(
        "POST",
        "/project/p1/vpcs",
        {"network": {"project_id": "p2"}},
        status=400,
        error="HTTPBadRequest",
    )
    created = await admin.ok("POST", "/project/p1/vpcs", {"network": {"name": "x"}}, 201)
    assert created["network"]["project_id"] == "p1"
    assert "provider:network_type" in created["network"]


async def test_path_scope_is_checked_before_the_body(p1, p2):
    """Another project's native path is 403 even with a malformed or invalid body (§1.3)."""
    for body in (None, {"router": {"colour": "red"}}, {"wrong": {}}):
        reply = await p2.fails(
            "POST", "/project/p1/routers", body, status=403, error="PolicyNotAuthorized"
        )
    assert reply.message == "create_router is disallowed by policy."
    reply = await p2.fails("GET", "/project/p1/vpcs", status=403, error="PolicyNotAuthorized")
    assert reply.message == "get_network is disallowed by policy."
    router = await p1.router()
    reply = await p2.fails(
        "PUT",
        f"/project/p1/routers/{router['id']}/add_router_interface",
        {"bogus": 1},
        status=403,
        error="PolicyNotAuthorized",
    )
    assert reply.message == "add_router_interface is disallowed by policy."
    reply = await p2.fails(
        "DELETE", "/project/p1/quotas/p1", status=403, error="PolicyNotAuthorized"
    )
    assert reply.message == "delete_quota is disallowed by policy."
