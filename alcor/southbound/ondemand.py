"""Agent → controller requests: ON_DEMAND neighbor lookups and AGENT_RESTARTED (spec §6)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from alcor.proto import schema
from alcor.southbound import metrics
from alcor.southbound.view import NEIGHBOR, neighbor_key

if TYPE_CHECKING:
    from alcor.southbound.engine import SouthboundEngine

_LOGGER = logging.getLogger(__name__)
ST = schema.OperationStatus
SUCCESS: int = int(ST.SUCCESS)
FAILURE: int = int(ST.FAILURE)
RESTART_TIMEOUT_S = 600.0


class HostRequests:
    """Serve RequestGoalStates for the controller's gRPC server."""

    def __init__(self, dp: SouthboundEngine) -> None:
        self._dp = dp
        self._inflight: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(dp.config.ondemand.max_inflight_per_host)
        )

    async def handle(self, peer_ip: str, request: schema.HostRequest) -> schema.HostRequestReply:
        """Answer every state request of a HostRequest (handled concurrently)."""
        started = time.perf_counter()
        node_id = self._dp.topo.node_by_ip.get(peer_ip)
        results = await asyncio.gather(*(self._one(node_id, r) for r in request.state_requests))
        return schema.HostRequestReply(
            format_version=1,
            operation_statuses=[
                schema.HostRequestReplyHostRequestOperationStatus(
                    request_id=r.request_id, operation_status=status
                )
                for r, status in zip(request.state_requests, results, strict=True)
            ],
            total_operation_time=int((time.perf_counter() - started) * 1e6),
        )

    async def _one(
        self, node_id: str | None, request: schema.HostRequestResourceStateRequest
    ) -> int:
        if node_id is None:
            return FAILURE
        if request.request_type == schema.RequestType.AGENT_RESTARTED:
            return await self._restarted(node_id)
        started = time.perf_counter()
        async with self._inflight[node_id]:
            status = await self._on_demand(node_id, request)
        result = "success" if status == ST.SUCCESS else "failure"
        metrics.ONDEMAND_TOTAL.labels(result).inc()
        metrics.ONDEMAND_SECONDS.labels(result).observe(time.perf_counter() - started)
        return status

    async def _restarted(self, node_id: str) -> int:
        waiter = self._dp.restart_node(node_id)
        if waiter is None:
            return FAILURE
        try:
            async with asyncio.timeout(RESTART_TIMEOUT_S):
                ok = await waiter
        except TimeoutError:
            return FAILURE
        return SUCCESS if ok else FAILURE

    async def _on_demand(
        self, node_id: str, request: schema.HostRequestResourceStateRequest
    ) -> int:
        topo = self._dp.topo
        network_id = topo.network_by_vni.get(request.tunnel_id)
        if network_id is None:
            return FAILURE
        # Only the requester's own VPCs: another project's neighbor must not leak to a host
        # that has no port in that VPC.
        if node_id not in topo.hosts_in_network.get(network_id, {}):
            return FAILURE
        owner = topo.address_owner.get((request.tunnel_id, request.destination_ip))
        if owner is None:
            return FAILURE
        source = topo.address_owner.get((request.tunnel_id, request.source_ip))
        if source is not None and not self._routable(source, owner):
            return FAILURE
        return await self._push_neighbor(node_id, owner)

    def _routable(self, source_id: str, dest_id: str) -> bool:
        """Same subnet, or subnets joined by one router."""
        topo = self._dp.topo
        src, dst = topo.ports[source_id], topo.ports[dest_id]
        if set(src.subnet_ids) & set(dst.subnet_ids):
            return True
        routers = {topo.subnets[s].router_id for s in src.subnet_ids if s in topo.subnets}
        return any(
            topo.subnets[s].router_id in routers
            for s in dst.subnet_ids
            if s in topo.subnets and topo.subnets[s].router_id
        )

    async def _push_neighbor(self, node_id: str, port_id: str) -> int:
        """Grant the neighbor to the host and push it (+ its subnets and VPC) before
        answering; the grant is withdrawn with the port (§6)."""
        dp = self._dp
        key = (NEIGHBOR, neighbor_key(port_id))
        if port_id not in dp.planner.grants.get(node_id, set()):
            dp.planner.grant(node_id, port_id, {})  # delivered right here, not queued
        statuses = await dp.push_out_of_band(
            node_id, [key], "grpc", dp.config.ondemand.push_deadline_s
        )
        if statuses is None:
            return FAILURE
        status = statuses.get(key, (ST.SUCCESS, ""))[0]
        return SUCCESS if status in (ST.SUCCESS, ST.OUT_OF_ORDER) else FAILURE
