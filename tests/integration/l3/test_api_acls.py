"""Network ACLs and their rules over the native paths (northbound §13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.l3.support import Api

ACLS = "/project/p1/network-acls"
RULES = "/project/p1/network-acl-rules"


@pytest.fixture
async def vpc(p1) -> dict[str, Any]:
    """p1's network with subnets 10.0.1.0/24 and 10.0.2.0/24 (under `subnets`)."""
    network, first = await p1.lan("10.0.1.0/24")
    second = await p1.subnet(network["id"], "10.0.2.0/24")
    return {**network, "subnets": [first, second]}


async def _acl(api: Api, vpc_id: str, project: str = "p1", **attrs: Any) -> dict[str, Any]:
    body = {"network_acl": {"vpc_id": vpc_id, **attrs}}
    return (await api.ok("POST", f"/project/{project}/network-acls", body, 201))["network_acl"]


async def _rule(
    api: Api, acl_id: str, number: int, project: str = "p1", **attrs: Any
) -> dict[str, Any]:
    body = {
        "network_acl_rule": {
            "network_acl_id": acl_id,
            "number": number,
            "direction": "ingress",
            "action": "allow",
            **attrs,
        }
    }
    return (await api.ok("POST", f"/project/{project}/network-acl-rules", body, 201))[
        "network_acl_rule"
    ]


# ---- ACLs ---------------------------------------------------------------------------------


async def test_new_acl_has_four_read_only_default_rules(p1, vpc):
    """An ACL starts with deny-all rules numbered 32767 for both directions and versions."""
    acl = await _acl(p1, vpc["id"], name="web")
    assert set(acl) == {
        "id",
        "project_id",
        "tenant_id",
        "name",
        "description",
        "vpc_id",
        "associated_subnets",
        "network_acl_rules",
        "revision_number",
        "created_at",
        "updated_at",
    }
    assert (
        acl["name"],
        acl["project_id"],
        acl["tenant_id"],
        acl["vpc_id"],
        acl["associated_subnets"],
        acl["revision_number"],
    ) == ("web", "p1", "p1", vpc["id"], [], 1)
    assert [
        (r["number"], r["direction"], r["ether_type"], r["protocol"], r["ip_prefix"], r["action"])
        for r in acl["network_acl_rules"]
    ] == [
        (32767, "ingress", "IPv4", "all", "0.0.0.0/0", "deny"),
        (32767, "ingress", "IPv6", "all", "::/0", "deny"),
        (32767, "egress", "IPv4", "all", "0.0.0.0/0", "deny"),
        (32767, "egress", "IPv6", "all", "::/0", "deny"),
    ]
    for rule in acl["network_acl_rules"]:
        await p1.fails(
            "PUT",
            f"{RULES}/{rule['id']}",
            {"network_acl_rule": {"action": "allow"}},
            status=409,
            error="NetworkAclInUse",
        )
        await p1.fails("DELETE", f"{RULES}/{rule['id']}", status=409, error="NetworkAclInUse")


async def test_acl_vpc_must_be_an_owned_network(admin, p1, p2, vpc):
    """vpc_id of an unknown, another project's, or a shared network is 404 NetworkNotFound."""
    theirs = await p2.network()
    shared = await admin.network(shared=True)
    for vpc_id in (theirs["id"], shared["id"], "11111111-1111-4111-8111-111111111111"):
        await p1.fails(
            "POST", ACLS, {"network_acl": {"vpc_id": vpc_id}}, status=404, error="NetworkNotFound"
        )
    await p1.fails("POST", ACLS, {"network_acl": {"name": "x"}}, status=400, error="HTTPBadRequest")
    await p1.fails(
        "POST",
        ACLS,
        {"network_acl": {"vpc_id": vpc["id"], "tags": ["a"]}},
        status=400,
        error="HTTPBadRequest",
    )


async def test_associated_subnets_must_be_of_the_vpc_and_unclaimed(p1, vpc):
    """Foreign or unknown subnets are 400 InvalidInput; a claimed one is 409 NetworkAclInUse."""
    _, elsewhere = await p1.lan("10.9.0.0/24")
    first, second = vpc["subnets"]
    for subnet_id in (elsewhere["id"], "22222222-2222-4222-8222-222222222222"):
        await p1.fails(
            "POST",
            ACLS,
            {"network_acl": {"vpc_id": vpc["id"], "associated_subnets": [subnet_id]}},
            status=400,
            error="InvalidInput",
        )
    acl = await _acl(p1, vpc["id"], associated_subnets=[first["id"]])
    reply = await p1.fails(
        "POST",
        ACLS,
        {"network_acl": {"vpc_id": vpc["id"], "associated_subnets": [first["id"]]}},
        status=409,
        error="NetworkAclInUse",
    )
    assert acl["id"] in reply.message
    other = await _acl(p1, vpc["id"], associated_subnets=[second["id"]])
    await p1.fails(
        "PUT",
        f"{ACLS}/{other['id']}",
        {"network_acl": {"associated_subnets": [first["id"], second["id"]]}},
        status=409,
        error="NetworkAclInUse",
    )
    listed = await p1.get(f"{ACLS}?associated_subnets={first['id']}")
    assert [a["id"] for a in listed["network_acls"]] == [acl["id"]]


async def test_acl_update_and_if_match(p1, vpc):
    """PUT changes name and subnets; vpc_id is read-only; a stale If-Match is 412."""
    acl = await _acl(p1, vpc["id"])
    first, _ = vpc["subnets"]
    body = await p1.ok(
        "PUT",
        f"{ACLS}/{acl['id']}",
        {"network_acl": {"name": "n", "associated_subnets": [first["id"]]}},
    )
    assert (
        body["network_acl"]["name"],
        body["network_acl"]["associated_subnets"],
        body["network_acl"]["revision_number"],
    ) == ("n", [first["id"]], 2)
    await p1.fails(
        "PUT",
        f"{ACLS}/{acl['id']}",
        {"network_acl": {"vpc_id": vpc["id"]}},
        status=400,
        error="HTTPBadRequest",
    )
    await p1.fails(
        "PUT",
        f"{ACLS}/{acl['id']}",
        {"network_acl": {"name": "m"}},
        headers={"If-Match": "revision_number=1"},
        status=412,
        error="RevisionNumberConstraintFailed",
    )


async def test_acl_with_subnets_cannot_be_deleted(p1, vpc):
    """DELETE with associated subnets is 409 NetworkAclInUse; after clearing, rules go too."""
    first, _ = vpc["subnets"]
    acl = await _acl(p1, vpc["id"], associated_subnets=[first["id"]])
    rule = await _rule(p1, acl["id"], 100)
    await p1.fails("DELETE", f"{ACLS}/{acl['id']}", status=409, error="NetworkAclInUse")
    await p1.ok("PUT", f"{ACLS}/{acl['id']}", {"network_acl": {"associated_subnets": []}})
    await p1.ok("DELETE", f"{ACLS}/{acl['id']}", status=204)
    reply = await p1.fails("GET", f"{ACLS}/{acl['id']}", status=404, error="NetworkAclNotFound")
    assert reply.message == f"Network ACL {acl['id']} could not be found."
    await p1.fails("GET", f"{RULES}/{rule['id']}", status=404, error="NetworkAclRuleNotFound")
    assert (await p1.get(RULES))["network_acl_rules"] == []


async def test_subnet_and_network_deletes_clean_up_acls(p1, vpc):
    """Deleting a subnet drops its association; deleting the network deletes its ACLs."""
    first, second = vpc["subnets"]
    acl = await _acl(p1, vpc["id"], associated_subnets=[first["id"], second["id"]])
    await p1.ok("DELETE", f"/v2.0/subnets/{first['id']}", status=204)
    shown = (await p1.get(f"{ACLS}/{acl['id']}"))["network_acl"]
    assert (shown["associated_subnets"], shown["revision_number"]) == ([second["id"]], 2)
    await p1.ok("DELETE", f"/v2.0/networks/{vpc['id']}", status=204)
    await p1.fails("GET", f"{ACLS}/{acl['id']}", status=404, error="NetworkAclNotFound")
    assert (await p1.get(RULES))["network_acl_rules"] == []


async def test_acls_are_native_only(p1, vpc):
    """ACLs have no /v2.0 form and no extension entry."""
    await p1.fails("GET", "/v2.0/network-acls", status=404, error="HTTPNotFound")
    aliases = {e["alias"] for e in (await p1.get("/v2.0/extensions"))["extensions"]}
    assert not any("acl" in alias for alias in aliases)


# ---- rules --------------------------------------------------------------------------------


async def test_rule_create_matches_the_spec_example(p1, vpc):
    """A rule is returned in full with canonical ether_type; the ACL's revision follows."""
    acl = await _acl(p1, vpc["id"])
    rule = await _rule(
        p1,
        acl["id"],
        100,
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        ip_prefix="10.0.0.0/8",
        ether_type="ipv4",
    )
    assert rule == {
        "id": rule["id"],
        "name": "",
        "description": "",
        "project_id": "p1",
        "tenant_id": "p1",
        "network_acl_id": acl["id"],
        "number": 100,
        "direction": "ingress",
        "ether_type": "IPv4",
        "protocol": "tcp",
        "ip_prefix": "10.0.0.0/8",
        "port_range_min": 22,
        "port_range_max": 22,
        "icmp_type": None,
        "icmp_code": None,
        "action": "allow",
        "revision_number": 1,
        "created_at": rule["created_at"],
        "updated_at": rule["updated_at"],
    }
    shown = (await p1.get(f"{ACLS}/{acl['id']}"))["network_acl"]
    assert shown["revision_number"] == 2
    assert [r["number"] for r in shown["network_acl_rules"]] == [100] + [32767] * 4


async def test_rule_defaults_follow_the_ether_type(p1, vpc):
    """protocol defaults to all; ip_prefix to 0.0.0.0/0 or ::/0; only min port means one."""
    acl = await _acl(p1, vpc["id"])
    v4 = await _rule(p1, acl["id"], 10)
    v6 = await _rule(p1, acl["id"], 20, ether_type="IPv6", direction="egress", action="deny")
    one = await _rule(p1, acl["id"], 30, protocol="UDP", port_range_min=53)
    assert (v4["protocol"], v4["ip_prefix"], v6["ip_prefix"]) == ("all", "0.0.0.0/0", "::/0")
    assert (one["protocol"], one["port_range_max"]) == ("udp", 53)


async def test_rule_numbers_are_unique_per_acl(p1, vpc):
    """The same number twice in one ACL is 409 NetworkAclRuleExists; other ACLs may reuse it."""
    first, second = await _acl(p1, vpc["id"]), await _acl(p1, vpc["id"])
    await _rule(p1, first["id"], 100)
    reply = await p1.fails(
        "POST",
        RULES,
        {
            "network_acl_rule": {
                "network_acl_id": first["id"],
                "number": 100,
                "direction": "egress",
                "action": "deny",
            }
        },
        status=409,
        error="NetworkAclRuleExists",
    )
    assert reply.message == (
        f"Network ACL rule number 100 already exists in network ACL {first['id']}."
    )
    await _rule(p1, second["id"], 100)


@pytest.mark.parametrize(
    "attrs",
    [
        {"number": 0},
        {"number": 32767},
        {"number": 40000},
        {"protocol": "icmpv6"},
        {"ip_prefix": "fd00::/64"},
        {"ether_type": "IPv6", "ip_prefix": "10.0.0.0/8"},
        {"protocol": "icmp", "port_range_min": 1, "port_range_max": 2},
        {"protocol": "all", "port_range_min": 80},
        {"protocol": "tcp", "port_range_min": 0},
        {"protocol": "tcp", "port_range_min": 10, "port_range_max": 65536},
        {"protocol": "udp", "port_range_min": 20, "port_range_max": 10},
        {"protocol": "udp", "port_range_max": 10},
        {"protocol": "tcp", "icmp_type": 8},
        {"protocol": "all", "icmp_code": 0},
        {"protocol": "icmp", "icmp_type": 256},
        {"protocol": "icmpv6", "ether_type": "IPv6", "icmp_code": -1},
    ],
    ids=lambda a: ",".join(f"{k}={v}" for k, v in a.items()),
)
async def test_rule_validation_failures_are_invalid_input(p1, vpc, attrs):
    """Every semantic rule failure is 400 InvalidInput (not 412 as in the original)."""
    acl = await _acl(p1, vpc["id"])
    body = {
        "network_acl_id": acl["id"],
        "number": 100,
        "direction": "ingress",
        "action": "allow",
        **attrs,
    }
    await p1.fails("POST", RULES, {"network_acl_rule": body}, status=400, error="InvalidInput")


@pytest.mark.parametrize(
    "attrs",
    [
        {"direction": "up"},
        {"action": "maybe"},
        {"protocol": "gre"},
        {"ether_type": "IPv5"},
        {"ip_prefix": "10.0.0.1/8"},
        {"number": "one"},
        {"tags": []},
    ],
)
async def test_rule_type_errors_are_bad_request(p1, vpc, attrs):
    """Wrong types, unknown enum values and unknown attributes are 400 HTTPBadRequest."""
    acl = await _acl(p1, vpc["id"])
    body = {
        "network_acl_id": acl["id"],
        "number": 100,
        "direction": "ingress",
        "action": "allow",
        **attrs,
    }
    await p1.fails("POST", RULES, {"network_acl_rule": body}, status=400, error="HTTPBadRequest")


async def test_icmp_rules_take_type_and_code(p1, vpc):
    """icmp/icmpv6 rules carry type and code 0-255."""
    acl = await _acl(p1, vpc["id"])
    rule = await _rule(p1, acl["id"], 5, protocol="icmp", icmp_type=8, icmp_code=0)
    v6 = await _rule(p1, acl["id"], 6, protocol="icmpv6", ether_type="IPv6", icmp_type=128)
    assert (rule["icmp_type"], rule["icmp_code"], v6["icmp_type"], v6["icmp_code"]) == (
        8,
        0,
        128,
        None,
    )


async def test_rule_update(p1, vpc):
    """PUT revalidates the merged rule, keeps numbers unique and follows ether_type changes."""
    acl = await _acl(p1, vpc["id"])
    rule = await _rule(p1, acl["id"], 100, protocol="tcp", port_range_min=80)
    await _rule(p1, acl["id"], 200)
    path = f"{RULES}/{rule['id']}"
    body = await p1.ok("PUT", path, {"network_acl_rule": {"action": "deny", "number": 150}})
    assert (
        body["network_acl_rule"]["action"],
        body["network_acl_rule"]["number"],
        body["network_acl_rule"]["revision_number"],
    ) == ("deny", 150, 2)
    await p1.fails(
        "PUT", path, {"network_acl_rule": {"number": 200}}, status=409, error="NetworkAclRuleExists"
    )
    await p1.fails(
        "PUT", path, {"network_acl_rule": {"protocol": "icmp"}}, status=400, error="InvalidInput"
    )
    body = await p1.ok(
        "PUT",
        path,
        {
            "network_acl_rule": {
                "protocol": "all",
                "port_range_min": None,
                "port_range_max": None,
                "ether_type": "IPv6",
            }
        },
    )
    assert (body["network_acl_rule"]["ether_type"], body["network_acl_rule"]["ip_prefix"]) == (
        "IPv6",
        "::/0",
    )
    await p1.fails(
        "PUT",
        path,
        {"network_acl_rule": {"ether_type": "IPv4", "ip_prefix": "fd00::/8"}},
        status=400,
        error="InvalidInput",
    )
    await p1.fails(
        "PUT",
        path,
        {"network_acl_rule": {"network_acl_id": acl["id"]}},
        status=400,
        error="HTTPBadRequest",
    )
    await p1.fails(
        "PUT",
        path,
        {"network_acl_rule": {"action": "allow"}},
        headers={"If-Match": "revision_number=1"},
        status=412,
        error="RevisionNumberConstraintFailed",
    )
    await p1.ok("DELETE", path, status=204)


async def test_rule_lists_filter_sort_and_page(p1, vpc):
    """Rule lists are wrapped, filterable, sortable and paginated with links."""
    acl = await _acl(p1, vpc["id"])
    for number in (300, 100, 200):
        await _rule(p1, acl["id"], number)
    body = await p1.get(
        f"{RULES}?network_acl_id={acl['id']}&sort_key=number&limit=2&fields=number&fields=id"
    )
    assert [r["number"] for r in body["network_acl_rules"]] == [100, 200]
    assert body["network_acl_rules_links"][0]["rel"] == "next"
    only = await p1.get(f"{RULES}?number=300")
    assert [r["number"] for r in only["network_acl_rules"]] == [300]
    await p1.fails("GET", f"{RULES}?colour=red", status=400, error="HTTPBadRequest")
    acls = await p1.get(ACLS)
    assert [a["id"] for a in acls["network_acls"]] == [acl["id"]]


# ---- bulk ---------------------------------------------------------------------------------


async def test_bulk_create_is_all_or_nothing(p1, vpc):
    """POST …/bulk creates every item or none."""
    body = await p1.ok(
        "POST",
        f"{ACLS}/bulk",
        {"network_acls": [{"vpc_id": vpc["id"], "name": "a"}, {"vpc_id": vpc["id"], "name": "b"}]},
        201,
    )
    a, b = body["network_acls"]
    item = {"network_acl_id": a["id"], "direction": "ingress", "action": "allow"}
    await p1.fails(
        "POST",
        f"{RULES}/bulk",
        {
            "network_acl_rules": [
                {**item, "number": 1},
                {**item, "number": 2},
                {**item, "number": 1},
            ]
        },
        status=409,
        error="NetworkAclRuleExists",
    )
    assert (await p1.get(f"{RULES}?network_acl_id={a['id']}&number=1"))["network_acl_rules"] == []
    created = await p1.ok(
        "POST",
        f"{RULES}/bulk",
        {
            "network_acl_rules": [
                {**item, "number": 1},
                {**item, "number": 1, "network_acl_id": b["id"]},
            ]
        },
        201,
    )
    assert len(created["network_acl_rules"]) == 2
    await p1.fails(
        "POST",
        f"{ACLS}/bulk",
        {"network_acl": {"vpc_id": vpc["id"]}},
        status=400,
        error="HTTPBadRequest",
    )


async def test_bulk_update_is_all_or_nothing(p1, vpc):
    """PUT …/bulk applies each item by id as a single PUT, atomically."""
    first, second = vpc["subnets"]
    a, b = await _acl(p1, vpc["id"], name="a"), await _acl(p1, vpc["id"], name="b")
    reply = await p1.call(
        "PUT",
        f"{ACLS}/bulk",
        {
            "network_acls": [
                {"id": a["id"], "associated_subnets": [first["id"]]},
                {"id": b["id"], "associated_subnets": [first["id"]]},
            ]
        },
    )
    assert (reply.status, reply.error) == (409, "NetworkAclInUse")
    assert (await p1.get(f"{ACLS}/{a['id']}"))["network_acl"]["associated_subnets"] == []
    body = await p1.ok(
        "PUT",
        f"{ACLS}/bulk",
        {
            "network_acls": [
                {"id": a["id"], "associated_subnets": [first["id"]]},
                {"id": b["id"], "associated_subnets": [second["id"]], "name": "bb"},
            ]
        },
    )
    assert [(x["name"], x["associated_subnets"]) for x in body["network_acls"]] == [
        ("a", [first["id"]]),
        ("bb", [second["id"]]),
    ]
    r1, r2 = await _rule(p1, a["id"], 10), await _rule(p1, a["id"], 20)
    await p1.fails(
        "PUT",
        f"{RULES}/bulk",
        {"network_acl_rules": [{"id": r1["id"], "action": "deny"}, {"id": r2["id"], "number": 0}]},
        status=400,
        error="InvalidInput",
    )
    assert (await p1.get(f"{RULES}/{r1['id']}"))["network_acl_rule"]["action"] == "allow"
    body = await p1.ok(
        "PUT",
        f"{RULES}/bulk",
        {"network_acl_rules": [{"id": r1["id"], "number": 20}, {"id": r2["id"], "number": 10}]},
    )
    assert body == {"network_acl_rules": body["network_acl_rules"]}
    await p1.fails(
        "PUT",
        f"{RULES}/bulk",
        {"network_acl_rules": [{"id": r1["id"], "number": 20}, {"id": r2["id"], "number": 20}]},
        status=409,
        error="NetworkAclRuleExists",
    )
    await p1.fails(
        "PUT",
        f"{RULES}/bulk",
        {"network_acl_rules": [{"action": "deny"}]},
        status=400,
        error="HTTPBadRequest",
    )


# ---- isolation and policy -----------------------------------------------------------------


async def test_acls_are_isolated_between_projects(admin, p1, p2, vpc):
    """Another project's ACLs and rules are 404; its native path is 403."""
    acl = await _acl(p1, vpc["id"])
    rule = await _rule(p1, acl["id"], 100)
    assert (await p2.get("/project/p2/network-acls"))["network_acls"] == []
    assert (await p2.get("/project/p2/network-acl-rules"))["network_acl_rules"] == []
    for path, error in (
        (f"/project/p2/network-acls/{acl['id']}", "NetworkAclNotFound"),
        (f"/project/p2/network-acl-rules/{rule['id']}", "NetworkAclRuleNotFound"),
    ):
        await p2.fails("GET", path, status=404, error=error)
        await p2.fails("DELETE", path, status=404, error=error)
    await p2.fails(
        "POST",
        "/project/p2/network-acl-rules",
        {
            "network_acl_rule": {
                "network_acl_id": acl["id"],
                "number": 5,
                "direction": "ingress",
                "action": "allow",
            }
        },
        status=404,
        error="NetworkAclNotFound",
    )
    await p2.fails("GET", ACLS, status=403, error="PolicyNotAuthorized")
    await p2.fails(
        "POST",
        ACLS,
        {"network_acl": {"vpc_id": vpc["id"]}},
        status=403,
        error="PolicyNotAuthorized",
    )
    reader = admin.as_("p1", "reader")
    assert [a["id"] for a in (await reader.get(ACLS))["network_acls"]] == [acl["id"]]
    await reader.fails(
        "POST",
        ACLS,
        {"network_acl": {"vpc_id": vpc["id"]}},
        status=403,
        error="PolicyNotAuthorized",
    )
    await reader.fails(
        "POST",
        RULES,
        {
            "network_acl_rule": {
                "network_acl_id": acl["id"],
                "number": 5,
                "direction": "ingress",
                "action": "allow",
            }
        },
        status=403,
        error="PolicyNotAuthorized",
    )


async def test_acl_routes_are_in_openapi(p1):
    """/openapi.json lists the ACL paths with their schemas."""
    doc = await p1.get("/openapi.json")
    for path in (
        "/project/{project_id}/network-acls",
        "/project/{project_id}/network-acls/bulk",
        "/project/{project_id}/network-acl-rules/{id}",
    ):
        assert path in doc["paths"]
    assert set(doc["paths"]["/project/{project_id}/network-acls/bulk"]) == {"post", "put"}
    assert "network_acl_rule_create" in doc["components"]["schemas"]


async def test_client_supplied_acl_ids_must_be_new(p1, vpc):
    """A client-supplied ACL or rule id already in use is 409 Conflict."""
    wanted = "88888888-8888-4888-8888-888888888888"
    acl = await _acl(p1, vpc["id"], id=wanted)
    await p1.fails(
        "POST",
        ACLS,
        {"network_acl": {"vpc_id": vpc["id"], "id": wanted}},
        status=409,
        error="Conflict",
    )
    rule = await _rule(p1, acl["id"], 1, id="8a8a8a8a-8a8a-4a8a-8a8a-8a8a8a8a8a8a")
    await p1.fails(
        "POST",
        RULES,
        {
            "network_acl_rule": {
                "network_acl_id": acl["id"],
                "number": 2,
                "direction": "egress",
                "action": "deny",
                "id": rule["id"],
            }
        },
        status=409,
        error="Conflict",
    )
