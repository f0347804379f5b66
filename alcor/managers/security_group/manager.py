"""Security group manager: groups, their rules and each project's default group."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.identity import Caller
from alcor.managers.address_group.messages import GetAddressGroup, address_group_lock
from alcor.managers.base import view_visible
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_if_match,
    check_new_id,
    check_write,
    foreign_project,
    new_id,
    new_record,
    stamp_new,
)
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
    ViewCommand,
)
from alcor.managers.generic import SharedCrudManager
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.rbac.messages import DeleteObjectPolicies
from alcor.managers.security_group import repo as sg_repo
from alcor.managers.security_group import rules
from alcor.managers.security_group.messages import (
    AddressGroupEdited,
    CheckPortSecurityGroups,
    CreateDefaultSecurityGroupRules,
    CreateSecurityGroupRules,
    CreateSecurityGroups,
    DeleteDefaultSecurityGroupRule,
    DeleteSecurityGroup,
    DeleteSecurityGroupRule,
    EnsureDefaultSecurityGroup,
    GetDefaultSecurityGroupRule,
    GetSecurityGroup,
    GetSecurityGroupRule,
    ListDefaultSecurityGroupRules,
    ListSecurityGroupRules,
    ListSecurityGroups,
    LookupSecurityGroups,
    SecurityGroupChanged,
    SecurityGroupDeleted,
    UpdateDefaultSecurityGroupRule,
    UpdateSecurityGroup,
    UpdateSecurityGroupRule,
    ViewSecurityGroupRules,
    ViewSecurityGroups,
)
from alcor.managers.security_group.templates import DefaultRules
from alcor.resources import repo
from alcor.resources.base import defaults
from alcor.resources.repo import Page, Where
from alcor.resources.security_group import (
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SecurityGroupConflict,
)
from alcor.store import Store, current_transaction
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
repo.register_extra_columns(SECURITY_GROUP, ("is_default",))
INTERNAL_RULE_COLUMNS = ("seq", "sg_project_id", "normalized")
repo.register_extra_columns(SECURITY_GROUP_RULE, INTERNAL_RULE_COLUMNS)


class SecurityGroupManager(SharedCrudManager):
    """Create, read, update and delete security groups and their rules.

    Groups are shared through RBAC (rbac-security-groups); the rules a new group gets come
    from the default rule templates (security-groups-default-rules).
    """

    resource = SECURITY_GROUP
    name = "security_group"
    object_type = "security_group"
    requires = ("store", "bus", "quota", "rbac")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        self._default_ids: dict[str, str] = {}  # project -> its default group (hot in port create)
        # Another process may delete a default group: no cache on PostgreSQL.
        self._cache_defaults = store.dialect == "sqlite"
        self.templates = DefaultRules(bus, store)

    async def start(self) -> None:
        """Register the security group and rule commands."""
        self._bus.handle(CreateSecurityGroups, self.create)
        self._bus.handle(GetSecurityGroup, self.get)
        self._bus.handle(ViewSecurityGroups, self.view)
        self._bus.handle(ListSecurityGroups, self.list_visible)
        self._bus.handle(UpdateSecurityGroup, self.update)
        self._bus.handle(DeleteSecurityGroup, self.delete)
        self._bus.handle(CreateSecurityGroupRules, self.create_rules)
        self._bus.handle(GetSecurityGroupRule, self.get_rule)
        self._bus.handle(ViewSecurityGroupRules, self.view_rules)
        self._bus.handle(ListSecurityGroupRules, self.list_rules)
        self._bus.handle(UpdateSecurityGroupRule, self.update_rule)
        self._bus.handle(DeleteSecurityGroupRule, self.delete_rule)
        self._bus.handle(EnsureDefaultSecurityGroup, self._ensure_default_cmd)
        self._bus.handle(CheckPortSecurityGroups, self._check_port_groups)
        self._bus.handle(LookupSecurityGroups, self._lookup_many)
        self._bus.handle(AddressGroupEdited, self._address_group_edited)
        self._bus.handle(CreateDefaultSecurityGroupRules, self.templates.create)
        self._bus.handle(GetDefaultSecurityGroupRule, self.templates.get)
        self._bus.handle(ListDefaultSecurityGroupRules, self.templates.list_visible)
        self._bus.handle(UpdateDefaultSecurityGroupRule, self.templates.update)
        self._bus.handle(DeleteDefaultSecurityGroupRule, self.templates.delete)
        await self.register_rbac()
        await self._bus.call(
            RegisterUsageCounter(
                resource="security_group", counter=repo.usage_counter(SECURITY_GROUP)
            )
        )
        await self._bus.call(
            RegisterUsageCounter(
                resource="security_group_rule",
                counter=repo.usage_counter(SECURITY_GROUP_RULE, "sg_project_id"),
            )
        )

    # ---- default group -----------------------------------------------------------------
    async def _ensure_default_cmd(self, cmd: EnsureDefaultSecurityGroup) -> str:
        return await self.ensure_default(cmd.project_id)

    async def ensure_default(self, project_id: str) -> str:
        """Return the project's default group id, creating it (and its rules) if missing."""
        cached = self._default_ids.get(project_id)
        if cached is not None:
            return cached
        found = await sg_repo.default_group_of(self._store, project_id)
        if found is not None:
            return self._remember_default(project_id, found)
        async with self._store.transaction():
            # Checked again under the writer lock: another request may have created it.
            found = await sg_repo.default_group_of(self._store, project_id)
            if found is not None:
                return self._remember_default(project_id, found)
            group = stamp_new(
                {
                    "project_id": project_id,
                    "name": "default",
                    "description": "Default security group",
                    "tags": [],
                    "is_default": 1,
                    "stateful": True,
                    "shared": False,
                }
            )
            await repo.insert(self._store, SECURITY_GROUP, group)
            for rule in await self.templates.rules_for(group["id"], default=True):
                await self._insert_rule(group, rule)
            return self._remember_default(project_id, group["id"])

    def _remember_default(self, project_id: str, group_id: str) -> str:
        """Cache a default group id, once the transaction that may have created it commits."""
        if not self._cache_defaults:
            return group_id
        txn = current_transaction()
        if txn is None:
            self._default_ids[project_id] = group_id
        else:
            txn.after_commit.append(lambda: self._default_ids.__setitem__(project_id, group_id))
        return group_id

    async def _ensure_visible_default(self, ctx: RequestContext) -> None:
        project = ctx.view_project or ctx.caller.project_id
        if project and not ctx.caller.is_reader_only:
            await self.ensure_default(project)

    # ---- groups ------------------------------------------------------------------------
    async def decorate(self, objs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Attach each group's rules (creation order) in one query."""
        by_group = await repo.find_grouped(
            self._store,
            SECURITY_GROUP_RULE,
            "security_group_id",
            [o["id"] for o in objs],
            order="t.seq",
        )
        for group_rules in by_group.values():
            for rule in group_rules:
                # Freshly decoded rows: strip the internal columns in place (no copy).
                for key in INTERNAL_RULE_COLUMNS:
                    del rule[key]
                rule["tenant_id"] = rule["project_id"]
        for obj in objs:
            obj["security_group_rules"] = by_group[obj["id"]]
        return list(objs)

    async def get(self, cmd: GetCommand) -> dict[str, Any]:
        await self._ensure_visible_default(cmd.ctx)
        return await super().get(cmd)

    async def list_visible(self, cmd: ListCommand) -> Page:
        await self._ensure_visible_default(cmd.ctx)
        # As Neutron: listing a project's groups by project_id (an admin looking at a new
        # project) gives that project its default group too.
        projects = cmd.query.filters.get("project_id") or cmd.query.filters.get("tenant_id")
        if projects and len(projects) == 1 and cmd.ctx.can_write(projects[0]):
            await self.ensure_default(projects[0])
        return await super().list_visible(cmd)

    async def create(self, cmd: CreateCommand) -> list[dict[str, Any]]:
        """Create security groups, each with its two egress rules."""
        out = []
        async with self._store.transaction():
            counts: dict[str, int] = {}
            for item in cmd.items:
                project = check_create_project(cmd.ctx, item, "create_security_group")
                counts[project] = counts.get(project, 0) + 1
            # Quota first, then the default group, as Neutron does: a project's first
            # explicit group is checked against the groups that exist before its default
            # group is created (neutron-tempest-plugin's "quota is full" test).
            for project, count in counts.items():
                await self._bus.call(
                    CheckQuota(project_id=project, resource="security_group", count=count)
                )
            for project in counts:
                await self.ensure_default(project)
            # The rules each new group gets from the templates count against the rule quota,
            # as in Neutron (the spec had them never refused); the default group's never are.
            per_group = len(await self.templates.rules_for("", default=False))
            for project, count in counts.items():
                await self._bus.call(
                    CheckQuota(
                        project_id=project,
                        resource="security_group_rule",
                        count=count * per_group,
                    )
                )
            for item in cmd.items:
                if item.get("name", "").lower() == "default":
                    raise errors.SecurityGroupDefaultAlreadyExists()
                group = await new_record(self._store, SECURITY_GROUP, item, "Security group")
                group.pop("security_group_rules", None)
                group["tags"] = sorted(set(group["tags"]))
                group["is_default"] = 0
                group["shared"] = False
                await repo.insert(self._store, SECURITY_GROUP, group)
                for rule in await self.templates.rules_for(group["id"], default=False):
                    await self._insert_rule(group, rule)
                out.append(group)
        return await self.decorate(out)

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        """Rename or re-describe a group (the default group keeps its name)."""
        async with self._store.transaction():
            group = await self.writable(cmd.ctx, cmd.id, "update_security_group", cmd.if_match)
            given = self.given_changes(group, cmd)
            diff = changed(group, given)
            if "stateful" in diff:
                # No port joins the group meanwhile (ports hold this lock shared).
                await self._store.lock(f"security_group:{group['id']}")
                if await sg_repo.has_ports(self._store, group["id"]):
                    raise errors.SecurityGroupInUse(id=group["id"])
            if "name" in diff:
                if group["is_default"]:
                    raise errors.SecurityGroupCannotUpdateDefault()
                if diff["name"].lower() == "default":
                    raise errors.SecurityGroupDefaultAlreadyExists()
            if diff:
                await repo.update(self._store, SECURITY_GROUP, group["id"], bump(group, diff))
                self._bus.publish(SecurityGroupChanged(security_group_id=group["id"]))
        return (await self.decorate([group]))[0]

    async def delete(self, cmd: DeleteCommand) -> None:
        """Delete an unused group and the rules of other groups that reference it."""
        async with self._store.transaction():
            db = self._store
            group = await self.writable(cmd.ctx, cmd.id, "delete_security_group", cmd.if_match)
            if group["is_default"] and not cmd.ctx.is_admin:
                raise errors.SecurityGroupCannotRemoveDefault()
            await self._store.lock(f"security_group:{group['id']}")
            if await sg_repo.has_ports(db, group["id"]):
                raise errors.SecurityGroupInUse(id=group["id"])
            await self._bus.call(
                DeleteObjectPolicies(object_type="security_group", object_id=group["id"])
            )
            referencing = await sg_repo.groups_referencing(db, group["id"])
            await sg_repo.delete_rules_involving(db, group["id"])
            await repo.delete(db, SECURITY_GROUP, group["id"])
            if group["is_default"]:
                self._default_ids.pop(group["project_id"], None)
            await tombstone(db, "security_group", group)
            for other in referencing:
                await self._bump_group(other)
            self._bus.publish(SecurityGroupDeleted(security_group=group))

    async def bound_projects(self, obj: dict[str, Any]) -> set[str]:
        return await sg_repo.projects_of_ports(self._store, obj["id"])

    async def after_rbac_change(self, obj: dict[str, Any]) -> None:
        self._bus.publish(SecurityGroupChanged(security_group_id=obj["id"]))

    async def _check_port_groups(self, cmd: CheckPortSecurityGroups) -> None:
        """Every group exists and is the port project's (or shared with it); stateful and
        stateless groups do not mix on one port (409)."""
        # Kept from deletion by another process until the port's transaction ends.
        for sg_id in sorted(set(cmd.ids)):
            await self._store.lock(f"security_group:{sg_id}", shared=True)
        found = await repo.get_many(self._store, SECURITY_GROUP, cmd.ids)
        viewer = RequestContext(Caller(cmd.project_id), None if cmd.admin else cmd.project_id)
        for sg_id in cmd.ids:
            group = found.get(sg_id)
            if group is None or not await self.is_visible(group, viewer):
                raise errors.SecurityGroupNotFound(id=sg_id)
        if len({bool(g["stateful"]) for g in found.values()}) > 1:
            raise SecurityGroupConflict(
                reason="Cannot apply both stateful and stateless security groups on the same "
                "port at the same time"
            )

    async def _lookup_many(self, cmd: LookupSecurityGroups) -> dict[str, dict[str, Any]]:
        groups = await repo.get_many(self._store, SECURITY_GROUP, cmd.ids)
        await self.decorate(list(groups.values()))
        return groups

    async def _address_group_edited(self, cmd: AddressGroupEdited) -> None:
        async with self._store.transaction():
            for group_id in await sg_repo.groups_using_address_group(
                self._store, cmd.address_group_id
            ):
                await self._bump_group(group_id)

    async def _bump_group(self, group_id: str) -> None:
        group = await self.lookup(group_id)
        if group is not None:
            await repo.update(self._store, SECURITY_GROUP, group_id, bump(group, {}))
            self._bus.publish(SecurityGroupChanged(security_group_id=group_id))

    # ---- rules -------------------------------------------------------------------------
    def _rule_visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        return [sg_repo.own_or_rule_of_own_group(ctx.view_project)]

    async def _get_rule(self, ctx: RequestContext, rule_id: str) -> dict[str, Any]:
        rule = await repo.get(self._store, SECURITY_GROUP_RULE, rule_id)
        if rule is None or not _rule_visible(rule, ctx):
            raise errors.SecurityGroupRuleNotFound(id=rule_id)
        return rule

    async def view_rules(self, cmd: ViewCommand) -> list[dict[str, Any] | None]:
        """Handle ViewSecurityGroupRules."""
        return await view_visible(cmd, lambda r: _rule_visible(r, cmd.ctx), _public_rules)

    async def get_rule(self, cmd: GetCommand) -> dict[str, Any]:
        """Handle GetSecurityGroupRule."""
        await self._ensure_visible_default(cmd.ctx)
        return _public_rule(await self._get_rule(cmd.ctx, cmd.id))

    async def list_rules(self, cmd: ListCommand) -> Page:
        """Handle ListSecurityGroupRules."""
        await self._ensure_visible_default(cmd.ctx)
        if cmd.query.marker is not None:
            await self._get_rule(cmd.ctx, cmd.query.marker)
        # The API renderer projects rules onto their attributes, dropping the internal
        # columns: no per-rule copy here (a 1,000-rule list is a hot path).
        return await repo.list_page(
            self._store, SECURITY_GROUP_RULE, cmd.query, self._rule_visible_where(cmd.ctx)
        )

    async def create_rules(self, cmd: CreateSecurityGroupRules) -> list[dict[str, Any]]:
        """Create rules after validation and duplicate checks (also within the request)."""
        out = []
        async with self._store.transaction():
            prepared = []
            for item in cmd.items:
                group = await self.get_visible(cmd.ctx, item["security_group_id"])
                if item.get("remote_group_id") is not None:
                    await self.get_visible(cmd.ctx, item["remote_group_id"])
                if item.get("remote_address_group_id") is not None:
                    # Kept from deletion by another process until this transaction ends.
                    await self._store.lock(
                        address_group_lock(item["remote_address_group_id"]), shared=True
                    )
                    await self._bus.call(
                        GetAddressGroup(ctx=cmd.ctx, id=item["remote_address_group_id"])
                    )
                check_write(cmd.ctx, group, "create_security_group_rule")
                project = item.get("project_id") or group["project_id"]
                if project != group["project_id"] and not cmd.ctx.is_admin:
                    raise foreign_project()
                prepared.append((item, group))
            counts: dict[str, int] = {}
            for _, group in prepared:
                counts[group["project_id"]] = counts.get(group["project_id"], 0) + 1
            for project, count in counts.items():
                await self._bus.call(
                    CheckQuota(project_id=project, resource="security_group_rule", count=count)
                )
            # Duplicates are looked for among the groups' rules: another process's new rules
            # of the same groups wait until this transaction ends.
            for group_id in sorted({group["id"] for _, group in prepared}):
                await self._store.lock(f"security_group_rules:{group_id}")
            touched = set()
            for item, group in prepared:
                rule = defaults(SECURITY_GROUP_RULE, item)
                rules.validate(rule)
                out.append(_public_rule(await self._insert_rule(group, rule)))
                touched.add(group["id"])
            for group_id in touched:
                await self._bump_group(group_id)
        return out

    async def _insert_rule(self, group: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
        db = self._store
        rule = defaults(SECURITY_GROUP_RULE, rule)
        if rule.get("normalized_cidr") is None and rule["remote_ip_prefix"] is not None:
            rule["normalized_cidr"] = str(ipaddress.ip_network(rule["remote_ip_prefix"], False))
        key = rules.normalized(rule)
        existing = await sg_repo.rule_with_key(db, group["id"], key)
        if existing is not None:
            raise errors.SecurityGroupRuleExists(rule_id=existing)
        await check_new_id(db, SECURITY_GROUP_RULE, rule, "Security group rule")
        stamp_new(rule)
        rule.update(
            {
                "security_group_id": group["id"],
                "project_id": group["project_id"],
                "sg_project_id": group["project_id"],
                "normalized": key,
                # Creation order within the group; per group so the index serves it.
                "seq": await sg_repo.next_rule_seq(db, group["id"]),
            }
        )
        await repo.insert(db, SECURITY_GROUP_RULE, rule)
        return rule

    async def update_rule(self, cmd: UpdateCommand) -> dict[str, Any]:
        """Only the description of a rule can change."""
        async with self._store.transaction():
            rule = await self._get_rule(cmd.ctx, cmd.id)
            check_write(cmd.ctx, rule, "update_security_group_rule")
            check_if_match(rule, cmd.if_match)
            diff = changed(rule, cmd.changes)
            if diff:
                await repo.update(self._store, SECURITY_GROUP_RULE, rule["id"], bump(rule, diff))
        return _public_rule(rule)

    async def delete_rule(self, cmd: DeleteCommand) -> None:
        """Delete a rule (bumps its group's revision)."""
        async with self._store.transaction():
            rule = await self._get_rule(cmd.ctx, cmd.id)
            check_write(cmd.ctx, rule, "delete_security_group_rule")
            check_if_match(rule, cmd.if_match)
            await repo.delete(self._store, SECURITY_GROUP_RULE, rule["id"])
            await self._bump_group(rule["security_group_id"])


def _public_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rule.items() if k not in INTERNAL_RULE_COLUMNS}
    # Rules embedded in a group skip the renderer, which is what adds tenant_id elsewhere.
    out["tenant_id"] = out.get("project_id")
    return out


__all__ = ["SecurityGroupManager", "new_id"]


def _rule_visible(rule: dict[str, Any], ctx: RequestContext) -> bool:
    """A rule is readable by its own project and by its group's project."""
    return ctx.view_project is None or ctx.view_project in (
        rule["project_id"],
        rule["sg_project_id"],
    )


async def _public_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_public_rule(r) for r in rules]
