"""Subnet pools (subnet_allocation): CRUD, and subnets allocated from a pool."""

from __future__ import annotations

POOLS = "/v2.0/subnetpools"


async def test_pool_crud_and_tags(api):
    """Create, show, update (prefixes grow only), tag and delete a pool."""
    pool = (
        await api.ok(
            "POST",
            POOLS,
            {"subnetpool": {"name": "p", "prefixes": ["10.60.0.0/16"], "default_prefixlen": 24}},
            201,
        )
    )["subnetpool"]
    assert (pool["ip_version"], pool["min_prefixlen"], pool["max_prefixlen"]) == (4, "16", "32")
    assert pool["shared"] is False and pool["address_scope_id"] is None
    updated = await api.ok(
        "PUT",
        f"{POOLS}/{pool['id']}",
        {"subnetpool": {"name": "q", "prefixes": ["10.60.0.0/16", "10.61.0.0/16"]}},
    )
    assert updated["subnetpool"]["prefixes"] == ["10.60.0.0/15"]
    shrink = await api.call(
        "PUT", f"{POOLS}/{pool['id']}", {"subnetpool": {"prefixes": ["10.60.0.0/24"]}}
    )
    assert (shrink.status, shrink.body["NeutronError"]["type"]) == (400, "InvalidInput")
    await api.ok("PUT", f"{POOLS}/{pool['id']}/tags/blue", status=201)
    assert (await api.get(f"{POOLS}/{pool['id']}"))["subnetpool"]["tags"] == ["blue"]
    await api.ok("DELETE", f"{POOLS}/{pool['id']}", status=204)
    assert (await api.call("GET", f"{POOLS}/{pool['id']}")).status == 404


async def test_subnets_are_allocated_from_the_pool_without_overlap(api):
    """Subnets with only a subnetpool_id get the lowest free /default_prefixlen; a given
    prefixlen or cidr is honoured; a pool with subnets cannot be deleted."""
    pool = (
        await api.ok(
            "POST",
            POOLS,
            {"subnetpool": {"name": "p", "prefixes": ["10.62.0.0/22"], "default_prefixlen": 24}},
            201,
        )
    )["subnetpool"]
    net = await api.network()
    first = (
        await api.ok(
            "POST",
            "/v2.0/subnets",
            {"subnet": {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]}},
            201,
        )
    )["subnet"]
    second = (
        await api.ok(
            "POST",
            "/v2.0/subnets",
            {
                "subnet": {
                    "network_id": net["id"],
                    "ip_version": 4,
                    "subnetpool_id": pool["id"],
                    "prefixlen": 23,
                }
            },
            201,
        )
    )["subnet"]
    assert (first["cidr"], second["cidr"]) == ("10.62.0.0/24", "10.62.2.0/23")
    assert first["subnetpool_id"] == pool["id"]
    clash = await api.call(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "subnetpool_id": pool["id"], "cidr": "10.62.0.0/25"}},
    )
    assert clash.status == 400
    full = await api.call(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "subnetpool_id": pool["id"], "prefixlen": 23}},
    )
    assert full.status == 409
    in_use = await api.call("DELETE", f"{POOLS}/{pool['id']}")
    assert (in_use.status, in_use.body["NeutronError"]["type"]) == (409, "SubnetPoolInUse")


async def test_subnet_without_cidr_or_pool_is_a_bad_request(api):
    """Without cidr and without subnetpool_id the cidr is required."""
    net = await api.network()
    reply = await api.call(
        "POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4}}
    )
    assert reply.status == 400
    assert "cidr" in reply.body["NeutronError"]["message"]


async def test_prefix_lengths_are_strings_as_in_neutron(api):
    """Create, show, list and update answer the prefix lengths as strings (Neutron's shape);
    they are given as integers or numeric strings, and filter as integers."""
    pool = (
        await api.ok(
            "POST",
            POOLS,
            {"subnetpool": {"name": "p", "prefixes": ["10.63.0.0/24"], "min_prefixlen": "29"}},
            201,
        )
    )["subnetpool"]
    lengths = ("default_prefixlen", "min_prefixlen", "max_prefixlen")
    assert [pool[k] for k in lengths] == ["29", "29", "32"]
    shown = (await api.get(f"{POOLS}/{pool['id']}"))["subnetpool"]
    assert [shown[k] for k in lengths] == ["29", "29", "32"]
    listed = (await api.get(f"{POOLS}?min_prefixlen=29"))["subnetpools"]
    assert [p["id"] for p in listed] == [pool["id"]] and listed[0]["max_prefixlen"] == "32"
    updated = (
        await api.ok(
            "PUT",
            f"{POOLS}/{pool['id']}",
            {"subnetpool": {"min_prefixlen": 28, "max_prefixlen": "30"}},
        )
    )["subnetpool"]
    assert [updated[k] for k in lengths] == ["29", "28", "30"]


async def test_add_and_remove_prefixes(api):
    """add_prefixes merges (overlaps collapse); remove_prefixes takes the space out again;
    each answers {"prefixes": [...]} and bumps the pool."""
    pool = (
        await api.ok(
            "POST",
            POOLS,
            {
                "subnetpool": {
                    "name": "p",
                    "prefixes": ["192.168.1.0/24", "10.10.10.0/24"],
                    "min_prefixlen": 16,
                }
            },
            201,
        )
    )["subnetpool"]
    path = f"{POOLS}/{pool['id']}"
    added = await api.ok("PUT", f"{path}/add_prefixes", {"prefixes": ["192.168.2.0/24"]})
    assert added == {"prefixes": ["10.10.10.0/24", "192.168.1.0/24", "192.168.2.0/24"]}
    removed = await api.ok("PUT", f"{path}/remove_prefixes", {"prefixes": ["192.168.2.0/24"]})
    assert removed == {"prefixes": ["10.10.10.0/24", "192.168.1.0/24"]}
    wider = await api.ok("PUT", f"{path}/add_prefixes", {"prefixes": ["10.10.0.0/16"]})
    assert wider == {"prefixes": ["10.10.0.0/16", "192.168.1.0/24"]}
    hole = await api.ok("PUT", f"{path}/remove_prefixes", {"prefixes": ["10.10.128.0/17"]})
    assert hole == {"prefixes": ["10.10.0.0/17", "192.168.1.0/24"]}
    same = await api.ok("PUT", f"{path}/remove_prefixes", {"prefixes": ["172.16.0.0/12"]})
    assert same == hole
    shown = (await api.get(path))["subnetpool"]
    assert shown["prefixes"] == hole["prefixes"] and shown["revision_number"] == 5


async def test_prefix_ops_refusals(api):
    """Removing space a subnet uses, or every prefix, is 400; so are other IP versions and
    malformed bodies; another project's pool is 404."""
    pool = (
        await api.ok(
            "POST",
            POOLS,
            {"subnetpool": {"name": "p", "prefixes": ["10.70.0.0/16"], "default_prefixlen": 24}},
            201,
        )
    )["subnetpool"]
    path = f"{POOLS}/{pool['id']}"
    net = await api.network()
    await api.ok(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]}},
        201,
    )
    for action, body in (
        ("remove_prefixes", {"prefixes": ["10.70.0.0/24"]}),
        ("add_prefixes", {"prefixes": ["2001:db8::/48"]}),
        ("add_prefixes", {"prefixes": "10.71.0.0/16"}),
        ("add_prefixes", {"prefixes": ["bad"]}),
        ("add_prefixes", {"subnetpool": {"prefixes": ["10.71.0.0/16"]}}),
    ):
        reply = await api.call("PUT", f"{path}/{action}", body)
        assert reply.status == 400, (action, body, reply.body)
    other = await api.ok(
        "POST", POOLS, {"subnetpool": {"name": "q", "prefixes": ["10.80.0.0/16"]}}, 201
    )
    reply = await api.call(
        "PUT",
        f"{POOLS}/{other['subnetpool']['id']}/remove_prefixes",
        {"prefixes": ["10.80.0.0/16"]},
    )
    assert reply.status == 400
    reply = await api.as_("p2").call("PUT", f"{path}/add_prefixes", {"prefixes": ["10.71.0.0/16"]})
    assert reply.status == 404


async def test_default_pools_and_use_default_subnetpool(api):
    """One default pool per IP version (a second is 400); use_default_subnetpool allocates
    from the default pool of the subnet's version, visible to the caller."""
    v4 = (
        await api.ok(
            "POST",
            POOLS,
            {
                "subnetpool": {
                    "name": "d4",
                    "prefixes": ["10.90.0.0/16"],
                    "default_prefixlen": 24,
                    "shared": True,
                    "is_default": True,
                }
            },
            201,
        )
    )["subnetpool"]
    assert v4["is_default"] is True
    again = await api.call(
        "POST",
        POOLS,
        {"subnetpool": {"name": "d4b", "prefixes": ["10.91.0.0/16"], "is_default": True}},
    )
    assert again.status == 400 and "Only one default may exist per IP family" in again.message
    other = (
        await api.ok(
            "POST", POOLS, {"subnetpool": {"name": "o", "prefixes": ["10.92.0.0/16"]}}, 201
        )
    )["subnetpool"]
    assert other["is_default"] is False
    reply = await api.call("PUT", f"{POOLS}/{other['id']}", {"subnetpool": {"is_default": True}})
    assert reply.status == 400
    member = api.as_("p1")
    net = await member.network()
    subnet = (
        await member.ok(
            "POST",
            "/v2.0/subnets",
            {"subnet": {"network_id": net["id"], "ip_version": 4, "use_default_subnetpool": True}},
            201,
        )
    )["subnet"]
    assert (subnet["subnetpool_id"], subnet["cidr"]) == (v4["id"], "10.90.0.0/24")
    assert "use_default_subnetpool" not in subnet
    for body, text in (
        ({"ip_version": 6}, "No default subnetpool found for IPv6"),
        ({"ip_version": 4, "subnetpool_id": other["id"]}, "cannot both be specified"),
        ({}, "ip_version must be specified"),
    ):
        reply = await member.call(
            "POST",
            "/v2.0/subnets",
            {"subnet": {"network_id": net["id"], "use_default_subnetpool": True, **body}},
        )
        assert reply.status == 400 and text in reply.message, body


async def test_members_cannot_make_a_default_pool(api):
    """is_default is admin-only on create (403)."""
    reply = await api.as_("p1").call(
        "POST",
        POOLS,
        {"subnetpool": {"name": "d", "prefixes": ["10.93.0.0/16"], "is_default": True}},
    )
    assert reply.status == 403


async def test_onboard_network_subnets(api):
    """subnet_onboard: a network's subnets of the pool's IP version join the pool and their
    CIDRs its prefixes; a subnet overlapping one of the pool is 400; a member may not onboard
    another project's network (403); network_id is required."""
    pool = (
        await api.ok(
            "POST",
            POOLS,
            {"subnetpool": {"name": "p", "prefixes": ["10.20.0.0/16"], "min_prefixlen": 8}},
            201,
        )
    )["subnetpool"]
    path = f"{POOLS}/{pool['id']}/onboard_network_subnets"
    net = await api.network()
    v4 = await api.subnet(net["id"], "192.168.7.0/24")
    v6 = await api.subnet(net["id"], "2001:db8:7::/64", ip_version=6)
    onboarded = await api.ok("PUT", path, {"network_id": net["id"]})
    assert onboarded == [{"id": v4["id"], "cidr": "192.168.7.0/24"}]
    shown = (await api.get(f"{POOLS}/{pool['id']}"))["subnetpool"]
    assert shown["prefixes"] == ["10.20.0.0/16", "192.168.7.0/24"]
    moved = (await api.get(f"/v2.0/subnets/{v4['id']}"))["subnet"]
    assert moved["subnetpool_id"] == pool["id"]
    assert moved["revision_number"] > v4["revision_number"]
    assert (await api.get(f"/v2.0/subnets/{v6['id']}"))["subnet"]["subnetpool_id"] is None
    await api.fails(
        "PUT", path, {"network_id": net["id"]}, status=400, error="IllegalSubnetPoolUpdate"
    )
    await api.fails("PUT", path, {}, status=400, error="InvalidInput")
    member = api.as_("p1")
    own_pool = (
        await member.ok(
            "POST", POOLS, {"subnetpool": {"name": "m", "prefixes": ["10.30.0.0/16"]}}, 201
        )
    )["subnetpool"]
    shared = await api.network(shared=True)
    await member.fails(
        "PUT",
        f"{POOLS}/{own_pool['id']}/onboard_network_subnets",
        {"network_id": shared["id"]},
        status=403,
        error="PolicyNotAuthorized",
    )
