"""The push start gate: a bound on hosts starting a push, a port's own host first."""

from __future__ import annotations

import asyncio

import pytest

from alcor.southbound.delivery import Delivery
from alcor.southbound.gate import PushGate
from alcor.southbound.view import NEIGHBOR, PORT


def _host(name: str, *keys: tuple[str, str]) -> Delivery:
    delivery = Delivery(name)
    delivery.mark(keys)
    return delivery


async def _hold(
    gate: PushGate, delivery: Delivery, entered: list[str], leave: asyncio.Event
) -> None:
    async with gate.enter(delivery):
        entered.append(delivery.node_id)
        await leave.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_hosts_beyond_the_limit_wait_in_order() -> None:
    gate, entered, leave = PushGate(2), [], asyncio.Event()
    hosts = [_host(f"h{i}", (NEIGHBOR, f"n{i}")) for i in range(4)]
    tasks = [asyncio.create_task(_hold(gate, h, entered, leave)) for h in hosts]
    await _settle()
    assert entered == ["h0", "h1"] and gate.held == 2
    leave.set()
    await asyncio.gather(*tasks)
    assert entered == ["h0", "h1", "h2", "h3"] and gate.held == 0


async def test_a_host_with_a_port_state_does_not_wait() -> None:
    gate, entered, leave = PushGate(1), [], asyncio.Event()
    busy = asyncio.create_task(_hold(gate, _host("neighbor", (NEIGHBOR, "n")), entered, leave))
    queued = asyncio.create_task(_hold(gate, _host("queued", (NEIGHBOR, "n")), entered, leave))
    own = asyncio.create_task(_hold(gate, _host("own", (PORT, "p")), entered, leave))
    await _settle()
    assert entered == ["neighbor", "own"]  # the own host passed the queued neighbor push
    leave.set()
    await asyncio.gather(busy, queued, own)
    assert gate.held == 0


async def test_a_waiting_host_is_let_in_when_its_port_state_is_marked() -> None:
    gate, entered, leave = PushGate(1), [], asyncio.Event()
    busy = asyncio.create_task(_hold(gate, _host("busy", (NEIGHBOR, "n")), entered, leave))
    own = _host("own", (NEIGHBOR, "n"))
    waiting = asyncio.create_task(_hold(gate, own, entered, leave))
    await _settle()
    assert entered == ["busy"]
    own.mark([(PORT, "p")])
    gate.promote(own)
    await _settle()
    assert entered == ["busy", "own"] and gate.held == 2
    leave.set()
    await asyncio.gather(busy, waiting)
    assert gate.held == 0


async def test_promoting_a_host_that_does_not_wait_changes_nothing() -> None:
    gate = PushGate(1)
    gate.promote(_host("idle", (PORT, "p")))
    assert gate.held == 0


@pytest.mark.parametrize("let_in_first", [False, True])
async def test_a_cancelled_waiter_gives_its_place_back(let_in_first: bool) -> None:
    gate, entered, leave = PushGate(1), [], asyncio.Event()
    busy = asyncio.create_task(_hold(gate, _host("busy", (NEIGHBOR, "n")), entered, leave))
    gone = _host("gone", (NEIGHBOR, "n"))
    waiting = asyncio.create_task(_hold(gate, gone, entered, leave))
    await _settle()
    if let_in_first:  # let in, then cancelled before its task ran
        gone.mark([(PORT, "p")])
        gate.promote(gone)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert gate.held == 1  # only the busy host
    leave.set()
    await busy
    last = asyncio.create_task(_hold(gate, _host("last", (NEIGHBOR, "n")), entered, leave))
    await last
    assert entered == ["busy", "last"] and gate.held == 0
