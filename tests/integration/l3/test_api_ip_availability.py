"""Network IP availability over HTTP (northbound §10), including IPv6 sizes beyond 2^53."""

from __future__ import annotations

import json

from tests.integration.l3.support import Api, external_network

AVAIL = "/v2.0/network-ip-availabilities"


async def _raw(api: Api, path: str) -> str:
    async with api.client.get(path, headers=api.headers) as resp:
        assert resp.status == 200
        return await resp.text()


async def test_availability_is_admin_only(admin, p1):
    """Members get 403 on every availability path."""
    network = await p1.network()
    for path in (
        AVAIL,
        f"{AVAIL}/{network['id']}",
        "/project/p1/network-ip-availabilities",
        "/network-ip-availabilities",
    ):
        reply = await p1.fails("GET", path, status=403, error="PolicyNotAuthorized")
    assert reply.message == "get_network_ip_availability is disallowed by policy."


async def test_network_without_subnets_has_zero_totals(admin):
    """A network with no subnets reports 0/0 and an empty subnet list."""
    network = await admin.network(name="empty")
    body = await admin.get(f"{AVAIL}/{network['id']}")
    assert body == {
        "network_ip_availability": {
            "network_id": network["id"],
            "network_name": "empty",
            "project_id": "default",
            "tenant_id": "default",
            "total_ips": 0,
            "used_ips": 0,
            "subnet_ip_availability": [],
        }
    }


async def test_used_counts_every_allocated_address(admin):
    """used_ips counts port, interface, gateway and floating IP addresses."""
    public, _ = await external_network(admin)
    network, subnet = await admin.lan("10.0.1.0/24", name="lan")
    await admin.port(network["id"])
    await admin.port(
        network["id"],
        fixed_ips=[{"ip_address": "10.0.1.1"}],
        device_id="x",
        device_owner="compute:nova",
    )
    router = await admin.router(external_gateway_info={"network_id": public["id"]})
    await admin.fip(public["id"])
    lan = (await admin.get(f"{AVAIL}/{network['id']}"))["network_ip_availability"]
    assert (lan["total_ips"], lan["used_ips"]) == (253, 2)
    assert lan["subnet_ip_availability"] == [
        {
            "subnet_id": subnet["id"],
            "subnet_name": "",
            "cidr": "10.0.1.0/24",
            "ip_version": 4,
            "total_ips": 253,
            "used_ips": 2,
        }
    ]
    ext = (await admin.get(f"{AVAIL}/{public['id']}"))["network_ip_availability"]
    assert (ext["total_ips"], ext["used_ips"]) == (253, 2)
    assert router["id"]


async def test_ipv6_sizes_beyond_2_to_the_53_are_exact(admin):
    """A /64 pool is 2^64 - 2 addresses; two of them sum past 64 bits; JSON keeps every digit."""
    network = await admin.network(name="v6")
    first = await admin.subnet(network["id"], "fd00:1::/64")
    await admin.subnet(network["id"], "fd00:2::/64")
    await admin.port(network["id"], fixed_ips=[{"subnet_id": first["id"]}])
    raw = await _raw(admin, f"{AVAIL}/{network['id']}")
    size = 2**64 - 2
    assert f'"total_ips":{2 * size}' in raw.replace(" ", "")
    body = json.loads(raw)["network_ip_availability"]
    assert body["total_ips"] == 2 * size > 2**64
    assert [(s["total_ips"], s["used_ips"]) for s in body["subnet_ip_availability"]] == [
        (size, 1),
        (size, 0),
    ]
    assert body["used_ips"] == 1


async def test_list_filters_fields_and_pagination(admin):
    """The list filters by network, name, project and ip_version, pages by network_id."""
    a, _ = await admin.lan("10.0.1.0/24", name="a")
    b = await admin.network(name="b", project_id="p9")
    await admin.subnet(b["id"], "fd00::/64")
    listed = (await admin.get(AVAIL))["network_ip_availabilities"]
    assert {i["network_id"] for i in listed} == {a["id"], b["id"]}
    by_name = (await admin.get(f"{AVAIL}?network_name=b"))["network_ip_availabilities"]
    assert [i["network_id"] for i in by_name] == [b["id"]]
    by_project = (await admin.get(f"{AVAIL}?project_id=p9"))["network_ip_availabilities"]
    assert [i["network_id"] for i in by_project] == [b["id"]]
    by_id = (await admin.get(f"{AVAIL}?network_id={a['id']}"))["network_ip_availabilities"]
    assert [i["network_id"] for i in by_id] == [a["id"]]
    v6 = await admin.get(f"{AVAIL}?ip_version=6&network_id={b['id']}&network_id={a['id']}")
    assert {
        i["network_id"]: len(i["subnet_ip_availability"]) for i in v6["network_ip_availabilities"]
    } == {a["id"]: 0, b["id"]: 1}
    fields = await admin.get(f"{AVAIL}?fields=network_id&fields=total_ips")
    assert all(set(i) == {"network_id", "total_ips"} for i in fields["network_ip_availabilities"])
    page = await admin.get(f"{AVAIL}?limit=1&sort_key=network_id&sort_dir=desc")
    ids = sorted([a["id"], b["id"]], reverse=True)
    assert [i["network_id"] for i in page["network_ip_availabilities"]] == ids[:1]
    assert page["network_ip_availabilities_links"][0]["rel"] == "next"
    assert f"marker={ids[0]}" in page["network_ip_availabilities_links"][0]["href"]
    for bad in ("colour=red", "ip_version=five", "sort_key=colour"):
        await admin.fails("GET", f"{AVAIL}?{bad}", status=400, error="HTTPBadRequest")


async def test_unknown_network_is_network_not_found(admin):
    """An unknown network id is 404 NetworkNotFound."""
    missing = "11111111-1111-4111-8111-111111111111"
    await admin.fails("GET", f"{AVAIL}/{missing}", status=404, error="NetworkNotFound")
