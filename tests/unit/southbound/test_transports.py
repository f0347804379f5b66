"""Transports start as background work, whoever asks for one first."""

from __future__ import annotations

import dataclasses
from typing import Any

from alcor.config import SouthboundConfig
from alcor.priority import is_background
from alcor.southbound.records import NodeRec
from alcor.southbound.transports import Transports


class _Recording:
    """A transport that notes the context it was built and started in."""

    def __init__(self, ctx: Any) -> None:
        self.built_in_background = is_background()
        self.started_in_background: bool | None = None

    async def start(self) -> None:
        self.started_in_background = is_background()

    async def stop(self) -> None:
        pass


def _node() -> NodeRec:
    names = {f.name: "" for f in dataclasses.fields(NodeRec) if f.name != "server_port"}
    return NodeRec(**{**names, "id": "n1", "transport": "rec", "server_port": 50001})


async def test_a_transport_asked_for_from_the_api_still_starts_in_background() -> None:
    transports = Transports(SouthboundConfig(), {"rec": _Recording})
    assert not is_background()  # as an API request's audit would ask
    transport = await transports.get(_node())
    assert transport.built_in_background and transport.started_in_background
    assert not is_background()  # the caller's context is left as it was
    assert await transports.get(_node()) is transport
    await transports.stop()
