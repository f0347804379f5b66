"""Keystone authentication: validate each X-Auth-Token with Keystone v3, like keystonemiddleware.

keystonemiddleware is WSGI-only, so this does the same on aiohttp: the server logs in with its
own (service) account and asks `GET /v3/auth/tokens` about every user token it has not seen
recently (keystone_client.py). Here: the cache, the sharing of validations in flight, and the
mapping of Keystone's answer to a Caller or an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from alcor.api.auth.keystone_client import KeystoneClient, fingerprint, parse_time
from alcor.api.auth.token_cache import TokenCache
from alcor.config import KeystoneConfig
from alcor.errors import NotAuthenticated, ServiceUnavailable
from alcor.identity import Caller

_LOGGER = logging.getLogger(__name__)

AUTH_REQUIRED = "The request you have made requires authentication."
# A rejected token never becomes valid again, but keep the memory short anyway so that a
# mistake (ours or Keystone's) heals by itself.
REJECTED_TTL_S = 5.0
MAX_CACHED_TOKENS = 10_000
# Fernet tokens are about 200 bytes; anything this long is not a token and is not sent on.
MAX_TOKEN_LENGTH = 8192


# The `[auth.keystone]` config section is the settings object (one definition, in config).
KeystoneSettings = KeystoneConfig


class KeystoneAuthenticator:
    """Authenticate requests by validating their X-Auth-Token with Keystone."""

    def __init__(
        self,
        *,
        auth_url: str,
        username: str,
        password: str,
        project_name: str,
        user_domain_name: str = "Default",
        project_domain_name: str = "Default",
        cache_ttl_s: float = 300.0,
        timeout_s: float = 10.0,
        max_cached_tokens: int = MAX_CACHED_TOKENS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # The clock is wall time because Keystone's expires_at is wall time.
        self._keystone = KeystoneClient(
            auth_url=auth_url,
            username=username,
            password=password,
            project_name=project_name,
            user_domain_name=user_domain_name,
            project_domain_name=project_domain_name,
            timeout_s=timeout_s,
            clock=clock,
        )
        self._cache_ttl_s = cache_ttl_s
        self._clock = clock
        self._valid: TokenCache[Caller] = TokenCache(max_cached_tokens, clock)
        self._rejected: TokenCache[bool] = TokenCache(max_cached_tokens, clock)
        self._inflight: dict[str, asyncio.Task[Caller]] = {}

    @classmethod
    def from_settings(cls, settings: KeystoneSettings, **extra: Any) -> KeystoneAuthenticator:
        """Build an authenticator from the `[auth.keystone]` section."""
        return cls(
            auth_url=settings.auth_url,
            username=settings.username,
            password=settings.password,
            project_name=settings.project_name,
            user_domain_name=settings.user_domain_name,
            project_domain_name=settings.project_domain_name,
            cache_ttl_s=settings.cache_ttl_s,
            timeout_s=settings.timeout_s,
            **extra,
        )

    @property
    def www_authenticate(self) -> str:
        """Return the WWW-Authenticate value that tells clients where to get a token."""
        return f'Keystone uri="{self._keystone.auth_url}"'

    async def start(self) -> None:
        """Open the HTTP session and try to log in (a failure here is retried on use)."""
        await self._keystone.start()
        try:
            await self._keystone.service_token()
        except ServiceUnavailable as exc:
            _LOGGER.warning("Not logged in to Keystone yet (will retry on use): %s", exc)

    async def stop(self) -> None:
        """Cancel validations in flight and close the HTTP session."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._keystone.stop()
        self._valid.clear()
        self._rejected.clear()

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """Return the caller named by the X-Auth-Token header.

        Raises NotAuthenticated (401) for a missing, invalid or expired token and
        ServiceUnavailable (503) when Keystone cannot answer.
        """
        token = _header(headers, "X-Auth-Token")
        if not token:
            raise self._unauthenticated()
        if len(token) > MAX_TOKEN_LENGTH or not _is_header_safe(token):
            _LOGGER.info("Refused a malformed token of %d characters", len(token))
            raise self._unauthenticated()
        key = fingerprint(token)
        caller = self._valid.get(key)
        if caller is not None:
            return caller
        if self._rejected.get(key):
            raise self._unauthenticated()
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._validate(token, key), name=f"keystone-{key[:8]}")
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget_inflight(key, done))
        # Shielded: one waiter giving up must not cancel the validation the others share.
        return await asyncio.shield(task)

    def _forget_inflight(self, key: str, task: asyncio.Task[Caller]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a result nobody awaited is not reported

    async def _validate(self, token: str, key: str) -> Caller:
        """Ask Keystone about one token and remember the answer."""
        info = await self._keystone.token_info(token)
        if info is None:
            _LOGGER.info("Keystone rejected token %s", key[:8])
            self._rejected.put(key, True, REJECTED_TTL_S)
            raise self._unauthenticated()
        project = info.get("project") or {}
        if not project.get("id"):
            _LOGGER.info("Token %s is not scoped to a project", key[:8])
            self._rejected.put(key, True, REJECTED_TTL_S)
            raise self._unauthenticated("A project-scoped token is required.")
        caller = Caller(
            project_id=project["id"],
            roles=_role_names(info.get("roles")),
            user_id=(info.get("user") or {}).get("id"),
        )
        expires = parse_time(info.get("expires_at"))
        ttl = self._cache_ttl_s
        if expires is not None:
            ttl = min(ttl, expires - self._clock())
        self._valid.put(key, caller, ttl)
        _LOGGER.debug("Token %s is valid for project %s", key[:8], caller.project_id)
        return caller

    def _unauthenticated(self, message: str = AUTH_REQUIRED) -> NotAuthenticated:
        return NotAuthenticated(message, headers={"WWW-Authenticate": self.www_authenticate})


def _header(headers: Mapping[str, str], name: str) -> str:
    """Return a header's stripped value, matching the name case-insensitively."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return (value or "").strip()


def _role_names(roles: Any) -> frozenset[str]:
    """Return the lower-cased names in Keystone's `roles` list (oslo.policy compares them so)."""
    if not isinstance(roles, list):
        return frozenset()
    return frozenset(
        r["name"].lower() for r in roles if isinstance(r, dict) and isinstance(r.get("name"), str)
    )


def _is_header_safe(token: str) -> bool:
    """Return True if token can be sent on as a header value (printable ASCII only)."""
    return token.isascii() and token.isprintable()
