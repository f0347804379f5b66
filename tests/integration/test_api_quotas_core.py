"""Quotas (§9): limits, usage, overrides, and OverQuota on single and bulk creates."""

from __future__ import annotations

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


async def test_quota_documents(api):
    """show, default and details answer the spec's shapes with real usage."""
    p1 = api.as_("p1")
    net = await p1.network()
    await p1.subnet(net["id"], "10.0.0.0/24")
    await p1.port(net["id"])
    assert await api.get("/v2.0/quotas/p1") == {"quota": DEFAULTS}
    assert await api.get("/v2.0/quotas/p1/default") == {"quota": DEFAULTS}
    details = (await api.get("/v2.0/quotas/p1/details"))["quota"]
    assert set(details) == set(DEFAULTS)
    assert details["network"] == {"used": 1, "limit": 100, "reserved": 0}
    assert details["subnet"]["used"] == 1 and details["port"]["used"] == 1
    assert details["security_group"]["used"] == 1  # the default group counts
    assert details["security_group_rule"]["used"] == 4


async def test_update_show_list_and_reset_overrides(api):
    """PUT sets overrides (partial), GET /quotas lists them, DELETE resets then 404s."""
    body = await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"port": 1000, "router": -1}})
    assert body == {"quota": {**DEFAULTS, "port": 1000, "router": -1}}
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"network": "5"}})
    assert (await api.get("/v2.0/quotas/p1"))["quota"]["port"] == 1000
    listed = (await api.get("/v2.0/quotas"))["quotas"]
    assert listed == [
        {
            **DEFAULTS,
            "port": 1000,
            "router": -1,
            "network": 5,
            "project_id": "p1",
            "tenant_id": "p1",
        }
    ]
    await api.ok("DELETE", "/v2.0/quotas/p1", status=204)
    assert await api.get("/v2.0/quotas/p1") == {"quota": DEFAULTS}
    reply = await api.call("DELETE", "/v2.0/quotas/p1")
    assert reply.status == 404 and reply.error == "TenantQuotaNotFound"
    assert reply.message == "Quota for tenant p1 could not be found."


async def test_bad_quota_updates_are_400(api):
    """Unknown keys, values below -1 and non-integers are 400."""
    for quota in ({"colour": 1}, {"port": -2}, {"port": "many"}, {"port": 1.5}, {"port": True}):
        reply = await api.call("PUT", "/v2.0/quotas/p1", {"quota": quota})
        assert reply.status == 400, quota
    reply = await api.call("PUT", "/v2.0/quotas/p1", {"quotas": {"port": 1}})
    assert reply.status == 400


async def test_quota_rights(api):
    """Members read only their own project's quota; list, update and reset are admin only."""
    member = api.as_("p1")
    assert (await member.get("/v2.0/quotas/p1"))["quota"] == DEFAULTS
    assert (await member.get("/v2.0/quotas/p1/details"))["quota"]["network"]["used"] == 0
    for method, path, body in (
        ("GET", "/v2.0/quotas/p2", None),
        ("GET", "/v2.0/quotas", None),
        ("PUT", "/v2.0/quotas/p1", {"quota": {"port": 1}}),
        ("DELETE", "/v2.0/quotas/p1", None),
    ):
        reply = await member.call(method, path, body)
        assert reply.status == 403 and reply.error == "PolicyNotAuthorized", (method, path)


async def test_over_quota_on_create_creates_nothing(api):
    """At the limit, a create → 409 OverQuota with the spec's message."""
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"network": 1}})
    p1 = api.as_("p1")
    await p1.network()
    reply = await p1.call("POST", "/v2.0/networks", {"network": {}})
    assert reply.status == 409 and reply.body == {
        "NeutronError": {
            "type": "OverQuota",
            "message": "Quota exceeded for resources: ['network'].",
            "detail": "",
        }
    }
    assert len((await p1.get("/v2.0/networks"))["networks"]) == 1
    assert len((await api.as_("p2").get("/v2.0/networks"))["networks"]) == 0
    await api.as_("p2").network()  # other projects are not affected


async def test_bulk_counts_every_item_and_creates_nothing_when_over(api):
    """A bulk create over the remaining quota is refused as a whole."""
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"port": 3}})
    p1 = api.as_("p1")
    net = await p1.network()
    await p1.subnet(net["id"], "10.0.0.0/24")
    await p1.port(net["id"])
    reply = await p1.call("POST", "/v2.0/ports", {"ports": [{"network_id": net["id"]}] * 3})
    assert reply.status == 409 and reply.message == "Quota exceeded for resources: ['port']."
    assert len((await p1.get("/v2.0/ports"))["ports"]) == 1
    created = await p1.ok("POST", "/v2.0/ports", {"ports": [{"network_id": net["id"]}] * 2}, 201)
    assert [p["fixed_ips"][0]["ip_address"] for p in created["ports"]] == ["10.0.0.3", "10.0.0.4"]


async def test_zero_forbids_minus_one_is_unlimited_and_lowering_below_usage_is_allowed(api):
    """0 refuses every create, -1 never refuses, a limit below usage blocks new creates only."""
    p1 = api.as_("p1")
    net = await p1.network()
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"subnet": 0, "network": 0}})
    reply = await p1.call(
        "POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24"}}
    )
    assert reply.status == 409 and reply.message == "Quota exceeded for resources: ['subnet']."
    assert (await p1.get(f"/v2.0/networks/{net['id']}"))["network"]["id"] == net["id"]
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"subnet": -1}})
    await p1.subnet(net["id"], "10.0.0.0/24")


async def test_implicit_default_security_group_is_never_refused(api):
    """With security_group quota 0 the project's default group is still created."""
    await api.ok(
        "PUT", "/v2.0/quotas/p1", {"quota": {"security_group": 0, "security_group_rule": 0}}
    )
    p1 = api.as_("p1")
    net = await p1.network()
    await p1.subnet(net["id"], "10.0.0.0/24")
    port = await p1.port(net["id"])
    assert len(port["security_groups"]) == 1


async def test_configured_default_quotas(make_api):
    """quotas.<resource> in config sets the defaults."""
    api = await make_api(**{"quotas.network": 2})
    assert (await api.get("/v2.0/quotas/p1/default"))["quota"]["network"] == 2
    p1 = api.as_("p1")
    await p1.ok("POST", "/v2.0/networks", {"networks": [{}, {}]}, 201)
    reply = await p1.call("POST", "/v2.0/networks", {"network": {}})
    assert reply.status == 409


async def test_native_quota_paths(api):
    """P/quotas lists only p's overrides; P/quotas/{p} mirrors /v2.0."""
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"port": 7}})
    await api.ok("PUT", "/v2.0/quotas/p2", {"quota": {"port": 8}})
    listed = (await api.get("/project/p1/quotas"))["quotas"]
    assert [q["project_id"] for q in listed] == ["p1"]
    assert (await api.get("/project/p1/quotas/p1"))["quota"]["port"] == 7


async def test_quota_update_accepts_neutron_force_and_check_limit_flags(api):
    """`force` and `check_limit` (Neutron's quota-check-limit flags) are accepted; without
    check_limit (or with force) a limit may go below the usage, with check_limit it may not."""
    p1 = api.as_("p1")
    await p1.network()
    await p1.network()
    body = await api.ok(
        "PUT", "/v2.0/quotas/p1", {"quota": {"force": True, "network": 0, "check_limit": False}}
    )
    assert body == {"quota": {**DEFAULTS, "network": 0}}
    reply = await api.call("PUT", "/v2.0/quotas/p1", {"quota": {"network": 1, "check_limit": True}})
    assert reply.status == 400 and reply.error == "HTTPBadRequest"
    assert reply.message == (
        "Quota limit 1 for network must be greater than or equal to already used 2"
    )
    assert (await api.get("/v2.0/quotas/p1"))["quota"]["network"] == 0
    for quota in (
        {"network": 2, "check_limit": True},
        {"network": -1, "check_limit": True},
        {"network": 1, "check_limit": True, "force": True},
    ):
        await api.ok("PUT", "/v2.0/quotas/p1", {"quota": quota})
    for quota in ({"force": "maybe", "port": 1}, {"port": 2**31}):
        reply = await api.call("PUT", "/v2.0/quotas/p1", {"quota": quota})
        assert reply.status == 400, quota


async def test_first_group_is_checked_before_the_default_group_is_created(api):
    """A quota of 1 security group lets a new project create one (its default group is
    created afterwards, uncounted at the check); the next create is 409."""
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"security_group": 1}})
    body = {"security_group": {"name": "web", "project_id": "p1"}}
    await api.ok("POST", "/v2.0/security-groups", body, 201)
    reply = await api.call("POST", "/v2.0/security-groups", body)
    assert reply.status == 409 and reply.error == "OverQuota"
    names = {
        g["name"] for g in (await api.get("/v2.0/security-groups?project_id=p1"))["security_groups"]
    }
    assert names == {"default", "web"}


async def test_a_new_groups_egress_rules_need_rule_quota(api):
    """Creating a group also checks its two egress rules against the rule quota (409 with
    none left), as in Neutron; the default group is still created."""
    p1 = api.as_("p1")
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"security_group_rule": 5}})
    reply = await p1.call("POST", "/v2.0/security-groups", {"security_group": {"name": "a"}})
    assert reply.status == 409 and reply.error == "OverQuota"
    assert reply.message == "Quota exceeded for resources: ['security_group_rule']."
    assert [g["name"] for g in (await p1.get("/v2.0/security-groups"))["security_groups"]] == [
        "default"
    ]
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"security_group_rule": 6}})
    await p1.ok("POST", "/v2.0/security-groups", {"security_group": {"name": "a"}}, 201)
