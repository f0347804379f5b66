"""The internal bus: commands are awaited in the caller's task, events after commit."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from alcor.bus.messages import Command, Event
from alcor.store import current_transaction

_LOGGER = logging.getLogger(__name__)
R = TypeVar("R")
E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[Any]]
Subscriber = Callable[[Any], Awaitable[None] | None]
Writer = Callable[[Any], Awaitable[None]]


class NoHandler(LookupError):
    """A command was called that no component handles."""


class Bus:
    """Commands with exactly one handler; events delivered after the outermost commit."""

    name = "bus"
    requires: tuple[str, ...] = ("store",)

    def __init__(self) -> None:
        self._handlers: dict[type[Command[Any]], Handler] = {}
        self._subscribers: dict[type[Event], list[Subscriber]] = defaultdict(list)
        self._writers: dict[type[Event], list[Writer]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Nothing to open: handlers register themselves in their own start()."""

    async def stop(self) -> None:
        """Wait for in-flight subscribers."""
        await self.join()

    def handle(self, command: type[Command[R]], handler: Callable[[Any], Awaitable[R]]) -> None:
        """Register the one handler of `command`; a second registration is a bug."""
        if command in self._handlers:
            raise RuntimeError(f"{command.__name__} already has a handler")
        self._handlers[command] = handler

    def unhandle(self, command: type[Command[Any]]) -> None:
        """Remove the handler of `command` (component stop)."""
        self._handlers.pop(command, None)

    async def call(self, command: Command[R]) -> R:
        """Run the command's handler in this task and return its result (or raise)."""
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise NoHandler(f"no handler for {type(command).__name__}") from None
        result: R = await handler(command)
        return result

    def subscribe(self, event: type[E], subscriber: Callable[[E], Any]) -> Callable[[], None]:
        """Subscribe to `event`; return a callable that unsubscribes."""
        self._subscribers[event].append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers[event]:
                self._subscribers[event].remove(subscriber)

        return unsubscribe

    def write_with(
        self, event: type[E], writer: Callable[[E], Awaitable[None]]
    ) -> Callable[[], None]:
        """Have `writer(event)` run when `event` is published inside a transaction, as the
        transaction's last work, so what it writes commits or rolls back with the change.

        For durable bookkeeping that must never be apart from its change (the southbound's
        ledger). A writer is quick; it cannot veto: its failure is logged and the change
        goes on. Returns a callable that unsubscribes.
        """
        self._writers[event].append(writer)

        def unsubscribe() -> None:
            if writer in self._writers[event]:
                self._writers[event].remove(writer)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver `event` now, or after the outermost commit when inside a transaction.

        Events of a transaction that rolls back are dropped. Synchronous subscribers run
        inline (they must be quick); coroutine subscribers each run in an owned task.
        A subscriber's failure is logged and never reaches the publisher.
        """
        txn = current_transaction()
        if txn is not None:
            for writer in self._writers.get(type(event), ()):
                txn.before_commit.append(functools.partial(_write, writer, event))
            txn.after_commit.append(lambda: self._deliver(event))
        else:
            self._deliver(event)

    async def join(self) -> None:
        """Wait until every subscriber task started so far (and their follow-ups) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _deliver(self, event: Event) -> None:
        for subscriber in list(self._subscribers.get(type(event), ())):
            try:
                result = subscriber(event)
            except Exception:
                _LOGGER.exception("subscriber %s failed on %s", _name(subscriber), event)
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(self._guard(subscriber, event, result))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(subscriber: Subscriber, event: Event, coro: Awaitable[None]) -> None:
        try:
            await coro
        except Exception:
            _LOGGER.exception("subscriber %s failed on %s", _name(subscriber), event)


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", repr(fn))


async def _write(writer: Writer, event: Event) -> None:
    """Run one in-transaction writer; its failure is logged, never the publisher's."""
    try:
        await writer(event)
    except Exception:
        _LOGGER.exception("in-transaction writer %s failed on %s", _name(writer), event)
