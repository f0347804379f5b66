"""grpclib plumbing shared by the transport, the controller server and the reference agent."""

from __future__ import annotations

import socket
import weakref
from typing import Any

from grpclib.client import Channel
from grpclib.encoding.proto import ProtoCodec
from grpclib.protocol import H2Protocol
from grpclib.server import Server

from alcor.proto import schema
from alcor.southbound.wire import decode_reply

SERVICE = "/alcor.schema.GoalStateProvisioner/"
PUSH_V1 = SERVICE + "PushNetworkResourceStates"
PUSH_V2 = SERVICE + "PushGoalStatesStream"
REQUEST_GOAL_STATES = SERVICE + "RequestGoalStates"
PUSH_GOALSTATES = SERVICE + "PushGoalstates"  # lower-case 's' (sic), Arion only
PUSH_SUBSCRIBE_INFO = "/alcor.schema.SubscribeInfoProvisioner/PushNodeSubscribeInfo"
# alcor extension served by the reference agent on its GoalStateProvisioner port (§6.1).
GET_INVENTORY = "/alcor.schema.AgentInventory/GetInventory"
# alcor extension: many pushes on one long-lived stream, one reply each (session.proto).
PUSH_SESSION = "/alcor.schema.AgentPushSession/PushGoalStatesSession"


class Raw:
    """Marker type for a message that crosses the codec as bytes, neither encoded nor decoded."""


class BytesCodec(ProtoCodec):
    """ProtoCodec that passes pre-encoded payloads through untouched.

    Goal states are assembled from cached entries (alcor.southbound.encoding); encoding
    them again would cost what the cache saves. The content type stays `application/grpc`
    (subtype proto), so peers see an ordinary protobuf call.
    """

    def encode(self, message: Any, message_type: Any) -> bytes:
        """Return bytes as they are (no copy); encode betterproto messages."""
        return bytes(message)

    def decode(self, data: bytes, message_type: Any) -> Any:
        """Return the raw bytes for `Raw`, else parse into `message_type`."""
        if message_type is Raw:
            return data
        if message_type is schema.GoalStateOperationReply:
            # One status per state: betterproto would spend seconds on a 10k-state reply.
            return decode_reply(data)
        return message_type().parse(data)


CODEC = BytesCodec()


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket (port 0 = any free port) to hand to grpclib's Server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and accepted sockets inherit it. Without it every call waits ~40 ms (Nagle vs
    # delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class ClosingServer(Server):
    """grpclib Server whose close() also drops open client connections.

    grpclib's close() stops listening and cancels running calls but leaves established
    HTTP/2 connections open, so a peer could keep calling a "stopped" agent. A stopped
    agent or controller must look like a dead process to its peers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._protocols: weakref.WeakSet[H2Protocol] = weakref.WeakSet()

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        self._protocols.add(protocol)
        return protocol

    def close(self) -> None:
        """Stop listening, cancel running calls and close every connection."""
        super().close()
        for protocol in list(self._protocols):
            processor = getattr(protocol, "processor", None)
            if processor is not None:
                processor.close("server stopped")


class SourceBoundChannel(Channel):
    """A grpclib Channel whose connections leave from `local_ip`.

    The controller identifies a requesting agent by the peer address of its connection,
    so each of many agents in one process must dial from its own loopback IP.
    """

    def __init__(self, host: str, port: int, *, local_ip: str, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self._local_ip = local_ip

    async def _create_connection(self) -> H2Protocol:
        _, protocol = await self._loop.create_connection(
            self._protocol_factory, self._host, self._port, local_addr=(self._local_ip, 0)
        )
        return protocol
