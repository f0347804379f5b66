"""QoS manager: owns QoS policies and their rules (four rule types)."""

from __future__ import annotations

from typing import Any

from alcor.bus import Bus
from alcor.managers.common import RequestContext, deny
from alcor.managers.generic import SharedCrudManager
from alcor.managers.qos.messages import (
    CheckQosPolicy,
    CheckQosPolicyRemoval,
    CreateQosPolicies,
    CreateQosRules,
    DefaultQosPolicy,
    DeleteQosPolicy,
    DeleteQosRule,
    GetQosPolicy,
    GetQosRule,
    ListQosPolicies,
    ListQosRules,
    QosPolicyChanged,
    QosPolicyDeleted,
    UpdateQosPolicy,
    UpdateQosRule,
)
from alcor.managers.qos.rules import QosRules
from alcor.resources import repo
from alcor.resources.qos import (
    QOS_POLICY,
    RULES,
    PolicyRemoveAuthorizationError,
    QoSPolicyDefaultAlreadyExists,
    QosPolicyInUse,
)
from alcor.store import Store

# Bindings live on the networks and ports (their qos_policy_id): read here, never written.
_USERS = (
    ("network", "SELECT id, project_id FROM networks WHERE qos_policy_id = ?"),
    ("port", "SELECT id, project_id FROM ports WHERE qos_policy_id = ?"),
)


class QosManager(SharedCrudManager):
    """Create, read, update and delete QoS policies; their rules through QosRules."""

    resource = QOS_POLICY
    name = "qos"
    label = "QoS policy"
    object_type = "qos_policy"
    requires = ("store", "bus", "rbac")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        self._rules = {kind: QosRules(bus, store, kind, self) for kind in RULES}

    async def start(self) -> None:
        """Register the QoS commands and make policies shareable."""
        self._bus.handle(CreateQosPolicies, self.create)
        self._bus.handle(GetQosPolicy, self.get)
        self._bus.handle(ListQosPolicies, self.list_visible)
        self._bus.handle(UpdateQosPolicy, self.update)
        self._bus.handle(DeleteQosPolicy, self.delete)
        self._bus.handle(CreateQosRules, self._rule_create)
        self._bus.handle(GetQosRule, self._rule_get)
        self._bus.handle(ListQosRules, self._rule_list)
        self._bus.handle(UpdateQosRule, self._rule_update)
        self._bus.handle(DeleteQosRule, self._rule_delete)
        self._bus.handle(CheckQosPolicy, self._check_usable)
        self._bus.handle(CheckQosPolicyRemoval, self._check_removable)
        self._bus.handle(DefaultQosPolicy, self._default)
        await self.register_rbac()

    # ---- rules: one QosRules per type ------------------------------------------------------
    async def _rule_create(self, cmd: CreateQosRules) -> list[dict[str, Any]]:
        return await self._rules[cmd.rule_type].create(cmd)

    async def _rule_get(self, cmd: GetQosRule) -> dict[str, Any]:
        return await self._rules[cmd.rule_type].get(cmd)

    async def _rule_list(self, cmd: ListQosRules) -> Any:
        return await self._rules[cmd.rule_type].list_visible(cmd)

    async def _rule_update(self, cmd: UpdateQosRule) -> dict[str, Any]:
        return await self._rules[cmd.rule_type].update(cmd)

    async def _rule_delete(self, cmd: DeleteQosRule) -> None:
        await self._rules[cmd.rule_type].delete(cmd)

    def decorate(self, objs: Any) -> list[dict[str, Any]]:
        """Attach each policy's rules (each with its `type`)."""
        out = list(objs)
        for obj in out:
            obj["rules"] = [
                rule for rules in self._rules.values() for rule in rules.of_policy(obj["id"])
            ]
        return out

    # ---- policy writes: admin only -------------------------------------------------------
    def authorize_create(self, ctx: RequestContext, item: dict[str, Any]) -> None:
        if not ctx.is_admin:
            raise deny("create_policy")

    def check_write(self, ctx: RequestContext, obj: dict[str, Any], action: str) -> None:
        if not ctx.is_admin:
            raise deny(action)

    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        if obj["is_default"]:
            self._check_single_default(obj)

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await super().after_create(ctx, obj)
        self.publish_changed(obj)

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        if diff.get("is_default"):
            self._check_single_default(obj)
        await super().prepare_update(ctx, obj, diff)

    async def after_update(
        self, ctx: RequestContext, obj: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        self.publish_changed(obj)

    async def after_rbac_change(self, obj: dict[str, Any]) -> None:
        self.publish_changed(obj)

    def _check_single_default(self, obj: dict[str, Any]) -> None:
        found = self._default_of(obj["project_id"])
        if found is not None and found != obj["id"]:
            raise QoSPolicyDefaultAlreadyExists(project_id=obj["project_id"])

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        for kind, sql in _USERS:
            row = self._store.db.execute(sql + " LIMIT 1", [obj["id"]]).fetchone()
            if row is not None:
                raise QosPolicyInUse(policy_id=obj["id"], object_type=kind, object_id=row[0])
        for rules in self._rules.values():
            rules.remove_of_policy(obj["id"])
        await super().before_delete(ctx, obj)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        self._bus.publish(QosPolicyDeleted(policy=obj))

    def publish_changed(self, policy: dict[str, Any]) -> None:
        """Announce a policy with its current rules (after the commit)."""
        self._bus.publish(QosPolicyChanged(policy=self.decorate([dict(policy)])[0]))

    def bump_policy(self, policy: dict[str, Any]) -> None:
        """Bump a policy's revision for a change of one of its rules, and announce it."""
        self.write(policy, {})
        self.publish_changed(policy)

    # ---- binding to networks and ports -------------------------------------------------------
    async def bound_projects(self, obj: dict[str, Any]) -> set[str]:
        return {
            row[1]
            for _, sql in _USERS
            for row in self._store.db.execute(sql, [obj["id"]])
            if row[1]
        }

    async def _check_usable(self, cmd: CheckQosPolicy) -> None:
        self.get_visible(cmd.ctx, cmd.policy_id)

    async def _check_removable(self, cmd: CheckQosPolicyRemoval) -> None:
        policy = self.lookup(cmd.policy_id)
        if policy is not None and not self.is_visible(policy, cmd.ctx):
            raise PolicyRemoveAuthorizationError(policy_id=cmd.policy_id)

    async def _default(self, cmd: DefaultQosPolicy) -> str | None:
        return self._default_of(cmd.project_id)

    def _default_of(self, project_id: str) -> str | None:
        row = self._store.db.execute(
            "SELECT id FROM qos_policies WHERE project_id = ? AND is_default = 1", [project_id]
        ).fetchone()
        return row[0] if row else None


__all__ = ["QosManager", "repo"]
