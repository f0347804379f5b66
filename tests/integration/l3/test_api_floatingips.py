"""Floating IPs over HTTP (northbound §8): allocation, association, lifecycle, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from alcor.managers.port.messages import SetPortStatus
from tests.integration.l3.support import Api, external_network

FIPS = "/v2.0/floatingips"


@pytest.fixture
async def routed(admin, p1, public) -> dict[str, Any]:
    """p1's LAN 10.0.1.0/24 routed to the public network: names → objects."""
    network, subnet = await p1.lan("10.0.1.0/24")
    router = await p1.router(external_gateway_info={"network_id": public[0]["id"]})
    await p1.add_interface(router["id"], subnet_id=subnet["id"])
    port = await p1.port(network["id"], name="vm1")
    return {
        "public": public[0],
        "public_subnet": public[1],
        "network": network,
        "subnet": subnet,
        "router": router,
        "port": port,
    }


async def _fip_ports(admin: Api) -> list[dict]:
    return (await admin.get("/v2.0/ports?device_owner=network:floatingip"))["ports"]


# ---- allocation ---------------------------------------------------------------------------


async def test_allocate_takes_the_lowest_free_external_address(admin, p1, public):
    """An unassociated floating IP is DOWN, has no port/router, and reserves its address."""
    network, subnet = public
    fip = await p1.fip(network["id"], description="web")
    assert fip["floating_ip_address"] == "203.0.113.2"
    assert (
        fip["status"],
        fip["port_id"],
        fip["fixed_ip_address"],
        fip["router_id"],
        fip["port_details"],
    ) == ("DOWN", None, None, None, None)
    assert (fip["project_id"], fip["tenant_id"], fip["description"]) == ("p1", "p1", "web")
    assert "subnet_id" not in fip and "name" not in fip
    [port] = await _fip_ports(admin)
    assert (port["device_id"], port["project_id"], port["status"]) == (fip["id"], "", "N/A")
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "203.0.113.2"}]
    assert (await p1.get("/v2.0/ports?device_owner=network:floatingip"))["ports"] == []
    second = await p1.fip(network["id"])
    assert second["floating_ip_address"] == "203.0.113.3"


async def test_allocate_from_a_chosen_subnet(admin, p1, public):
    """`subnet_id` picks the IPv4 subnet; another network's subnet is 400 BadRequest."""
    network, _ = public
    second = await admin.subnet(network["id"], "198.51.100.0/24")
    fip = await p1.fip(network["id"], subnet_id=second["id"])
    assert fip["floating_ip_address"] == "198.51.100.2"
    _, elsewhere = await p1.lan("10.0.0.0/24")
    await p1.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": network["id"], "subnet_id": elsewhere["id"]}},
        status=400,
        error="BadRequest",
    )
    v6 = await admin.subnet(network["id"], "2001:db8::/64")
    await p1.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": network["id"], "subnet_id": v6["id"]}},
        status=400,
        error="BadRequest",
    )


async def test_floating_ip_address_is_admin_only(admin, p1, public):
    """A member choosing the address is 403; an admin gets it, inside the subnets only."""
    network, _ = public
    reply = await p1.fails(
        "POST",
        FIPS,
        {
            "floatingip": {
                "floating_network_id": network["id"],
                "floating_ip_address": "203.0.113.50",
            }
        },
        status=403,
        error="PolicyNotAuthorized",
    )
    assert reply.message == "create_floatingip:floating_ip_address is disallowed by policy."
    fip = await admin.fip(network["id"], floating_ip_address="203.0.113.50")
    assert fip["floating_ip_address"] == "203.0.113.50"
    reply = await admin.fails(
        "POST",
        FIPS,
        {
            "floatingip": {
                "floating_network_id": network["id"],
                "floating_ip_address": "203.0.113.50",
            }
        },
        status=409,
        error="IpAddressAlreadyAllocated",
    )
    reply = await admin.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": network["id"], "floating_ip_address": "192.0.2.5"}},
        status=400,
        error="InvalidIpForNetwork",
    )
    assert reply.message == (
        "IP address 192.0.2.5 is not a valid IP for any of the subnets on the specified network."
    )
    await admin.fails(
        "POST",
        FIPS,
        {
            "floatingip": {
                "floating_network_id": network["id"],
                "floating_ip_address": "2001:db8::1",
            }
        },
        status=400,
        error="HTTPBadRequest",
    )


async def test_floating_network_must_be_external_and_visible(admin, p1):
    """A non-external network is 400 BadRequest, an invisible one 404, none 400."""
    own, _ = await p1.lan("10.0.0.0/24")
    reply = await p1.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": own["id"]}},
        status=400,
        error="BadRequest",
    )
    assert reply.message == (
        f"Bad floatingip request: Network {own['id']} is not a valid external network."
    )
    hidden = await admin.network()
    await p1.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": hidden["id"]}},
        status=404,
        error="NetworkNotFound",
    )
    await p1.fails("POST", FIPS, {"floatingip": {}}, status=400, error="HTTPBadRequest")


async def test_exhausted_external_network(admin):
    """No free external address is 409 IpAddressGenerationFailure, nothing created."""
    network, _ = await external_network(admin, "192.0.2.0/30")
    await admin.fip(network["id"])
    await admin.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": network["id"]}},
        status=409,
        error="IpAddressGenerationFailure",
    )
    assert len((await admin.get(FIPS))["floatingips"]) == 1


async def test_floating_ip_ports_are_not_deletable_through_ports(admin, p1, public):
    """The address-holding port answers 409 ServicePortInUse."""
    await p1.fip(public[0]["id"])
    [port] = await _fip_ports(admin)
    await admin.fails("DELETE", f"/v2.0/ports/{port['id']}", status=409, error="ServicePortInUse")


# ---- association --------------------------------------------------------------------------


async def test_associate_on_create_derives_the_router(p1, routed):
    """With port_id: fixed IP, router_id and port_details are filled; status DOWN until up."""
    fip = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    port = routed["port"]
    assert (fip["port_id"], fip["fixed_ip_address"], fip["router_id"], fip["status"]) == (
        port["id"],
        port["fixed_ips"][0]["ip_address"],
        routed["router"]["id"],
        "DOWN",
    )
    assert fip["port_details"] == {
        "name": "vm1",
        "network_id": routed["network"]["id"],
        "mac_address": port["mac_address"],
        "admin_state_up": True,
        "status": "DOWN",
        "device_id": "",
        "device_owner": "",
    }
    listed = await p1.get(f"{FIPS}?port_id={port['id']}")
    assert [f["id"] for f in listed["floatingips"]] == [fip["id"]]


async def test_status_follows_the_port(admin, p1, routed):
    """An associated floating IP turns ACTIVE with its port, and DOWN with it, in the port
    status's own commit (never a moment apart, never a commit of its own)."""
    fip = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    alcor = admin.client.alcor
    commits = alcor.store.commits
    at = routed["port"]["revision_number"]
    await alcor.bus.call(SetPortStatus(statuses={routed["port"]["id"]: ("ACTIVE", at)}))
    assert alcor.store.commits == commits + 1
    shown = (await p1.get(f"{FIPS}/{fip['id']}"))["floatingip"]
    assert shown["status"] == "ACTIVE"
    assert shown["port_details"]["status"] == "ACTIVE"
    await alcor.bus.call(SetPortStatus(statuses={routed["port"]["id"]: ("DOWN", at)}))
    shown = (await p1.get(f"{FIPS}/{fip['id']}"))["floatingip"]
    assert (shown["status"], shown["port_details"]["status"]) == ("DOWN", "DOWN")


async def test_associate_by_update_then_disassociate(p1, routed):
    """PUT port_id associates; PUT port_id null clears port, fixed IP, router, details."""
    fip = await p1.fip(routed["public"]["id"])
    path = f"{FIPS}/{fip['id']}"
    body = await p1.ok("PUT", path, {"floatingip": {"port_id": routed["port"]["id"]}})
    assert body["floatingip"]["router_id"] == routed["router"]["id"]
    assert body["floatingip"]["revision_number"] == 2
    body = await p1.ok("PUT", path, {"floatingip": {"port_id": None}})
    assert (
        body["floatingip"]["port_id"],
        body["floatingip"]["fixed_ip_address"],
        body["floatingip"]["router_id"],
        body["floatingip"]["port_details"],
        body["floatingip"]["status"],
    ) == (None, None, None, None, "DOWN")
    assert body["floatingip"]["revision_number"] == 3


async def test_an_empty_update_disassociates_as_neutron(p1, routed):
    """PUT {"floatingip": {}} clears the association; a description-only PUT keeps it."""
    fip = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    path = f"{FIPS}/{fip['id']}"
    body = await p1.ok("PUT", path, {"floatingip": {"description": "d2"}})
    assert body["floatingip"]["port_id"] == routed["port"]["id"]
    await p1.ok("PUT", f"{path}/tags/red", status=201)
    assert (await p1.get(path))["floatingip"]["port_id"] == routed["port"]["id"]
    body = await p1.ok("PUT", path, {"floatingip": {}})
    assert (
        body["floatingip"]["port_id"],
        body["floatingip"]["router_id"],
        body["floatingip"]["description"],
    ) == (None, None, "d2")


async def test_reassociate_to_another_port_in_one_put(p1, routed):
    """Moving a floating IP to another port needs no disassociation first."""
    fip = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    other = await p1.port(routed["network"]["id"], name="vm2")
    body = await p1.ok("PUT", f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": other["id"]}})
    assert (body["floatingip"]["port_id"], body["floatingip"]["fixed_ip_address"]) == (
        other["id"],
        other["fixed_ips"][0]["ip_address"],
    )
    assert body["floatingip"]["port_details"]["name"] == "vm2"


async def test_a_fixed_ip_holds_one_floating_ip_per_external_network(p1, routed):
    """A second floating IP on the same fixed IP is 409 FloatingIPPortAlreadyAssociated."""
    first = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    second = await p1.fip(routed["public"]["id"])
    reply = await p1.fails(
        "PUT",
        f"{FIPS}/{second['id']}",
        {"floatingip": {"port_id": routed["port"]["id"]}},
        status=409,
        error="FloatingIPPortAlreadyAssociated",
    )
    fixed = routed["port"]["fixed_ips"][0]["ip_address"]
    assert reply.message == (
        f"Cannot associate floating IP {second['floating_ip_address']} ({second['id']}) with "
        f"port {routed['port']['id']} using fixed IP {fixed}, as that fixed IP already has a "
        f"floating IP on external network {routed['public']['id']}."
    )
    await p1.fails(
        "POST",
        FIPS,
        {
            "floatingip": {
                "floating_network_id": routed["public"]["id"],
                "port_id": routed["port"]["id"],
            }
        },
        status=409,
        error="FloatingIPPortAlreadyAssociated",
    )
    assert len((await p1.get(FIPS))["floatingips"]) == 2
    same = await p1.ok(
        "PUT", f"{FIPS}/{first['id']}", {"floatingip": {"port_id": routed["port"]["id"]}}
    )
    assert same["floatingip"]["revision_number"] == first["revision_number"]


async def test_association_needs_a_router_to_the_external_network(admin, p1, public):
    """No router joining the port's subnet to the network: 404 ExternalGateway…NotFound."""
    network, subnet = await p1.lan("10.0.1.0/24")
    port = await p1.port(network["id"])
    fip = await p1.fip(public[0]["id"])
    reply = await p1.fails(
        "PUT",
        f"{FIPS}/{fip['id']}",
        {"floatingip": {"port_id": port["id"]}},
        status=404,
        error="ExternalGatewayForFloatingIPNotFound",
    )
    assert reply.message == (
        f"External network {public[0]['id']} is not reachable from subnet {subnet['id']}. "
        f"Therefore, cannot associate Port {port['id']} with a Floating IP."
    )
    router = await p1.router()
    await p1.add_interface(router["id"], subnet_id=subnet["id"])
    await p1.fails(
        "PUT",
        f"{FIPS}/{fip['id']}",
        {"floatingip": {"port_id": port["id"]}},
        status=404,
        error="ExternalGatewayForFloatingIPNotFound",
    )
    other, _ = await external_network(admin, "198.51.100.0/24")
    await p1.ok(
        "PUT",
        f"/v2.0/routers/{router['id']}",
        {"router": {"external_gateway_info": {"network_id": other["id"]}}},
    )
    await p1.fails(
        "PUT",
        f"{FIPS}/{fip['id']}",
        {"floatingip": {"port_id": port["id"]}},
        status=404,
        error="ExternalGatewayForFloatingIPNotFound",
    )


async def test_association_port_rules(p1, routed):
    """Service ports and ports without (or with several) IPv4 addresses are 400 BadRequest."""
    fip = await p1.fip(routed["public"]["id"])
    path = f"{FIPS}/{fip['id']}"
    interface = (await p1.get("/v2.0/ports?device_owner=network:router_interface"))["ports"][0]
    await p1.fails(
        "PUT", path, {"floatingip": {"port_id": interface["id"]}}, status=400, error="BadRequest"
    )
    bare = await p1.port(routed["network"]["id"], fixed_ips=[])
    await p1.fails(
        "PUT", path, {"floatingip": {"port_id": bare["id"]}}, status=400, error="BadRequest"
    )
    two = await p1.port(
        routed["network"]["id"],
        fixed_ips=[{"ip_address": "10.0.1.50"}, {"ip_address": "10.0.1.51"}],
    )
    await p1.fails(
        "PUT", path, {"floatingip": {"port_id": two["id"]}}, status=400, error="BadRequest"
    )
    await p1.fails(
        "PUT",
        path,
        {"floatingip": {"port_id": two["id"], "fixed_ip_address": "10.0.1.52"}},
        status=400,
        error="BadRequest",
    )
    await p1.fails(
        "PUT",
        path,
        {"floatingip": {"port_id": two["id"], "fixed_ip_address": "fd00::1"}},
        status=400,
        error="BadRequest",
    )
    body = await p1.ok(
        "PUT", path, {"floatingip": {"port_id": two["id"], "fixed_ip_address": "10.0.1.51"}}
    )
    assert body["floatingip"]["fixed_ip_address"] == "10.0.1.51"
    await p1.fails(
        "PUT",
        path,
        {"floatingip": {"port_id": "33333333-3333-4333-8333-333333333333"}},
        status=404,
        error="PortNotFound",
    )


# ---- lifecycle ----------------------------------------------------------------------------


async def test_delete_while_associated_releases_the_address(admin, p1, routed):
    """DELETE of an associated floating IP is 204 and frees the address and its port."""
    fip = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    await p1.ok("DELETE", f"{FIPS}/{fip['id']}", status=204)
    await p1.fails("GET", f"{FIPS}/{fip['id']}", status=404, error="FloatingIPNotFound")
    assert await _fip_ports(admin) == []
    again = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    assert again["floating_ip_address"] == fip["floating_ip_address"]


async def test_deleting_the_port_disassociates(p1, routed):
    """Deleting the associated port leaves the floating IP allocated but disassociated."""
    fip = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    await p1.ok("DELETE", f"/v2.0/ports/{routed['port']['id']}", status=204)
    shown = (await p1.get(f"{FIPS}/{fip['id']}"))["floatingip"]
    assert (
        shown["port_id"],
        shown["router_id"],
        shown["fixed_ip_address"],
        shown["port_details"],
        shown["status"],
    ) == (None, None, None, None, "DOWN")
    assert shown["revision_number"] == fip["revision_number"] + 1


async def test_router_parts_used_by_a_floating_ip_are_in_use(p1, routed):
    """Interface removal and gateway clear/change are 409 while a floating IP needs them."""
    fip = await p1.fip(routed["public"]["id"], port_id=routed["port"]["id"])
    router, subnet = routed["router"], routed["subnet"]
    reply = await p1.fails(
        "PUT",
        f"/v2.0/routers/{router['id']}/remove_router_interface",
        {"subnet_id": subnet["id"]},
        status=409,
        error="RouterInterfaceInUseByFloatingIP",
    )
    assert reply.message == (
        f"Router interface for subnet {subnet['id']} on router "
        f"{router['id']} cannot be deleted, as it is required by one or "
        f"more floating IPs."
    )
    reply = await p1.fails(
        "PUT",
        f"/v2.0/routers/{router['id']}",
        {"router": {"external_gateway_info": None}},
        status=409,
        error="RouterExternalGatewayInUseByFloatingIp",
    )
    assert reply.message == (
        f"Gateway cannot be updated for router {router['id']}, since a "
        f"gateway to external network {routed['public']['id']} is "
        f"required by one or more floating IPs."
    )
    await p1.ok("PUT", f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": None}})
    await p1.ok(
        "PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", {"subnet_id": subnet["id"]}
    )
    await p1.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {"external_gateway_info": None}})


async def test_external_network_with_floating_ips_cannot_become_internal(admin, p1, public):
    """router:external → false with floating IP ports is 409 ExternalNetworkInUse."""
    await p1.fip(public[0]["id"])
    await admin.fails(
        "PUT",
        f"/v2.0/networks/{public[0]['id']}",
        {"network": {"router:external": False}},
        status=409,
        error="ExternalNetworkInUse",
    )


async def test_floating_ip_update_rules(p1, routed):
    """Only port_id, fixed_ip_address, router_id, description and tags change; others are
    400."""
    fip = await p1.fip(routed["public"]["id"])
    path = f"{FIPS}/{fip['id']}"
    body = await p1.ok("PUT", path, {"floatingip": {"description": "d", "tags": ["x"]}})
    assert (body["floatingip"]["description"], body["floatingip"]["tags"]) == ("d", ["x"])
    for attrs in (
        {"floating_network_id": routed["public"]["id"]},
        {"floating_ip_address": "203.0.113.77"},
    ):
        await p1.fails("PUT", path, {"floatingip": attrs}, status=400, error="HTTPBadRequest")
    await p1.fails(
        "PUT",
        path,
        {"floatingip": {"description": "e"}},
        headers={"If-Match": "revision_number=1"},
        status=412,
        error="RevisionNumberConstraintFailed",
    )


async def test_native_elasticips_alias(p1, routed):
    """/project/{p}/elasticips serves floating IPs with Neutron bodies."""
    body = await p1.ok(
        "POST",
        "/project/p1/elasticips",
        {
            "floatingip": {
                "floating_network_id": routed["public"]["id"],
                "port_id": routed["port"]["id"],
            }
        },
        201,
    )
    fip = body["floatingip"]
    assert fip["router_id"] == routed["router"]["id"]
    listed = await p1.get("/project/p1/elasticips")
    assert [f["id"] for f in listed["floatingips"]] == [fip["id"]]
    await p1.ok("DELETE", f"/project/p1/elasticips/{fip['id']}", status=204)


# ---- isolation ----------------------------------------------------------------------------


async def test_floating_ips_are_isolated_between_projects(p1, p2, routed):
    """Another project's floating IP is 404; another project's port is 404 PortNotFound."""
    fip = await p1.fip(routed["public"]["id"])
    assert (await p2.get(FIPS))["floatingips"] == []
    for method, path, body in (
        ("GET", f"{FIPS}/{fip['id']}", None),
        ("PUT", f"{FIPS}/{fip['id']}", {"floatingip": {"description": "x"}}),
        ("DELETE", f"{FIPS}/{fip['id']}", None),
    ):
        await p2.fails(method, path, body, status=404, error="FloatingIPNotFound")
    theirs = await p2.fip(routed["public"]["id"])
    reply = await p2.fails(
        "PUT",
        f"{FIPS}/{theirs['id']}",
        {"floatingip": {"port_id": routed["port"]["id"]}},
        status=404,
        error="PortNotFound",
    )
    assert reply.message == f"Port {routed['port']['id']} could not be found."


async def test_another_projects_port_on_my_network_is_400(admin, p1, routed):
    """A port the member can read (on its network) but owned by another project is 400."""
    fip = await p1.fip(routed["public"]["id"])
    theirs = await admin.port(routed["network"]["id"], project_id="p3")
    reply = await p1.fails(
        "PUT",
        f"{FIPS}/{fip['id']}",
        {"floatingip": {"port_id": theirs["id"]}},
        status=400,
        error="BadRequest",
    )
    assert "owned by a different project" in reply.message


async def test_admin_may_associate_any_projects_port(admin, p1, routed):
    """An admin associates a floating IP of p1 to p1's port; it stays p1's."""
    fip = await admin.fip(routed["public"]["id"], project_id="p1", port_id=routed["port"]["id"])
    assert (fip["project_id"], fip["router_id"]) == ("p1", routed["router"]["id"])
    assert [f["id"] for f in (await p1.get(FIPS))["floatingips"]] == [fip["id"]]


async def test_reader_cannot_allocate(admin, public):
    """The reader role may list floating IPs but not allocate them."""
    reader = admin.as_("p1", "reader")
    assert (await reader.get(FIPS))["floatingips"] == []
    await reader.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": public[0]["id"]}},
        status=403,
        error="PolicyNotAuthorized",
    )


async def test_client_ids_and_tags_on_floating_ips(admin, p1, public):
    """Floating IPs take client ids (reuse is 409 Conflict) and tags (absent → TagNotFound)."""
    wanted = "77777777-7777-4777-8777-777777777777"
    await p1.fip(public[0]["id"], id=wanted)
    await p1.fails(
        "POST",
        FIPS,
        {"floatingip": {"floating_network_id": public[0]["id"], "id": wanted}},
        status=409,
        error="Conflict",
    )
    assert len(await _fip_ports(admin)) == 1  # the refused create released its address
    await p1.fails("GET", f"{FIPS}/{wanted}/tags/x", status=404, error="TagNotFound")


async def test_floatingip_pools_list_ipv4_subnets_of_external_networks(admin, p1, public):
    """GET /v2.0/floatingip-pools: each IPv4 subnet of a visible external network, owned by
    the caller in the answer; a FIP from a pool's subnet lies in its CIDR."""
    network, subnet = public
    second = await admin.subnet(network["id"], "198.51.100.0/24")
    await admin.subnet(network["id"], "2001:db8:9::/64")
    await p1.lan("10.0.1.0/24")  # internal: not a pool
    pools = (await p1.get("/v2.0/floatingip-pools"))["floatingip_pools"]
    assert sorted(pools, key=lambda p: p["cidr"]) == [
        {
            "subnet_id": second["id"],
            "subnet_name": "",
            "network_id": network["id"],
            "cidr": "198.51.100.0/24",
            "project_id": "p1",
            "tenant_id": "p1",
        },
        {
            "subnet_id": subnet["id"],
            "subnet_name": subnet["name"],
            "network_id": network["id"],
            "cidr": "203.0.113.0/24",
            "project_id": "p1",
            "tenant_id": "p1",
        },
    ]
    fip = await p1.fip(network["id"], subnet_id=second["id"])
    assert fip["floating_ip_address"].startswith("198.51.100.")
    only = (await p1.get("/v2.0/floatingip-pools?fields=cidr"))["floatingip_pools"]
    assert sorted(only, key=lambda p: p["cidr"]) == [
        {"cidr": "198.51.100.0/24"},
        {"cidr": "203.0.113.0/24"},
    ]
    await p1.fails("GET", "/v2.0/floatingip-pools?colour=red", status=400, error="HTTPBadRequest")


async def test_floating_ip_on_a_named_router(admin, p1, public):
    """floating-ip-router-writable: a port behind an inner router without gateway gets a
    floating IP only through a router named for it (else 404), which must have its gateway
    on the floating network (409); an update may name the router too."""
    network, subnet = await p1.lan("10.0.5.0/24")
    transit, _transit_subnet = await p1.lan("10.0.6.0/24")
    inner = await p1.router()
    await p1.add_interface(inner["id"], subnet_id=subnet["id"])
    inner_leg = await p1.port(transit["id"])
    await p1.add_interface(inner["id"], port_id=inner_leg["id"])
    outer = await p1.router(external_gateway_info={"network_id": public[0]["id"]})
    outer_leg = await p1.port(transit["id"])
    await p1.add_interface(outer["id"], port_id=outer_leg["id"])
    vm = await p1.port(network["id"])
    body = {"floatingip": {"floating_network_id": public[0]["id"], "port_id": vm["id"]}}
    await p1.fails("POST", FIPS, body, status=404, error="ExternalGatewayForFloatingIPNotFound")
    hosted = (
        await p1.ok(
            "POST", FIPS, {"floatingip": {**body["floatingip"], "router_id": outer["id"]}}, 201
        )
    )["floatingip"]
    assert hosted["router_id"] == outer["id"] and hosted["port_id"] == vm["id"]
    other, _ = await external_network(admin, "198.51.100.0/24")
    elsewhere = await p1.router(external_gateway_info={"network_id": other["id"]})
    await p1.fails(
        "POST",
        FIPS,
        {"floatingip": {**body["floatingip"], "router_id": elsewhere["id"]}},
        status=409,
        error="Conflict",
    )
    loose = await p1.fip(public[0]["id"])
    vm2 = await p1.port(network["id"])
    moved = await p1.ok(
        "PUT",
        f"{FIPS}/{loose['id']}",
        {"floatingip": {"port_id": vm2["id"], "router_id": outer["id"]}},
    )
    assert moved["floatingip"]["router_id"] == outer["id"]


async def test_floating_ip_through_a_router_interface(admin, p1):
    """router-interface-fip: a router with an interface (not its gateway) on an external
    network hosts floating IPs of that network for its other subnets; that interface and
    the port's stay while the floating IP is associated (409), and go after."""
    lan, lan_subnet = await p1.lan("192.2.1.0/24")
    router = await p1.router()
    await p1.add_interface(router["id"], subnet_id=lan_subnet["id"])
    outside = await admin.network(project_id="p1", **{"router:external": True})
    outside_subnet = await p1.subnet(outside["id"], "192.2.2.0/24")
    await p1.add_interface(router["id"], subnet_id=outside_subnet["id"])
    vm = await p1.port(lan["id"])
    fip = await p1.fip(outside["id"])
    associated = (await p1.ok("PUT", f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": vm["id"]}}))[
        "floatingip"
    ]
    assert associated["router_id"] == router["id"]
    remove = f"/v2.0/routers/{router['id']}/remove_router_interface"
    await p1.fails(
        "PUT",
        remove,
        {"subnet_id": outside_subnet["id"]},
        status=409,
        error="RouterInterfaceInUseAsGatewayByFloatingIP",
    )
    await p1.fails(
        "PUT",
        remove,
        {"subnet_id": lan_subnet["id"]},
        status=409,
        error="RouterInterfaceInUseByFloatingIP",
    )
    await p1.ok("PUT", f"{FIPS}/{fip['id']}", {"floatingip": {"port_id": None}})
    await p1.remove_interface(router["id"], subnet_id=outside_subnet["id"])
    await p1.remove_interface(router["id"], subnet_id=lan_subnet["id"])
