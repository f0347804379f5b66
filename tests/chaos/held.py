"""What a host holds: an agent's state dump (GET /agents/{ip}/state) in the oracle's shapes."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.chaos.oracle import Tables, ip_key, summarize_port


def held_tables(dump: dict[str, Any]) -> Tables:
    """Return the agent's tables as key -> summary, comparable with oracle.expected()."""
    return {
        "vpcs": {
            k: {"rev": v["revision_number"], "tunnel_id": v["tunnel_id"]}
            for k, v in dump["vpcs"].items()
        },
        "subnets": {
            k: {"rev": v["revision_number"], "cidr": v["cidr"]} for k, v in dump["subnets"].items()
        },
        "ports": {k: _port(v) for k, v in dump["ports"].items()},
        "neighbors": {k: _neighbor(v) for k, v in dump["neighbors"].items()},
        "arp": _address_table(dump.get("arp", [])),
        "nd": _address_table(dump.get("nd", [])),
        "dhcp": {
            mac: {
                "port_id": e["id"],
                "rev": e["revision_number"],
                "ipv4": e["ipv4"],
                "ipv6": str(ipaddress.ip_address(e["ipv6"])) if e["ipv6"] else "",
                "subnet_id": e["subnet_id"],
            }
            for mac, e in dump["dhcp"].items()
        },
        "security_groups": {
            k: {"rev": v["revision_number"], "rules": len(v["security_group_rules"])}
            for k, v in dump["security_groups"].items()
        },
        "routers": {
            k: {
                "rev": v["revision_number"],
                "subnets": sorted(t["subnet_id"] for t in v["subnet_routing_tables"]),
            }
            for k, v in dump["routers"].items()
        },
    }


def _port(cfg: dict[str, Any]) -> dict[str, Any]:
    groups = [g["id"] for g in cfg["security_group_ids"]]
    return summarize_port(cfg["revision_number"], cfg["mac_address"], cfg["fixed_ips"], groups)


def _neighbor(cfg: dict[str, Any]) -> dict[str, Any]:
    return {
        "mac": cfg["mac_address"],
        "host_ip": cfg["host_ip_address"],
        "host_mac": cfg["host_mac_address"],
        "fixed_ips": sorted(
            (
                f["neighbor_type"],
                f["subnet_id"],
                str(ipaddress.ip_address(f["ip_address"])),
                f["tunnel_id"],
            )
            for f in cfg["fixed_ips"]
        ),
        "pairs": sorted((a["ip_address"], a["mac_address"]) for a in cfg["allow_address_pairs"]),
    }


def _address_table(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        ip_key(e["ip"], e["tunnel_id"]): {"mac": e["mac"], "port_id": e["port_id"]} for e in entries
    }
