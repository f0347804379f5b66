"""Quotas over HTTP (northbound §9): limits, overrides, usage, enforcement, policy."""

from __future__ import annotations

import pytest

from tests.integration.l3.support import Api, external_network

DEFAULTS = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
}


async def _set(admin: Api, project: str, **limits: int) -> dict:
    return (await admin.ok("PUT", f"/v2.0/quotas/{project}", {"quota": limits}))["quota"]


async def _used(api: Api, project: str) -> dict[str, int]:
    details = (await api.get(f"/v2.0/quotas/{project}/details"))["quota"]
    return {k: v["used"] for k, v in details.items()}


# ---- limits and overrides -----------------------------------------------------------------


async def test_default_limits_come_from_config(make_api):
    """Without overrides a project's limits are the configured defaults."""
    admin = await make_api(**{"quotas.router": 3, "quotas.port": -1})
    expected = {**DEFAULTS, "router": 3, "port": -1}
    assert (await admin.get("/v2.0/quotas/p1"))["quota"] == expected
    assert (await admin.get("/v2.0/quotas/p1/default"))["quota"] == expected
    assert (await admin.get("/v2.0/quotas"))["quotas"] == []


async def test_overrides_are_partial_and_listed(admin):
    """PUT sets some limits and returns the full effective map; GET /quotas lists overrides."""
    quota = await _set(admin, "p1", port=1000, router=-1)
    assert quota == {**DEFAULTS, "port": 1000, "router": -1}
    quota = await _set(admin, "p1", network=5)
    assert quota == {**DEFAULTS, "port": 1000, "router": -1, "network": 5}
    assert (await admin.get("/v2.0/quotas/p1"))["quota"] == quota
    assert (await admin.get("/v2.0/quotas/p1/default"))["quota"] == DEFAULTS
    assert (await admin.get("/v2.0/quotas"))["quotas"] == [
        {**quota, "project_id": "p1", "tenant_id": "p1"}
    ]


async def test_deleting_overrides_restores_defaults(admin):
    """DELETE removes every override (204); again is 404 TenantQuotaNotFound."""
    await _set(admin, "p1", router=1)
    await admin.ok("DELETE", "/v2.0/quotas/p1", status=204)
    assert (await admin.get("/v2.0/quotas/p1"))["quota"] == DEFAULTS
    reply = await admin.fails("DELETE", "/v2.0/quotas/p1", status=404, error="TenantQuotaNotFound")
    assert reply.message == "Quota for tenant p1 could not be found."


@pytest.mark.parametrize(
    "body",
    [
        {"quota": {"routers": 1}},
        {"quota": {"router": -2}},
        {"quota": {"router": "many"}},
        {"quota": {"router": 1.5}},
        {"quota": {"router": True}},
        {"quota": {"router": None}},
        {"quotas": {"router": 1}},
        {"quota": [1]},
        [],
    ],
    ids=[
        "unknown-key",
        "below-minus-one",
        "text",
        "float",
        "bool",
        "null",
        "wrapper",
        "not-object",
        "not-object-body",
    ],
)
async def test_bad_quota_updates_are_400(admin, body):
    """Unknown keys, values < -1 and non-integers are 400 HTTPBadRequest."""
    await admin.fails("PUT", "/v2.0/quotas/p1", body, status=400, error="HTTPBadRequest")
    assert (await admin.get("/v2.0/quotas"))["quotas"] == []


async def test_numeric_strings_are_integers(admin):
    """A numeric string converts like any Neutron integer."""
    assert (await _set(admin, "p1", router="7"))["router"] == 7


async def test_json_suffix_is_accepted(admin):
    """/v2.0/quotas/{p}/details.json is the same as without the suffix."""
    plain = await admin.get("/v2.0/quotas/p1/details")
    assert await admin.get("/v2.0/quotas/p1/details.json") == plain


# ---- usage --------------------------------------------------------------------------------


async def test_details_count_what_the_spec_counts(admin, p1):
    """used counts the project's objects: interface ports yes, gateway/FIP ports no,
    the default group and its rules yes; reserved is always 0."""
    public, _ = await external_network(admin)
    network, subnet = await p1.lan("10.0.1.0/24")
    await p1.port(network["id"])
    router = await p1.router(external_gateway_info={"network_id": public["id"]})
    await p1.add_interface(router["id"], subnet_id=subnet["id"])
    await p1.fip(public["id"])
    group = await p1.sg(name="web")
    await p1.rule(group["id"], protocol="tcp", port_range_min=22)
    details = (await p1.get("/v2.0/quotas/p1/details"))["quota"]
    assert details == {
        "network": {"used": 1, "limit": 100, "reserved": 0},
        "subnet": {"used": 1, "limit": 100, "reserved": 0},
        "port": {"used": 2, "limit": 500, "reserved": 0},
        "router": {"used": 1, "limit": 10, "reserved": 0},
        "floatingip": {"used": 1, "limit": 50, "reserved": 0},
        "security_group": {"used": 2, "limit": 10, "reserved": 0},
        "security_group_rule": {"used": 7, "limit": 100, "reserved": 0},
        "rbac_policy": {"used": 0, "limit": 10, "reserved": 0},
    }
    assert await _used(admin, "default") == dict.fromkeys(DEFAULTS, 0) | {
        "network": 1,
        "subnet": 1,
        "security_group": 1,
        "security_group_rule": 4,
        "rbac_policy": 1,  # the external network's wildcard access_as_external policy
    }


# ---- enforcement --------------------------------------------------------------------------


async def test_quotas_stop_the_eleventh_router(p1):
    """With the default quota a project creates 10 routers; the 11th is 409 OverQuota."""
    for i in range(10):
        await p1.router(name=f"r{i}")
    reply = await p1.fails(
        "POST", "/v2.0/routers", {"router": {"name": "r10"}}, status=409, error="OverQuota"
    )
    assert reply.message == "Quota exceeded for resources: ['router']."
    assert len((await p1.get("/v2.0/routers"))["routers"]) == 10


@pytest.mark.parametrize("resource", list(DEFAULTS))
async def test_every_create_is_enforced(admin, p1, resource):
    """A zero limit refuses the first API create of each resource with OverQuota."""
    public, _ = await external_network(admin)
    network, _ = await p1.lan("10.0.1.0/24")
    group = await p1.sg(name="g")
    await _set(admin, "p1", **{resource: 0})
    requests = {
        "network": ("/v2.0/networks", {"network": {}}),
        "subnet": (
            "/v2.0/subnets",
            {"subnet": {"network_id": network["id"], "cidr": "10.0.2.0/24"}},
        ),
        "port": ("/v2.0/ports", {"port": {"network_id": network["id"]}}),
        "router": ("/v2.0/routers", {"router": {}}),
        "floatingip": ("/v2.0/floatingips", {"floatingip": {"floating_network_id": public["id"]}}),
        "security_group": ("/v2.0/security-groups", {"security_group": {"name": "h"}}),
        "security_group_rule": (
            "/v2.0/security-group-rules",
            {
                "security_group_rule": {
                    "security_group_id": group["id"],
                    "direction": "ingress",
                    "protocol": "tcp",
                }
            },
        ),
        "rbac_policy": (
            "/v2.0/rbac-policies",
            {
                "rbac_policy": {
                    "object_type": "network",
                    "object_id": network["id"],
                    "action": "access_as_shared",
                    "target_tenant": "9f2e4b6a0c8d4e1f9a3b5c7d9e1f3a5b",
                }
            },
        ),
    }
    path, body = requests[resource]
    reply = await p1.fails("POST", path, body, status=409, error="OverQuota")
    assert reply.message == f"Quota exceeded for resources: ['{resource}']."
    await _set(admin, "p1", **{resource: -1})
    await p1.ok("POST", path, body, status=201)


async def test_bulk_create_over_quota_creates_nothing(admin, p1):
    """A bulk create is checked for its item count: over the limit, nothing is created."""
    await _set(admin, "p1", network=3)
    await p1.network(name="one")
    reply = await p1.call(
        "POST", "/v2.0/networks", {"networks": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    )
    assert (reply.status, reply.error) == (409, "OverQuota")
    assert [n["name"] for n in (await p1.get("/v2.0/networks"))["networks"]] == ["one"]
    await p1.ok("POST", "/v2.0/networks", {"networks": [{"name": "a"}, {"name": "b"}]}, 201)
    group = await p1.sg(name="g")
    await _set(admin, "p1", security_group_rule=8)  # 6 used: default group 4, g 2
    items = [
        {
            "security_group_id": group["id"],
            "direction": "ingress",
            "protocol": "tcp",
            "port_range_min": port,
        }
        for port in (1, 2, 3)
    ]
    await p1.fails(
        "POST",
        "/v2.0/security-group-rules",
        {"security_group_rules": items},
        status=409,
        error="OverQuota",
    )
    assert (
        len(
            (await p1.get(f"/v2.0/security-groups/{group['id']}"))["security_group"][
                "security_group_rules"
            ]
        )
        == 2
    )


async def test_implicit_objects_are_counted_but_never_refused(admin, p1):
    """The default group and interface ports ignore exhausted quotas; a new group's two
    egress rules need rule quota (as in Neutron)."""
    await _set(admin, "p1", security_group=0, security_group_rule=0, port=0)
    _, subnet = await p1.lan("10.0.1.0/24")
    assert [g["name"] for g in (await p1.get("/v2.0/security-groups"))["security_groups"]] == [
        "default"
    ]
    router = await p1.router()
    await p1.add_interface(router["id"], subnet_id=subnet["id"])
    used = await _used(p1, "p1")
    assert (used["security_group"], used["security_group_rule"], used["port"]) == (1, 4, 1)
    await _set(admin, "p1", security_group=2)
    await p1.fails(
        "POST",
        "/v2.0/security-groups",
        {"security_group": {"name": "web"}},
        status=409,
        error="OverQuota",
    )
    await _set(admin, "p1", security_group_rule=6)
    group = await p1.sg(name="web")
    assert len(group["security_group_rules"]) == 2
    assert (await _used(p1, "p1"))["security_group_rule"] == 6


async def test_lowering_a_limit_below_usage_only_blocks_new_creates(admin, p1):
    """Usage above a lowered limit stays; the next create is refused."""
    await p1.router()
    await p1.router()
    await _set(admin, "p1", router=1)
    assert len((await p1.get("/v2.0/routers"))["routers"]) == 2
    await p1.fails("POST", "/v2.0/routers", {"router": {}}, status=409, error="OverQuota")
    details = (await p1.get("/v2.0/quotas/p1/details"))["quota"]["router"]
    assert details == {"used": 2, "limit": 1, "reserved": 0}


async def test_quota_is_per_project(admin, p1, p2):
    """One project's limit does not affect another's."""
    await _set(admin, "p1", router=0)
    await p1.fails("POST", "/v2.0/routers", {"router": {}}, status=409, error="OverQuota")
    await p2.router()


async def test_rejections_are_counted_in_metrics(admin, p1):
    """/metrics counts quota rejections per resource."""
    await _set(admin, "p1", router=0)
    await p1.fails("POST", "/v2.0/routers", {"router": {}}, status=409, error="OverQuota")
    async with admin.client.get("/metrics") as resp:
        text = await resp.text()
    assert 'alcor_quota_rejections_total{resource="router"}' in text


# ---- policy -------------------------------------------------------------------------------


async def test_members_read_only_their_own_quota(admin, p1):
    """A member reads its own limits, defaults and details; everything else is 403."""
    await _set(admin, "p1", router=4)
    assert (await p1.get("/v2.0/quotas/p1"))["quota"]["router"] == 4
    assert (await p1.get("/v2.0/quotas/p1/default"))["quota"]["router"] == 10
    assert (await p1.get("/v2.0/quotas/p1/details"))["quota"]["router"]["limit"] == 4
    for method, path, body, action in (
        ("GET", "/v2.0/quotas", None, "get_quota"),
        ("GET", "/v2.0/quotas/p2", None, "get_quota"),
        ("GET", "/v2.0/quotas/p2/details", None, "get_quota"),
        ("PUT", "/v2.0/quotas/p1", {"quota": {"router": 100}}, "update_quota"),
        ("DELETE", "/v2.0/quotas/p1", None, "delete_quota"),
    ):
        reply = await p1.fails(method, path, body, status=403, error="PolicyNotAuthorized")
        assert reply.message == f"{action} is disallowed by policy."


async def test_native_quota_paths(admin, p1):
    """P/quotas… mirror /v2.0/quotas…; the list shows project p only and is admin-only."""
    await _set(admin, "p1", router=4)
    await _set(admin, "p2", router=5)
    listed = (await admin.get("/project/p1/quotas"))["quotas"]
    assert [(q["project_id"], q["router"]) for q in listed] == [("p1", 4)]
    assert (await admin.get("/project/p3/quotas"))["quotas"] == []
    await p1.fails("GET", "/project/p1/quotas", status=403, error="PolicyNotAuthorized")
    assert (await p1.get("/project/p1/quotas/p1/details"))["quota"]["router"]["limit"] == 4
    await p1.fails(
        "PUT",
        "/project/p1/quotas/p1",
        {"quota": {"router": 9}},
        status=403,
        error="PolicyNotAuthorized",
    )
    await p1.fails("GET", "/project/p2/quotas/p2", status=403, error="PolicyNotAuthorized")


async def test_not_found_comes_before_over_quota(admin, p1):
    """An invisible referenced resource is 404 even when the quota is exhausted (§1.3)."""
    hidden = await admin.network(**{"router:external": True})
    await admin.network(name="private")
    await _set(admin, "p1", router=0, floatingip=0)
    missing = "99999999-9999-4999-8999-999999999999"
    await p1.fails(
        "POST",
        "/v2.0/routers",
        {"router": {"external_gateway_info": {"network_id": missing}}},
        status=404,
        error="NetworkNotFound",
    )
    await p1.fails(
        "POST",
        "/v2.0/floatingips",
        {"floatingip": {"floating_network_id": missing}},
        status=404,
        error="NetworkNotFound",
    )
    await p1.fails(
        "POST",
        "/v2.0/floatingips",
        {"floatingip": {"floating_network_id": hidden["id"], "port_id": missing}},
        status=404,
        error="PortNotFound",
    )
    await p1.fails(
        "POST",
        "/v2.0/floatingips",
        {"floatingip": {"floating_network_id": hidden["id"]}},
        status=409,
        error="OverQuota",
    )
