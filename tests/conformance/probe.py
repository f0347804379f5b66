"""Record how a server answers the calls Tempest is picky about (run_tempest.sh --hold, then this).

Runs in the clients venv with the admin's OS_* variables set (as --hold prints them). It creates
a throw-away project with a member user in Keystone, sends a fixed list of requests to the
`network` endpoint as that member and as the admin, and prints one JSON object per request:
status, content type and body, with IDs, MACs and timestamps replaced by stable placeholders.
Run it against Neutron and against alcor and diff the two outputs.

    python probe.py > neutron.jsonl
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from typing import Any

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

AUTH_URL = os.environ["OS_AUTH_URL"]
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
_MAC = re.compile(r"\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?")
_SERVER = re.compile(r"http://127\.0\.0\.1:\d+")


class Normaliser:
    """Replace volatile values with placeholders that stay the same within one run."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        """Return text with IDs, MACs and timestamps replaced."""
        text = _UUID.sub(lambda m: self._name("ID", m.group(0)), text)
        text = _MAC.sub(lambda m: self._name("MAC", m.group(0)), text)
        text = _SERVER.sub("<SERVER>", text)
        return _TIME.sub("<TIME>", text)

    def _name(self, kind: str, value: str) -> str:
        key = value.replace("-", "")
        if key not in self._names:
            self._names[key] = f"<{kind}{len(self._names) + 1}>"
        return self._names[key]


def _session(username: str, password: str, project: str) -> ks_session.Session:
    auth = v3.Password(
        auth_url=AUTH_URL,
        username=username,
        password=password,
        project_name=project,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return ks_session.Session(auth=auth)


def _make_member(admin: ks_session.Session) -> tuple[ks_session.Session, str]:
    """Create a project and a member user in it; return the user's session and project id."""
    name = f"probe-{uuid.uuid4().hex[:8]}"
    ident = {"service_type": "identity", "interface": "public"}
    project = admin.post(
        "/projects", json={"project": {"name": name, "domain_id": "default"}}, endpoint_filter=ident
    ).json()["project"]
    user = admin.post(
        "/users",
        json={"user": {"name": name, "password": "pass", "domain_id": "default"}},
        endpoint_filter=ident,
    ).json()["user"]
    role = admin.get("/roles?name=member", endpoint_filter=ident).json()["roles"][0]
    admin.put(
        f"/projects/{project['id']}/users/{user['id']}/roles/{role['id']}", endpoint_filter=ident
    )
    return _session(name, "pass", name), project["id"]


class Prober:
    """Send requests to the network endpoint and print normalised answers."""

    def __init__(self, sessions: dict[str, ks_session.Session]) -> None:
        self._sessions = sessions
        self._norm = Normaliser()
        self.vars: dict[str, str] = {}

    def call(
        self,
        who: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | None = None,
        save: dict[str, str] | None = None,
    ) -> Any:
        """Send one request as `who`, print the normalised answer and return the JSON body."""
        path = path.format(**self.vars)
        kwargs: dict[str, Any] = {
            "endpoint_filter": {"service_type": "network", "interface": "public"},
            "raise_exc": False,
        }
        if raw is not None:
            kwargs["data"] = raw
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif body is not None:
            kwargs["json"] = _fill(body, self.vars)
        resp = self._sessions[who].request(path, method, **kwargs)
        try:
            parsed = resp.json() if resp.content else None
        except ValueError:
            parsed = resp.text
        for var, dotted in (save or {}).items():
            self.vars[var] = _dig(parsed, dotted)
        record = {
            "who": who,
            "call": f"{method} {path}",
            "status": resp.status_code,
            "content_type": resp.headers.get("Content-Type"),
            "body": parsed,
        }
        print(self._norm(json.dumps(record, sort_keys=True)))
        return parsed


def _fill(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**variables)
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


def _dig(body: Any, dotted: str) -> str:
    for part in dotted.split("."):
        body = body[int(part)] if part.isdigit() else body[part]
    return str(body)


def run(p: Prober) -> None:
    """Send the calls that tempest.api.network is picky about (docs/conformance.md §2)."""
    p.call("member", "GET", "/")
    p.call("member", "GET", "/v2.0/")
    p.call("member", "GET", "/v2.0/agents")
    p.call("member", "GET", "/v2.0/security-groups")
    p.call("member", "POST", "/v2.0/security-groups", {"security_group": {"name": "default"}})
    p.call(
        "member", "POST", "/v2.0/networks", {"network": {"name": "n1"}}, save={"net": "network.id"}
    )
    p.call("member", "GET", "/v2.0/networks/{net}?fields=id&fields=name&fields=mtu")
    p.call(
        "member",
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": "{net}", "name": "p0"}},
        save={"port0": "port.id"},
    )
    p.call("member", "GET", "/v2.0/ports/{port0}")
    p.call("admin", "GET", "/v2.0/ports/{port0}")
    p.call(
        "member",
        "POST",
        "/v2.0/subnets",
        {
            "subnet": {
                "network_id": "{net}",
                "cidr": "10.100.0.0/28",
                "ip_version": 4,
                "gateway_ip": "10.100.0.1",
            }
        },
        save={"sub": "subnet.id"},
    )
    p.call(
        "member",
        "POST",
        "/v2.0/subnets",
        {
            "subnet": {
                "network_id": "{net}",
                "cidr": "10.100.0.0/28",
                "ip_version": 4,
                "gateway_ip": "10.100.0.1",
            }
        },
    )
    p.call(
        "member",
        "POST",
        "/v2.0/subnets",
        {
            "subnet": {
                "network_id": "{net}",
                "cidr": "2001:db8::/64",
                "ip_version": 6,
                "ipv6_ra_mode": "slaac",
                "ipv6_address_mode": "slaac",
            }
        },
    )
    p.call(
        "member",
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": "{net}", "mac_address": "fa:16:3e:00:00:01"}},
    )
    p.call("member", "PUT", "/v2.0/subnets/{sub}/tags/red", raw='"{}"')
    p.call("member", "GET", "/v2.0/subnets/{sub}/tags/red")
    p.call("member", "GET", "/v2.0/subnets/{sub}/tags/blue")
    p.call("member", "GET", "/v2.0/routers/not-a-uuid")
    p.call("member", "POST", "/v2.0/routers", {"router": {"name": "r1", "distributed": True}})
    p.call(
        "member", "POST", "/v2.0/routers", {"router": {"name": "r1"}}, save={"router": "router.id"}
    )
    p.call("admin", "GET", "/v2.0/routers/{router}")
    p.call("member", "PUT", "/v2.0/routers/{router}/add_router_interface", {"subnet_id": "{sub}"})
    p.call("member", "DELETE", "/v2.0/routers/{router}")
    p.call(
        "member", "GET", "/v2.0/security-groups?name=default", save={"sg": "security_groups.0.id"}
    )
    p.call(
        "member",
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": "{sg}",
                "direction": "ingress",
                "protocol": "tcp",
                "port_range_min": 80,
                "port_range_max": 79,
            }
        },
    )
    p.call(
        "member",
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": "{sg}",
                "direction": "ingress",
                "protocol": "tcp",
                "remote_group_id": "bad_group_id",
            }
        },
    )
    p.call(
        "member",
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": "{sg}",
                "direction": "ingress",
                "ethertype": "IPv6",
                "protocol": "tcp",
                "remote_ip_prefix": "10.100.0.0/16",
            }
        },
    )
    p.call(
        "member",
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": "{sg}",
                "direction": "ingress",
                "protocol": 17,
            }
        },
    )
    p.call("member", "DELETE", "/v2.0/subnets/{sub}")
    p.call("member", "DELETE", "/v2.0/networks/{net}")


def main() -> int:
    """Create the member and run the probe (the throw-away cloud of --hold is not cleaned)."""
    admin = _session(
        os.environ["OS_USERNAME"], os.environ["OS_PASSWORD"], os.environ["OS_PROJECT_NAME"]
    )
    member, _project_id = _make_member(admin)
    run(Prober({"admin": admin, "member": member}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
