"""Fixtures of the issue 3 tests: an admin, members of two projects, an external network."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.l3.support import Api, external_network


@pytest.fixture
def admin(client) -> Api:
    """The noauth default caller: admin of project `default`."""
    return Api(client)


@pytest.fixture
def p1(admin) -> Api:
    """A member of project p1."""
    return admin.as_("p1")


@pytest.fixture
def p2(admin) -> Api:
    """A member of project p2."""
    return admin.as_("p2")


@pytest.fixture
async def public(admin) -> tuple[dict[str, Any], dict[str, Any]]:
    """An external network 203.0.113.0/24 made by the admin: (network, subnet)."""
    return await external_network(admin)
