"""`alcor agent`: run one or many reference agents until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import urllib.request
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from alcor import runtime

from .admin import AdminServer
from .agent import AgentConfig
from .apply import ApplyOptions
from .pool import AgentPool
from .register import host_infos, register

_LOGGER = logging.getLogger(__name__)


# The agent's tables, in the order an operator reads them; each is {id: object} or a list.
STATE_TABLES = (
    "vpcs",
    "subnets",
    "ports",
    "routers",
    "security_groups",
    "gateways",
    "neighbors",
    "arp",
    "routes",
    "network_acls",
    "floating_ips",
    "port_forwardings",
    "qos_policies",
    "port_qos",
    "trunks",
    "last_errors",
)
MAX_COLUMNS = 7


def print_state(state: dict[str, Any], console: Console) -> None:
    """Print an agent's state dump as one table per kind of resource, then its counters."""
    console.print(f"[bold]agent {state.get('ip', '?')}[/bold]")
    for name in STATE_TABLES:
        rows = _rows(state.get(name))
        if rows:
            console.print(_table(name, rows))
    counters = Table("counter", "value", title="counters", title_justify="left")
    for key, value in sorted((state.get("counters") or {}).items()):
        counters.add_row(key, str(value))
    console.print(counters)


def _rows(value: Any) -> list[dict[str, Any]]:
    """Return a table's rows: `{id: obj}` becomes objects with an `id` column first."""
    if isinstance(value, dict):
        return [
            {"id": key, **(obj if isinstance(obj, dict) else {"value": obj})}
            for key, obj in value.items()
        ]
    if isinstance(value, list):
        return [row if isinstance(row, dict) else {"value": row} for row in value]
    return []


def _table(name: str, rows: list[dict[str, Any]]) -> Table:
    columns = list(dict.fromkeys(key for row in rows for key in row))[:MAX_COLUMNS]
    table = Table(*columns, title=f"{name} ({len(rows)})", title_justify="left")
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 48 else text[:47] + "…"


def _host_port(value: str, default_port: int | None = None) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        if default_port is None:
            raise click.BadParameter(f"{value!r} is not host:port")
        return value, default_port
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not host:port") from None


@click.command("agent")
@click.option(
    "--listen",
    default="127.1.0.1:50001",
    show_default=True,
    help="IP:port of the first agent's GoalStateProvisioner.",
)
@click.option(
    "--subscribe-port",
    type=int,
    default=None,
    help="SubscribeInfoProvisioner port (default: listen port + 1).",
)
@click.option("--controller", default=None, help="Controller RequestGoalStates host:port.")
@click.option(
    "--kafka",
    default=None,
    help="Kafka bootstrap servers: consume the host topic and subscribed VPC topics.",
)
@click.option(
    "--mq-topic", default=None, help="The node's mq_topic, when it overrides alcor-host-<node-id>."
)
@click.option("--node-id", default="", help="Node id (suffixed -i with --count > 1).")
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Agents in this process; agent i listens on the listen IP + i.",
)
@click.option("--ip-step", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--admin", default=None, help="host:port of the admin HTTP API.")
@click.option(
    "--apply-latency-us",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Simulated dataplane time per state.",
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Fraction of states answered FAILURE.",
)
@click.option(
    "--pending-until-plug",
    is_flag=True,
    help="Port CREATE answers PENDING until POST /agents/{ip}/plug/{port_id}.",
)
@click.option(
    "--register",
    "register_url",
    default=None,
    metavar="URL",
    help="Register the agents' hosts as nodes through this controller's node API.",
)
@click.option("--register-token", default=None, help="X-Auth-Token for --register.")
@click.option(
    "--transport",
    type=click.Choice(["grpc", "kafka", "auto"]),
    default=None,
    help="The nodes' transport when --register creates them.",
)
@click.option(
    "--gc-threshold",
    type=click.IntRange(min=0),
    default=runtime.DEFAULT_GC_THRESHOLD,
    show_default=True,
    help="Allocations between young-generation GC passes (0: Python's default).",
)
@click.option(
    "--show-state",
    metavar="IP",
    default=None,
    help="Print the state of the agent IP from a running pool's --admin, then exit.",
)
def agent(
    listen: str,
    subscribe_port: int | None,
    controller: str | None,
    kafka: str | None,
    mq_topic: str | None,
    node_id: str,
    count: int,
    ip_step: int,
    admin: str | None,
    apply_latency_us: int,
    fail_rate: float,
    pending_until_plug: bool,
    register_url: str | None,
    register_token: str | None,
    transport: str | None,
    gc_threshold: int,
    show_state: str | None,
) -> None:
    """Run reference host agents (in-memory, wire-compatible with ACA)."""
    if show_state is not None:
        if admin is None:
            raise click.UsageError("--show-state needs --admin host:port")
        host, port = _host_port(admin)
        with urllib.request.urlopen(f"http://{host}:{port}/agents/{show_state}/state") as resp:
            print_state(json.loads(resp.read()), Console())
        return
    if kafka and not node_id:
        raise click.UsageError("--kafka needs --node-id (the topic is alcor-host-<node-id>)")
    runtime.tune_gc(gc_threshold)
    ip, port = _host_port(listen, 50001)
    config = AgentConfig(
        ip=ip,
        port=port,
        subscribe_port=subscribe_port,
        controller=_host_port(controller, 9016) if controller else None,
        node_id=node_id,
        kafka=kafka,
        mq_topic=mq_topic,
        apply_latency_us=apply_latency_us,
        apply=ApplyOptions(pending_until_plug=pending_until_plug, fail_rate=fail_rate),
    )
    admin_addr = _host_port(admin, 9100) if admin else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    registration = (register_url, register_token, transport) if register_url else None
    asyncio.run(run_agents(config, count, ip_step, admin_addr, registration))


async def run_agents(
    config: AgentConfig,
    count: int,
    ip_step: int,
    admin: tuple[str, int] | None,
    registration: tuple[str, str | None, str | None] | None = None,
) -> None:
    """Serve the pool (and admin API) until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool = AgentPool(config, count=count, ip_step=ip_step)
    await pool.start()
    admin_server = AdminServer(pool, *admin) if admin else None
    try:
        if admin_server is not None:
            await admin_server.start()
        if registration is not None:
            url, token, transport = registration
            await register(url, host_infos(pool, transport=transport), token)
        click.echo(
            f"{count} agent(s) from {config.ip}:{config.port}"
            + (f"; admin http://{admin_server.host}:{admin_server.port}" if admin_server else ""),
            err=True,
        )
        await stop.wait()
    finally:
        if admin_server is not None:
            await admin_server.stop()
        await pool.stop()
