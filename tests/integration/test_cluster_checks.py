"""Check-then-write steps hold across `alcor serve` processes on one PostgreSQL database.

Each test sends two conflicting writes through two processes in a known interleaving
(tests/cluster.py): with the table they write held (`race`), both have passed their checks,
or one waits on the other's lock, before either writes; where a compare-and-swap on a
parent's revision would catch that one, one request is held at its own row while the other
runs to its end (`race_behind`). Without a lock taken before the check both would succeed.
"""

from __future__ import annotations

import ipaddress
import itertools
import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.cluster import Cluster, call, race, race_behind, start_ahead

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
ADMIN = {"X-Roles": "admin", "X-Project-Id": "p1"}


async def _two(cluster: Cluster, **settings: str) -> list[str]:
    """Start two processes; return their URLs."""
    return [(await cluster.start(**settings)).url for _ in range(2)]


async def _ok(
    url: str, method: str, path: str, body: Any = None, status: int = 200
) -> dict[str, Any]:
    """Send one request as admin, expecting `status`; return the response body."""
    async with aiohttp.ClientSession() as session:
        got, reply = await call(session, url, method, path, body, ADMIN)
    assert got == status, reply
    return dict(reply or {})


async def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create one resource as admin; return the response body."""
    return await _ok(url, "POST", path, body, 201)


async def _network(url: str, cidr: str, **attrs: Any) -> tuple[str, str]:
    """Create a network with one subnet; return their ids."""
    net = (await _post(url, "/v2.0/networks", {"network": attrs}))["network"]
    subnet = {"network_id": net["id"], "cidr": cidr, "ip_version": 4}
    return net["id"], (await _post(url, "/v2.0/subnets", {"subnet": subnet}))["subnet"]["id"]


async def _port(url: str, network_id: str) -> str:
    """Create a port; return its id."""
    return str(
        (await _post(url, "/v2.0/ports", {"port": {"network_id": network_id}}))["port"]["id"]
    )


def _outcome(results: list[tuple[int, Any]]) -> list[tuple[int, str | None]]:
    """Return each result's status and NeutronError type, sorted."""
    return sorted(
        (status, body["NeutronError"]["type"] if status >= 400 else None)
        for status, body in results
    )


async def test_overlapping_metering_rules_of_one_label(cluster: Cluster) -> None:
    """Two overlapping ingress rules of one label through two processes: one is 409."""
    urls = await _two(cluster)
    label = (await _post(urls[0], "/v2.0/metering/metering-labels", {"metering_label": {}}))[
        "metering_label"
    ]
    rules = [
        {
            "metering_label_rule": {
                "metering_label_id": label["id"],
                "direction": "ingress",
                "remote_ip_prefix": prefix,
            }
        }
        for prefix in ("10.0.0.0/24", "10.0.0.128/25")
    ]
    path = "/v2.0/metering/metering-label-rules"
    results = await race(
        cluster.db_url,
        ["metering_label_rules"],
        [(url, "POST", path, body) for url, body in zip(urls, rules, strict=True)],
        ADMIN,
    )
    assert _outcome(results) == [(201, None), (409, "MeteringLabelRuleOverlaps")]


async def test_metering_rule_added_while_its_label_is_deleted(cluster: Cluster) -> None:
    """A rule created through one process while another deletes its label: either the rule
    goes with the label or its create is 404; no rule outlives its label."""
    urls = await _two(cluster)
    labels = "/v2.0/metering/metering-labels"
    label = (await _post(urls[0], labels, {"metering_label": {}}))["metering_label"]
    rule = {
        "metering_label_rule": {
            "metering_label_id": label["id"],
            "direction": "egress",
            "remote_ip_prefix": "10.1.0.0/16",
        }
    }
    rules = "/v2.0/metering/metering-label-rules"
    results = await race(
        cluster.db_url,
        ["metering_label_rules", "metering_labels"],
        [(urls[0], "POST", rules, rule), (urls[1], "DELETE", f"{labels}/{label['id']}", None)],
        ADMIN,
    )
    assert _outcome(results) in (
        [(201, None), (204, None)],
        [(204, None), (404, "MeteringLabelNotFound")],
    )
    async with aiohttp.ClientSession() as session:
        status, body = await call(session, urls[1], "GET", rules, None, ADMIN)
    assert (status, body["metering_label_rules"]) == (200, [])


async def test_overlapping_segment_ranges_of_one_id_space(cluster: Cluster) -> None:
    """A VXLAN and a Geneve range that overlap (the tunnel types share one id space)
    through two processes: one is 409; a range moved onto another by an update, too."""
    urls = await _two(cluster)
    path = "/v2.0/network-segment-ranges"
    ranges = [
        {"network_segment_range": {"network_type": kind, "minimum": low, "maximum": low + 100}}
        for kind, low in (("vxlan", 5000), ("geneve", 5050))
    ]
    results = await race(
        cluster.db_url,
        ["network_segment_ranges"],
        [(url, "POST", path, body) for url, body in zip(urls, ranges, strict=True)],
        ADMIN,
    )
    assert _outcome(results) == [(201, None), (409, "NetworkSegmentRangeOverlaps")]

    made = [
        (await _post(urls[0], path, {"network_segment_range": {**r, "network_type": "vxlan"}}))[
            "network_segment_range"
        ]
        for r in ({"minimum": 7000, "maximum": 7009}, {"minimum": 7100, "maximum": 7109})
    ]
    moves = [
        (url, "PUT", f"{path}/{rng['id']}", {"network_segment_range": {"maximum": 7050}})
        for url, rng in zip(urls, made, strict=True)
    ]
    moves[1] = (*moves[1][:3], {"network_segment_range": {"minimum": 7040}})
    results = await race(cluster.db_url, ["network_segment_ranges"], moves, ADMIN)
    assert _outcome(results) == [(200, None), (409, "NetworkSegmentRangeOverlaps")]


async def test_overlapping_subnet_pools_of_one_address_scope(cluster: Cluster) -> None:
    """Two pools of one address scope with overlapping prefixes through two processes: one
    is 409; a pool joining the scope while the scope is deleted never outlives it."""
    urls = await _two(cluster)
    scopes = "/v2.0/address-scopes"
    scope = (await _post(urls[0], scopes, {"address_scope": {"name": "s", "ip_version": 4}}))[
        "address_scope"
    ]
    pools = [
        {"subnetpool": {"name": "p", "prefixes": [prefix], "address_scope_id": scope["id"]}}
        for prefix in ("10.10.0.0/16", "10.10.128.0/20")
    ]
    results = await race(
        cluster.db_url,
        ["subnetpools"],
        [(url, "POST", "/v2.0/subnetpools", body) for url, body in zip(urls, pools, strict=True)],
        ADMIN,
    )
    assert _outcome(results) == [(201, None), (409, "AddressScopePrefixConflict")]

    other = (await _post(urls[0], scopes, {"address_scope": {"name": "t", "ip_version": 4}}))[
        "address_scope"
    ]
    joining = {"subnetpool": {"prefixes": ["10.20.0.0/16"], "address_scope_id": other["id"]}}
    results = await race(
        cluster.db_url,
        ["subnetpools", "address_scopes"],
        [
            (urls[0], "POST", "/v2.0/subnetpools", joining),
            (urls[1], "DELETE", f"{scopes}/{other['id']}", None),
        ],
        ADMIN,
    )
    assert _outcome(results) in (
        [(201, None), (409, "AddressScopeInUse")],
        [(204, None), (404, "AddressScopeNotFound")],
    )


async def test_two_default_subnet_pools_of_one_ip_version(cluster: Cluster) -> None:
    """Two default IPv4 pools through two processes: one is 400 (one default per version)."""
    urls = await _two(cluster)
    pools = [
        {"subnetpool": {"name": f"d{i}", "prefixes": [f"10.{30 + i}.0.0/16"], "is_default": True}}
        for i in range(2)
    ]
    results = await race(
        cluster.db_url,
        ["subnetpools"],
        [(url, "POST", "/v2.0/subnetpools", body) for url, body in zip(urls, pools, strict=True)],
        ADMIN,
    )
    assert _outcome(results) == [(201, None), (400, "InvalidInput")]


async def test_duplicate_security_group_rules(cluster: Cluster) -> None:
    """The same rule of one group through two processes, the second checked, written and
    committed while the first waits to write its checked rule: the second is 409 (without
    a rule quota, whose lock would serialise the two anyway)."""
    urls = await _two(cluster, ALCOR__QUOTAS__SECURITY_GROUP_RULE="-1")
    group = (await _post(urls[0], "/v2.0/security-groups", {"security_group": {"name": "g"}}))[
        "security_group"
    ]
    rule = {
        "security_group_id": group["id"],
        "direction": "ingress",
        "protocol": "tcp",
        "port_range_min": 22,
        "port_range_max": 22,
    }
    path = "/v2.0/security-group-rules"
    held_id = str(uuid.uuid4())
    results = await race_behind(
        cluster.db_url,
        ("INSERT INTO security_group_rules (id) VALUES ($1)", held_id),
        (urls[0], "POST", path, {"security_group_rule": {**rule, "id": held_id}}),
        (urls[1], "POST", path, {"security_group_rule": rule}),
        ADMIN,
    )
    assert [status for status, _ in results] == [201, 409], results
    assert results[1][1]["NeutronError"]["type"] == "SecurityGroupRuleExists"


async def test_duplicate_default_security_group_rules(cluster: Cluster) -> None:
    """The same rule template through two processes: one is 409."""
    urls = await _two(cluster)
    template = {
        "default_security_group_rule": {
            "direction": "ingress",
            "protocol": "tcp",
            "port_range_min": 443,
            "port_range_max": 443,
        }
    }
    path = "/v2.0/default-security-group-rules"
    results = await race(
        cluster.db_url,
        ["default_security_group_rules"],
        [(url, "POST", path, template) for url in urls],
        ADMIN,
    )
    assert _outcome(results) == [(201, None), (409, "DefaultSecurityGroupRuleExists")]


async def test_two_floating_ips_on_one_fixed_ip(cluster: Cluster) -> None:
    """Two floating IPs of one network associated with one port through two processes:
    one is 409."""
    urls = await _two(cluster)
    public, _ = await _network(urls[0], "203.0.113.0/24", **{"router:external": True})
    private, subnet = await _network(urls[0], "10.0.0.0/24")
    router = (
        await _post(
            urls[0], "/v2.0/routers", {"router": {"external_gateway_info": {"network_id": public}}}
        )
    )["router"]
    await _ok(
        urls[0], "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet}
    )
    port = await _port(urls[0], private)
    fips = [
        (
            await _post(
                urls[0], "/v2.0/floatingips", {"floatingip": {"floating_network_id": public}}
            )
        )["floatingip"]
        for _ in urls
    ]
    results = await race(
        cluster.db_url,
        ["floatingips"],
        [
            (url, "PUT", f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": port}})
            for url, fip in zip(urls, fips, strict=True)
        ],
        ADMIN,
    )
    assert _outcome(results) == [(200, None), (409, "FloatingIPPortAlreadyAssociated")]


async def test_acl_rules_renumbered_to_one_number(cluster: Cluster) -> None:
    """Two rules of one network ACL given the same number through two processes, the
    second while the first waits to write: the second is 409."""
    urls = await _two(cluster)
    network, _ = await _network(urls[0], "10.0.1.0/24")
    acls = "/project/p1/network-acls"
    acl = (await _post(urls[0], acls, {"network_acl": {"vpc_id": network}}))["network_acl"]
    rules = [
        (
            await _post(
                urls[0],
                "/project/p1/network-acl-rules",
                {
                    "network_acl_rule": {
                        "network_acl_id": acl["id"],
                        "number": number,
                        "direction": "ingress",
                        "action": "allow",
                    }
                },
            )
        )["network_acl_rule"]
        for number in (10, 20)
    ]
    renumber = {"network_acl_rule": {"number": 30}}
    path = "/project/p1/network-acl-rules"
    results = await race_behind(
        cluster.db_url,
        ("SELECT 1 FROM network_acl_rules WHERE id = $1 FOR UPDATE", rules[0]["id"]),
        (urls[0], "PUT", f"{path}/{rules[0]['id']}", renumber),
        (urls[1], "PUT", f"{path}/{rules[1]['id']}", renumber),
        ADMIN,
    )
    assert [status for status, _ in results] == [200, 409], results
    assert results[1][1]["NeutronError"]["type"] == "NetworkAclRuleExists"


async def test_one_port_as_parent_and_subport_of_two_trunks(cluster: Cluster) -> None:
    """A port made the parent of a new trunk through one process while another adds it to
    a trunk as a subport: one is 409."""
    urls = await _two(cluster)
    network, _ = await _network(urls[0], "10.0.2.0/24")
    port, other = await _port(urls[0], network), await _port(urls[0], network)
    trunk = (await _post(urls[0], "/v2.0/trunks", {"trunk": {"port_id": other}}))["trunk"]
    subport = {"port_id": port, "segmentation_type": "vlan", "segmentation_id": 100}
    results = await race(
        cluster.db_url,
        ["trunks", "trunk_subports"],
        [
            (urls[0], "POST", "/v2.0/trunks", {"trunk": {"port_id": port}}),
            (urls[1], "PUT", f"/v2.0/trunks/{trunk['id']}/add_subports", {"sub_ports": [subport]}),
        ],
        ADMIN,
    )
    assert _outcome(results) in (
        [(200, None), (409, "TrunkPortInUse")],
        [(201, None), (409, "ParentPortInUse")],
    )


async def _segment_indexes(db_url: str, network_id: str) -> list[int]:
    """Return the stored segment indexes of a network, in order."""
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT segment_index FROM network_segments WHERE network_id = $1 "
            "ORDER BY segment_index",
            network_id,
        )
    finally:
        await conn.close()
    return [row[0] for row in rows]


async def test_segments_of_one_network(cluster: Cluster) -> None:
    """Through two processes at once: listing segments writes a network's first segment
    row once; two new segments take distinct indexes; of two segments deleted at once,
    one stays (409: the network's last)."""
    urls = await _two(cluster)
    network, _ = await _network(urls[0], "10.0.3.0/24")
    path = f"/v2.0/segments?network_id={network}"
    results = await race(
        cluster.db_url, ["network_segments"], [(url, "GET", path, None) for url in urls], ADMIN
    )
    assert _outcome(results) == [(200, None), (200, None)]
    assert await _segment_indexes(cluster.db_url, network) == [0]

    held_id = str(uuid.uuid4())
    segment = {"network_id": network}
    results = await race_behind(
        cluster.db_url,
        ("INSERT INTO network_segments (id) VALUES ($1)", held_id),
        (
            urls[0],
            "POST",
            "/v2.0/segments",
            {"segment": {**segment, "id": held_id, "network_type": "vxlan"}},
        ),
        (urls[1], "POST", "/v2.0/segments", {"segment": {**segment, "network_type": "vlan"}}),
        ADMIN,
    )
    assert [status for status, _ in results] == [201, 201], results
    assert await _segment_indexes(cluster.db_url, network) == [0, 1, 2]

    two = {"segments": [{"provider:network_type": kind} for kind in ("vxlan", "vlan")]}
    network = (await _post(urls[0], "/v2.0/networks", {"network": two}))["network"]["id"]
    segments = (await _ok(urls[0], "GET", f"/v2.0/segments?network_id={network}"))["segments"]
    first, second = (f"/v2.0/segments/{s['id']}" for s in segments)
    results = await race_behind(
        cluster.db_url,
        ("SELECT 1 FROM network_segments WHERE id = $1 FOR UPDATE", segments[0]["id"]),
        (urls[0], "DELETE", first, None),
        (urls[1], "DELETE", second, None),
        ADMIN,
    )
    assert [status for status, _ in results] == [204, 409], results
    assert results[1][1]["NeutronError"]["type"] == "SegmentInUse"
    assert len(await _segment_indexes(cluster.db_url, network)) == 1


async def test_subnet_allocated_from_a_pool_being_deleted(cluster: Cluster) -> None:
    """A subnet allocated from a pool through one process while another deletes the pool:
    either the delete is 409 or the allocation 404; no subnet outlives its pool."""
    urls = await _two(cluster)
    pools = "/v2.0/subnetpools"
    pool = (await _post(urls[0], pools, {"subnetpool": {"prefixes": ["10.40.0.0/16"]}}))[
        "subnetpool"
    ]
    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    subnet = {
        "subnet": {
            "network_id": network,
            "subnetpool_id": pool["id"],
            "prefixlen": 24,
            "ip_version": 4,
        }
    }
    results = await race(
        cluster.db_url,
        ["subnets", "subnetpools"],
        [
            (urls[0], "POST", "/v2.0/subnets", subnet),
            (urls[1], "DELETE", f"{pools}/{pool['id']}", None),
        ],
        ADMIN,
    )
    assert _outcome(results) in (
        [(201, None), (409, "SubnetPoolInUse")],
        [(204, None), (404, "SubnetPoolNotFound")],
    )
    subnets = (await _ok(urls[1], "GET", f"/v2.0/subnets?network_id={network}"))["subnets"]
    for made in subnets:
        await _ok(urls[1], "GET", f"{pools}/{made['subnetpool_id']}")


async def test_subnet_allocated_while_its_pool_shrinks_or_onboards(cluster: Cluster) -> None:
    """Through two processes at once: a subnet allocated from a prefix being removed from
    its pool (one of the two is refused), and a subnet allocated over a network's subnet
    being onboarded into the pool (one is refused); the pool never holds a subnet outside
    its prefixes, nor two with one CIDR."""
    urls = await _two(cluster)
    pools = "/v2.0/subnetpools"
    pool = (await _post(urls[0], pools, {"subnetpool": {"prefixes": ["10.50.0.0/16"]}}))[
        "subnetpool"
    ]
    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    subnet = {"network_id": network, "subnetpool_id": pool["id"], "ip_version": 4}
    shrink = {"prefixes": ["10.50.0.0/17"]}
    results = await race(
        cluster.db_url,
        ["subnets", "subnetpools"],
        [
            (urls[0], "POST", "/v2.0/subnets", {"subnet": {**subnet, "cidr": "10.50.1.0/24"}}),
            (urls[1], "PUT", f"{pools}/{pool['id']}/remove_prefixes", shrink),
        ],
        ADMIN,
    )
    assert _outcome(results) in (
        [(200, None), (400, "InvalidInput")],
        [(201, None), (400, "BadRequest")],
    )

    other, _ = await _network(urls[0], "10.50.200.0/24")
    results = await race(
        cluster.db_url,
        ["subnets", "subnetpools"],
        [
            (urls[0], "POST", "/v2.0/subnets", {"subnet": {**subnet, "cidr": "10.50.200.0/24"}}),
            (
                urls[1],
                "PUT",
                f"{pools}/{pool['id']}/onboard_network_subnets",
                {"network_id": other},
            ),
        ],
        ADMIN,
    )
    statuses = sorted(status for status, _ in results)
    assert statuses in ([200, 400], [201, 400]), results
    prefixes = (await _ok(urls[1], "GET", f"{pools}/{pool['id']}"))["subnetpool"]["prefixes"]
    cidrs = [
        s["cidr"]
        for s in (await _ok(urls[1], "GET", f"/v2.0/subnets?subnetpool_id={pool['id']}"))["subnets"]
    ]
    assert len(cidrs) == len(set(cidrs))
    assert all(
        any(ipaddress.ip_network(c).subnet_of(ipaddress.ip_network(p)) for p in prefixes)
        for c in cidrs
    )


async def test_overlapping_subnets_of_one_network(cluster: Cluster) -> None:
    """Two overlapping subnets of one network through two processes, the second checked,
    written and committed while the first waits to write: the second is 400 (the subnet
    quota, whose lock would serialise the two in one project, is off in the cluster)."""
    urls = await _two(cluster)
    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    held_id = str(uuid.uuid4())
    subnets = [
        {"subnet": {"network_id": network, "ip_version": 4, "cidr": cidr}}
        for cidr in ("10.9.0.0/24", "10.9.0.0/25")
    ]
    subnets[0]["subnet"]["id"] = held_id
    results = await race_behind(
        cluster.db_url,
        ("INSERT INTO subnets (id) VALUES ($1)", held_id),
        (urls[0], "POST", "/v2.0/subnets", subnets[0]),
        (urls[1], "POST", "/v2.0/subnets", subnets[1]),
        ADMIN,
    )
    assert [status for status, _ in results] == [201, 400], results
    assert results[1][1]["NeutronError"]["type"] == "InvalidInput"


async def _in_use_race(
    cluster: Cluster,
    tables: list[str],
    use: tuple[str, str, str, Any],
    delete: tuple[str, str],
) -> list[tuple[int, str | None]]:
    """Race a request that refers to an object against the object's delete (`delete`: the
    URL and path); return the outcome (_outcome)."""
    results = await race(
        cluster.db_url, tables, [use, (delete[0], "DELETE", delete[1], None)], ADMIN
    )
    return _outcome(results)


async def test_router_created_with_a_flavor_being_deleted(cluster: Cluster) -> None:
    """A router given a flavor through one process while another deletes the flavor:
    either the delete is 409 or the create 404; no router outlives its flavor."""
    urls = await _two(cluster)
    flavor = (
        await _post(
            urls[0], "/v2.0/flavors", {"flavor": {"name": "f", "service_type": "L3_ROUTER_NAT"}}
        )
    )["flavor"]
    router = {"router": {"flavor_id": flavor["id"]}}
    outcome = await _in_use_race(
        cluster,
        ["routers", "flavors"],
        (urls[0], "POST", "/v2.0/routers", router),
        (urls[1], f"/v2.0/flavors/{flavor['id']}"),
    )
    assert outcome in (
        [(201, None), (409, "FlavorInUse")],
        [(204, None), (404, "FlavorNotFound")],
    )


async def test_profile_bound_to_a_flavor_being_deleted(cluster: Cluster) -> None:
    """A service profile bound to a flavor through one process while another deletes the
    flavor (held after it unbound the flavor's profiles, the binding run to its end): the
    binding is 404, none outlives the flavor; while another deletes the profile: either
    the delete is 409 or the binding 404."""
    urls = await _two(cluster)
    profiles = "/v2.0/service_profiles"
    made = []
    for _ in range(2):
        flavor = {"flavor": {"name": "f", "service_type": "L3_ROUTER_NAT"}}
        profile = {"service_profile": {"metainfo": "{}"}}
        made.append(
            (
                (await _post(urls[0], "/v2.0/flavors", flavor))["flavor"]["id"],
                (await _post(urls[0], profiles, profile))["service_profile"]["id"],
            )
        )
    bind = [
        (
            urls[0],
            "POST",
            f"/v2.0/flavors/{flavor}/service_profiles",
            {"service_profile": {"id": p}},
        )
        for flavor, p in made
    ]
    flavor, profile = made[0]
    results = await race_behind(
        cluster.db_url,
        ("SELECT 1 FROM flavors WHERE id = $1 FOR UPDATE", flavor),
        (urls[1], "DELETE", f"/v2.0/flavors/{flavor}", None),
        bind[0],
        ADMIN,
    )
    assert [status for status, _ in results] == [204, 404], results
    shown = await _ok(urls[1], "GET", f"{profiles}/{profile}")
    assert shown["service_profile"]["flavors"] == []

    outcome = await _in_use_race(
        cluster,
        ["flavor_service_profiles", "service_profiles"],
        bind[1],
        (urls[1], f"{profiles}/{made[1][1]}"),
    )
    assert outcome in (
        [(201, None), (409, "ServiceProfileInUse")],
        [(204, None), (404, "ServiceProfileNotFound")],
    )


async def test_rule_naming_an_address_group_being_deleted(cluster: Cluster) -> None:
    """A security group rule naming an address group through one process while another
    deletes the group: either the delete is 409 or the rule 404."""
    urls = await _two(cluster)
    groups = "/v2.0/address-groups"
    group = (await _post(urls[0], groups, {"address_group": {"addresses": ["10.60.0.0/16"]}}))[
        "address_group"
    ]
    sg = (await _post(urls[0], "/v2.0/security-groups", {"security_group": {"name": "g"}}))[
        "security_group"
    ]
    rule = {
        "security_group_rule": {
            "security_group_id": sg["id"],
            "direction": "ingress",
            "remote_address_group_id": group["id"],
        }
    }
    outcome = await _in_use_race(
        cluster,
        ["security_group_rules", "address_groups"],
        (urls[0], "POST", "/v2.0/security-group-rules", rule),
        (urls[1], f"{groups}/{group['id']}"),
    )
    assert outcome in (
        [(201, None), (409, "AddressGroupInUse")],
        [(204, None), (404, "AddressGroupNotFound")],
    )


async def test_network_and_port_given_a_qos_policy_being_deleted(cluster: Cluster) -> None:
    """A network, then a port, given a QoS policy through one process while another
    deletes the policy: either the delete is 409 or the create 404."""
    urls = await _two(cluster)
    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    creates = [
        ("networks", "/v2.0/networks", {"network": {}}),
        ("ports", "/v2.0/ports", {"port": {"network_id": network}}),
    ]
    outcomes = {}
    for table, path, body in creates:
        policy = (await _post(urls[0], "/v2.0/qos/policies", {"policy": {"name": "q"}}))["policy"]
        kind = next(iter(body))
        use = {kind: {**body[kind], "qos_policy_id": policy["id"]}}
        outcomes[table] = await _in_use_race(
            cluster,
            [table, "qos_policies"],
            (urls[0], "POST", path, use),
            (urls[1], f"/v2.0/qos/policies/{policy['id']}"),
        )
    for table, outcome in outcomes.items():
        assert outcome in (
            [(201, None), (409, "QosPolicyInUse")],
            [(204, None), (404, "QosPolicyNotFound")],
        ), (table, outcomes)


async def test_subnet_created_on_a_segment_being_deleted(cluster: Cluster) -> None:
    """A subnet created on a segment through one process while another deletes the
    segment, checked, written and committed while the subnet waits to write: the delete
    is 409 (both write the network's row, whose compare-and-swap catches a simultaneous
    release)."""
    urls = await _two(cluster)
    two = {"segments": [{"provider:network_type": kind} for kind in ("vxlan", "vlan")]}
    network = (await _post(urls[0], "/v2.0/networks", {"network": two}))["network"]["id"]
    segments = (await _ok(urls[0], "GET", f"/v2.0/segments?network_id={network}"))["segments"]
    held_id = str(uuid.uuid4())
    subnet = {
        "subnet": {
            "network_id": network,
            "id": held_id,
            "segment_id": segments[1]["id"],
            "cidr": "10.70.0.0/24",
            "ip_version": 4,
        }
    }
    results = await race_behind(
        cluster.db_url,
        ("INSERT INTO subnets (id) VALUES ($1)", held_id),
        (urls[0], "POST", "/v2.0/subnets", subnet),
        (urls[1], "DELETE", f"/v2.0/segments/{segments[1]['id']}", None),
        ADMIN,
    )
    assert [status for status, _ in results] == [201, 409], results
    assert results[1][1]["NeutronError"]["type"] == "SegmentInUse"


async def test_group_made_stateless_while_a_port_joins_it(cluster: Cluster) -> None:
    """A port created with two stateful groups through one process while another makes
    one of them stateless: either the change is 409 (the group has a port) or the port is
    (stateful and stateless groups do not mix); no port holds both kinds."""
    urls = await _two(cluster)
    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    groups = [
        (await _post(urls[0], "/v2.0/security-groups", {"security_group": {"name": name}}))[
            "security_group"
        ]["id"]
        for name in ("a", "b")
    ]
    port = {"port": {"network_id": network, "security_groups": groups}}
    stateless = {"security_group": {"stateful": False}}
    results = await race(
        cluster.db_url,
        ["ports", "security_groups"],
        [
            (urls[0], "POST", "/v2.0/ports", port),
            (urls[1], "PUT", f"/v2.0/security-groups/{groups[0]}", stateless),
        ],
        ADMIN,
    )
    assert _outcome(results) in (
        [(201, None), (409, "SecurityGroupInUse")],
        [(200, None), (409, "SecurityGroupConflict")],
    )


async def test_one_port_given_to_a_router_and_taken_meanwhile(cluster: Cluster) -> None:
    """A port given to a router (add_router_interface) through one process while another
    gives it a device, checked free before the other commits and written after: the router
    is refused (409); and one port given to two routers at once goes to one of them."""
    urls = await _two(cluster)
    network, _ = await _network(urls[0], "10.80.0.0/24")
    routers = [
        (await _post(urls[0], "/v2.0/routers", {"router": {}}))["router"]["id"] for _ in urls
    ]
    port = await _port(urls[0], network)
    add = f"/v2.0/routers/{routers[0]}/add_router_interface"
    taken = {"port": {"device_id": "vm-1", "device_owner": "compute:nova"}}
    results = await race_behind(
        cluster.db_url,
        ("LOCK TABLE subnets IN ACCESS EXCLUSIVE MODE",),
        (urls[0], "PUT", add, {"port_id": port}),
        (urls[1], "PUT", f"/v2.0/ports/{port}", taken),
        ADMIN,
    )
    assert [status for status, _ in results] == [409, 200], results
    assert results[0][1]["NeutronError"]["type"] == "PortInUse"
    shown = (await _ok(urls[1], "GET", f"/v2.0/ports/{port}"))["port"]
    assert (shown["device_id"], shown["device_owner"]) == ("vm-1", "compute:nova")

    port = await _port(urls[0], network)
    results = await race(
        cluster.db_url,
        ["ports", "port_security_groups"],
        [
            (url, "PUT", f"/v2.0/routers/{router}/add_router_interface", {"port_id": port})
            for url, router in zip(urls, routers, strict=True)
        ],
        ADMIN,
    )
    assert _outcome(results) == [(200, None), (409, "PortInUse")]


async def test_network_mtu_lowered_while_an_ipv6_subnet_is_added(cluster: Cluster) -> None:
    """An IPv6 subnet added through one process while another lowers its network's MTU
    below 1280, checked, written and committed while the subnet waits to write: the MTU
    change is 409; and the other way round, the subnet (which must read the MTU after the
    change, not before) is 409."""
    urls = await _two(cluster)
    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    held_id = str(uuid.uuid4())
    subnet = {"id": held_id, "network_id": network, "ip_version": 6, "cidr": "fd00:90::/64"}
    results = await race_behind(
        cluster.db_url,
        ("INSERT INTO subnets (id) VALUES ($1)", held_id),
        (urls[0], "POST", "/v2.0/subnets", {"subnet": subnet}),
        (urls[1], "PUT", f"/v2.0/networks/{network}", {"network": {"mtu": 1200}}),
        ADMIN,
    )
    assert [status for status, _ in results] == [201, 409], results
    assert results[1][1]["NeutronError"]["type"] == "NetworkMTUSubnetConflict"

    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    subnet = {"network_id": network, "ip_version": 6, "cidr": "fd00:91::/64"}
    results = await race_behind(
        cluster.db_url,
        ("SELECT 1 FROM networks WHERE id = $1 FOR UPDATE", network),
        (urls[1], "PUT", f"/v2.0/networks/{network}", {"network": {"mtu": 1200}}),
        (urls[0], "POST", "/v2.0/subnets", {"subnet": subnet}),
        ADMIN,
    )
    assert [status for status, _ in results] == [200, 409], results
    assert results[1][1]["NeutronError"]["type"] == "NetworkMTUSubnetConflict"


async def _tunnel_ids(
    db_url: str,
) -> tuple[list[tuple[int, int]], list[int], list[tuple[int, int]]]:
    """Return the tunnel id space's free runs, the ids networks hold and its ranges."""
    conn = await asyncpg.connect(db_url)
    try:
        free = await conn.fetch(
            "SELECT first, last FROM free_ranges WHERE pool = 'segment:tunnel' ORDER BY first"
        )
        held = await conn.fetch("SELECT seg_id FROM segments WHERE kind = 'segment:tunnel'")
        bounds = await conn.fetch(
            "SELECT minimum, maximum FROM network_segment_ranges "
            "WHERE network_type IN ('vxlan', 'geneve', 'gre')"
        )
    finally:
        await conn.close()
    runs = [(int(first, 16), int(last, 16)) for first, last in free]
    return runs, sorted(row[0] for row in held), [(row[0], row[1]) for row in bounds]


async def _assert_tunnel_ids_consistent(db_url: str) -> None:
    """The free tunnel ids are exactly the ids of the ranges that no network holds."""
    runs, held, bounds = await _tunnel_ids(db_url)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(runs)), runs[:5]  # disjoint
    assert not [i for i in held if any(lo <= i <= hi for lo, hi in runs)], (held, runs[:5])
    inside = {i for i in held if any(lo <= i <= hi for lo, hi in bounds)}
    merged: list[list[int]] = []
    for lo, hi in sorted(bounds):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    total = sum(hi - lo + 1 for lo, hi in merged)
    assert sum(hi - lo + 1 for lo, hi in runs) == total - len(inside), (runs[:5], held)


async def test_segment_range_written_while_a_network_takes_or_frees_an_id(
    cluster: Cluster,
) -> None:
    """A range write rebuilds its id space's free ids from the ids networks hold: a network
    created, then one deleted, through another process at that moment (each held at a
    write after it took or gave back its id) leaves every id listed free exactly when no
    network holds it."""
    urls = await _two(cluster)
    path = "/v2.0/network-segment-ranges"
    vxlan = {"network_type": "vxlan", "minimum": 9000, "maximum": 9009}
    results = await race_behind(
        cluster.db_url,
        ("LOCK TABLE segments IN SHARE MODE",),
        (urls[0], "POST", "/v2.0/networks", {"network": {}}),
        (urls[1], "POST", path, {"network_segment_range": vxlan}),
        ADMIN,
    )
    assert [status for status, _ in results] == [201, 201], results
    await _assert_tunnel_ids_consistent(cluster.db_url)

    network = (await _post(urls[0], "/v2.0/networks", {"network": {}}))["network"]["id"]
    moved = {"network_segment_range": {**vxlan, "minimum": 9100, "maximum": 9109}}
    results = await race_behind(
        cluster.db_url,
        ("SELECT 1 FROM networks WHERE id = $1 FOR UPDATE", network),
        (urls[0], "DELETE", f"/v2.0/networks/{network}", None),
        (urls[1], "POST", path, moved),
        ADMIN,
    )
    assert [status for status, _ in results] == [204, 201], results
    await _assert_tunnel_ids_consistent(cluster.db_url)


async def test_process_started_while_a_network_frees_an_id(cluster: Cluster) -> None:
    """A starting process rebuilds every id space's free ids from the ids networks hold: a
    network deleted through another process at that moment (the start held at its first
    write, the delete until it waits too) leaves its id listed free once."""
    url = (await cluster.start()).url
    network = (await _post(url, "/v2.0/networks", {"network": {}}))["network"]["id"]
    # The network's id goes back into the free run after it, which the start clears first.
    result = await start_ahead(
        cluster,
        ("SELECT 1 FROM free_ranges WHERE pool = 'segment:tunnel' FOR UPDATE",),
        (url, "DELETE", f"/v2.0/networks/{network}", None),
        ADMIN,
    )
    assert result[0] == 204, result
    await _assert_tunnel_ids_consistent(cluster.db_url)
