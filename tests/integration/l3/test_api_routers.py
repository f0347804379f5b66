"""Routers over HTTP (northbound §6): CRUD, gateway, interfaces, extra routes, isolation."""

from __future__ import annotations

import pytest

from tests.integration.l3.support import Api, external_network

ROUTERS = "/v2.0/routers"


def _action(router_id: str, name: str) -> str:
    return f"{ROUTERS}/{router_id}/{name}"


async def _ports(admin: Api, **filters: str) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return (await admin.get(f"/v2.0/ports?{query}"))["ports"]


# ---- create / show / update / delete ----------------------------------------------------


async def test_create_router_has_neutron_defaults(admin):
    """A new router is ACTIVE, up, distributed, without gateway or routes."""
    router = await admin.router(name="r1")
    assert router["status"] == "ACTIVE"
    assert router["admin_state_up"] is True
    assert router["distributed"] is True
    assert router["external_gateway_info"] is None
    assert router["routes"] == []
    assert router["revision_number"] == 1
    assert router["project_id"] == router["tenant_id"] == "default"


async def test_router_availability_zones(admin, p1):
    """router_availability_zone: hints are kept (create only) and become the router's
    zones; without hints a router is in every zone; an unknown zone is 404."""
    plain = await admin.router()
    assert plain["availability_zone_hints"] == [] and plain["availability_zones"] == ["nova"]
    hinted = await p1.router(availability_zone_hints=["nova"])
    assert hinted["availability_zone_hints"] == hinted["availability_zones"] == ["nova"]
    shown = (await p1.get(f"{ROUTERS}/{hinted['id']}"))["router"]
    assert shown["availability_zones"] == ["nova"]
    renamed = await p1.ok("PUT", f"{ROUTERS}/{hinted['id']}", {"router": {"name": "r"}})
    assert renamed["router"]["availability_zones"] == ["nova"]
    await p1.fails(
        "POST",
        ROUTERS,
        {"router": {"availability_zone_hints": ["mars"]}},
        status=404,
        error="AvailabilityZoneNotFound",
    )
    await p1.fails(
        "PUT",
        f"{ROUTERS}/{hinted['id']}",
        {"router": {"availability_zone_hints": []}},
        status=400,
        error="HTTPBadRequest",
    )
    listed = await p1.get(f"{ROUTERS}?availability_zone_hints=nova")
    assert [r["id"] for r in listed["routers"]] == [hinted["id"]]


async def test_member_does_not_see_admin_only_distributed(p1):
    """`distributed` is admin-read: omitted for members and unknown as a filter or sort key."""
    router = await p1.router(name="r1")
    assert "distributed" not in router
    await p1.fails("GET", f"{ROUTERS}?distributed=true", status=400, error="HTTPBadRequest")
    await p1.fails("GET", f"{ROUTERS}?sort_key=distributed", status=400, error="HTTPBadRequest")
    shown = await p1.get(f"{ROUTERS}/{router['id']}?fields=distributed&fields=name")
    assert shown["router"] == {"name": "r1"}


async def test_admin_may_record_a_centralized_router_and_update_it(admin):
    """`distributed` is recorded as set by an admin (Neutron's dvr extension; Tempest's
    centralized-router tests); alcor still routes on every host that needs it."""
    router = (
        await admin.ok(
            "POST", ROUTERS, {"router": {"distributed": False, "admin_state_up": False}}, 201
        )
    )["router"]
    assert router["distributed"] is False
    updated = await admin.ok("PUT", f"{ROUTERS}/{router['id']}", {"router": {"distributed": True}})
    assert updated["router"]["distributed"] is True


async def test_distributed_changes_only_while_the_router_is_down(admin):
    """router-admin-state-down-before-update: changing `distributed` on a router that is up
    before or after the update is 400; down, it changes; an unchanged value is no change."""
    router = (await admin.ok("POST", ROUTERS, {"router": {"distributed": False}}, 201))["router"]
    path = f"{ROUTERS}/{router['id']}"
    reply = await admin.fails(
        "PUT", path, {"router": {"distributed": True}}, status=400, error="BadRequest"
    )
    assert "Please set router admin_state_up to False prior to upgrade" in reply.message
    await admin.fails(
        "PUT",
        path,
        {"router": {"distributed": True, "admin_state_up": False}},
        status=400,
        error="BadRequest",
    )
    await admin.ok("PUT", path, {"router": {"distributed": False, "name": "same"}})
    await admin.ok("PUT", path, {"router": {"admin_state_up": False}})
    await admin.fails(
        "PUT",
        path,
        {"router": {"distributed": True, "admin_state_up": True}},
        status=400,
        error="BadRequest",
    )
    body = await admin.ok("PUT", path, {"router": {"distributed": True}})
    assert body["router"]["distributed"] is True


async def test_member_setting_distributed_is_policy_error(p1):
    """A member sending `distributed: false` gets 403 create_router:distributed."""
    reply = await p1.fails(
        "POST", ROUTERS, {"router": {"distributed": False}}, status=403, error="PolicyNotAuthorized"
    )
    assert reply.message == "create_router:distributed is disallowed by policy."
    router = await p1.router()
    reply = await p1.fails(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"distributed": True}},
        status=403,
        error="PolicyNotAuthorized",
    )
    assert reply.message == "update_router:distributed is disallowed by policy."


async def test_update_router_is_partial_and_bumps_revision(admin):
    """PUT changes only what is given; an idempotent PUT bumps nothing."""
    router = await admin.router(name="r1", description="d")
    body = await admin.ok("PUT", f"{ROUTERS}/{router['id']}", {"router": {"admin_state_up": False}})
    updated = body["router"]
    assert (updated["name"], updated["description"], updated["admin_state_up"]) == (
        "r1",
        "d",
        False,
    )
    assert updated["revision_number"] == 2
    again = await admin.ok(
        "PUT", f"{ROUTERS}/{router['id']}", {"router": {"admin_state_up": False}}
    )
    assert again["router"]["revision_number"] == 2


async def test_router_update_honours_if_match(admin):
    """A stale If-Match revision is 412 RevisionNumberConstraintFailed."""
    router = await admin.router()
    reply = await admin.fails(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"name": "x"}},
        headers={"If-Match": "revision_number=7"},
        status=412,
        error="RevisionNumberConstraintFailed",
    )
    assert reply.message == "Constrained to 7, but current revision is 1"
    await admin.ok(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"name": "x"}},
        headers={"If-Match": "revision_number=1"},
    )


async def test_unknown_router_is_router_not_found(admin):
    """Show, update, delete and actions on a missing router answer 404 RouterNotFound."""
    missing = "44444444-4444-4444-8444-444444444444"
    for method, path, body in (
        ("GET", f"{ROUTERS}/{missing}", None),
        ("PUT", f"{ROUTERS}/{missing}", {"router": {"name": "x"}}),
        ("DELETE", f"{ROUTERS}/{missing}", None),
        ("PUT", _action(missing, "add_router_interface"), {"subnet_id": missing}),
    ):
        reply = await admin.fails(method, path, body, status=404, error="RouterNotFound")
    assert reply.message == f"Router {missing} could not be found."


async def test_router_tags_and_tag_filters(admin):
    """Routers carry tags: the sub-resource edits them and list filters use them."""
    router = await admin.router(name="tagged", tags=["b", "a"])
    assert router["tags"] == ["a", "b"]
    await admin.ok("PUT", f"{ROUTERS}/{router['id']}/tags/c", status=201)
    listed = await admin.get(f"{ROUTERS}?tags=a,c")
    assert [r["id"] for r in listed["routers"]] == [router["id"]]


async def test_router_create_ignores_original_alcor_fields_on_native_path(admin):
    """The native alias accepts the original's extra router fields and ignores them."""
    body = {"router": {"name": "r", "owner": "x", "routetable": {}, "gateway_ports": []}}
    created = await admin.ok("POST", "/project/p1/routers", body, 201)
    assert created["router"]["project_id"] == "p1"
    await admin.fails("POST", ROUTERS, body, status=400, error="HTTPBadRequest")


# ---- external gateway ---------------------------------------------------------------------


async def test_gateway_takes_an_address_on_the_external_subnet(admin, p1, public):
    """The gateway port is admin-only, owned by network:router_gateway, with an external IP."""
    network, subnet = public
    router = await p1.router(external_gateway_info={"network_id": network["id"]})
    info = router["external_gateway_info"]
    assert info == {
        "network_id": network["id"],
        "enable_snat": True,
        "external_fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "203.0.113.2"}],
    }
    [port] = await _ports(admin, device_owner="network:router_gateway")
    assert (port["device_id"], port["project_id"], port["status"]) == (router["id"], "", "ACTIVE")
    assert (await p1.get("/v2.0/ports?device_owner=network:router_gateway"))["ports"] == []


async def test_gateway_needs_an_external_network(admin, p1):
    """A non-external gateway network is 400 BadRequest; an invisible one 404."""
    own, _ = await p1.lan("10.0.0.0/24")
    reply = await p1.fails(
        "POST",
        ROUTERS,
        {"router": {"external_gateway_info": {"network_id": own["id"]}}},
        status=400,
        error="BadRequest",
    )
    assert reply.message == (
        f"Bad router request: Network {own['id']} is not a valid external network."
    )
    hidden = await admin.network()
    await p1.fails(
        "POST",
        ROUTERS,
        {"router": {"external_gateway_info": {"network_id": hidden["id"]}}},
        status=404,
        error="NetworkNotFound",
    )
    assert (await admin.get(ROUTERS))["routers"] == []


async def test_native_path_treats_non_external_gateway_as_absent(p1):
    """On /project/{p}/routers a gateway on a non-external network is ignored (§1.5)."""
    own, _ = await p1.lan("10.0.0.0/24")
    body = {"router": {"name": "r", "external_gateway_info": {"network_id": own["id"]}}}
    created = await p1.ok("POST", "/project/p1/routers", body, 201)
    assert created["router"]["external_gateway_info"] is None


async def test_gateway_snat_and_fixed_ips_are_admin_only(admin, p1, public):
    """enable_snat (unless the default) and external_fixed_ips need admin (403 otherwise)."""
    network, subnet = public
    reply = await p1.fails(
        "POST",
        ROUTERS,
        {"router": {"external_gateway_info": {"network_id": network["id"], "enable_snat": False}}},
        status=403,
        error="PolicyNotAuthorized",
    )
    assert reply.message == (
        "create_router:external_gateway_info:enable_snat is disallowed by policy."
    )
    await p1.fails(
        "POST",
        ROUTERS,
        {
            "router": {
                "external_gateway_info": {
                    "network_id": network["id"],
                    "external_fixed_ips": [{"ip_address": "203.0.113.9"}],
                }
            }
        },
        status=403,
        error="PolicyNotAuthorized",
    )
    router = await p1.router(
        external_gateway_info={"network_id": network["id"], "enable_snat": True}
    )
    await p1.fails(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"external_gateway_info": {"network_id": network["id"], "enable_snat": False}}},
        status=403,
        error="PolicyNotAuthorized",
    )
    chosen = await admin.router(
        external_gateway_info={
            "network_id": network["id"],
            "enable_snat": False,
            "external_fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "203.0.113.9"}],
        }
    )
    assert chosen["external_gateway_info"]["enable_snat"] is False
    assert chosen["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] == "203.0.113.9"


async def test_gateway_can_be_cleared_with_null_or_empty_object(admin, public):
    """`external_gateway_info: null` or `{}` removes the gateway port."""
    network, _ = public
    for cleared in (None, {}):
        router = await admin.router(external_gateway_info={"network_id": network["id"]})
        body = await admin.ok(
            "PUT", f"{ROUTERS}/{router['id']}", {"router": {"external_gateway_info": cleared}}
        )
        assert body["router"]["external_gateway_info"] is None
        assert body["router"]["revision_number"] == 2
    assert await _ports(admin, device_owner="network:router_gateway") == []


async def test_empty_gateway_on_create_means_no_gateway(admin):
    """`external_gateway_info: {}` on create is the same as no gateway."""
    router = await admin.router(external_gateway_info={})
    assert router["external_gateway_info"] is None


async def test_gateway_on_another_network_replaces_the_port(admin, public):
    """Changing the gateway network replaces the gateway port."""
    network, _ = public
    other, other_subnet = await external_network(admin, "198.51.100.0/24")
    router = await admin.router(external_gateway_info={"network_id": network["id"]})
    body = await admin.ok(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"external_gateway_info": {"network_id": other["id"]}}},
    )
    assert body["router"]["external_gateway_info"]["external_fixed_ips"] == [
        {"subnet_id": other_subnet["id"], "ip_address": "198.51.100.2"}
    ]
    ports = await _ports(admin, device_owner="network:router_gateway")
    assert [p["network_id"] for p in ports] == [other["id"]]


async def test_gateway_snat_toggle_keeps_the_port(admin, public):
    """An admin changing only enable_snat keeps the gateway address."""
    network, _ = public
    router = await admin.router(external_gateway_info={"network_id": network["id"]})
    body = await admin.ok(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"external_gateway_info": {"network_id": network["id"], "enable_snat": False}}},
    )
    info = body["router"]["external_gateway_info"]
    assert info["enable_snat"] is False
    assert info["external_fixed_ips"] == router["external_gateway_info"]["external_fixed_ips"]


async def test_gateway_on_a_full_external_network_is_generation_failure(admin):
    """No free external address → 409 IpAddressGenerationFailure, no router left behind."""
    network, _ = await external_network(admin, "192.0.2.0/30")
    await admin.router(external_gateway_info={"network_id": network["id"]})
    reply = await admin.fails(
        "POST",
        ROUTERS,
        {"router": {"name": "second", "external_gateway_info": {"network_id": network["id"]}}},
        status=409,
        error="IpAddressGenerationFailure",
    )
    assert reply.message == f"No more IP addresses available on network {network['id']}."
    assert [r["name"] for r in (await admin.get(ROUTERS))["routers"]] == [""]


async def test_external_network_with_gateway_cannot_become_internal(admin, public):
    """router:external → false while a gateway port exists is 409 ExternalNetworkInUse."""
    network, _ = public
    await admin.router(external_gateway_info={"network_id": network["id"]})
    await admin.fails(
        "PUT",
        f"/v2.0/networks/{network['id']}",
        {"network": {"router:external": False}},
        status=409,
        error="ExternalNetworkInUse",
    )


# ---- interfaces ---------------------------------------------------------------------------


async def test_add_interface_by_subnet_takes_the_gateway_ip_and_mac(admin, p1):
    """The interface port gets the subnet's gateway IP, device_owner and the router's project."""
    network, subnet = await p1.lan("10.0.1.0/24")
    router = await p1.router(name="r1")
    info = await p1.add_interface(router["id"], subnet_id=subnet["id"])
    assert set(info) == {
        "id",
        "network_id",
        "port_id",
        "subnet_id",
        "subnet_ids",
        "project_id",
        "tenant_id",
        "tags",
    }
    assert (info["id"], info["network_id"], info["subnet_id"], info["subnet_ids"]) == (
        router["id"],
        network["id"],
        subnet["id"],
        [subnet["id"]],
    )
    assert info["project_id"] == info["tenant_id"] == "p1"
    port = (await p1.get(f"/v2.0/ports/{info['port_id']}"))["port"]
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.1.1"}]
    assert (port["device_owner"], port["device_id"]) == ("network:router_interface", router["id"])
    assert (port["project_id"], port["security_groups"], port["status"]) == ("p1", [], "ACTIVE")
    shown = (await p1.get(f"/v2.0/subnets/{subnet['id']}"))["subnet"]
    assert shown["attached_router_id"] == router["id"]
    again = (await p1.get(f"{ROUTERS}/{router['id']}"))["router"]
    assert again["revision_number"] == 2


async def test_interface_port_uses_the_subnet_gateway_mac(admin):
    """The interface port by subnet carries the subnet's reserved gateway MAC."""
    network, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router()
    info = await admin.add_interface(router["id"], subnet_id=subnet["id"])
    port = (await admin.get(f"/v2.0/ports/{info['port_id']}"))["port"]
    other = await admin.port(network["id"])
    assert port["mac_address"] != other["mac_address"]
    await admin.fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": network["id"], "mac_address": port["mac_address"]}},
        status=409,
        error="MacAddressInUse",
    )


async def test_interface_body_needs_exactly_one_id(admin):
    """Neither or both ids is 400 BadRequest; unknown keys 400 HTTPBadRequest."""
    _, subnet = await admin.lan("10.0.1.0/24")
    port = await admin.port(subnet["network_id"])
    router = await admin.router()
    path = _action(router["id"], "add_router_interface")
    await admin.fails("PUT", path, {}, status=400, error="BadRequest")
    await admin.fails(
        "PUT",
        path,
        {"subnet_id": subnet["id"], "port_id": port["id"]},
        status=400,
        error="BadRequest",
    )
    await admin.fails(
        "PUT",
        path,
        {"subnet_id": subnet["id"], "colour": "red"},
        status=400,
        error="HTTPBadRequest",
    )
    await admin.fails("PUT", path, ["not", "an", "object"], status=400, error="HTTPBadRequest")
    await admin.fails(
        "PUT", _action(router["id"], "remove_router_interface"), {}, status=400, error="BadRequest"
    )


async def test_interface_subnet_rules(admin):
    """Same subnet twice, overlapping CIDRs and gateway-less subnets are 400 BadRequest."""
    _, subnet = await admin.lan("10.0.1.0/24")
    _, overlapping = await admin.lan("10.0.1.0/25")
    _, no_gateway = await admin.lan("10.0.2.0/24", name="no-gw")
    await admin.ok("PUT", f"/v2.0/subnets/{no_gateway['id']}", {"subnet": {"gateway_ip": None}})
    router = await admin.router()
    await admin.add_interface(router["id"], subnet_id=subnet["id"])
    path = _action(router["id"], "add_router_interface")
    reply = await admin.fails(
        "PUT", path, {"subnet_id": subnet["id"]}, status=400, error="BadRequest"
    )
    assert "Router already has a port on subnet" in reply.message
    await admin.fails("PUT", path, {"subnet_id": overlapping["id"]}, status=400, error="BadRequest")
    await admin.fails("PUT", path, {"subnet_id": no_gateway["id"]}, status=400, error="BadRequest")
    await admin.fails(
        "PUT",
        path,
        {"subnet_id": "22222222-2222-4222-8222-222222222222"},
        status=404,
        error="SubnetNotFound",
    )


async def test_subnet_attaches_to_several_routers(admin):
    """A subnet on router A may get an interface on router B through a port of its own (the
    gateway address is A's: by subnet it is 409); attached_router_ids lists both in attach
    order and attached_router_id stays the first router until it leaves."""
    _, subnet = await admin.lan("10.0.1.0/24")
    first, second = await admin.router(), await admin.router()
    await admin.add_interface(first["id"], subnet_id=subnet["id"])
    await admin.fails(
        "PUT",
        _action(second["id"], "add_router_interface"),
        {"subnet_id": subnet["id"]},
        status=409,
        error="IpAddressAlreadyAllocated",
    )
    port = await admin.port(subnet["network_id"])
    await admin.add_interface(second["id"], port_id=port["id"])
    shown = (await admin.get(f"/v2.0/subnets/{subnet['id']}"))["subnet"]
    assert shown["attached_router_ids"] == [first["id"], second["id"]]
    assert shown["attached_router_id"] == first["id"]
    await admin.remove_interface(first["id"], subnet_id=subnet["id"])
    shown = (await admin.get(f"/v2.0/subnets/{subnet['id']}"))["subnet"]
    assert (shown["attached_router_id"], shown["attached_router_ids"]) == (
        second["id"],
        [second["id"]],
    )
    await admin.remove_interface(second["id"], port_id=port["id"])
    shown = (await admin.get(f"/v2.0/subnets/{subnet['id']}"))["subnet"]
    assert (shown["attached_router_id"], shown["attached_router_ids"]) == (None, [])


async def test_subnets_of_different_networks_share_a_router(p1):
    """One router joins subnets of two networks (the one-VPC-per-router limit is gone)."""
    _, s1 = await p1.lan("10.0.1.0/24")
    _, s2 = await p1.lan("10.0.2.0/24")
    router = await p1.router()
    await p1.add_interface(router["id"], subnet_id=s1["id"])
    await p1.add_interface(router["id"], subnet_id=s2["id"])
    ports = (await p1.get(f"/v2.0/ports?device_id={router['id']}"))["ports"]
    assert sorted(p["fixed_ips"][0]["ip_address"] for p in ports) == ["10.0.1.1", "10.0.2.1"]


async def test_add_interface_by_port(p1):
    """A plain port becomes the interface: owner and device set, security groups cleared."""
    network, subnet = await p1.lan("10.0.1.0/24")
    port = await p1.port(network["id"], fixed_ips=[{"ip_address": "10.0.1.254"}])
    assert port["security_groups"]
    router = await p1.router()
    info = await p1.add_interface(router["id"], port_id=port["id"])
    assert (info["port_id"], info["subnet_ids"]) == (port["id"], [subnet["id"]])
    shown = (await p1.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert (shown["device_owner"], shown["device_id"], shown["security_groups"]) == (
        "network:router_interface",
        router["id"],
        [],
    )
    assert shown["revision_number"] > port["revision_number"]


async def test_add_interface_by_port_rules(admin):
    """Ports with a device are 409 PortInUse; without IPs or with two IPv4 subnets 400."""
    network, subnet = await admin.lan("10.0.1.0/24")
    await admin.subnet(network["id"], "10.0.2.0/24")
    router = await admin.router()
    path = _action(router["id"], "add_router_interface")
    busy = await admin.port(
        network["id"], device_id="vm-1", fixed_ips=[{"subnet_id": subnet["id"]}]
    )
    reply = await admin.fails("PUT", path, {"port_id": busy["id"]}, status=409, error="PortInUse")
    assert reply.message.endswith("Port already has an attached device vm-1.")
    bare = await admin.port(network["id"], fixed_ips=[])
    await admin.fails("PUT", path, {"port_id": bare["id"]}, status=400, error="BadRequest")
    double = await admin.port(network["id"])
    assert len(double["fixed_ips"]) == 1
    two = await admin.port(
        network["id"], fixed_ips=[{"ip_address": "10.0.1.50"}, {"ip_address": "10.0.2.50"}]
    )
    await admin.fails("PUT", path, {"port_id": two["id"]}, status=400, error="BadRequest")
    await admin.fails(
        "PUT",
        path,
        {"port_id": "33333333-3333-4333-8333-333333333333"},
        status=404,
        error="PortNotFound",
    )


async def test_interface_ids_that_are_not_uuids_are_400_as_neutron(admin):
    """add/remove_router_interface with a non-UUID port_id or subnet_id is 400 BadRequest
    (a well-formed unknown id stays 404)."""
    router = await admin.router()
    for action in ("add_router_interface", "remove_router_interface"):
        for body in ({"port_id": "tempest-port-1"}, {"subnet_id": "bad-subnet"}, {"port_id": 7}):
            reply = await admin.fails(
                "PUT",
                f"/v2.0/routers/{router['id']}/{action}",
                body,
                status=400,
                error="BadRequest",
            )
            assert "is not a valid UUID" in reply.message
    await admin.fails(
        "PUT",
        f"/v2.0/routers/{router['id']}/add_router_interface",
        {"subnet_id": "33333333-3333-4333-8333-333333333333"},
        status=404,
        error="SubnetNotFound",
    )


async def test_remove_interface_by_subnet_deletes_the_port(admin):
    """Removal deletes the interface port and clears attached_router_id."""
    _, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router()
    added = await admin.add_interface(router["id"], subnet_id=subnet["id"])
    removed = await admin.remove_interface(router["id"], subnet_id=subnet["id"])
    assert removed["port_id"] == added["port_id"]
    await admin.fails("GET", f"/v2.0/ports/{added['port_id']}", status=404, error="PortNotFound")
    shown = (await admin.get(f"/v2.0/subnets/{subnet['id']}"))["subnet"]
    assert shown["attached_router_id"] is None
    reply = await admin.fails(
        "PUT",
        _action(router["id"], "remove_router_interface"),
        {"subnet_id": subnet["id"]},
        status=404,
        error="RouterInterfaceNotFoundForSubnet",
    )
    assert reply.message == f"Router {router['id']} has no interface on subnet {subnet['id']}"


async def test_remove_interface_by_port(admin):
    """Removal by port deletes even a port that was added by port; others are 404."""
    network, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router()
    port = await admin.port(network["id"])
    other = await admin.port(network["id"])
    await admin.add_interface(router["id"], port_id=port["id"])
    path = _action(router["id"], "remove_router_interface")
    reply = await admin.fails(
        "PUT", path, {"port_id": other["id"]}, status=404, error="RouterInterfaceNotFound"
    )
    assert (
        reply.message == f"Router {router['id']} does not have an interface with id {other['id']}"
    )
    _, elsewhere = await admin.lan("10.9.0.0/24")
    await admin.fails(
        "PUT",
        path,
        {"port_id": port["id"], "subnet_id": elsewhere["id"]},
        status=400,
        error="BadRequest",
    )
    await admin.remove_interface(router["id"], port_id=port["id"], subnet_id=subnet["id"])
    await admin.fails("GET", f"/v2.0/ports/{port['id']}", status=404, error="PortNotFound")


async def test_router_with_interfaces_is_in_use(admin, public):
    """DELETE with interfaces is 409 RouterInUse; afterwards the gateway port goes too."""
    network, _ = public
    _, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router(external_gateway_info={"network_id": network["id"]})
    await admin.add_interface(router["id"], subnet_id=subnet["id"])
    reply = await admin.fails(
        "DELETE", f"{ROUTERS}/{router['id']}", status=409, error="RouterInUse"
    )
    assert reply.message == f"Router {router['id']} still has ports"
    await admin.remove_interface(router["id"], subnet_id=subnet["id"])
    await admin.ok("DELETE", f"{ROUTERS}/{router['id']}", status=204)
    assert await _ports(admin, device_owner="network:router_gateway") == []


async def test_router_ports_cannot_be_deleted_directly(admin, public):
    """Interface and gateway ports answer 409 ServicePortInUse on DELETE /ports."""
    network, _ = public
    _, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router(external_gateway_info={"network_id": network["id"]})
    info = await admin.add_interface(router["id"], subnet_id=subnet["id"])
    reply = await admin.fails(
        "DELETE", f"/v2.0/ports/{info['port_id']}", status=409, error="ServicePortInUse"
    )
    assert reply.message == (
        f"Port {info['port_id']} cannot be deleted directly via the port "
        f"API: has device owner network:router_interface."
    )
    [gateway] = await _ports(admin, device_owner="network:router_gateway")
    await admin.fails(
        "DELETE", f"/v2.0/ports/{gateway['id']}", status=409, error="ServicePortInUse"
    )


async def test_subnet_with_interface_cannot_be_deleted(admin):
    """A router interface holds an address: subnet delete is 409 SubnetInUse until removal."""
    _, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router()
    await admin.add_interface(router["id"], subnet_id=subnet["id"])
    await admin.fails("DELETE", f"/v2.0/subnets/{subnet['id']}", status=409, error="SubnetInUse")
    await admin.remove_interface(router["id"], subnet_id=subnet["id"])
    await admin.ok("DELETE", f"/v2.0/subnets/{subnet['id']}", status=204)


async def test_router_actions_on_native_alias(p1):
    """/project/{p}/routers/{id}/add_router_interface and friends work like /v2.0."""
    _, subnet = await p1.lan("10.0.1.0/24")
    router = (await p1.ok("POST", "/project/p1/routers", {"router": {"name": "r"}}, 201))["router"]
    base = f"/project/p1/routers/{router['id']}"
    await p1.ok("PUT", f"{base}/add_router_interface", {"subnet_id": subnet["id"]})
    body = await p1.ok(
        "PUT",
        f"{base}/add_extraroutes",
        {"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.1.9"}]}},
    )
    assert body["router"]["routes"] == [{"destination": "192.168.0.0/24", "nexthop": "10.0.1.9"}]
    await p1.ok(
        "PUT",
        f"{base}/remove_extraroutes",
        {"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.1.9"}]}},
    )
    await p1.ok("PUT", f"{base}/remove_router_interface", {"subnet_id": subnet["id"]})
    await p1.ok("DELETE", base, status=204)


# ---- extra routes -------------------------------------------------------------------------


@pytest.fixture
async def routed(admin):
    """A router with interfaces on 10.0.1.0/24 and fd00:1::/64: (router, v4 subnet)."""
    network, subnet = await admin.lan("10.0.1.0/24")
    v6 = await admin.subnet(network["id"], "fd00:1::/64")
    router = await admin.router()
    await admin.add_interface(router["id"], subnet_id=subnet["id"])
    await admin.add_interface(router["id"], subnet_id=v6["id"])
    return (await admin.get(f"{ROUTERS}/{router['id']}"))["router"], subnet


async def test_routes_attribute_replaces_the_whole_list(admin, routed):
    """PUT routes stores canonical routes (IPv4, IPv6, /0) and replaces them as a whole."""
    router, _ = routed
    path = f"{ROUTERS}/{router['id']}"
    routes = [
        {"destination": "192.168.0.0/24", "nexthop": "10.0.1.254"},
        {"destination": "0.0.0.0/0", "nexthop": "10.0.1.253"},
        {"destination": "FD00:9::/64", "nexthop": "FD00:1::99"},
    ]
    body = await admin.ok("PUT", path, {"router": {"routes": routes}})
    assert body["router"]["routes"] == [
        routes[0],
        routes[1],
        {"destination": "fd00:9::/64", "nexthop": "fd00:1::99"},
    ]
    assert body["router"]["revision_number"] == router["revision_number"] + 1
    body = await admin.ok("PUT", path, {"router": {"routes": routes[:1]}})
    assert body["router"]["routes"] == routes[:1]
    body = await admin.ok("PUT", path, {"router": {"routes": []}})
    assert body["router"]["routes"] == []


async def test_invalid_routes_are_rejected(admin, routed):
    """Unconnected or own nexthops, host bits and version mismatches are 400 InvalidRoutes."""
    router, _ = routed
    path = f"{ROUTERS}/{router['id']}"
    for route, reason in (
        ({"destination": "192.168.0.0/24", "nexthop": "10.9.9.9"}, "not connected with router"),
        ({"destination": "192.168.0.0/24", "nexthop": "10.0.1.1"}, "the nexthop is used by router"),
        ({"destination": "192.168.0.1/24", "nexthop": "10.0.1.9"}, "host bits"),
        ({"destination": "fd00:9::/64", "nexthop": "10.0.1.9"}, "version"),
        ({"destination": "not-a-cidr", "nexthop": "10.0.1.9"}, "not a valid CIDR"),
    ):
        reply = await admin.fails(
            "PUT", path, {"router": {"routes": [route]}}, status=400, error="InvalidRoutes"
        )
        assert reason in reply.message, reply.message
    await admin.fails(
        "PUT",
        path,
        {"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.1.9"}] * 2}},
        status=400,
        error="HTTPBadRequest",
    )
    await admin.fails(
        "PUT",
        path,
        {"router": {"routes": [{"destination": "192.168.0.0/24"}]}},
        status=400,
        error="HTTPBadRequest",
    )


async def test_route_nexthop_may_be_on_the_gateway_subnet(admin, public):
    """A nexthop inside the external gateway subnet is connected."""
    network, _ = public
    router = await admin.router(
        external_gateway_info={"network_id": network["id"]},
        routes=[{"destination": "198.18.0.0/15", "nexthop": "203.0.113.254"}],
    )
    assert router["routes"] == [{"destination": "198.18.0.0/15", "nexthop": "203.0.113.254"}]
    gateway_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    await admin.fails(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"routes": [{"destination": "198.18.0.0/15", "nexthop": gateway_ip}]}},
        status=400,
        error="InvalidRoutes",
    )


async def test_too_many_routes_is_routes_exhausted(make_api):
    """More than router.max_routes routes is 400 RoutesExhausted, also via add_extraroutes."""
    admin = await make_api(**{"router.max_routes": 2})
    _, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router()
    await admin.add_interface(router["id"], subnet_id=subnet["id"])
    routes = [{"destination": f"192.168.{i}.0/24", "nexthop": "10.0.1.9"} for i in range(3)]
    reply = await admin.fails(
        "PUT",
        f"{ROUTERS}/{router['id']}",
        {"router": {"routes": routes}},
        status=400,
        error="RoutesExhausted",
    )
    assert reply.message == (
        f"Unable to complete operation for {router['id']}. The number of "
        f"routes exceeds the maximum 2."
    )
    await admin.ok(
        "PUT", _action(router["id"], "add_extraroutes"), {"router": {"routes": routes[:2]}}
    )
    await admin.fails(
        "PUT",
        _action(router["id"], "add_extraroutes"),
        {"router": {"routes": routes[2:]}},
        status=400,
        error="RoutesExhausted",
    )


async def test_add_and_remove_extraroutes(admin, routed):
    """add_extraroutes is a set union; remove_extraroutes removes exact matches only."""
    router, _ = routed
    a = {"destination": "192.168.0.0/24", "nexthop": "10.0.1.9"}
    b = {"destination": "192.168.1.0/24", "nexthop": "10.0.1.9"}
    c = {"destination": "192.168.0.0/24", "nexthop": "10.0.1.8"}
    add, remove = (
        _action(router["id"], "add_extraroutes"),
        _action(router["id"], "remove_extraroutes"),
    )
    body = await admin.ok("PUT", add, {"router": {"routes": [a]}})
    assert body["router"]["routes"] == [a]
    revision = body["router"]["revision_number"]
    body = await admin.ok("PUT", add, {"router": {"routes": [a, b, c]}})
    assert body["router"]["routes"] == [a, b, c]
    assert body["router"]["revision_number"] == revision + 1
    unchanged = await admin.ok("PUT", add, {"router": {"routes": [a]}})
    assert unchanged["router"]["revision_number"] == revision + 1
    body = await admin.ok(
        "PUT",
        remove,
        {"router": {"routes": [{"destination": "192.168.1.0/24", "nexthop": "10.0.1.7"}, a]}},
    )
    assert body["router"]["routes"] == [b, c]
    await admin.fails(
        "PUT",
        add,
        {"router": {"routes": [{"destination": "192.168.5.0/24", "nexthop": "10.7.7.7"}]}},
        status=400,
        error="InvalidRoutes",
    )
    await admin.fails("PUT", add, {"router": {"name": "x"}}, status=400, error="HTTPBadRequest")
    await admin.fails("PUT", add, {"routes": [a]}, status=400, error="HTTPBadRequest")


async def test_interface_needed_by_a_route_cannot_be_removed(admin, routed):
    """Removing the only interface that reaches a nexthop is 409 RouterInterfaceInUseByRoute."""
    router, subnet = routed
    await admin.ok(
        "PUT",
        _action(router["id"], "add_extraroutes"),
        {"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.1.9"}]}},
    )
    reply = await admin.fails(
        "PUT",
        _action(router["id"], "remove_router_interface"),
        {"subnet_id": subnet["id"]},
        status=409,
        error="RouterInterfaceInUseByRoute",
    )
    assert reply.message == (
        f"Router interface for subnet {subnet['id']} on router "
        f"{router['id']} cannot be deleted, as it is required by one or "
        f"more routes."
    )


# ---- isolation and policy -----------------------------------------------------------------


async def test_routers_are_isolated_between_projects(p1, p2):
    """Another project's router is 404 for show, update, delete, actions and lists."""
    router = await p1.router(name="mine")
    _, subnet = await p2.lan("10.0.1.0/24")
    assert (await p2.get(ROUTERS))["routers"] == []
    for method, path, body in (
        ("GET", f"{ROUTERS}/{router['id']}", None),
        ("PUT", f"{ROUTERS}/{router['id']}", {"router": {"name": "stolen"}}),
        ("DELETE", f"{ROUTERS}/{router['id']}", None),
        ("PUT", _action(router["id"], "add_router_interface"), {"subnet_id": subnet["id"]}),
        ("PUT", _action(router["id"], "add_extraroutes"), {"router": {"routes": []}}),
        ("PUT", f"{ROUTERS}/{router['id']}/tags/x", None),
    ):
        await p2.fails(method, path, body, status=404, error="RouterNotFound")
    assert (await p1.get(f"{ROUTERS}/{router['id']}"))["router"]["name"] == "mine"


async def test_router_interface_with_another_projects_subnet_or_port_is_not_found(p1, p2):
    """A subnet or port of another project is 404 to add_router_interface."""
    network, subnet = await p2.lan("10.0.1.0/24")
    port = await p2.port(network["id"])
    router = await p1.router()
    path = _action(router["id"], "add_router_interface")
    await p1.fails("PUT", path, {"subnet_id": subnet["id"]}, status=404, error="SubnetNotFound")
    await p1.fails("PUT", path, {"port_id": port["id"]}, status=404, error="PortNotFound")


async def test_router_interface_on_a_shared_subnet_of_another_project_is_forbidden(admin, p1):
    """A readable (shared) subnet the router's project does not own is 403."""
    network = await admin.network(shared=True)
    subnet = await admin.subnet(network["id"], "10.0.1.0/24")
    router = await p1.router()
    await p1.fails(
        "PUT",
        _action(router["id"], "add_router_interface"),
        {"subnet_id": subnet["id"]},
        status=403,
        error="PolicyNotAuthorized",
    )


async def test_native_path_of_another_project_is_forbidden(p1, p2):
    """A member calling /project/{other}/routers gets 403 (path scope mismatch)."""
    await p1.router()
    await p2.fails("GET", "/project/p1/routers", status=403, error="PolicyNotAuthorized")
    await p2.fails(
        "POST", "/project/p1/routers", {"router": {}}, status=403, error="PolicyNotAuthorized"
    )


async def test_reader_may_list_but_not_write_routers(admin, p1):
    """The reader role reads its project's routers; every write is 403."""
    router = await p1.router(name="r")
    _, subnet = await p1.lan("10.0.1.0/24")
    reader = admin.as_("p1", "reader")
    assert [r["id"] for r in (await reader.get(ROUTERS))["routers"]] == [router["id"]]
    for method, path, body in (
        ("POST", ROUTERS, {"router": {"name": "x"}}),
        ("PUT", f"{ROUTERS}/{router['id']}", {"router": {"name": "x"}}),
        ("DELETE", f"{ROUTERS}/{router['id']}", None),
        ("PUT", _action(router["id"], "add_router_interface"), {"subnet_id": subnet["id"]}),
    ):
        await reader.fails(method, path, body, status=403, error="PolicyNotAuthorized")


async def test_member_cannot_create_a_router_for_another_project(p1):
    """project_id of another project is 400 for members, as in Neutron."""
    reply = await p1.fails(
        "POST", ROUTERS, {"router": {"project_id": "p2"}}, status=400, error="HTTPBadRequest"
    )
    assert reply.message == (
        "Specifying 'project_id' or 'tenant_id' other than the "
        "authenticated project in request requires admin privileges"
    )


async def test_admin_sees_every_project_and_may_filter(admin, p1, p2):
    """Admin lists span projects unless filtered by project_id."""
    mine, theirs = await p1.router(), await p2.router()
    listed = await admin.get(ROUTERS)
    assert {mine["id"], theirs["id"]} <= {r["id"] for r in listed["routers"]}
    filtered = await admin.get(f"{ROUTERS}?project_id=p2")
    assert [r["id"] for r in filtered["routers"]] == [theirs["id"]]


async def test_bulk_router_create_is_all_or_nothing(admin):
    """A failing item leaves no router behind."""
    reply = await admin.call(
        "POST",
        ROUTERS,
        {
            "routers": [
                {"name": "ok"},
                {"name": "bad", "routes": [{"destination": "10.0.0.0/24", "nexthop": "192.0.2.1"}]},
            ]
        },
    )
    assert (reply.status, reply.error) == (400, "InvalidRoutes")
    assert (await admin.get(ROUTERS))["routers"] == []
    body = await admin.ok("POST", ROUTERS, {"routers": [{"name": "a"}, {"name": "b"}]}, 201)
    assert [r["name"] for r in body["routers"]] == ["a", "b"]


async def test_router_tags_that_are_absent_are_tag_not_found(admin):
    """GET/DELETE of an absent tag is 404 TagNotFound."""
    router = await admin.router()
    reply = await admin.fails(
        "DELETE", f"{ROUTERS}/{router['id']}/tags/nope", status=404, error="TagNotFound"
    )
    assert reply.message == f"Tag nope could not be found for router {router['id']}."
    await admin.fails("GET", f"{ROUTERS}/{router['id']}/tags/nope", status=404, error="TagNotFound")


async def test_client_supplied_router_id_must_be_new(admin):
    """A client id is normalised; reusing one is 409 Conflict."""
    wanted = "ABCDEF01-2345-4678-8ABC-DEF012345678"
    router = await admin.router(id=wanted)
    assert router["id"] == wanted.lower()
    reply = await admin.fails(
        "POST", ROUTERS, {"router": {"id": wanted}}, status=409, error="Conflict"
    )
    assert reply.message == f"Router {wanted.lower()} already exists."
    await admin.fails(
        "POST", ROUTERS, {"router": {"id": "not-a-uuid"}}, status=400, error="HTTPBadRequest"
    )


async def test_gateway_fixed_ip_outside_the_subnet_is_invalid(admin, public):
    """external_fixed_ips with an address outside its subnet is 400 InvalidIpForSubnet."""
    network, subnet = public
    await admin.fails(
        "POST",
        ROUTERS,
        {
            "router": {
                "external_gateway_info": {
                    "network_id": network["id"],
                    "external_fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "192.0.2.9"}],
                }
            }
        },
        status=400,
        error="InvalidIpForSubnet",
    )
    assert (await admin.get(ROUTERS))["routers"] == []


async def test_gateway_ip_held_by_an_interface_cannot_change(admin):
    """A subnet gateway change while an interface holds it is 409 GatewayIpInUse."""
    _, subnet = await admin.lan("10.0.1.0/24")
    router = await admin.router()
    info = await admin.add_interface(router["id"], subnet_id=subnet["id"])
    reply = await admin.fails(
        "PUT",
        f"/v2.0/subnets/{subnet['id']}",
        {"subnet": {"gateway_ip": "10.0.1.254"}},
        status=409,
        error="GatewayIpInUse",
    )
    assert reply.message == (
        f"Current gateway ip 10.0.1.1 already in use by port {info['port_id']}. Unable to update."
    )


async def test_interface_on_a_slaac_subnet_blocks_its_deletion(admin):
    """A router interface on a SLAAC subnet holds the gateway: subnet delete is 409 until
    the interface is removed."""
    network = await admin.network()
    subnet = await admin.subnet(
        network["id"], "fd00:5::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac"
    )
    router = await admin.router()
    info = await admin.add_interface(router["id"], subnet_id=subnet["id"])
    port = (await admin.get(f"/v2.0/ports/{info['port_id']}"))["port"]
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "fd00:5::1"}]
    await admin.fails("DELETE", f"/v2.0/subnets/{subnet['id']}", status=409, error="SubnetInUse")
    await admin.remove_interface(router["id"], subnet_id=subnet["id"])
    await admin.ok("DELETE", f"/v2.0/subnets/{subnet['id']}", status=204)


async def test_routes_null_clears_the_extra_routes(admin):
    """PUT {"routes": null} removes every extra route, like [] (Tempest sends null)."""
    router = await admin.router()
    cleared = await admin.ok("PUT", f"{ROUTERS}/{router['id']}", {"router": {"routes": None}})
    assert cleared["router"]["routes"] == []


async def test_ha_is_admin_only_and_recorded(admin, p1):
    """`ha` (l3-ha) is recorded as an admin sets it; members may not send it."""
    router = (
        await admin.ok("POST", ROUTERS, {"router": {"ha": False, "distributed": False}}, 201)
    )["router"]
    assert router["ha"] is False and router["distributed"] is False
    reply = await p1.fails(
        "POST", ROUTERS, {"router": {"ha": True}}, status=403, error="PolicyNotAuthorized"
    )
    assert reply.message == "create_router:ha is disallowed by policy."
