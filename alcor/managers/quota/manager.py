"""Quota manager: per-project limits, enforced on every API create."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from prometheus_client import Counter

from alcor import errors
from alcor.bus import Bus
from alcor.config import QuotaConfig
from alcor.managers.common import deny
from alcor.managers.quota import repo
from alcor.managers.quota.messages import (
    QUOTA_RESOURCES,
    CheckQuota,
    DeleteQuota,
    GetQuota,
    ListQuotas,
    RegisterUsageCounter,
    UpdateQuota,
    UsageCounter,
)
from alcor.store import Store

_LOGGER = logging.getLogger(__name__)
QUOTA_REJECTIONS = Counter("alcor_quota_rejections_total", "Creates refused by quota", ["resource"])


class QuotaManager:
    """Limits from config, per-project overrides in the store, usage counted on demand.

    Usage is counted with indexed queries rather than kept in counters, so it can never
    drift; unlimited resources (-1) are not counted at all.
    """

    name = "quota"
    requires = ("store", "bus")

    def __init__(self, bus: Bus, store: Store, config: QuotaConfig) -> None:
        self._bus = bus
        self._store = store
        self._defaults: dict[str, int] = asdict(config)
        self._counters: dict[str, UsageCounter] = {}
        # Overrides are few and written only here: cached so that a create costs no query.
        # Not with several processes (PostgreSQL): another one may change them.
        self._overrides: dict[str, dict[str, int]] = {}
        self._cached = store.dialect == "sqlite"

    async def start(self) -> None:
        """Load the overrides and register the quota commands."""
        for project, resource, limit in await repo.overrides(self._store):
            self._overrides.setdefault(project, {})[resource] = limit
        self._bus.handle(RegisterUsageCounter, self._register)
        self._bus.handle(CheckQuota, self._check)
        self._bus.handle(ListQuotas, self._list)
        self._bus.handle(GetQuota, self._get)
        self._bus.handle(UpdateQuota, self._update)
        self._bus.handle(DeleteQuota, self._delete)

    async def stop(self) -> None:
        """Own nothing."""

    async def _register(self, cmd: RegisterUsageCounter) -> None:
        self._counters[cmd.resource] = cmd.counter

    async def _limits(self, project_id: str) -> dict[str, int]:
        if self._cached:
            return {**self._defaults, **self._overrides.get(project_id, {})}
        return {**self._defaults, **await repo.limits_of(self._store, project_id)}

    async def _limit(self, project_id: str, resource: str) -> int:
        if not self._cached:
            return (await self._limits(project_id))[resource]
        override = self._overrides.get(project_id)
        if override is not None and resource in override:
            return override[resource]
        return self._defaults[resource]

    async def _used(self, project_id: str, resource: str) -> int:
        counter = self._counters.get(resource)
        return await counter(self._store, project_id) if counter is not None else 0

    async def _check(self, cmd: CheckQuota) -> None:
        limit = await self._limit(cmd.project_id, cmd.resource)
        if limit < 0:
            return
        # Count and create must not interleave with another process's create in the same
        # project (free with one writer): the lock is held until the creating commit.
        await self._store.lock(f"quota:{cmd.project_id}:{cmd.resource}")
        if await self._used(cmd.project_id, cmd.resource) + cmd.count > limit:
            QUOTA_REJECTIONS.labels(cmd.resource).inc()
            raise errors.OverQuota(overs=f"['{cmd.resource}']")

    async def _list(self, cmd: ListQuotas) -> list[dict[str, Any]]:
        if not cmd.ctx.is_admin:  # the list is admin-only, native P/quotas included (§1.4.2)
            raise deny("get_quota")
        projects = await repo.projects(self._store, cmd.project_id)
        return [{**await self._limits(p), "project_id": p, "tenant_id": p} for p in projects]

    async def _get(self, cmd: GetQuota) -> dict[str, Any]:
        if not cmd.ctx.is_admin and cmd.project_id != cmd.ctx.caller.project_id:
            raise deny("get_quota")
        if cmd.kind == "default":
            return dict(self._defaults)
        limits = await self._limits(cmd.project_id)
        if cmd.kind == "details":
            return {
                r: {"used": await self._used(cmd.project_id, r), "limit": limits[r], "reserved": 0}
                for r in QUOTA_RESOURCES
            }
        return limits

    async def _update(self, cmd: UpdateQuota) -> dict[str, Any]:
        if not cmd.ctx.is_admin:
            raise deny("update_quota")
        async with self._store.transaction():
            if cmd.check_limit:
                for resource, limit in cmd.limits.items():
                    used = await self._used(cmd.project_id, resource) if limit >= 0 else 0
                    if used > limit >= 0:
                        raise errors.HTTPBadRequest(
                            msg=(
                                f"Quota limit {limit} for {resource} must be greater than or equal "
                                f"to already used {used}"
                            )
                        )
            await repo.set_limits(self._store, cmd.project_id, cmd.limits)
        self._overrides.setdefault(cmd.project_id, {}).update(cmd.limits)  # committed
        return await self._limits(cmd.project_id)

    async def _delete(self, cmd: DeleteQuota) -> None:
        if not cmd.ctx.is_admin:
            raise deny("delete_quota")
        async with self._store.transaction():
            if not await repo.delete_project(self._store, cmd.project_id):
                raise errors.TenantQuotaNotFound(tenant_id=cmd.project_id)
        self._overrides.pop(cmd.project_id, None)
