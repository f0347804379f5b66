"""RBAC policies (rbac-policies): sharing networks with projects, and making them external."""

from __future__ import annotations

from tests.integration.api import Api

P1 = "1a1a1a1a1a1a4a1a8a1a1a1a1a1a1a1a"
P2 = "2b2b2b2b2b2b4b2b8b2b2b2b2b2b2b2b"
POLICIES = "/v2.0/rbac-policies"


async def _policy(api: Api, object_id: str, target: str, **attrs: str) -> dict:
    body = {
        "rbac_policy": {
            "object_type": attrs.pop("object_type", "network"),
            "object_id": object_id,
            "action": attrs.pop("action", "access_as_shared"),
            "target_tenant": target,
            **attrs,
        }
    }
    return (await api.ok("POST", POLICIES, body, 201))["rbac_policy"]


async def test_sharing_with_one_project_makes_the_network_visible_to_it_only(api):
    """A policy targeting P2 lets P2 see the network and its subnets (shared: true for
    P2 only); a third project sees neither; the policy shows only to its owner."""
    p1, p2, p3 = api.as_(P1), api.as_(P2), api.as_("3c3c3c3c3c3c4c3c8c3c3c3c3c3c3c3c")
    net, sub = await p1.lan("10.0.0.0/24")
    await p2.fails("GET", f"/v2.0/networks/{net['id']}", status=404, error="NetworkNotFound")
    policy = await _policy(p1, net["id"], P2)
    assert policy == {
        "id": policy["id"],
        "project_id": P1,
        "tenant_id": P1,
        "object_type": "network",
        "object_id": net["id"],
        "action": "access_as_shared",
        "target_tenant": P2,
    }
    seen = (await p2.get(f"/v2.0/networks/{net['id']}"))["network"]
    assert seen["shared"] is True
    assert (await p1.get(f"/v2.0/networks/{net['id']}"))["network"]["shared"] is False
    assert (await p2.get(f"/v2.0/subnets/{sub['id']}"))["subnet"]["id"] == sub["id"]
    shared_ids = [n["id"] for n in (await p2.get("/v2.0/networks?shared=true"))["networks"]]
    assert shared_ids == [net["id"]]
    await p3.fails("GET", f"/v2.0/networks/{net['id']}", status=404, error="NetworkNotFound")
    await p3.fails("GET", f"/v2.0/subnets/{sub['id']}", status=404, error="SubnetNotFound")
    assert [p["id"] for p in (await p1.get(POLICIES))["rbac_policies"]] == [policy["id"]]
    assert (await p2.get(POLICIES))["rbac_policies"] == []
    # P2 may now create ports on the network; P1 (the owner) may delete them.
    port = await p2.port(net["id"])
    await p1.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)


async def test_policy_refusals(api):
    """Wildcards are admin-only (403); duplicates 409; another's object 400 when visible,
    404 when not; a target that is no project id 400."""
    p1, p2 = api.as_(P1), api.as_(P2)
    net = await p1.network()
    body = {"object_type": "network", "object_id": net["id"], "action": "access_as_shared"}
    await p1.fails(
        "POST",
        POLICIES,
        {"rbac_policy": {**body, "target_tenant": "*"}},
        status=403,
        error="PolicyNotAuthorized",
    )
    await _policy(p1, net["id"], P2)
    await p1.fails(
        "POST",
        POLICIES,
        {"rbac_policy": {**body, "target_tenant": P2}},
        status=409,
        error="DuplicateRbacPolicy",
    )
    await p2.fails(
        "POST",
        POLICIES,
        {"rbac_policy": {**body, "target_tenant": P2}},
        status=400,
        error="InvalidInput",
    )
    other = await api.as_("3c3c3c3c3c3c4c3c8c3c3c3c3c3c3c3c").network()
    await p2.fails(
        "POST",
        POLICIES,
        {"rbac_policy": {**body, "object_id": other["id"], "target_tenant": P1}},
        status=404,
        error="NetworkNotFound",
    )
    for target in (None, "1234" * 100):
        reply = await p1.call("POST", POLICIES, {"rbac_policy": {**body, "target_tenant": target}})
        assert reply.status == 400


async def test_ports_of_a_project_keep_its_access(api):
    """A policy whose target still has ports on the network cannot go (409), unless a
    wildcard covers the project; self-shares never block."""
    p1, p2 = api.as_(P1), api.as_(P2)
    net = await p1.network()
    policy = await _policy(p1, net["id"], P2)
    self_share = await _policy(p1, net["id"], P1)
    port = await p2.port(net["id"])
    await p1.fails("DELETE", f"{POLICIES}/{policy['id']}", status=409, error="RbacPolicyInUse")
    await p1.fails(
        "PUT",
        f"{POLICIES}/{policy['id']}",
        {"rbac_policy": {"target_tenant": P1}},
        status=409,
        error="DuplicateRbacPolicy",
    )
    await p1.ok("DELETE", f"{POLICIES}/{self_share['id']}", status=204)
    wildcard = await _policy(api, net["id"], "*")
    await p1.ok("DELETE", f"{POLICIES}/{policy['id']}", status=204)
    await api.fails("DELETE", f"{POLICIES}/{wildcard['id']}", status=409, error="RbacPolicyInUse")
    await p2.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await api.ok("DELETE", f"{POLICIES}/{wildcard['id']}", status=204)
    assert (await p1.get(f"/v2.0/networks/{net['id']}"))["network"]["shared"] is False


async def test_shared_attribute_is_the_wildcard_policy_and_bumps_revisions(api):
    """shared: true creates the `*` policy, false deletes it; any policy change bumps the
    network's revision."""
    net = await api.network(shared=True)
    found = (await api.get(f"{POLICIES}?object_id={net['id']}&target_tenant=*"))["rbac_policies"]
    assert [p["action"] for p in found] == ["access_as_shared"]
    await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"shared": False}})
    assert (await api.get(f"{POLICIES}?object_id={net['id']}"))["rbac_policies"] == []
    before = (await api.get(f"/v2.0/networks/{net['id']}"))["network"]["revision_number"]
    await _policy(api, net["id"], P2)
    after = (await api.get(f"/v2.0/networks/{net['id']}"))["network"]["revision_number"]
    assert after > before


async def test_external_follows_access_as_external_policies(api):
    """router:external is true while any access_as_external policy exists; a project given
    one sees the network and may use it as a router gateway; the wildcard of a default
    external network cannot be deleted."""
    p2 = api.as_(P2)
    net = await api.network()
    await api.subnet(net["id"], "172.30.0.0/24", enable_dhcp=False)
    await p2.fails("GET", f"/v2.0/networks/{net['id']}", status=404, error="NetworkNotFound")
    policy = await _policy(api, net["id"], P2, action="access_as_external")
    assert (await api.get(f"/v2.0/networks/{net['id']}"))["network"]["router:external"] is True
    router = await p2.router(external_gateway_info={"network_id": net["id"]})
    await api.fails("DELETE", f"{POLICIES}/{policy['id']}", status=409, error="RbacPolicyInUse")
    await p2.ok("DELETE", f"/v2.0/routers/{router['id']}", status=204)
    await api.ok("DELETE", f"{POLICIES}/{policy['id']}", status=204)
    assert (await api.get(f"/v2.0/networks/{net['id']}"))["network"]["router:external"] is False
    await api.ok(
        "PUT",
        f"/v2.0/networks/{net['id']}",
        {"network": {"router:external": True, "is_default": True}},
    )
    (wildcard,) = (await api.get(f"{POLICIES}?object_id={net['id']}"))["rbac_policies"]
    await api.fails("DELETE", f"{POLICIES}/{wildcard['id']}", status=409, error="RbacPolicyInUse")


async def test_deleting_a_network_deletes_its_policies(api):
    """The policies of a deleted network go with it."""
    net = await api.network(shared=True)
    await _policy(api, net["id"], P2)
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    assert (await api.get(POLICIES))["rbac_policies"] == []
