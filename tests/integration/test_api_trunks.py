"""Trunks (trunk, trunk-details): parent ports, VLAN subports and their checks."""

from __future__ import annotations

from tests.integration.api import Api

TRUNKS = "/v2.0/trunks"


async def _port(api: Api) -> dict:
    net = await api.network()
    return await api.port(net["id"])


async def _trunk(api: Api, port_id: str, status: int = 201, **attrs: object) -> dict:
    reply = await api.call("POST", TRUNKS, {"trunk": {"port_id": port_id, **attrs}})
    assert reply.status == status, reply.body
    return reply.body


def _sub(port_id: str, seg: int | None = 2, kind: str | None = "vlan") -> dict:
    out: dict[str, object] = {"port_id": port_id}
    if kind is not None:
        out["segmentation_type"] = kind
    if seg is not None:
        out["segmentation_id"] = seg
    return out


async def test_trunk_crud_and_subports(api):
    """A trunk shows what it was created with; subports are added, listed and removed;
    the parent port shows trunk_details (with each subport's MAC)."""
    parent, sub1, sub2 = await _port(api), await _port(api), await _port(api)
    trunk = (await _trunk(api, parent["id"], sub_ports=[_sub(sub1["id"])]))["trunk"]
    assert (trunk["status"], trunk["admin_state_up"], trunk["name"]) == ("DOWN", True, "")
    assert trunk["sub_ports"] == [_sub(sub1["id"])]
    assert (await api.get(f"{TRUNKS}/{trunk['id']}"))["trunk"] == trunk
    added = await api.ok(
        "PUT", f"{TRUNKS}/{trunk['id']}/add_subports", {"sub_ports": [_sub(sub2["id"], 4)]}
    )
    assert added["sub_ports"] == [_sub(sub1["id"]), _sub(sub2["id"], 4)]
    assert added["revision_number"] > trunk["revision_number"]
    details = (await api.get(f"/v2.0/ports/{parent['id']}"))["port"]["trunk_details"]
    assert details == {
        "trunk_id": trunk["id"],
        "sub_ports": [
            {**_sub(sub1["id"]), "mac_address": sub1["mac_address"]},
            {**_sub(sub2["id"], 4), "mac_address": sub2["mac_address"]},
        ],
    }
    assert "trunk_details" not in (await api.get(f"/v2.0/ports/{sub1['id']}"))["port"]
    removed = await api.ok(
        "PUT", f"{TRUNKS}/{trunk['id']}/remove_subports", {"sub_ports": [{"port_id": sub1["id"]}]}
    )
    assert removed["sub_ports"] == [_sub(sub2["id"], 4)]
    listed = await api.get(f"{TRUNKS}/{trunk['id']}/get_subports")
    assert listed == {"sub_ports": [_sub(sub2["id"], 4)]}
    await api.ok("DELETE", f"{TRUNKS}/{trunk['id']}", status=204)
    await api.fails("GET", f"{TRUNKS}/{trunk['id']}", status=404, error="TrunkNotFound")
    await api.ok("DELETE", f"/v2.0/ports/{sub2['id']}", status=204)


async def test_subport_checks(api):
    """Malformed subports are 400, unknown ports 404; the parent, a used VLAN and a port of
    another trunk are 409; a disabled trunk refuses changes and deletion (409)."""
    parent, sub1, sub2 = await _port(api), await _port(api), await _port(api)
    bad = await _trunk(api, parent["id"], 400, sub_ports=[_sub(sub1["id"]), _sub(sub2["id"])])
    assert "is not unique" in bad["NeutronError"]["message"]
    await _trunk(api, parent["id"], 400, sub_ports=[_sub(sub1["id"], seg=None)])
    await _trunk(api, parent["id"], 400, sub_ports=[_sub(sub1["id"], seg=5000)])
    missing = "9f2e4b6a-0c8d-4e1f-9a3b-5c7d9e1f3a5b"
    await _trunk(api, missing, 404)
    await _trunk(api, parent["id"], 404, sub_ports=[_sub(missing)])
    trunk = (await _trunk(api, parent["id"], sub_ports=[_sub(sub1["id"])]))["trunk"]
    path = f"{TRUNKS}/{trunk['id']}"
    for sub, error in (
        (_sub(parent["id"], 3), "ParentPortInUse"),
        (_sub(sub2["id"]), "DuplicateSubPort"),
    ):
        await api.fails(
            "PUT", f"{path}/add_subports", {"sub_ports": [sub]}, status=409, error=error
        )
    await api.fails(
        "PUT",
        f"{path}/add_subports",
        {"sub_ports": _sub(sub2["id"], 3)},
        status=400,
        error="HTTPBadRequest",
    )
    await api.fails(
        "PUT",
        f"{path}/remove_subports",
        {"sub_ports": [_sub(sub2["id"])]},
        status=404,
        error="SubPortNotFound",
    )
    await _trunk(api, sub1["id"], 409)
    await api.fails(
        "DELETE", f"/v2.0/ports/{parent['id']}", status=409, error="PortInUseAsTrunkParent"
    )
    await api.fails("DELETE", f"/v2.0/ports/{sub1['id']}", status=409, error="PortInUseAsSubPort")
    await api.ok("PUT", path, {"trunk": {"admin_state_up": False, "name": "t"}})
    await api.fails("DELETE", path, status=409, error="TrunkDisabled")
    await api.fails(
        "PUT",
        f"{path}/add_subports",
        {"sub_ports": [_sub(sub2["id"], 3)]},
        status=409,
        error="TrunkDisabled",
    )


async def test_trunks_are_private_to_their_project(api):
    """Another project neither sees nor changes a trunk."""
    owner, other = api.as_("p1"), api.as_("p2")
    trunk = (await _trunk(owner, (await _port(owner))["id"]))["trunk"]
    await other.fails("GET", f"{TRUNKS}/{trunk['id']}", status=404, error="TrunkNotFound")
    assert (await other.get(TRUNKS))["trunks"] == []
