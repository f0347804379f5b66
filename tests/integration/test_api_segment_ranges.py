"""Network segment ranges (network-segment-range): defaults from config, admin-added
ranges, where a project's networks take their segmentation ids."""

from __future__ import annotations

RANGES = "/v2.0/network-segment-ranges"
P1 = "1a1a1a1a1a1a4a1a8a1a1a1a1a1a1a1a"
P2 = "2b2b2b2b2b2b4b2b8b2b2b2b2b2b2b2b"


async def _range(api, **attrs):
    body = {"network_segment_range": {"network_type": "vxlan", **attrs}}
    return (await api.ok("POST", RANGES, body, 201))["network_segment_range"]


async def _seg(api, project):
    net = await api.network(project_id=project)
    return net, net["provider:segmentation_id"]


async def test_default_ranges_mirror_the_configuration_and_are_read_only(make_api):
    """Each configured tunnel range appears once per tunnel type and each VLAN range per
    physical network, default and shared; they neither change nor go; members see none."""
    api = await make_api(**{"network.tunnel_id_ranges": [[7, 9]]})
    defaults = (await api.get(RANGES))["network_segment_ranges"]
    assert sorted((r["network_type"], r["minimum"], r["maximum"]) for r in defaults) == [
        ("geneve", 7, 9),
        ("gre", 7, 9),
        ("vlan", 1, 4094),
        ("vxlan", 7, 9),
    ]
    vxlan = next(r for r in defaults if r["network_type"] == "vxlan")
    assert vxlan["default"] is True and vxlan["shared"] is True and vxlan["project_id"] is None
    assert vxlan["available"] == [7, 8, 9] and vxlan["used"] == {}
    vlan = next(r for r in defaults if r["network_type"] == "vlan")
    assert vlan["physical_network"] == "physnet1"
    await api.fails(
        "PUT",
        f"{RANGES}/{vxlan['id']}",
        {"network_segment_range": {"name": "x"}},
        status=400,
        error="NetworkSegmentRangeDefaultReadOnly",
    )
    await api.fails(
        "DELETE", f"{RANGES}/{vxlan['id']}", status=400, error="NetworkSegmentRangeDefaultReadOnly"
    )
    member = api.as_(P1)
    assert (await member.get(RANGES))["network_segment_ranges"] == []
    await member.fails(
        "GET", f"{RANGES}/{vxlan['id']}", status=404, error="NetworkSegmentRangeNotFound"
    )
    await member.fails(
        "POST",
        RANGES,
        {"network_segment_range": {"network_type": "vxlan", "minimum": 1, "maximum": 2}},
        status=403,
        error="PolicyNotAuthorized",
    )


async def test_project_ranges_steer_segmentation_ids(make_api):
    """A project's networks take ids from its own range first; other projects' networks
    skip that range; `used` and `available` follow; ids outside the configuration become
    allocatable through a range."""
    api = await make_api(**{"network.tunnel_id_ranges": [[1, 10]]})
    own = await _range(api, shared=False, project_id=P1, minimum=5, maximum=6)
    assert own["default"] is False and own["project_id"] == P1 and own["available"] == [5, 6]
    assert [(await _seg(api, P1))[1] for _ in range(2)] == [5, 6]
    assert (await _seg(api, P1))[1] == 1  # own range full: the shared space
    assert [(await _seg(api, P2))[1] for _ in range(4)] == [2, 3, 4, 7]
    shown = (await api.get(f"{RANGES}/{own['id']}"))["network_segment_range"]
    assert shown["used"] == {"5": P1, "6": P1} and shown["available"] == []
    beyond = await _range(api, shared=False, project_id=P2, minimum=20, maximum=21)
    assert beyond["available"] == [20, 21]
    net, seg = await _seg(api, P2)
    assert seg == 20
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    again = (await api.get(f"{RANGES}/{beyond['id']}"))["network_segment_range"]
    assert again["available"] == [20, 21]


async def test_range_changes_that_strand_networks_are_refused(make_api):
    """Updating a range so that it no longer holds a network's id, or deleting a range
    holding one, is 409; overlapping ranges are 409; bad bounds are 400."""
    api = await make_api(**{"network.tunnel_id_ranges": [[1, 100]]})
    rng = await _range(api, shared=False, project_id=P1, minimum=50, maximum=55, name="r")
    net, seg = await _seg(api, P1)
    assert seg == 50
    path = f"{RANGES}/{rng['id']}"
    await api.fails(
        "PUT",
        path,
        {"network_segment_range": {"minimum": 51}},
        status=409,
        error="NetworkSegmentRangeReferencedByProject",
    )
    wider = await api.ok(
        "PUT", path, {"network_segment_range": {"name": "wider", "minimum": 50, "maximum": 60}}
    )
    assert wider["network_segment_range"]["maximum"] == 60
    assert wider["network_segment_range"]["revision_number"] > rng["revision_number"]
    await api.fails("DELETE", path, status=409, error="NetworkSegmentRangeReferencedByProject")
    await api.fails(
        "POST",
        RANGES,
        {"network_segment_range": {"network_type": "geneve", "minimum": 60, "maximum": 70}},
        status=409,
        error="NetworkSegmentRangeOverlaps",
    )
    await api.fails(
        "POST",
        RANGES,
        {"network_segment_range": {"network_type": "vlan", "minimum": 1, "maximum": 2}},
        status=400,
        error="BadRequest",
    )
    await api.fails(
        "POST",
        RANGES,
        {"network_segment_range": {"network_type": "vxlan", "minimum": 9, "maximum": 8}},
        status=400,
        error="InvalidInput",
    )
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    await api.ok("DELETE", path, status=204)
    assert (await api.get(f"{RANGES}?id={rng['id']}"))["network_segment_ranges"] == []
    assert (await api.get(f"{RANGES}?id=33"))["network_segment_ranges"] == []


async def test_wide_ranges_list_free_runs(api):
    """A range wider than 65536 ids lists its free ids as first-last runs."""
    net = await api.network()
    default = next(
        r
        for r in (await api.get(f"{RANGES}?network_type=vxlan"))["network_segment_ranges"]
        if r["default"]
    )
    seg = net["provider:segmentation_id"]
    assert seg == 1 and default["available"][0] == "2-16777215"
