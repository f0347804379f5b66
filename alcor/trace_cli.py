"""`alcor trace`: can this port (or outside address) reach that address, and if not, why?"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp
import click
from rich.console import Console
from rich.table import Table


async def _trace(url: str, token: str | None, body: dict[str, Any], source: str) -> dict[str, Any]:
    headers = {"X-Auth-Token": token} if token else {}
    async with aiohttp.ClientSession(url, headers=headers) as session:
        async with session.post(f"/trace?source={source}", json=body) as resp:
            answer = await resp.json()
            if resp.status >= 400:
                error = answer.get("NeutronError", {})
                raise click.ClickException(
                    f"{resp.status} {error.get('type')}: {error.get('message')}"
                )
            return dict(answer["trace"])


def _print(result: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"{result['verdict'].upper()}: {result['reason']}")
    for column in ("host", "stage", "detail", "decided by"):
        table.add_column(column)
    for hop in result["hops"]:
        table.add_row(hop["host"], hop["stage"], hop["detail"], hop["object"])
    console.print(table)
    if result.get("differences"):
        console.print(
            f"[bold]The hosts differ from the intent[/bold] (intent: {result['intent']['verdict']}, "
            f"{result['intent']['reason']}):"
        )
        for diff in result["differences"]:
            console.print(f"  hop {diff['index']}: hosts {diff['acked']} / intent {diff['intent']}")


@click.command()
@click.option("--url", default="http://127.0.0.1:9009", show_default=True, help="alcor's API.")
@click.option("--token", default=None, help="X-Auth-Token when auth is on.")
@click.option("--from-port", default=None, help="The sending port's id.")
@click.option("--from-ip", default=None, help="The sending address (a port's, or outside).")
@click.option("--to", "to", required=True, help="The destination address.")
@click.option("--protocol", type=click.Choice(["tcp", "udp", "icmp"]), default="tcp")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="tcp/udp port.")
@click.option(
    "--source",
    type=click.Choice(["acked", "intent"]),
    default="acked",
    show_default=True,
    help="What the hosts acknowledged, or what they should hold.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON.")
def trace(
    url: str,
    token: str | None,
    from_port: str | None,
    from_ip: str | None,
    to: str,
    protocol: str,
    port: int,
    source: str,
    as_json: bool,
) -> None:
    """Follow a packet through the hosts' tables; exit status 1 when it is dropped."""
    if (from_port is None) == (from_ip is None):
        raise click.UsageError("give exactly one of --from-port and --from-ip")
    body: dict[str, Any] = {"to": to, "protocol": protocol, "port": port}
    body.update({"from_port": from_port} if from_port else {"from_ip": from_ip})
    result = asyncio.run(_trace(url, token, body, source))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print(result)
    sys.exit(0 if result["verdict"] == "delivered" else 1)
