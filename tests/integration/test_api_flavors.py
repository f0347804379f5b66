"""Flavors and service profiles (flavors), router flavors (l3-flavors)."""

from __future__ import annotations

FLAVORS = "/v2.0/flavors"
PROFILES = "/v2.0/service_profiles"
DVR = "neutron.services.l3_router.service_providers.dvr.DvrDriver"


async def _flavor(api, **attrs):
    body = {"flavor": {"name": "f", "service_type": "L3_ROUTER_NAT", **attrs}}
    return (await api.ok("POST", FLAVORS, body, 201))["flavor"]


async def _profile(api, **attrs):
    body = {"service_profile": {"driver": DVR, **attrs}}
    return (await api.ok("POST", PROFILES, body, 201))["service_profile"]


async def test_flavors_and_profiles_are_admin_written(api):
    """Members read flavors but neither write them nor see service profiles; a profile
    needs a known driver or metainfo."""
    flavor = await _flavor(api, description="gold")
    assert flavor["enabled"] is True and flavor["service_profiles"] == []
    member = api.as_("p1")
    listed = (await member.get(FLAVORS))["flavors"]
    assert [f["id"] for f in listed] == [flavor["id"]]
    await member.fails(
        "POST",
        FLAVORS,
        {"flavor": {"name": "x", "service_type": "L3_ROUTER_NAT"}},
        status=403,
        error="PolicyNotAuthorized",
    )
    profile = await _profile(api)
    assert (await member.get(PROFILES))["service_profiles"] == []
    await member.fails(
        "GET", f"{PROFILES}/{profile['id']}", status=404, error="ServiceProfileNotFound"
    )
    await api.fails(
        "POST",
        PROFILES,
        {"service_profile": {"driver": "no.such.Driver"}},
        status=404,
        error="ServiceProfileDriverNotFound",
    )
    await api.fails("POST", PROFILES, {"service_profile": {}}, status=400, error="InvalidInput")
    renamed = await api.ok("PUT", f"{FLAVORS}/{flavor['id']}", {"flavor": {"name": "g"}})
    assert renamed["flavor"]["name"] == "g"


async def test_binding_profiles_to_flavors(api):
    """A profile binds to a flavor once (409 twice), shows on both sides, and a bound
    profile stays (409) until unbound (404 when not bound)."""
    flavor = await _flavor(api)
    profile = await _profile(api)
    path = f"{FLAVORS}/{flavor['id']}/service_profiles"
    bound = await api.ok("POST", path, {"service_profile": {"id": profile["id"]}}, 201)
    assert bound == {"service_profile": {"id": profile["id"]}}
    await api.fails(
        "POST",
        path,
        {"service_profile": {"id": profile["id"]}},
        status=409,
        error="FlavorServiceProfileBindingExists",
    )
    assert (await api.get(path)) == {"service_profiles": [{"id": profile["id"]}]}
    shown = (await api.get(f"{PROFILES}/{profile['id']}"))["service_profile"]
    assert shown["flavors"] == [flavor["id"]]
    await api.fails(
        "DELETE", f"{PROFILES}/{profile['id']}", status=409, error="ServiceProfileInUse"
    )
    await api.ok("DELETE", f"{path}/{profile['id']}", status=204)
    await api.fails(
        "DELETE",
        f"{path}/{profile['id']}",
        status=404,
        error="FlavorServiceProfileBindingNotFound",
    )
    await api.ok("DELETE", f"{PROFILES}/{profile['id']}", status=204)


async def test_router_flavors(api):
    """A router takes an enabled L3 flavor (not with distributed or ha); a flavor in use
    stays (409); a disabled flavor or another service's is 400."""
    flavor = await _flavor(api)
    router = (await api.ok("POST", "/v2.0/routers", {"router": {"flavor_id": flavor["id"]}}, 201))[
        "router"
    ]
    assert router["flavor_id"] == flavor["id"]
    await api.fails(
        "POST",
        "/v2.0/routers",
        {"router": {"flavor_id": flavor["id"], "distributed": False}},
        status=400,
        error="BadRequest",
    )
    await api.fails("DELETE", f"{FLAVORS}/{flavor['id']}", status=409, error="FlavorInUse")
    other = await _flavor(api, service_type="FIREWALL")
    await api.fails(
        "POST",
        "/v2.0/routers",
        {"router": {"flavor_id": other["id"]}},
        status=400,
        error="InvalidInput",
    )
    await api.ok("PUT", f"{FLAVORS}/{flavor['id']}", {"flavor": {"enabled": False}})
    await api.fails(
        "POST",
        "/v2.0/routers",
        {"router": {"flavor_id": flavor["id"]}},
        status=400,
        error="InvalidInput",
    )
    await api.ok("DELETE", f"/v2.0/routers/{router['id']}", status=204)
    await api.ok("DELETE", f"{FLAVORS}/{flavor['id']}", status=204)
