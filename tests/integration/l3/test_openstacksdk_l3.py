"""Issue 3 "done when", tried as a user would: openstacksdk against `alcor serve` with tokens.

Two projects each build two networks, a router joining them with a gateway on an
admin-made external network, a floating IP on a port and security group rules; neither can
see or touch the other's; quotas stop the 11th router.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import pytest
from openstack import exceptions

TOKENS = {"admin": "tok-admin", "p1": "tok-p1", "p2": "tok-p2"}
CONFIG = """
[store]
path = "{db}"
[auth]
strategy = "token"
[[auth.tokens]]
token = "tok-admin"
project_id = "ops"
roles = ["admin"]
[[auth.tokens]]
token = "tok-p1"
project_id = "p1"
roles = ["member"]
[[auth.tokens]]
token = "tok-p2"
project_id = "p2"
roles = ["member"]
[southbound.grpc_server]
enabled = false
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """`alcor serve` in a subprocess; its output is drained by a thread (a full pipe would
    block the server) and the announce line, printed once the socket listens, is awaited."""

    def __init__(self, config: Path, port: int) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "alcor", "serve", "--config", str(config), "--port", str(port)],
            cwd=config.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if "listening on" in line:
                self.ready.set()
        self.ready.set()  # exited: wake the waiter, which then sees the exit code

    def started(self) -> bool:
        """Wait until the server listens (True) or has exited (False)."""
        self.ready.wait(timeout=60)
        return self.proc.poll() is None and any("listening on" in line for line in self.lines)

    def stop(self) -> None:
        """SIGTERM, then wait for the exit and the reader."""
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._reader.join(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory) -> Iterator[str]:
    """A real `alcor serve` subprocess in token mode; yields its URL once it listens."""
    workdir: Path = tmp_path_factory.mktemp("serve")
    config = workdir / "alcor.toml"
    config.write_text(CONFIG.format(db=workdir / "alcor.db"))
    for _attempt in range(3):  # another process may take the free port before we bind it
        port = _free_port()
        server = _Server(config, port)
        if server.started():
            break
        server.stop()
    else:
        pytest.fail("alcor serve did not start:\n" + "".join(server.lines))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _connect(endpoint: str, who: str) -> Any:
    """An openstacksdk connection that sends `who`'s static token as X-Auth-Token."""
    return openstack.connect(
        auth_type="admin_token",
        auth={"endpoint": endpoint, "token": TOKENS[who]},
        network_endpoint_override=endpoint,
        region_name="RegionOne",
    )


def _build(conn: Any, public_id: str, second_octet: int) -> dict[str, Any]:
    """Two networks joined by a routed router, a port with a floating IP, SG rules."""
    net = conn.network
    networks, subnets = [], []
    for i in (1, 2):
        network = net.create_network(name=f"net{i}")
        networks.append(network)
        subnets.append(
            net.create_subnet(
                network_id=network.id, ip_version=4, cidr=f"10.{second_octet}.{i}.0/24"
            )
        )
    router = net.create_router(name="r1", external_gateway_info={"network_id": public_id})
    for subnet in subnets:
        net.add_interface_to_router(router, subnet=subnet.id)
    group = net.create_security_group(name="web")
    rule = net.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    port = net.create_port(network_id=networks[0].id, name="vm1", security_group_ids=[group.id])
    fip = net.create_ip(floating_network_id=public_id, port_id=port.id)
    return {
        "networks": networks,
        "subnets": subnets,
        "router": router,
        "group": group,
        "rule": rule,
        "port": port,
        "fip": fip,
    }


def test_two_projects_build_isolated_l3_with_openstacksdk(endpoint):
    """Each project's estate works and is invisible and untouchable to the other."""
    admin, p1, p2 = (_connect(endpoint, who) for who in ("admin", "p1", "p2"))
    public = admin.network.create_network(name="public", is_router_external=True)
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="203.0.113.0/24")
    with pytest.raises(exceptions.ForbiddenException):
        p1.network.create_network(name="mine", is_router_external=True)

    estates = {"p1": _build(p1, public.id, 1), "p2": _build(p2, public.id, 2)}
    for who, conn in (("p1", p1), ("p2", p2)):
        mine = estates[who]
        fip = conn.network.get_ip(mine["fip"].id)
        assert (fip.router_id, fip.port_id) == (mine["router"].id, mine["port"].id)
        assert fip.floating_ip_address.startswith("203.0.113.")
        interfaces = list(conn.network.ports(device_id=mine["router"].id))
        assert sorted(p.fixed_ips[0]["ip_address"] for p in interfaces) == sorted(
            s.gateway_ip for s in mine["subnets"]
        )
        assert {
            r["direction"]
            for r in conn.network.get_security_group(mine["group"].id).security_group_rules
        } == {"ingress", "egress"}

    for who, conn, other in (("p1", p1, estates["p2"]), ("p2", p2, estates["p1"])):
        net = conn.network
        names = {n.name for n in net.networks()}
        assert names == {"net1", "net2", "public"}
        assert {r.id for r in net.routers()} == {estates[who]["router"].id}
        assert other["fip"].id not in {f.id for f in net.ips()}
        assert other["port"].id not in {p.id for p in net.ports()}
        assert other["group"].id not in {g.id for g in net.security_groups()}
        assert other["rule"].id not in {r.id for r in net.security_group_rules()}
        for getter, obj in (
            (net.get_network, other["networks"][0]),
            (net.get_subnet, other["subnets"][0]),
            (net.get_port, other["port"]),
            (net.get_router, other["router"]),
            (net.get_security_group, other["group"]),
            (net.get_security_group_rule, other["rule"]),
            (net.get_ip, other["fip"]),
        ):
            with pytest.raises(exceptions.NotFoundException):
                getter(obj.id)
        with pytest.raises(exceptions.NotFoundException):
            net.update_router(other["router"].id, name="stolen")
        with pytest.raises(exceptions.NotFoundException):
            net.delete_security_group(other["group"].id, ignore_missing=False)
        with pytest.raises(exceptions.NotFoundException):
            net.add_interface_to_router(estates[who]["router"], subnet=other["subnets"][1].id)
        with pytest.raises(exceptions.NotFoundException):
            net.update_ip(estates[who]["fip"].id, port_id=other["port"].id)

    assert admin.network.get_router(estates["p1"]["router"].id).name == "r1"


def test_quotas_stop_the_eleventh_router_and_admins_override(endpoint):
    """With default quotas the 11th router is refused; an admin override changes that."""
    admin, p1 = _connect(endpoint, "admin"), _connect(endpoint, "p1")
    existing = len(list(p1.network.routers()))
    for i in range(10 - existing):
        p1.network.create_router(name=f"extra{i}")
    with pytest.raises(exceptions.ConflictException) as caught:
        p1.network.create_router(name="eleventh")
    assert "Quota exceeded for resources: ['router']" in str(caught.value)
    with pytest.raises(exceptions.ForbiddenException):
        p1.network.update_quota("p1", routers=20)
    admin.network.update_quota("p1", routers=11)
    assert p1.network.get_quota("p1").routers == 11
    p1.network.create_router(name="eleventh")
    usage = p1.network.get_quota("p1", details=True)
    assert usage.routers == {"used": 11, "limit": 11, "reserved": 0}


def test_an_unknown_token_is_refused(endpoint):
    """A connection with a wrong token gets 401."""
    intruder = openstack.connect(
        auth_type="admin_token",
        auth={"endpoint": endpoint, "token": "guess"},
        network_endpoint_override=endpoint,
        region_name="RegionOne",
    )
    with pytest.raises(exceptions.HttpException) as caught:
        list(intruder.network.networks())
    assert caught.value.status_code == 401
