"""Network ACL manager (the original's network_acl_manager): stateless subnet allow/deny lists.

An ACL belongs to one network (`vpc_id`) and guards some of its subnets; a subnet belongs
to at most one ACL. Rules are numbered per ACL; the four default deny rules (32767) are
read-only. v1 stores and serves ACLs; agents may enforce them later (northbound §13).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.acl import repo as acl_repo
from alcor.managers.acl import rules
from alcor.managers.acl.messages import (
    CreateNetworkAclRules,
    CreateNetworkAcls,
    DeleteNetworkAcl,
    DeleteNetworkAclRule,
    DeleteNetworkAcls,
    DetachSubnetFromAcls,
    GetNetworkAcl,
    GetNetworkAclRule,
    ListNetworkAclRules,
    ListNetworkAcls,
    NetworkAclChanged,
    NetworkAclDeleted,
    UpdateNetworkAcl,
    UpdateNetworkAclRule,
    UpdateNetworkAclRules,
    UpdateNetworkAcls,
    ViewNetworkAclRules,
    ViewNetworkAcls,
)
from alcor.managers.base import ResourceManager, view_visible
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_if_match,
    check_new_id,
    check_write,
    deny,
    new_record,
    project_where,
    stamp_new,
)
from alcor.managers.crud import (
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
    ViewCommand,
)
from alcor.managers.network.messages import GetNetwork
from alcor.managers.subnet.messages import LookupSubnets
from alcor.resources import repo
from alcor.resources.base import defaults
from alcor.resources.network_acl import DEFAULT_RULE_NUMBER, NETWORK_ACL, NETWORK_ACL_RULE
from alcor.resources.repo import Page
from alcor.store import Store
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
RULE_ORDER = "t.number, t.direction DESC, t.ether_type, t.id"


class NetworkAclManager(ResourceManager):
    """Create, read, update and delete network ACLs and their rules."""

    resource = NETWORK_ACL
    name = "acl"
    requires = ("store", "bus", "network", "subnet")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)

    async def start(self) -> None:
        """Register the ACL and ACL rule commands."""
        self._bus.handle(CreateNetworkAcls, self.create)
        self._bus.handle(GetNetworkAcl, self.get)
        self._bus.handle(ViewNetworkAcls, self.view)
        self._bus.handle(ListNetworkAcls, self.list_visible)
        self._bus.handle(UpdateNetworkAcl, self.update)
        self._bus.handle(UpdateNetworkAcls, self.update_many)
        self._bus.handle(DeleteNetworkAcl, self.delete)
        self._bus.handle(CreateNetworkAclRules, self.create_rules)
        self._bus.handle(GetNetworkAclRule, self.get_rule)
        self._bus.handle(ViewNetworkAclRules, self.view_rules)
        self._bus.handle(ListNetworkAclRules, self.list_rules)
        self._bus.handle(UpdateNetworkAclRule, self.update_rule)
        self._bus.handle(UpdateNetworkAclRules, self.update_rules)
        self._bus.handle(DeleteNetworkAclRule, self.delete_rule)
        self._bus.handle(DetachSubnetFromAcls, self._detach_subnet)
        self._bus.handle(DeleteNetworkAcls, self._delete_of_network)

    async def decorate(self, objs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Attach each ACL's rules, ordered by number, in one query."""
        by_acl = await repo.find_grouped(
            self._store,
            NETWORK_ACL_RULE,
            "network_acl_id",
            [o["id"] for o in objs],
            order=RULE_ORDER,
        )
        for obj in objs:
            rules = by_acl[obj["id"]]
            obj["network_acl_rules"] = [{**r, "tenant_id": r["project_id"]} for r in rules]
        return list(objs)

    # ---- ACLs --------------------------------------------------------------------------
    async def create(self, cmd: CreateNetworkAcls) -> list[dict[str, Any]]:
        """Create ACLs with their default rules, all or nothing."""
        out = []
        async with self._store.transaction():
            for item in cmd.items:
                project = check_create_project(cmd.ctx, item, "create_network_acl")
                network = await self._bus.call(GetNetwork(ctx=cmd.ctx, id=item["vpc_id"]))
                if network["project_id"] != project:  # the VPC must be the ACL project's own
                    raise errors.NetworkNotFound(id=item["vpc_id"])
            for item in cmd.items:
                out.append(await self._create_one(item))
        return await self.decorate(out)

    async def _create_one(self, given: dict[str, Any]) -> dict[str, Any]:
        db = self._store
        acl = await new_record(db, NETWORK_ACL, given, "Network ACL")
        acl.pop("network_acl_rules", None)
        await self._check_subnets(acl, acl["associated_subnets"])
        await repo.insert(db, NETWORK_ACL, acl)
        for rule in rules.default_rules():
            await self._insert_rule(acl, rule)
        self._bus.publish(NetworkAclChanged(network_acl=dict(acl)))
        return acl

    async def _check_subnets(self, acl: dict[str, Any], subnet_ids: list[str]) -> None:
        """Subnets must be of the ACL's network and not guarded by another ACL."""
        found = await self._bus.call(LookupSubnets(ids=subnet_ids))
        for subnet_id in subnet_ids:
            subnet = found.get(subnet_id)
            if subnet is None or subnet["network_id"] != acl["vpc_id"]:
                raise rules.invalid(
                    f"subnet {subnet_id} is not a subnet of network {acl['vpc_id']}"
                )
            # One ACL per subnet, also when two processes associate it at once.
            await self._store.lock(f"network_acl_subnet:{subnet_id}")
            other = await acl_repo.acl_guarding(self._store, subnet_id, acl["id"])
            if other is not None:
                raise errors.NetworkAclInUse(
                    id=other, reason=f"subnet {subnet_id} is associated with it"
                )

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        """Update name, description or associated subnets (partial)."""
        async with self._store.transaction():
            acl = await self._update_one(cmd.ctx, cmd.id, cmd.changes, cmd.if_match)
        return (await self.decorate([acl]))[0]

    async def update_many(self, cmd: UpdateNetworkAcls) -> list[dict[str, Any]]:
        """Bulk PUT: every item as a single update in one transaction."""
        async with self._store.transaction():
            out = [
                await self._update_one(
                    cmd.ctx, item["id"], {k: v for k, v in item.items() if k != "id"}, None
                )
                for item in cmd.items
            ]
        return await self.decorate(out)

    async def _update_one(
        self, ctx: RequestContext, acl_id: str, changes: dict[str, Any], if_match: int | None
    ) -> dict[str, Any]:
        acl = await self.get_visible(ctx, acl_id)
        check_write(ctx, acl, "update_network_acl")
        check_if_match(acl, if_match)
        diff = changed(acl, changes)
        if "associated_subnets" in diff:
            await self._check_subnets(acl, diff["associated_subnets"])
        if diff:
            await repo.update(self._store, NETWORK_ACL, acl["id"], bump(acl, diff))
            self._bus.publish(NetworkAclChanged(network_acl=dict(acl)))
        return acl

    async def delete(self, cmd: DeleteCommand) -> None:
        """Delete an ACL that guards no subnet, with its rules."""
        async with self._store.transaction():
            acl = await self.writable(cmd.ctx, cmd.id, "delete_network_acl", cmd.if_match)
            if acl["associated_subnets"]:
                raise errors.NetworkAclInUse(id=acl["id"], reason="it still has associated subnets")
            await self._remove(acl)

    async def _remove(self, acl: dict[str, Any]) -> None:
        db = self._store
        await acl_repo.delete_rules_of(db, acl["id"])
        await repo.delete(db, NETWORK_ACL, acl["id"])
        await tombstone(db, "network_acl", acl)
        self._bus.publish(NetworkAclDeleted(network_acl=acl))

    async def _bump_acl(self, acl: dict[str, Any]) -> None:
        await repo.update(self._store, NETWORK_ACL, acl["id"], bump(acl, {}))
        self._bus.publish(NetworkAclChanged(network_acl=dict(acl)))

    # ---- internal commands -------------------------------------------------------------
    async def _detach_subnet(self, cmd: DetachSubnetFromAcls) -> None:
        for acl in await repo.find(
            self._store, NETWORK_ACL, acl_repo.associated_with(cmd.subnet_id)
        ):
            remaining = [s for s in acl["associated_subnets"] if s != cmd.subnet_id]
            await repo.update(
                self._store, NETWORK_ACL, acl["id"], bump(acl, {"associated_subnets": remaining})
            )
            self._bus.publish(NetworkAclChanged(network_acl=dict(acl)))

    async def _delete_of_network(self, cmd: DeleteNetworkAcls) -> None:
        for acl in await repo.find(self._store, NETWORK_ACL, repo.equals("vpc_id", cmd.network_id)):
            await self._remove(acl)

    # ---- rules -------------------------------------------------------------------------
    async def _get_rule(self, ctx: RequestContext, rule_id: str) -> dict[str, Any]:
        rule = await repo.get(self._store, NETWORK_ACL_RULE, rule_id)
        if rule is None or not await self.is_visible(rule, ctx):
            raise errors.NetworkAclRuleNotFound(id=rule_id)
        return rule

    async def view_rules(self, cmd: ViewCommand) -> list[dict[str, Any] | None]:
        """Handle ViewNetworkAclRules: rules are readable by their own project."""
        return await view_visible(cmd, lambda r: self.is_visible(r, cmd.ctx), _as_is)

    async def get_rule(self, cmd: GetCommand) -> dict[str, Any]:
        """Handle GetNetworkAclRule."""
        return await self._get_rule(cmd.ctx, cmd.id)

    async def list_rules(self, cmd: ListCommand) -> Page:
        """Handle ListNetworkAclRules."""
        if cmd.query.marker is not None:
            await self._get_rule(cmd.ctx, cmd.query.marker)
        where = project_where(cmd.ctx)
        return await repo.list_page(
            self._store, NETWORK_ACL_RULE, cmd.query, [where] if where is not None else []
        )

    async def create_rules(self, cmd: CreateNetworkAclRules) -> list[dict[str, Any]]:
        """Create rules after validation and per-ACL number checks, all or nothing."""
        out = []
        async with self._store.transaction():
            prepared = []
            for item in cmd.items:
                acl = await self.get_visible(cmd.ctx, item["network_acl_id"])
                check_write(cmd.ctx, acl, "create_network_acl_rule")
                if (
                    item.get("project_id", acl["project_id"]) != acl["project_id"]
                    and not cmd.ctx.is_admin
                ):
                    raise deny("create_network_acl_rule:project_id")
                prepared.append((item, acl))
            touched: dict[str, dict[str, Any]] = {}
            for item, acl in prepared:
                await check_new_id(self._store, NETWORK_ACL_RULE, item, "Network ACL rule")
                rule = defaults(NETWORK_ACL_RULE, item)
                rules.complete(rule)
                out.append(await self._insert_rule(acl, rule))
                touched[acl["id"]] = acl
            for acl in touched.values():
                await self._bump_acl(acl)
        return out

    async def _insert_rule(self, acl: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
        if not rules.is_default(rule):
            await self._check_number_free(acl["id"], rule["number"], None)
        rule = stamp_new(
            {
                **defaults(NETWORK_ACL_RULE, rule),
                "network_acl_id": acl["id"],
                "project_id": acl["project_id"],
            }
        )
        await repo.insert(self._store, NETWORK_ACL_RULE, rule)
        return rule

    async def _check_number_free(self, acl_id: str, number: int, rule_id: str | None) -> None:
        await self._lock_numbers(acl_id)
        if await acl_repo.rule_with_number(self._store, acl_id, number, rule_id) is not None:
            raise errors.NetworkAclRuleExists(number=number, acl_id=acl_id)

    async def _lock_numbers(self, acl_id: str) -> None:
        """Keep other processes' rule numbers of the ACL from changing until this
        transaction ends (numbers are unique per ACL; free with one writer)."""
        await self._store.lock(f"network_acl:{acl_id}")

    async def update_rule(self, cmd: UpdateCommand) -> dict[str, Any]:
        """Update one rule (the default rules are read-only)."""
        async with self._store.transaction():
            return await self._update_rule_one(cmd.ctx, cmd.id, cmd.changes, cmd.if_match)

    async def update_rules(self, cmd: UpdateNetworkAclRules) -> list[dict[str, Any]]:
        """Bulk PUT of rules: every item as a single update in one transaction.

        Numbers must be unique once every item is applied, so one request may swap them.
        """
        async with self._store.transaction():
            out = [
                await self._update_rule_one(
                    cmd.ctx,
                    item["id"],
                    {k: v for k, v in item.items() if k != "id"},
                    None,
                    check_number=False,
                )
                for item in cmd.items
            ]
            acl_ids = sorted({r["network_acl_id"] for r in out})
            for acl_id in acl_ids:
                await self._lock_numbers(acl_id)
            clash = await acl_repo.duplicate_number(self._store, acl_ids, DEFAULT_RULE_NUMBER)
            if clash is not None:
                raise errors.NetworkAclRuleExists(number=clash[1], acl_id=clash[0])
        return out

    async def _update_rule_one(
        self,
        ctx: RequestContext,
        rule_id: str,
        changes: dict[str, Any],
        if_match: int | None,
        check_number: bool = True,
    ) -> dict[str, Any]:
        rule = await self._get_rule(ctx, rule_id)
        check_write(ctx, rule, "update_network_acl_rule")
        check_if_match(rule, if_match)
        if rules.is_default(rule):
            raise errors.NetworkAclInUse(
                id=rule["network_acl_id"], reason="its default rules are read-only"
            )
        merged = {**rule, **changes}
        rules.complete(merged, previous=None if "ip_prefix" in changes else rule)
        diff = changed(rule, {k: v for k, v in merged.items() if k in NETWORK_ACL_RULE.by_name})
        if "number" in diff and check_number:
            await self._check_number_free(rule["network_acl_id"], diff["number"], rule["id"])
        if diff:
            await repo.update(self._store, NETWORK_ACL_RULE, rule["id"], bump(rule, diff))
            acl = await repo.get(self._store, NETWORK_ACL, rule["network_acl_id"])
            if acl is not None:
                await self._bump_acl(acl)
        return rule

    async def delete_rule(self, cmd: DeleteCommand) -> None:
        """Delete one rule (the default rules are read-only)."""
        async with self._store.transaction():
            rule = await self._get_rule(cmd.ctx, cmd.id)
            check_write(cmd.ctx, rule, "delete_network_acl_rule")
            check_if_match(rule, cmd.if_match)
            if rules.is_default(rule):
                raise errors.NetworkAclInUse(
                    id=rule["network_acl_id"], reason="its default rules are read-only"
                )
            await repo.delete(self._store, NETWORK_ACL_RULE, rule["id"])
            await tombstone(self._store, "network_acl_rule", rule)
            acl = await repo.get(self._store, NETWORK_ACL, rule["network_acl_id"])
            if acl is not None:
                await self._bump_acl(acl)


async def _as_is(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return rules
