"""Apply change-record rows to the topology, as intake.py applies in-process events.

With several processes on one database (alcor/southbound/ownership.py) a process learns
every change, its own and the others', from the change record (alcor/store/feed.py),
never from its own memory. Each row carries the stored object, which is what the in-process
events carry; the few event fields a row does not hold are derived here: the subnets a
router change concerns (from the subnets' own attachment changes), and which fields of a
node changed (against the last row seen for it).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from alcor import errors
from alcor.managers.acl.messages import NetworkAclChanged, NetworkAclDeleted
from alcor.managers.common import admin_context
from alcor.managers.floatingip.messages import FloatingIpChanged
from alcor.managers.gateway.messages import GatewayChanged, GatewayDeleted, GatewayRecord
from alcor.managers.network.messages import NetworkCreated, NetworkDeleted
from alcor.managers.node.messages import NodeCreated, NodeDeleted, NodeUpdated
from alcor.managers.port.messages import PortCreated, PortDeleted
from alcor.managers.port_forwarding.messages import PortForwardingChanged, PortForwardingDeleted
from alcor.managers.qos.messages import GetQosPolicy, QosPolicyChanged, QosPolicyDeleted
from alcor.managers.router.messages import RouterChanged, RouterDeleted
from alcor.managers.security_group.messages import SecurityGroupChanged, SecurityGroupDeleted
from alcor.managers.subnet.messages import SubnetCreated, SubnetDeleted
from alcor.managers.trunk.messages import GetTrunk, TrunkChanged, TrunkDeleted
from alcor.southbound import intake
from alcor.store.changes import Change

if TYPE_CHECKING:
    from alcor.southbound.engine import SouthboundEngine
    from alcor.southbound.planner import Marks

_LOGGER = logging.getLogger(__name__)


# change-record resource name -> handler suffix
_HANDLED = {
    "port": "port",
    "network": "network",
    "subnet": "subnet",
    "router": "router",
    "security_group": "security_group",
    "security_group_rule": "security_group_rule",
    "host_info": "node",
    "network_acl": "network_acl",
    "network_acl_rule": "network_acl_rule",
    "floatingip": "floatingip",
    "gateway": "gateway",
    "port_forwarding": "port_forwarding",
    "policy": "qos_policy",
    "bandwidth_limit_rule": "qos_rule",
    "dscp_marking_rule": "qos_rule",
    "minimum_bandwidth_rule": "qos_rule",
    "minimum_packet_rate_rule": "qos_rule",
    "trunk": "trunk",
}


class FeedIntake:
    """Turn change rows into topology updates and marks."""

    def __init__(self, engine: SouthboundEngine) -> None:
        self._dp = engine
        self._nodes: dict[str, dict[str, Any]] = {}  # last row seen per node

    def seed_nodes(self, nodes: list[dict[str, Any]]) -> None:
        """Remember the nodes as loaded at start (node updates are diffed against them)."""
        self._nodes = {node["node_id"]: node for node in nodes}

    async def apply(self, change: Change, marks: Marks) -> None:
        """Apply one change row."""
        handler = getattr(self, f"_{_HANDLED.get(change.resource, '')}", None)
        if handler is None:
            return  # a resource the data plane does not hold (subnet pools, quotas, ...)
        # NotFound: gone again later in the record, whose delete follows.
        with contextlib.suppress(errors.NotFound):
            await handler(change, change.object, change.type == "DELETED", marks)

    async def _port(self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks) -> None:
        if gone:
            await intake.apply(self._dp, PortDeleted(port=obj), marks)
            return
        known = self._dp.topo.ports.get(obj["id"])
        if (
            known is not None
            and known.revision == obj.get("revision_number")
            and known.neighbor_revision == obj.get("neighbor_revision")
        ):
            return  # a status write (no revision): nothing a host holds changed
        await intake.apply(self._dp, PortCreated(port=obj), marks)

    async def _network(self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks) -> None:
        event = NetworkDeleted(network=obj) if gone else NetworkCreated(network=obj)
        await intake.apply(self._dp, event, marks)

    async def _subnet(self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks) -> None:
        dp = self._dp
        if gone:
            await intake.apply(dp, SubnetDeleted(subnet=obj), marks)
            return
        old = dp.topo.subnets.get(obj["id"])
        before = old.router_id if old is not None else None
        await intake.apply(dp, SubnetCreated(subnet=obj), marks)
        after = obj.get("attached_router_id")
        if before != after:  # an interface came or went: what RouterChanged carries
            for router_id in (before, after):
                if router_id and router_id in dp.topo.routers:
                    dp.planner.router_changed(router_id, {obj["id"]}, marks)

    async def _router(self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks) -> None:
        if gone:
            await intake.apply(self._dp, RouterDeleted(router=obj), marks)
            return
        subnets = frozenset(self._dp.topo.subnets_of_router.get(obj["id"], ()))
        await intake.apply(self._dp, RouterChanged(router=obj, subnet_ids=subnets), marks)

    async def _security_group(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        if gone:
            event: Any = SecurityGroupDeleted(security_group=obj)
        else:
            event = SecurityGroupChanged(security_group_id=obj["id"])
        await intake.apply(self._dp, event, marks)

    async def _security_group_rule(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        group_id = obj.get("security_group_id")
        if group_id:
            await intake.apply(self._dp, SecurityGroupChanged(security_group_id=group_id), marks)

    async def _node(self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks) -> None:
        node_id = obj["node_id"]
        before = self._nodes.pop(node_id, None)
        if gone:
            await intake.apply(self._dp, NodeDeleted(node=obj), marks)
            return
        self._nodes[node_id] = obj
        if before is None:
            await intake.apply(self._dp, NodeCreated(node=obj), marks)
            return
        changed = frozenset(k for k in obj.keys() | before.keys() if obj.get(k) != before.get(k))
        if changed:
            await intake.apply(
                self._dp, NodeUpdated(node=obj, before=before, changed=changed), marks
            )

    async def _network_acl(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        if gone:
            await intake.apply(self._dp, NetworkAclDeleted(network_acl=obj), marks)
        else:
            await intake.apply(self._dp, NetworkAclChanged(network_acl=obj), marks)

    async def _network_acl_rule(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        acl_id = obj.get("network_acl_id")
        if acl_id and acl_id in self._dp.topo.acls:
            await intake.apply(self._dp, NetworkAclChanged(network_acl={"id": acl_id}), marks)

    async def _floatingip(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        await intake.apply(self._dp, FloatingIpChanged(floatingip=obj, deleted=gone), marks)

    async def _gateway(self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks) -> None:
        record = GatewayRecord.of(obj)
        if gone:
            await intake.apply(self._dp, GatewayDeleted(gateway=record), marks)
            return
        known = self._dp.topo.gateways.get(record.id)
        if record.zgc_id is None or record.status == "DELETING":
            return  # not yet (or no longer) at Zeta: hosts learn it once Zeta answered
        if known is None or known.revision != record.revision:  # not a status-only write
            await intake.apply(self._dp, GatewayChanged(gateway=record), marks)

    async def _port_forwarding(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        if gone:
            await intake.apply(self._dp, PortForwardingDeleted(port_forwarding=obj), marks)
        else:
            await intake.apply(self._dp, PortForwardingChanged(port_forwarding=obj), marks)

    # A row holds the stored policy or trunk; hosts need it with its rules or subports,
    # read as of now (a later delete follows in the record when it is gone: NotFound).
    async def _qos_policy(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        if gone:
            await intake.apply(self._dp, QosPolicyDeleted(policy=obj), marks)
        else:
            await self._qos_current(obj["id"], marks)

    async def _qos_rule(
        self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks
    ) -> None:
        if obj.get("qos_policy_id"):
            await self._qos_current(obj["qos_policy_id"], marks)

    async def _qos_current(self, policy_id: str, marks: Marks) -> None:
        policy = await self._dp.bus.call(GetQosPolicy(ctx=admin_context(), id=policy_id))
        await intake.apply(self._dp, QosPolicyChanged(policy=policy), marks)

    async def _trunk(self, change: Change, obj: dict[str, Any], gone: bool, marks: Marks) -> None:
        if gone:
            await intake.apply(self._dp, TrunkDeleted(trunk=obj), marks)
            return
        trunk = await self._dp.bus.call(GetTrunk(ctx=admin_context(), id=obj["id"]))
        await intake.apply(self._dp, TrunkChanged(trunk=trunk), marks)
