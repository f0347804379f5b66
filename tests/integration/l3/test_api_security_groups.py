"""Security groups and rules over HTTP (northbound §7), with their port interplay (§5.1)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.l3.support import Api

SGS = "/v2.0/security-groups"
RULES = "/v2.0/security-group-rules"
DEFAULT_RULES = [
    ("egress", "IPv4", False),
    ("egress", "IPv6", False),
    ("ingress", "IPv4", True),
    ("ingress", "IPv6", True),
]


def _shape(group: dict) -> list[tuple[str, str, bool]]:
    """(direction, ethertype, references itself) of each rule, sorted."""
    return sorted(
        (r["direction"], r["ethertype"], r["remote_group_id"] == group["id"])
        for r in group["security_group_rules"]
    )


async def _groups(api: Api) -> list[dict]:
    return (await api.get(SGS))["security_groups"]


# ---- the default group --------------------------------------------------------------------


async def test_first_list_creates_the_default_group_with_neutron_rules(p1):
    """A project's first SG list creates `default` with 2 egress and 2 same-group ingress rules."""
    [group] = await _groups(p1)
    assert (group["name"], group["description"]) == ("default", "Default security group")
    assert group["project_id"] == group["tenant_id"] == "p1"
    assert _shape(group) == sorted(DEFAULT_RULES)
    for rule in group["security_group_rules"]:
        assert (
            rule["protocol"],
            rule["port_range_min"],
            rule["port_range_max"],
            rule["remote_ip_prefix"],
        ) == (None, None, None, None)
        assert rule["project_id"] == rule["tenant_id"] == "p1"
    assert [g["id"] for g in await _groups(p1)] == [group["id"]]


@pytest.mark.parametrize("first_use", ["network", "port", "group", "rule_list", "rule_show"])
async def test_default_group_is_created_on_first_use(admin, p1, first_use):
    """Network, port and SG creates and rule lists/shows create the default group once."""
    if first_use == "network":
        await p1.network()
    elif first_use == "port":
        network = await admin.network(shared=True)
        await p1.port(network["id"])
    elif first_use == "group":
        await p1.sg(name="web")
    elif first_use == "rule_list":
        await p1.get(RULES)
    else:
        await p1.fails(
            "GET",
            f"{RULES}/66666666-6666-4666-8666-666666666666",
            status=404,
            error="SecurityGroupRuleNotFound",
        )
    rows = (await admin.get(f"{SGS}?project_id=p1&name=default"))["security_groups"]
    assert len(rows) == 1


async def test_concurrent_first_uses_create_one_default_group(p1):
    """Parallel first requests still leave exactly one default group."""
    await asyncio.gather(*(p1.get(SGS) for _ in range(5)), *(p1.get(RULES) for _ in range(5)))
    assert [g["name"] for g in await _groups(p1)] == ["default"]


async def test_new_port_gets_the_default_group(p1):
    """A port with port security and an IP gets the project's default group."""
    network, _ = await p1.lan("10.0.0.0/24")
    port = await p1.port(network["id"])
    [default] = await _groups(p1)
    assert port["security_groups"] == [default["id"]]
    bare = await p1.port(network["id"], fixed_ips=[])
    assert bare["security_groups"] == []
    insecure = await p1.port(network["id"], port_security_enabled=False)
    assert insecure["security_groups"] == []


async def test_default_group_cannot_be_renamed_or_deleted_by_members(p1):
    """Renaming default is 409 CannotUpdateDefault; a member deleting it 409 CannotRemove."""
    [default] = await _groups(p1)
    path = f"{SGS}/{default['id']}"
    reply = await p1.fails(
        "PUT",
        path,
        {"security_group": {"name": "other"}},
        status=409,
        error="SecurityGroupCannotUpdateDefault",
    )
    assert reply.message == "Updating default security group not allowed."
    body = await p1.ok("PUT", path, {"security_group": {"description": "mine"}})
    assert body["security_group"]["description"] == "mine"
    reply = await p1.fails("DELETE", path, status=409, error="SecurityGroupCannotRemoveDefault")
    assert reply.message == "Insufficient rights for removing default security group."


async def test_admin_may_delete_an_unused_default_group_which_comes_back(admin, p1):
    """An admin deletes an unused default group; the next use recreates it."""
    [default] = await _groups(p1)
    await admin.ok("DELETE", f"{SGS}/{default['id']}", status=204)
    [again] = await _groups(p1)
    assert again["name"] == "default" and again["id"] != default["id"]


async def test_naming_a_group_default_is_conflict(p1):
    """`default` in any case on create or rename is 409 SecurityGroupDefaultAlreadyExists."""
    reply = await p1.fails(
        "POST",
        SGS,
        {"security_group": {"name": "DeFault"}},
        status=409,
        error="SecurityGroupDefaultAlreadyExists",
    )
    assert reply.message == "Default security group already exists."
    group = await p1.sg(name="web")
    await p1.fails(
        "PUT",
        f"{SGS}/{group['id']}",
        {"security_group": {"name": "default"}},
        status=409,
        error="SecurityGroupDefaultAlreadyExists",
    )


# ---- groups -------------------------------------------------------------------------------


async def test_new_group_has_two_egress_rules(p1):
    """A new group comes with egress IPv4 and IPv6 any rules, in creation order."""
    group = await p1.sg(name="web", description="http in", tags=["t"])
    assert (group["name"], group["description"], group["tags"]) == ("web", "http in", ["t"])
    rules = group["security_group_rules"]
    assert [(r["direction"], r["ethertype"], r["security_group_id"]) for r in rules] == [
        ("egress", "IPv4", group["id"]),
        ("egress", "IPv6", group["id"]),
    ]
    assert all(set(r) >= {"tenant_id", "revision_number", "created_at"} for r in rules)
    assert "seq" not in rules[0] and "normalized" not in rules[0]


async def test_group_body_rejects_unsupported_attributes(admin):
    """Rules in a create body and `shared` (RBAC policies share groups) are 400 (an empty
    list of rules is ignored on native paths only)."""
    for attrs in ({"security_group_rules": []}, {"shared": False}):
        await admin.fails(
            "POST",
            SGS,
            {"security_group": {"name": "x", **attrs}},
            status=400,
            error="HTTPBadRequest",
        )
    created = await admin.ok(
        "POST",
        "/project/p1/security-groups",
        {"security_group": {"name": "x", "security_group_rules": []}},
        201,
    )
    assert created["security_group"]["project_id"] == "p1"
    await admin.fails(
        "POST",
        "/project/p1/security-groups",
        {"security_group": {"name": "y", "security_group_rules": [{"direction": "ingress"}]}},
        status=400,
        error="HTTPBadRequest",
    )


async def test_group_in_use_by_a_port_cannot_be_deleted(p1):
    """DELETE of a group used by a port is 409 SecurityGroupInUse until the port lets go."""
    network, _ = await p1.lan("10.0.0.0/24")
    group = await p1.sg(name="web")
    port = await p1.port(network["id"], security_groups=[group["id"]])
    reply = await p1.fails("DELETE", f"{SGS}/{group['id']}", status=409, error="SecurityGroupInUse")
    assert reply.message == f"Security Group {group['id']} in use."
    await p1.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"security_groups": []}})
    await p1.ok("DELETE", f"{SGS}/{group['id']}", status=204)
    await p1.fails("GET", f"{SGS}/{group['id']}", status=404, error="SecurityGroupNotFound")


async def test_deleting_a_group_removes_rules_that_reference_it(p1):
    """Rules of other groups whose remote_group_id is the deleted group go with it."""
    web, db = await p1.sg(name="web"), await p1.sg(name="db")
    rule = await p1.rule(db["id"], protocol="tcp", port_range_min=5432, remote_group_id=web["id"])
    revision = (await p1.get(f"{SGS}/{db['id']}"))["security_group"]["revision_number"]
    await p1.ok("DELETE", f"{SGS}/{web['id']}", status=204)
    await p1.fails("GET", f"{RULES}/{rule['id']}", status=404, error="SecurityGroupRuleNotFound")
    after = (await p1.get(f"{SGS}/{db['id']}"))["security_group"]
    assert len(after["security_group_rules"]) == 2
    assert after["revision_number"] == revision + 1


async def test_unknown_group_is_security_group_not_found(p1):
    """A missing group is 404 SecurityGroupNotFound with Neutron's text (not 412)."""
    missing = "55555555-5555-4555-8555-555555555555"
    reply = await p1.fails("GET", f"{SGS}/{missing}", status=404, error="SecurityGroupNotFound")
    assert reply.message == f"Security group {missing} does not exist"
    await p1.fails("DELETE", f"{SGS}/{missing}", status=404, error="SecurityGroupNotFound")
    await p1.fails(
        "POST",
        RULES,
        {"security_group_rule": {"security_group_id": missing, "direction": "ingress"}},
        status=404,
        error="SecurityGroupNotFound",
    )


async def test_bulk_group_create_is_all_or_nothing(p1):
    """A bulk create with one bad item creates nothing."""
    await p1.fails(
        "POST",
        SGS,
        {"security_groups": [{"name": "a"}, {"name": "default"}]},
        status=409,
        error="SecurityGroupDefaultAlreadyExists",
    )
    assert [g["name"] for g in await _groups(p1)] == ["default"]
    body = await p1.ok(
        "POST",
        "/project/p1/security-groups/bulk",
        {"security_groups": [{"name": "a"}, {"name": "b"}]},
        201,
    )
    assert [g["name"] for g in body["security_groups"]] == ["a", "b"]


# ---- rules: create, show, update, delete --------------------------------------------------


async def test_rule_create_returns_the_neutron_shape_and_bumps_the_group(p1):
    """A rule is returned in full; the group's revision and rule list follow."""
    group = await p1.sg(name="web")
    rule = await p1.rule(
        group["id"],
        protocol="tcp",
        port_range_min=80,
        port_range_max=80,
        remote_ip_prefix="0.0.0.0/0",
    )
    assert rule == {
        "id": rule["id"],
        "security_group_id": group["id"],
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp",
        "port_range_min": 80,
        "port_range_max": 80,
        "remote_ip_prefix": "0.0.0.0/0",
        "remote_group_id": None,
        "remote_address_group_id": None,
        "normalized_cidr": "0.0.0.0/0",
        "description": "",
        "project_id": "p1",
        "tenant_id": "p1",
        "revision_number": 1,
        "created_at": rule["created_at"],
        "updated_at": rule["updated_at"],
    }
    after = (await p1.get(f"{SGS}/{group['id']}"))["security_group"]
    assert after["revision_number"] == group["revision_number"] + 1
    assert after["security_group_rules"][-1]["id"] == rule["id"]
    assert (await p1.get(f"{RULES}/{rule['id']}"))["security_group_rule"] == rule


async def test_rule_update_changes_only_the_description(p1):
    """PUT on a rule accepts description; every other attribute is read-only (400)."""
    group = await p1.sg(name="web")
    rule = await p1.rule(group["id"], protocol="udp")
    body = await p1.ok(
        "PUT", f"{RULES}/{rule['id']}", {"security_group_rule": {"description": "dns"}}
    )
    assert body["security_group_rule"]["description"] == "dns"
    assert body["security_group_rule"]["revision_number"] == 2
    reply = await p1.fails(
        "PUT",
        f"{RULES}/{rule['id']}",
        {"security_group_rule": {"protocol": "tcp"}},
        status=400,
        error="HTTPBadRequest",
    )
    assert reply.message == "Cannot update read-only attribute protocol"


async def test_rule_delete_bumps_the_group_and_is_404_after(p1):
    """Deleting a rule bumps its group; the rule is then 404 SecurityGroupRuleNotFound."""
    group = await p1.sg(name="web")
    rule = await p1.rule(group["id"], protocol="udp")
    before = (await p1.get(f"{SGS}/{group['id']}"))["security_group"]["revision_number"]
    await p1.ok("DELETE", f"{RULES}/{rule['id']}", status=204)
    after = (await p1.get(f"{SGS}/{group['id']}"))["security_group"]["revision_number"]
    assert after == before + 1
    reply = await p1.fails(
        "DELETE", f"{RULES}/{rule['id']}", status=404, error="SecurityGroupRuleNotFound"
    )
    assert reply.message == f"Security group rule {rule['id']} does not exist"


async def test_rule_list_filters(p1):
    """Rules filter by group, direction and protocol."""
    group = await p1.sg(name="web")
    rule = await p1.rule(group["id"], protocol="tcp", port_range_min=22)
    listed = await p1.get(f"{RULES}?security_group_id={group['id']}&direction=ingress")
    assert [r["id"] for r in listed["security_group_rules"]] == [rule["id"]]
    assert (
        len((await p1.get(f"{RULES}?security_group_id={group['id']}"))["security_group_rules"]) == 3
    )
    await p1.fails("GET", f"{RULES}?colour=red", status=400, error="HTTPBadRequest")


# ---- rule validation (§7.3), row by row ---------------------------------------------------


@pytest.mark.parametrize(
    "attrs",
    [
        {"protocol": "tcp", "port_range_min": 0, "port_range_max": 10},
        {"protocol": "udp", "port_range_min": 1, "port_range_max": 65536},
        {"protocol": "6", "port_range_min": 70000},
        {"protocol": 17, "port_range_min": -1},
    ],
    ids=["tcp-zero", "udp-too-big", "6-min-too-big", "17-negative"],
)
async def test_port_protocol_ports_must_be_1_to_65535(p1, attrs):
    """tcp/udp/udplite/sctp/dccp ports outside 1-65535 are 400 SecurityGroupInvalidPortValue."""
    group = await p1.sg(name="g")
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                **attrs,
            }
        },
        status=400,
        error="SecurityGroupInvalidPortValue",
    )


@pytest.mark.parametrize(
    "protocol", ["tcp", "udp", "udplite", "sctp", "dccp", "6", "17", "136", "132", "33"]
)
async def test_port_protocols_accept_ranges_and_refuse_inverted_ones(p1, protocol):
    """Port protocols take min ≤ max; min > max is 400 SecurityGroupInvalidPortRange."""
    group = await p1.sg(name="g")
    rule = await p1.rule(group["id"], protocol=protocol, port_range_min=1000, port_range_max=2000)
    assert (rule["protocol"], rule["port_range_min"], rule["port_range_max"]) == (
        protocol,
        1000,
        2000,
    )
    reply = await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "egress",
                "protocol": protocol,
                "port_range_min": 2000,
                "port_range_max": 1000,
            }
        },
        status=400,
        error="SecurityGroupInvalidPortRange",
    )
    assert reply.message == "For TCP/UDP protocols, port_range_min must be <= port_range_max"


async def test_only_min_port_means_one_port_and_only_max_is_refused(p1):
    """min alone sets max = min; max alone is 400."""
    group = await p1.sg(name="g")
    rule = await p1.rule(group["id"], protocol="tcp", port_range_min=22)
    assert rule["port_range_max"] == 22
    reply = await p1.call(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "protocol": "tcp",
                "port_range_max": 22,
            }
        },
    )
    assert reply.status == 400


@pytest.mark.parametrize(
    "protocol,ethertype",
    [
        ("icmp", "IPv4"),
        ("1", "IPv4"),
        ("icmp", "IPv6"),
        ("ipv6-icmp", "IPv6"),
        ("icmpv6", "IPv6"),
        ("58", "IPv6"),
    ],
)
async def test_icmp_type_and_code(p1, protocol, ethertype):
    """ICMP rules: type and code 0-255 (256 → InvalidIcmpValue), code without type refused."""
    group = await p1.sg(name="g")
    rule = await p1.rule(
        group["id"], protocol=protocol, ethertype=ethertype, port_range_min=8, port_range_max=0
    )
    assert (rule["port_range_min"], rule["port_range_max"]) == (8, 0)
    only_type = await p1.rule(
        group["id"], direction="egress", protocol=protocol, ethertype=ethertype, port_range_min=3
    )
    assert only_type["port_range_max"] is None
    base = {
        "security_group_id": group["id"],
        "direction": "ingress",
        "protocol": protocol,
        "ethertype": ethertype,
    }
    for ports in ({"port_range_min": 256}, {"port_range_min": 0, "port_range_max": 256}):
        await p1.fails(
            "POST",
            RULES,
            {"security_group_rule": {**base, **ports}},
            status=400,
            error="SecurityGroupInvalidIcmpValue",
        )
    reply = await p1.fails(
        "POST",
        RULES,
        {"security_group_rule": {**base, "port_range_max": 1}},
        status=400,
        error="SecurityGroupMissingIcmpType",
    )
    assert reply.message == (
        "ICMP code (port-range-max) 1 is provided but ICMP type (port-range-min) is missing."
    )


@pytest.mark.parametrize("protocol", ["gre", "esp", "47", None, "any"])
async def test_ports_on_portless_protocols_are_refused(p1, protocol):
    """Other protocols (and any) take no ports: 400 SecurityGroupInvalidProtocolForPort."""
    group = await p1.sg(name="g")
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "protocol": protocol,
                "port_range_min": 1,
                "port_range_max": 2,
            }
        },
        status=400,
        error="SecurityGroupInvalidProtocolForPort",
    )


@pytest.mark.parametrize(
    "protocol",
    [
        "ipv6-icmp",
        "icmpv6",
        "58",
        58,
        "ipv6-encap",
        41,
        "ipv6-route",
        43,
        "ipv6-frag",
        "44",
        "ipv6-nonxt",
        59,
        "ipv6-opts",
        60,
    ],
)
async def test_ipv6_only_protocols_with_ipv4_conflict(p1, protocol):
    """IPv6-only protocols (names and numbers) with IPv4 are 400
    SecurityGroupEthertypeConflictWithProtocol, as in Neutron."""
    group = await p1.sg(name="g")
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "protocol": protocol,
                "ethertype": "IPv4",
            }
        },
        status=400,
        error="SecurityGroupEthertypeConflictWithProtocol",
    )


@pytest.mark.parametrize("protocol", ["foo", 256, "256", -1, "tcp6"])
async def test_unknown_protocols_are_invalid(p1, protocol):
    """Unknown names and numbers outside 0-255 are 400 SecurityGroupRuleInvalidProtocol."""
    group = await p1.sg(name="g")
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "protocol": protocol,
            }
        },
        status=400,
        error="SecurityGroupRuleInvalidProtocol",
    )


async def test_protocols_are_stored_as_given_lowercase_or_numeric_text(p1):
    """Names are lowercased, numbers become strings, `any` means null."""
    group = await p1.sg(name="g")
    assert (await p1.rule(group["id"], protocol="TCP", port_range_min=1))["protocol"] == "tcp"
    assert (await p1.rule(group["id"], protocol=47))["protocol"] == "47"
    assert (await p1.rule(group["id"], protocol="any", ethertype="IPv6"))["protocol"] is None
    assert (await p1.rule(group["id"], protocol=0))["protocol"] == "0"


async def test_remote_prefix_is_normalized_and_must_match_ethertype(p1):
    """remote_ip_prefix is kept as given (canonical text), normalized_cidr is its network
    (security-groups-normalized-cidr, as Neutron; the spec normalized the prefix itself);
    another IP version is 400 ParameterConflict."""
    group = await p1.sg(name="g")
    rule = await p1.rule(group["id"], remote_ip_prefix="10.1.2.3/8")
    assert (rule["remote_ip_prefix"], rule["normalized_cidr"]) == ("10.1.2.3/8", "10.0.0.0/8")
    v6 = await p1.rule(group["id"], ethertype="ipv6", remote_ip_prefix="FD00::1/64")
    assert (v6["ethertype"], v6["remote_ip_prefix"], v6["normalized_cidr"]) == (
        "IPv6",
        "fd00::1/64",
        "fd00::/64",
    )
    reply = await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "egress",
                "ethertype": "IPv4",
                "remote_ip_prefix": "fd00::/64",
            }
        },
        status=400,
        error="SecurityGroupRuleParameterConflict",
    )
    assert reply.message == "Conflicting value ethertype IPv4 for CIDR fd00::/64"
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "egress",
                "remote_ip_prefix": "not-a-cidr",
            }
        },
        status=400,
        error="HTTPBadRequest",
    )


async def test_remote_group_and_prefix_are_exclusive(p1):
    """remote_group_id with remote_ip_prefix is 400 SecurityGroupRemoteGroupAndRemoteIpPrefix."""
    group = await p1.sg(name="g")
    reply = await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "remote_group_id": group["id"],
                "remote_ip_prefix": "10.0.0.0/8",
            }
        },
        status=400,
        error="SecurityGroupRemoteGroupAndRemoteIpPrefix",
    )
    assert reply.message == "Only remote_ip_prefix or remote_group_id may be provided."


async def test_rule_body_type_errors(p1):
    """A bad direction or ethertype, or a missing direction, is 400 HTTPBadRequest."""
    group = await p1.sg(name="g")
    for body in (
        {"direction": "sideways"},
        {"direction": "ingress", "ethertype": "IPv5"},
        {},
        {"direction": "ingress", "port_range_min": "x"},
    ):
        await p1.fails(
            "POST",
            RULES,
            {"security_group_rule": {"security_group_id": group["id"], **body}},
            status=400,
            error="HTTPBadRequest",
        )


# ---- duplicates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first,second",
    [
        (
            {"protocol": "tcp", "port_range_min": 80},
            {"protocol": "6", "port_range_min": 80, "port_range_max": 80},
        ),
        ({"protocol": "udp"}, {"protocol": 17, "description": "other text"}),
        ({"protocol": None}, {"protocol": "any"}),
        ({"remote_ip_prefix": None}, {"remote_ip_prefix": "0.0.0.0/0"}),
        ({"ethertype": "IPv6", "remote_ip_prefix": "::/0"}, {"ethertype": "ipv6"}),
        ({"ethertype": "IPv6", "protocol": "icmp"}, {"ethertype": "IPv6", "protocol": "ipv6-icmp"}),
        ({"ethertype": "IPv6", "protocol": "icmpv6"}, {"ethertype": "IPv6", "protocol": 58}),
        (
            {"ethertype": "IPv6", "protocol": "1", "port_range_min": 128},
            {"ethertype": "IPv6", "protocol": "58", "port_range_min": 128},
        ),
    ],
    ids=[
        "tcp=6",
        "udp=17-description",
        "null=any",
        "null-prefix=/0",
        "v6-/0=null",
        "icmp=ipv6-icmp",
        "icmpv6=58",
        "1=58-under-v6",
    ],
)
async def test_equivalent_rules_are_duplicates(p1, first, second):
    """Equivalent rules are 409 SecurityGroupRuleExists naming the existing rule."""
    group = await p1.sg(name="g")
    rule = await p1.rule(group["id"], **first)
    reply = await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                **second,
            }
        },
        status=409,
        error="SecurityGroupRuleExists",
    )
    assert reply.message == f"Security group rule already exists. Rule id is {rule['id']}."


async def test_similar_but_different_rules_are_not_duplicates(p1):
    """Direction, ethertype, ports, prefixes, ICMP under IPv4 vs IPv6 all distinguish rules."""
    group = await p1.sg(name="g")
    await p1.rule(group["id"], protocol="tcp", port_range_min=80)
    await p1.rule(group["id"], direction="egress", protocol="tcp", port_range_min=80)
    await p1.rule(group["id"], protocol="tcp", port_range_min=81)
    await p1.rule(group["id"], protocol="tcp", port_range_min=80, remote_ip_prefix="10.0.0.0/8")
    await p1.rule(group["id"], protocol="icmp")
    await p1.rule(group["id"], protocol="icmp", ethertype="IPv6")
    other = await p1.sg(name="h")
    await p1.rule(other["id"], protocol="tcp", port_range_min=80)


async def test_default_egress_rules_are_duplicates_of_any_egress(p1):
    """A new group's egress-any rules make an explicit egress-any rule a duplicate."""
    group = await p1.sg(name="g")
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "egress",
                "ethertype": "IPv4",
            }
        },
        status=409,
        error="SecurityGroupRuleExists",
    )


async def test_bulk_rules_with_an_inner_duplicate_create_nothing(p1):
    """A bulk create whose items duplicate each other is 409 and creates no rule."""
    group = await p1.sg(name="g")
    item = {
        "security_group_id": group["id"],
        "direction": "ingress",
        "protocol": "tcp",
        "port_range_min": 443,
    }
    await p1.fails(
        "POST",
        RULES,
        {"security_group_rules": [item, {**item, "protocol": "6"}]},
        status=409,
        error="SecurityGroupRuleExists",
    )
    assert (
        len((await p1.get(f"{SGS}/{group['id']}"))["security_group"]["security_group_rules"]) == 2
    )
    body = await p1.ok(
        "POST", RULES, {"security_group_rules": [item, {**item, "port_range_min": 8443}]}, 201
    )
    assert [r["port_range_min"] for r in body["security_group_rules"]] == [443, 8443]


# ---- isolation and policy -----------------------------------------------------------------


async def test_groups_and_rules_are_isolated_between_projects(p1, p2):
    """Another project's groups and rules are 404; its lists show only its own."""
    group = await p1.sg(name="web")
    rule = await p1.rule(group["id"], protocol="tcp", port_range_min=80)
    assert [g["name"] for g in await _groups(p2)] == ["default"]
    assert rule["id"] not in {r["id"] for r in (await p2.get(RULES))["security_group_rules"]}
    for method, path, body, error in (
        ("GET", f"{SGS}/{group['id']}", None, "SecurityGroupNotFound"),
        ("PUT", f"{SGS}/{group['id']}", {"security_group": {"name": "x"}}, "SecurityGroupNotFound"),
        ("DELETE", f"{SGS}/{group['id']}", None, "SecurityGroupNotFound"),
        ("GET", f"{RULES}/{rule['id']}", None, "SecurityGroupRuleNotFound"),
        (
            "PUT",
            f"{RULES}/{rule['id']}",
            {"security_group_rule": {"description": "x"}},
            "SecurityGroupRuleNotFound",
        ),
        ("DELETE", f"{RULES}/{rule['id']}", None, "SecurityGroupRuleNotFound"),
        (
            "POST",
            RULES,
            {"security_group_rule": {"security_group_id": group["id"], "direction": "ingress"}},
            "SecurityGroupNotFound",
        ),
    ):
        await p2.fails(method, path, body, status=404, error=error)


async def test_remote_group_of_another_project_is_not_found(p1, p2):
    """remote_group_id naming another project's group is 404 SecurityGroupNotFound."""
    theirs = await p2.sg(name="theirs")
    mine = await p1.sg(name="mine")
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": mine["id"],
                "direction": "ingress",
                "remote_group_id": theirs["id"],
            }
        },
        status=404,
        error="SecurityGroupNotFound",
    )


async def test_port_with_another_projects_group_is_not_found(admin, p1, p2):
    """A port may only use groups of its own project: 404 SecurityGroupNotFound."""
    theirs = await p2.sg(name="theirs")
    network, _ = await p1.lan("10.0.0.0/24")
    await p1.fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": network["id"], "security_groups": [theirs["id"]]}},
        status=404,
        error="SecurityGroupNotFound",
    )
    port = await p1.port(network["id"])
    await p1.fails(
        "PUT",
        f"/v2.0/ports/{port['id']}",
        {"port": {"security_groups": [theirs["id"]]}},
        status=404,
        error="SecurityGroupNotFound",
    )


async def test_reader_may_read_but_not_write_groups(admin, p1):
    """The reader role lists groups; creating groups or rules is 403."""
    group = await p1.sg(name="web")
    reader = admin.as_("p1", "reader")
    assert {g["name"] for g in await _groups(reader)} == {"default", "web"}
    await reader.fails(
        "POST", SGS, {"security_group": {"name": "x"}}, status=403, error="PolicyNotAuthorized"
    )
    await reader.fails(
        "POST",
        RULES,
        {"security_group_rule": {"security_group_id": group["id"], "direction": "ingress"}},
        status=403,
        error="PolicyNotAuthorized",
    )
    await reader.fails("DELETE", f"{SGS}/{group['id']}", status=403, error="PolicyNotAuthorized")


async def test_rules_belong_to_their_groups_project(admin, p1):
    """An admin's rule in p1's group belongs to p1; a member naming another project is 400."""
    group = await p1.sg(name="web")
    rule = await admin.rule(group["id"], protocol="tcp", port_range_min=22)
    assert rule["project_id"] == "p1"
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "project_id": "p2",
            }
        },
        status=400,
        error="HTTPBadRequest",
    )


# ---- port security interplay (§5.1) -------------------------------------------------------


async def test_port_security_rules(p1):
    """Groups need port security (not an IP); disabling security needs no groups or pairs."""
    network, _ = await p1.lan("10.0.0.0/24")
    group = await p1.sg(name="web")
    reply = await p1.fails(
        "POST",
        "/v2.0/ports",
        {
            "port": {
                "network_id": network["id"],
                "port_security_enabled": False,
                "security_groups": [group["id"]],
            }
        },
        status=400,
        error="PortSecurityAndIPRequiredForSecurityGroups",
    )
    assert reply.message == (
        "Port security must be enabled and port must have an IP address "
        "in order to use security groups."
    )
    port = await p1.port(network["id"], security_groups=[group["id"]])
    await p1.fails(
        "PUT",
        f"/v2.0/ports/{port['id']}",
        {"port": {"port_security_enabled": False}},
        status=409,
        error="PortSecurityPortHasSecurityGroup",
    )
    body = await p1.ok(
        "PUT",
        f"/v2.0/ports/{port['id']}",
        {"port": {"port_security_enabled": False, "security_groups": []}},
    )
    assert body["port"]["port_security_enabled"] is False


async def test_allowed_address_pair_rules(make_api):
    """Pairs need port security, may not repeat, and are capped."""
    admin = await make_api(**{"port.max_allowed_address_pairs": 2})
    network, _ = await admin.lan("10.0.0.0/24")
    pair = {"ip_address": "10.0.0.100"}
    await admin.fails(
        "POST",
        "/v2.0/ports",
        {
            "port": {
                "network_id": network["id"],
                "port_security_enabled": False,
                "allowed_address_pairs": [pair],
            }
        },
        status=409,
        error="AddressPairAndPortSecurityRequired",
    )
    await admin.fails(
        "POST",
        "/v2.0/ports",
        {
            "port": {
                "network_id": network["id"],
                "allowed_address_pairs": [
                    pair,
                    {"ip_address": "10.0.0.101"},
                    {"ip_address": "10.0.0.102"},
                ],
            }
        },
        status=400,
        error="AllowedAddressPairExhausted",
    )
    mac = "fa:16:3e:00:00:99"
    await admin.fails(
        "POST",
        "/v2.0/ports",
        {
            "port": {
                "network_id": network["id"],
                "mac_address": mac,
                "allowed_address_pairs": [pair, {**pair, "mac_address": mac}],
            }
        },
        status=400,
        error="DuplicateAddressPairInRequest",
    )
    port = await admin.port(network["id"], allowed_address_pairs=[pair])
    assert port["allowed_address_pairs"] == [{**pair, "mac_address": port["mac_address"]}]
    await admin.fails(
        "PUT",
        f"/v2.0/ports/{port['id']}",
        {"port": {"port_security_enabled": False, "security_groups": []}},
        status=409,
        error="AddressPairAndPortSecurityRequired",
    )


async def test_client_ids_tags_and_if_match_on_groups(p1):
    """Groups take client ids (reuse is 409 Conflict), tags, and If-Match (412)."""
    wanted = "56565656-5656-4656-8656-565656565656"
    group = await p1.sg(name="web", id=wanted)
    await p1.fails(
        "POST",
        SGS,
        {"security_group": {"name": "again", "id": wanted}},
        status=409,
        error="Conflict",
    )
    rule = await p1.rule(group["id"], id="66666666-6666-4666-8666-666666666666")
    await p1.fails(
        "POST",
        RULES,
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "egress",
                "protocol": "udp",
                "id": rule["id"],
            }
        },
        status=409,
        error="Conflict",
    )
    await p1.ok("PUT", f"{SGS}/{wanted}/tags/blue", status=201)
    await p1.fails("DELETE", f"{SGS}/{wanted}/tags/red", status=404, error="TagNotFound")
    await p1.fails(
        "PUT",
        f"{SGS}/{wanted}",
        {"security_group": {"name": "x"}},
        headers={"If-Match": "revision_number=1"},
        status=412,
        error="RevisionNumberConstraintFailed",
    )
    await p1.fails(
        "DELETE",
        f"{RULES}/{rule['id']}",
        headers={"If-Match": "revision_number=9"},
        status=412,
        error="RevisionNumberConstraintFailed",
    )
