"""A port's resource_request (port-resource-request, port-resource-request-groups): what a
scheduler must reserve for the port's minimum QoS rules, in Placement's vocabulary.

One request group for the minimum bandwidth rules (traits: the network's physnet, or the
tunnel trait, and the VNIC type) and one for the minimum packet rate rules (trait: the VNIC
type); each group id is a UUID5 of the port id and the rule ids, stable across reads.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

TUNNEL_TRAIT = "CUSTOM_NETWORK_TUNNEL_PROVIDER"
_BANDWIDTH_CLASSES = {
    "ingress": "NET_BW_IGR_KILOBIT_PER_SEC",
    "egress": "NET_BW_EGR_KILOBIT_PER_SEC",
}
_PACKET_RATE_CLASSES = {
    "ingress": "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
    "egress": "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "any": "NET_PACKET_RATE_KILOPACKET_PER_SEC",
}


def custom_trait(name: str) -> str:
    """Return Placement's custom trait name for `name` (upper case, [A-Z0-9_], CUSTOM_)."""
    return "CUSTOM_" + re.sub(r"[^A-Z0-9_]", "_", name.upper())


def _group(
    port_id: str,
    rules: list[dict[str, Any]],
    classes: dict[str, str],
    amount: str,
    traits: list[str],
) -> dict[str, Any] | None:
    if not rules:
        return None
    name = ":".join(r["id"] for r in rules)
    return {
        "id": str(uuid.uuid5(uuid.UUID(port_id), name)),
        "required": traits,
        "resources": {classes[r["direction"]]: r[amount] for r in rules},
    }


def resource_request(
    port: dict[str, Any], physnet: str | None, rules: dict[str, list[dict[str, Any]]]
) -> dict[str, Any] | None:
    """Return the port's resource_request for its policy's minimum `rules` (by type), or
    None when the policy reserves nothing."""
    vnic = custom_trait("VNIC_TYPE_" + port["binding:vnic_type"])
    net = custom_trait("PHYSNET_" + physnet) if physnet else TUNNEL_TRAIT
    groups = [
        g
        for g in (
            _group(
                port["id"],
                rules.get("minimum_bandwidth", []),
                _BANDWIDTH_CLASSES,
                "min_kbps",
                [net, vnic],
            ),
            _group(
                port["id"],
                rules.get("minimum_packet_rate", []),
                _PACKET_RATE_CLASSES,
                "min_kpps",
                [vnic],
            ),
        )
        if g is not None
    ]
    if not groups:
        return None
    return {"request_groups": groups, "same_subtree": [g["id"] for g in groups]}
