"""Security groups and rules (§7): default group, rules validation, duplicates, in-use."""

from __future__ import annotations

import pytest


async def _group(api, **attrs):
    return (await api.ok("POST", "/v2.0/security-groups", {"security_group": attrs}, 201))[
        "security_group"
    ]


async def _rule(api, group_id, status=201, **attrs):
    reply = await api.call(
        "POST",
        "/v2.0/security-group-rules",
        {"security_group_rule": {"security_group_id": group_id, "direction": "ingress", **attrs}},
    )
    assert reply.status == status, reply.body
    return reply


async def test_new_group_has_two_egress_rules(api):
    """A created group carries egress IPv4/IPv6 any rules (§7.4)."""
    group = await _group(api, name="web", description="http in")
    rules = group["security_group_rules"]
    assert [(r["direction"], r["ethertype"]) for r in rules] == [
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    ]
    assert all(
        r["protocol"] is None
        and r["remote_ip_prefix"] is None
        and r["security_group_id"] == group["id"]
        for r in rules
    )
    assert set(rules[0]) == {
        "id",
        "security_group_id",
        "direction",
        "ethertype",
        "protocol",
        "port_range_min",
        "port_range_max",
        "remote_ip_prefix",
        "remote_group_id",
        "remote_address_group_id",
        "normalized_cidr",
        "description",
        "project_id",
        "tenant_id",
        "revision_number",
        "created_at",
        "updated_at",
    }


async def test_default_group_is_created_on_first_use_once(api):
    """A project's first list creates its default group with the four Neutron rules."""
    member = api.as_("p1")
    groups = (await member.get("/v2.0/security-groups"))["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    default = groups[0]
    assert default["description"] == "Default security group"
    shapes = sorted(
        (r["direction"], r["ethertype"], r["remote_group_id"])
        for r in default["security_group_rules"]
    )
    assert shapes == [
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", default["id"]),
        ("ingress", "IPv6", default["id"]),
    ]
    await member.network()
    assert len((await member.get("/v2.0/security-groups"))["security_groups"]) == 1


async def test_default_name_is_reserved(api):
    """Naming or renaming a group default (any case) → 409; the default keeps its name."""
    reply = await api.call("POST", "/v2.0/security-groups", {"security_group": {"name": "Default"}})
    assert reply.status == 409 and reply.error == "SecurityGroupDefaultAlreadyExists"
    group = await _group(api, name="g")
    reply = await api.call(
        "PUT", f"/v2.0/security-groups/{group['id']}", {"security_group": {"name": "DEFAULT"}}
    )
    assert reply.status == 409 and reply.error == "SecurityGroupDefaultAlreadyExists"
    member = api.as_("p1")
    default = (await member.get("/v2.0/security-groups"))["security_groups"][0]
    reply = await member.call(
        "PUT", f"/v2.0/security-groups/{default['id']}", {"security_group": {"name": "other"}}
    )
    assert reply.status == 409 and reply.error == "SecurityGroupCannotUpdateDefault"
    reply = await member.call("DELETE", f"/v2.0/security-groups/{default['id']}")
    assert reply.status == 409 and reply.error == "SecurityGroupCannotRemoveDefault"


async def test_rule_create_normalises_and_bumps_the_group(api):
    """Rules fill max from min, canonicalise ethertype, keep the prefix with its network as
    normalized_cidr, and bump the group."""
    group = await _group(api, name="g")
    rule = (
        await _rule(
            api,
            group["id"],
            protocol="TCP",
            port_range_min=80,
            ethertype="ipv4",
            remote_ip_prefix="10.0.0.5/24",
        )
    ).body["security_group_rule"]
    assert (
        rule["protocol"],
        rule["port_range_min"],
        rule["port_range_max"],
        rule["ethertype"],
        rule["remote_ip_prefix"],
        rule["normalized_cidr"],
    ) == ("tcp", 80, 80, "IPv4", "10.0.0.5/24", "10.0.0.0/24")
    assert rule["project_id"] == group["project_id"]
    shown = (await api.get(f"/v2.0/security-groups/{group['id']}"))["security_group"]
    assert shown["revision_number"] == 2 and len(shown["security_group_rules"]) == 3
    numeric = (await _rule(api, group["id"], protocol=17)).body["security_group_rule"]
    assert numeric["protocol"] == "17"
    anything = (await _rule(api, group["id"], protocol="any", ethertype="IPv6")).body
    assert anything["security_group_rule"]["protocol"] is None


@pytest.mark.parametrize(
    "attrs, error",
    [
        ({"protocol": "tcp", "port_range_min": 0}, "SecurityGroupInvalidPortValue"),
        (
            {"protocol": "udp", "port_range_min": 1, "port_range_max": 70000},
            "SecurityGroupInvalidPortValue",
        ),
        (
            {"protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
            "SecurityGroupInvalidPortRange",
        ),
        ({"protocol": "icmp", "port_range_min": 256}, "SecurityGroupInvalidIcmpValue"),
        ({"protocol": "icmp", "port_range_max": 3}, "SecurityGroupMissingIcmpType"),
        ({"protocol": "gre", "port_range_min": 1}, "SecurityGroupInvalidProtocolForPort"),
        ({"port_range_min": 1}, "SecurityGroupInvalidProtocolForPort"),
        ({"protocol": "ipv6-icmp"}, "SecurityGroupEthertypeConflictWithProtocol"),
        ({"remote_ip_prefix": "fd00::/64"}, "SecurityGroupRuleParameterConflict"),
        ({"protocol": "carrier-pigeon"}, "SecurityGroupRuleInvalidProtocol"),
        ({"protocol": 256}, "SecurityGroupRuleInvalidProtocol"),
        ({"direction": "sideways"}, "HTTPBadRequest"),
        ({"stateful": False}, "HTTPBadRequest"),
    ],
)
async def test_rule_validation_errors(api, attrs, error):
    """Each §7.3 violation answers 400 with its own type."""
    group = await _group(api, name="g")
    reply = await _rule(api, group["id"], status=400, **attrs)
    assert reply.error == error


async def test_remote_group_and_prefix_are_exclusive(api):
    """remote_group_id with remote_ip_prefix → 400; an unknown remote group → 404."""
    group = await _group(api, name="g")
    reply = await _rule(
        api, group["id"], status=400, remote_group_id=group["id"], remote_ip_prefix="10.0.0.0/8"
    )
    assert reply.error == "SecurityGroupRemoteGroupAndRemoteIpPrefix"
    reply = await _rule(
        api, group["id"], status=404, remote_group_id="11111111-1111-4111-8111-111111111111"
    )
    assert reply.error == "SecurityGroupNotFound"


async def test_duplicate_rules_are_409_with_equivalences(api):
    """Same rule again, or an equivalent spelling (tcp≡6, null≡/0, icmp≡58 on IPv6) → 409."""
    group = await _group(api, name="g")
    first = (
        await _rule(
            api,
            group["id"],
            protocol="tcp",
            port_range_min=80,
            port_range_max=80,
            remote_ip_prefix="0.0.0.0/0",
        )
    ).body
    rule_id = first["security_group_rule"]["id"]
    reply = await _rule(
        api, group["id"], status=409, protocol="6", port_range_min=80, description="other"
    )
    assert reply.body["NeutronError"] == {
        "type": "SecurityGroupRuleExists",
        "detail": "",
        "message": f"Security group rule already exists. Rule id is {rule_id}.",
    }
    await _rule(api, group["id"], protocol="icmp", ethertype="IPv6")
    reply = await _rule(api, group["id"], status=409, protocol="58", ethertype="IPv6")
    assert reply.error == "SecurityGroupRuleExists"
    reply = await api.call(
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rules": [
                {"security_group_id": group["id"], "direction": "ingress", "protocol": "udp"},
                {"security_group_id": group["id"], "direction": "ingress", "protocol": "17"},
            ]
        },
    )
    assert reply.status == 409
    rules = await api.get(f"/v2.0/security-group-rules?security_group_id={group['id']}")
    assert len(rules["security_group_rules"]) == 4


async def test_rules_update_only_description_and_delete(api):
    """A rule's description is updatable, nothing else; delete answers 204 then 404."""
    group = await _group(api, name="g")
    rule = (await _rule(api, group["id"], protocol="tcp")).body["security_group_rule"]
    path = f"/v2.0/security-group-rules/{rule['id']}"
    updated = await api.ok("PUT", path, {"security_group_rule": {"description": "d"}})
    assert updated["security_group_rule"]["description"] == "d"
    reply = await api.call("PUT", path, {"security_group_rule": {"protocol": "udp"}})
    assert reply.status == 400
    await api.ok("DELETE", path, status=204)
    reply = await api.call("GET", path)
    assert reply.status == 404 and reply.error == "SecurityGroupRuleNotFound"


async def test_group_in_use_by_a_port_cannot_be_deleted(api, net):
    """A group used by a port → 409 SecurityGroupInUse; after the port is gone → 204."""
    group = await _group(api, name="g")
    port = await api.port(net["id"], security_groups=[group["id"]])
    reply = await api.call("DELETE", f"/v2.0/security-groups/{group['id']}")
    assert reply.status == 409 and reply.error == "SecurityGroupInUse"
    await api.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"security_groups": []}})
    await api.ok("DELETE", f"/v2.0/security-groups/{group['id']}", status=204)
    reply = await api.call("GET", f"/v2.0/security-groups/{group['id']}")
    assert reply.status == 404 and reply.error == "SecurityGroupNotFound"


async def test_deleting_a_group_removes_rules_that_reference_it(api):
    """Rules of other groups with remote_group_id = the deleted group go with it."""
    target = await _group(api, name="target")
    other = await _group(api, name="other")
    await _rule(api, other["id"], remote_group_id=target["id"])
    await api.ok("DELETE", f"/v2.0/security-groups/{target['id']}", status=204)
    rules = (await api.get(f"/v2.0/security-groups/{other['id']}"))["security_group"][
        "security_group_rules"
    ]
    assert all(r["remote_group_id"] != target["id"] for r in rules) and len(rules) == 2


async def test_groups_are_private_to_their_project(api):
    """Another project's groups and rules are invisible (404) and absent from lists."""
    group = await _group(api.as_("p1"), name="g")
    p2 = api.as_("p2")
    reply = await p2.call("GET", f"/v2.0/security-groups/{group['id']}")
    assert reply.status == 404
    names = [g["name"] for g in (await p2.get("/v2.0/security-groups"))["security_groups"]]
    assert names == ["default"]
    reply = await _rule(p2, group["id"], status=404)
    assert reply.error == "SecurityGroupNotFound"


async def test_security_group_rules_in_create_body(api):
    """security_group_rules in a body: 400 on /v2.0, ignored when [] on native paths."""
    reply = await api.call(
        "POST",
        "/v2.0/security-groups",
        {"security_group": {"name": "g", "security_group_rules": []}},
    )
    assert reply.status == 400
    created = await api.ok(
        "POST",
        "/project/p1/security-groups",
        {"security_group": {"name": "g", "security_group_rules": []}},
        201,
    )
    assert len(created["security_group"]["security_group_rules"]) == 2
    reply = await api.call(
        "POST",
        "/project/p1/security-groups",
        {"security_group": {"name": "h", "security_group_rules": [{"direction": "ingress"}]}},
    )
    assert reply.status == 400


async def test_bulk_create_accepts_items_wrapped_in_the_singular_key(api):
    """As Neutron, bulk items may be bare or wrapped: {"security_groups": [{"security_group":
    {...}}, {...}]} creates both, in order."""
    body = {"security_groups": [{"security_group": {"name": "a"}}, {"name": "b"}]}
    created = (await api.ok("POST", "/v2.0/security-groups", body, 201))["security_groups"]
    assert [g["name"] for g in created] == ["a", "b"]
    bad = await api.call(
        "POST",
        "/v2.0/security-groups",
        {"security_groups": [{"security_group": {"name": "c"}, "x": 1}]},
    )
    assert bad.status == 400
