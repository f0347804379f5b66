"""The bus: one handler per command, events after the outermost commit, isolated subscribers."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from alcor.bus import Bus, Command, Event, NoHandler
from alcor.config import StoreConfig
from alcor.store import Store, open_store


@dataclass(frozen=True, slots=True, kw_only=True)
class Add(Command[int]):
    """Add two numbers."""

    a: int
    b: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Fail(Command[None]):
    """Always fails."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Happened(Event):
    """Something happened."""

    what: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Other(Event):
    """Something else happened."""


class Boom(Exception):
    """A handler's own error."""


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    """A started store (for transactional publishing)."""
    s = open_store(StoreConfig(path=str(tmp_path / "bus.db")), [])
    await s.start()
    yield s
    await s.stop()


async def test_call_returns_the_handlers_result():
    """A command is answered by its one handler."""
    bus = Bus()

    async def add(cmd: Add) -> int:
        return cmd.a + cmd.b

    bus.handle(Add, add)
    assert await bus.call(Add(a=2, b=3)) == 5


async def test_second_handler_for_a_command_is_refused():
    """Registering two handlers for one command type is an error."""
    bus = Bus()

    async def handler(cmd: Add) -> int:
        return 0

    bus.handle(Add, handler)
    with pytest.raises(RuntimeError, match="Add"):
        bus.handle(Add, handler)


async def test_unhandled_command_raises_no_handler():
    """Calling a command nobody handles raises NoHandler instead of being dropped."""
    with pytest.raises(NoHandler, match="Add"):
        await Bus().call(Add(a=1, b=1))


async def test_unhandle_removes_the_handler():
    """After unhandle() the command has no handler again (and can be re-registered)."""
    bus = Bus()

    async def handler(cmd: Add) -> int:
        return 1

    bus.handle(Add, handler)
    bus.unhandle(Add)
    with pytest.raises(NoHandler):
        await bus.call(Add(a=1, b=1))
    bus.handle(Add, handler)
    assert await bus.call(Add(a=0, b=0)) == 1


async def test_handler_errors_propagate_unchanged_to_the_caller():
    """A command handler's exception reaches the caller as is."""
    bus = Bus()

    async def fail(cmd: Fail) -> None:
        raise Boom("bad")

    bus.handle(Fail, fail)
    with pytest.raises(Boom, match="bad"):
        await bus.call(Fail())


async def test_call_runs_in_the_callers_task_and_context():
    """The handler runs in the caller's task and sees its context variables."""
    bus = Bus()
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def handler(cmd: Add) -> int:
        assert asyncio.current_task() is caller_task
        return len(var.get())

    bus.handle(Add, handler)
    var.set("abc")
    caller_task = asyncio.current_task()
    assert await bus.call(Add(a=0, b=0)) == 3


async def test_publish_reaches_every_subscriber_of_that_event_only():
    """Sync and async subscribers of an event type all receive it; others do not."""
    bus = Bus()
    got: list[str] = []

    def sync_sub(event: Happened) -> None:
        got.append("sync:" + event.what)

    async def async_sub(event: Happened) -> None:
        got.append("async:" + event.what)

    bus.subscribe(Happened, sync_sub)
    bus.subscribe(Happened, async_sub)
    bus.subscribe(Other, lambda e: got.append("other"))
    bus.publish(Happened(what="x"))
    await bus.join()
    assert sorted(got) == ["async:x", "sync:x"]


async def test_unsubscribe_stops_delivery():
    """The callable returned by subscribe() removes that subscriber (twice is harmless)."""
    bus = Bus()
    got: list[str] = []
    unsubscribe = bus.subscribe(Happened, lambda e: got.append(e.what))
    bus.publish(Happened(what="before"))
    unsubscribe()
    unsubscribe()
    bus.publish(Happened(what="after"))
    await bus.join()
    assert got == ["before"]


async def test_failing_subscribers_are_isolated_and_logged(caplog):
    """A subscriber's error never reaches the publisher or the other subscribers."""
    bus = Bus()
    got: list[str] = []

    def bad_sync(event: Happened) -> None:
        raise Boom("sync")

    async def bad_async(event: Happened) -> None:
        raise Boom("async")

    bus.subscribe(Happened, bad_sync)
    bus.subscribe(Happened, bad_async)
    bus.subscribe(Happened, lambda e: got.append(e.what))
    with caplog.at_level(logging.ERROR, logger="alcor.bus.bus"):
        bus.publish(Happened(what="x"))
        await bus.join()
    assert got == ["x"]
    failures = [r for r in caplog.records if "failed on" in r.getMessage()]
    assert {r.getMessage().split()[1] for r in failures} == {
        "test_failing_subscribers_are_isolated_and_logged.<locals>.bad_sync",
        "test_failing_subscribers_are_isolated_and_logged.<locals>.bad_async",
    }


async def test_publish_inside_a_transaction_waits_for_the_outermost_commit(store):
    """Events published in (nested) transactions are delivered only after the outer commit."""
    bus = Bus()
    got: list[str] = []
    bus.subscribe(Happened, lambda e: got.append(e.what))
    async with store.transaction():
        bus.publish(Happened(what="outer"))
        async with store.transaction():
            bus.publish(Happened(what="inner"))
        assert got == []
    assert got == ["outer", "inner"]


async def test_publish_inside_a_rolled_back_transaction_is_dropped(store):
    """Events of a transaction that rolls back are never delivered."""
    bus = Bus()
    got: list[str] = []
    bus.subscribe(Happened, lambda e: got.append(e.what))
    with pytest.raises(Boom):
        async with store.transaction():
            bus.publish(Happened(what="lost"))
            raise Boom
    await bus.join()
    assert got == []


async def test_publish_in_a_failed_savepoint_is_dropped_but_outer_events_survive(store):
    """A rolled-back nested transaction drops its events; the outer ones are delivered."""
    bus = Bus()
    got: list[str] = []
    bus.subscribe(Happened, lambda e: got.append(e.what))
    async with store.transaction():
        bus.publish(Happened(what="kept"))
        with pytest.raises(Boom):
            async with store.transaction():
                bus.publish(Happened(what="lost"))
                raise Boom
    assert got == ["kept"]


async def test_async_subscribers_run_without_the_publishers_transaction(store):
    """Subscribers run after commit with no ambient transaction of their own."""
    from alcor.store import current_transaction

    bus = Bus()
    seen: list[object] = []

    async def sub(event: Happened) -> None:
        seen.append(current_transaction())

    bus.subscribe(Happened, sub)
    async with store.transaction():
        bus.publish(Happened(what="x"))
    await bus.join()
    assert seen == [None]


async def test_join_waits_for_subscribers_and_their_follow_ups():
    """join() returns only when subscriber tasks, and events they publish, are done."""
    bus = Bus()
    got: list[str] = []
    gate = asyncio.Event()

    async def first(event: Happened) -> None:
        await gate.wait()
        bus.publish(Other())

    async def second(event: Other) -> None:
        await asyncio.sleep(0)
        got.append("follow-up")

    bus.subscribe(Happened, first)
    bus.subscribe(Other, second)
    bus.publish(Happened(what="x"))
    joined = asyncio.create_task(bus.join())
    await asyncio.sleep(0)
    assert not joined.done()
    gate.set()
    await joined
    assert got == ["follow-up"]


async def test_stop_waits_for_in_flight_subscribers():
    """Bus.stop() drains subscriber tasks."""
    bus = Bus()
    got: list[str] = []

    async def sub(event: Happened) -> None:
        await asyncio.sleep(0)
        got.append(event.what)

    bus.subscribe(Happened, sub)
    bus.publish(Happened(what="x"))
    await bus.stop()
    assert got == ["x"]
