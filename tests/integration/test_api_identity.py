"""Identity and scope: noauth headers, project isolation, sharing, policy, native aliases."""

from __future__ import annotations

import pytest

P1, P2 = "p1", "p2"


@pytest.fixture
async def world(api):
    """p1 owns a private network (subnet, port) and a shared one; p2 owns a private one."""
    p1 = api.as_(P1)
    private = await p1.network(name="p1-private")
    subnet = await p1.subnet(private["id"], "10.0.0.0/24")
    port = await p1.port(private["id"])
    shared = await api.network(name="p1-shared", project_id=P1, shared=True)
    shared_subnet = await p1.subnet(shared["id"], "10.1.0.0/24")
    mine = await api.as_(P2).network(name="p2-private")
    return {
        "private": private,
        "subnet": subnet,
        "port": port,
        "shared": shared,
        "shared_subnet": shared_subnet,
        "p2": mine,
    }


async def test_caller_project_comes_from_the_header(api):
    """X-Project-Id (or X-Tenant-Id) names the owner of what the caller creates."""
    net = await api.as_("proj-a").network()
    assert net["project_id"] == net["tenant_id"] == "proj-a"
    reply = await api.call(
        "POST",
        "/v2.0/networks",
        {"network": {}},
        headers={"X-Tenant-Id": "proj-b", "X-Roles": "member"},
    )
    assert reply.body["network"]["project_id"] == "proj-b"


async def test_without_header_the_body_or_default_project_applies(api):
    """No header: the body's project_id/tenant_id, else auth.default_project."""
    assert (await api.network())["project_id"] == "default"
    assert (await api.network(tenant_id="from-body"))["project_id"] == "from-body"


async def test_default_roles_are_admin_without_x_roles(api, world):
    """Without X-Roles a noauth caller is admin and sees every project."""
    names = {n["name"] for n in (await api.get("/v2.0/networks"))["networks"]}
    assert names == {"p1-private", "p1-shared", "p2-private"}
    both = await api.call("GET", "/v2.0/networks", headers={"X-Project-Id": P2})
    assert len(both.body["networks"]) == 3


async def test_configured_noauth_default_roles(make_api):
    """auth.noauth_default_roles replaces the admin default."""
    api = await make_api(**{"auth.noauth_default_roles": ["member"]})

    reply = await api.call("POST", "/v2.0/networks", {"network": {"shared": True}})
    assert reply.status == 403


async def test_a_member_never_sees_another_projects_resources(api, world):
    """Lists and shows hide another project's networks, subnets and ports (404, not 403)."""
    p2 = api.as_(P2)
    names = {n["name"] for n in (await p2.get("/v2.0/networks"))["networks"]}
    assert names == {"p1-shared", "p2-private"}
    subnets = {s["id"] for s in (await p2.get("/v2.0/subnets"))["subnets"]}
    assert subnets == {world["shared_subnet"]["id"]}
    assert (await p2.get("/v2.0/ports"))["ports"] == []
    for path, error in (
        (f"/v2.0/networks/{world['private']['id']}", "NetworkNotFound"),
        (f"/v2.0/subnets/{world['subnet']['id']}", "SubnetNotFound"),
        (f"/v2.0/ports/{world['port']['id']}", "PortNotFound"),
    ):
        for method, body in (
            ("GET", None),
            ("PUT", {path.split("/")[2][:-1]: {"name": "x"}}),
            ("DELETE", None),
        ):
            reply = await p2.call(method, path, body)
            assert reply.status == 404 and reply.error == error, (method, path)
    assert (await p2.get(f"/v2.0/ports?network_id={world['private']['id']}"))["ports"] == []


async def test_project_id_filter_cannot_widen_visibility(api, world):
    """A member filtering on another project's id still sees only what it may read."""
    body = await api.as_(P2).get(f"/v2.0/networks?project_id={P1}")
    assert [n["name"] for n in body["networks"]] == ["p1-shared"]


async def test_shared_networks_are_readable_not_writable(api, world):
    """Others read a shared network and its subnets but may not change or delete them."""
    p2 = api.as_(P2)
    shared = world["shared"]
    assert (await p2.get(f"/v2.0/networks/{shared['id']}"))["network"]["shared"] is True
    for method, body in (("PUT", {"network": {"name": "x"}}), ("DELETE", None)):
        reply = await p2.call(method, f"/v2.0/networks/{shared['id']}", body)
        assert reply.status == 403 and reply.error == "PolicyNotAuthorized", method
        assert (
            reply.message == f"{'update' if method == 'PUT' else 'delete'}_network is "
            "disallowed by policy."
        )
    reply = await p2.call(
        "PUT", f"/v2.0/subnets/{world['shared_subnet']['id']}", {"subnet": {"name": "x"}}
    )
    assert reply.status == 403


async def test_others_create_ports_on_shared_networks_but_not_subnets(api, world):
    """p2 may put a port on p1's shared network; a subnet there → 403; a private one → 404."""
    p2 = api.as_(P2)
    port = await p2.port(world["shared"]["id"])
    assert port["project_id"] == P2 and port["fixed_ips"][0]["ip_address"] == "10.1.0.2"
    port2 = await p2.port(
        world["shared"]["id"], fixed_ips=[{"subnet_id": world["shared_subnet"]["id"]}]
    )
    assert port2["fixed_ips"][0]["ip_address"] == "10.1.0.3"
    reply = await p2.call(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": world["shared"]["id"], "cidr": "10.2.0.0/24"}},
    )
    assert reply.status == 403 and reply.message == "create_subnet is disallowed by policy."
    reply = await p2.call("POST", "/v2.0/ports", {"port": {"network_id": world["private"]["id"]}})
    assert reply.status == 404 and reply.error == "NetworkNotFound"
    # the network's owner sees ports others put on its network
    owner_view = await api.as_(P1).get(f"/v2.0/ports/{port['id']}")
    assert owner_view["port"]["project_id"] == P2


async def test_member_restricted_port_attributes(api, world):
    """On another's shared network: no explicit IPs, MACs, port security, pairs, network: owners."""
    p2 = api.as_(P2)
    net_id = world["shared"]["id"]
    for attrs, action in (
        ({"fixed_ips": [{"ip_address": "10.1.0.50"}]}, "create_port:fixed_ips:ip_address"),
        ({"mac_address": "fa:16:3e:00:00:01"}, "create_port:mac_address"),
        ({"port_security_enabled": False}, "create_port:port_security_enabled"),
        (
            {"allowed_address_pairs": [{"ip_address": "10.1.0.9"}]},
            "create_port:allowed_address_pairs",
        ),
        ({"device_owner": "network:dhcp"}, "create_port:device_owner"),
        ({"binding:host_id": "node1"}, "create_port:binding:host_id"),
    ):
        reply = await p2.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, **attrs}})
        assert reply.status == 403 and reply.message == f"{action} is disallowed by policy.", attrs


async def test_owner_of_the_network_may_set_restricted_port_attributes(api, world):
    """The network's owner (W) may set MACs, explicit IPs and port security on its ports."""
    p1 = api.as_(P1)
    port = await p1.port(
        world["private"]["id"],
        mac_address="fa:16:3e:00:00:07",
        fixed_ips=[{"ip_address": "10.0.0.77"}],
        port_security_enabled=False,
        security_groups=[],
    )
    assert port["mac_address"] == "fa:16:3e:00:00:07"
    reply = await p1.call(
        "PUT", f"/v2.0/ports/{port['id']}", {"port": {"mac_address": "fa:16:3e:00:00:08"}}
    )
    assert (
        reply.status == 403 and reply.message == "update_port:mac_address is disallowed by policy."
    )


async def test_binding_attributes_need_admin_or_service(api, world):
    """Only admin or service may set binding:host_id; members do not even see it."""
    p1 = api.as_(P1)
    assert "binding:host_id" not in world["port"]
    assert "binding:vif_type" not in world["port"]
    reply = await p1.call(
        "PUT", f"/v2.0/ports/{world['port']['id']}", {"port": {"binding:host_id": "node1"}}
    )
    assert reply.status == 403
    service = api.as_(P1, "member,service")
    bound = await service.ok(
        "PUT", f"/v2.0/ports/{world['port']['id']}", {"port": {"binding:host_id": "node1"}}
    )
    assert bound["port"]["binding:host_id"] == "node1"
    assert bound["port"]["binding:vif_type"] == "binding_failed"
    assert (
        "provider:network_type"
        not in (await service.get(f"/v2.0/networks/{world['private']['id']}"))["network"]
    )


async def test_members_cannot_use_admin_network_attributes(api):
    """shared/router:external/provider:* need admin; default values do not count as set."""
    member = api.as_(P1)
    for attrs, action in (
        ({"shared": True}, "create_network:shared"),
        ({"router:external": True}, "create_network:router:external"),
        ({"provider:network_type": "vlan"}, "create_network:provider:network_type"),
        ({"provider:segmentation_id": 9}, "create_network:provider:segmentation_id"),
    ):
        reply = await member.call("POST", "/v2.0/networks", {"network": attrs})
        assert reply.status == 403 and reply.message == f"{action} is disallowed by policy.", attrs
    net = await member.network(shared=False, **{"router:external": False})
    assert "provider:network_type" not in net and "provider:segmentation_id" not in net
    reply = await member.call("PUT", f"/v2.0/networks/{net['id']}", {"network": {"shared": False}})
    assert reply.status == 403


async def test_members_cannot_create_for_another_project(api):
    """A non-admin naming another project in the body → 400 (as Neutron); an admin may."""
    reply = await api.as_(P1).call("POST", "/v2.0/networks", {"network": {"project_id": P2}})
    assert reply.status == 400 and reply.error == "HTTPBadRequest"
    net = await api.as_(P1).network()
    reply = await api.as_(P1).call(
        "POST", "/v2.0/ports", {"port": {"network_id": net["id"], "project_id": P2}}
    )
    assert reply.status == 400 and reply.error == "HTTPBadRequest"
    assert (await api.as_(P1).network(project_id=P1))["project_id"] == P1
    assert (await api.as_(P1, "admin").network(project_id=P2))["project_id"] == P2


async def test_readers_cannot_write(api, world):
    """A reader-only caller reads its project but every write is 403."""
    reader = api.as_(P1, "reader")
    assert {n["name"] for n in (await reader.get("/v2.0/networks"))["networks"]} == {
        "p1-private",
        "p1-shared",
    }
    reply = await reader.call("POST", "/v2.0/networks", {"network": {}})
    assert reply.status == 403
    reply = await reader.call(
        "PUT", f"/v2.0/networks/{world['private']['id']}", {"network": {"name": "x"}}
    )
    assert reply.status == 403


async def test_roles_header_is_trimmed_and_case_insensitive(api):
    """X-Roles " Admin , member" grants admin."""
    reply = await api.call(
        "POST",
        "/v2.0/networks",
        {"network": {"shared": True}},
        headers={"X-Project-Id": P1, "X-Roles": " Admin , member"},
    )
    assert reply.status == 201


async def test_native_paths_are_scoped_by_their_project_even_for_admins(api, world):
    """/project/{p}/… lists and shows only what p may read, admin included."""
    names = {n["name"] for n in (await api.get(f"/project/{P2}/vpcs"))["networks"]}
    assert names == {"p1-shared", "p2-private"}
    reply = await api.call("GET", f"/project/{P2}/vpcs/{world['private']['id']}")
    assert reply.status == 404 and reply.error == "NetworkNotFound"
    ports = (await api.get(f"/project/{P1}/ports"))["ports"]
    assert [p["id"] for p in ports] == [world["port"]["id"]]
    assert "binding:host_id" in ports[0]  # an admin keeps admin attribute rights


async def test_native_path_of_another_project_is_403_for_members(api, world):
    """A member of p2 on /project/p1/… → 403 (Appendix A), whatever the operation."""
    p2 = api.as_(P2)
    reply = await p2.call("GET", f"/project/{P1}/vpcs")
    assert reply.status == 403 and reply.message == "get_network is disallowed by policy."
    reply = await p2.call(
        "POST", f"/project/{P1}/ports", {"port": {"network_id": world["shared"]["id"]}}
    )
    assert reply.status == 403 and reply.message == "create_port is disallowed by policy."
    reply = await p2.call("DELETE", f"/project/{P1}/subnets/{world['subnet']['id']}")
    assert reply.status == 403


async def test_native_create_is_owned_by_the_path_project(api):
    """Creates on /project/{p}/… belong to p; a different body project is 400."""
    body = await api.ok(
        "POST", "/project/p7/vpcs", {"network": {"name": "vpc1", "cidr": "172.16.0.0/16"}}, 201
    )
    assert body["network"]["project_id"] == "p7" and body["network"]["cidr"] == "172.16.0.0/16"
    reply = await api.call("POST", "/project/p7/vpcs", {"network": {"project_id": "p8"}})
    assert reply.status == 400
    member = await api.call(
        "POST", "/project/p7/vpcs", {"network": {}}, headers={"X-Roles": "member"}
    )
    assert member.status == 201 and member.body["network"]["project_id"] == "p7"


async def test_native_paths_ignore_original_alcor_attributes_v2_refuses_them(api):
    """revision_number/is_default/… are ignored on native paths and 400 on /v2.0 (§3.4)."""
    body = {
        "network": {
            "name": "vpc1",
            "cidr": "172.16.0.0/16",
            "revision_number": 0,
            "is_default": True,
            "create_at": "2020",
        }
    }
    created = await api.ok("POST", "/project/p1/vpcs", body, 201)
    assert created["network"]["revision_number"] == 1
    reply = await api.call("POST", "/v2.0/networks", body)
    assert reply.status == 400 and reply.error == "HTTPBadRequest"
    assert reply.message.startswith("Unrecognized attribute(s)")
    port_body = {
        "port": {
            "network_id": created["network"]["id"],
            "fast_path": True,
            "dns_name": "vm",
            "binding:vif_type": "ovs",
        }
    }
    await api.ok("POST", "/project/p1/ports", port_body, 201)
    reply = await api.call("POST", "/v2.0/ports", port_body)
    assert reply.status == 400


async def test_native_bulk_paths(api):
    """POST …/vpcs/bulk (vpcs or networks key), …/subnets/bulk and …/ports/bulk create all."""
    nets = await api.ok(
        "POST", "/project/p1/vpcs/bulk", {"vpcs": [{"name": "a"}, {"name": "b"}]}, 201
    )
    assert [n["name"] for n in nets["networks"]] == ["a", "b"]
    more = await api.ok("POST", "/project/p1/vpcs/bulk", {"networks": [{"name": "c"}]}, 201)
    net_id = more["networks"][0]["id"]
    subnets = await api.ok(
        "POST",
        "/project/p1/subnets/bulk",
        {"subnets": [{"network_id": net_id, "cidr": "10.0.0.0/24"}]},
        201,
    )
    assert subnets["subnets"][0]["project_id"] == "p1"
    ports = await api.ok(
        "POST",
        "/project/p1/ports/bulk",
        {"ports": [{"network_id": net_id}, {"network_id": net_id}]},
        201,
    )
    assert [p["fixed_ips"][0]["ip_address"] for p in ports["ports"]] == ["10.0.0.2", "10.0.0.3"]
    reply = await api.call("POST", "/project/p1/ports/bulk", {"port": {"network_id": net_id}})
    assert reply.status == 400


async def test_token_strategy(make_api):
    """auth.strategy token: 401 without a known token; X-Auth-Token or Bearer identify."""
    api = await make_api(
        **{
            "auth.strategy": "token",
            "auth.tokens": [
                {"token": "member-token", "project_id": "tp", "roles": ["member"]},
                {"token": "admin-token", "project_id": "admin", "roles": ["admin"]},
            ],
        }
    )
    reply = await api.call("GET", "/v2.0/networks")
    assert reply.status == 401 and reply.error == "HTTPUnauthorized"
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="alcor"'
    reply = await api.call("GET", "/v2.0/extensions", headers={"X-Auth-Token": "wrong"})
    assert reply.status == 401
    assert (await api.get("/"))["versions"]
    assert (await api.get("/healthz")) == {"status": "ok"}
    net = await api.ok(
        "POST",
        "/v2.0/networks",
        {"network": {}},
        201,
        headers={"X-Auth-Token": "member-token", "X-Project-Id": "spoof", "X-Roles": "admin"},
    )
    assert net["network"]["project_id"] == "tp" and "provider:network_type" not in net["network"]
    body = await api.get("/v2.0/networks", headers={"Authorization": "Bearer admin-token"})
    assert body["networks"][0]["provider:network_type"] == "vxlan"
    reply = await api.call("GET", "/nosuch")
    assert reply.status == 401


async def test_external_networks_are_readable_but_not_for_ports(api):
    """A router:external network is readable by all, its subnets are not (as in Neutron:
    Tempest's external-network visibility test); ports on it → 403."""
    ext = await api.network(name="public", project_id="ops", **{"router:external": True})
    subnet = await api.subnet(ext["id"], "203.0.113.0/24")
    p2 = api.as_(P2)
    assert [n["name"] for n in (await p2.get("/v2.0/networks"))["networks"]] == ["public"]
    assert (await p2.call("GET", f"/v2.0/subnets/{subnet['id']}")).status == 404
    assert (await p2.get("/v2.0/subnets"))["subnets"] == []
    reply = await p2.call("POST", "/v2.0/ports", {"port": {"network_id": ext["id"]}})
    assert reply.status == 403 and reply.message == "create_port is disallowed by policy."
