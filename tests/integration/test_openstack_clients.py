"""`alcor serve` as a subprocess, driven by openstacksdk and the `openstack` CLI as a user would.

Marked slow (subprocesses), but it always runs: it is the issue's "done when" check.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openstack
import openstack.exceptions as sdk_errors
import pytest

from tests.integration.conftest import Server, free_port

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _connect(server: Server) -> openstack.connection.Connection:
    return openstack.connect(
        auth_type="none", network_endpoint_override=server.url, region_name="RegionOne"
    )


def test_openstacksdk_user_journey_survives_a_restart(serve):
    """Create, list, filter, paginate, update with if_revision, hit errors, restart, find all."""
    server = serve()
    conn = _connect(server)
    net = conn.network.create_network(name="net1", tags=["blue"])
    conn.network.create_network(name="other")
    v4 = conn.network.create_subnet(network_id=net.id, name="v4", ip_version=4, cidr="10.0.0.0/24")
    v6 = conn.network.create_subnet(
        network_id=net.id,
        name="v6",
        ip_version=6,
        cidr="fd00:1::/64",
        ipv6_address_mode="slaac",
        ipv6_ra_mode="slaac",
    )
    assert v6.allocation_pools == [{"start": "fd00:1::2", "end": "fd00:1::ffff:ffff:ffff:ffff"}]
    ports = [conn.network.create_port(network_id=net.id, name=f"port-{i:03}") for i in range(100)]
    assert len({p.mac_address for p in ports}) == 100
    v4_ips = [f["ip_address"] for p in ports for f in p.fixed_ips if f["subnet_id"] == v4.id]
    assert v4_ips == [f"10.0.0.{i}" for i in range(2, 102)]
    assert all(len(p.fixed_ips) == 2 for p in ports)

    # lists: pagination follows the links, filters narrow
    listed = list(conn.network.ports(network_id=net.id, limit=7))
    assert sorted(p.id for p in listed) == sorted(p.id for p in ports)
    named = list(conn.network.ports(name="port-042"))
    assert [p.id for p in named] == [ports[42].id]
    by_ip = list(conn.network.ports(fixed_ips=["ip_address=10.0.0.50"]))
    assert [p.name for p in by_ip] == ["port-048"]
    assert [s.name for s in conn.network.subnets(ip_version=6)] == ["v6"]
    assert [n.name for n in conn.network.networks(tags="blue")] == ["net1"]
    sorted_desc = list(conn.network.ports(sort_key="name", sort_dir="desc", limit=30))
    assert [p.name for p in sorted_desc][:2] == ["port-099", "port-098"]

    # if_revision: the current revision works, a stale one is 412
    current = conn.network.get_network(net.id)
    revision = current.revision_number
    renamed = conn.network.update_network(current, name="net1-renamed", if_revision=revision)
    assert renamed.revision_number == revision + 1 and renamed.name == "net1-renamed"
    with pytest.raises(sdk_errors.PreconditionFailedException) as stale:
        conn.network.update_network(net.id, name="stale", if_revision=revision)
    assert stale.value.status_code == 412

    # errors for bad input
    with pytest.raises(sdk_errors.BadRequestException) as bad:
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.1.0.5/24")
    assert bad.value.status_code == 400 and "is recommended" in str(bad.value)
    with pytest.raises(sdk_errors.NotFoundException) as missing:
        conn.network.get_network("11111111-1111-4111-8111-111111111111")
    assert missing.value.status_code == 404
    with pytest.raises(sdk_errors.ConflictException) as taken:
        conn.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": "10.0.0.2"}])
    assert taken.value.status_code == 409 and "already allocated" in str(taken.value)
    with pytest.raises(sdk_errors.ConflictException):
        conn.network.delete_network(net.id)
    conn.network.delete_port(ports[0].id)

    before = {
        "networks": sorted((n.id, n.name, n.revision_number) for n in conn.network.networks()),
        "subnets": sorted((s.id, s.cidr) for s in conn.network.subnets()),
        "ports": sorted(
            (p.id, p.mac_address, json.dumps(p.fixed_ips, sort_keys=True))
            for p in conn.network.ports()
        ),
    }
    assert len(before["ports"]) == 99
    conn.close()
    assert server.stop() == 0

    server = serve()
    conn = _connect(server)
    after = {
        "networks": sorted((n.id, n.name, n.revision_number) for n in conn.network.networks()),
        "subnets": sorted((s.id, s.cidr) for s in conn.network.subnets()),
        "ports": sorted(
            (p.id, p.mac_address, json.dumps(p.fixed_ips, sort_keys=True))
            for p in conn.network.ports()
        ),
    }
    assert after == before
    again = conn.network.create_port(network_id=net.id)
    assert [f["ip_address"] for f in again.fixed_ips if f["subnet_id"] == v4.id] == ["10.0.0.2"]
    assert again.mac_address not in {p[1] for p in before["ports"]}
    conn.close()
    assert server.stop() == 0


def _wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_embedded_agents_program_two_hosts_and_dump_their_state(serve):
    """`alcor serve --embedded-agents 2`: ports bound to compute-1/2 go ACTIVE, and each
    agent's state dump holds its own port and the other host's port as a neighbor."""
    admin = f"127.0.0.1:{free_port()}"
    server = serve(
        "--embedded-agents",
        "2",
        "--agents-admin",
        admin,
        ALCOR__SOUTHBOUND__GRPC_SERVER__ENABLED="true",
        ALCOR__SOUTHBOUND__GRPC_SERVER__PORT=str(free_port()),
        ALCOR__SOUTHBOUND__AGENT_PORT=str(free_port()),
    )
    conn = _connect(server)
    net = conn.network.create_network(name="n1")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.0.0.0/24")
    ports = {
        host: conn.network.create_port(network_id=net.id, name=f"vm-{host}", binding_host_id=host)
        for host in ("compute-1", "compute-2")
    }
    for port in ports.values():
        _wait_for(
            lambda p=port: conn.network.get_port(p.id).status == "ACTIVE",
            f"port {port.name} ACTIVE",
        )
    agents = {
        a["node_id"]: a["ip"]
        for a in json.loads(urllib.request.urlopen(f"http://{admin}/agents", timeout=10).read())
    }
    assert set(agents) == {"compute-1", "compute-2"}
    for host, other in (("compute-1", "compute-2"), ("compute-2", "compute-1")):
        state = json.loads(
            urllib.request.urlopen(f"http://{admin}/agents/{agents[host]}/state", timeout=10).read()
        )
        assert set(state["ports"]) == {ports[host].id}
        neighbor = state["neighbors"][ports[other].id]
        assert neighbor["host_ip_address"] == agents[other] and not neighbor["local"]
    # The operator's tools: every host holds its view, and the two ports reach each other.
    audit = subprocess.run(
        [str(BIN / "alcor"), "audit", "--url", server.url, "--json"], capture_output=True, text=True
    )
    assert audit.returncode == 0, audit.stderr
    assert all(a["clean"] and a["source"] == "agent" for a in json.loads(audit.stdout))
    traced = subprocess.run(
        [
            str(BIN / "alcor"),
            "trace",
            "--url",
            server.url,
            "--from-port",
            ports["compute-1"].id,
            "--to",
            ports["compute-2"].fixed_ips[0]["ip_address"],
            "--port",
            "22",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert json.loads(traced.stdout)["verdict"] == "delivered"
    conn.close()
    assert server.stop() == 0


def test_an_agent_registers_its_host_through_the_node_api(serve, tmp_path):
    """`alcor agent --register URL` creates its node via POST /nodes, as an operator would,
    and a port bound to it goes ACTIVE."""
    grpc_port = free_port()
    server = serve(
        ALCOR__SOUTHBOUND__GRPC_SERVER__ENABLED="true",
        ALCOR__SOUTHBOUND__GRPC_SERVER__PORT=str(grpc_port),
    )
    agent_port = free_port()
    with (tmp_path / "agent.log").open("w") as log:
        agent = subprocess.Popen(
            [
                str(BIN / "alcor"),
                "agent",
                "--listen",
                f"127.3.0.1:{agent_port}",
                "--controller",
                f"127.0.0.1:{grpc_port}",
                "--node-id",
                "rack1-host7",
                "--register",
                server.url,
            ],
            stdout=log,
            stderr=log,
        )
        try:
            conn = _connect(server)
            _wait_for(
                lambda: any(
                    n["node_id"] == "rack1-host7"
                    for n in json.loads(urllib.request.urlopen(f"{server.url}/nodes").read())[
                        "host_infos"
                    ]
                ),
                "the agent's node",
            )
            node = json.loads(urllib.request.urlopen(f"{server.url}/nodes/rack1-host7").read())
            info = node["host_info"]
            assert (info["local_ip"], info["server_port"]) == ("127.3.0.1", agent_port)
            net = conn.network.create_network(name="reg")
            conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.9.0.0/24")
            port = conn.network.create_port(network_id=net.id, binding_host_id="rack1-host7")
            _wait_for(lambda: conn.network.get_port(port.id).status == "ACTIVE", "port ACTIVE")
            conn.close()
        finally:
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=30) == 0
    assert server.stop() == 0


def test_openstack_cli_lists_networks(serve):
    """`openstack --os-auth-type none --os-endpoint … network list -f json` works."""
    server = serve()
    conn = _connect(server)
    conn.network.create_network(name="cli-net")
    conn.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    result = subprocess.run(
        [
            str(BIN / "openstack"),
            "--os-auth-type",
            "none",
            "--os-endpoint",
            server.url,
            "network",
            "list",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    networks = json.loads(result.stdout)
    assert [n["Name"] for n in networks] == ["cli-net"]
    assert server.stop() == 0
