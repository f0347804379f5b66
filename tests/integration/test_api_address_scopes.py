"""Address scopes (address-scope, rbac-address-scope) and the subnet pools in them, and
subnet pools shared through RBAC (rbac-subnetpool)."""

from __future__ import annotations

from tests.integration.api import Api

P1 = "1a1a1a1a1a1a4a1a8a1a1a1a1a1a1a1a"
P2 = "2b2b2b2b2b2b4b2b8b2b2b2b2b2b2b2b"
SCOPES = "/v2.0/address-scopes"
POOLS = "/v2.0/subnetpools"


async def _scope(api: Api, **attrs: object) -> dict:
    body = {"address_scope": {"name": "s", "ip_version": 4, **attrs}}
    return (await api.ok("POST", SCOPES, body, 201))["address_scope"]


async def _pool(api: Api, prefixes: list[str], status: int = 201, **attrs: object) -> dict:
    body = {"subnetpool": {"name": "p", "prefixes": prefixes, **attrs}}
    reply = await api.call("POST", POOLS, body)
    assert reply.status == status, reply.body
    return reply.body


async def test_scope_crud_and_sharing_rules(api):
    """A member creates, renames and deletes its scopes; sharing is admin-only (403) and a
    shared scope cannot be unshared (400); another project's private scope is 404."""
    member = api.as_(P1)
    scope = await _scope(member)
    assert scope == {
        "id": scope["id"],
        "name": "s",
        "project_id": P1,
        "tenant_id": P1,
        "shared": False,
        "ip_version": 4,
    }
    await member.fails(
        "POST",
        SCOPES,
        {"address_scope": {"ip_version": 4, "shared": True}},
        status=403,
        error="PolicyNotAuthorized",
    )
    renamed = await member.ok("PUT", f"{SCOPES}/{scope['id']}", {"address_scope": {"name": "t"}})
    assert renamed["address_scope"]["name"] == "t"
    shared = await _scope(api, shared=True)
    await api.fails(
        "PUT",
        f"{SCOPES}/{shared['id']}",
        {"address_scope": {"shared": False}},
        status=400,
        error="AddressScopeUpdateError",
    )
    assert (await member.get(f"{SCOPES}/{shared['id']}"))["address_scope"]["shared"] is True
    private = await _scope(api)
    await member.fails("GET", f"{SCOPES}/{private['id']}", status=404, error="AddressScopeNotFound")
    await member.ok("DELETE", f"{SCOPES}/{scope['id']}", status=204)


async def test_pools_in_a_scope(api):
    """A pool joins a scope of its IP version that its project owns (else 400, or 404 when
    invisible); pools of one scope may not overlap (409); a scope with pools stays (409)."""
    member = api.as_(P1)
    scope = await _scope(member)
    pool = (await _pool(member, ["10.0.0.0/16"], address_scope_id=scope["id"]))["subnetpool"]
    assert pool["address_scope_id"] == scope["id"]
    clash = await _pool(member, ["10.0.1.0/24"], 409, address_scope_id=scope["id"])
    assert clash["NeutronError"]["type"] == "AddressScopePrefixConflict"
    other = (await _pool(member, ["10.1.0.0/16"], address_scope_id=scope["id"]))["subnetpool"]
    await member.fails(
        "PUT",
        f"{POOLS}/{other['id']}",
        {"subnetpool": {"prefixes": ["10.0.0.0/8"]}},
        status=409,
        error="AddressScopePrefixConflict",
    )
    v6 = await _scope(member, ip_version=6)
    await member.fails(
        "PUT",
        f"{POOLS}/{other['id']}",
        {"subnetpool": {"address_scope_id": v6["id"]}},
        status=400,
        error="IllegalSubnetPoolIpVersionAssociationToAddressScope",
    )
    admin_scope = await _scope(api, shared=True)
    await member.ok(
        "PUT", f"{POOLS}/{other['id']}", {"subnetpool": {"address_scope_id": admin_scope["id"]}}
    )
    await member.fails(
        "PUT",
        f"{POOLS}/{other['id']}",
        {"subnetpool": {"name": "renamed"}},
        status=400,
        error="IllegalSubnetPoolUpdate",
    )
    await api.ok("PUT", f"{POOLS}/{other['id']}", {"subnetpool": {"address_scope_id": scope["id"]}})
    hidden = await _scope(api)
    await _pool(member, ["10.9.0.0/16"], 404, address_scope_id=hidden["id"])
    await _pool(member, ["10.9.0.0/16"], 400, address_scope_id="not-a-uuid")
    await member.fails("DELETE", f"{SCOPES}/{scope['id']}", status=409, error="AddressScopeInUse")
    await member.ok("PUT", f"{POOLS}/{other['id']}", {"subnetpool": {"address_scope_id": None}})


async def test_scope_and_pool_rbac(api):
    """A scope shared with P1 lets P1 put a pool in it; that pool keeps the policy (409);
    P1 may share the pool only with projects that can use the scope (400)."""
    member = api.as_(P1)
    scope = await _scope(api)
    body = {"object_type": "address_scope", "object_id": scope["id"], "action": "access_as_shared"}
    policy = (
        await api.ok(
            "POST", "/v2.0/rbac-policies", {"rbac_policy": {**body, "target_tenant": P1}}, 201
        )
    )["rbac_policy"]
    assert (await member.get(f"{SCOPES}/{scope['id']}"))["address_scope"]["shared"] is True
    pool = (await _pool(api, ["10.0.0.0/16"], project_id=P1, address_scope_id=scope["id"]))[
        "subnetpool"
    ]
    await api.fails(
        "DELETE", f"/v2.0/rbac-policies/{policy['id']}", status=409, error="RbacPolicyInUse"
    )
    share = {"object_type": "subnetpool", "object_id": pool["id"], "action": "access_as_shared"}
    await member.fails(
        "POST",
        "/v2.0/rbac-policies",
        {"rbac_policy": {**share, "target_tenant": P2}},
        status=400,
        error="InvalidInput",
    )
    await member.ok(
        "POST", "/v2.0/rbac-policies", {"rbac_policy": {**share, "target_tenant": P1}}, 201
    )
    hidden = (await _pool(api, ["10.20.0.0/16"]))["subnetpool"]
    await api.as_(P2).fails(
        "GET", f"{POOLS}/{hidden['id']}", status=404, error="SubnetPoolNotFound"
    )
    await api.ok(
        "POST",
        "/v2.0/rbac-policies",
        {
            "rbac_policy": {
                "object_type": "subnetpool",
                "object_id": hidden["id"],
                "action": "access_as_shared",
                "target_tenant": P2,
            }
        },
        201,
    )
    seen = (await api.as_(P2).get(f"{POOLS}/{hidden['id']}"))["subnetpool"]
    assert seen["shared"] is True
    net = await api.as_(P2).network()
    subnet = (
        await api.as_(P2).ok(
            "POST",
            "/v2.0/subnets",
            {"subnet": {"network_id": net["id"], "ip_version": 4, "subnetpool_id": hidden["id"]}},
            201,
        )
    )["subnet"]
    assert subnet["cidr"].startswith("10.20.")
