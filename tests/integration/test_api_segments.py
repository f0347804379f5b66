"""Network segments (segment, multi-provider, standard-attr-segment)."""

from __future__ import annotations

SEGMENTS = "/v2.0/segments"
P1 = "1a1a1a1a1a1a4a1a8a1a1a1a1a1a1a1a"
PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")


async def _segments(api, network_id):
    return (await api.get(f"{SEGMENTS}?network_id={network_id}"))["segments"]


async def _segment(api, network_id, **attrs):
    body = {"segment": {"network_id": network_id, **attrs}}
    return (await api.ok("POST", SEGMENTS, body, 201))["segment"]


async def test_every_network_has_a_segment_with_standard_attributes(api):
    """A new network's segment mirrors its provider attributes; it has timestamps (from the
    network's creation) and a revision, and its name and description change; members
    neither see nor write it."""
    net = await api.network()
    (segment,) = await _segments(api, net["id"])
    assert segment["network_type"] == net["provider:network_type"] == "vxlan"
    assert segment["segmentation_id"] == net["provider:segmentation_id"]
    assert segment["physical_network"] is None and segment["name"] is None
    assert segment["created_at"] == net["created_at"] and segment["updated_at"]
    shown = (await api.get(f"{SEGMENTS}/{segment['id']}"))["segment"]
    assert shown == segment
    renamed = (await api.ok("PUT", f"{SEGMENTS}/{segment['id']}", {"segment": {"name": "s1"}}))[
        "segment"
    ]
    assert renamed["name"] == "s1" and renamed["revision_number"] > segment["revision_number"]
    assert renamed["created_at"] == segment["created_at"]
    await api.fails(
        "PUT",
        f"{SEGMENTS}/{segment['id']}",
        {"segment": {"segmentation_id": 9}},
        status=400,
        error="HTTPBadRequest",
    )
    member = api.as_(P1)
    assert (await member.get(SEGMENTS))["segments"] == []
    await member.fails("GET", f"{SEGMENTS}/{segment['id']}", status=404, error="SegmentNotFound")
    await member.fails(
        "POST",
        SEGMENTS,
        {"segment": {"network_id": net["id"], "network_type": "vxlan"}},
        status=403,
        error="PolicyNotAuthorized",
    )


async def test_segments_added_and_removed_show_on_the_network(api):
    """A second segment takes its own id and the network then lists `segments` without
    provider:*; removing a segment gives its id back; the first one left becomes the
    network's provider:*; the last one stays (409)."""
    net = await api.network()
    vlan = await _segment(api, net["id"], network_type="vlan", physical_network="physnet1")
    assert vlan["segmentation_id"] == 1
    shown = (await api.get(f"/v2.0/networks/{net['id']}"))["network"]
    assert not set(PROVIDER) & set(shown)
    assert shown["segments"] == [
        {key: net[key] for key in PROVIDER},
        {
            "provider:network_type": "vlan",
            "provider:physical_network": "physnet1",
            "provider:segmentation_id": 1,
        },
    ]
    assert (
        "segments"
        not in (await api.as_(net["project_id"]).get(f"/v2.0/networks/{net['id']}"))["network"]
    )
    first = next(s for s in await _segments(api, net["id"]) if s["network_type"] == "vxlan")
    await api.ok("DELETE", f"{SEGMENTS}/{first['id']}", status=204)
    after = (await api.get(f"/v2.0/networks/{net['id']}"))["network"]
    assert "segments" not in after
    assert after["provider:network_type"] == "vlan" and after["provider:segmentation_id"] == 1
    await api.fails("DELETE", f"{SEGMENTS}/{vlan['id']}", status=409, error="SegmentInUse")
    again = await api.network()
    assert again["provider:segmentation_id"] == net["provider:segmentation_id"]
    await api.fails(
        "POST",
        SEGMENTS,
        {"segment": {"network_id": P1, "network_type": "vxlan"}},
        status=404,
        error="NetworkNotFound",
    )


async def test_multi_provider_networks(api):
    """multi-provider: a network created with `segments` gets one segment each, in order;
    not together with provider:*; no duplicates; deleting it frees every id."""
    asked = [
        {"provider:network_type": "vxlan"},
        {
            "provider:network_type": "vlan",
            "provider:physical_network": "physnet1",
            "provider:segmentation_id": 100,
        },
    ]
    net = await api.network(segments=asked)
    assert [s["provider:network_type"] for s in net["segments"]] == ["vxlan", "vlan"]
    assert net["segments"][1]["provider:segmentation_id"] == 100
    assert not set(PROVIDER) & set(net)
    stored = await _segments(api, net["id"])
    assert {(s["network_type"], s["segmentation_id"]) for s in stored} == {
        ("vxlan", net["segments"][0]["provider:segmentation_id"]),
        ("vlan", 100),
    }
    await api.fails(
        "POST",
        "/v2.0/networks",
        {"network": {"segments": asked, "provider:network_type": "vxlan"}},
        status=400,
        error="InvalidInput",
    )
    await api.fails(
        "POST",
        "/v2.0/networks",
        {"network": {"segments": [asked[1], asked[1]]}},
        status=400,
        error="InvalidInput",
    )
    await api.fails(
        "POST",
        "/v2.0/networks",
        {"network": {"segments": [asked[1]]}},
        status=409,
        error="VlanIdInUse",
    )
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    assert await _segments(api, net["id"]) == []
    reused = await api.network(segments=[asked[1]])
    assert reused["provider:segmentation_id"] == 100 and "segments" not in reused


async def test_subnets_on_segments(api):
    """A subnet's segment is one of its network's (else 400; unknown 404); a network's
    subnets are all on segments or none is (400); a segment with subnets stays (409)."""
    net = await api.network()
    (segment,) = await _segments(api, net["id"])
    other = await api.network()
    (foreign,) = await _segments(api, other["id"])
    on = await api.subnet(net["id"], "10.1.0.0/24", segment_id=segment["id"])
    assert on["segment_id"] == segment["id"]
    await api.fails(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "cidr": "10.2.0.0/24", "segment_id": foreign["id"]}},
        status=400,
        error="NetworkIdsDontMatch",
    )
    await api.fails(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "cidr": "10.2.0.0/24", "segment_id": P1}},
        status=404,
        error="SegmentNotFound",
    )
    await api.fails(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": net["id"], "cidr": "10.3.0.0/24"}},
        status=400,
        error="SubnetsNotAllAssociatedWithSegments",
    )
    await _segment(api, net["id"], network_type="vxlan")
    await api.fails("DELETE", f"{SEGMENTS}/{segment['id']}", status=409, error="SegmentInUse")
    listed = await api.get(f"/v2.0/subnets?segment_id={segment['id']}")
    assert [s["id"] for s in listed["subnets"]] == [on["id"]]
