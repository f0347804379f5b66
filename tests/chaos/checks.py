"""The three promises every scenario ends with, and the waits that lead there.

* oracle: every host's tables equal what REST implies (tests.chaos.oracle);
* honesty: the per-host ledger the API shows (GET /nodes/{id}, .../southbound/resources)
  never shows acked a revision the agent does not hold, never forgets a key the agent
  holds, and, once converged, shows nothing unacked or refused;
* audit: GET /nodes/{id}/southbound/audit finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from tests.chaos.cluster import Cluster, Host
from tests.chaos.held import held_tables
from tests.chaos.oracle import TABLES, Expectation, Tables, expected, snapshot
from tests.chaos.procs import poll

CONVERGE_TIMEOUT_S = 20.0


# A broken promise has its own exception class, so that an xfail mark can name exactly the
# failure it expects (`raises=NotConverged`) and any other failure still fails the test.
class BrokenPromise(AssertionError):
    """The system broke one of the promises the suite checks."""


class NotConverged(BrokenPromise):
    """Some host's tables never came to equal what REST implies."""


class Dishonest(BrokenPromise):
    """The API showed acked (or ACTIVE) what a host did not hold."""


class AuditUnclean(BrokenPromise):
    """The audit found differences after convergence."""


SHOWN_LINES = 12  # per host and table in a diff

Diff = dict[str, dict[str, list[Any]]]  # table -> missing|stale|extra -> entries


def diff_tables(want: Tables, have: Tables, optional: Tables | None = None) -> Diff:
    """Compare a host's tables with the oracle's as sets of (key, summary).

    Entries of `optional` may be held (then they must equal it) or not.
    """
    out: Diff = {}
    for table in TABLES:
        w, h = want.get(table, {}), have.get(table, {})
        may = {**(optional or {}).get(table, {}), **w}  # what it may hold, with its summary
        entry: dict[str, list[Any]] = {
            "missing": [(k, w[k]) for k in sorted(w.keys() - h.keys())],
            "stale": [(k, may[k], h[k]) for k in sorted(may.keys() & h.keys()) if may[k] != h[k]],
            "extra": [(k, h[k]) for k in sorted(h.keys() - may.keys())],
        }
        if any(entry.values()):
            out[table] = entry
    return out


def render_diff(label: str, diff: Diff) -> str:
    """Return a readable diff of one host: per table, missing / stale / extra entries."""
    lines = [f"host {label}:"]
    for table, entry in diff.items():
        counts = ", ".join(f"{len(v)} {k}" for k, v in entry.items() if v)
        lines.append(f"  {table}: {counts}")
        shown = 0
        for what, items in entry.items():
            for item in items:
                if shown == SHOWN_LINES:
                    break
                shown += 1
                if what == "stale":
                    lines.append(
                        f"    stale   {item[0]}\n      want {item[1]}\n      have {item[2]}"
                    )
                else:
                    lines.append(f"    {what:<7} {item[0]} {item[1]}")
    return "\n".join(lines)


# ---- oracle ---------------------------------------------------------------------------


def oracle_report(
    cluster: Cluster, want: dict[str, Expectation], dumps: dict[str, dict[str, Any]]
) -> str:
    """Return the oracle's diff for the hosts in `dumps` ("" when each holds its state)."""
    parts = []
    for host in cluster.hosts:
        if host.node_id in dumps:
            expect = want[host.node_id]
            diff = diff_tables(expect.tables, held_tables(dumps[host.node_id]), expect.optional)
            if diff:
                parts.append(render_diff(f"{host.name} ({host.node_id}, {host.ip})", diff))
    return "\n".join(parts)


# ---- honesty --------------------------------------------------------------------------


def held_revisions(dump: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Return (kind, ledger key) -> revision of everything the agent holds."""
    out = {}
    for kind, revisions in dump["applied"].items():
        for rid, rev in revisions.items():
            out[(kind, f"{rid}_n" if kind == "NEIGHBOR" else rid)] = rev
    return out


def ledger_vs_held(
    resources: list[dict[str, Any]],
    held: dict[tuple[str, str], int],
    converged: bool,
    unledgered: set[tuple[str, str]],
) -> list[str]:
    """Return every way the ledger misstates what the agent holds.

    Always: a state shown acked must be held at exactly that revision, and every state the
    agent holds must be listed (a delete is not done before the agent answered it). Once
    converged, nothing may be unacked or refused either. Keys in `unledgered` (delivered by
    a VPC topic) are not the host ledger's to track.
    """
    problems = []
    listed = {(r["kind"], r["key"]): r for r in resources}
    held = {k: v for k, v in held.items() if k not in unledgered}
    for key, r in listed.items():
        if key in unledgered:
            continue
        shown_acked = r["operation"] != "DELETE" and r["acked_rev"] == r["sent_rev"]
        if shown_acked and held.get(key) != r["acked_rev"]:
            problems.append(
                f"{key} shown acked at rev {r['acked_rev']}, host holds {held.get(key)}"
            )
        elif converged and not shown_acked:
            problems.append(f"{key} not acked: {r}")
    for key, rev in held.items():
        if key not in listed:
            problems.append(f"{key} held at rev {rev} but not in the ledger")
    return problems


async def ledger(cluster: Cluster, node_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return a node's "southbound" object and its per-key delivery records."""
    node, resources = await asyncio.gather(
        cluster.rest.get(f"/nodes/{node_id}"),
        cluster.rest.get(f"/nodes/{node_id}/southbound/resources"),
    )
    return node["host_info"]["southbound"], resources["resources"]


async def honesty_report(
    cluster: Cluster,
    want: dict[str, Expectation],
    dumps: dict[str, dict[str, Any]],
    converged: bool,
) -> str:
    """Return every honesty problem of the hosts in `dumps` ("" when there is none)."""
    parts = []
    for node_id, dump in dumps.items():
        southbound, resources = await ledger(cluster, node_id)
        problems = ledger_vs_held(
            resources, held_revisions(dump), converged, want[node_id].unledgered
        )
        if converged:
            problems += [
                f"GET /nodes/{node_id} counts {kind}: {counts}"
                for kind, counts in southbound["resources"].items()
                if counts["unacked"] or counts["error"]
            ]
        if problems:
            parts.append(f"ledger of {node_id}:\n  " + "\n  ".join(problems[:40]))
    return "\n".join(parts)


async def assert_honest(cluster: Cluster, frozen: dict[str, dict[str, Any]]) -> None:
    """Check the ledger against dumps taken before those agents were paused."""
    want = expected(await snapshot(cluster.rest))
    report = await honesty_report(cluster, want, frozen, converged=False)
    if report:
        raise Dishonest(f"{cluster.describe()}\n{report}")


# ---- convergence ----------------------------------------------------------------------


async def converge(cluster: Cluster, timeout: float = CONVERGE_TIMEOUT_S) -> float:
    """Wait until the oracle holds and the ledger is honest and settled; return the time."""
    started = time.monotonic()
    last = ""

    async def settled() -> bool:
        nonlocal last
        dumps = await cluster.dumps()
        want = expected(await snapshot(cluster.rest))
        report = oracle_report(cluster, want, dumps)
        honesty = await honesty_report(cluster, want, dumps, converged=True)
        report = "\n".join(r for r in (report, honesty) if r)
        last = report
        return not report

    if not await poll(settled, timeout, interval=0.2):
        with contextlib.suppress(Exception):  # a failure to keep them must not hide the diff
            await keep_tables(cluster)
        raise NotConverged(f"not converged after {timeout:.0f} s ({cluster.describe()}):\n{last}")
    return time.monotonic() - started


async def keep_tables(cluster: Cluster) -> None:
    """Write every agent's tables and what the oracle expects next to the logs: the diff
    names what differs, these show what else each host held (an address two ports claim)."""
    dumps = await cluster.dumps()
    want = expected(await snapshot(cluster.rest))
    held = {
        "held": dumps,
        "expected": {n: {"tables": e.tables, "optional": e.optional} for n, e in want.items()},
    }
    (cluster.workdir / "tables.json").write_text(json.dumps(held, default=str, indent=1))


# ---- audit ----------------------------------------------------------------------------


async def audit(cluster: Cluster, node_id: str) -> dict[str, Any]:
    """Return a node's audit (GET /nodes/{id}/southbound/audit)."""
    result: dict[str, Any] = (await cluster.rest.get(f"/nodes/{node_id}/southbound/audit"))["audit"]
    return result


def audit_findings(result: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Return the non-empty missing / stale / extra lists of an audit, per kind."""
    return {
        kind: {k: v for k, v in found.items() if v}
        for kind, found in result["kinds"].items()
        if any(found.values())
    }


async def assert_audit_clean(cluster: Cluster) -> None:
    """Check that the audit of every host, from its agent's inventory, finds nothing."""
    parts = []
    for host in cluster.hosts:
        result = await audit(cluster, host.node_id)
        if not result["clean"] or audit_findings(result) or result["source"] != "agent":
            parts.append(f"audit of {host.node_id}: {result}")
    if parts:
        raise AuditUnclean(f"{cluster.describe()}\n" + "\n".join(parts))


async def assert_audit_not_clean(cluster: Cluster, node_ids: list[str]) -> None:
    """Check that the audit never calls clean a host it cannot reach (paused, dead)."""
    for node_id in node_ids:
        result = await audit(cluster, node_id)
        if result["clean"]:
            raise Dishonest(f"audit of unreachable {node_id} says clean: {result}")


async def settle(cluster: Cluster) -> None:
    """End a scenario: converged (oracle + honesty), then a clean audit."""
    took = await converge(cluster)
    print(f"converged in {took:.1f} s ({cluster.describe()})")
    await assert_audit_clean(cluster)


# ---- fault visibility -----------------------------------------------------------------


async def wait_push_failed(cluster: Cluster, node_ids: list[str], timeout: float = 20.0) -> None:
    """Wait until every node in `node_ids` shows a failed push in GET /nodes/{id}."""
    shown: dict[str, Any] = {}

    async def failed() -> bool:
        for node_id in node_ids:
            southbound = (await cluster.rest.get(f"/nodes/{node_id}"))["host_info"]["southbound"]
            shown[node_id] = southbound
            if not (southbound["consecutive_failures"] or southbound["last_error"]):
                return False
        return True

    assert await poll(failed, timeout, interval=0.1), (
        f"no failed push shown for {node_ids} ({cluster.describe()}): {shown}"
    )


async def check_stalled(cluster: Cluster, stalled: dict[str, dict[str, Any]]) -> None:
    """Hosts that can receive nothing (dumps by node_id): their pushes fail visibly, and
    nothing is shown acked, deleted or ACTIVE that they did not apply."""
    await wait_push_failed(cluster, list(stalled))
    await assert_honest(cluster, stalled)
    await assert_status_honest(cluster, stalled)


async def assert_status_honest(cluster: Cluster, frozen: dict[str, dict[str, Any]]) -> None:
    """Check port statuses against dumps of paused agents (by node_id).

    A port bound to a paused host may be ACTIVE only if that host holds its current revision.
    """
    names = {h.name: h.node_id for h in cluster.hosts if h.node_id in frozen}
    ports = (await cluster.rest.get("/v2.0/ports"))["ports"]
    lies = []
    for port in ports:
        node_id = names.get(port["binding:host_id"])
        if node_id is None or port["status"] != "ACTIVE":
            continue
        held = frozen[node_id]["ports"].get(port["id"], {}).get("revision_number")
        if held != port["revision_number"]:
            lies.append(
                f"port {port['id']} ACTIVE at rev {port['revision_number']}, "
                f"{port['binding:host_id']} holds {held}"
            )
    if lies:
        raise Dishonest(f"{cluster.describe()}\n" + "\n".join(lies))


async def subscribed_hosts(
    cluster: Cluster, at_least: int = 1, timeout: float = 20.0
) -> list[Host]:
    """Wait until REST shows `at_least` hosts SUBSCRIBED to a VPC topic; return them."""
    hosts: list[Host] = []

    async def any_subscribed() -> bool:
        hosts.clear()
        for host in cluster.hosts:
            node = await cluster.rest.get(f"/nodes/{host.node_id}")
            subs = node["host_info"]["southbound"]["vpc_subscriptions"]
            if any(s["state"] == "SUBSCRIBED" for s in subs):
                hosts.append(host)
        return len(hosts) >= at_least

    assert await poll(any_subscribed, timeout, interval=0.1), (
        f"fewer than {at_least} hosts subscribed to a VPC topic ({cluster.describe()})"
    )
    return hosts
