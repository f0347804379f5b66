"""Security group extensions: stateful/stateless groups, normalized CIDRs, default rule
templates, address groups in rules, and groups shared through RBAC."""

from __future__ import annotations

P1 = "1a1a1a1a1a1a4a1a8a1a1a1a1a1a1a1a"
P2 = "2b2b2b2b2b2b4b2b8b2b2b2b2b2b2b2b"
SGS = "/v2.0/security-groups"
RULES = "/v2.0/security-group-rules"
TEMPLATES = "/v2.0/default-security-group-rules"
GROUPS = "/v2.0/address-groups"


async def test_stateful_and_stateless_groups_do_not_mix(api):
    """A port takes groups of one statefulness (409 otherwise); a group in use keeps its
    statefulness (409)."""
    net = await api.network()
    stateless = await api.sg(name="a", stateful=False)
    stateful = await api.sg(name="b")
    assert (stateless["stateful"], stateful["stateful"]) == (False, True)
    reply = await api.call(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": net["id"], "security_groups": [stateless["id"], stateful["id"]]}},
    )
    assert (reply.status, reply.error) == (409, "SecurityGroupConflict")
    await api.port(net["id"], security_groups=[stateless["id"]])
    await api.fails(
        "PUT",
        f"{SGS}/{stateless['id']}",
        {"security_group": {"stateful": True}},
        status=409,
        error="SecurityGroupInUse",
    )
    flipped = await api.ok(
        "PUT", f"{SGS}/{stateful['id']}", {"security_group": {"stateful": False}}
    )
    assert flipped["security_group"]["stateful"] is False


async def test_rule_prefix_is_kept_and_normalized_cidr_shown(api):
    """remote_ip_prefix stays as given, normalized_cidr is its network, and the same network
    given another way is a duplicate (409)."""
    group = await api.sg(name="g")
    rule = await api.rule(group["id"], remote_ip_prefix="10.0.0.34/24")
    assert (rule["remote_ip_prefix"], rule["normalized_cidr"]) == ("10.0.0.34/24", "10.0.0.0/24")
    await api.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "remote_ip_prefix": "10.0.0.0/24",
            }
        },
        status=409,
        error="SecurityGroupRuleExists",
    )


async def test_default_rule_templates_shape_new_groups(api):
    """The four legacy templates exist; a new template is applied to the kind of group it is
    for; an overlapping duplicate is 409; members may not create templates (403)."""
    legacy = (await api.get(TEMPLATES))["default_security_group_rules"]
    assert sorted((t["direction"], t["ethertype"], t["remote_group_id"]) for t in legacy) == [
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", "PARENT"),
        ("ingress", "IPv6", "PARENT"),
    ]
    body = {
        "direction": "ingress",
        "protocol": "tcp",
        "port_range_min": 22,
        "port_range_max": 22,
        "used_in_default_sg": False,
    }
    template = (await api.ok("POST", TEMPLATES, {"default_security_group_rule": body}, 201))[
        "default_security_group_rule"
    ]
    assert template["used_in_non_default_sg"] is True
    await api.fails(
        "POST",
        TEMPLATES,
        {"default_security_group_rule": {**body, "used_in_default_sg": True}},
        status=409,
        error="DefaultSecurityGroupRuleExists",
    )
    await api.as_(P1).fails(
        "POST",
        TEMPLATES,
        {"default_security_group_rule": body},
        status=403,
        error="PolicyNotAuthorized",
    )
    group = await api.sg(name="ssh")
    assert ("ingress", "tcp", 22) in {
        (r["direction"], r["protocol"], r["port_range_min"]) for r in group["security_group_rules"]
    }
    default = (await api.as_(P2).get(SGS))["security_groups"][0]
    assert {r["remote_group_id"] for r in default["security_group_rules"]} == {None, default["id"]}
    await api.ok("DELETE", f"{TEMPLATES}/{template['id']}", status=204)
    plain = await api.sg(name="plain")
    assert len(plain["security_group_rules"]) == 2


async def test_listing_a_projects_groups_gives_it_its_default_group(api):
    """An admin listing by project_id sees the project's default group, created then."""
    found = (await api.get(f"{SGS}?project_id={P2}&name=default"))["security_groups"]
    assert [(g["project_id"], g["name"]) for g in found] == [(P2, "default")]


async def test_address_groups_and_rules_that_use_them(api):
    """Addresses are normalized networks, added and removed (404 for absent ones, 400 for
    bad ones); a rule may refer to a visible group (404 otherwise) and keeps it (409)."""
    group = (
        await api.ok(
            "POST",
            GROUPS,
            {"address_group": {"name": "ag", "addresses": ["10.0.0.5/24", "2001:db8::f00/64"]}},
            201,
        )
    )["address_group"]
    assert sorted(group["addresses"]) == ["10.0.0.0/24", "2001:db8::/64"]
    path = f"{GROUPS}/{group['id']}"
    await api.fails(
        "POST",
        GROUPS,
        {"address_group": {"addresses": ["10.1.1.1"]}},
        status=400,
        error="HTTPBadRequest",
    )
    added = await api.ok("PUT", f"{path}/add_addresses", {"addresses": ["10.9.9.9/32"]})
    assert "10.9.9.9/32" in added["address_group"]["addresses"]
    await api.fails(
        "PUT",
        f"{path}/remove_addresses",
        {"addresses": ["10.8.8.8"]},
        status=404,
        error="AddressesNotFound",
    )
    await api.fails(
        "PUT", f"{path}/add_addresses", {"addresses": ["nope"]}, status=400, error="HTTPBadRequest"
    )
    sg = await api.sg(name="g")
    rule = await api.rule(sg["id"], remote_address_group_id=group["id"])
    assert rule["remote_address_group_id"] == group["id"]
    await api.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": sg["id"],
                "direction": "egress",
                "remote_address_group_id": group["id"],
                "remote_ip_prefix": "10.0.0.0/8",
            }
        },
        status=400,
        error="BadRequest",
    )
    await api.fails("DELETE", path, status=409, error="AddressGroupInUse")
    other = await api.as_(P1).sg(name="x")
    await api.as_(P1).fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": other["id"],
                "direction": "ingress",
                "remote_address_group_id": group["id"],
            }
        },
        status=404,
        error="AddressGroupNotFound",
    )


async def test_groups_shared_through_rbac(api):
    """A group shared with P1 is visible to it and usable on its ports; the policy stays
    while such a port exists (409)."""
    group = await api.sg(name="shared-sg")
    p1 = api.as_(P1)
    await p1.fails("GET", f"{SGS}/{group['id']}", status=404, error="SecurityGroupNotFound")
    body = {
        "object_type": "security_group",
        "object_id": group["id"],
        "action": "access_as_shared",
        "target_tenant": P1,
    }
    policy = (await api.ok("POST", "/v2.0/rbac-policies", {"rbac_policy": body}, 201))[
        "rbac_policy"
    ]
    assert (await p1.get(f"{SGS}/{group['id']}"))["security_group"]["shared"] is True
    net = await p1.network()
    port = await p1.port(net["id"], security_groups=[group["id"]])
    await api.fails(
        "DELETE", f"/v2.0/rbac-policies/{policy['id']}", status=409, error="RbacPolicyInUse"
    )
    await p1.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await api.ok("DELETE", f"/v2.0/rbac-policies/{policy['id']}", status=204)
