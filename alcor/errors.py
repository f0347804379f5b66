"""The error hierarchy every component raises on purpose (no HTTP knowledge here).

Each class carries a message template filled from keyword fields, like Neutron's exceptions.
The API layer maps the base classes to HTTP status codes in one table (api/errors.py).
"""

from __future__ import annotations

from typing import Any, ClassVar


class AlcorError(Exception):
    """Base of every error raised on purpose."""

    message: ClassVar[str] = "An unknown error occurred."
    # The NeutronError "type"; defaults to the class name.
    type_name: ClassVar[str | None] = None

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        self.fields = fields
        self.text = message if message is not None else self.message.format(**fields)
        super().__init__(self.text)

    @property
    def type(self) -> str:
        """Return the NeutronError type name of this error."""
        return self.type_name or type(self).__name__


class BadRequest(AlcorError):
    """400: the request is malformed or not applicable."""

    message = "Bad {resource} request: {msg}."


class NotAuthenticated(AlcorError):
    """401: no caller could be established (token missing, unknown or expired)."""

    type_name = "HTTPUnauthorized"
    message = "Authentication required"
    # Extra response headers (WWW-Authenticate), set by the authenticator that raised it.
    headers: dict[str, str] = {}

    def __init__(self, message: str | None = None, headers: dict[str, str] | None = None,
                 **fields: Any) -> None:
        super().__init__(message, **fields)
        self.headers = dict(headers or {})


class NotAuthorized(AlcorError):
    """403: the target is visible but the action or attribute is not allowed."""

    type_name = "PolicyNotAuthorized"
    message = "{action} is disallowed by policy."


class NotFound(AlcorError):
    """404: the target does not exist or is not visible to the caller."""

    type_name = "HTTPNotFound"
    message = "The resource could not be found."


class Conflict(AlcorError):
    """409: the request conflicts with the current state."""

    message = "{resource} {id} already exists."


class PreconditionFailed(AlcorError):
    """412: an If-Match revision constraint failed."""


class ServiceUnavailable(AlcorError):
    """503: the server (or a service it depends on) cannot serve the request now."""

    type_name = "HTTPServiceUnavailable"
    message = "The server is not ready; retry later."
