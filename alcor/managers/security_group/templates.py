"""Default security group rules (security-groups-default-rules): the templates of the rules
each new group gets. Admins create and delete them; anyone reads them."""

from __future__ import annotations

from typing import Any

from alcor.bus import Bus
from alcor.managers.common import RequestContext, deny
from alcor.managers.crud import UpdateCommand
from alcor.managers.generic import CrudManager
from alcor.managers.security_group import rules
from alcor.resources import repo
from alcor.resources.repo import Where
from alcor.resources.security_group import (
    DEFAULT_SG_RULE,
    DefaultSecurityGroupRuleExists,
)
from alcor.store import Store, current_transaction
from alcor.store.cache import OneWriterCache

PARENT = "PARENT"
# The columns a template shares with a rule (its match).
MATCH = (
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
)


class DefaultRules(CrudManager):
    """Create, read and delete the rule templates; give new groups their rules."""

    resource = DEFAULT_SG_RULE
    label = "Default security group rule"

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        self._cache = OneWriterCache(store, self._load)  # every template, creation order

    def visible_where(self, ctx: RequestContext) -> list[Where]:
        return []

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return True

    def authorize_create(self, ctx: RequestContext, item: dict[str, Any]) -> None:
        if not ctx.is_admin:
            raise deny("create_default_security_group_rule")

    def check_write(self, ctx: RequestContext, obj: dict[str, Any], action: str) -> None:
        if not ctx.is_admin:
            raise deny(action)

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        raise deny("update_default_security_group_rule")

    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        obj.pop("project_id", None)
        rules.validate(obj)
        obj.pop("normalized_cidr", None)
        # Another process's new template waits until this transaction ends.
        await self._store.lock("default_security_group_rules")
        for other in await self.templates():
            same = all(other[k] == obj[k] for k in MATCH)
            overlap = (other["used_in_default_sg"] and obj["used_in_default_sg"]) or (
                other["used_in_non_default_sg"] and obj["used_in_non_default_sg"]
            )
            if same and overlap:
                raise DefaultSecurityGroupRuleExists(rule_id=other["id"])
        self._forget()

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        self._forget()

    def _forget(self) -> None:
        """Drop the cache now and again after the commit (or rollback) of this change."""
        self._cache.clear()
        txn = current_transaction()
        if txn is not None:
            txn.after_commit.append(self._cache.clear)

    async def templates(self) -> list[dict[str, Any]]:
        """Return every template (cached with one writer: they change rarely, groups are
        created often)."""
        return await self._cache.get()

    async def _load(self) -> list[dict[str, Any]]:
        return await repo.find(
            self._store, DEFAULT_SG_RULE, Where("TRUE"), order="t.direction, t.ethertype, t.id"
        )

    async def rules_for(self, group_id: str, default: bool) -> list[dict[str, Any]]:
        """Return the rules a new group gets: `default` for a project's default group."""
        flag = "used_in_default_sg" if default else "used_in_non_default_sg"
        out = []
        for template in await self.templates():
            if template[flag]:
                rule = {k: template[k] for k in MATCH}
                if rule["remote_group_id"] == PARENT:
                    rule["remote_group_id"] = group_id
                out.append(rule)
        return out
