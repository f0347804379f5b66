"""The `token` strategy (northbound §1.4.1) and tenant isolation between two token holders."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest

from alcor.config import ConfigError, config_as_dict
from tests.integration.l3.support import Api

TOKENS = {
    "admin": "admin-secret",
    "p1": "p1-secret",
    "p2": "p2-secret",
    "r1": "r1-secret",
    "nova": "nova-secret",
}
ENTRIES = [
    {"token": TOKENS["admin"], "project_id": "ops", "roles": ["admin"]},
    {"token": TOKENS["p1"], "project_id": "p1", "roles": ["member"], "user_id": "alice"},
    # The same kind of entry given as a digest (upper-case hex is accepted).
    {
        "token_sha256": hashlib.sha256(TOKENS["p2"].encode()).hexdigest().upper(),
        "project_id": "p2",
        "roles": ["Member"],
    },
    {"token": TOKENS["r1"], "project_id": "p1", "roles": ["reader"]},
    {"token": TOKENS["nova"], "project_id": "p1", "roles": ["service"]},
]
CONFIG = {"auth.strategy": "token", "auth.tokens": ENTRIES}


@pytest.fixture
async def apis(make_api) -> dict[str, Api]:
    """An app in token mode: one Api per token holder, plus `anonymous` without a token."""
    base = await make_api(**CONFIG)
    out = {name: base.with_headers(X_Auth_Token=token) for name, token in TOKENS.items()}
    out["anonymous"] = base.with_headers()
    return out


# ---- authentication -----------------------------------------------------------------------


async def test_missing_or_unknown_token_is_401_with_bearer_challenge(apis):
    """No token or a wrong one is 401 HTTPUnauthorized with WWW-Authenticate."""
    anonymous = apis["anonymous"]
    for headers in (
        {},
        {"X-Auth-Token": "nope"},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Basic {TOKENS['p1']}"},
        {"X-Auth-Token": ""},
    ):
        reply = await anonymous.fails(
            "GET", "/v2.0/networks", headers=headers, status=401, error="HTTPUnauthorized"
        )
        assert reply.message == "Authentication required"
        assert reply.headers["WWW-Authenticate"] == 'Bearer realm="alcor"'


async def test_token_in_x_auth_token_or_bearer_header(apis):
    """The token is read from X-Auth-Token or `Authorization: Bearer` (any case)."""
    anonymous = apis["anonymous"]
    for headers in (
        {"X-Auth-Token": TOKENS["p1"]},
        {"Authorization": f"Bearer {TOKENS['p1']}"},
        {"Authorization": f"bearer {TOKENS['p1']}"},
    ):
        await anonymous.ok("GET", "/v2.0/networks", headers=headers)


async def test_a_token_sha256_entry_authenticates(apis):
    """An entry configured by digest accepts the plain token; its roles are lower-cased."""
    network = await apis["p2"].network(name="by-digest")
    assert network["project_id"] == "p2"


async def test_headers_cannot_change_the_tokens_project_or_roles(apis):
    """X-Project-Id and X-Roles are ignored in token mode."""
    p1 = apis["p1"]
    forged = {"X-Project-Id": "p2", "X-Tenant-Id": "p2", "X-Roles": "admin"}
    network = (
        await p1.ok("POST", "/v2.0/networks", {"network": {"name": "n"}}, 201, headers=forged)
    )["network"]
    assert network["project_id"] == "p1"
    assert "provider:network_type" not in network
    await p1.fails("GET", "/v2.0/quotas", headers=forged, status=403, error="PolicyNotAuthorized")
    assert (await apis["p2"].get("/v2.0/networks"))["networks"] == []


async def test_public_documents_need_no_token_but_everything_else_does(apis):
    """/, /v2.0/, /healthz, /metrics and /openapi.json are public; extensions are not."""
    anonymous = apis["anonymous"]
    for path in ("/", "/v2.0/", "/healthz", "/openapi.json"):
        await anonymous.ok("GET", path)
    async with anonymous.client.get("/metrics") as resp:
        assert resp.status == 200
    for path in (
        "/v2.0/extensions",
        "/v2.0/extensions/router",
        "/nodes",
        "/v2.0/quotas/p1",
        "/project/p1/vpcs",
    ):
        await anonymous.fails("GET", path, status=401, error="HTTPUnauthorized")


async def test_401_comes_before_404_and_405(apis):
    """Unknown paths and methods are 401 without a token, 404/405 with one."""
    await apis["anonymous"].fails("GET", "/v2.0/nothing-here", status=401, error="HTTPUnauthorized")
    await apis["p1"].fails("GET", "/v2.0/nothing-here", status=404, error="HTTPNotFound")
    await apis["anonymous"].fails("PATCH", "/v2.0/networks", status=401, error="HTTPUnauthorized")
    await apis["p1"].fails("PATCH", "/v2.0/networks", status=405, error="HTTPMethodNotAllowed")


async def test_openapi_declares_the_token_schemes(apis):
    """In token mode /openapi.json declares the X-Auth-Token and bearer schemes."""
    doc = await apis["anonymous"].get("/openapi.json")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["token"] == {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}
    assert schemes["bearer"]["scheme"] == "bearer"


async def test_tokens_are_never_logged(apis, caplog):
    """No log record of a request or a refusal contains a token."""
    caplog.set_level(logging.DEBUG)
    await apis["p1"].network(name="logged")
    await apis["anonymous"].call("GET", "/v2.0/networks", headers={"X-Auth-Token": "guess"})
    await apis["p1"].call("GET", "/v2.0/unknown")
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert not any(token in text for token in (*TOKENS.values(), "guess"))


def test_config_show_masks_tokens(make_config):
    """`alcor config show` masks token and token_sha256 values."""
    shown = config_as_dict(make_config(**CONFIG))
    assert [e.get("token") or e.get("token_sha256") for e in shown["auth"]["tokens"]] == [
        "***"
    ] * len(ENTRIES)


@pytest.mark.parametrize(
    "tokens,problem",
    [
        ([], "strategy 'token' needs at least one"),
        ([{"project_id": "p", "token": "a", "token_sha256": "b" * 64}], "exactly one of"),
        ([{"project_id": "p"}], "exactly one of"),
        ([{"project_id": "p", "token_sha256": "not-hex"}], "64 hexadecimal"),
        ([{"project_id": " ", "token": "a"}], "project_id: must not be empty"),
    ],
)
def test_bad_token_config_is_refused(make_config, tokens, problem):
    """Token entries need a project and exactly one of token / a valid sha256 digest."""
    with pytest.raises(ConfigError) as caught:
        make_config(**{"auth.strategy": "token", "auth.tokens": tokens})
    assert any(problem in p for p in caught.value.problems), caught.value.problems


# ---- roles --------------------------------------------------------------------------------


async def test_admin_token_sees_every_project(apis):
    """The admin role lists all projects' resources and reads admin-only attributes."""
    await apis["p1"].network(name="a")
    await apis["p2"].network(name="b")
    listed = (await apis["admin"].get("/v2.0/networks"))["networks"]
    assert {n["project_id"] for n in listed} == {"p1", "p2"}
    assert all("provider:network_type" in n for n in listed)


async def test_reader_token_is_read_only(apis):
    """A reader of p1 reads p1's resources; writes are 403 PolicyNotAuthorized."""
    network = await apis["p1"].network(name="n")
    reader = apis["r1"]
    assert [n["id"] for n in (await reader.get("/v2.0/networks"))["networks"]] == [network["id"]]
    for method, path, body in (
        ("POST", "/v2.0/networks", {"network": {}}),
        ("PUT", f"/v2.0/networks/{network['id']}", {"network": {"name": "x"}}),
        ("DELETE", f"/v2.0/networks/{network['id']}", None),
        ("POST", "/v2.0/routers", {"router": {}}),
        ("POST", "/v2.0/security-groups", {"security_group": {"name": "x"}}),
    ):
        await reader.fails(method, path, body, status=403, error="PolicyNotAuthorized")


async def test_service_token_may_bind_ports(apis):
    """The service role (Nova) sets and reads binding:host_id; members may not."""
    network = await apis["admin"].network(shared=True)
    await apis["admin"].subnet(network["id"], "10.0.0.0/24")
    reply = await apis["p1"].fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": network["id"], "binding:host_id": "node1"}},
        status=403,
        error="PolicyNotAuthorized",
    )
    assert reply.message == "create_port:binding:host_id is disallowed by policy."
    port = await apis["p1"].port(network["id"])
    assert "binding:host_id" not in port
    body = await apis["nova"].ok(
        "PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "node1"}}
    )
    assert body["port"]["binding:host_id"] == "node1"
    assert body["port"]["binding:vif_type"] == "binding_failed"


# ---- isolation between two projects -------------------------------------------------------


async def _estate(api: Api, admin: Api, public_id: str, third_octet: int) -> dict[str, Any]:
    """Build a project's network, subnet, port, router, group, rule and floating IP."""
    network, subnet = await api.lan(f"10.{third_octet}.0.0/24")
    port = await api.port(network["id"])
    router = await api.router(external_gateway_info={"network_id": public_id})
    await api.add_interface(router["id"], subnet_id=subnet["id"])
    group = await api.sg(name="web")
    rule = await api.rule(group["id"], protocol="tcp", port_range_min=80)
    fip = await api.fip(public_id, port_id=port["id"])
    return {
        "networks": network,
        "subnets": subnet,
        "ports": port,
        "routers": router,
        "security-groups": group,
        "security-group-rules": rule,
        "floatingips": fip,
    }


ERRORS = {
    "networks": "NetworkNotFound",
    "subnets": "SubnetNotFound",
    "ports": "PortNotFound",
    "routers": "RouterNotFound",
    "security-groups": "SecurityGroupNotFound",
    "security-group-rules": "SecurityGroupRuleNotFound",
    "floatingips": "FloatingIPNotFound",
}
KEYS = {
    "networks": "network",
    "subnets": "subnet",
    "ports": "port",
    "routers": "router",
    "security-groups": "security_group",
    "security-group-rules": "security_group_rule",
    "floatingips": "floatingip",
}


async def _assert_blind(api: Api, other: dict[str, Any]) -> None:
    """`api` can neither see nor touch any object of `other`."""
    for collection, obj in other.items():
        key = KEYS[collection]
        listed = (await api.get(f"/v2.0/{collection}"))[
            key + "s" if key != "security_group_rule" else "security_group_rules"
        ]
        assert obj["id"] not in {o["id"] for o in listed}, collection
        path = f"/v2.0/{collection}/{obj['id']}"
        await api.fails("GET", path, status=404, error=ERRORS[collection])
        await api.fails(
            "PUT", path, {key: {"description": "mine now"}}, status=404, error=ERRORS[collection]
        )
        await api.fails("DELETE", path, status=404, error=ERRORS[collection])


async def test_two_projects_are_isolated_both_ways(apis):
    """Each project's networks, subnets, ports, routers, groups, rules and FIPs are 404 to
    the other, also when referenced indirectly."""
    admin = apis["admin"]
    public, _ = await admin.lan("203.0.113.0/24", name="public", **{"router:external": True})
    mine = await _estate(apis["p1"], admin, public["id"], 1)
    theirs = await _estate(apis["p2"], admin, public["id"], 2)
    await _assert_blind(apis["p1"], theirs)
    await _assert_blind(apis["p2"], mine)
    p1 = apis["p1"]
    await p1.fails(
        "PUT",
        f"/v2.0/routers/{mine['routers']['id']}/add_router_interface",
        {"port_id": theirs["ports"]["id"]},
        status=404,
        error="PortNotFound",
    )
    await p1.fails(
        "PUT",
        f"/v2.0/routers/{mine['routers']['id']}/add_router_interface",
        {"subnet_id": theirs["subnets"]["id"]},
        status=404,
        error="SubnetNotFound",
    )
    await p1.fails(
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": mine["security-groups"]["id"],
                "direction": "ingress",
                "remote_group_id": theirs["security-groups"]["id"],
            }
        },
        status=404,
        error="SecurityGroupNotFound",
    )
    await p1.fails(
        "PUT",
        f"/v2.0/floatingips/{mine['floatingips']['id']}",
        {"floatingip": {"port_id": theirs["ports"]["id"]}},
        status=404,
        error="PortNotFound",
    )
    await p1.fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": theirs["networks"]["id"]}},
        status=404,
        error="NetworkNotFound",
    )
    await p1.fails(
        "POST",
        "/v2.0/subnets",
        {"subnet": {"network_id": theirs["networks"]["id"], "cidr": "10.9.0.0/24"}},
        status=404,
        error="NetworkNotFound",
    )
    await p1.fails("GET", "/project/p2/routers", status=403, error="PolicyNotAuthorized")
    names = {n["name"] for n in (await p1.get("/v2.0/networks"))["networks"]}
    assert names == {mine["networks"]["name"], "public"}


async def test_shared_and_external_networks_are_readable_not_writable(apis):
    """Other projects read shared/external networks and their subnets; writes are 403."""
    admin, p1 = apis["admin"], apis["p1"]
    shared, shared_subnet = await admin.lan("10.0.0.0/24", name="shared", shared=True)
    public, _ = await admin.lan("203.0.113.0/24", name="public", **{"router:external": True})
    names = {n["name"] for n in (await p1.get("/v2.0/networks"))["networks"]}
    assert names == {"shared", "public"}
    assert (await p1.get(f"/v2.0/subnets/{shared_subnet['id']}"))["subnet"]["cidr"] == "10.0.0.0/24"
    for network in (shared, public):
        await p1.fails(
            "PUT",
            f"/v2.0/networks/{network['id']}",
            {"network": {"name": "x"}},
            status=403,
            error="PolicyNotAuthorized",
        )
        await p1.fails(
            "DELETE", f"/v2.0/networks/{network['id']}", status=403, error="PolicyNotAuthorized"
        )
        await p1.fails(
            "POST",
            "/v2.0/subnets",
            {"subnet": {"network_id": network["id"], "cidr": "10.7.0.0/24"}},
            status=403,
            error="PolicyNotAuthorized",
        )
    await p1.fails(
        "PUT",
        f"/v2.0/subnets/{shared_subnet['id']}",
        {"subnet": {"name": "x"}},
        status=403,
        error="PolicyNotAuthorized",
    )
    port = await p1.port(shared["id"])
    assert port["project_id"] == "p1"
    await p1.fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": public["id"]}},
        status=403,
        error="PolicyNotAuthorized",
    )
    assert port["id"] not in {p["id"] for p in (await apis["p2"].get("/v2.0/ports"))["ports"]}
