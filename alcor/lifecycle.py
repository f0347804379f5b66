"""Start components in dependency order and stop them in reverse, only what started."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Protocol

_LOGGER = logging.getLogger(__name__)


class Component(Protocol):
    """Anything long-lived: a name, the names it requires, start() and stop()."""

    # Read-only members, so that a class attribute such as `requires = ("store", "bus")`
    # (inferred as a fixed-length tuple) satisfies the protocol.
    @property
    def name(self) -> str:
        """Return the unique component name others require it by."""

    @property
    def requires(self) -> tuple[str, ...]:
        """Return the names of the components that must start first."""

    async def start(self) -> None:
        """Acquire resources and register handlers."""

    async def stop(self) -> None:
        """Release everything start() acquired."""


class DependencyError(Exception):
    """A component requires a missing component, or requirements form a cycle."""


def start_order(components: Iterable[Component]) -> list[Component]:
    """Return the components sorted so that each comes after what it requires."""
    by_name = {c.name: c for c in components}
    ordered: list[Component] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise DependencyError("dependency cycle: " + " -> ".join((*chain, name)))
        if name not in by_name:
            raise DependencyError(
                f"{chain[-1] if chain else '?'} requires unknown component {name!r}"
            )
        state[name] = "visiting"
        for required in by_name[name].requires:
            visit(required, (*chain, name))
        state[name] = "done"
        ordered.append(by_name[name])

    for name in by_name:
        visit(name, ())
    return ordered


@contextlib.asynccontextmanager
async def started(
    components: Sequence[Component], stop_timeout: float = 30.0
) -> AsyncIterator[None]:
    """Start `components` in dependency order; on exit stop the started ones in reverse."""
    async with contextlib.AsyncExitStack() as stack:
        for component in start_order(components):
            _LOGGER.debug("starting %s", component.name)
            await component.start()
            stack.push_async_callback(_stop, component, stop_timeout)
        yield


async def _stop(component: Component, timeout: float) -> None:
    try:
        async with asyncio.timeout(timeout):
            await component.stop()
    except TimeoutError:
        _LOGGER.error("component %s did not stop within %.0f s", component.name, timeout)
    except Exception:
        _LOGGER.exception("component %s failed to stop", component.name)


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel an owned background task and wait until it has ended."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
