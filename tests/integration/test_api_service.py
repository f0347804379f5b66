"""Service documents, health, OpenAPI, routing errors, body errors and error precedence."""

from __future__ import annotations

import re

from aiohttp import web

from alcor.api.routing import Route
from tests.integration.conftest import Api

EXTENSION_ALIASES = {
    "allowed-address-pairs",
    "availability_zone",
    "binding",
    "dvr",
    "empty-string-filtering",
    "external-net",
    "extra_dhcp_opt",
    "extraroute",
    "extraroute-atomic",
    "ext-gw-mode",
    "filter-validation",
    "fip-port-details",
    "net-mtu",
    "net-mtu-writable",
    "network-ip-availability",
    "network_availability_zone",
    "pagination",
    "port-security",
    "port-trusted-vif",
    "port-security-groups-filtering",
    "project-id",
    "provider",
    "quotas",
    "quota_details",
    "revision-if-match",
    "router",
    "security-group",
    "sorting",
    "standard-attr-description",
    "standard-attr-revisions",
    "standard-attr-tag",
    "standard-attr-timestamp",
    "alcor",
    "ip-substring-filtering",
    "service-type",
    "subnet_allocation",
    "l3-ha",
    "tag-ports-during-bulk-creation",
    "subnetpool-prefix-ops",
    "floatingip-pools",
    "quota-check-limit",
    "default-subnetpools",
    "router-admin-state-down-before-update",
    "port-mac-address-regenerate",
    "rbac-policies",
    "qos",
    "qos-bw-limit-direction",
    "qos-bw-minimum-ingress",
    "qos-default",
    "qos-rule-type-details",
    "trunk",
    "trunk-details",
    "address-scope",
    "rbac-address-scope",
    "rbac-subnetpool",
    "security-groups-default-rules",
    "security-groups-normalized-cidr",
    "security-groups-remote-address-group",
    "security-groups-shared-filtering",
    "stateful-security-group",
    "rbac-security-groups",
    "address-group",
    "rbac-address-group",
    "floating-ip-port-forwarding",
    "floating-ip-port-forwarding-description",
    "floating-ip-port-forwarding-detail",
    "floating-ip-port-forwarding-port-ranges",
    "expose-port-forwarding-in-fip",
    "metering",
    "metering_source_and_destination_filters",
    "flavors",
    "l3-flavors",
    "dns-integration",
    "dns-domain-ports",
    "subnet-service-types",
    "qos-pps-minimum",
    "port-resource-request",
    "port-resource-request-groups",
    "router_availability_zone",
    "subnet_onboard",
    "network-segment-range",
    "segment",
    "multi-provider",
    "standard-attr-segment",
    "floating-ip-router-writable",
    "router-interface-fip",
    "auto-allocated-topology",
}


async def test_version_document(api, client):
    """GET / lists v2.0 as CURRENT with an absolute self link from the request's host."""
    body = await api.get("/")
    host = f"http://{client.host}:{client.port}"
    assert body == {
        "versions": [
            {"id": "v2.0", "status": "CURRENT", "links": [{"href": f"{host}/v2.0/", "rel": "self"}]}
        ]
    }


async def test_resource_document(api, client):
    """GET /v2.0/ lists the nine resources with their collection links."""
    body = await api.get("/v2.0/")
    names = [r["name"] for r in body["resources"]]
    assert names == [
        "network",
        "subnet",
        "port",
        "router",
        "floatingip",
        "security_group",
        "security_group_rule",
        "quota",
        "network_ip_availability",
    ]
    network = body["resources"][0]
    assert network == {
        "name": "network",
        "collection": "networks",
        "links": [{"href": f"http://{client.host}:{client.port}/v2.0/networks", "rel": "self"}],
    }


async def test_public_base_url_is_used_for_links(make_api):
    """api.public_base_url replaces the request's scheme and host in documents and links."""
    api = await make_api(**{"api.public_base_url": "https://alcor.example.com:8443/"})
    body = await api.get("/")
    assert body["versions"][0]["links"][0]["href"] == "https://alcor.example.com:8443/v2.0/"
    for _ in range(2):
        await api.network()
    page = await api.get("/v2.0/networks?limit=1")
    assert page["networks_links"][0]["href"].startswith(
        "https://alcor.example.com:8443/v2.0/networks?"
    )


async def test_extensions_list_exactly_what_is_implemented(api):
    """GET /v2.0/extensions is a list of the spec's aliases, each fully described."""
    body = await api.get("/v2.0/extensions")
    assert isinstance(body["extensions"], list)
    assert {e["alias"] for e in body["extensions"]} == EXTENSION_ALIASES
    for ext in body["extensions"]:
        assert set(ext) == {"name", "alias", "description", "updated", "links"}
        assert ext["links"] == [] and ext["name"] and ext["description"]
    router = await api.get("/v2.0/extensions/router")
    assert router["extension"]["name"] == "Neutron L3 Router"
    reply = await api.call("GET", "/v2.0/extensions/logging")
    assert reply.status == 404 and reply.error == "HTTPNotFound"


async def test_healthz_and_metrics(api, client):
    """/healthz answers ok while running; /metrics is Prometheus text with HTTP counters."""
    assert await api.get("/healthz") == {"status": "ok"}
    await api.get("/v2.0/networks")
    async with client.get("/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await resp.text()
    assert 'alcor_http_requests_total{method="GET",route="/v2.0/networks",status="200"}' in text


async def test_metrics_count_store_commits_and_transactions(api, client):
    """alcor_store_writes counts commits and the transactions they carried."""
    await api.ok("POST", "/v2.0/networks", {"network": {"name": "counted"}}, status=201)
    async with client.get("/metrics") as resp:
        text = await resp.text()
    values = {
        line.split("}")[0].split('"')[1]: float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("alcor_store_writes{")
    }
    assert values["commits"] >= 1 and values["transactions"] >= values["commits"]


async def test_segments_default_table_is_a_no_op(api):
    """POST /segments/createDefaultTable answers 200 {} for the original's setup scripts."""
    assert await api.ok("POST", "/segments/createDefaultTable") == {}


async def test_availability_zones(api):
    """GET /v2.0/availability_zones lists the configured zones (for networks and routers)
    and filters them."""
    body = await api.get("/v2.0/availability_zones")
    assert body == {
        "availability_zones": [
            {"name": "nova", "resource": "network", "state": "available"},
            {"name": "nova", "resource": "router", "state": "available"},
        ]
    }
    routers = await api.get("/v2.0/availability_zones?resource=router")
    assert [z["resource"] for z in routers["availability_zones"]] == ["router"]
    assert (await api.get("/v2.0/availability_zones?name=x")) == {"availability_zones": []}
    reply = await api.call("GET", "/v2.0/availability_zones?colour=x")
    assert reply.status == 400


async def test_openapi_document_matches_the_served_routes(api, client):
    """Every served (method, path) is in /openapi.json and every documented one is served."""
    doc = await api.get("/openapi.json")
    assert doc["openapi"].startswith("3.1")

    from alcor.api.web import ROUTER

    served = {(r.method.lower(), r.template) for r in client.server.app[ROUTER].routes}
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert documented == served
    for method, path in sorted(documented - {("get", "/metrics")}):
        concrete = re.sub(
            r"{(\w+)}", lambda m: {"project_id": "p1", "alias": "router"}.get(m.group(1), "x"), path
        )
        if concrete.endswith("/watch"):
            concrete += "?since=not-a-cursor"  # a 400 instead of an endless stream
        reply = await api.call(method.upper(), concrete, headers={"X-Roles": "admin"})
        assert reply.status != 404 or reply.error != "HTTPNotFound", (method, path)
        assert reply.status != 405, (method, path)


async def test_openapi_describes_resources_aliases_and_policy(api):
    """Schemas come from the attribute tables; aliases and restricted attributes are marked."""
    doc = await api.get("/openapi.json")
    schemas = doc["components"]["schemas"]
    assert "NeutronError" in schemas
    assert "network_id" in schemas["port_create"]["required"]
    assert "status" not in schemas["port_create"]["properties"]
    assert "network_id" not in schemas["port_update"]["properties"]
    assert "x-alcor-policy" in schemas["network"]["properties"]["provider:network_type"]
    alias = doc["paths"]["/project/{project_id}/vpcs"]["get"]
    assert alias["x-alcor-alias-of"] == "/v2.0/networks"
    for path in (
        "/v2.0/networks",
        "/v2.0/subnets/{id}",
        "/v2.0/ports/{id}/tags/{tag}",
        "/nodes",
        "/nodes/bulk",
        "/v2.0/quotas/{target}/details",
        "/v2.0/extensions",
        "/project/{project_id}/ports/bulk",
    ):
        assert path in doc["paths"], path
    assert "securitySchemes" not in doc["components"]


async def test_openapi_lists_security_schemes_in_token_mode(make_api):
    """With auth.strategy token the document declares the X-Auth-Token and bearer schemes."""
    api = await make_api(
        **{"auth.strategy": "token", "auth.tokens": [{"token": "t", "project_id": "p"}]}
    )
    doc = await api.get("/openapi.json")
    assert {"token", "bearer"} <= set(doc["components"]["securitySchemes"])


async def test_unknown_paths_are_404_http_not_found(api):
    """Unknown paths and the original Alcor's dropped paths answer 404 HTTPNotFound."""
    for path in (
        "/v2.0/nosuch",
        "/ips",
        "/macs/1",
        "/v4/networks",
        "/project/p/vpcs/x/router",
        "/segments",
        "/v2.0/networks/a/b/c",
    ):
        reply = await api.call("GET", path)
        assert reply.status == 404 and reply.body == {
            "NeutronError": {
                "type": "HTTPNotFound",
                "message": "The resource could not be found.",
                "detail": "",
            }
        }, path


async def test_wrong_method_is_405_with_allow(api, net):
    """A known path with an unsupported method (HEAD too) → 405 with an Allow header."""
    reply = await api.call("DELETE", "/v2.0/networks")
    assert reply.status == 405 and reply.error == "HTTPMethodNotAllowed"
    assert reply.message == "The method DELETE is not allowed for this resource."
    assert reply.headers["Allow"] == "GET, POST"
    reply = await api.call("POST", f"/v2.0/networks/{net['id']}")
    assert reply.status == 405 and reply.headers["Allow"] == "DELETE, GET, PUT"
    reply = await api.call("HEAD", "/v2.0/networks")
    assert reply.status == 405 and reply.headers["Allow"] == "GET, POST"


async def test_body_over_the_limit_is_413(make_api):
    """A body larger than api.max_body_bytes → 413 HTTPRequestEntityTooLarge."""
    api = await make_api(**{"api.max_body_bytes": 1024})
    reply = await api.call("POST", "/v2.0/networks", {"network": {"description": "x" * 2000}})
    assert reply.status == 413 and reply.error == "HTTPRequestEntityTooLarge"
    assert reply.message == "Request is too large."


async def test_json_suffix_and_trailing_slash(api, net):
    """A /v2.0 path may end in .json and any path in /; both resolve to the same route."""
    for path in (
        "/v2.0/networks.json",
        "/v2.0/networks/",
        f"/v2.0/networks/{net['id']}.json",
        f"/v2.0/networks/{net['id']}/",
        "/healthz/",
        "/v2.0/extensions.json",
    ):
        reply = await api.call("GET", path)
        assert reply.status == 200, path
    created = await api.ok("POST", "/v2.0/networks.json", {"network": {"name": "j"}}, 201)
    assert created["network"]["name"] == "j"
    reply = await api.call("GET", "/healthz.json")
    assert reply.status == 404


async def test_malformed_bodies_are_400(api):
    """Bad JSON, non-objects, missing or extra wrappers are 400 with the spec's messages."""
    cases = [
        (b'{"network": {"name": "x"}', "Malformed request body"),
        (b"[1, 2]", "Malformed request body"),
        (b"", "Malformed request body"),
        (b'"network"', "Malformed request body"),
        (b'{"net": {}}', "Unable to find 'network' in request body"),
        (b'{"network": {}, "extra": 1}', "Unrecognized attribute(s) 'extra'"),
        (b'{"network": "x"}', None),
        (b'{"networks": {"name": "x"}}', None),
        (b"\xff\xfe", "Malformed request body"),
    ]
    for data, message in cases:
        reply = await api.call(
            "POST", "/v2.0/networks", data=data, headers={"Content-Type": "text/plain"}
        )
        assert reply.status == 400 and reply.error == "HTTPBadRequest", data
        if message is not None:
            assert reply.message == message, data
    reply = await api.call(
        "PUT", "/v2.0/networks/11111111-1111-4111-8111-111111111111", {"networks": [{"name": "x"}]}
    )
    assert reply.status == 400


async def test_body_is_json_whatever_the_content_type(api):
    """Request bodies are parsed as JSON even without a JSON Content-Type."""
    reply = await api.call(
        "POST",
        "/v2.0/networks",
        data=b'{"network": {"name": "ct"}}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 201 and reply.body["network"]["name"] == "ct"


async def test_unexpected_errors_are_500_with_the_request_id_only(make_config, caplog):
    """An unexpected exception answers a generic 500 quoting the request id, no internals."""
    from aiohttp.test_utils import TestClient, TestServer

    from alcor.api.web import make_web_app
    from alcor.app import build

    async def broken(request: web.Request, params: dict[str, str]) -> web.Response:
        raise RuntimeError("secret internals")

    alcor = build(make_config())
    alcor.route_plugins.append(lambda router, _: router.add(Route("GET", "/broken", broken)))
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        reply = await Api(client).call("GET", "/broken")
    assert reply.status == 500 and reply.error == "HTTPInternalServerError"
    request_id = reply.headers["X-Openstack-Request-Id"]
    assert reply.message == (
        "Request Failed: internal server error while processing your "
        f"request. Request id: {request_id}"
    )
    assert "secret" not in str(reply.body)
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_error_precedence_route_before_body(api):
    """An unknown path or a wrong method wins over a malformed body."""
    reply = await api.call("POST", "/v2.0/nosuch", data=b"{bad")
    assert reply.status == 404
    reply = await api.call("PATCH", "/v2.0/networks", data=b"{bad")
    assert reply.status == 405


async def test_error_precedence_native_scope_before_body_and_size(make_api):
    """On a native path of another project, a member gets 403 before any body error."""
    api = await make_api(**{"api.max_body_bytes": 1024})
    member = api.as_("p2")
    for data in (b"{bad", b'{"network": {"colour": 1}}', b"x" * 2000):
        reply = await member.call("POST", "/project/p1/vpcs", data=data)
        assert reply.status == 403 and reply.error == "PolicyNotAuthorized", data
    reply = await member.call(
        "PUT", "/project/p1/vpcs/11111111-1111-4111-8111-111111111111", data=b"{bad"
    )
    assert reply.status == 403


async def test_error_precedence_validation_before_not_found(api):
    """Attribute errors (400) win over an unknown target (404) on PUT."""
    reply = await api.call(
        "PUT", "/v2.0/networks/11111111-1111-4111-8111-111111111111", {"network": {"colour": "x"}}
    )
    assert reply.status == 400
    reply = await api.call(
        "PUT", "/v2.0/networks/11111111-1111-4111-8111-111111111111", {"network": {"name": "x"}}
    )
    assert reply.status == 404 and reply.error == "NetworkNotFound"


async def test_error_precedence_not_found_before_policy_before_if_match(api):
    """Invisible → 404 even with restricted attributes; visible but forbidden → 403 before 412."""
    owner = api.as_("p1")
    shared = await api.network(project_id="p1", shared=True)
    private = await owner.network()
    other = api.as_("p2")
    reply = await other.call(
        "PUT", f"/v2.0/networks/{private['id']}", {"network": {"shared": True}}
    )
    assert reply.status == 404 and reply.error == "NetworkNotFound"
    reply = await other.call(
        "PUT",
        f"/v2.0/networks/{shared['id']}",
        {"network": {"name": "x"}},
        headers={"If-Match": "revision_number=9"},
    )
    assert reply.status == 403 and reply.error == "PolicyNotAuthorized"
    reply = await owner.call(
        "PUT",
        f"/v2.0/networks/{shared['id']}",
        {"network": {"shared": False}},
        headers={"If-Match": "revision_number=9"},
    )
    assert reply.status == 403 and reply.message == "update_network:shared is disallowed by policy."
    reply = await owner.call(
        "PUT",
        f"/v2.0/networks/{shared['id']}",
        {"network": {"name": "x"}},
        headers={"If-Match": "revision_number=9"},
    )
    assert reply.status == 412


async def test_error_precedence_if_match_before_domain_conflicts(api, net):
    """A stale If-Match answers 412 even when the change would also conflict (409)."""
    await api.port(net["id"])
    reply = await api.call(
        "DELETE", f"/v2.0/networks/{net['id']}", headers={"If-Match": "revision_number=99"}
    )
    assert reply.status == 412
    reply = await api.call("DELETE", f"/v2.0/networks/{net['id']}")
    assert reply.status == 409


async def test_every_response_carries_a_request_id(api):
    """Successes, errors and public documents all carry X-Openstack-Request-Id."""
    for method, path in (
        ("GET", "/"),
        ("GET", "/v2.0/networks"),
        ("GET", "/nosuch"),
        ("DELETE", "/v2.0/networks"),
    ):
        reply = await api.call(method, path)
        assert re.fullmatch(r"req-[0-9a-f-]{36}", reply.headers["X-Openstack-Request-Id"])


async def test_served_bodies_match_the_openapi_schemas(api, net):
    """Real create bodies and responses validate against the schemas /openapi.json publishes."""
    from jsonschema import Draft202012Validator

    schemas = (await api.get("/openapi.json"))["components"]["schemas"]
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    await api.subnet(net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    await api.node("node1", "192.0.2.11")
    port_body = {
        "network_id": net["id"],
        "name": "p",
        "binding:host_id": "node1",
        "allowed_address_pairs": [{"ip_address": "10.0.0.0/24"}],
        "extra_dhcp_opts": [{"opt_name": "a", "opt_value": "b"}],
        "fixed_ips": [{"subnet_id": net["subnet"]["id"]}],
    }
    Draft202012Validator(schemas["port_create"]).validate(port_body)
    await api.port(**port_body)
    Draft202012Validator(schemas["network_update"]).validate({"name": "x", "mtu": 1400})
    for collection, key in (
        ("/v2.0/networks", "networks"),
        ("/v2.0/subnets", "subnets"),
        ("/v2.0/ports", "ports"),
        ("/v2.0/security-groups", "security_groups"),
        ("/v2.0/security-group-rules", "security_group_rules"),
        ("/nodes", "host_infos"),
    ):
        items = (await api.get(collection))[key]
        assert items, collection
        schema = schemas[
            {
                "networks": "network",
                "subnets": "subnet",
                "ports": "port",
                "security_groups": "security_group",
                "security_group_rules": "security_group_rule",
                "host_infos": "host_info",
            }[key]
        ]
        validator = Draft202012Validator({**schema, "additionalProperties": False})
        for item in items:
            validator.validate(item)


async def test_agents_and_service_providers_are_empty_lists(api):
    """alcor has no Neutron agents and no service providers: both lists are empty."""
    assert await api.get("/v2.0/agents") == {"agents": []}
    assert await api.get("/v2.0/service-providers") == {"service_providers": []}


async def test_ports_filter_by_ip_address_substring(api):
    """fixed_ips=ip_address_substr=… matches ports whose address contains the text."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.77.0.0/24")
    a = (
        await api.ok(
            "POST",
            "/v2.0/ports",
            {
                "port": {
                    "network_id": net["id"],
                    "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.77.0.123"}],
                }
            },
            201,
        )
    )["port"]
    await api.ok(
        "POST",
        "/v2.0/ports",
        {
            "port": {
                "network_id": net["id"],
                "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.77.0.45"}],
            }
        },
        201,
    )
    found = await api.get("/v2.0/ports?fixed_ips=ip_address_substr%3D0.12")
    assert [p["id"] for p in found["ports"]] == [a["id"]]
