"""RBAC manager: owns rbac_policies; the owners of each object type keep its effects."""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.common import RequestContext, deny, new_id
from alcor.managers.crud import UpdateCommand
from alcor.managers.generic import CrudManager
from alcor.managers.quota.messages import RegisterUsageCounter
from alcor.managers.rbac import repo as rbac_repo
from alcor.managers.rbac.messages import (
    CreateRbacPolicies,
    DeleteObjectPolicies,
    DeleteRbacPolicy,
    GetRbacPolicy,
    ListRbacPolicies,
    RbacObjectType,
    RegisterRbacObject,
    SetWildcardPolicy,
    UpdateRbacPolicy,
)
from alcor.resources import repo
from alcor.resources.rbac import (
    ACCESS_EXTERNAL,
    ACCESS_SHARED,
    RBAC_POLICY,
    WILDCARD,
    DuplicateRbacPolicy,
    RbacPolicyInUse,
)
from alcor.resources.repo import Where
from alcor.store import Store


class RbacManager(CrudManager):
    """Create, read, update and delete RBAC policies."""

    resource = RBAC_POLICY
    name = "rbac"
    label = "RBAC policy"
    quota_resource = "rbac_policy"
    requires = ("store", "bus", "quota")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        self._types: dict[str, RbacObjectType] = {}

    async def start(self) -> None:
        """Register the RBAC commands."""
        self._bus.handle(CreateRbacPolicies, self.create)
        self._bus.handle(GetRbacPolicy, self.get)
        self._bus.handle(ListRbacPolicies, self.list_visible)
        self._bus.handle(UpdateRbacPolicy, self.update)
        self._bus.handle(DeleteRbacPolicy, self.delete)
        self._bus.handle(RegisterRbacObject, self._register)
        self._bus.handle(SetWildcardPolicy, self._set_wildcard)
        self._bus.handle(DeleteObjectPolicies, self._delete_of_object)
        await self._bus.call(
            RegisterUsageCounter(resource="rbac_policy", counter=repo.usage_counter(RBAC_POLICY))
        )

    async def _register(self, cmd: RegisterRbacObject) -> None:
        self._types[cmd.hooks.object_type] = cmd.hooks

    def _hooks(self, object_type: str) -> RbacObjectType:
        hooks = self._types.get(object_type)
        if hooks is None:
            raise errors.InvalidInput(
                error_message=f"'{object_type}' is not a valid RBAC object type"
            )
        return hooks

    # ---- create ------------------------------------------------------------------------
    def authorize_create(self, ctx: RequestContext, item: dict[str, Any]) -> None:
        if item["target_tenant"] == WILDCARD and not ctx.is_admin:
            raise deny("create_rbac_policy:target_tenant")

    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        hooks = self._hooks(obj["object_type"])
        if obj["action"] not in hooks.actions:
            raise errors.InvalidInput(
                error_message=f"Invalid action {obj['action']} for object type "
                f"{obj['object_type']}. Valid actions: {', '.join(hooks.actions)}"
            )
        await self._check_owner(ctx, hooks, obj["object_id"])
        if await self._find(
            obj["object_type"], obj["object_id"], obj["action"], obj["target_tenant"]
        ):
            raise DuplicateRbacPolicy()
        if hooks.check_target is not None:
            await hooks.check_target(obj["object_id"], obj["target_tenant"])

    async def _check_owner(self, ctx: RequestContext, hooks: RbacObjectType, obj_id: str) -> None:
        """404 for an object the caller cannot see; 400 for one it sees but does not own."""
        target = await hooks.lookup(ctx, obj_id)
        if not ctx.is_admin and target["project_id"] != ctx.caller.project_id:
            raise errors.InvalidInput(
                error_message="Only admins can manipulate policies on objects they do not own"
            )

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._hooks(obj["object_type"]).changed(obj["object_id"])

    # ---- update ------------------------------------------------------------------------
    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        if cmd.changes.get("target_tenant") == WILDCARD and not cmd.ctx.is_admin:
            raise deny("update_rbac_policy:target_tenant")
        return await super().update(cmd)

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        hooks = self._hooks(obj["object_type"])
        await self._check_owner(ctx, hooks, obj["object_id"])
        if await self._find(
            obj["object_type"], obj["object_id"], obj["action"], diff["target_tenant"]
        ):
            raise DuplicateRbacPolicy()
        if hooks.check_target is not None:
            await hooks.check_target(obj["object_id"], diff["target_tenant"])
        if diff["target_tenant"] != WILDCARD:
            await self._check_loss(hooks, obj, gained=diff["target_tenant"])

    async def after_update(
        self, ctx: RequestContext, obj: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        await self._hooks(obj["object_type"]).changed(obj["object_id"])

    # ---- delete ------------------------------------------------------------------------
    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._check_loss(self._hooks(obj["object_type"]), obj)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._hooks(obj["object_type"]).changed(obj["object_id"])

    async def _check_loss(
        self, hooks: RbacObjectType, policy: dict[str, Any], gained: str | None = None
    ) -> None:
        """Refuse to take access from a project whose resources depend on it.

        The projects still covered afterwards are the other targets of the same action (any,
        when another wildcard remains) and, for access_as_external only, `gained` (an
        update's new target), as Neutron counts them.
        """
        object_id, action, losing = policy["object_id"], policy["action"], policy["target_tenant"]
        bound = await hooks.bound_projects(object_id, action, losing)
        others = await rbac_repo.other_targets(
            self._store, policy["object_type"], object_id, action, policy["id"]
        )
        if WILDCARD in others:
            return
        covered = others | ({gained} if gained and action == ACCESS_EXTERNAL else set())
        at_risk = bound - covered if losing == WILDCARD else bound & {losing} - covered
        if at_risk:
            raise RbacPolicyInUse(
                object_id=object_id, details=f"project_id={', '.join(sorted(at_risk))}"
            )

    # ---- commands of the object owners --------------------------------------------------
    async def _find(self, object_type: str, object_id: str, action: str, target: str) -> str | None:
        return await rbac_repo.find(self._store, object_type, object_id, action, target)

    async def _set_wildcard(self, cmd: SetWildcardPolicy) -> None:
        policy_id = await self._find(cmd.object_type, cmd.object_id, cmd.action, WILDCARD)
        if cmd.present and policy_id is None:
            await repo.insert(
                self._store,
                RBAC_POLICY,
                {
                    "id": new_id(),
                    "project_id": cmd.project_id,
                    "object_type": cmd.object_type,
                    "object_id": cmd.object_id,
                    "action": cmd.action,
                    "target_tenant": WILDCARD,
                },
            )
        elif not cmd.present and policy_id is not None:
            policy = await repo.get(self._store, RBAC_POLICY, policy_id)
            assert policy is not None
            await self._check_loss(self._hooks(cmd.object_type), policy)
            await repo.delete(self._store, RBAC_POLICY, policy_id)
        else:
            return
        if cmd.notify:
            await self._hooks(cmd.object_type).changed(cmd.object_id)

    async def _delete_of_object(self, cmd: DeleteObjectPolicies) -> None:
        sql = "t.object_type = ? AND t.object_id = ?"
        params: tuple[Any, ...] = (cmd.object_type, cmd.object_id)
        if cmd.action is not None:
            sql += " AND t.action = ?"
            params += (cmd.action,)
        for policy in await repo.find(self._store, RBAC_POLICY, Where(sql, params)):
            await repo.delete(self._store, RBAC_POLICY, policy["id"])


__all__ = ["ACCESS_SHARED", "RbacManager"]
