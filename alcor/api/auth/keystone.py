"""Keystone authentication: validate each X-Auth-Token with Keystone v3, like keystonemiddleware.

keystonemiddleware is WSGI-only, so this is the same protocol on aiohttp's client: the server
logs in with its own (service) account, then asks `GET /v3/auth/tokens` about every user token
it has not seen recently.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from alcor.api.auth.token_cache import TokenCache
from alcor.errors import NotAuthenticated, ServiceUnavailable
from alcor.identity import Caller

_LOGGER = logging.getLogger(__name__)

AUTH_REQUIRED = "The request you have made requires authentication."
# Renew the service token this long before Keystone's expires_at (keystoneauth uses 30 s).
RENEW_MARGIN_S = 60.0
# A rejected token never becomes valid again, but keep the memory short anyway so that a
# mistake (ours or Keystone's) heals by itself.
REJECTED_TTL_S = 5.0
MAX_CACHED_TOKENS = 10_000
# Fernet tokens are about 200 bytes; anything this long is not a token and is not sent on.
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True, slots=True, kw_only=True)
class KeystoneSettings:
    """The `[auth.keystone]` config section: where Keystone is and the server's own account."""

    auth_url: str = "http://127.0.0.1:5001/v3"
    username: str = "neutron"
    password: str = ""
    project_name: str = "service"
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    cache_ttl_s: float = 300.0
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class _ServiceToken:
    value: str
    renew_at: float


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
        self._auth_url = auth_url.rstrip("/")
        self._username = username
        self._password = password
        self._project_name = project_name
        self._user_domain_name = user_domain_name
        self._project_domain_name = project_domain_name
        self._cache_ttl_s = cache_ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._valid: TokenCache[Caller] = TokenCache(max_cached_tokens, clock)
        self._rejected: TokenCache[bool] = TokenCache(max_cached_tokens, clock)
        self._inflight: dict[str, asyncio.Task[Caller]] = {}
        self._service: _ServiceToken | None = None
        self._login_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

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
        return f'Keystone uri="{self._auth_url}"'

    async def start(self) -> None:
        """Open the HTTP session and try to log in (a failure here is retried on use)."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            headers={"Accept": "application/json"},
        )
        try:
            await self._service_token()
        except ServiceUnavailable as exc:
            _LOGGER.warning("Not logged in to Keystone yet (will retry on use): %s", exc)

    async def stop(self) -> None:
        """Cancel validations in flight and close the HTTP session."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._service = None
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
        key = _fingerprint(token)
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
        info = await self._token_info(token)
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
            roles=frozenset(r["name"].lower() for r in info.get("roles", ()) if r.get("name")),
            user_id=(info.get("user") or {}).get("id"),
        )
        expires = _parse_time(info.get("expires_at"))
        ttl = self._cache_ttl_s
        if expires is not None:
            ttl = min(ttl, expires - self._clock())
        self._valid.put(key, caller, ttl)
        _LOGGER.debug("Token %s is valid for project %s", key[:8], caller.project_id)
        return caller

    async def _token_info(self, token: str) -> dict[str, Any] | None:
        """Return Keystone's token body, or None when Keystone says the token is not valid."""
        for first_try in (True, False):
            service_token = await self._service_token()
            status, body, _ = await self._request(
                "GET",
                f"{self._auth_url}/auth/tokens?nocatalog",
                headers={"X-Auth-Token": service_token, "X-Subject-Token": token},
            )
            if status == 200:
                return _token_body(body, self._unavailable)
            if status == 404:
                return None
            if status != 401:
                raise self._unavailable(f"it answered HTTP {status} to a token validation")
            if first_try:
                # 401 is about our own token (revoked, or expired early): log in once more.
                _LOGGER.info("Keystone refused the service token; logging in again")
                self._drop_service_token(service_token)
        # Refused again with a fresh service token: the subject token is the problem.
        return None

    async def _service_token(self) -> str:
        """Return a usable service token, logging in when there is none or it is due for renewal."""
        current = self._service
        if current is not None and self._clock() < current.renew_at:
            return current.value
        async with self._login_lock:
            current = self._service  # another task may have logged in while we waited
            if current is None or self._clock() >= current.renew_at:
                current = self._service = await self._login()
            return current.value

    def _drop_service_token(self, value: str) -> None:
        if self._service is not None and self._service.value == value:
            self._service = None

    async def _login(self) -> _ServiceToken:
        status, body, headers = await self._request("POST", f"{self._auth_url}/auth/tokens",
                                                    json=self._password_auth())
        if status == 401:
            raise self._unavailable(
                f"it rejected the service credentials of user {self._username!r} "
                f"in project {self._project_name!r}"
            )
        token = headers.get("X-Subject-Token")
        if status not in (200, 201) or not token:
            raise self._unavailable(f"it answered HTTP {status} to the service login")
        now = self._clock()
        expires = _parse_time(_token_body(body, self._unavailable).get("expires_at"))
        lifetime = self._cache_ttl_s if expires is None else expires - now
        # Renew a margin before expiry, but never use less than half of a short-lived token.
        renew_at = now + max(lifetime - RENEW_MARGIN_S, lifetime / 2)
        _LOGGER.info("Logged in to Keystone as %s (token %s, valid for %.0f s)",
                     self._username, _fingerprint(token)[:8], lifetime)
        return _ServiceToken(token, renew_at)

    def _password_auth(self) -> dict[str, Any]:
        user = {"name": self._username, "domain": {"name": self._user_domain_name},
                "password": self._password}
        project = {"name": self._project_name, "domain": {"name": self._project_domain_name}}
        return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                         "scope": {"project": project}}}

    async def _request(
        self, method: str, url: str, **kwargs: Any
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Send one request to Keystone; return status, JSON body (or None) and headers."""
        if self._session is None:
            raise RuntimeError("KeystoneAuthenticator.start() has not been awaited")
        try:
            async with self._session.request(method, url, **kwargs) as response:
                if response.status >= 500:
                    raise self._unavailable(f"it answered HTTP {response.status}")
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, body, response.headers
        except TimeoutError as exc:
            raise self._unavailable(f"no answer within {self._timeout_s:g} s") from exc
        except aiohttp.ClientError as exc:
            raise self._unavailable(str(exc) or type(exc).__name__) from exc

    def _unauthenticated(self, message: str = AUTH_REQUIRED) -> NotAuthenticated:
        return NotAuthenticated(message, headers={"WWW-Authenticate": self.www_authenticate})

    def _unavailable(self, reason: str) -> ServiceUnavailable:
        _LOGGER.warning("Keystone at %s is unavailable: %s", self._auth_url, reason)
        return ServiceUnavailable(
            f"The identity service (Keystone at {self._auth_url}) is unavailable: {reason}."
        )


def _header(headers: Mapping[str, str], name: str) -> str:
    """Return a header's stripped value, matching the name case-insensitively."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return (value or "").strip()


def _is_header_safe(token: str) -> bool:
    """Return True if token can be sent on as a header value (printable ASCII only)."""
    return token.isascii() and token.isprintable()


def _fingerprint(token: str) -> str:
    """Return the sha256 hex digest of token: the cache key, and (shortened) what logs show."""
    return hashlib.sha256(token.encode()).hexdigest()


def _token_body(body: Any, unavailable: Callable[[str], ServiceUnavailable]) -> dict[str, Any]:
    """Return body["token"], or raise ServiceUnavailable if Keystone sent something else."""
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, dict):
        raise unavailable("it answered with a body that has no token")
    return token


def _parse_time(value: Any) -> float | None:
    """Return a Keystone timestamp ("2024-05-01T10:33:00.000000Z") as POSIX seconds."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:  # Keystone writes UTC; never read it as local time
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
