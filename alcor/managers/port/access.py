"""Who may read and change a port: its project, and the owner of its network."""

from __future__ import annotations

from typing import Any

from alcor.managers.common import RequestContext, deny
from alcor.resources import repo
from alcor.resources.port import PORT
from alcor.store import Store


def is_visible(port: dict[str, Any], ctx: RequestContext) -> bool:
    """Return True when `ctx` may read the port (own, or on one's own network)."""
    return ctx.view_project is None or ctx.view_project in (
        port["project_id"],
        port["network_project_id"],
    )


async def get_visible(db: Store, ctx: RequestContext, port_id: str) -> dict[str, Any]:
    """Return the port if `ctx` may read it, else raise PortNotFound."""
    port = await repo.get(db, PORT, port_id)
    if port is None or not is_visible(port, ctx):
        raise PORT.not_found(id=port_id)
    return port


def check_write(ctx: RequestContext, port: dict[str, Any], action: str) -> None:
    """Raise 403 unless `ctx` may change the port (readers never; admins on /v2.0)."""
    if ctx.caller.is_reader_only:
        raise deny(action)
    if ctx.view_project is None:
        if not ctx.is_admin:
            raise deny(action)
    elif ctx.view_project not in (port["project_id"], port["network_project_id"]):
        raise deny(action)
