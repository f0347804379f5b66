"""Helpers of the issue 3 tests (routers, security groups, floating IPs, quotas, ACLs, auth).

The HTTP caller is tests/integration/api.py; here, topology builders. The fixtures live in
this package's conftest.py.
"""

from __future__ import annotations

from typing import Any

from tests.integration.api import Api

__all__ = ["Api", "external_network"]


async def external_network(
    admin: Api, cidr: str = "203.0.113.0/24"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create (as admin) a `router:external` network with one subnet."""
    network = await admin.network(name="public", **{"router:external": True})
    return network, await admin.subnet(network["id"], cidr)
