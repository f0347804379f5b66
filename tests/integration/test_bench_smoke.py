"""`alcor bench` runs every scenario end to end and writes well-formed JSON (tiny sizes).

No timing is asserted here: speed targets live in the benchmark's own report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _bench(workdir: Path, out: Path, *args: str) -> Any:
    """Run `alcor bench --tiny --json out ARGS` in `workdir`; return the report."""
    result = subprocess.run(
        [sys.executable, "-m", "alcor", "bench", "--tiny", "--json", str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=workdir,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(out.read_text())


def test_bench_runs_every_scenario_and_writes_json(tmp_path):
    """The tiny run covers api-create, list, scale, fanout and e2e, with a CDF plot and Markdown."""
    out, plot, md = tmp_path / "bench.json", tmp_path / "cdf.png", tmp_path / "bench.md"
    report = _bench(tmp_path, out, "--plot", str(plot), "--markdown", str(md))
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
    e2e = next(r for r in report["results"] if r["name"].startswith("e2e at"))
    assert e2e["active"] == e2e["count"] == 10
    assert plot.stat().st_size > 1000
    table = md.read_text()
    assert "| scenario | count |" in table and "| target | measured | goal | met |" in table
    assert table.count("\n| port create, 1 client |") == 1


def test_bench_zeta_scenario_runs_against_the_double(tmp_path):
    """--scenario zeta (tiny): create rates with Zeta off and on, and every port at Zeta."""
    out = tmp_path / "zeta.json"
    report = _bench(tmp_path, out, "--scenario", "zeta")
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
