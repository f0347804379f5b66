"""KeystoneAuthenticator against a stand-in Keystone (an aiohttp server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from alcor.api.auth.keystone import (
    REJECTED_TTL_S,
    KeystoneAuthenticator,
    KeystoneSettings,
)
from alcor.errors import NotAuthenticated, ServiceUnavailable
from alcor.identity import Caller

SERVICE_USER = "neutron"
SERVICE_PASSWORD = "pass"
# What a real Keystone lists for each assigned role: implied roles are expanded.
EXPANDED_ROLES = {
    "admin": ["admin", "manager", "member", "reader"],
    "member": ["member", "reader"],
    "reader": ["reader"],
}


class FakeClock:
    """Wall time that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


def _keystone_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class StandInKeystone:
    """A stand-in for Keystone v3's token API: password login and token validation only.

    It is not Keystone. It answers the two calls the authenticator makes, the way Keystone
    30 does (201 + X-Subject-Token on login, 200/404 on validation, 401 for a bad service
    token), and counts them so the tests can see what the authenticator sent.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.tokens: dict[str, dict[str, Any]] = {}
        self.service_tokens: set[str] = set()
        self.service_ttl_s = 3600.0
        self.logins = 0
        self.validations = 0
        self.fail_with: int | None = None
        self.validation_started = asyncio.Event()
        self.release_validations: asyncio.Event | None = None
        self._ids = itertools.count(1)

    def app(self) -> web.Application:
        """Return the aiohttp application serving /v3/auth/tokens."""
        app = web.Application()
        app.router.add_post("/v3/auth/tokens", self._login)
        app.router.add_get("/v3/auth/tokens", self._validate)
        return app

    def issue(
        self,
        roles: str = "member",
        project_id: str | None = "p-1",
        ttl_s: float = 3600.0,
        **extra_roles: Any,
    ) -> str:
        """Create a user token as if the user had logged in; return it."""
        token = f"user-token-{next(self._ids)}"
        names = EXPANDED_ROLES.get(roles, [roles])
        body: dict[str, Any] = {
            "user": {"id": f"u-{token}", "name": "someone", "domain": {"id": "default"}},
            "roles": [{"id": f"r-{n}", "name": n} for n in names],
            "expires_at": _keystone_time(self.clock() + ttl_s),
            "methods": ["password"],
        }
        if project_id is not None:
            body["project"] = {"id": project_id, "name": "proj", "domain": {"id": "default"}}
        else:
            body["domain"] = {"id": "default", "name": "Default"}
        self.tokens[token] = body
        return token

    def revoke_service_tokens(self) -> None:
        """Make every service token issued so far invalid, as a Keystone restart might."""
        self.service_tokens.clear()

    async def _login(self, request: web.Request) -> web.Response:
        self.logins += 1
        if self.fail_with:
            return web.json_response({"error": {}}, status=self.fail_with)
        auth = (await request.json())["auth"]
        user = auth["identity"]["password"]["user"]
        if (user["name"], user["password"]) != (SERVICE_USER, SERVICE_PASSWORD):
            return web.json_response({"error": {"code": 401}}, status=401)
        assert auth["scope"]["project"] == {"name": "service", "domain": {"name": "Default"}}
        token = f"service-token-{next(self._ids)}"
        self.service_tokens.add(token)
        body = {
            "token": {
                "expires_at": _keystone_time(self.clock() + self.service_ttl_s),
                "project": {"id": "service-project"},
            }
        }
        return web.json_response(body, status=201, headers={"X-Subject-Token": token})

    async def _validate(self, request: web.Request) -> web.Response:
        self.validations += 1
        self.validation_started.set()
        if self.release_validations is not None:
            await self.release_validations.wait()
        if self.fail_with:
            return web.json_response({"error": {}}, status=self.fail_with)
        assert "nocatalog" in request.query
        if request.headers.get("X-Auth-Token") not in self.service_tokens:
            return web.json_response({"error": {"code": 401}}, status=401)
        body = self.tokens.get(request.headers.get("X-Subject-Token", ""))
        expired = body is not None and body["expires_at"] <= _keystone_time(self.clock())
        if body is None or expired:
            return web.json_response({"error": {"code": 404}}, status=404)
        return web.json_response({"token": body})


@pytest.fixture
def clock() -> FakeClock:
    """Return the clock shared by the stand-in and the authenticator."""
    return FakeClock()


@pytest.fixture
async def keystone(clock: FakeClock) -> AsyncIterator[tuple[StandInKeystone, str]]:
    """Run a stand-in Keystone on 127.0.0.1 and return it with its /v3 URL."""
    standin = StandInKeystone(clock)
    server = TestServer(standin.app(), host="127.0.0.1", port=0)
    await server.start_server()
    yield standin, str(server.make_url("/v3"))
    await server.close()


def _authenticator(
    auth_url: str, clock: FakeClock, max_cached_tokens: int = 100, **settings: Any
) -> KeystoneAuthenticator:
    section = KeystoneSettings(
        auth_url=auth_url, username=SERVICE_USER, password=SERVICE_PASSWORD, **settings
    )
    return KeystoneAuthenticator.from_settings(
        section, clock=clock, max_cached_tokens=max_cached_tokens
    )


@pytest.fixture
async def auth(
    keystone: tuple[StandInKeystone, str], clock: FakeClock
) -> AsyncIterator[KeystoneAuthenticator]:
    """Return a started authenticator pointed at the stand-in."""
    authenticator = _authenticator(keystone[1], clock)
    await authenticator.start()
    yield authenticator
    await authenticator.stop()


def _headers(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token}


async def test_member_token_gives_project_roles_and_user(keystone, auth) -> None:
    """A valid member token becomes a Caller with the token's project, roles and user."""
    standin, _ = keystone
    token = standin.issue("member", project_id="p-42")
    caller = await auth.authenticate(_headers(token))
    assert caller == Caller(
        project_id="p-42", roles=frozenset({"member", "reader"}), user_id=f"u-{token}"
    )
    assert not caller.is_admin and not caller.is_reader_only


async def test_admin_token_lists_the_expanded_roles(keystone, auth) -> None:
    """An admin token carries the implied roles Keystone expands (manager, member, reader)."""
    standin, _ = keystone
    caller = await auth.authenticate(_headers(standin.issue("admin")))
    assert caller.roles == {"admin", "manager", "member", "reader"}
    assert caller.is_admin


async def test_reader_token_is_read_only(keystone, auth) -> None:
    """A reader-only token gives a read-only caller."""
    standin, _ = keystone
    caller = await auth.authenticate(_headers(standin.issue("reader")))
    assert caller.roles == {"reader"}
    assert caller.is_reader_only


async def test_role_names_are_lower_cased(keystone, auth) -> None:
    """Role names are compared lower-case, as oslo.policy does."""
    standin, _ = keystone
    caller = await auth.authenticate(_headers(standin.issue("ResellerAdmin")))
    assert caller.roles == {"reselleradmin"}


async def test_header_name_is_case_insensitive_in_plain_dicts(keystone, auth) -> None:
    """A plain dict with a lower-case header name works like aiohttp's headers."""
    standin, _ = keystone
    caller = await auth.authenticate({"x-auth-token": standin.issue()})
    assert caller.project_id == "p-1"


@pytest.mark.parametrize("headers", [{}, {"X-Auth-Token": ""}, {"X-Auth-Token": "  "}])
async def test_missing_token_is_401_without_asking_keystone(keystone, auth, headers) -> None:
    """No token: 401 naming Keystone in WWW-Authenticate, and no validation call."""
    standin, url = keystone
    with pytest.raises(NotAuthenticated) as caught:
        await auth.authenticate(headers)
    assert caught.value.headers == {"WWW-Authenticate": f'Keystone uri="{url}"'}
    assert caught.value.text == "The request you have made requires authentication."
    assert standin.validations == 0


async def test_malformed_token_is_401_without_asking_keystone(keystone, auth) -> None:
    """A token that could not be a header value (or is huge) is refused locally."""
    standin, _ = keystone
    for token in ("bad\ttoken", "é" * 10, "x" * 10_000):
        with pytest.raises(NotAuthenticated):
            await auth.authenticate(_headers(token))
    assert standin.validations == 0


async def test_unknown_token_is_401(keystone, auth) -> None:
    """A token Keystone does not know (404) is a 401 with WWW-Authenticate."""
    _, url = keystone
    with pytest.raises(NotAuthenticated) as caught:
        await auth.authenticate(_headers("no-such-token"))
    assert caught.value.headers["WWW-Authenticate"] == f'Keystone uri="{url}"'


async def test_expired_token_is_401(keystone, auth, clock) -> None:
    """A token past its expires_at is refused by Keystone and so by us."""
    standin, _ = keystone
    token = standin.issue(ttl_s=10)
    clock.advance(11)
    with pytest.raises(NotAuthenticated):
        await auth.authenticate(_headers(token))


async def test_domain_scoped_token_is_401(keystone, auth) -> None:
    """A token without a project cannot own resources, so it does not authenticate."""
    standin, _ = keystone
    with pytest.raises(NotAuthenticated, match="project-scoped"):
        await auth.authenticate(_headers(standin.issue(project_id=None)))


async def test_validation_is_cached(keystone, auth) -> None:
    """The second request with the same token does not ask Keystone again."""
    standin, _ = keystone
    token = standin.issue()
    first = await auth.authenticate(_headers(token))
    second = await auth.authenticate(_headers(token))
    assert first == second
    assert standin.validations == 1


async def test_cache_ends_after_cache_ttl(keystone, auth, clock) -> None:
    """After cache_ttl_s (300 s) the token is validated again."""
    standin, _ = keystone
    token = standin.issue()
    await auth.authenticate(_headers(token))
    clock.advance(299)
    await auth.authenticate(_headers(token))
    assert standin.validations == 1
    clock.advance(2)
    await auth.authenticate(_headers(token))
    assert standin.validations == 2


async def test_cache_never_outlives_the_token(keystone, auth, clock) -> None:
    """A token expiring before cache_ttl_s is re-validated (and refused) once it expires."""
    standin, _ = keystone
    token = standin.issue(ttl_s=30)
    await auth.authenticate(_headers(token))
    clock.advance(31)
    with pytest.raises(NotAuthenticated):
        await auth.authenticate(_headers(token))
    assert standin.validations == 2


async def test_cache_is_bounded(keystone, clock) -> None:
    """With room for two tokens, the least recently used one is validated again."""
    standin, url = keystone
    auth = _authenticator(url, clock, max_cached_tokens=2)
    await auth.start()
    try:
        a, b, c = standin.issue(), standin.issue(), standin.issue()
        for token in (a, b, c, b, c):
            await auth.authenticate(_headers(token))
        assert standin.validations == 3
        await auth.authenticate(_headers(a))
        assert standin.validations == 4
    finally:
        await auth.stop()


async def test_rejection_is_remembered_only_briefly(keystone, auth, clock) -> None:
    """A refused token is not re-asked at once, but is asked again after a few seconds."""
    standin, _ = keystone
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            await auth.authenticate(_headers("no-such-token"))
    assert standin.validations == 1
    clock.advance(REJECTED_TTL_S + 1)
    with pytest.raises(NotAuthenticated):
        await auth.authenticate(_headers("no-such-token"))
    assert standin.validations == 2


async def test_concurrent_validations_share_one_request(keystone, auth) -> None:
    """Ten requests with the same new token cause one validation call."""
    standin, _ = keystone
    token = standin.issue()
    standin.release_validations = asyncio.Event()
    waiters = [asyncio.create_task(auth.authenticate(_headers(token))) for _ in range(10)]
    await standin.validation_started.wait()  # every waiter ran before the request got here
    standin.release_validations.set()
    callers = await asyncio.gather(*waiters)
    assert len(set(callers)) == 1
    assert standin.validations == 1


async def test_concurrent_rejection_reaches_every_waiter(keystone, auth) -> None:
    """Waiters sharing a validation of a bad token all get the 401."""
    standin, _ = keystone
    standin.release_validations = asyncio.Event()
    waiters = [asyncio.create_task(auth.authenticate(_headers("bad"))) for _ in range(3)]
    await standin.validation_started.wait()
    standin.release_validations.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, NotAuthenticated) for r in results)
    assert standin.validations == 1


async def test_one_waiter_cancelled_does_not_cancel_the_others(keystone, auth) -> None:
    """A client that goes away does not break the validation other requests wait for."""
    standin, _ = keystone
    token = standin.issue()
    standin.release_validations = asyncio.Event()
    quitter = asyncio.create_task(auth.authenticate(_headers(token)))
    stayer = asyncio.create_task(auth.authenticate(_headers(token)))
    await standin.validation_started.wait()
    quitter.cancel()
    standin.release_validations.set()
    assert (await stayer).project_id == "p-1"
    assert quitter.cancelled()


async def test_service_token_is_fetched_once_at_start(keystone, auth) -> None:
    """start() logs in; validations reuse that service token."""
    standin, _ = keystone
    assert standin.logins == 1
    for _ in range(3):
        await auth.authenticate(_headers(standin.issue()))
    assert standin.logins == 1


async def test_service_token_is_renewed_before_it_expires(keystone, auth, clock) -> None:
    """Within a minute of the service token's expiry, the next validation logs in first."""
    standin, _ = keystone
    await auth.authenticate(_headers(standin.issue()))
    clock.advance(standin.service_ttl_s - 120)
    await auth.authenticate(_headers(standin.issue()))
    assert standin.logins == 1
    clock.advance(90)  # 30 s before expiry
    await auth.authenticate(_headers(standin.issue()))
    assert standin.logins == 2


async def test_short_lived_service_token_is_renewed_at_half_life(keystone, clock) -> None:
    """A service token living less than the renewal margin is used for half its life."""
    standin, url = keystone
    standin.service_ttl_s = 40
    auth = _authenticator(url, clock)
    await auth.start()
    try:
        clock.advance(19)
        await auth.authenticate(_headers(standin.issue()))
        assert standin.logins == 1
        clock.advance(2)
        await auth.authenticate(_headers(standin.issue()))
        assert standin.logins == 2
    finally:
        await auth.stop()


async def test_service_token_refused_with_401_is_renewed_once(keystone, auth) -> None:
    """Keystone answering 401 to our token: log in again and retry the validation."""
    standin, _ = keystone
    standin.revoke_service_tokens()
    caller = await auth.authenticate(_headers(standin.issue()))
    assert caller.project_id == "p-1"
    assert (standin.logins, standin.validations) == (2, 2)


async def test_login_is_lazy_when_keystone_was_down_at_start(keystone, clock) -> None:
    """A failed login at start() is only a warning; the first request logs in."""
    standin, url = keystone
    standin.fail_with = 503
    auth = _authenticator(url, clock)
    await auth.start()
    try:
        standin.fail_with = None
        caller = await auth.authenticate(_headers(standin.issue()))
        assert caller.project_id == "p-1"
        assert standin.logins == 2
    finally:
        await auth.stop()


async def test_wrong_service_password_is_503_naming_keystone(keystone, clock) -> None:
    """Our own credentials refused: the caller is not at fault, so 503, not 401."""
    standin, url = keystone
    settings = KeystoneSettings(auth_url=url, password="wrong")
    auth = KeystoneAuthenticator.from_settings(settings, clock=clock)
    await auth.start()
    try:
        with pytest.raises(ServiceUnavailable, match=r"Keystone.*rejected the service credentials"):
            await auth.authenticate(_headers(standin.issue()))
        assert standin.validations == 0
    finally:
        await auth.stop()


async def test_keystone_error_is_503_and_not_cached(keystone, auth) -> None:
    """A 5xx from Keystone is a 503; the next request asks again and succeeds."""
    standin, url = keystone
    token = standin.issue()
    standin.fail_with = 500
    with pytest.raises(ServiceUnavailable, match=re.escape(f"Keystone at {url}")) as caught:
        await auth.authenticate(_headers(token))
    assert "HTTP 500" in caught.value.text
    standin.fail_with = None
    assert (await auth.authenticate(_headers(token))).project_id == "p-1"


async def test_keystone_down_is_503(clock) -> None:
    """Keystone gone after start: 503 whose message names Keystone and its URL."""
    standin = StandInKeystone(clock)
    server = TestServer(standin.app(), host="127.0.0.1", port=0)
    await server.start_server()
    url = str(server.make_url("/v3"))
    auth = _authenticator(url, clock)
    await auth.start()
    token = standin.issue()
    await server.close()
    try:
        with pytest.raises(ServiceUnavailable, match=re.escape(f"Keystone at {url}")):
            await auth.authenticate(_headers(token))
    finally:
        await auth.stop()


async def test_keystone_timeout_is_503(keystone, clock) -> None:
    """Keystone accepting but not answering within timeout_s: 503."""
    standin, url = keystone
    auth = _authenticator(url, clock, timeout_s=0.2)
    await auth.start()
    standin.release_validations = asyncio.Event()  # never set: validations hang
    try:
        with pytest.raises(ServiceUnavailable, match=r"no answer within 0\.2 s"):
            await auth.authenticate(_headers(standin.issue()))
    finally:
        standin.release_validations.set()
        await auth.stop()


async def test_tokens_never_reach_the_logs(keystone, auth, caplog) -> None:
    """Log records show token fingerprints, never the tokens themselves."""
    standin, _ = keystone
    caplog.set_level(logging.DEBUG, logger="alcor")
    token = standin.issue()
    await auth.authenticate(_headers(token))
    with pytest.raises(NotAuthenticated):
        await auth.authenticate(_headers("secret-bad-token"))
    standin.revoke_service_tokens()
    await auth.authenticate(_headers(standin.issue()))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text
    for secret in (token, "secret-bad-token", "service-token", SERVICE_PASSWORD + '"'):
        assert secret not in text


async def test_authenticate_before_start_is_an_error(keystone, clock) -> None:
    """Using the authenticator without start() is a programming error, not a 503."""
    standin, url = keystone
    auth = _authenticator(url, clock)
    with pytest.raises(RuntimeError, match="start"):
        await auth.authenticate(_headers(standin.issue()))
