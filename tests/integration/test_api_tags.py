"""The tags sub-resource (§1.10) on networks, subnets, ports and their native aliases."""

from __future__ import annotations

import pytest


@pytest.fixture
async def targets(api, net):
    """One object per taggable collection: (collection path, id)."""
    port = await api.port(net["id"])
    return [("networks", net["id"]), ("subnets", net["subnet"]["id"]), ("ports", port["id"])]


async def test_tag_lifecycle_on_every_collection(api, targets):
    """PUT/GET/DELETE of single tags and of the whole list behave as §1.10 says."""
    for collection, obj_id in targets:
        base = f"/v2.0/{collection}/{obj_id}/tags"
        assert await api.get(base) == {"tags": []}
        assert await api.ok("PUT", f"{base}/web", status=201) is None
        assert await api.ok("PUT", f"{base}/web", status=201) is None  # idempotent
        assert await api.ok("GET", f"{base}/web", status=204) is None
        assert await api.get(base) == {"tags": ["web"]}
        replaced = await api.ok("PUT", base, {"tags": ["z", "a", "z"]})
        assert replaced == {"tags": ["a", "z"]}
        reply = await api.call("GET", f"{base}/web")
        assert reply.status == 404 and reply.error == "TagNotFound"
        singular = collection[:-1]
        assert reply.message == f"Tag web could not be found for {singular} {obj_id}."
        await api.ok("DELETE", f"{base}/a", status=204)
        reply = await api.call("DELETE", f"{base}/a")
        assert reply.status == 404 and reply.error == "TagNotFound"
        await api.ok("DELETE", base, status=204)
        assert await api.get(base) == {"tags": []}
        shown = await api.get(f"/v2.0/{collection}/{obj_id}")
        assert shown[singular]["tags"] == []


async def test_tag_writes_bump_the_revision_only_when_they_change_something(api):
    """Each tag change bumps revision_number once; an idempotent add bumps nothing."""
    net = await api.network()
    base = f"/v2.0/networks/{net['id']}"
    await api.ok("PUT", f"{base}/tags/a", status=201)
    assert (await api.get(base))["network"]["revision_number"] == 2
    await api.ok("PUT", f"{base}/tags/a", status=201)
    assert (await api.get(base))["network"]["revision_number"] == 2
    await api.ok("PUT", f"{base}/tags", {"tags": ["a", "b"]})
    await api.ok("DELETE", f"{base}/tags", status=204)
    assert (await api.get(base))["network"]["revision_number"] == 4


async def test_tags_are_returned_sorted_and_settable_on_create_and_update(api):
    """Tags given on create or PUT are de-duplicated and sorted."""
    net = await api.network(tags=["b", "a", "b"])
    assert net["tags"] == ["a", "b"]
    updated = await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"tags": ["c"]}})
    assert updated["network"]["tags"] == ["c"]


async def test_invalid_tags_are_400(api, net):
    """Empty, comma-containing, too long or too many tags, and bad bodies, are 400."""
    base = f"/v2.0/networks/{net['id']}/tags"
    for body in (
        {"tags": ["a,b"]},
        {"tags": [""]},
        {"tags": ["x" * 61]},
        {"tags": "a"},
        {"tags": [f"t{i}" for i in range(51)]},
        {"tag": ["a"]},
        ["a"],
    ):
        reply = await api.call("PUT", base, body)
        assert reply.status == 400 and reply.error == "HTTPBadRequest", body
    reply = await api.call("PUT", f"{base}/{'x' * 61}")
    assert reply.status == 400
    reply = await api.call("PUT", f"{base}/a,b")
    assert reply.status == 400


async def test_tags_of_unknown_or_invisible_objects_are_404(api, net):
    """Tags of an unknown id, or of another project's object, answer its NotFound."""
    reply = await api.call("GET", "/v2.0/ports/11111111-1111-4111-8111-111111111111/tags")
    assert reply.status == 404 and reply.error == "PortNotFound"
    private = await api.as_("p1").network()
    reply = await api.as_("p2").call("PUT", f"/v2.0/networks/{private['id']}/tags/x")
    assert reply.status == 404 and reply.error == "NetworkNotFound"


async def test_tag_writes_need_write_access(api):
    """A shared network's tags are readable by others but only its owner may change them."""
    shared = await api.network(project_id="p1", shared=True, tags=["t"])
    other = api.as_("p2")
    assert await other.get(f"/v2.0/networks/{shared['id']}/tags") == {"tags": ["t"]}
    for method, path in (("PUT", "tags/x"), ("DELETE", "tags/t"), ("DELETE", "tags")):
        reply = await other.call(method, f"/v2.0/networks/{shared['id']}/{path}")
        assert reply.status == 403 and reply.error == "PolicyNotAuthorized", (method, path)
    reply = await other.call("PUT", f"/v2.0/networks/{shared['id']}/tags", {"tags": ["y"]})
    assert reply.status == 403
    await api.as_("p1").ok("PUT", f"/v2.0/networks/{shared['id']}/tags/x", status=201)


async def test_tags_under_the_native_aliases(api):
    """/project/{p}/vpcs|subnets|ports/{id}/tags work like their /v2.0 forms."""
    owner = api.as_("p1")
    net = await owner.network()
    subnet = await owner.subnet(net["id"], "10.0.0.0/24")
    port = await owner.port(net["id"])
    for collection, obj_id in (
        ("vpcs", net["id"]),
        ("subnets", subnet["id"]),
        ("ports", port["id"]),
    ):
        base = f"/project/p1/{collection}/{obj_id}/tags"
        await owner.ok("PUT", f"{base}/blue", status=201)
        assert await owner.get(base) == {"tags": ["blue"]}
    reply = await api.as_("p2").call("GET", f"/project/p1/vpcs/{net['id']}/tags")
    assert reply.status == 403
