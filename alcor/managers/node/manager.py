"""Node manager: the compute-node registry (each node carries its southbound settings)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import SouthboundConfig, StaticNode
from alcor.managers.base import ResourceManager
from alcor.managers.common import RequestContext, admin_context, changed, deny, now_iso
from alcor.managers.crud import GetCommand, ListCommand
from alcor.managers.node import repo as node_repo
from alcor.managers.node.messages import (
    CreateNodes,
    DeleteNode,
    GetNode,
    ListNodes,
    LookupNodeByName,
    LookupNodes,
    NodeCreated,
    NodeDeleted,
    NodeUpdated,
    UpdateNode,
    ViewNodes,
)
from alcor.managers.port.messages import BumpNeighbors, QueryPorts, RebindHost
from alcor.resources import repo
from alcor.resources.base import defaults
from alcor.resources.node import NODE
from alcor.resources.repo import Page, Where
from alcor.store import Store

_LOGGER = logging.getLogger(__name__)
repo.register_extra_columns(NODE, ("created_at", "updated_at"))
DVR_PREFIX = "fe:16:11"
# Changing these makes the southbound switch channel / resync the node.
CHANNEL_FIELDS = frozenset(
    {
        "local_ip",
        "server_port",
        "data-path-ip",
        "transport",
        "mq_topic",
        "grpc_api",
        "subscribe_port",
    }
)


def default_dvr_mac(node_id: str) -> str:
    """Return the stable DVR MAC of a node: fe:16:11 + 3 bytes of sha256(node_id)."""
    digest = hashlib.sha256(node_id.encode()).digest()
    return ":".join([DVR_PREFIX, *(f"{b:02x}" for b in digest[:3])])


class NodeManager(ResourceManager):
    """Register, update and remove compute nodes (admin only)."""

    resource = NODE
    name = "node"
    requires = ("store", "bus")

    def __init__(
        self,
        bus: Bus,
        store: Store,
        config: SouthboundConfig,
        static_nodes: tuple[StaticNode, ...] = (),
    ) -> None:
        super().__init__(bus, store)
        self._config = config
        self._static = static_nodes

    async def start(self) -> None:
        """Register the node commands (static nodes are seeded by `seed_static`)."""
        self._bus.handle(CreateNodes, self.create)
        self._bus.handle(GetNode, self.get)
        self._bus.handle(ViewNodes, self.view)
        self._bus.handle(ListNodes, self.list_visible)
        self._bus.handle(UpdateNode, self.update)
        self._bus.handle(DeleteNode, self.delete)
        self._bus.handle(LookupNodeByName, self._by_name)
        self._bus.handle(LookupNodes, self._all)

    async def seed_static(self) -> None:
        """Register the `[[nodes]]` of the config that are not registered yet."""
        missing = [n for n in self._static if await self.lookup(n.node_id) is None]
        items = [{k: v for k, v in vars(n).items() if v not in ("", 0)} for n in missing]
        if items:
            await self.create(CreateNodes(ctx=admin_context(), items=items))

    def _admin_only(self, ctx: RequestContext, action: str) -> None:
        if not ctx.is_admin:
            raise deny(action)

    async def lookup(self, obj_id: str) -> dict[str, Any] | None:
        return await repo.get(self._store, NODE, obj_id)

    async def get(self, cmd: GetCommand) -> dict[str, Any]:
        self._admin_only(cmd.ctx, "get_node")
        return await super().get(cmd)

    async def list_visible(self, cmd: ListCommand) -> Page:
        self._admin_only(cmd.ctx, "get_node")
        return await super().list_visible(cmd)

    def visible_where(self, ctx: RequestContext) -> list[Where]:
        return []

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return ctx.is_admin  # nodes are admin-only (get and list check it first)

    async def _by_name(self, cmd: LookupNodeByName) -> dict[str, Any] | None:
        found = await repo.find(self._store, NODE, repo.equals("node_name", cmd.name))
        return found[0] if found else None

    async def _all(self, cmd: LookupNodes) -> list[dict[str, Any]]:
        return await repo.find(self._store, NODE, repo.all_of([]), order="t.node_id")

    # ---- create ------------------------------------------------------------------------
    async def create(self, cmd: CreateNodes) -> list[dict[str, Any]]:
        """Register nodes in one transaction and bind ports that were waiting for them."""
        self._admin_only(cmd.ctx, "create_node")
        out = []
        async with self._store.transaction():
            for item in cmd.items:
                node = self._prepare(item)
                await self._check_unique(node)
                await repo.insert(self._store, NODE, node)
                # Published first: subscribers must know the node before its ports rebind.
                self._bus.publish(NodeCreated(node=node))
                await self._bus.call(RebindHost(host=node["node_name"]))
                out.append(node)
        return out

    def _prepare(self, given: dict[str, Any]) -> dict[str, Any]:
        node = defaults(NODE, given)
        node.setdefault("node_id", str(uuid.uuid4()))
        node.setdefault("server_port", self._config.agent_port)
        node.setdefault("transport", self._config.default_transport)
        if "agent_type" not in given and node["transport"] in ("kafka", "auto"):
            node["agent_type"] = "alcor"
        _check_agent_type(node)
        if node.get("host_dvr_mac") is None:
            node["host_dvr_mac"] = default_dvr_mac(node["node_id"])
        node["created_at"] = node["updated_at"] = now_iso()
        return node

    async def _check_unique(self, node: dict[str, Any], exclude: str | None = None) -> None:
        db = self._store
        if exclude is None and await self.lookup(node["node_id"]) is not None:
            raise errors.NodeExists(id=node["node_id"])
        other = await node_repo.id_with_name(db, node["node_name"], exclude or "")
        if other is not None:
            raise errors.NodeNameInUse(name=node["node_name"], id=other)
        other = await node_repo.id_with_address(
            db, node["local_ip"], node["server_port"], exclude or ""
        )
        if other is not None:
            raise errors.NodeAddressInUse(
                address=f"{node['local_ip']}:{node['server_port']}", id=other
            )

    # ---- update ------------------------------------------------------------------------
    async def update(self, cmd: UpdateNode) -> dict[str, Any]:
        """Update a node; address changes are refused while ports are bound to it."""
        self._admin_only(cmd.ctx, "update_node")
        async with self._store.transaction():
            node = await self.get_visible(cmd.ctx, cmd.id)
            given = dict(cmd.changes)
            body_id = given.pop("node_id", node["node_id"])
            if body_id != node["node_id"]:
                raise errors.HTTPBadRequest(msg="node_id in the body does not match the path")
            diff = changed(node, given)
            if not diff:
                return node
            bound = await self._bus.call(QueryPorts(host_id=node["node_name"], limit=1))
            for name in ("node_name", "local_ip", "host_dvr_mac"):
                if name in diff and bound:
                    raise errors.NodeInUse(
                        id=node["node_id"], reason=f"{name} cannot change while ports are bound"
                    )
            before = dict(node)
            node.update(diff)
            _check_agent_type(node)
            await self._check_unique(node, exclude=node["node_id"])
            diff["updated_at"] = node["updated_at"] = now_iso()
            await repo.update(self._store, NODE, node["node_id"], diff)
            if {"mac_address", "data-path-ip"} & diff.keys():
                ports = await self._bus.call(QueryPorts(host_id=node["node_name"]))
                await self._bus.call(BumpNeighbors(port_ids=[p["id"] for p in ports]))
            # Published first: subscribers must know the new name before its ports rebind.
            self._bus.publish(NodeUpdated(node=node, before=before, changed=frozenset(diff)))
            if "node_name" in diff:
                await self._bus.call(RebindHost(host=node["node_name"]))
        return node

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeleteNode) -> None:
        """Delete a node that has no bound ports."""
        self._admin_only(cmd.ctx, "delete_node")
        async with self._store.transaction():
            node = await self.get_visible(cmd.ctx, cmd.id)
            if await self._bus.call(QueryPorts(host_id=node["node_name"], limit=1)):
                raise errors.NodeInUse(
                    id=node["node_id"], reason="ports are bound to it; unbind or delete them first"
                )
            await repo.delete(self._store, NODE, node["node_id"])
            self._bus.publish(NodeDeleted(node=node))


def _check_agent_type(node: dict[str, Any]) -> None:
    if node["transport"] in ("kafka", "auto") and node["agent_type"] == "aca":
        raise errors.HTTPBadRequest(
            msg=f"Invalid input for transport. Reason: transport '{node['transport']}' needs "
            f"agent_type 'alcor' (ACA has no Kafka consumer)."
        )
    if node["transport"] == "kafka" and node.get("grpc_api") == "v1":
        raise errors.HTTPBadRequest(
            msg="Invalid input for grpc_api. Reason: Kafka carries GoalStateV2 only; "
            "grpc_api 'v1' needs transport 'grpc'."
        )
