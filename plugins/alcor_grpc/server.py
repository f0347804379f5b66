"""The controller's gRPC server: agents call `RequestGoalStates` here (spec §6)."""

from __future__ import annotations

import logging
from typing import Any

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream

from alcor.proto import schema
from alcor.southbound.base import HostRequestHandler

from .wire import (
    CODEC,
    PUSH_GOALSTATES,
    PUSH_V1,
    PUSH_V2,
    REQUEST_GOAL_STATES,
    ClosingServer,
    bind_socket,
)

_LOGGER = logging.getLogger(__name__)


def peer_ip(stream: Stream[Any, Any]) -> str:
    """Return the IP address of the HTTP/2 peer of a call (IPv4-mapped IPv6 unwrapped)."""
    addr = stream.peer.addr()
    if addr is None:
        raise GRPCError(Status.INTERNAL, "peer address unknown")
    ip = str(addr[0])
    return ip.removeprefix("::ffff:")


async def _unimplemented(stream: Stream[Any, Any]) -> None:
    raise GRPCError(Status.UNIMPLEMENTED, "not served by the controller")


class _Provisioner:
    """GoalStateProvisioner with only RequestGoalStates; the three pushes are agent-side."""

    def __init__(self, handler: HostRequestHandler) -> None:
        self._handler = handler

    async def _request_goal_states(
        self, stream: Stream[schema.HostRequest, schema.HostRequestReply]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        # Resolved per call from the connection, never kept in shared state: the original
        # stored the requester in one field that concurrent calls overwrote.
        reply = await self._handler(peer_ip(stream), request)
        await stream.send_message(reply)

    def __mapping__(self) -> dict[str, Handler]:
        unary = Cardinality.UNARY_UNARY
        return {
            REQUEST_GOAL_STATES: Handler(
                self._request_goal_states, unary, schema.HostRequest, schema.HostRequestReply
            ),
            PUSH_V1: Handler(
                _unimplemented, unary, schema.GoalState, schema.GoalStateOperationReply
            ),
            PUSH_V2: Handler(
                _unimplemented,
                Cardinality.STREAM_STREAM,
                schema.GoalStateV2,
                schema.GoalStateOperationReply,
            ),
            PUSH_GOALSTATES: Handler(
                _unimplemented, unary, schema.NeighborRulesRequest, schema.GoalStateOperationReply
            ),
        }


class ControllerGrpcServer:
    """Serve `GoalStateProvisioner.RequestGoalStates` on `host:port` (port 0 = any free)."""

    def __init__(self, host: str, port: int, handler: HostRequestHandler) -> None:
        self.host = host
        self._requested_port = port
        self._handler = handler
        self._server: ClosingServer | None = None
        self.port: int | None = None  # the bound port, known after start()

    async def start(self) -> None:
        """Bind and start serving."""
        sock = bind_socket(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        self._server = ClosingServer([_Provisioner(self._handler)], codec=CODEC)
        # Hundreds of agents dial at once after a restart; a short accept queue drops SYNs
        # and costs each of them a 1 s retransmit.
        await self._server.start(sock=sock, backlog=4096)
        _LOGGER.info("controller gRPC server listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop accepting calls and close open connections."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
