"""Metering labels and rules (metering, metering_source_and_destination_filters)."""

from __future__ import annotations

LABELS = "/v2.0/metering/metering-labels"
RULES = "/v2.0/metering/metering-label-rules"


async def test_labels_and_rules(api):
    """Admins create labels and rules; rules of one label and direction do not overlap
    (409); deleting a label deletes its rules; a non-UUID id filter matches nothing."""
    label = (
        await api.ok("POST", LABELS, {"metering_label": {"name": "l", "description": "d"}}, 201)
    )["metering_label"]
    assert (label["shared"], label["name"]) == (False, "l")
    body = {
        "metering_label_id": label["id"],
        "direction": "ingress",
        "remote_ip_prefix": "10.0.0.0/24",
    }
    rule = (await api.ok("POST", RULES, {"metering_label_rule": body}, 201))["metering_label_rule"]
    assert rule["excluded"] is False and rule["metering_label_id"] == label["id"]
    overlap = {**body, "remote_ip_prefix": "10.0.0.128/25"}
    await api.fails(
        "POST",
        RULES,
        {"metering_label_rule": overlap},
        status=409,
        error="MeteringLabelRuleOverlaps",
    )
    await api.ok("POST", RULES, {"metering_label_rule": {**overlap, "direction": "egress"}}, 201)
    await api.fails(
        "POST",
        RULES,
        {"metering_label_rule": {"metering_label_id": label["id"], "direction": "egress"}},
        status=400,
        error="BadRequest",
    )
    assert (await api.get(f"{LABELS}?id=33"))["metering_labels"] == []
    await api.ok("DELETE", f"{LABELS}/{label['id']}", status=204)
    assert (await api.get(RULES))["metering_label_rules"] == []


async def test_members_may_not_write_labels(api):
    """A member's label create is 403; a too long name is 400."""
    member = api.as_("p1")
    await member.fails(
        "POST", LABELS, {"metering_label": {"name": "x"}}, status=403, error="PolicyNotAuthorized"
    )
    reply = await api.call("POST", LABELS, {"metering_label": {"name": "x" * 256}})
    assert reply.status == 400
