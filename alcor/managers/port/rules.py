"""Port attribute rules that need no store: policy marks, security, pairs, DHCP options."""

from __future__ import annotations

import logging
from typing import Any

from alcor import errors
from alcor.managers.common import RequestContext, deny
from alcor.resources.base import bad

_LOGGER = logging.getLogger(__name__)

SERVICE_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip")
ROUTER_OWNERS = ("network:router_interface", "network:router_gateway")
OVS_DETAILS = {"port_filter": True, "ovs_hybrid_plug": False, "bridge_name": "br-int"}


def check_policy(
    given: dict[str, Any], ctx: RequestContext, *, creating: bool, network: dict[str, Any]
) -> None:
    """Apply northbound §1.4.4 to a port body (create or update)."""
    action = "create_port" if creating else "update_port"
    if ctx.is_admin:
        return
    owner = network["project_id"] == ctx.caller.project_id
    if "trusted" in given and not (creating and given["trusted"] is None):
        raise deny(f"{action}:trusted")  # port-trusted-vif: admins only
    for name in ("binding:host_id", "binding:profile"):
        if (
            name in given
            and not ctx.caller.is_service
            and not (creating and given[name] in ("", {}))
        ):
            raise deny(f"{action}:{name}")
    if "mac_address" in given and (not creating or not owner):
        raise deny(f"{action}:mac_address")
    for name in ("port_security_enabled", "allowed_address_pairs"):
        if name in given and not owner:
            raise deny(f"{action}:{name}")
    if given.get("device_owner", "").startswith("network:") and not owner:
        raise deny(f"{action}:device_owner")
    for item in given.get("fixed_ips") or []:
        if "ip_address" in item and not owner:
            raise deny(f"{action}:fixed_ips:ip_address")
        if "ip_address" not in item and not owner and not network["shared"]:
            raise deny(f"{action}:fixed_ips:subnet_id")


def eligible_subnets(
    subnets: list[dict[str, Any]], network_id: str, device_owner: str
) -> list[dict[str, Any]]:
    """The subnets automatic addresses come from (subnet-service-types), as Neutron: those
    typed for the port's device owner, then those without service types; a DHCP port may use
    any subnet with DHCP enabled. A network whose subnets all serve others refuses (409)."""
    eligible = [
        s
        for s in subnets
        if not s.get("service_types")
        or device_owner in s["service_types"]
        or (device_owner == "network:dhcp" and s.get("enable_dhcp"))
    ]
    if subnets and not eligible:
        raise errors.IpAddressGenerationFailureNoMatchingSubnet(
            network_id=network_id, service_type=device_owner
        )
    return sorted(eligible, key=lambda s: not s.get("service_types"))


def check_device_owner(given: dict[str, Any]) -> None:
    """Router and floating IP owners are set only by routers and floating IPs."""
    if given.get("device_owner") in SERVICE_OWNERS:
        raise bad(
            f"Invalid input for device_owner. Reason: '{given['device_owner']}' is set "
            f"only by the router and floating IP APIs."
        )


def check_pairs(port: dict[str, Any], max_pairs: int) -> None:
    """Fill pair MACs, refuse duplicates and too many pairs, and pairs without security."""
    pairs = port.get("allowed_address_pairs") or []
    if len(pairs) > max_pairs:
        raise errors.AllowedAddressPairExhausted(quota=max_pairs)
    seen = set()
    for pair in pairs:
        pair.setdefault("mac_address", port["mac_address"])
        key = (pair["mac_address"], pair["ip_address"])
        if key in seen:
            raise errors.DuplicateAddressPairInRequest(mac_address=key[0], ip_address=key[1])
        seen.add(key)
    if pairs and not port["port_security_enabled"]:
        raise errors.AddressPairAndPortSecurityRequired()


def check_security(port: dict[str, Any], groups_given: bool) -> None:
    """Security groups need port security; disabling it needs no groups.

    A port without IP addresses may have groups, as in Neutron's ML2 (neutron-tempest-plugin
    puts groups on ports of networks without subnets); the spec refused them with 400.
    """
    groups = port.get("security_groups") or []
    if port["port_security_enabled"]:
        return
    if groups:
        if groups_given:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups()
        raise errors.PortSecurityPortHasSecurityGroup()


def normalize_dhcp_opts(
    opts: list[dict[str, Any]], current: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Default ip_version 4, refuse duplicates, and on update merge (null value deletes)."""
    merged = {(o["opt_name"], o.get("ip_version", 4)): o for o in (current or [])}
    seen = set()
    for opt in opts:
        opt = {
            "opt_name": opt["opt_name"],
            "opt_value": opt.get("opt_value"),
            "ip_version": opt.get("ip_version", 4),
        }
        key = (opt["opt_name"], opt["ip_version"])
        if key in seen:
            raise bad(
                f"Invalid input for extra_dhcp_opts. Reason: Duplicate option "
                f"{opt['opt_name']} for IPv{opt['ip_version']}."
            )
        seen.add(key)
        if opt["opt_value"] is None:
            if current is None:
                raise bad("Invalid input for extra_dhcp_opts. Reason: opt_value is required.")
            merged.pop(key, None)
        else:
            merged[key] = opt
    return list(merged.values())


NO_HOST = "host not registered"


def binding_of(host: str, vnic_type: str, node: dict[str, Any] | None) -> dict[str, Any]:
    """Return the binding attributes for a host (northbound §5.4)."""
    if not host:
        return {"binding:vif_type": "unbound", "binding:vif_details": {}}
    if node is None:
        _LOGGER.warning("port bound to host %r, which is not a registered node", host)
        return {"binding:vif_type": "binding_failed", "binding:vif_details": {"reason": NO_HOST}}
    if vnic_type != "normal":
        reason = f"vnic_type {vnic_type} is not supported"
        return {"binding:vif_type": "binding_failed", "binding:vif_details": {"reason": reason}}
    return {"binding:vif_type": "ovs", "binding:vif_details": dict(OVS_DETAILS)}


def initial_status(device_owner: str) -> str:
    """Return the status a new port starts with."""
    if device_owner in ROUTER_OWNERS:
        return "ACTIVE"
    if device_owner == "network:floatingip":
        return "N/A"
    return "DOWN"


def profile_with_trusted(profile: dict[str, Any], trusted: bool | None) -> dict[str, Any]:
    """The binding profile showing the port's `trusted` flag (port-trusted-vif), as Neutron
    mirrors it there for the compute service; an unset flag leaves no key."""
    out = {k: v for k, v in (profile or {}).items() if k != "trusted"}
    if trusted is not None:
        out["trusted"] = trusted
    return out
