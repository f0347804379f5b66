"""Lists: filters, tag filters, fields, sorting, pagination and links (§1.7, Appendix A)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest


def _names(body, key="networks"):
    return sorted(o["name"] for o in body[key])


@pytest.fixture
async def nets(api):
    """Four networks with names, tags and flags to filter on."""
    specs = [
        {"name": "net1", "tags": ["blue"]},
        {"name": "net2", "tags": ["red", "blue"]},
        {"name": "net3", "tags": ["red"], "admin_state_up": False},
        {"name": "", "tags": [], "shared": True},
    ]
    return [await api.network(**s) for s in specs]


async def test_filters_repeat_means_or_and_different_keys_mean_and(api, nets):
    """name=a&name=b is OR; name=a&admin_state_up=x is AND."""
    assert _names(await api.get("/v2.0/networks?name=net1&name=net3")) == ["net1", "net3"]
    body = await api.get("/v2.0/networks?name=net1&name=net3&admin_state_up=false")
    assert _names(body) == ["net3"]
    assert _names(await api.get("/v2.0/networks?name=NET1")) == []


async def test_empty_value_matches_empty_string(api, nets):
    """`<attr>=` matches "" (empty-string filtering)."""
    body = await api.get("/v2.0/networks?name=")
    assert [n["id"] for n in body["networks"]] == [nets[3]["id"]]


async def test_filter_values_convert_to_the_attribute_type(api, nets):
    """Booleans filter by any accepted spelling; a bad value is 400."""
    for value in ("true", "True", "1"):
        body = await api.get(f"/v2.0/networks?shared={value}")
        assert [n["id"] for n in body["networks"]] == [nets[3]["id"]], value
    assert len((await api.get("/v2.0/networks?router:external=false"))["networks"]) == 4
    reply = await api.call("GET", "/v2.0/networks?shared=maybe")
    assert reply.status == 400 and reply.error == "HTTPBadRequest"
    reply = await api.call("GET", "/v2.0/networks?mtu=big")
    assert reply.status == 400


async def test_unknown_and_object_valued_filters_are_400(api, net):
    """Unknown parameters and object-valued attributes cannot filter (Appendix A message)."""
    reply = await api.call("GET", "/v2.0/networks?colour=blue")
    assert reply.status == 400 and reply.body == {
        "NeutronError": {
            "type": "HTTPBadRequest",
            "message": "'colour' is an invalid attribute for filtering",
            "detail": "",
        }
    }
    for path in (
        "/v2.0/ports?binding:profile=x",
        "/v2.0/subnets?allocation_pools=x",
        "/v2.0/subnets?host_routes=x",
        "/v2.0/ports?fixed_ips=mac=x",
        "/v2.0/ports?fixed_ips=10.0.0.2",
        "/v2.0/ports?allowed_address_pairs=x",
    ):
        reply = await api.call("GET", path)
        assert reply.status == 400, path


async def test_list_attribute_filters_match_membership(api, net):
    """subnets=X on networks and security_groups=X on ports match when the list holds X."""
    other = await api.network()
    body = await api.get(f"/v2.0/networks?subnets={net['subnet']['id']}")
    assert [n["id"] for n in body["networks"]] == [net["id"]]
    port = await api.port(net["id"])
    bare = await api.port(net["id"], security_groups=[])
    body = await api.get(f"/v2.0/ports?security_groups={port['security_groups'][0]}")
    assert [p["id"] for p in body["ports"]] == [port["id"]]
    assert bare["id"] not in [p["id"] for p in body["ports"]]
    assert other["id"] not in [
        n["id"]
        for n in (await api.get(f"/v2.0/networks?subnets={net['subnet']['id']}"))["networks"]
    ]


async def test_fixed_ips_filters(api, net):
    """fixed_ips=ip_address=…/subnet_id=…: one fixed IP must match every key; repeats OR."""
    second = await api.subnet(net["id"], "10.1.0.0/24")
    a = await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.5"}])
    b = await api.port(
        net["id"], fixed_ips=[{"ip_address": "10.0.0.6"}, {"ip_address": "10.1.0.5"}]
    )

    async def ids(query):
        return sorted(p["id"] for p in (await api.get(f"/v2.0/ports?{query}"))["ports"])

    assert await ids("fixed_ips=ip_address%3D10.0.0.5") == [a["id"]]
    assert await ids("fixed_ips=ip_address%3D10.0.0.5&fixed_ips=ip_address%3D10.1.0.5") == sorted(
        [a["id"], b["id"]]
    )
    assert await ids(f"fixed_ips=subnet_id%3D{second['id']}") == [b["id"]]
    assert await ids(f"fixed_ips=ip_address%3D10.1.0.5&fixed_ips=subnet_id%3D{second['id']}") == [
        b["id"]
    ]
    # both keys must hold for the same fixed IP
    assert await ids(f"fixed_ips=ip_address%3D10.0.0.6&fixed_ips=subnet_id%3D{second['id']}") == []


async def test_tag_filters(api, nets):
    """tags (all), tags-any, not-tags (all), not-tags-any; combinable."""
    cases = {
        "tags=blue": ["net1", "net2"],
        "tags=blue,red": ["net2"],
        "tags-any=red": ["net2", "net3"],
        "tags-any=blue,red": ["net1", "net2", "net3"],
        "not-tags=blue,red": ["", "net1", "net3"],
        "not-tags-any=red": ["", "net1"],
        "tags=blue&tags=red": ["net2"],
        "tags-any=blue&not-tags=red": ["net1"],
        "tags=nosuch": [],
    }
    for query, expected in cases.items():
        assert _names(await api.get(f"/v2.0/networks?{query}")) == expected, query


async def test_fields_project_lists_and_single_items(api, nets):
    """fields= (repeated or comma-separated) returns only those attributes; unknown ignored."""
    body = await api.get("/v2.0/networks?fields=id&fields=name,colour")
    assert all(set(n) == {"id", "name"} for n in body["networks"])
    one = await api.get(f"/v2.0/networks/{nets[0]['id']}?fields=status&fields=revision_number")
    assert one == {"network": {"status": "ACTIVE", "revision_number": 1}}
    tenant = await api.get(f"/v2.0/networks/{nets[0]['id']}?fields=tenant_id")
    assert tenant["network"] == {"tenant_id": nets[0]["project_id"]}


async def test_fields_never_reveal_restricted_attributes(api, net):
    """A member asking for an admin-only attribute with fields= simply does not get it."""
    member = api.as_(net["project_id"])
    body = await member.get(f"/v2.0/networks/{net['id']}?fields=provider:network_type&fields=id")
    assert body == {"network": {"id": net["id"]}}


async def test_sorting(api, nets):
    """sort_key/sort_dir pair by position; asc by default; id breaks ties."""
    body = await api.get("/v2.0/networks?sort_key=name&sort_dir=desc")
    assert [n["name"] for n in body["networks"]] == ["net3", "net2", "net1", ""]
    body = await api.get("/v2.0/networks?sort_key=admin_state_up&sort_key=name")
    assert [n["name"] for n in body["networks"]] == ["net3", "", "net1", "net2"]
    body = await api.get(
        "/v2.0/networks?sort_key=admin_state_up&sort_dir=desc&sort_key=name&sort_dir=asc"
    )
    assert [n["name"] for n in body["networks"]] == ["", "net1", "net2", "net3"]
    body = await api.get("/v2.0/networks")
    assert [n["id"] for n in body["networks"]] == sorted(n["id"] for n in nets)


@pytest.mark.parametrize(
    "query",
    [
        "sort_key=colour",
        "sort_key=tags",
        "sort_key=name&sort_dir=asc&sort_dir=desc",
        "sort_key=name&sort_dir=sideways",
        "sort_dir=asc",
    ],
)
async def test_bad_sorting_is_400(api, query):
    """Unknown or non-scalar keys, unpaired directions and bad directions are 400."""
    reply = await api.call("GET", f"/v2.0/networks?{query}")
    assert reply.status == 400 and reply.error == "HTTPBadRequest"


async def test_member_cannot_sort_or_filter_by_admin_only_attributes(api, net):
    """An attribute the caller may not read is unknown in filters and sort keys."""
    member = api.as_(net["project_id"])
    for query in ("provider:network_type=vxlan", "sort_key=provider:segmentation_id"):
        reply = await member.call("GET", f"/v2.0/networks?{query}")
        assert reply.status == 400, query
    reply = await member.call("GET", "/v2.0/ports?binding:host_id=node1")
    assert reply.status == 400
    assert (await api.get("/v2.0/networks?provider:network_type=vxlan"))["networks"]


async def _walk(api, path, key):
    """Follow `next` links from `path`; return every page."""
    pages = []
    while path:
        body = await api.get(path)
        pages.append(body)
        nxt = [link["href"] for link in body.get(f"{key}_links", []) if link["rel"] == "next"]
        path = urlsplit(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else None
    return pages


async def test_pagination_walks_every_item_once_with_links(api):
    """limit + next links visit every item exactly once, in order."""
    made = [await api.network(name=f"n{i:02}") for i in range(7)]
    pages = await _walk(api, "/v2.0/networks?limit=3&sort_key=name", "networks")
    assert [len(p["networks"]) for p in pages] == [3, 3, 1]
    seen = [n["name"] for p in pages for n in p["networks"]]
    assert seen == [n["name"] for n in made]
    assert "networks_links" not in pages[-1] or all(
        link["rel"] == "previous" for link in pages[-1]["networks_links"]
    )


async def test_links_follow_appendix_a(api, client, nets):
    """next has marker=<last id> and every other parameter; previous has page_reverse=True."""
    query = (
        "router:external=false&tags-any=blue,red&sort_key=name&sort_dir=asc&limit=2"
        "&fields=id&fields=name"
    )
    body = await api.get(f"/v2.0/networks?{query}")
    assert [n["name"] for n in body["networks"]] == ["net1", "net2"]
    # As Neutron: a full forward page has both links, even the first one.
    assert [link["rel"] for link in body["networks_links"]] == ["next", "previous"]
    href = body["networks_links"][0]["href"]
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}" == f"http://{client.host}:{client.port}"
    assert parts.path == "/v2.0/networks"
    params = parse_qsl(parts.query)
    assert params == [
        ("router:external", "false"),
        ("tags-any", "blue,red"),
        ("sort_key", "name"),
        ("sort_dir", "asc"),
        ("limit", "2"),
        ("fields", "id"),
        ("fields", "name"),
        ("marker", body["networks"][1]["id"]),
    ]
    second = await api.get(f"{parts.path}?{parts.query}")
    assert [n["name"] for n in second["networks"]] == ["net3"]
    assert [link["rel"] for link in second["networks_links"]] == ["previous"]
    prev = dict(parse_qsl(urlsplit(second["networks_links"][0]["href"]).query))
    assert prev["marker"] == second["networks"][0]["id"] and prev["page_reverse"] == "True"


async def test_links_walk_past_the_last_page_and_back_as_neutron(api):
    """As Neutron (neutron-tempest-plugin's href walk): the last full page has a `next` to an
    empty page without `next`, whose `previous` (no marker) walks back over every item."""
    made = [await api.network(name=f"n{i}") for i in range(3)]

    def rels(body):
        return {link["rel"]: link["href"] for link in body.get("networks_links", [])}

    def bare(href):
        return urlsplit(href)._replace(scheme="", netloc="").geturl()

    path, forward = "/v2.0/networks?sort_key=name&limit=1", []
    for _ in made:
        body = await api.get(path)
        forward += [n["name"] for n in body["networks"]]
        path = bare(rels(body)["next"])
    assert forward == ["n0", "n1", "n2"]
    empty = await api.get(path)
    assert empty["networks"] == [] and "next" not in rels(empty)
    assert "marker" not in dict(parse_qsl(urlsplit(rels(empty)["previous"]).query))
    backward, body = [], empty
    for _ in made:
        body = await api.get(bare(rels(body)["previous"]))
        backward += [n["name"] for n in body["networks"]]
    assert backward == ["n2", "n1", "n0"]


async def test_page_reverse_returns_the_page_before_the_marker(api):
    """page_reverse=true gives the items before the marker, still in requested order."""
    made = [await api.network(name=f"n{i}") for i in range(5)]
    marker = made[3]["id"]
    body = await api.get(f"/v2.0/networks?sort_key=name&limit=2&marker={marker}&page_reverse=true")
    assert [n["name"] for n in body["networks"]] == ["n1", "n2"]
    rels = sorted(link["rel"] for link in body["networks_links"])
    assert rels == ["next", "previous"]
    body = await api.get(f"/v2.0/networks?sort_key=name&limit=5&marker={marker}&page_reverse=true")
    assert [n["name"] for n in body["networks"]] == ["n0", "n1", "n2"]
    assert [link["rel"] for link in body["networks_links"]] == ["next"]


async def test_no_links_without_a_limit(api, nets):
    """Without limit (or limit=0) nothing is paginated and there are no links."""
    for query in ("", "?limit=0", f"?marker={nets[0]['id']}"):
        body = await api.get(f"/v2.0/networks{query}")
        assert "networks_links" not in body, query


async def test_bad_pagination_parameters(api, nets):
    """Negative or non-integer limits are 400; an unknown or invisible marker is 404."""
    for query in ("limit=-1", "limit=x", "limit=1.5", "page_reverse=maybe"):
        reply = await api.call("GET", f"/v2.0/networks?{query}")
        assert reply.status == 400, query
    reply = await api.call(
        "GET", "/v2.0/networks?limit=1&marker=11111111-1111-4111-8111-111111111111"
    )
    assert reply.status == 404 and reply.error == "NetworkNotFound"
    private = await api.as_("p9").network()
    reply = await api.as_("p8").call("GET", f"/v2.0/networks?limit=1&marker={private['id']}")
    assert reply.status == 404


async def test_pagination_max_limit_caps_and_applies_without_limit(make_api):
    """api.pagination_max_limit caps limit and paginates even without one."""
    api = await make_api(**{"api.pagination_max_limit": 2})
    for i in range(3):
        await api.network(name=f"n{i}")
    for query in ("", "?limit=10"):
        body = await api.get(f"/v2.0/networks{query}")
        assert len(body["networks"]) == 2 and body["networks_links"][0]["rel"] == "next", query


async def test_changed_since(api, nets):
    """changed_since keeps items updated at or after the timestamp; a bad one is 400."""
    body = await api.get("/v2.0/networks?changed_since=2000-01-01T00:00:00Z")
    assert len(body["networks"]) == 4
    body = await api.get("/v2.0/networks?changed_since=2999-01-01T00:00:00%2B01:00")
    assert body["networks"] == []
    reply = await api.call("GET", "/v2.0/networks?changed_since=yesterday")
    assert reply.status == 400


async def test_lists_of_subnets_and_ports_filter_by_their_attributes(api, net):
    """Filters work on every resource: subnets by cidr/ip_version, ports by device_owner."""
    await api.subnet(net["id"], "fd00::/64")
    body = await api.get("/v2.0/subnets?ip_version=6")
    assert [s["cidr"] for s in body["subnets"]] == ["fd00::/64"]
    body = await api.get("/v2.0/subnets?cidr=10.0.0.0/24&network_id=" + net["id"])
    assert [s["id"] for s in body["subnets"]] == [net["subnet"]["id"]]
    await api.port(net["id"], device_owner="compute:nova", device_id="vm1")
    await api.port(net["id"])
    body = await api.get("/v2.0/ports?device_owner=compute:nova")
    assert [p["device_id"] for p in body["ports"]] == ["vm1"]
    body = await api.get("/v2.0/ports?device_id=vm1&fields=device_id&limit=1")
    assert body["ports"] == [{"device_id": "vm1"}]
    body = await api.get(f"/v2.0/ports?network_id={net['id']}&status=DOWN")
    assert len(body["ports"]) == 2


async def test_integers_beyond_sqlite_range_do_not_break_lists(api, nets):
    """A huge limit means no limit; a huge integer filter matches nothing (never a 500)."""
    huge = 10**30
    assert len((await api.get(f"/v2.0/networks?limit={huge}"))["networks"]) == 4
    assert (await api.get(f"/v2.0/networks?mtu={huge}"))["networks"] == []
    body = await api.get(f"/v2.0/networks?mtu={huge}&mtu=1450")
    assert len(body["networks"]) == 4
    assert (await api.get(f"/v2.0/networks?provider:segmentation_id={huge}"))["networks"] == []


async def test_tenant_id_filters_and_sorts_like_project_id(api):
    """tenant_id is an alias of project_id in filters and sort keys."""
    await api.as_("pa").network(name="a")
    await api.as_("pb").network(name="b")
    body = await api.get("/v2.0/networks?tenant_id=pb")
    assert [n["name"] for n in body["networks"]] == ["b"]
    body = await api.get("/v2.0/networks?sort_key=tenant_id&sort_dir=desc")
    assert [n["name"] for n in body["networks"]] == ["b", "a"]


async def test_pagination_is_exact_for_every_order_including_nulls_and_ties(api):
    """Forward and backward walks match the unpaginated order for every sort, NULLs included."""
    specs = [
        ("a", "vxlan"),
        ("b", "vlan"),
        ("a", "vlan"),
        ("c", "vxlan"),
        ("b", "flat"),
        ("a", "vxlan"),
        ("", "vlan"),
    ]
    for name, kind in specs:
        await api.network(name=name, **{"provider:network_type": kind})
    orders = [
        "sort_key=name",
        "sort_key=name&sort_dir=desc",
        "sort_key=provider:physical_network&sort_dir=asc",
        "sort_key=provider:physical_network&sort_dir=desc",
        "sort_key=provider:physical_network&sort_key=name&sort_dir=desc&sort_dir=asc",
        "sort_key=provider:segmentation_id&sort_dir=desc",
    ]
    for order in orders:
        full = [n["id"] for n in (await api.get(f"/v2.0/networks?{order}"))["networks"]]
        assert len(full) == len(specs)
        for limit in (1, 3):
            pages = await _walk(api, f"/v2.0/networks?{order}&limit={limit}", "networks")
            assert [n["id"] for p in pages for n in p["networks"]] == full, (order, limit)
            # walk backwards from the last item with page_reverse
            seen: list[str] = [full[-1]]
            marker = full[-1]
            while True:
                body = await api.get(
                    f"/v2.0/networks?{order}&limit={limit}&marker={marker}&page_reverse=true"
                )
                ids = [n["id"] for n in body["networks"]]
                if not ids:
                    break
                seen = ids + seen
                marker = ids[0]
                if not any(link["rel"] == "previous" for link in body.get("networks_links", [])):
                    break
            assert seen == full, (order, limit)
