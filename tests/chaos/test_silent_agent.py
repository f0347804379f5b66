"""Scenario 4: an agent comes back empty without announcing itself (restarted without
--controller, so no AGENT_RESTARTED). Every ledger still says "acked": only the audit,
periodic or asked for (REST or `alcor audit`), can find the drift and repair it."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.chaos.checks import audit, audit_findings, converge, settle
from tests.chaos.cluster import Cluster, Host
from tests.chaos.conftest import MakeCluster
from tests.chaos.oracle import Tables, expected, snapshot
from tests.chaos.workload import Workload

pytestmark = pytest.mark.chaos

# Oracle table -> audit kind; DHCP entries are keyed by MAC in the agent, by port in the audit.
AUDIT_KINDS = {
    "vpcs": "VPC",
    "subnets": "SUBNET",
    "ports": "PORT",
    "neighbors": "NEIGHBOR",
    "security_groups": "SECURITYGROUP",
    "routers": "ROUTER",
}


async def silent_restart(make_cluster: MakeCluster, rng, **settings: float) -> tuple[Cluster, Host]:
    """Converge a workload, then restart one busy agent empty and silent."""
    cluster = await make_cluster(["grpc"] * 3, settings=settings)
    work = Workload(cluster, rng)
    await work.setup(ports=6)
    await converge(cluster)
    dumps = await cluster.dumps()
    busy = [h for h in cluster.hosts if dumps[h.node_id]["ports"]]
    victim = rng.choice(busy)
    victim.agent.kill()
    await victim.agent.start(announce=False)
    assert not (await victim.agent.dump(cluster.session))["ports"]
    return cluster, victim


def expected_missing(tables: Tables) -> dict[str, set[str]]:
    """Return, per audit kind, every id a host that lost everything is missing."""
    missing = {kind: set(tables[table]) for table, kind in AUDIT_KINDS.items() if tables[table]}
    dhcp = {e["port_id"] for e in tables["dhcp"].values()}
    if dhcp:
        missing["DHCP"] = dhcp
    return missing


async def test_audit_lists_what_a_silent_agent_lost_and_repair_restores_it(
    make_cluster: MakeCluster, rng
):
    """GET .../audit names exactly the lost states (per kind); POST .../repair sends them."""
    cluster, victim = await silent_restart(make_cluster, rng)
    want = expected(await snapshot(cluster.rest))[victim.node_id]
    result = await audit(cluster, victim.node_id)
    assert result["source"] == "agent" and not result["clean"], result
    findings = audit_findings(result)
    assert {k: set(f.get("missing", [])) for k, f in findings.items()} == expected_missing(
        want.tables
    ), findings
    assert all(set(f) == {"missing"} for f in findings.values()), findings
    await cluster.rest.ok("POST", f"/nodes/{victim.node_id}/southbound/repair")
    await settle(cluster)


@pytest.mark.slow
async def test_periodic_audit_repairs_a_silent_agent(make_cluster: MakeCluster, rng):
    """With southbound.audit_interval_s set, the drift is repaired with no one asking."""
    cluster, _ = await silent_restart(make_cluster, rng, **{"southbound.audit_interval_s": 1.0})
    await settle(cluster)


async def run_audit_cli(cluster: Cluster, *args: str) -> tuple[int, str]:
    """Run `alcor audit --url URL ARGS` as an operator would; return exit status and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alcor",
        "audit",
        "--url",
        cluster.server.url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@pytest.mark.slow
async def test_alcor_audit_cli_finds_and_repairs_a_silent_agent(make_cluster: MakeCluster, rng):
    """`alcor audit` exits 1 on drift; `alcor audit --repair` repairs it."""
    cluster, victim = await silent_restart(make_cluster, rng)
    status, out = await run_audit_cli(cluster, "--node", victim.node_id)
    assert status == 1 and "DRIFT" in out, out
    status, out = await run_audit_cli(cluster, "--repair")
    assert status == 0, out
    await settle(cluster)
