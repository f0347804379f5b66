"""Metering manager: owns metering labels and their rules (writes are admin-only)."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.common import RequestContext
from alcor.managers.generic import AdminWrites
from alcor.managers.metering.messages import (
    CreateMeteringLabelRules,
    CreateMeteringLabels,
    DeleteMeteringLabel,
    DeleteMeteringLabelRule,
    GetMeteringLabel,
    GetMeteringLabelRule,
    ListMeteringLabelRules,
    ListMeteringLabels,
    MeteringChanged,
    UpdateMeteringLabel,
    UpdateMeteringLabelRule,
)
from alcor.resources import repo
from alcor.resources.metering import (
    METERING_LABEL,
    METERING_LABEL_RULE,
    MeteringLabelRuleOverlaps,
)
from alcor.resources.repo import Where
from alcor.store import Store


class MeteringLabelRules(AdminWrites):
    """The rules of metering labels."""

    resource = METERING_LABEL_RULE
    label = "Metering label rule"

    def __init__(self, bus: Bus, store: Store, labels: MeteringManager) -> None:
        super().__init__(bus, store)
        self._labels = labels

    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        # The overlap check reads the label's rules: another process's rule for the same
        # label, or its delete of the label, waits until this transaction ends.
        await self._labels.lock(obj["metering_label_id"])
        label = await self._labels.get_visible(ctx, obj["metering_label_id"])
        obj["project_id"] = label["project_id"]
        if obj["remote_ip_prefix"] is None and not (
            obj["source_ip_prefix"] or obj["destination_ip_prefix"]
        ):
            raise errors.BadRequest(
                resource="metering_label_rule",
                msg="You must define at least one of the following parameters: remote_ip_prefix, "
                "source_ip_prefix, destination_ip_prefix",
            )
        if obj["remote_ip_prefix"] is not None:
            await self._check_overlap(obj)

    async def _check_overlap(self, obj: dict[str, Any]) -> None:
        mine = ipaddress.ip_network(obj["remote_ip_prefix"])
        for other in await self.of_label(obj["metering_label_id"]):
            prefix = other["remote_ip_prefix"]
            if (
                prefix is not None
                and other["direction"] == obj["direction"]
                and ipaddress.ip_network(prefix).overlaps(mine)
            ):
                raise MeteringLabelRuleOverlaps(remote_ip_prefix=obj["remote_ip_prefix"])

    async def of_label(self, label_id: str) -> list[dict[str, Any]]:
        """Return a label's rules."""
        return await repo.find(
            self._store, self.resource, Where("t.metering_label_id = ?", (label_id,))
        )

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._labels.announce(obj["metering_label_id"])

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._labels.announce(obj["metering_label_id"])


class MeteringManager(AdminWrites):
    """Create, read and delete metering labels; their rules through MeteringLabelRules."""

    resource = METERING_LABEL
    name = "metering"
    label = "Metering label"
    requires = ("store", "bus")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        self.rules = MeteringLabelRules(bus, store, self)

    async def start(self) -> None:
        """Register the metering commands."""
        self._bus.handle(CreateMeteringLabels, self.create)
        self._bus.handle(GetMeteringLabel, self.get)
        self._bus.handle(ListMeteringLabels, self.list_visible)
        self._bus.handle(UpdateMeteringLabel, self.update)
        self._bus.handle(DeleteMeteringLabel, self.delete)
        self._bus.handle(CreateMeteringLabelRules, self.rules.create)
        self._bus.handle(GetMeteringLabelRule, self.rules.get)
        self._bus.handle(ListMeteringLabelRules, self.rules.list_visible)
        self._bus.handle(UpdateMeteringLabelRule, self.rules.update)
        self._bus.handle(DeleteMeteringLabelRule, self.rules.delete)

    def visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        return [Where("t.project_id = ? OR t.shared = 1", (ctx.view_project,))]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return ctx.view_project in (None, obj["project_id"]) or bool(obj["shared"])

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self.announce(obj["id"])

    async def lock(self, label_id: str) -> None:
        """Keep the label's rules from changing in other processes until the transaction
        ends (rules are checked against each other; free with one writer)."""
        await self._store.lock(f"metering_label:{label_id}")

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self.lock(obj["id"])  # no rule is added meanwhile (it would outlive the label)
        for rule in await self.rules.of_label(obj["id"]):
            await self.rules.remove(rule)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        self._bus.publish(MeteringChanged(label={**obj, "rules": []}, deleted=True))

    async def announce(self, label_id: str) -> None:
        """Publish a label with its rules (after the commit)."""
        label = await self.lookup(label_id)
        if label is not None:
            self._bus.publish(
                MeteringChanged(label={**label, "rules": await self.rules.of_label(label_id)})
            )
