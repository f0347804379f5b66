"""QoS manager: owns QoS policies and their rules (four rule types)."""

from __future__ import annotations

from typing import Any

from alcor.bus import Bus
from alcor.managers.common import RequestContext
from alcor.managers.generic import AdminWrites, SharedCrudManager
from alcor.managers.network.messages import LookupNetwork
from alcor.managers.qos import repo as qos_repo
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
    PortResourceRequests,
    QosPolicyChanged,
    QosPolicyDeleted,
    UpdateQosPolicy,
    UpdateQosRule,
)
from alcor.managers.qos.rules import QosRules
from alcor.resources import placement, repo
from alcor.resources.qos import (
    QOS_POLICY,
    RULES,
    PolicyRemoveAuthorizationError,
    QoSPolicyDefaultAlreadyExists,
    QosPolicyInUse,
)
from alcor.store import Store


def policy_lock(policy_id: str) -> str:
    """Return the lock name of a policy's bindings: held shared by a network or port taking
    the policy, exclusively while the policy is checked unused and deleted."""
    return f"qos_policy:{policy_id}"


class QosManager(AdminWrites, SharedCrudManager):
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
        self._bus.handle(PortResourceRequests, self._resource_requests)
        for rules in self._rules.values():
            await rules.count()
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

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        """Attach each policy's rules (each with its `type`)."""
        out = list(objs)
        for obj in out:
            obj["rules"] = [
                rule for rules in self._rules.values() for rule in await rules.of_policy(obj["id"])
            ]
        return out

    # ---- policy writes: admin only (AdminWrites) ------------------------------------------
    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        if obj["is_default"]:
            await self._check_single_default(obj)

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await super().after_create(ctx, obj)
        await self.publish_changed(obj)

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        if diff.get("is_default"):
            await self._check_single_default(obj)
        await super().prepare_update(ctx, obj, diff)

    async def after_update(
        self, ctx: RequestContext, obj: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        await self.publish_changed(obj)

    async def after_rbac_change(self, obj: dict[str, Any]) -> None:
        await self.publish_changed(obj)

    async def _check_single_default(self, obj: dict[str, Any]) -> None:
        found = await self._default_of(obj["project_id"])
        if found is not None and found != obj["id"]:
            raise QoSPolicyDefaultAlreadyExists(project_id=obj["project_id"])

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        # No network or port takes the policy meanwhile (they hold this lock shared).
        await self._store.lock(policy_lock(obj["id"]))
        user = await qos_repo.first_user(self._store, obj["id"])
        if user is not None:
            raise QosPolicyInUse(policy_id=obj["id"], object_type=user[0], object_id=user[1])
        for rules in self._rules.values():
            await rules.remove_of_policy(obj["id"])
        await super().before_delete(ctx, obj)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        self._bus.publish(QosPolicyDeleted(policy=obj))

    async def publish_changed(self, policy: dict[str, Any]) -> None:
        """Announce a policy with its current rules (after the commit)."""
        self._bus.publish(QosPolicyChanged(policy=(await self.decorate([dict(policy)]))[0]))

    async def bump_policy(self, policy: dict[str, Any]) -> None:
        """Bump a policy's revision for a change of one of its rules, and announce it."""
        await self.write(policy, {})
        await self.publish_changed(policy)

    # ---- binding to networks and ports -------------------------------------------------------
    async def bound_projects(self, obj: dict[str, Any]) -> set[str]:
        return await qos_repo.user_projects(self._store, obj["id"])

    async def _check_usable(self, cmd: CheckQosPolicy) -> None:
        # Kept from deletion by another process until the binding's transaction ends.
        await self._store.lock(policy_lock(cmd.policy_id), shared=True)
        await self.get_visible(cmd.ctx, cmd.policy_id)

    async def _check_removable(self, cmd: CheckQosPolicyRemoval) -> None:
        policy = await self.lookup(cmd.policy_id)
        if policy is not None and not await self.is_visible(policy, cmd.ctx):
            raise PolicyRemoveAuthorizationError(policy_id=cmd.policy_id)

    async def _default(self, cmd: DefaultQosPolicy) -> str | None:
        """Return the project's default policy, kept from deletion (as _check_usable) until
        the transaction ends: read again under its lock, until the one read is locked."""
        found = await self._default_of(cmd.project_id)
        locked: set[str] = set()
        while found is not None and found not in locked:
            await self._store.lock(policy_lock(found), shared=True)
            locked.add(found)
            found = await self._default_of(cmd.project_id)
        return found

    async def _default_of(self, project_id: str) -> str | None:
        return await qos_repo.default_of(self._store, project_id)

    # ---- what ports reserve (port-resource-request) -----------------------------------------
    async def _resource_requests(self, cmd: PortResourceRequests) -> dict[str, Any]:
        if not any(self._rules[kind].upper for kind in qos_repo.MINIMUM_TYPES):
            return {}  # no minimum rule anywhere: nothing is reserved
        out: dict[str, Any] = {}
        minimum = await qos_repo.minimum_rules(self._store)
        if not minimum:
            return out
        networks: dict[str, dict[str, Any]] = {}
        for port in cmd.ports:
            own = minimum.get(port.get("qos_policy_id") or "")
            if port.get("qos_policy_id") and not own:
                continue  # its own policy reserves nothing; the network's does not count
            if port["network_id"] not in networks:
                found = await self._bus.call(LookupNetwork(id=port["network_id"]))
                networks[port["network_id"]] = found or {}
            network = networks[port["network_id"]]
            rules = own or minimum.get(network.get("qos_policy_id") or "")
            if rules:
                physnet = network.get("provider:physical_network")
                out[port["id"]] = placement.resource_request(port, physnet, rules)
        return out


__all__ = ["QosManager", "repo"]
