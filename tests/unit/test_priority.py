"""The API-first event loop: background callbacks wait behind the foreground, not forever."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from alcor.cli import event_loop_factory
from alcor.config import ConfigError, ServerConfig, load_config
from alcor.priority import PriorityEventLoop, background, create_background_task, is_background


def run(main: Callable[[], Coroutine[Any, Any, Any]], defer_s: float = 0.001) -> Any:
    """Run `main()` to completion on a fresh PriorityEventLoop."""
    with asyncio.Runner(loop_factory=lambda: PriorityEventLoop(defer_s)) as runner:
        return runner.run(main())


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0)


def test_foreground_callbacks_run_before_background_ones_scheduled_earlier() -> None:
    """Plain asyncio would run b1, b2 first: they were scheduled first."""

    async def main() -> list[str]:
        order: list[str] = []
        loop = asyncio.get_running_loop()
        with background():
            loop.call_soon(order.append, "b1")
            loop.call_soon(order.append, "b2")
        loop.call_soon(order.append, "f1")
        loop.call_soon(order.append, "f2")
        await _until(lambda: len(order) == 4)
        return order

    assert run(main) == ["f1", "f2", "b1", "b2"]


async def _steps(name: str, count: int, log: list[str]) -> None:
    for _ in range(count):
        log.append(name)
        await asyncio.sleep(0)


def test_a_task_created_in_background_runs_after_a_busy_foreground() -> None:
    """Tasks inherit the background context; while the foreground always has a callback
    ready and background may wait long, background steps wait for the foreground to end."""

    async def main() -> list[str]:
        log: list[str] = []
        with background():
            assert is_background()
            behind = asyncio.create_task(_steps("b", 5, log))
        assert not is_background()
        ahead = asyncio.create_task(_steps("f", 50, log))
        await asyncio.gather(behind, ahead)
        return log

    assert run(main, defer_s=60.0) == ["f"] * 50 + ["b"] * 5


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _spin(counts: dict[str, int], name: str, until: float) -> None:
    while time.perf_counter() < until:
        _busy(0.0002)
        counts[name] += 1
        await asyncio.sleep(0)


def test_background_is_not_starved_by_a_busy_foreground() -> None:
    """Once background has waited through defer_s of foreground work it gets a turn as
    long: both busy, each gets a fair share (with defer_s = forever it would get none)."""

    async def main() -> dict[str, int]:
        counts = {"f": 0, "b": 0}
        until = time.perf_counter() + 0.3
        with background():
            behind = asyncio.create_task(_spin(counts, "b", until))
        await asyncio.gather(behind, _spin(counts, "f", until))
        return counts

    counts = run(main, defer_s=0.001)
    assert counts["b"] >= 0.25 * counts["f"] > 0


def test_a_socket_registered_in_background_is_read_after_the_foreground() -> None:
    """Ready socket callbacks (a push connection's replies) queue as background too."""

    async def main() -> list[str]:
        log: list[str] = []
        loop = asyncio.get_running_loop()
        read = loop.create_future()
        left, right = socket.socketpair()
        left.setblocking(False)
        try:

            def readable() -> None:
                left.recv(64)
                log.append("read")
                loop.remove_reader(left)
                read.set_result(None)

            with background():
                loop.add_reader(left, readable)
            right.send(b"reply")
            await _steps("f", 30, log)
            await read  # nothing foreground is ready while this waits
        finally:
            left.close()
            right.close()
        return log

    assert run(main, defer_s=60.0) == ["f"] * 30 + ["read"]


def test_threads_futures_and_cancellation_work_in_background() -> None:
    """An executor result reaches a background task; a background task can be cancelled."""

    async def main() -> tuple[int, bool]:
        loop = asyncio.get_running_loop()

        async def compute() -> int:
            return await loop.run_in_executor(None, sum, range(10))

        async def forever() -> None:
            await asyncio.sleep(3600)

        with background():
            computed = asyncio.create_task(compute())
            sleeper = asyncio.create_task(forever())
        value = await computed
        await asyncio.sleep(0)
        sleeper.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeper
        return value, sleeper.cancelled()

    assert run(main) == (45, True)


def test_closing_drops_the_background_callbacks_still_queued() -> None:
    loop = PriorityEventLoop()
    calls: list[int] = []
    with background():
        loop.call_soon(calls.append, 1)
    loop.close()
    assert calls == []
    with pytest.raises(RuntimeError, match="closed"), background():
        loop.call_soon(calls.append, 2)


def test_serve_uses_the_api_first_loop_unless_configured_off() -> None:
    factory = event_loop_factory(ServerConfig(background_wait_ms=2.5))
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, PriorityEventLoop)
        assert loop.defer_s == pytest.approx(0.0025)
    finally:
        loop.close()
    assert event_loop_factory(ServerConfig(api_first=False)) is None


def test_a_background_wait_of_zero_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="background_wait_ms"):
        load_config(None, overrides={"server.background_wait_ms": 0})


def test_debug_mode_checks_background_callbacks_as_asyncio_does() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        coroutine = asyncio.sleep(0)
        with pytest.raises(TypeError, match="coroutines cannot be used"), background():
            loop.call_soon(coroutine)  # type: ignore[arg-type]
        coroutine.close()

    run(main)


def test_create_background_task_marks_the_task_not_its_creator() -> None:
    """An API request that starts gateway calls (outbox lanes) stays foreground itself."""

    async def main() -> tuple[bool, bool]:
        async def probe() -> bool:
            return is_background()

        task = create_background_task(probe(), name="lane")
        return await task, is_background()

    assert run(main) == (True, False)
