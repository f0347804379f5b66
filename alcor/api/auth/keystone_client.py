"""The two Keystone v3 calls token authentication needs: the service login and validation."""

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

from alcor.errors import ServiceUnavailable

_LOGGER = logging.getLogger(__name__)

# Renew the service token this long before Keystone's expires_at (keystoneauth uses 30 s).
RENEW_MARGIN_S = 60.0
# How long to use a service token whose expires_at Keystone did not give.
UNKNOWN_LIFETIME_S = 300.0


@dataclass(frozen=True, slots=True)
class _ServiceToken:
    value: str
    renew_at: float


class KeystoneClient:
    """Log in to Keystone as the server's service account and validate user tokens with it."""

    def __init__(
        self,
        *,
        auth_url: str,
        username: str,
        password: str,
        project_name: str,
        user_domain_name: str,
        project_domain_name: str,
        timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self._username = username
        self._password = password
        self._project_name = project_name
        self._user_domain_name = user_domain_name
        self._project_domain_name = project_domain_name
        self._timeout_s = timeout_s
        self._clock = clock
        self._service: _ServiceToken | None = None
        self._login_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the HTTP session."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            headers={"Accept": "application/json"},
        )

    async def stop(self) -> None:
        """Close the HTTP session and forget the service token."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._service = None

    async def token_info(self, token: str) -> dict[str, Any] | None:
        """Return Keystone's `token` body for a user token, or None if Keystone refuses it.

        Raises ServiceUnavailable when Keystone cannot be asked or answers unexpectedly.
        """
        for first_try in (True, False):
            service_token = await self.service_token()
            status, body, _ = await self._request(
                "GET",
                f"{self.auth_url}/auth/tokens?nocatalog",
                headers={"X-Auth-Token": service_token, "X-Subject-Token": token},
            )
            if status == 200:
                return self._token_body(body)
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

    async def service_token(self) -> str:
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
        status, body, headers = await self._request(
            "POST", f"{self.auth_url}/auth/tokens", json=self._password_auth()
        )
        if status == 401:
            raise self._unavailable(
                f"it rejected the service credentials of user {self._username!r} "
                f"in project {self._project_name!r}"
            )
        token = headers.get("X-Subject-Token")
        if status not in (200, 201) or not token:
            raise self._unavailable(f"it answered HTTP {status} to the service login")
        now = self._clock()
        expires = parse_time(self._token_body(body).get("expires_at"))
        lifetime = UNKNOWN_LIFETIME_S if expires is None else expires - now
        # Renew a margin before expiry, but never use less than half of a short-lived token.
        renew_at = now + max(lifetime - RENEW_MARGIN_S, lifetime / 2)
        _LOGGER.info(
            "Logged in to Keystone as %s (token %s, valid for %.0f s)",
            self._username,
            fingerprint(token)[:8],
            lifetime,
        )
        return _ServiceToken(token, renew_at)

    def _password_auth(self) -> dict[str, Any]:
        user = {
            "name": self._username,
            "domain": {"name": self._user_domain_name},
            "password": self._password,
        }
        project = {"name": self._project_name, "domain": {"name": self._project_domain_name}}
        return {
            "auth": {
                "identity": {"methods": ["password"], "password": {"user": user}},
                "scope": {"project": project},
            }
        }

    async def _request(
        self, method: str, url: str, **kwargs: Any
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Send one request to Keystone; return status, JSON body (or None) and headers."""
        if self._session is None:
            raise RuntimeError("KeystoneClient.start() has not been awaited")
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

    def _token_body(self, body: Any) -> dict[str, Any]:
        """Return body["token"], or raise ServiceUnavailable if Keystone sent something else."""
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, dict):
            raise self._unavailable("it answered with a body that has no token")
        return token

    def _unavailable(self, reason: str) -> ServiceUnavailable:
        _LOGGER.warning("Keystone at %s is unavailable: %s", self.auth_url, reason)
        return ServiceUnavailable(
            f"The identity service (Keystone at {self.auth_url}) is unavailable: {reason}."
        )


def fingerprint(token: str) -> str:
    """Return the sha256 hex digest of a token: a cache key, and (shortened) what logs show."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_time(value: Any) -> float | None:
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
