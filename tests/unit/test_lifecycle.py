"""Lifecycle: dependency order, reverse stop, only what started, cycle and unknown detection."""

from __future__ import annotations

import asyncio
import logging

import pytest

from alcor.lifecycle import DependencyError, start_order, started


class Part:
    """A component that records its start and stop in a shared journal."""

    def __init__(
        self,
        name: str,
        requires: tuple[str, ...] = (),
        journal: list[str] | None = None,
        fail_start: bool = False,
        fail_stop: bool = False,
        hang_stop: bool = False,
    ):
        self.name = name
        self.requires = requires
        self.journal = journal if journal is not None else []
        self.fail_start = fail_start
        self.fail_stop = fail_stop
        self.hang_stop = hang_stop

    async def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.journal.append(f"start {self.name}")

    async def stop(self) -> None:
        self.journal.append(f"stop {self.name}")
        if self.fail_stop:
            raise RuntimeError(f"{self.name} cannot stop")
        if self.hang_stop:
            await asyncio.Event().wait()


def test_start_order_puts_requirements_first():
    """Each component comes after everything it requires, whatever the input order."""
    parts = [
        Part("port", ("store", "bus", "mac")),
        Part("mac", ("store",)),
        Part("bus", ("store",)),
        Part("store"),
    ]
    order = [p.name for p in start_order(parts)]
    for part in parts:
        for required in part.requires:
            assert order.index(required) < order.index(part.name)
    assert sorted(order) == sorted(p.name for p in parts)


def test_start_order_rejects_a_cycle_naming_it():
    """A dependency cycle is an error that shows the cycle."""
    with pytest.raises(DependencyError, match="a -> b -> c -> a"):
        start_order([Part("a", ("b",)), Part("b", ("c",)), Part("c", ("a",))])


def test_start_order_rejects_an_unknown_requirement():
    """Requiring a component that does not exist is an error naming both."""
    with pytest.raises(DependencyError, match="port requires unknown component 'mac'"):
        start_order([Part("port", ("mac",))])


async def test_started_stops_in_reverse_order():
    """Components stop in the reverse of their start order."""
    journal: list[str] = []
    parts = [Part("b", ("a",), journal), Part("a", (), journal), Part("c", ("b",), journal)]
    async with started(parts):
        assert journal == ["start a", "start b", "start c"]
    assert journal[3:] == ["stop c", "stop b", "stop a"]


async def test_failed_start_stops_only_what_started():
    """When a start fails, the ones already started stop (in reverse); the rest never run."""
    journal: list[str] = []
    parts = [
        Part("a", (), journal),
        Part("b", ("a",), journal),
        Part("c", ("b",), journal, fail_start=True),
        Part("d", ("c",), journal),
    ]
    with pytest.raises(RuntimeError, match="c cannot start"):
        async with started(parts):
            pytest.fail("body must not run")
    assert journal == ["start a", "start b", "stop b", "stop a"]


async def test_failing_or_hanging_stop_does_not_block_the_others(caplog):
    """A stop that raises or exceeds the timeout is logged; the rest still stop."""
    journal: list[str] = []
    parts = [
        Part("a", (), journal),
        Part("b", ("a",), journal, fail_stop=True),
        Part("c", ("b",), journal, hang_stop=True),
    ]
    with caplog.at_level(logging.ERROR, logger="alcor.lifecycle"):
        async with started(parts, stop_timeout=0.01):
            pass
    assert journal[3:] == ["stop c", "stop b", "stop a"]
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "c did not stop" in messages and "b failed to stop" in messages


async def test_body_exception_still_stops_everything():
    """An error while running still stops every started component."""
    journal: list[str] = []
    with pytest.raises(KeyError):
        async with started([Part("a", (), journal)]):
            raise KeyError("x")
    assert journal == ["start a", "stop a"]


def test_real_components_have_a_valid_start_order(make_config):
    """The app's own components resolve to an order (no cycle, nothing unknown)."""
    from alcor.app import build

    alcor = build(make_config())
    order = [c.name for c in start_order(alcor.components)]
    assert order[0] == "store"
    assert order.index("bus") < order.index("network") < order.index("port")
