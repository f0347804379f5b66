"""What every host must hold, computed from REST answers alone (southbound spec §3.1-3.2).

Written independently of alcor's southbound code: it reads only what an operator can GET
(networks, subnets, ports, routers and their interface ports, security groups, nodes) and
derives, per host H:

* PORT: P(H), the admin-up ports bound to H;
* NEIGHBOR: every bound port (any admin state, any host) with a fixed IP in a subnet H
  reaches, SV(H) = the subnets of P(H) plus the subnets of the routers on those subnets;
  its IPv4 fixed IPs (and allowed-address-pair IPs) as ARP entries keyed (ip, tunnel id),
  its IPv6 ones as neighbor-discovery entries;
* SECURITYGROUP: the groups of P(H) plus their rules' remote groups;
* ROUTER: routers with an interface on a subnet of P(H), with their gateway ARP (IPv4) and
  neighbor-discovery (IPv6) entries;
* DHCP: ports of P(H) with a fixed IP in a DHCP-enabled subnet, keyed by MAC;
* SUBNET and VPC contexts.

An `auto` host subscribed to a VPC topic (its `vpc_subscriptions` in GET /nodes/{id}) takes
every neighbor of that VPC from the topic (§2.5): they are required once SUBSCRIBED, may be
held while SUBSCRIBING, and are tracked by the topic's offsets, not the host's ledger.

Each table maps a key to a small comparable summary (revisions where REST shows them).
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.rest import Rest

ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed")
# Neutron protocol -> how many agent rules it becomes ("any" is expanded into TCP, UDP and
# ICMP; other protocols cannot be encoded and are skipped).
RULE_EXPANSION = {None: 3, "tcp": 1, "udp": 1, "icmp": 1, "6": 1, "17": 1, "1": 1}

Tables = dict[str, dict[str, Any]]  # table -> key -> summary
TABLES = (
    "vpcs",
    "subnets",
    "ports",
    "neighbors",
    "arp",
    "nd",
    "dhcp",
    "security_groups",
    "routers",
)


@dataclass(frozen=True)
class Snapshot:
    """Everything the oracle reads, as REST answered it."""

    nodes: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    subnets: list[dict[str, Any]]
    ports: list[dict[str, Any]]
    routers: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    topics: dict[str, dict[str, str]] = field(default_factory=dict)  # node -> VPC -> state


@dataclass
class Expectation:
    """What one host must hold, may hold, and may hold without its ledger listing it."""

    tables: Tables
    optional: Tables
    unledgered: set[tuple[str, str]]  # (kind, ledger key): delivered by a VPC topic


async def snapshot(rest: Rest) -> Snapshot:
    """Read the REST state the oracle needs."""
    nodes, networks, subnets, ports, routers, groups = await asyncio.gather(
        rest.get("/nodes"),
        rest.get("/v2.0/networks"),
        rest.get("/v2.0/subnets"),
        rest.get("/v2.0/ports"),
        rest.get("/v2.0/routers"),
        rest.get("/v2.0/security-groups"),
    )
    topics = {}
    for node in nodes["host_infos"]:
        if node["transport"] == "auto":
            body = await rest.get(f"/nodes/{node['node_id']}")
            subs = body["host_info"]["southbound"]["vpc_subscriptions"]
            topics[node["node_id"]] = {s["vpc_id"]: s["state"] for s in subs}
    return Snapshot(
        nodes["host_infos"],
        networks["networks"],
        subnets["subnets"],
        ports["ports"],
        routers["routers"],
        groups["security_groups"],
        topics,
    )


def is_v4(ip: str) -> bool:
    """Tell whether `ip` is an IPv4 address."""
    return ipaddress.ip_address(ip).version == 4


def ip_key(ip: str, tunnel_id: int) -> str:
    """Return the ARP / neighbor-discovery key of (ip, tunnel id)."""
    return f"{ipaddress.ip_address(ip)}@{tunnel_id}"


class World:
    """The REST snapshot, indexed for the §3.1 definitions."""

    def __init__(self, snap: Snapshot) -> None:
        self.nodes = {n["node_name"]: n for n in snap.nodes}
        self.networks = {n["id"]: n for n in snap.networks}
        self.subnets = {s["id"]: s for s in snap.subnets}
        self.groups = {g["id"]: g for g in snap.groups}
        self.routers = {r["id"]: r for r in snap.routers}
        self.router_subnets: dict[str, set[str]] = {r: set() for r in self.routers}
        self.subnet_routers: dict[str, set[str]] = {}
        self.interface_mac: dict[tuple[str, str], str] = {}  # (router, subnet) -> MAC
        for port in snap.ports:
            if (
                port["device_owner"] in ROUTER_INTERFACE_OWNERS
                and port["device_id"] in self.routers
            ):
                for fip in port["fixed_ips"]:
                    self.router_subnets[port["device_id"]].add(fip["subnet_id"])
                    self.subnet_routers.setdefault(fip["subnet_id"], set()).add(port["device_id"])
                    self.interface_mac[(port["device_id"], fip["subnet_id"])] = port["mac_address"]
        self.bound = [p for p in snap.ports if p.get("binding:host_id") in self.nodes]

    def tunnel(self, subnet_id: str) -> int:
        """Return the segmentation id of a subnet's network."""
        network = self.networks[self.subnets[subnet_id]["network_id"]]
        return int(network["provider:segmentation_id"])

    def port_subnets(self, port: dict[str, Any]) -> set[str]:
        """Return the (existing) subnets of a port's fixed IPs."""
        return {f["subnet_id"] for f in port["fixed_ips"] if f["subnet_id"] in self.subnets}

    def host_expectation(self, node: dict[str, Any], topics: dict[str, str]) -> Expectation:
        """Return what host `node` must (and may) hold; `topics` are its VPC subscriptions."""
        own = [
            p
            for p in self.bound
            if p["binding:host_id"] == node["node_name"] and p["admin_state_up"]
        ]
        own_subnets = set().union(*(self.port_subnets(p) for p in own))
        routers = set().union(*(self.subnet_routers.get(s, set()) for s in own_subnets))
        reachable = own_subnets.union(*(self.router_subnets[r] for r in routers))
        subscribed = {v for v, state in topics.items() if state == "SUBSCRIBED"}
        peers = [
            q
            for q in self.bound
            if self.port_subnets(q) & reachable or q["network_id"] in subscribed
        ]
        tables = self.tables(own, peers, reachable)
        tables["routers"] = {r: self.router(r) for r in routers}
        for r in routers:
            self.add_gateway_entries(r, tables)
        for p in own:
            self.add_dhcp_entry(p, tables["dhcp"])
        on_topics = [q for q in self.bound if q["network_id"] in topics]
        optional = self.tables([], on_topics, set())
        optional["subnets"].update(
            (s, self.subnet(s)) for s in self.subnets if self.subnets[s]["network_id"] in topics
        )
        unledgered = {("NEIGHBOR", f"{q['id']}_n") for q in on_topics}
        unledgered |= {("SUBNET", s) for s in optional["subnets"]}
        unledgered |= {("VPC", v) for v in optional["vpcs"]}
        return Expectation(tables, optional, unledgered)

    def tables(
        self, own: list[dict[str, Any]], peers: list[dict[str, Any]], reachable: set[str]
    ) -> Tables:
        """Return the tables of own ports and neighbors (routers and DHCP left empty)."""
        context_subnets = reachable.union(*(self.port_subnets(q) for q in peers))
        vpcs = {p["network_id"] for p in own} | {
            self.subnets[s]["network_id"] for s in context_subnets
        }
        tables: Tables = {
            "vpcs": {v: self.vpc(v) for v in vpcs},
            "subnets": {s: self.subnet(s) for s in context_subnets},
            "ports": {p["id"]: port_summary(p) for p in own},
            "neighbors": {q["id"]: self.neighbor(q) for q in peers},
            "arp": {},
            "nd": {},
            "dhcp": {},
            "security_groups": {g: self.group(g) for g in self.host_groups(own)},
            "routers": {},
        }
        for q in peers:
            self.add_address_entries(q, tables)
        return tables

    def vpc(self, network_id: str) -> dict[str, Any]:
        """Return the VPC context summary of a network."""
        network = self.networks[network_id]
        return {"rev": network["revision_number"], "tunnel_id": network["provider:segmentation_id"]}

    def subnet(self, subnet_id: str) -> dict[str, Any]:
        """Return the SUBNET context summary."""
        subnet = self.subnets[subnet_id]
        return {"rev": subnet["revision_number"], "cidr": subnet["cidr"]}

    def neighbor(self, port: dict[str, Any]) -> dict[str, Any]:
        """Return the NEIGHBOR summary of a bound port (the same on every host)."""
        node = self.nodes[port["binding:host_id"]]
        fixed = sorted(
            (
                "L3" if self.subnet_routers.get(f["subnet_id"]) else "L2",
                f["subnet_id"],
                str(ipaddress.ip_address(f["ip_address"])),
                self.tunnel(f["subnet_id"]),
            )
            for f in port["fixed_ips"]
            if f["subnet_id"] in self.subnets
        )
        return {
            "mac": port["mac_address"],
            "host_ip": node.get("data-path-ip") or node["local_ip"],
            "host_mac": node["mac_address"],
            "fixed_ips": fixed,
            "pairs": sorted(
                (a["ip_address"], a.get("mac_address") or port["mac_address"])
                for a in port.get("allowed_address_pairs", [])
            ),
        }

    def add_address_entries(self, port: dict[str, Any], tables: Tables) -> None:
        """Add a neighbor's ARP (IPv4) and neighbor-discovery (IPv6) entries."""
        tunnel = int(self.networks[port["network_id"]]["provider:segmentation_id"])
        entry = {"mac": port["mac_address"], "port_id": port["id"]}
        for f in port["fixed_ips"]:
            if f["subnet_id"] in self.subnets:
                table = "arp" if is_v4(f["ip_address"]) else "nd"
                tables[table][ip_key(f["ip_address"], self.tunnel(f["subnet_id"]))] = entry
        for pair in port.get("allowed_address_pairs", []):
            ip = pair["ip_address"]
            if "/" in ip:  # a CIDR pair names no single address
                continue
            table = "arp" if is_v4(ip) else "nd"
            mac = pair.get("mac_address") or port["mac_address"]
            tables[table][ip_key(ip, tunnel)] = {"mac": mac, "port_id": port["id"]}

    def add_gateway_entries(self, router_id: str, tables: Tables) -> None:
        """Add the gateway entries a router programs for its subnets (ARP or ND)."""
        for s in self.router_subnets[router_id]:
            gateway = self.subnets[s].get("gateway_ip")
            if gateway:
                table = "arp" if is_v4(gateway) else "nd"
                mac = self.interface_mac[(router_id, s)]
                tables[table][ip_key(gateway, self.tunnel(s))] = {"mac": mac, "port_id": ""}

    def add_dhcp_entry(self, port: dict[str, Any], dhcp: dict[str, Any]) -> None:
        """Add the DHCP entry of an own port with a fixed IP in a DHCP-enabled subnet."""
        fixed = [f for f in port["fixed_ips"] if f["subnet_id"] in self.subnets]
        if not any(self.subnets[f["subnet_id"]]["enable_dhcp"] for f in fixed):
            return
        v4 = [f for f in fixed if is_v4(f["ip_address"])]
        v6 = [f["ip_address"] for f in fixed if not is_v4(f["ip_address"])]
        dhcp[port["mac_address"]] = {
            "port_id": port["id"],
            "rev": port["revision_number"],
            "ipv4": v4[0]["ip_address"] if v4 else "",
            "ipv6": str(ipaddress.ip_address(v6[0])) if v6 else "",
            "subnet_id": v4[0]["subnet_id"] if v4 else fixed[0]["subnet_id"],
        }

    def host_groups(self, own: list[dict[str, Any]]) -> set[str]:
        """Return G(H): the groups of the host's ports plus their rules' remote groups."""
        groups = {g for p in own for g in p.get("security_groups", []) if g in self.groups}
        remote = {
            r["remote_group_id"]
            for g in groups
            for r in self.groups[g]["security_group_rules"]
            if r.get("remote_group_id") in self.groups
        }
        return groups | remote

    def group(self, group_id: str) -> dict[str, Any]:
        """Return the SECURITYGROUP summary: revision and how many rules reach the agent."""
        group = self.groups[group_id]
        rules = sum(RULE_EXPANSION.get(r.get("protocol"), 0) for r in group["security_group_rules"])
        return {"rev": group["revision_number"], "rules": rules}

    def router(self, router_id: str) -> dict[str, Any]:
        """Return the ROUTER summary: revision and the subnets of its routing tables."""
        return {
            "rev": self.routers[router_id]["revision_number"],
            "subnets": sorted(self.router_subnets[router_id]),
        }


def port_summary(port: dict[str, Any]) -> dict[str, Any]:
    """Return the PORT summary of an own port."""
    return summarize_port(
        port["revision_number"],
        port["mac_address"],
        port["fixed_ips"],
        port.get("security_groups", []),
    )


def summarize_port(
    rev: int, mac: str, fixed_ips: list[dict[str, str]], groups: list[str]
) -> dict[str, Any]:
    """Return a PORT summary (the oracle's and the agent's are built the same way)."""
    return {
        "rev": rev,
        "mac": mac,
        "ips": sorted(
            (f["subnet_id"], str(ipaddress.ip_address(f["ip_address"]))) for f in fixed_ips
        ),
        "sgs": sorted(groups),
    }


def expected(snap: Snapshot) -> dict[str, Expectation]:
    """Return, per node_id, what that host must hold."""
    world = World(snap)
    return {
        n["node_id"]: world.host_expectation(n, snap.topics.get(n["node_id"], {}))
        for n in snap.nodes
    }
