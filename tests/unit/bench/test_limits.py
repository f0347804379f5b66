"""Every figure as a fraction of the machine limit that bounds it, and the relative targets."""

from __future__ import annotations

from alcor.bench.limits import attach_fractions, describe, serial_bound
from alcor.bench.targets import check_targets

LIMITS = [
    {"name": "SQLite, 1 port per commit", "limit": "sqlite_commit", "per_s": 4000.0},
    {"name": "SQLite, 1,000 ports per commit", "limit": "sqlite_bulk", "per_s": 10000.0},
    {"name": "HTTP no-op, 1 client", "limit": "http_1", "per_s": 2000.0},
    {"name": "grpc no-op push, 20 agents", "limit": "grpc_n", "per_s": 5000.0},
]


def test_rows_get_the_fractions_of_their_limits():
    """Port create is measured against SQLite and HTTP; bulk in ports/s; e2e in pushes/s."""
    rows = [
        {"name": "port create, 1 client", "per_s": 2400.0},
        {"name": "port create, 16 clients", "per_s": 2000.0},  # http_n was not measured
        {"name": "bulk port create", "per_s": 9.0, "ports_per_s": 9000.0},
        {"name": "e2e at 100 ports/s", "per_s": 100.0, "agents": 20},
        {"name": "one port joins a 10k-port subnet", "per_s": 60.0},
    ]
    attach_fractions(rows, LIMITS)
    # one client: 1 / (1/2000 + 1/4000) = 1,333 creates/s at most, one after another
    assert rows[0]["of_limit"] == {"sqlite_commit": 0.6, "http_1": 1.2, "serial_1": 1.8}
    assert rows[1]["of_limit"] == {"sqlite_commit": 0.5}
    assert rows[2]["of_limit"] == {"sqlite_bulk": 0.9}
    assert rows[3]["of_limit"] == {"grpc_n": 0.4}
    assert "of_limit" not in rows[4]
    assert describe(rows[0]["of_limit"]) == (
        "60% SQLite 1 port/commit, 120% HTTP no-op, 180% serial bound"
    )
    assert describe({"http_1": 0.00345}) == "0.345% HTTP no-op"


def test_relative_targets_read_the_fractions():
    """50% (1 client), 60% (16 clients) and 85% (bulk) of the SQLite limits; unmeasured is None."""
    rows = [
        {"name": "port create, 1 client", "per_s": 2400.0},
        {"name": "bulk port create", "ports_per_s": 8000.0},
    ]
    attach_fractions(rows, LIMITS)
    met = {t["target"]: (t["measured"], t["met"]) for t in check_targets(rows)}
    assert met["port create, 1 client: share of the SQLite limit"] == (0.6, True)
    assert met["bulk port create: share of the SQLite bulk limit"] == (0.8, False)
    assert met["port create, 16 clients: share of the SQLite limit"] == (None, None)


def test_the_serial_bound_needs_both_limits():
    """One client's bound adds an HTTP round trip and a commit; without either, none."""
    assert serial_bound({"http_1": 3000.0, "sqlite_commit": 6000.0}) == 2000.0
    assert serial_bound({"http_1": 3000.0}) is None
    rows = [{"name": "port create, 1 client", "per_s": 1000.0}]
    attach_fractions(rows, [{"name": "SQLite", "limit": "sqlite_commit", "per_s": 4000.0}])
    assert rows[0]["of_limit"] == {"sqlite_commit": 0.25}
