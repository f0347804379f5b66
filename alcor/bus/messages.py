"""The two kinds of bus message: commands (one handler) and events (many subscribers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Generic[R]):
    """A request with exactly one handler; `Bus.call` returns its R."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A fact that already happened (committed); delivered to every subscriber."""
