"""The controller's RequestGoalStates server on grpcio (spec §6), beside the grpclib one."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from grpc import aio

from alcor.proto import schema
from alcor.southbound.base import HostRequestHandler

_LOGGER = logging.getLogger(__name__)
SERVICE = "alcor.schema.GoalStateProvisioner"


def peer_ip(peer: str) -> str:
    """Return the IP of a grpcio peer string (`ipv4:1.2.3.4:5`, `ipv6:[::ffff:1.2.3.4]:5`)."""
    family, _, rest = peer.partition(":")
    host = rest.rpartition(":")[0] if family in ("ipv4", "ipv6") else rest
    return host.strip("[]").removeprefix("::ffff:")


class ControllerGrpcioServer:
    """Serve `GoalStateProvisioner.RequestGoalStates` on `host:port` (port 0 = any free).

    The other methods of the service are agent-side: grpcio answers them UNIMPLEMENTED.
    """

    def __init__(self, host: str, port: int, handler: HostRequestHandler) -> None:
        self.host = host
        self._requested_port = port
        self._handler = handler
        self._server: Any = None
        self.port: int | None = None  # the bound port, known after start()

    async def start(self) -> None:
        """Bind and start serving."""
        method = grpc.unary_unary_rpc_method_handler(
            self._request_goal_states,
            request_deserializer=lambda data: schema.HostRequest().parse(data),
            response_serializer=bytes,
        )
        server = aio.server()
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, {"RequestGoalStates": method}),)
        )
        self.port = server.add_insecure_port(f"{self.host}:{self._requested_port}")
        await server.start()
        self._server = server
        _LOGGER.info("controller grpcio server listening on %s:%s", self.host, self.port)

    async def _request_goal_states(
        self, request: schema.HostRequest, context: aio.ServicerContext
    ) -> schema.HostRequestReply:
        # The requester is the connection's peer, resolved per call.
        return await self._handler(peer_ip(context.peer()), request)

    async def stop(self) -> None:
        """Stop at once: running calls are cancelled and connections closed."""
        if self._server is not None:
            await self._server.stop(None)
            self._server = None
