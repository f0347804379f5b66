"""schemathesis (every check) over the /openapi.json that `alcor serve` serves: a short run.

It generates requests from the document, valid and invalid, and checks that the answers
keep its promises: no 5xx, status codes, content types and bodies as documented, invalid
requests refused, valid ones accepted (see tests/schemathesis/schemathesis.toml for the one
tuned check). The /watch streams are left out: they never end by design.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# About 45 s of CPU (schemathesis and alcor); the wall time grows with the machine's load.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
CONFIG = Path(__file__).parents[1] / "schemathesis" / "schemathesis.toml"
HOOKS = CONFIG.parent / "neutron_checks.py"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_schemathesis_finds_no_contract_failure(serve, tmp_path) -> None:
    """A seeded, bounded schemathesis run over every operation reports no failure."""
    server = serve(ALCOR__QUOTAS__NETWORK="-1", ALCOR__QUOTAS__PORT="-1")
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "all",
            "--exclude-path-regex",
            "watch$",
            "--max-examples",
            "2",
            "--workers",
            "1",  # with threads, schemathesis 4.32's coverage phase can hit a CPython AST bug
            "--phases",
            "coverage,fuzzing",  # stateful needs links between operations, which it lacks
            "--seed",
            "1",
            "--no-color",
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
        capture_output=True,
        text=True,
        timeout=570,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-2000:]
    assert server.stop() == 0
