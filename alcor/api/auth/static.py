"""The `noauth` and `token` strategies (northbound §1.4.1)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from alcor import errors
from alcor.config import AuthConfig
from alcor.identity import Caller

TOKEN_HEADERS = {"WWW-Authenticate": 'Bearer realm="alcor"'}


def parse_roles(raw: str | None) -> frozenset[str]:
    """Parse a comma-separated role header (trimmed, case-insensitive)."""
    if not raw:
        return frozenset()
    return frozenset(r.strip().lower() for r in raw.split(",") if r.strip())


class NoAuth:
    """Trust headers: project from X-Project-Id (or the path/body), roles from X-Roles."""

    def __init__(self, config: AuthConfig) -> None:
        self._default_roles = frozenset(r.lower() for r in config.noauth_default_roles)

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """Return the caller; project "" means "not given" (path, body or default decide)."""
        project = headers.get("X-Project-Id") or headers.get("X-Tenant-Id") or ""
        roles = parse_roles(headers.get("X-Roles")) if "X-Roles" in headers else self._default_roles
        return Caller(
            project_id=project.strip(), roles=roles, user_id=headers.get("X-User-Id") or None
        )


class TokenAuth:
    """Static bearer tokens from config, each mapped to a project and roles."""

    def __init__(self, config: AuthConfig) -> None:
        self._entries = [
            (
                entry.token_sha256.lower()
                if entry.token_sha256
                else hashlib.sha256(entry.token.encode()).hexdigest(),
                Caller(
                    project_id=entry.project_id,
                    roles=frozenset(r.lower() for r in entry.roles),
                    user_id=entry.user_id or None,
                ),
            )
            for entry in config.tokens
        ]

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """Return the token's caller or raise 401; X-Project-Id/X-Roles are ignored."""
        token = headers.get("X-Auth-Token")
        if not token:
            auth = headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                token = auth[7:].strip()
        if not token:
            raise errors.NotAuthenticated(headers=TOKEN_HEADERS)
        digest = hashlib.sha256(token.encode()).hexdigest()
        found = None
        for expected, caller in self._entries:
            # Compare against every entry in constant time, so timing reveals nothing.
            if hmac.compare_digest(digest, expected):
                found = caller
        if found is None:
            raise errors.NotAuthenticated(headers=TOKEN_HEADERS)
        return found
