"""The contract between the data-plane manager and a southbound transport plugin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from alcor.proto import schema


@dataclass(frozen=True, slots=True)
class NodeTarget:
    """What a transport needs to know about one compute node to reach its agent."""

    node_id: str
    node_name: str
    local_ip: str
    server_port: int = 50001
    transport: str = "grpc"
    grpc_api: str = "v2"  # v2 = PushGoalStatesStream, v1 = PushNetworkResourceStates
    mq_topic: str | None = None
    subscribe_port: int | None = None


class TransportError(Exception):
    """A push that did not complete; the sender backs off and retries.

    `kind` is one of `transport_error`, `deadline`, `protocol_error` (metric label values).
    """

    def __init__(self, message: str, kind: str = "transport_error") -> None:
        super().__init__(message)
        self.kind = kind


class NotSupported(TransportError):
    """The agent does not serve the call (gRPC UNIMPLEMENTED): ACA and the inventory.

    A protocol error for a push; for an optional call (the inventory) it means "ask the
    ledger instead".
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, "protocol_error")


# Called by a transport's inbound server for RequestGoalStates: (peer ip, request) -> reply.
HostRequestHandler = Callable[[str, "schema.HostRequest"], Awaitable["schema.HostRequestReply"]]


@dataclass(frozen=True, slots=True)
class SouthboundContext:
    """What the core hands to every transport: its own config section and callbacks."""

    config: Mapping[str, Any]
    handle_host_request: HostRequestHandler | None = None


class Transport(Protocol):
    """A delivery channel for goal states (entry-point group `alcor.southbound`)."""

    name: ClassVar[str]

    def __init__(self, ctx: SouthboundContext) -> None: ...

    async def start(self) -> None:
        """Open listeners and shared clients."""

    async def stop(self) -> None:
        """Close everything this transport opened."""

    async def push(
        self, node: NodeTarget, payload: bytes, *, request_id: str, timeout: float
    ) -> schema.GoalStateOperationReply:
        """Deliver one encoded goal state (V2, or V1 for `grpc_api=v1`) and return the reply.

        Raises TransportError when no (single) reply arrives within `timeout` seconds.
        """

    async def forget_node(self, node_id: str) -> None:
        """Drop per-node resources (channels, consumers) of a deleted or re-addressed node."""
