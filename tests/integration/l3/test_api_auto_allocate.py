"""Auto-allocated topologies (auto-allocated-topology): get me a network."""

from __future__ import annotations

TOPOLOGY = "/v2.0/auto-allocated-topology"


async def _count(api, project):
    def mine(items):
        return [i for i in items if i["name"].startswith("auto_allocated_")]

    networks = mine((await api.get("/v2.0/networks"))["networks"])
    subnets = mine((await api.get("/v2.0/subnets"))["subnets"])
    routers = mine((await api.get("/v2.0/routers"))["routers"])
    return len(networks), len(subnets), len(routers)


async def _default_network(admin, public):
    await admin.ok("PUT", f"/v2.0/networks/{public[0]['id']}", {"network": {"is_default": True}})


async def _default_pool(admin):
    pool = {"name": "v4", "prefixes": ["10.100.0.0/16"], "is_default": True, "shared": True}
    await admin.ok("POST", "/v2.0/subnetpools", {"subnetpool": pool}, 201)


async def test_requirements_and_dry_run(admin, p1, public):
    """A dry run checks for a default external network and a default subnet pool (409
    AutoAllocationFailure when one is missing) and builds nothing."""
    path = f"{TOPOLOGY}/p1?fields=dry-run"
    await p1.fails("GET", path, status=409, error="AutoAllocationFailure")
    await _default_network(admin, public)
    await p1.fails("GET", path, status=409, error="AutoAllocationFailure")
    await _default_pool(admin)
    body = await p1.get(path)
    assert body == {
        "auto_allocated_topology": {"id": "dry-run=pass", "project_id": "p1", "tenant_id": "p1"}
    }
    assert await _count(p1, "p1") == (0, 0, 0)
    await p1.fails("GET", f"{TOPOLOGY}/p1?fields=id", status=400, error="BadRequest")


async def test_get_builds_once_and_delete_removes(admin, p1, p2, public):
    """The first GET builds a network with a subnet from the default pool and a router to
    the default external network; later GETs return the same network; another project's
    topology is 403 for members; DELETE removes all of it."""
    await _default_network(admin, public)
    await _default_pool(admin)
    first = (await p1.get(f"{TOPOLOGY}/p1"))["auto_allocated_topology"]
    network = (await p1.get(f"/v2.0/networks/{first['id']}"))["network"]
    assert network["name"] == "auto_allocated_network" and network["admin_state_up"] is True
    assert await _count(p1, "p1") == (1, 1, 1)
    (router,) = (await p1.get("/v2.0/routers"))["routers"]
    assert router["external_gateway_info"]["network_id"] == public[0]["id"]
    (subnet,) = (await p1.get(f"/v2.0/subnets?network_id={first['id']}"))["subnets"]
    assert subnet["cidr"].startswith("10.100.") and subnet["attached_router_id"] == router["id"]
    again = (await p1.get(f"{TOPOLOGY}/None"))["auto_allocated_topology"]
    assert again["id"] == first["id"] and await _count(p1, "p1") == (1, 1, 1)
    await p2.fails("GET", f"{TOPOLOGY}/p1", status=403, error="PolicyNotAuthorized")
    assert (await admin.get(f"{TOPOLOGY}/p1"))["auto_allocated_topology"]["id"] == first["id"]
    await p1.ok("DELETE", f"{TOPOLOGY}/p1", status=204)
    assert await _count(p1, "p1") == (0, 0, 0)
    await p1.ok("DELETE", f"{TOPOLOGY}/p1", status=204)
    rebuilt = (await p1.get(f"{TOPOLOGY}/p1"))["auto_allocated_topology"]
    assert rebuilt["id"] != first["id"]
