"""Who is calling: the project and roles every request runs as."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: its project, its roles (lower-case) and optional user."""

    project_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    user_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """Return True for the `admin` role, which sees all projects and passes every policy."""
        return "admin" in self.roles

    @property
    def is_service(self) -> bool:
        """Return True for admin or the `service` role (Nova), which may set binding:* attributes."""
        return self.is_admin or "service" in self.roles

    @property
    def is_reader_only(self) -> bool:
        """Return True for a caller whose only project role is `reader` (read-only access)."""
        return (
            not self.is_admin
            and "reader" in self.roles
            and not (self.roles & {"member", "service", "manager"})
        )
