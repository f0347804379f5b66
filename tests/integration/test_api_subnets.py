"""Subnets over HTTP: IPv4/IPv6 defaults, gateway, pools, limits, IPv6 modes, delete (§4)."""

from __future__ import annotations

import pytest


async def _error(api, body, status=400):
    reply = await api.call("POST", "/v2.0/subnets", {"subnet": body})
    assert reply.status == status, reply.body
    return reply


async def test_ipv4_subnet_defaults(api):
    """A /24 gets .1 as gateway and the rest of the hosts as its one pool (§4.3)."""
    net = await api.network()
    reply = await api.call(
        "POST",
        "/v2.0/subnets",
        {
            "subnet": {
                "network_id": net["id"],
                "name": "sub1",
                "ip_version": 4,
                "cidr": "10.0.1.0/24",
                "dns_nameservers": ["10.0.0.53"],
                "host_routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.1.254"}],
            }
        },
    )
    assert reply.status == 201
    subnet = reply.body["subnet"]
    assert set(subnet) == {
        "id",
        "name",
        "description",
        "network_id",
        "project_id",
        "tenant_id",
        "ip_version",
        "cidr",
        "gateway_ip",
        "allocation_pools",
        "dns_nameservers",
        "host_routes",
        "enable_dhcp",
        "ipv6_address_mode",
        "ipv6_ra_mode",
        "subnetpool_id",
        "attached_router_id",
        "attached_router_ids",
        "service_types",
        "segment_id",
        "tags",
        "revision_number",
        "created_at",
        "updated_at",
    }
    assert subnet["gateway_ip"] == "10.0.1.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.1.2", "end": "10.0.1.254"}]
    assert subnet["dns_nameservers"] == ["10.0.0.53"]
    assert subnet["host_routes"] == [{"destination": "192.168.0.0/24", "nexthop": "10.0.1.254"}]
    assert subnet["enable_dhcp"] is True and subnet["subnetpool_id"] is None
    assert subnet["attached_router_id"] is None and subnet["revision_number"] == 1
    assert subnet["project_id"] == net["project_id"]


async def test_ipv6_slaac_subnet_defaults(api):
    """A slaac /64 gets ::1 as gateway and a pool to the top of the /64, sized exactly."""
    net = await api.network()
    subnet = await api.subnet(
        net["id"], "fd00:1::/64", ip_version=6, ipv6_address_mode="slaac", ipv6_ra_mode="slaac"
    )
    assert subnet["gateway_ip"] == "fd00:1::1"
    assert subnet["allocation_pools"] == [
        {"start": "fd00:1::2", "end": "fd00:1::ffff:ffff:ffff:ffff"}
    ]
    assert subnet["ip_version"] == 6


async def test_ip_version_is_inferred_and_must_match(api):
    """ip_version defaults from the cidr; a mismatch is 400."""
    net = await api.network()
    assert (await api.subnet(net["id"], "fd00:2::/64"))["ip_version"] == 6
    reply = await _error(api, {"network_id": net["id"], "cidr": "10.9.0.0/24", "ip_version": 6})
    assert reply.error == "InvalidInput"
    reply = await _error(api, {"network_id": net["id"], "cidr": "10.9.0.0/24", "ip_version": 5})
    assert reply.error == "HTTPBadRequest"


async def test_cidr_with_host_bits_is_refused_with_the_recommendation(api):
    """Host bits set → 400 naming the recommended cidr (§4.3 example)."""
    net = await api.network()
    reply = await _error(api, {"network_id": net["id"], "ip_version": 4, "cidr": "10.0.1.5/24"})
    assert reply.body == {
        "NeutronError": {
            "type": "HTTPBadRequest",
            "message": "Invalid input for cidr. Reason: '10.0.1.5/24' isn't "
            "a recognized IP subnet cidr, '10.0.1.0/24' is recommended.",
            "detail": "",
        }
    }


@pytest.mark.parametrize("cidr", ["10.0.0.0/31", "10.0.0.0/32", "fd00::/127", "fd00::/128"])
async def test_prefix_too_long_is_refused(api, cidr):
    """IPv4 prefixes longer than /30 and IPv6 longer than /126 are 400."""
    net = await api.network()
    await _error(api, {"network_id": net["id"], "cidr": cidr})


async def test_overlapping_subnets_in_one_network_are_refused(api):
    """A cidr overlapping another subnet of the same network is 400; other networks are free."""
    net = await api.network()
    await api.subnet(net["id"], "10.0.0.0/16")
    reply = await _error(api, {"network_id": net["id"], "cidr": "10.0.5.0/24"})
    assert reply.error == "InvalidInput"
    other = await api.network()
    await api.subnet(other["id"], "10.0.5.0/24")


async def test_subnet_on_unknown_network_is_404(api):
    """network_id must name a visible network."""
    reply = await _error(
        api,
        {"network_id": "11111111-1111-4111-8111-111111111111", "cidr": "10.0.0.0/24"},
        status=404,
    )
    assert reply.error == "NetworkNotFound"


async def test_gateway_rules(api):
    """Gateway may be null or a usable address; network/broadcast/outside are 400."""
    net = await api.network()
    nogw = await api.subnet(net["id"], "10.1.0.0/24", gateway_ip=None)
    assert nogw["gateway_ip"] is None
    assert nogw["allocation_pools"] == [{"start": "10.1.0.1", "end": "10.1.0.254"}]
    high = await api.subnet(net["id"], "10.2.0.0/24", gateway_ip="10.2.0.254")
    assert high["allocation_pools"] == [{"start": "10.2.0.1", "end": "10.2.0.253"}]
    middle = await api.subnet(net["id"], "10.3.0.0/24", gateway_ip="10.3.0.100")
    assert middle["allocation_pools"] == [
        {"start": "10.3.0.1", "end": "10.3.0.99"},
        {"start": "10.3.0.101", "end": "10.3.0.254"},
    ]
    for gw in ("10.4.0.0", "10.4.0.255", "10.5.0.1", "fd00::1"):
        reply = await _error(
            api, {"network_id": net["id"], "cidr": "10.4.0.0/24", "gateway_ip": gw}
        )
        assert reply.error == "InvalidInput", gw
    v6 = await api.subnet(net["id"], "fd00:9::/64", gateway_ip="fe80::1")
    assert v6["gateway_ip"] == "fe80::1"


async def test_gateway_inside_a_pool_is_409(api):
    """Explicit pools that contain the gateway → 409 GatewayConflictWithAllocationPools."""
    net = await api.network()
    reply = await _error(
        api,
        {
            "network_id": net["id"],
            "cidr": "10.0.0.0/24",
            "allocation_pools": [{"start": "10.0.0.1", "end": "10.0.0.10"}],
        },
        status=409,
    )
    assert reply.error == "GatewayConflictWithAllocationPools"


async def test_allocation_pool_errors(api):
    """Pools: start>end or mixed versions → 400, outside → 400, overlap → 409."""
    net = await api.network()
    base = {"network_id": net["id"], "cidr": "10.0.0.0/24"}
    reply = await _error(
        api, {**base, "allocation_pools": [{"start": "10.0.0.9", "end": "10.0.0.5"}]}
    )
    assert reply.error == "InvalidAllocationPool"
    assert reply.message == "The allocation pool 10.0.0.9-10.0.0.5 is not valid."
    reply = await _error(
        api, {**base, "allocation_pools": [{"start": "10.0.0.5", "end": "fd00::5"}]}
    )
    assert reply.error == "InvalidAllocationPool"
    for pool in (
        {"start": "10.0.0.0", "end": "10.0.0.5"},
        {"start": "10.0.0.250", "end": "10.0.0.255"},
        {"start": "10.0.1.1", "end": "10.0.1.5"},
    ):
        reply = await _error(api, {**base, "allocation_pools": [pool]})
        assert reply.error == "OutOfBoundsAllocationPool", pool
    reply = await _error(
        api,
        {
            **base,
            "allocation_pools": [
                {"start": "10.0.0.2", "end": "10.0.0.20"},
                {"start": "10.0.0.20", "end": "10.0.0.30"},
            ],
        },
        status=409,
    )
    assert reply.error == "OverlappingAllocationPools"
    reply = await _error(
        api,
        {**base, "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.20"}] * 2},
        status=409,
    )
    assert reply.error == "OverlappingAllocationPools"
    reply = await _error(api, {**base, "allocation_pools": [{"start": "10.0.0.2"}]})
    assert reply.error == "HTTPBadRequest"


async def test_dns_and_host_route_limits(api):
    """More than 5 DNS servers or 20 host routes are 400 with the spec's types."""
    net = await api.network()
    base = {"network_id": net["id"], "cidr": "10.0.0.0/24"}
    reply = await _error(api, {**base, "dns_nameservers": [f"10.0.0.{i}" for i in range(2, 8)]})
    assert reply.error == "DNSNameServersExhausted"
    routes = [{"destination": f"192.168.{i}.0/24", "nexthop": "10.0.0.9"} for i in range(21)]
    reply = await _error(api, {**base, "host_routes": routes})
    assert reply.error == "HostRoutesExhausted"
    reply = await _error(
        api, {**base, "host_routes": [{"destination": "fd00::/64", "nexthop": "10.0.0.9"}]}
    )
    assert reply.error == "InvalidInput"
    reply = await _error(
        api, {**base, "host_routes": [{"destination": "192.168.0.1/24", "nexthop": "10.0.0.9"}]}
    )
    assert reply.error == "HTTPBadRequest"
    reply = await _error(api, {**base, "dns_nameservers": ["10.0.0.53", "10.0.0.53"]})
    assert reply.error == "HTTPBadRequest"
    subnet = await api.subnet(net["id"], "10.0.0.0/24", dns_nameservers=["10.0.0.9", "10.0.0.3"])
    assert subnet["dns_nameservers"] == ["10.0.0.9", "10.0.0.3"]


@pytest.mark.parametrize(
    "attrs, error",
    [
        ({"cidr": "10.0.0.0/24", "ipv6_address_mode": "slaac"}, "InvalidInput"),
        (
            {"cidr": "fd00::/64", "ipv6_address_mode": "slaac", "ipv6_ra_mode": "dhcpv6-stateful"},
            "InvalidInput",
        ),
        ({"cidr": "fd00::/80", "ipv6_address_mode": "slaac"}, "InvalidInput"),
        ({"cidr": "fd00::/80", "ipv6_ra_mode": "dhcpv6-stateless"}, "InvalidInput"),
        ({"cidr": "fd00::/64", "ipv6_address_mode": "slaac", "enable_dhcp": False}, "InvalidInput"),
        ({"cidr": "fd00::/64", "ipv6_address_mode": "eui"}, "HTTPBadRequest"),
    ],
)
async def test_ipv6_mode_and_subnetpool_rules(api, attrs, error):
    """IPv6 modes only on IPv6, equal when both set, /64 for auto modes."""
    net = await api.network()
    reply = await _error(api, {"network_id": net["id"], **attrs})
    assert reply.error == error


async def test_stateful_ipv6_on_a_non_64_and_empty_subnetpool_are_fine(api):
    """dhcpv6-stateful works on any prefix; subnetpool_id "" or null is accepted as null."""
    net = await api.network()
    s = await api.subnet(
        net["id"],
        "fd00:5::/80",
        ipv6_address_mode="dhcpv6-stateful",
        ipv6_ra_mode="dhcpv6-stateful",
        subnetpool_id="",
    )
    assert s["subnetpool_id"] is None and s["ipv6_address_mode"] == "dhcpv6-stateful"


async def test_update_subnet_fields_and_read_only_ones(api):
    """name, gateway, pools, DNS, routes and DHCP are updatable; cidr/network_id are not."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.0.0.0/24")
    path = f"/v2.0/subnets/{subnet['id']}"
    updated = (
        await api.ok(
            "PUT",
            path,
            {
                "subnet": {
                    "name": "s",
                    "gateway_ip": "10.0.0.254",
                    "dns_nameservers": ["1.1.1.1"],
                    "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}],
                    "enable_dhcp": False,
                }
            },
        )
    )["subnet"]
    assert updated["gateway_ip"] == "10.0.0.254" and updated["revision_number"] == 2
    assert updated["allocation_pools"] == [{"start": "10.0.0.10", "end": "10.0.0.20"}]
    port = await api.port(net["id"])
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.10"
    for attr, value in (
        ("cidr", "10.1.0.0/24"),
        ("network_id", net["id"]),
        ("ip_version", 4),
        ("ipv6_address_mode", None),
    ):
        reply = await api.call("PUT", path, {"subnet": {attr: value}})
        assert reply.status == 400 and reply.message == f"Cannot update read-only attribute {attr}"
    reply = await api.call("PUT", path, {"subnet": {"gateway_ip": "10.0.0.15"}})
    assert reply.status == 409 and reply.error == "GatewayConflictWithAllocationPools"


async def test_gateway_update_to_an_allocated_address_is_409(api):
    """Moving the gateway onto an address held by a port → 409 IpAddressAlreadyAllocated."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.0.0.0/24")
    port = await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.200"}])
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.200"
    reply = await api.call(
        "PUT",
        f"/v2.0/subnets/{subnet['id']}",
        {
            "subnet": {
                "gateway_ip": "10.0.0.200",
                "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.100"}],
            }
        },
    )
    assert reply.status == 409 and reply.error == "IpAddressAlreadyAllocated"


async def test_shrinking_pools_keeps_existing_allocations(api):
    """Addresses allocated outside new pools stay allocated and are not handed out again."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.0.0.0/24")
    ports = [await api.port(net["id"]) for _ in range(3)]
    assert [p["fixed_ips"][0]["ip_address"] for p in ports] == ["10.0.0.2", "10.0.0.3", "10.0.0.4"]
    await api.ok(
        "PUT",
        f"/v2.0/subnets/{subnet['id']}",
        {"subnet": {"allocation_pools": [{"start": "10.0.0.3", "end": "10.0.0.6"}]}},
    )
    shown = (await api.get(f"/v2.0/ports/{ports[0]['id']}"))["port"]
    assert shown["fixed_ips"][0]["ip_address"] == "10.0.0.2"
    fresh = [(await api.port(net["id"]))["fixed_ips"][0]["ip_address"] for _ in range(2)]
    assert fresh == ["10.0.0.5", "10.0.0.6"]
    reply = await api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}})
    assert reply.status == 409 and reply.error == "IpAddressGenerationFailure"


async def test_delete_subnet_in_use_is_409(api):
    """A subnet with a port's address cannot be deleted (SubnetInUse); after the port it can."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.0.0.0/24")
    port = await api.port(net["id"])
    reply = await api.call("DELETE", f"/v2.0/subnets/{subnet['id']}")
    assert reply.status == 409 and reply.error == "SubnetInUse"
    assert reply.message == (
        f"Unable to complete operation on subnet {subnet['id']}: One or "
        "more ports have an IP allocation from this subnet."
    )
    await api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await api.ok("DELETE", f"/v2.0/subnets/{subnet['id']}", status=204)
    reply = await api.call("DELETE", f"/v2.0/subnets/{subnet['id']}")
    assert reply.status == 404 and reply.error == "SubnetNotFound"


async def test_slaac_addresses_do_not_block_subnet_delete_and_are_removed(api):
    """Deleting a slaac subnet drops the ports' automatic addresses and bumps them."""
    net = await api.network()
    await api.subnet(net["id"], "10.0.0.0/24")
    v6 = await api.subnet(net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    port = await api.port(net["id"])
    assert len(port["fixed_ips"]) == 2
    await api.ok("DELETE", f"/v2.0/subnets/{v6['id']}", status=204)
    after = (await api.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert [f["subnet_id"] for f in after["fixed_ips"]] == [port["fixed_ips"][0]["subnet_id"]]
    assert after["revision_number"] == port["revision_number"] + 1


async def test_new_slaac_subnet_gives_existing_ports_eui64_addresses(api):
    """Adding a slaac subnet gives every existing (non-router) port its EUI-64 address."""
    net = await api.network()
    await api.subnet(net["id"], "10.0.0.0/24")
    port = await api.port(net["id"], mac_address="fa:16:3e:00:00:01")
    v6 = await api.subnet(net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    after = (await api.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert {"subnet_id": v6["id"], "ip_address": "fd00:1::f816:3eff:fe00:1"} in after["fixed_ips"]
    assert after["revision_number"] == 2


async def test_a_huge_ipv6_subnet_is_never_enumerated(api):
    """A /64 (and a /48) stateful subnet allocates lowest-first without enumerating."""
    net = await api.network()
    big = await api.subnet(net["id"], "fd00:48::/48")
    assert big["allocation_pools"] == [
        {"start": "fd00:48::2", "end": "fd00:48:0:ffff:ffff:ffff:ffff:ffff"}
    ]
    ports = [await api.port(net["id"]) for _ in range(3)]
    assert [p["fixed_ips"][0]["ip_address"] for p in ports] == [
        "fd00:48::2",
        "fd00:48::3",
        "fd00:48::4",
    ]
    top = await api.port(
        net["id"], fixed_ips=[{"ip_address": "fd00:48:0:ffff:ffff:ffff:ffff:ffff"}]
    )
    assert top["fixed_ips"][0]["subnet_id"] == big["id"]


async def test_bulk_subnets_are_all_or_nothing(api):
    """Bulk subnet create checks overlap between items; one failure creates none."""
    net = await api.network()
    reply = await api.call(
        "POST",
        "/v2.0/subnets",
        {
            "subnets": [
                {"network_id": net["id"], "cidr": "10.0.0.0/24"},
                {"network_id": net["id"], "cidr": "10.0.0.0/25"},
            ]
        },
    )
    assert reply.status == 400 and reply.error == "InvalidInput"
    assert (await api.get("/v2.0/subnets"))["subnets"] == []
    assert (await api.get(f"/v2.0/networks/{net['id']}"))["network"]["subnets"] == []
    created = (
        await api.ok(
            "POST",
            "/v2.0/subnets",
            {
                "subnets": [
                    {"network_id": net["id"], "cidr": "10.0.0.0/24"},
                    {"network_id": net["id"], "cidr": "10.0.1.0/24"},
                ]
            },
            201,
        )
    )["subnets"]
    assert [s["cidr"] for s in created] == ["10.0.0.0/24", "10.0.1.0/24"]


async def test_subnet_put_without_changes_bumps_nothing_and_if_match_applies(api):
    """A no-op subnet PUT keeps the revision; If-Match guards PUT and DELETE."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.0.0.0/24", dns_nameservers=["10.0.0.53"])
    path = f"/v2.0/subnets/{subnet['id']}"
    same = (
        await api.ok(
            "PUT",
            path,
            {
                "subnet": {
                    "dns_nameservers": ["10.0.0.53"],
                    "gateway_ip": "10.0.0.1",
                    "enable_dhcp": True,
                    "allocation_pools": subnet["allocation_pools"],
                }
            },
        )
    )["subnet"]
    assert same["revision_number"] == 1 and same["updated_at"] == subnet["updated_at"]
    reply = await api.call(
        "PUT", path, {"subnet": {"name": "x"}}, headers={"If-Match": "revision_number=2"}
    )
    assert reply.status == 412
    reply = await api.call("DELETE", path, headers={"If-Match": "revision_number=2"})
    assert reply.status == 412
    await api.ok("DELETE", path, headers={"If-Match": "revision_number=1"}, status=204)


async def test_an_unknown_subnet_pool_is_not_found(api):
    """A subnetpool_id that names no visible pool is 404 SubnetPoolNotFound."""
    net = await api.network()
    reply = await _error(
        api,
        {
            "network_id": net["id"],
            "cidr": "10.0.0.0/24",
            "subnetpool_id": "11111111-1111-4111-8111-111111111111",
        },
        404,
    )
    assert reply.error == "SubnetPoolNotFound"


async def test_shared_filter_selects_subnets_by_their_network(api):
    """`?shared=true|false` lists the subnets of shared / unshared networks, for members
    and admins; the subnet itself has no `shared` attribute; a non-boolean is 400."""
    shared_net = await api.network(shared=True)
    shared = await api.subnet(shared_net["id"], "10.0.1.0/24")
    member = api.as_("p1")
    own_net = await member.network()
    own = await member.subnet(own_net["id"], "10.0.2.0/24")
    for caller in (api, member):
        ids = {s["id"] for s in (await caller.get("/v2.0/subnets?shared=True"))["subnets"]}
        assert shared["id"] in ids and own["id"] not in ids
        ids = {s["id"] for s in (await caller.get("/v2.0/subnets?shared=false"))["subnets"]}
        assert own["id"] in ids and shared["id"] not in ids
    both = await member.get("/v2.0/subnets?shared=true&shared=false")
    assert {s["id"] for s in both["subnets"]} == {shared["id"], own["id"]}
    assert "shared" not in shared
    assert (await api.call("GET", "/v2.0/subnets?shared=perhaps")).status == 400


async def test_service_types_steer_automatic_addresses(api):
    """A port gets its address from the subnet typed for its device owner, else from the
    subnets without service types (subnet-service-types); service_types update bumps."""
    net = await api.network()
    typed = await api.subnet(net["id"], "10.5.1.0/24", service_types=["compute:nova"])
    plain = await api.subnet(net["id"], "10.5.2.0/24")
    vm = await api.port(net["id"], device_owner="compute:nova")
    other = await api.port(net["id"], device_owner="compute:other")
    assert [f["subnet_id"] for f in vm["fixed_ips"]] == [typed["id"]]
    assert [f["subnet_id"] for f in other["fixed_ips"]] == [plain["id"]]
    updated = (
        await api.ok("PUT", f"/v2.0/subnets/{typed['id']}", {"subnet": {"service_types": []}})
    )["subnet"]
    assert updated["service_types"] == [] and updated["revision_number"] > typed["revision_number"]
    only_typed = await api.network()
    await api.subnet(only_typed["id"], "10.6.0.0/24", service_types=["network:floatingip"])
    await api.fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": only_typed["id"]}},
        status=409,
        error="IpAddressGenerationFailureNoMatchingSubnet",
    )
