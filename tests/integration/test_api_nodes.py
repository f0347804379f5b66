"""The node registry (§12): register, bulk, filters, uniqueness, updates, delete, rebinding."""

from __future__ import annotations

NODE_ID = "1112a4d4-0000-4000-8000-000000005001"


def _body(**attrs):
    base = {"node_name": "node1", "local_ip": "192.0.2.11", "mac_address": "52:54:00:12:34:56"}
    return {"host_info": {**base, **attrs}}


async def test_register_node_with_defaults(api):
    """POST /nodes answers 201 with every field and its default (§12 example)."""
    reply = await api.call("POST", "/nodes", _body(node_id=NODE_ID, veth="eth0", transport="kafka"))
    assert reply.status == 201
    node = reply.body["host_info"]
    assert {
        k: node[k]
        for k in (
            "node_id",
            "node_name",
            "local_ip",
            "mac_address",
            "veth",
            "server_port",
            "data-path-ip",
            "ncm_id",
            "transport",
            "mq_topic",
        )
    } == {
        "node_id": NODE_ID,
        "node_name": "node1",
        "local_ip": "192.0.2.11",
        "mac_address": "52:54:00:12:34:56",
        "veth": "eth0",
        "server_port": 50001,
        "data-path-ip": None,
        "ncm_id": None,
        "transport": "kafka",
        "mq_topic": None,
    }
    assert node["host_dvr_mac"].startswith("fe:16:11:")
    shown = (await api.get(f"/nodes/{NODE_ID}"))["host_info"]
    assert shown.pop("southbound")["transport"] == "kafka"  # delivery state (southbound §5.3)
    assert shown == node


async def test_generated_node_id_and_default_transport(api):
    """Without node_id a UUID is generated; transport defaults to southbound.default_transport."""
    node = await api.node("n2", "192.0.2.12")
    assert len(node["node_id"]) == 36 and node["transport"] == "grpc"
    assert node["veth"] == "" and node["server_port"] == 50001


async def test_data_path_ip_alias_and_mac_normalisation(api):
    """data_path_ip is accepted for data-path-ip; host MACs come back lowercase with colons."""
    node = await api.ok(
        "POST", "/nodes", _body(data_path_ip="198.51.100.7", mac_address="52-54-00-AB-CD-EF"), 201
    )
    node = node["host_info"]
    assert node["data-path-ip"] == "198.51.100.7" and node["mac_address"] == "52:54:00:ab:cd:ef"
    updated = await api.ok(
        "PUT", f"/nodes/{node['node_id']}", {"host_info": {"data_path_ip": "198.51.100.8"}}
    )
    assert updated["host_info"]["data-path-ip"] == "198.51.100.8"


async def test_node_conflicts(api):
    """Duplicate id, name or (local_ip, server_port) → 409 with the spec's types."""
    await api.ok("POST", "/nodes", _body(node_id=NODE_ID), 201)
    cases = [
        (_body(node_id=NODE_ID, node_name="x", local_ip="192.0.2.99"), "NodeExists"),
        (_body(local_ip="192.0.2.99"), "NodeNameInUse"),
        (_body(node_name="node2"), "NodeAddressInUse"),
    ]
    for body, error in cases:
        reply = await api.call("POST", "/nodes", body)
        assert reply.status == 409 and reply.error == error, error
    reply = await api.call(
        "POST", "/nodes", _body(node_id=NODE_ID, node_name="x", local_ip="192.0.2.99")
    )
    assert reply.message == f"Node {NODE_ID} already exists."
    # the same address on another port is a different agent
    await api.ok("POST", "/nodes", _body(node_name="node2", server_port=50002), 201)


async def test_node_validation_errors(api):
    """Missing required fields and bad values are 400."""
    for body in (
        {"host_info": {"local_ip": "192.0.2.1", "mac_address": "52:54:00:12:34:56"}},
        _body(local_ip="not-an-ip"),
        _body(mac_address="52:54:00"),
        _body(server_port=0),
        _body(server_port=70000),
        _body(transport="carrier-pigeon"),
        _body(mq_topic="bad topic!"),
        _body(node_id="bad id/with slash"),
        _body(node_name=""),
        _body(colour="blue"),
    ):
        reply = await api.call("POST", "/nodes", body)
        assert reply.status == 400 and reply.error == "HTTPBadRequest", body


async def test_kafka_transport_needs_an_alcor_agent(api):
    """transport kafka/auto with agent_type aca → 400; without agent_type it is implied."""
    reply = await api.call("POST", "/nodes", _body(transport="kafka", agent_type="aca"))
    assert reply.status == 400
    node = (await api.ok("POST", "/nodes", _body(transport="auto", mq_topic="host.n1"), 201))[
        "host_info"
    ]
    assert node["mq_topic"] == "host.n1"


async def test_bulk_nodes_are_all_or_nothing(api):
    """POST /nodes/bulk registers every node or none."""
    body = {
        "host_infos": [
            _body(node_name=f"n{i}", local_ip=f"192.0.2.{i}")["host_info"] for i in range(1, 4)
        ]
    }
    created = (await api.ok("POST", "/nodes/bulk", body, 201))["host_infos"]
    assert [n["node_name"] for n in created] == ["n1", "n2", "n3"]
    body = {
        "host_infos": [
            _body(node_name="n9", local_ip="192.0.2.9")["host_info"],
            _body(node_name="n9", local_ip="192.0.2.10")["host_info"],
        ]
    }
    reply = await api.call("POST", "/nodes/bulk", body)
    assert reply.status == 409 and reply.error == "NodeNameInUse"
    assert len((await api.get("/nodes"))["host_infos"]) == 3
    reply = await api.call("POST", "/nodes/bulk", {"host_info": body["host_infos"][0]})
    assert reply.status == 400


async def test_node_list_filters_aliases_and_pagination(api):
    """GET /nodes filters exactly (local_ip, node_name, transport, name/id aliases), paginates."""
    for i in range(1, 5):
        await api.node(f"n{i}", f"192.0.2.{i}", transport="kafka" if i % 2 else "grpc")
    one = (await api.get("/nodes?local_ip=192.0.2.3"))["host_infos"]
    assert [n["node_name"] for n in one] == ["n3"]
    assert [n["node_name"] for n in (await api.get("/nodes?name=n2"))["host_infos"]] == ["n2"]
    kafka = (await api.get("/nodes?transport=kafka&sort_key=node_name"))["host_infos"]
    assert [n["node_name"] for n in kafka] == ["n1", "n3"]
    by_id = (await api.get(f"/nodes?id={one[0]['node_id']}"))["host_infos"]
    assert [n["node_name"] for n in by_id] == ["n3"]
    page = await api.get("/nodes?limit=3&sort_key=node_name&fields=node_name")
    assert page["host_infos"] == [{"node_name": "n1"}, {"node_name": "n2"}, {"node_name": "n3"}]
    assert page["host_infos_links"][0]["rel"] == "next"
    assert "marker=" in page["host_infos_links"][0]["href"]
    rest = await api.get(
        "/nodes?limit=3&sort_key=node_name&marker="
        + (await api.get("/nodes?node_name=n3"))["host_infos"][0]["node_id"]
    )
    assert [n["node_name"] for n in rest["host_infos"]] == ["n4"]
    reply = await api.call("GET", "/nodes?colour=x")
    assert reply.status == 400


async def test_update_node(api):
    """PUT /nodes/{id} is partial; a body node_id equal to the path is ignored, else 400."""
    node = await api.node("n1", "192.0.2.1")
    path = f"/nodes/{node['node_id']}"
    updated = await api.ok(
        "PUT",
        path,
        {"host_info": {"server_port": 50010, "veth": "eth1", "node_id": node["node_id"]}},
    )
    assert updated["host_info"]["server_port"] == 50010
    assert updated["host_info"]["node_name"] == "n1"
    reply = await api.call("PUT", path, {"host_info": {"node_id": "other"}})
    assert reply.status == 400
    await api.node("n2", "192.0.2.2")
    reply = await api.call("PUT", path, {"host_info": {"node_name": "n2"}})
    assert reply.status == 409 and reply.error == "NodeNameInUse"
    reply = await api.call(
        "PUT", path, {"host_info": {"local_ip": "192.0.2.2", "server_port": 50001}}
    )
    assert reply.status == 409 and reply.error == "NodeAddressInUse"


async def test_unknown_node_is_404(api):
    """GET, PUT and DELETE of an unknown node → 404 NodeNotFound."""
    for method, body in (("GET", None), ("PUT", {"host_info": {"veth": "x"}}), ("DELETE", None)):
        reply = await api.call(method, "/nodes/nosuch", body)
        assert reply.status == 404 and reply.error == "NodeNotFound", method
        assert reply.message == "Node nosuch could not be found."


async def test_nodes_are_admin_only(api):
    """Members get 403 on every node path."""
    member = api.as_("p1")
    for method, path, body in (
        ("GET", "/nodes", None),
        ("POST", "/nodes", _body()),
        ("POST", "/nodes/bulk", {"host_infos": [_body()["host_info"]]}),
    ):
        reply = await member.call(method, path, body)
        assert reply.status == 403, (method, path)
    node = await api.node("n1", "192.0.2.1")
    for method, body in (("GET", None), ("PUT", {"host_info": {"veth": "x"}}), ("DELETE", None)):
        reply = await member.call(method, f"/nodes/{node['node_id']}", body)
        assert reply.status == 403, method


async def test_node_in_use_rules(api, net):
    """Bound ports block delete and name/address changes (NodeInUse); other fields may change."""
    node = await api.node("node1", "192.0.2.11")
    port = await api.port(net["id"], **{"binding:host_id": "node1"})
    path = f"/nodes/{node['node_id']}"
    reply = await api.call("DELETE", path)
    assert reply.status == 409 and reply.error == "NodeInUse"
    for change in ({"node_name": "renamed"}, {"local_ip": "192.0.2.99"}):
        reply = await api.call("PUT", path, {"host_info": change})
        assert reply.status == 409 and reply.error == "NodeInUse", change
    await api.ok("PUT", path, {"host_info": {"transport": "grpc", "server_port": 50005}})
    await api.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": ""}})
    await api.ok("DELETE", path, status=204)
    reply = await api.call("GET", path)
    assert reply.status == 404


async def test_registering_a_node_binds_its_waiting_ports(api, net):
    """Ports in binding_failed for a host are bound when that node registers (bulk too)."""
    waiting = [await api.port(net["id"], **{"binding:host_id": h}) for h in ("h1", "h2", "h1")]
    assert {p["binding:vif_type"] for p in waiting} == {"binding_failed"}
    await api.ok(
        "POST",
        "/nodes/bulk",
        {"host_infos": [_body(node_name="h1", local_ip="192.0.2.1")["host_info"]]},
        201,
    )
    states = [
        (await api.get(f"/v2.0/ports/{p['id']}"))["port"]["binding:vif_type"] for p in waiting
    ]
    assert states == ["ovs", "binding_failed", "ovs"]


async def test_renaming_an_unused_node_rebinds_ports_waiting_for_the_new_name(api, net):
    """A node renamed to a waiting host name binds that host's ports."""
    node = await api.node("old", "192.0.2.1")
    port = await api.port(net["id"], **{"binding:host_id": "new"})
    await api.ok("PUT", f"/nodes/{node['node_id']}", {"host_info": {"node_name": "new"}})
    assert (await api.get(f"/v2.0/ports/{port['id']}"))["port"]["binding:vif_type"] == "ovs"


async def test_static_nodes_from_config_are_registered_at_start(make_api):
    """[[nodes]] entries of the config are registered when alcor starts."""
    api = await make_api(
        nodes=[
            {
                "node_id": "node-1",
                "node_name": "compute-1",
                "local_ip": "192.0.2.11",
                "mac_address": "52:54:00:12:34:56",
            },
            {
                "node_id": "node-2",
                "node_name": "compute-2",
                "local_ip": "192.0.2.12",
                "mac_address": "52:54:00:12:34:57",
                "server_port": 50011,
                "transport": "grpc",
            },
        ]
    )
    nodes = {n["node_id"]: n for n in (await api.get("/nodes"))["host_infos"]}
    assert set(nodes) == {"node-1", "node-2"}
    assert nodes["node-1"]["server_port"] == 50001 and nodes["node-2"]["server_port"] == 50011


async def test_kafka_transport_refuses_the_v1_api(api):
    """transport kafka with grpc_api v1 is a 400: Kafka carries GoalStateV2 only."""
    reply = await api.call(
        "POST", "/nodes", _body(transport="kafka", agent_type="alcor", grpc_api="v1")
    )
    assert reply.status == 400
    assert "grpc_api" in reply.body["NeutronError"]["message"]


async def test_southbound_resources_kind_filter_accepts_any_case(api, net):
    """?kind=port, ?kind=Port and ?kind=PORT select the same delivery rows."""
    node = await api.node("node-kind", "192.0.2.41")
    await api.port(net["id"], **{"binding:host_id": "node-kind"})
    path = f"/nodes/{node['node_id']}/southbound/resources"
    everything = (await api.get(path))["resources"]
    assert any(r["kind"] == "PORT" for r in everything), everything
    answers = [(await api.get(f"{path}?kind={kind}"))["resources"] for kind in ("PORT", "port")]
    assert answers[0] == answers[1] == [r for r in everything if r["kind"] == "PORT"]
    assert (await api.get(f"{path}?kind=Neighbor"))["resources"] == [
        r for r in everything if r["kind"] == "NEIGHBOR"
    ]
