"""The rules of one QoS rule type: a sub-resource of QoS policies (/qos/policies/{id}/...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alcor.bus import Bus
from alcor.managers.common import RequestContext, changed, deny, stamp_new
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)
from alcor.managers.generic import CrudManager
from alcor.resources import repo
from alcor.resources.base import defaults
from alcor.resources.qos import RULES, QosRuleNotFound, QoSRulesConflict
from alcor.resources.repo import Page, Where
from alcor.store import Store, current_transaction

if TYPE_CHECKING:
    from alcor.managers.qos.manager import QosManager

for _resource in RULES.values():
    repo.register_extra_columns(_resource, ("qos_policy_id", "project_id"))


class QosRules(CrudManager):
    """Create, read, update and delete the rules of one type; writes are admin-only."""

    label = "QoS rule"

    def __init__(self, bus: Bus, store: Store, rule_type: str, policies: QosManager) -> None:
        super().__init__(bus, store)
        self.rule_type = rule_type
        self.resource = RULES[rule_type]
        self._policies = policies
        # How many rules of this type exist (an upper bound while a create is uncommitted):
        # readers skip their queries while there are none.
        self.upper = 0

    async def count(self) -> None:
        """Count the stored rules (at start)."""
        self.upper = await repo.count(self._store, self.resource, Where("TRUE", ()))

    def _forget(self, n: int) -> None:
        """Lower the count once the delete of `n` rules is committed."""

        def lower() -> None:
            self.upper = max(0, self.upper - n)

        txn = current_transaction()
        if txn is None:
            lower()
        else:
            txn.after_commit.append(lower)

    # ---- lookups through the (visible) policy --------------------------------------------
    async def _policy(self, ctx: RequestContext, policy_id: str | None) -> dict[str, Any]:
        return await self._policies.get_visible(ctx, policy_id or "")

    async def _rule(
        self, ctx: RequestContext, policy_id: str | None, rule_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        policy = await self._policy(ctx, policy_id)
        rule = await self.lookup(rule_id)
        if rule is None or rule["qos_policy_id"] != policy["id"]:
            raise QosRuleNotFound(id=rule_id, policy_id=policy["id"])
        return policy, rule

    async def of_policy(self, policy_id: str) -> list[dict[str, Any]]:
        """Return the policy's rules of this type as a policy shows them (with `type`)."""
        rules = await repo.find(
            self._store, self.resource, Where("t.qos_policy_id = ?", (policy_id,))
        )
        return [{**_public(r), "qos_policy_id": policy_id, "type": self.rule_type} for r in rules]

    async def remove_of_policy(self, policy_id: str) -> None:
        """Delete every rule of a policy being deleted."""
        rules = await self.of_policy(policy_id)
        for rule in rules:
            await repo.delete(self._store, self.resource, rule["id"])
        self._forget(len(rules))

    # ---- reads ---------------------------------------------------------------------------
    async def get(self, cmd: GetCommand) -> dict[str, Any]:
        return (await self._rule(cmd.ctx, cmd.parent, cmd.id))[1]

    async def list_visible(self, cmd: ListCommand) -> Page:
        policy = await self._policy(cmd.ctx, cmd.parent)
        where = [Where("t.qos_policy_id = ?", (policy["id"],))]
        return await repo.list_page(self._store, self.resource, cmd.query, where)

    # ---- writes --------------------------------------------------------------------------
    def _authorize(self, ctx: RequestContext, verb: str) -> None:
        if not ctx.is_admin:
            raise deny(f"{verb}_policy_{self.resource.name}")

    async def create(self, cmd: CreateCommand) -> list[dict[str, Any]]:
        # Policy first, lookup second: a member creating a rule is 403 whatever the policy
        # (Neutron checks create_* on the body), while an update or delete looks it up first.
        self._authorize(cmd.ctx, "create")
        async with self._store.transaction():
            policy = await self._policy(cmd.ctx, cmd.parent)
            out = []
            for item in cmd.items:
                rule = defaults(self.resource, item)
                stamp_new(rule)
                rule.update(qos_policy_id=policy["id"], project_id=policy["project_id"])
                await self._check_conflict(policy["id"], rule)
                await repo.insert(self._store, self.resource, rule)
                out.append(rule)
            self.upper += len(out)
            await self._policies.bump_policy(policy)
        return out

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        async with self._store.transaction():
            policy, rule = await self._rule(cmd.ctx, cmd.parent, cmd.id)
            self._authorize(cmd.ctx, "update")
            diff = changed(rule, cmd.changes)
            if diff:
                await self._check_conflict(policy["id"], {**rule, **diff})
                await self.write(rule, diff)
                await self._policies.bump_policy(policy)
        return rule

    async def delete(self, cmd: DeleteCommand) -> None:
        async with self._store.transaction():
            policy, rule = await self._rule(cmd.ctx, cmd.parent, cmd.id)
            self._authorize(cmd.ctx, "delete")
            await repo.delete(self._store, self.resource, rule["id"])
            self._forget(1)
            await self._policies.bump_policy(policy)

    async def _check_conflict(self, policy_id: str, rule: dict[str, Any]) -> None:
        """One rule per type and direction ("any" overlaps both); one DSCP rule per policy."""
        for other in await self.of_policy(policy_id):
            if other["id"] == rule["id"]:
                continue
            mine, theirs = rule.get("direction"), other.get("direction")
            if mine is None or mine == theirs or "any" in (mine, theirs):
                raise QoSRulesConflict(
                    new_rule_type=self.rule_type, rule_id=other["id"], policy_id=policy_id
                )


def _public(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k not in ("qos_policy_id", "project_id")}
