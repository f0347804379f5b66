"""The watch stream's query parsing: cursors and resource names."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.api.watch import Watchable, parse_cursor, parse_resources
from alcor.managers.network.messages import ViewNetworks
from alcor.managers.port.messages import ViewPorts
from alcor.resources.network import NETWORK
from alcor.resources.port import PORT

KNOWN = {"network": Watchable(NETWORK, ViewNetworks), "port": Watchable(PORT, ViewPorts)}


@pytest.mark.parametrize("raw", ["0", "42", "9223372036854775807"])
def test_a_cursor_is_a_decimal_seq(raw: str) -> None:
    """Cursors are the change record's seq as text."""
    assert parse_cursor(raw) == (int(raw), None)


def test_a_postgresql_cursor_may_name_its_commit_window() -> None:
    """On PostgreSQL a cursor inside a window is position.window_end.seq."""
    assert parse_cursor("700", "postgresql") == (700, None)
    assert parse_cursor("700.712.31", "postgresql") == (700, (712, 31))
    with pytest.raises(errors.HTTPBadRequest):
        parse_cursor("700.712.31")  # not on SQLite
    with pytest.raises(errors.HTTPBadRequest):
        parse_cursor("700.712", "postgresql")


@pytest.mark.parametrize("raw", ["", "-1", "1.5", "abc", "١٢", "1" * 20, " 1"])
def test_anything_else_is_400(raw: str) -> None:
    """Signs, fractions, non-ASCII digits, spaces and huge numbers are refused."""
    with pytest.raises(errors.HTTPBadRequest):
        parse_cursor(raw)


def test_resources_take_singular_or_collection_names_comma_separated_or_repeated() -> None:
    """resources=port,networks and resources=port&resources=network mean the same."""
    assert parse_resources(["port,networks"], KNOWN) == {"port", "network"}
    assert parse_resources(["port", "network"], KNOWN) == {"port", "network"}
    assert parse_resources([], KNOWN) is None
    assert parse_resources([" , "], KNOWN) is None
    with pytest.raises(errors.HTTPBadRequest, match="router"):
        parse_resources(["port,router"], KNOWN)
