"""Networks over HTTP: defaults, updates, revisions, segmentation, MTU, delete (§3)."""

from __future__ import annotations

import re

import pytest

NET_ID = "11111111-1111-4111-8111-111111111111"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def test_create_network_returns_every_attribute_with_defaults(api):
    """POST /v2.0/networks answers 201 with the full §3.4 representation."""
    reply = await api.call(
        "POST",
        "/v2.0/networks",
        {"network": {"name": "net1", "provider:network_type": "vxlan", "tags": ["blue"]}},
        headers={"X-Project-Id": "3dda2801d6754688a63fdcda8d327f50"},
    )
    assert reply.status == 201
    net = reply.body["network"]
    assert set(net) == {
        "id",
        "name",
        "description",
        "project_id",
        "tenant_id",
        "status",
        "admin_state_up",
        "subnets",
        "shared",
        "router:external",
        "is_default",
        "qos_policy_id",
        "dns_domain",
        "provider:network_type",
        "provider:physical_network",
        "provider:segmentation_id",
        "mtu",
        "port_security_enabled",
        "availability_zone_hints",
        "availability_zones",
        "cidr",
        "tags",
        "revision_number",
        "created_at",
        "updated_at",
    }
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", net["id"]
    )
    assert net["project_id"] == net["tenant_id"] == "3dda2801d6754688a63fdcda8d327f50"
    assert {
        k: net[k]
        for k in (
            "name",
            "description",
            "status",
            "admin_state_up",
            "subnets",
            "shared",
            "router:external",
            "provider:network_type",
            "provider:physical_network",
            "mtu",
            "port_security_enabled",
            "availability_zone_hints",
            "availability_zones",
            "cidr",
            "tags",
            "revision_number",
        )
    } == {
        "name": "net1",
        "description": "",
        "status": "ACTIVE",
        "admin_state_up": True,
        "subnets": [],
        "shared": False,
        "router:external": False,
        "provider:network_type": "vxlan",
        "provider:physical_network": None,
        "mtu": 1450,
        "port_security_enabled": True,
        "availability_zone_hints": [],
        "availability_zones": ["nova"],
        "cidr": None,
        "tags": ["blue"],
        "revision_number": 1,
    }
    assert isinstance(net["provider:segmentation_id"], int)
    assert TIMESTAMP.match(net["created_at"]) and net["created_at"] == net["updated_at"]
    assert reply.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert re.fullmatch(r"req-[0-9a-f-]{36}", reply.headers["X-Openstack-Request-Id"])


async def test_show_update_delete_network(api):
    """GET shows, PUT changes and bumps the revision, DELETE answers 204 then 404."""
    net = await api.network(name="a")
    assert (await api.get(f"/v2.0/networks/{net['id']}"))["network"] == net
    updated = (
        await api.ok(
            "PUT",
            f"/v2.0/networks/{net['id']}",
            {"network": {"name": "b", "admin_state_up": False}},
        )
    )["network"]
    assert updated["name"] == "b" and updated["admin_state_up"] is False
    assert updated["revision_number"] == 2
    assert updated["updated_at"] >= net["updated_at"] and updated["created_at"] == net["created_at"]
    reply = await api.call("DELETE", f"/v2.0/networks/{net['id']}")
    assert reply.status == 204 and reply.body is None
    reply = await api.call("GET", f"/v2.0/networks/{net['id']}")
    assert reply.status == 404 and reply.error == "NetworkNotFound"
    assert reply.message == f"Network {net['id']} could not be found."


async def test_put_that_changes_nothing_bumps_nothing(api):
    """A PUT with the current values answers 200 and keeps revision_number and updated_at."""
    net = await api.network(name="same", tags=["a"])
    again = (
        await api.ok(
            "PUT",
            f"/v2.0/networks/{net['id']}",
            {"network": {"name": "same", "admin_state_up": True, "tags": ["a"]}},
        )
    )["network"]
    assert again["revision_number"] == 1 and again["updated_at"] == net["updated_at"]
    empty = (await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {}}))["network"]
    assert empty["revision_number"] == 1


async def test_put_is_partial(api):
    """Attributes absent from a PUT keep their values (nothing is reset)."""
    net = await api.network(name="n", admin_state_up=False, description="d")
    updated = (await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "m"}}))[
        "network"
    ]
    assert updated["admin_state_up"] is False and updated["description"] == "d"


async def test_every_change_bumps_the_revision_once(api):
    """Each committed change adds exactly one to revision_number."""
    net = await api.network()
    for i, change in enumerate(
        [{"name": "x"}, {"description": "y"}, {"mtu": 1400}, {"port_security_enabled": False}],
        start=2,
    ):
        body = await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": change})
        assert body["network"]["revision_number"] == i


async def test_if_match_revision_on_put_and_delete(api):
    """If-Match: revision_number=N is enforced (412) on PUT and DELETE; malformed is 400."""
    net = await api.network(name="net1")
    path = f"/v2.0/networks/{net['id']}"
    await api.ok(
        "PUT", path, {"network": {"name": "r2"}}, headers={"If-Match": "revision_number=1"}
    )
    reply = await api.call(
        "PUT", path, {"network": {"name": "r3"}}, headers={"If-Match": "revision_number=1"}
    )
    assert reply.status == 412 and reply.error == "RevisionNumberConstraintFailed"
    assert reply.message == "Constrained to 1, but current revision is 2"
    for bad in ("*", '"abc"', "revision_number=1, revision_number=2", "revision_number=x"):
        reply = await api.call("PUT", path, {"network": {"name": "r3"}}, headers={"If-Match": bad})
        assert reply.status == 400 and reply.error == "HTTPBadRequest", bad
    reply = await api.call("DELETE", path, headers={"If-Match": "revision_number=1"})
    assert reply.status == 412
    await api.ok("DELETE", path, headers={"If-Match": "revision_number=2"}, status=204)


async def test_client_supplied_id_is_normalised_and_unique(api):
    """A client id is accepted (lowercased), reused → 409 Conflict, non-UUID → 400."""
    net = await api.network(id=NET_ID.upper())
    assert net["id"] == NET_ID
    reply = await api.call("POST", "/v2.0/networks", {"network": {"id": NET_ID}})
    assert reply.status == 409 and reply.error == "Conflict"
    assert reply.message == f"Network {NET_ID} already exists."
    reply = await api.call("POST", "/v2.0/networks", {"network": {"id": "net-one"}})
    assert reply.status == 400 and reply.error == "HTTPBadRequest"


async def test_recreated_id_continues_the_revision(api):
    """A network re-created with a deleted id starts above its old revision."""
    await api.network(id=NET_ID)
    await api.ok("PUT", f"/v2.0/networks/{NET_ID}", {"network": {"name": "x"}})
    await api.ok("DELETE", f"/v2.0/networks/{NET_ID}", status=204)
    again = await api.network(id=NET_ID)
    assert again["revision_number"] > 2


async def test_tunnel_ids_are_lowest_free_and_released_on_delete(api):
    """vxlan ids come from the range lowest first and return to the pool on delete."""
    first, second, third = [await api.network() for _ in range(3)]
    ids = [n["provider:segmentation_id"] for n in (first, second, third)]
    assert ids == [1, 2, 3]
    await api.ok("DELETE", f"/v2.0/networks/{second['id']}", status=204)
    assert (await api.network())["provider:segmentation_id"] == 2
    assert (await api.network())["provider:segmentation_id"] == 4


async def test_explicit_tunnel_id_is_honoured_and_unique_across_tunnel_types(api):
    """An admin's segmentation id is kept; the same id on vxlan/geneve/gre → 409 TunnelIdInUse."""
    net = await api.network(**{"provider:network_type": "vxlan", "provider:segmentation_id": 42})
    assert net["provider:segmentation_id"] == 42
    for kind in ("vxlan", "geneve", "gre"):
        reply = await api.call(
            "POST",
            "/v2.0/networks",
            {"network": {"provider:network_type": kind, "provider:segmentation_id": 42}},
        )
        assert reply.status == 409 and reply.error == "TunnelIdInUse", kind
        assert reply.message == "Unable to create the network. The tunnel ID 42 is in use."
    outside = await api.network(
        **{"provider:network_type": "gre", "provider:segmentation_id": 16000000}
    )
    assert outside["mtu"] == 1458
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    again = await api.network(**{"provider:network_type": "geneve", "provider:segmentation_id": 42})
    assert again["provider:segmentation_id"] == 42


@pytest.mark.parametrize(
    "attrs",
    [
        {"provider:network_type": "vxlan", "provider:segmentation_id": 0},
        {"provider:network_type": "vxlan", "provider:segmentation_id": 16777216},
        {"provider:network_type": "vxlan", "provider:physical_network": "physnet1"},
        {"provider:network_type": "vlan", "provider:segmentation_id": 4095},
        {"provider:network_type": "vlan", "provider:physical_network": "nosuch"},
        {"provider:network_type": "flat", "provider:segmentation_id": 5},
        {"provider:network_type": "flat", "provider:physical_network": "nosuch"},
        {"provider:network_type": "token-ring"},
    ],
)
async def test_invalid_provider_attributes_are_400(api, attrs):
    """Provider attributes that break §3.2 are refused with 400."""
    reply = await api.call("POST", "/v2.0/networks", {"network": attrs})
    assert reply.status == 400, reply.body
    assert reply.error in ("InvalidInput", "HTTPBadRequest")


async def test_vlan_networks_use_the_default_physnet_and_unique_ids(api):
    """VLANs default to the configured physnet, allocate lowest and refuse a taken id."""
    net = await api.network(**{"provider:network_type": "vlan"})
    assert net["provider:physical_network"] == "physnet1"
    assert net["provider:segmentation_id"] == 1 and net["mtu"] == 1500
    reply = await api.call(
        "POST",
        "/v2.0/networks",
        {"network": {"provider:network_type": "vlan", "provider:segmentation_id": 1}},
    )
    assert reply.status == 409 and reply.error == "VlanIdInUse"
    # VLAN ids and tunnel ids are different spaces
    assert (await api.network())["provider:segmentation_id"] == 1


async def test_one_flat_network_per_physnet(api):
    """A flat network has no segmentation id; a second one on the physnet → 409."""
    net = await api.network(**{"provider:network_type": "flat"})
    assert net["provider:segmentation_id"] is None
    assert net["provider:physical_network"] == "physnet1"
    reply = await api.call("POST", "/v2.0/networks", {"network": {"provider:network_type": "flat"}})
    assert reply.status == 409 and reply.error == "FlatNetworkInUse"
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    await api.network(**{"provider:network_type": "flat"})


async def test_exhausted_tunnel_range_is_503(make_api):
    """With every tunnel id taken, network create answers 503 NoNetworkAvailable."""
    api = await make_api(**{"network.tunnel_id_ranges": [[7, 8]]})
    assert [(await api.network())["provider:segmentation_id"] for _ in range(2)] == [7, 8]
    reply = await api.call("POST", "/v2.0/networks", {"network": {}})
    assert reply.status == 503 and reply.error == "NoNetworkAvailable"


async def test_updating_provider_attributes_is_refused(api):
    """Provider attributes cannot change after create (400 InvalidInput)."""
    net = await api.network()
    reply = await api.call(
        "PUT", f"/v2.0/networks/{net['id']}", {"network": {"provider:segmentation_id": 99}}
    )
    assert reply.status == 400 and reply.error == "InvalidInput"
    assert "Plugin does not support updating provider attributes" in reply.message


async def test_mtu_rules(api):
    """MTU defaults to the physnet MTU minus overhead; 0..max (as Neutron), else 400."""
    assert (await api.network(**{"provider:network_type": "geneve"}))["mtu"] == 1450
    for mtu in (1451, -1):
        reply = await api.call("POST", "/v2.0/networks", {"network": {"mtu": mtu}})
        assert reply.status == 400 and reply.error == "InvalidInput", mtu
    assert (await api.network(mtu=67))["mtu"] == 67  # no subnet: no IP minimum yet
    net = await api.network(mtu=68)
    reply = await api.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"mtu": 9000}})
    assert reply.status == 400 and reply.error == "InvalidInput"


@pytest.mark.parametrize("cidr,minimum", [("10.0.0.0/24", 68), ("fd00::/64", 1280)])
async def test_subnets_need_the_ip_minimum_mtu_as_neutron(api, cidr, minimum):
    """A subnet on a network below the IP minimum MTU (68, IPv6 1280) is 409
    NetworkMTUSubnetConflict, and so is lowering a network with such a subnet below it."""
    small = await api.network(mtu=minimum - 1)
    reply = await api.call(
        "POST", "/v2.0/subnets", {"subnet": {"network_id": small["id"], "cidr": cidr}}
    )
    assert reply.status == 409 and reply.error == "NetworkMTUSubnetConflict"
    assert reply.message == (
        f"MTU of {small['id']} is not valid, subnet requires a minimum of {minimum}"
    )
    net = await api.network(mtu=1280)
    await api.subnet(net["id"], cidr)
    reply = await api.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"mtu": minimum - 1}})
    assert reply.status == 409 and reply.error == "NetworkMTUSubnetConflict"
    await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"mtu": minimum}})


async def test_availability_zone_hints(api):
    """Known AZ hints are kept and become the zones; an unknown one is 404."""
    net = await api.network(availability_zone_hints=["nova"])
    assert net["availability_zones"] == ["nova"]
    reply = await api.call(
        "POST", "/v2.0/networks", {"network": {"availability_zone_hints": ["mars"]}}
    )
    assert reply.status == 404 and reply.error == "AvailabilityZoneNotFound"
    assert reply.message == "AvailabilityZone mars could not be found."


async def test_delete_network_with_a_port_is_409_and_deletes_subnets_otherwise(api):
    """A port blocks network delete (NetworkInUse); without ports subnets go with it."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.0.0.0/24")
    port = await api.port(net["id"])
    reply = await api.call("DELETE", f"/v2.0/networks/{net['id']}")
    assert reply.status == 409 and reply.error == "NetworkInUse"
    assert reply.message == (
        f"Unable to complete operation on network {net['id']}. There are "
        "one or more ports still in use on the network."
    )
    await api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    reply = await api.call("GET", f"/v2.0/subnets/{subnet['id']}")
    assert reply.status == 404 and reply.error == "SubnetNotFound"


async def test_network_lists_its_subnets_in_creation_order(api):
    """`subnets` holds the network's subnet ids in creation order, updated on delete."""
    net = await api.network()
    a = await api.subnet(net["id"], "10.0.1.0/24")
    b = await api.subnet(net["id"], "10.0.0.0/24")
    shown = (await api.get(f"/v2.0/networks/{net['id']}"))["network"]
    assert shown["subnets"] == [a["id"], b["id"]]
    await api.ok("DELETE", f"/v2.0/subnets/{a['id']}", status=204)
    assert (await api.get(f"/v2.0/networks/{net['id']}"))["network"]["subnets"] == [b["id"]]


async def test_network_cidr_confines_its_subnets(api):
    """With a VPC cidr, subnets must lie inside it (400 InvalidInput)."""
    net = await api.network(cidr="172.16.0.0/16")
    assert net["cidr"] == "172.16.0.0/16"
    await api.subnet(net["id"], "172.16.1.0/24")
    reply = await api.call(
        "POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24"}}
    )
    assert reply.status == 400 and reply.error == "InvalidInput"
    reply = await api.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"cidr": None}})
    assert reply.status == 400 and reply.message == "Cannot update read-only attribute cidr"


async def test_bulk_network_create_is_all_or_nothing(api):
    """Bulk create returns items in order; one failing item creates none of them."""
    body = {"networks": [{"name": "a"}, {"name": "b"}]}
    created = (await api.ok("POST", "/v2.0/networks", body, 201))["networks"]
    assert [n["name"] for n in created] == ["a", "b"]
    assert len({n["provider:segmentation_id"] for n in created}) == 2
    body = {
        "networks": [
            {"name": "c", "provider:segmentation_id": 77},
            {"name": "d", "provider:segmentation_id": 77},
        ]
    }
    reply = await api.call("POST", "/v2.0/networks", body)
    assert reply.status == 409 and reply.error == "TunnelIdInUse"
    names = [n["name"] for n in (await api.get("/v2.0/networks"))["networks"]]
    assert sorted(names) == ["a", "b"]
    # the failed bulk's ids went back: the next network gets the next free id
    assert (await api.network())["provider:segmentation_id"] == 3


async def test_network_create_ensures_the_default_security_group(api):
    """Creating a network creates the project's default security group once."""
    await api.as_("p1", "member").network()
    await api.as_("p1", "member").network()
    groups = (await api.get("/v2.0/security-groups?project_id=p1"))["security_groups"]
    assert [g["name"] for g in groups] == ["default"]


async def test_unsharing_a_network_used_by_other_projects_is_409(api):
    """shared true→false while another project has ports on it → 409 InvalidSharedSetting."""
    net = await api.network(project_id="p1", shared=True)
    await api.subnet(net["id"], "10.0.0.0/24")
    await api.as_("p1").port(net["id"])
    own_only = await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"shared": False}})
    assert own_only["network"]["shared"] is False
    await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"shared": True}})
    await api.as_("p2").port(net["id"])
    reply = await api.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"shared": False}})
    assert reply.status == 409 and reply.error == "InvalidSharedSetting"
    assert reply.message == (
        f"Unable to reconfigure sharing settings for network {net['id']}. "
        "Multiple tenants are using it."
    )


async def test_standard_string_attributes_are_limited_to_255(api):
    """name, description and project_id take at most 255 characters."""
    await api.network(name="n" * 255, description="d" * 255)
    for attr in ("name", "description", "project_id"):
        reply = await api.call("POST", "/v2.0/networks", {"network": {attr: "x" * 256}})
        assert reply.status == 400 and reply.message.startswith(f"Invalid input for {attr}"), attr


async def test_network_delete_removes_its_dhcp_ports(api):
    """DHCP ports do not block network delete and are deleted with it (MAC released)."""
    net = await api.network()
    await api.subnet(net["id"], "10.0.0.0/24")
    dhcp = await api.port(net["id"], device_owner="network:dhcp", mac_address="fa:16:3e:00:00:01")
    await api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    reply = await api.call("GET", f"/v2.0/ports/{dhcp['id']}")
    assert reply.status == 404 and reply.error == "PortNotFound"
    assert (await api.get("/v2.0/ports"))["ports"] == []
