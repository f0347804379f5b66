"""`alcor audit`: ask a running alcor whether every host holds what it should."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp
import click
from rich.console import Console
from rich.table import Table


async def _audit_all(
    url: str, token: str | None, node: str | None, repair: bool
) -> list[dict[str, Any]]:
    headers = {"X-Auth-Token": token} if token else {}
    async with aiohttp.ClientSession(url, headers=headers) as session:
        if node is None:
            async with session.get("/nodes") as resp:
                resp.raise_for_status()
                nodes = [n["node_id"] for n in (await resp.json())["host_infos"]]
        else:
            nodes = [node]
        results = []
        for node_id in nodes:
            method, path = ("POST", "repair") if repair else ("GET", "audit")
            async with session.request(method, f"/nodes/{node_id}/southbound/{path}") as resp:
                body = await resp.json()
                if resp.status >= 400:
                    message = body.get("NeutronError", {}).get("message", body)
                    raise click.ClickException(f"{node_id}: {resp.status} {message}")
                results.append(body["audit"])
        return results


def _table(results: list[dict[str, Any]]) -> Table:
    table = Table(title="southbound drift audit")
    for column in ("node", "source", "result", "kind", "missing", "stale", "extra"):
        table.add_column(column)
    for result in results:
        verdict = "clean" if result["clean"] else ("error" if result["error"] else "DRIFT")
        if result["repaired"]:
            verdict += " (repairing)"
        kinds = result["kinds"] or {"": {"missing": [], "stale": [], "extra": []}}
        for kind, drift in kinds.items():
            table.add_row(
                result["node_id"],
                result["source"],
                verdict if not result["error"] else f"{verdict}: {result['error']}",
                kind,
                *(str(len(drift[k])) for k in ("missing", "stale", "extra")),
            )
    return table


@click.command()
@click.option("--url", default="http://127.0.0.1:9009", show_default=True, help="alcor's API.")
@click.option("--token", default=None, help="X-Auth-Token (admin) when auth is on.")
@click.option("--node", default=None, help="Audit only this node id.")
@click.option("--repair", is_flag=True, help="Send exactly the difference to drifted hosts.")
@click.option("--json", "as_json", is_flag=True, help="Print the audits as JSON.")
def audit(url: str, token: str | None, node: str | None, repair: bool, as_json: bool) -> None:
    """Compare what every host should hold with what it holds (its agent's inventory, or
    what it acknowledged); exit status 1 when drift remains unrepaired."""
    results = asyncio.run(_audit_all(url, token, node, repair))
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        Console().print(_table(results))
    if any(not r["clean"] and not r["repaired"] for r in results):
        sys.exit(1)
