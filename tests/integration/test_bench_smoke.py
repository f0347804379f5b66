"""`alcor bench` runs every scenario end to end and writes well-formed JSON (tiny sizes).

No timing is asserted here: speed targets live in the benchmark's own report.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _bench(tmp_path, *args: str) -> dict:
    """Run `alcor bench --tiny ARGS --json` in tmp_path; return the JSON report."""
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "alcor", "bench", "--tiny", *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(out.read_text())


def test_bench_runs_every_scenario_and_writes_json(tmp_path):
    """The tiny run covers api-create, list, scale, fanout and e2e, with a CDF plot and Markdown."""
    plot, md = tmp_path / "cdf.png", tmp_path / "bench.md"
    report = _bench(tmp_path, "--plot", str(plot), "--markdown", str(md))
    assert report["scenarios"] == ["api-create", "e2e", "fanout", "list", "scale"]
    names = [r["name"] for r in report["results"]]
    for prefix in (
        "network create",
        "port create, 1 client",
        "bulk port create",
        "GET 1,000",
        "one port joins",
        "new host with",
        "scale",
        "e2e at",
    ):
        assert any(n.startswith(prefix) for n in names), prefix
    for row in report["results"]:
        assert row["count"] >= 1 and row["wall_s"] >= 0
    assert {t["target"] for t in report["targets"]} >= {
        "port create, 1 client: rate",
        "bulk port create",
    }
    limits = {row["limit"]: row for row in report["limits"]}
    assert set(limits) == {"sqlite_commit", "sqlite_bulk", "http_1", "http_n", "grpc_1", "grpc_n"}
    assert all(row["per_s"] > 0 for row in limits.values())
    port = next(r for r in report["results"] if r["name"] == "port create, 1 client")
    assert port["of_limit"]["sqlite_commit"] == round(
        port["per_s"] / limits["sqlite_commit"]["per_s"], 3
    )
    shares = {t["target"]: t for t in report["targets"]}
    assert shares["bulk port create: share of the SQLite bulk limit"]["measured"] > 0
    e2e = next(r for r in report["results"] if r["name"].startswith("e2e at"))
    assert e2e["active"] == e2e["count"] == 10
    # the cores each process used over the run: every one of them did some work
    assert all(e2e[f"cpu_{p}"] > 0 for p in ("controller", "agents", "bench"))
    assert "serial_1" in port["of_limit"]
    assert plot.stat().st_size > 1000
    table = md.read_text()
    assert "| scenario | count | per s | of limit |" in table
    assert "| machine limit |" in table and "| target | measured | goal | met |" in table
    assert table.count("\n| port create, 1 client |") == 1


def test_bench_compares_the_grpc_transports_and_plots_the_e2e_curve(tmp_path):
    """`--scenario push` measures grpc and grpcio; `--curve` writes one row per point and a PNG."""
    curve = tmp_path / "curve.png"
    report = _bench(tmp_path, "--scenario", "push", "--curve", str(curve))
    pushes = [r for r in report["results"] if "goal-state push" in r["name"]]
    assert {(r["transport"], r.get("agents", 1)) for r in pushes} == {
        ("grpc", 1),
        ("grpc", 2),
        ("grpcio", 1),
        ("grpcio", 2),
    }
    # (process and thread CPU clocks tick apart: their values are not compared)
    assert all(
        r["count"] == 20 and r["cpu_us_per_op"] > 0 < r["loop_cpu_us_per_op"] for r in pushes
    )
    points = [r for r in report["results"] if r["name"].startswith("e2e curve")]
    assert [(r["agents"], r["offered_per_s"]) for r in points] == [(2, 20), (2, 50)]
    assert all(r["active"] == r["count"] > 0 for r in points)
    assert curve.stat().st_size > 1000


@pytest.mark.postgresql
def test_bench_scale_out_compares_sqlite_with_postgresql_processes(tmp_path, postgres_url):
    """`--store postgresql --processes 1 --processes 2` measures one process on SQLite and
    1 and 2 processes on the given PostgreSQL database, creates and reads."""
    report = _bench(
        tmp_path,
        "--store",
        "postgresql",
        "--store-url",
        postgres_url,
        "--processes",
        "1",
        "--processes",
        "2",
    )
    rows = {r["name"]: r for r in report["results"]}
    for store in ("SQLite, 1 process", "PostgreSQL, 1 process", "PostgreSQL, 2 processes"):
        assert rows[f"port create, {store}"]["count"] == rows[f"port GET, {store}"]["count"] > 0
    assert rows["port create, PostgreSQL, 2 processes"]["processes"] == 2


def test_bench_zeta_scenario_runs_against_the_double(tmp_path):
    """--scenario zeta (tiny): create rates with Zeta off and on, and every port at Zeta."""
    report = _bench(tmp_path, "--scenario", "zeta")
    rows = {r["name"].split(" (")[0]: r for r in report["results"]}
    assert set(rows) == {
        "zeta: port create, Zeta off",
        "zeta: port create, Zeta on",
        "zeta: every port at Zeta",
    }
    assert rows["zeta: port create, Zeta on"]["count"] == 200
    assert rows["zeta: port create, Zeta on"]["on_off_ratio"] > 0
    reached = rows["zeta: every port at Zeta"]
    assert reached["count"] == 1 and reached["median_s"] > 0 and reached["zeta_calls"][0] >= 2
    assert "port create rate, Zeta on / off" in {t["target"] for t in report["targets"]}


def test_bench_api_under_push_compares_the_api_with_and_without_agents(tmp_path):
    """--scenario api-under-push (tiny): creates at a fixed rate on a server without agents
    and on one with agents, each port bound to one of them; the ratio of the p50s."""
    report = _bench(tmp_path, "--scenario", "api-under-push")
    rows = {r["name"]: r for r in report["results"]}
    without = rows["api under push, no agents: port create at 50/s"]
    with_agents = rows["api under push, with agents: port create at 50/s, 2 agents"]
    assert without["count"] == with_agents["count"] == 20
    assert (without["agents"], with_agents["agents"]) == (0, 2)
    ratio = with_agents["p50_ms"] / without["p50_ms"]
    assert with_agents["p50_ratio"] == pytest.approx(ratio, rel=0.01)
    target = next(t for t in report["targets"] if t["target"].startswith("API p50 while"))
    assert target["measured"] == with_agents["p50_ratio"]
