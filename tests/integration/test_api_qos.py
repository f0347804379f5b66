"""QoS (qos and its rule-type extensions): policies, rules, rule types, bindings, sharing."""

from __future__ import annotations

from tests.integration.api import Api

P1 = "1a1a1a1a1a1a4a1a8a1a1a1a1a1a1a1a"
P2 = "2b2b2b2b2b2b4b2b8b2b2b2b2b2b2b2b"
POLICIES = "/v2.0/qos/policies"


async def _policy(api: Api, **attrs: object) -> dict:
    return (await api.ok("POST", POLICIES, {"policy": {"name": "q", **attrs}}, 201))["policy"]


async def _rule(api: Api, policy_id: str, kind: str, status: int = 201, **attrs: object) -> dict:
    reply = await api.call("POST", f"{POLICIES}/{policy_id}/{kind}_rules", {f"{kind}_rule": attrs})
    assert reply.status == status, reply.body
    return reply.body


async def test_policy_with_rules_of_every_type(api):
    """A policy shows its rules with their type; one rule per type and direction (409);
    rules are listed, shown, updated and deleted under their policy."""
    policy = await _policy(api, description="gold")
    assert (policy["shared"], policy["is_default"], policy["rules"]) == (False, False, [])
    limit = (await _rule(api, policy["id"], "bandwidth_limit", max_kbps=200))[
        "bandwidth_limit_rule"
    ]
    assert limit == {"id": limit["id"], "max_kbps": 200, "max_burst_kbps": 0, "direction": "egress"}
    await _rule(api, policy["id"], "bandwidth_limit", max_kbps=300, direction="ingress")
    conflict = await _rule(api, policy["id"], "bandwidth_limit", 409, max_kbps=1)
    assert conflict["NeutronError"]["type"] == "QoSRulesConflict"
    await _rule(api, policy["id"], "dscp_marking", dscp_mark=26)
    assert (await _rule(api, policy["id"], "dscp_marking", 400, dscp_mark=58))["NeutronError"]
    await _rule(api, policy["id"], "minimum_bandwidth", min_kbps=1000)
    await _rule(api, policy["id"], "minimum_packet_rate", min_kpps=10, direction="any")
    await _rule(api, policy["id"], "minimum_packet_rate", 409, min_kpps=10, direction="egress")
    await _rule(api, policy["id"], "minimum_packet_rate", 400, direction="egress")
    shown = (await api.get(f"{POLICIES}/{policy['id']}"))["policy"]
    assert sorted(r["type"] for r in shown["rules"]) == [
        "bandwidth_limit",
        "bandwidth_limit",
        "dscp_marking",
        "minimum_bandwidth",
        "minimum_packet_rate",
    ]
    assert shown["revision_number"] > policy["revision_number"]
    path = f"{POLICIES}/{policy['id']}/bandwidth_limit_rules"
    assert len((await api.get(path))["bandwidth_limit_rules"]) == 2
    updated = await api.ok(
        "PUT", f"{path}/{limit['id']}", {"bandwidth_limit_rule": {"max_kbps": 5}}
    )
    assert updated["bandwidth_limit_rule"]["max_kbps"] == 5
    await api.ok("DELETE", f"{path}/{limit['id']}", status=204)
    await api.fails("GET", f"{path}/{limit['id']}", status=404, error="QosRuleNotFound")
    await api.fails(
        "GET", f"{POLICIES}/nope/dscp_marking_rules", status=404, error="QosPolicyNotFound"
    )
    await api.ok("DELETE", f"{POLICIES}/{policy['id']}", status=204)
    await api.fails("GET", f"{POLICIES}/{policy['id']}", status=404, error="QosPolicyNotFound")


async def test_policy_writes_are_admin_only_and_visibility_follows_sharing(api):
    """Members may not create or change policies (403), see only their own or shared ones,
    and get 404 for others; rule writes are admin-only too."""
    member = api.as_(P1)
    await member.fails(
        "POST", POLICIES, {"policy": {"name": "x"}}, status=403, error="PolicyNotAuthorized"
    )
    own = await _policy(api, project_id=P1)
    foreign = await _policy(api)
    await member.fails(
        "PUT",
        f"{POLICIES}/{own['id']}",
        {"policy": {"name": "y"}},
        status=403,
        error="PolicyNotAuthorized",
    )
    await member.fails(
        "PUT",
        f"{POLICIES}/{foreign['id']}",
        {"policy": {"name": "y"}},
        status=404,
        error="QosPolicyNotFound",
    )
    reply = await member.call(
        "POST",
        f"{POLICIES}/{own['id']}/dscp_marking_rules",
        {"dscp_marking_rule": {"dscp_mark": 8}},
    )
    assert reply.status == 403
    assert [p["id"] for p in (await member.get(POLICIES))["policies"]] == [own["id"]]
    await api.ok("PUT", f"{POLICIES}/{foreign['id']}", {"policy": {"shared": True}})
    seen = (await member.get(f"{POLICIES}/{foreign['id']}"))["policy"]
    assert seen["shared"] is True
    wildcard = (await api.get(f"/v2.0/rbac-policies?object_id={foreign['id']}"))["rbac_policies"]
    assert [(p["object_type"], p["target_tenant"]) for p in wildcard] == [("qos_policy", "*")]


async def test_binding_to_networks_and_ports(api):
    """A network or port takes a visible policy (else 404); a policy in use cannot go (409)
    nor stop being shared with a project using it; a project's default policy applies to
    its new networks."""
    member = api.as_(P1)
    private = await _policy(api)
    await member.fails(
        "POST",
        "/v2.0/networks",
        {"network": {"qos_policy_id": private["id"]}},
        status=404,
        error="QosPolicyNotFound",
    )
    shared = await _policy(api, shared=True)
    net = await member.network(qos_policy_id=shared["id"])
    assert net["qos_policy_id"] == shared["id"]
    await api.fails("DELETE", f"{POLICIES}/{shared['id']}", status=409, error="QosPolicyInUse")
    await api.fails(
        "PUT",
        f"{POLICIES}/{shared['id']}",
        {"policy": {"shared": False}},
        status=409,
        error="RbacPolicyInUse",
    )
    port = await member.port(net["id"], qos_policy_id=shared["id"])
    assert port["qos_policy_id"] == shared["id"]
    before = port["revision_number"]
    moved = await member.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": None}})
    assert moved["port"]["qos_policy_id"] is None and moved["port"]["revision_number"] > before
    default = await _policy(api, project_id=P2, is_default=True)
    await api.fails(
        "POST",
        POLICIES,
        {"policy": {"project_id": P2, "is_default": True}},
        status=409,
        error="QoSPolicyDefaultAlreadyExists",
    )
    assert (await api.as_(P2).network())["qos_policy_id"] == default["id"]
    assert (await api.as_(P2).network(qos_policy_id=None))["qos_policy_id"] is None


async def test_detaching_a_policy_needs_access_to_it(api):
    """A member cannot detach an admin policy it cannot see (403) until it is shared."""
    member = api.as_(P1)
    net = await member.network()
    policy = await _policy(api)
    await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"qos_policy_id": policy["id"]}})
    await member.fails(
        "PUT",
        f"/v2.0/networks/{net['id']}",
        {"network": {"qos_policy_id": None}},
        status=403,
        error="PolicyRemoveAuthorizationError",
    )
    await api.ok("PUT", f"{POLICIES}/{policy['id']}", {"policy": {"shared": True}})
    await member.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"qos_policy_id": None}})


async def test_rule_types(api):
    """Anyone lists the rule types; only admins see their parameters."""
    kinds = {t["type"] for t in (await api.as_(P1).get("/v2.0/qos/rule-types"))["rule_types"]}
    assert kinds == {"bandwidth_limit", "dscp_marking", "minimum_bandwidth", "minimum_packet_rate"}
    await api.as_(P1).fails(
        "GET", "/v2.0/qos/rule-types/dscp_marking", status=403, error="PolicyNotAuthorized"
    )
    detail = (await api.get("/v2.0/qos/rule-types/dscp_marking"))["rule_type"]
    (param,) = detail["drivers"][0]["supported_parameters"]
    assert param["parameter_name"] == "dscp_mark" and 56 in param["parameter_values"]
    await api.fails("GET", "/v2.0/qos/rule-types/nope", status=404, error="QosRuleTypeNotFound")


async def test_policies_are_tagged_at_the_neutron_path(api):
    """Tags of QoS policies live under /v2.0/policies/{id}/tags."""
    policy = await _policy(api)
    await api.ok("PUT", f"/v2.0/policies/{policy['id']}/tags/red", status=201)
    assert (await api.get(f"/v2.0/policies/{policy['id']}/tags"))["tags"] == ["red"]
    assert [p["id"] for p in (await api.get(f"{POLICIES}?tags=red"))["policies"]] == [policy["id"]]


async def test_port_resource_request_groups(api):
    """An admin sees what a port's minimum rules reserve (port-resource-request-groups): one
    group for bandwidth (physnet or tunnel trait + VNIC trait), one for packet rate, stable
    ids; from the network's policy when the port has none; members never see the key; no
    minimum rule (none left) or no policy is None."""
    policy = await _policy(api, shared=True)
    await _rule(api, policy["id"], "minimum_bandwidth", min_kbps=1000, direction="egress")
    await _rule(api, policy["id"], "minimum_bandwidth", min_kbps=2000, direction="ingress")
    await _rule(api, policy["id"], "minimum_packet_rate", min_kpps=500, direction="any")
    physnet = await api.network(
        **{"provider:network_type": "vlan", "provider:physical_network": "physnet1"}
    )
    port = await api.port(physnet["id"], qos_policy_id=policy["id"])
    request = port["resource_request"]
    bandwidth, packets = request["request_groups"]
    assert request["same_subtree"] == [bandwidth["id"], packets["id"]]
    assert sorted(bandwidth["required"]) == ["CUSTOM_PHYSNET_PHYSNET1", "CUSTOM_VNIC_TYPE_NORMAL"]
    assert bandwidth["resources"] == {
        "NET_BW_EGR_KILOBIT_PER_SEC": 1000,
        "NET_BW_IGR_KILOBIT_PER_SEC": 2000,
    }
    assert packets == {
        "id": packets["id"],
        "required": ["CUSTOM_VNIC_TYPE_NORMAL"],
        "resources": {"NET_PACKET_RATE_KILOPACKET_PER_SEC": 500},
    }
    shown = (await api.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert shown["resource_request"] == request
    member_view = await api.as_(port["project_id"]).get(f"/v2.0/ports/{port['id']}")
    assert "resource_request" not in member_view["port"]
    cleared = await api.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": None}})
    assert cleared["port"]["resource_request"] is None
    tunnel = await api.network(qos_policy_id=policy["id"])
    inherited = await api.port(tunnel["id"])
    assert inherited["resource_request"]["request_groups"][0]["required"][0] == (
        "CUSTOM_NETWORK_TUNNEL_PROVIDER"
    )
    empty = await _policy(api)
    assert (await api.port(tunnel["id"], qos_policy_id=empty["id"]))["resource_request"] is None
    for kind in ("minimum_bandwidth", "minimum_packet_rate"):
        path = f"{POLICIES}/{policy['id']}/{kind}_rules"
        for rule in (await api.get(path))[f"{kind}_rules"]:
            await api.ok("DELETE", f"{path}/{rule['id']}", status=204)
    shown = (await api.get(f"/v2.0/ports/{inherited['id']}"))["port"]
    assert shown["resource_request"] is None
