"""Check-then-write steps hold across `alcor serve` processes on one PostgreSQL database.

Each test sends two conflicting writes through two processes with the table they write
held (tests/cluster.py `race`): both have passed their checks, or one waits on the other's
lock, before either writes. Without a lock taken before the check both would succeed.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.cluster import Cluster, call, race

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
ADMIN = {"X-Roles": "admin", "X-Project-Id": "p1"}


async def _two(cluster: Cluster, **settings: str) -> list[str]:
    """Start two processes; return their URLs."""
    return [(await cluster.start(**settings)).url for _ in range(2)]


async def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create one resource as admin; return the response body."""
    async with aiohttp.ClientSession() as session:
        status, reply = await call(session, url, "POST", path, body, ADMIN)
    assert status == 201, reply
    return dict(reply)


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
