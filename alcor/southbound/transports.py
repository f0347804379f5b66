"""The started transport plugins, one instance per kind, loaded on first use."""

from __future__ import annotations

import asyncio
from typing import Any

from alcor.config import SouthboundConfig
from alcor.priority import background
from alcor.southbound.base import NodeTarget, SouthboundContext, TransportError
from alcor.southbound.loader import transport_class
from alcor.southbound.records import NodeRec


class Transports:
    """Load, start, hand out and stop the transports nodes use."""

    def __init__(self, config: SouthboundConfig, overrides: dict[str, Any] | None) -> None:
        self._config = config
        self._overrides = overrides
        self._started: dict[str, Any] = {}
        self._loading: dict[str, asyncio.Lock] = {}

    def started(self) -> list[Any]:
        """Return the transports started so far."""
        return list(self._started.values())

    async def get(self, node: NodeRec, name: str | None = None) -> Any:
        """Return the started transport of a node's channel (loaded on first use)."""
        name = name or ("grpc" if node.transport == "auto" else node.transport)
        transport = self._started.get(name)
        if transport is not None:
            return transport
        async with self._loading.setdefault(name, asyncio.Lock()):  # one instance per kind
            transport = self._started.get(name)
            if transport is None:
                try:
                    cls = transport_class(name, self._overrides)
                    # Whoever asks first (a sender, or an audit an API request runs), what the
                    # plugin starts is background work: the API's callbacks go first.
                    with background():
                        transport = cls(SouthboundContext(config=dict(self._config.section(name))))
                        await transport.start()
                except Exception as exc:  # a broken plugin is a delivery failure, retried
                    raise TransportError(f"transport {name!r} could not start: {exc}") from exc
                self._started[name] = transport
        return transport

    async def forget_node(self, node_id: str) -> None:
        """Drop every transport's per-node resources (deleted or re-addressed node)."""
        for transport in self.started():
            await transport.forget_node(node_id)

    async def stop(self) -> None:
        """Stop every started transport."""
        for transport in self.started():
            await transport.stop()
        self._started.clear()


def target(node: NodeRec) -> NodeTarget:
    """Return what a transport needs to reach a node."""
    return NodeTarget(
        node_id=node.id,
        node_name=node.name,
        local_ip=node.local_ip,
        server_port=node.server_port,
        transport=node.transport,
        grpc_api=node.grpc_api,
        mq_topic=node.mq_topic,
        subscribe_port=node.subscribe_port,
    )
