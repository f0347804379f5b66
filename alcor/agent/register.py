"""Register hosts through the controller's node API, exactly as an operator would.

`alcor agent --register URL` and `alcor serve --embedded-agents N` both use it: the
agents' hosts become nodes by POST /nodes (bulk host_infos), and a node that exists with
other addresses is updated with PUT /nodes/{id}. The controller may not be up yet (the
embedded agents start with it): connection errors are retried until `timeout`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from .pool import AgentPool

_LOGGER = logging.getLogger(__name__)
# The node attributes an agent knows about its host; the rest stays the operator's.
_OWNED = ("node_name", "local_ip", "server_port", "agent_type", "subscribe_port")


def host_infos(
    pool: AgentPool, node_names: Sequence[str] | None = None, transport: str | None = None
) -> list[dict[str, Any]]:
    """Return the host_info of every agent of a pool (node id, name, addresses, MAC)."""
    infos = []
    for i, (ip, agent) in enumerate(sorted(pool.agents.items())):
        node_id = agent.node_id
        info: dict[str, Any] = {
            "node_id": node_id,
            "node_name": node_names[i] if node_names else node_id,
            "local_ip": ip,
            "server_port": agent.port,
            "subscribe_port": agent.subscribe_port,
            "agent_type": "alcor",
            # Locally administered and stable per address (the agent has no real NIC).
            "mac_address": "52:54:00:" + ":".join(f"{b:02x}" for b in _ip_bytes(ip)[1:]),
        }
        if transport:
            info["transport"] = transport
        infos.append(info)
    return infos


def _ip_bytes(ip: str) -> bytes:
    return bytes(int(part) for part in ip.split("."))


async def register(
    url: str,
    hosts: Sequence[Mapping[str, Any]],
    token: str | None = None,
    timeout: float = 60.0,
) -> None:
    """Create or update the nodes of `hosts` through the node API; retry until `timeout`."""
    headers = {"X-Auth-Token": token} if token else {}
    delay = 0.05
    async with asyncio.timeout(timeout):
        while True:
            try:
                async with aiohttp.ClientSession(url, headers=headers) as session:
                    await _register(session, hosts)
                    return
            except (aiohttp.ClientConnectionError, OSError) as exc:
                _LOGGER.debug("node API at %s not reachable yet: %s", url, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def _register(session: aiohttp.ClientSession, hosts: Sequence[Mapping[str, Any]]) -> None:
    async with session.get("/nodes") as resp:
        await _check(resp)
        existing = {n["node_id"]: n for n in (await resp.json())["host_infos"]}
    new = [dict(h) for h in hosts if h["node_id"] not in existing]
    for host in hosts:
        current = existing.get(host["node_id"])
        if current is None:
            continue
        changes = {k: host[k] for k in _OWNED if k in host and current.get(k) != host[k]}
        if changes:
            async with session.put(f"/nodes/{host['node_id']}", json={"host_info": changes}) as r:
                await _check(r)
    if new:
        async with session.post("/nodes", json={"host_infos": new}) as resp:
            await _check(resp)
    _LOGGER.info("registered %d hosts (%d new) with the controller", len(hosts), len(new))


async def _check(resp: aiohttp.ClientResponse) -> None:
    if resp.status >= 400:
        body = await resp.text()
        raise RuntimeError(f"node API answered {resp.status}: {body}")
