"""An agent's own tables as the packet evaluator sees them (alcor.trace.model.HostTables).

The reference agent enforces what it holds: this adapter is how its tables are read by the
same evaluator the controller's trace uses.
"""

from __future__ import annotations

from typing import Any

from alcor.trace import model as t

from .records import GatewayArp, Neighbor, PairEntry
from .state import AgentState

_DIRECTIONS = {0: "egress", 1: "ingress"}
_PROTOCOLS = {0: "tcp", 1: "udp", 2: "icmp"}


def _port(cfg: dict[str, Any]) -> t.Port:
    return t.Port(
        cfg.get("id", ""),
        cfg.get("vpc_id", ""),
        cfg.get("mac_address", ""),
        tuple((f.get("subnet_id", ""), f.get("ip_address", "")) for f in cfg.get("fixed_ips", ())),
        tuple(g.get("id", "") for g in cfg.get("security_group_ids", ())),
        not cfg.get("port_security_disabled", False),
    )


class AgentTables:
    """One agent's tables (t.HostTables)."""

    def __init__(self, state: AgentState, host: str | None = None) -> None:
        self.state = state
        self.host = host or state.own_ip
        self.host_ip = state.own_ip

    def port(self, port_id: str) -> t.Port | None:
        """Return one of the agent's own ports."""
        cfg = self.state.ports.get(port_id)
        return _port(cfg) if cfg is not None else None

    def port_by_ip(self, vpc_id: str, ip: str) -> t.Port | None:
        """Return the agent's own port with this fixed IP in the VPC."""
        for cfg in self.state.ports.values():
            if cfg.get("vpc_id") == vpc_id and any(
                f.get("ip_address") == ip for f in cfg.get("fixed_ips", ())
            ):
                return _port(cfg)
        return None

    def neighbor(self, ip: str, tunnel_id: int) -> t.Neighbor | None:
        """Return the ARP or ND entry of an address."""
        entry = self.state.lookup(ip, tunnel_id)
        if isinstance(entry, Neighbor):
            return t.Neighbor(entry.id, entry.mac, entry.host_ip, entry.groups)
        if isinstance(entry, PairEntry):
            return t.Neighbor(entry.port_id, entry.mac, entry.host_ip, entry.owner.groups)
        if isinstance(entry, GatewayArp):
            return t.Neighbor("", entry.mac, entry.host_ip, ())
        return None

    def subnet(self, subnet_id: str) -> t.Subnet | None:
        """Return a subnet the agent holds."""
        cfg = self.state.subnets.get(subnet_id)
        if cfg is None:
            return None
        return t.Subnet(
            subnet_id,
            cfg.get("vpc_id", ""),
            cfg.get("cidr", ""),
            cfg.get("tunnel_id", 0),
            cfg.get("gateway", {}).get("ip_address", ""),
        )

    def subnets_of_vpc(self, vpc_id: str) -> list[t.Subnet]:
        """Return the subnets of a VPC the agent holds."""
        subnets = (
            self.subnet(s) for s, c in self.state.subnets.items() if c.get("vpc_id") == vpc_id
        )
        return [s for s in subnets if s is not None]

    def router(self, router_id: str) -> t.Router | None:
        """Return a router the agent holds (tables, extra routes, gateway)."""
        cfg = self.state.routers.get(router_id)
        if cfg is None:
            return None
        tables = cfg.get("subnet_routing_tables", ())
        routes = {
            (r.get("destination", ""), r.get("next_hop_ip", ""))
            for table in tables
            for r in table.get("routing_rules", ())
        }
        gw = cfg.get("external_gateway")
        gateway = (
            t.Gateway(gw.get("ip_address", ""), gw.get("cidr", ""), gw.get("snat_enabled", False))
            if gw and gw.get("ip_address")
            else None
        )
        return t.Router(
            router_id,
            tuple(sorted(table.get("subnet_id", "") for table in tables)),
            tuple(sorted(routes)),
            gateway,
        )

    def router_of_subnet(self, subnet_id: str) -> t.Router | None:
        """Return the router the agent routes a subnet through."""
        router_id = self.state.subnet_router.get(subnet_id)
        return self.router(router_id) if router_id else None

    def security_group(self, group_id: str) -> t.SecurityGroup | None:
        """Return a security group the agent holds."""
        if group_id not in self.state.security_groups:
            return None
        rules = tuple(
            t.SgRule(
                r.get("id", ""),
                _DIRECTIONS.get(r.get("direction", 0), "egress"),
                "IPv6" if r.get("ethertype", 0) == 1 else "IPv4",
                _PROTOCOLS.get(r.get("protocol", 0), "any"),
                r.get("port_range_min", 0),
                r.get("port_range_max", 0),
                r.get("remote_ip_prefix", ""),
                r.get("remote_group_id", ""),
            )
            for r in self.state.sg_rules.get(group_id, ())
        )
        return t.SecurityGroup(group_id, rules)

    def acl_of_subnet(self, subnet_id: str) -> t.Acl | None:
        """Return the ACL the agent holds for a subnet."""
        for acl_id, cfg in self.state.network_acls.items():
            if subnet_id in cfg.get("subnet_ids", ()):
                return _acl(acl_id, cfg)
        return None

    def floating_ip(self, address: str) -> t.FloatingIp | None:
        """Return the agent's floating IP with this address."""
        for fip_id, cfg in self.state.floating_ips.items():
            if cfg.get("floating_ip_address") == address:
                return _fip(fip_id, cfg)
        return None

    def port_forwarding(self, address: str, protocol: str, port: int) -> t.PortForwarding | None:
        """Return the agent's forwarding of a floating IP's (protocol, port)."""
        for pf_id, cfg in sorted(self.state.port_forwardings.items()):
            pf = _pf(pf_id, cfg)
            if pf.address == address and pf.forwards(protocol, port):
                return pf
        return None

    def floating_ips_of_port(self, port_id: str) -> list[t.FloatingIp]:
        """Return the floating IPs of one of the agent's ports."""
        return [
            _fip(f, c)
            for f, c in sorted(self.state.floating_ips.items())
            if c.get("port_id") == port_id
        ]


def _acl(acl_id: str, cfg: dict[str, Any]) -> t.Acl:
    rules = sorted(cfg.get("rules", ()), key=lambda r: r.get("number", 0))
    return t.Acl(
        acl_id,
        tuple(cfg.get("subnet_ids", ())),
        tuple(
            t.AclRule(
                r.get("id", ""),
                r.get("number", 0),
                "egress" if r.get("direction", 0) == 1 else "ingress",
                "IPv6" if r.get("ethertype", 0) == 1 else "IPv4",
                r.get("protocol", "all"),
                r.get("ip_prefix", "") or "0.0.0.0/0",
                r.get("port_range_min", 0),
                r.get("port_range_max", 0),
                r.get("icmp_type", -1),
                r.get("icmp_code", -1),
                "allow" if r.get("action", 0) == 1 else "deny",
            )
            for r in rules
        ),
    )


def _fip(fip_id: str, cfg: dict[str, Any]) -> t.FloatingIp:
    return t.FloatingIp(
        fip_id,
        cfg.get("floating_ip_address", ""),
        cfg.get("fixed_ip_address", ""),
        cfg.get("port_id", ""),
        cfg.get("router_id", ""),
    )


def _pf(pf_id: str, cfg: dict[str, Any]) -> t.PortForwarding:
    return t.PortForwarding(
        pf_id,
        cfg.get("floating_ip_address", ""),
        cfg.get("protocol", ""),
        (cfg.get("external_port_min", 0), cfg.get("external_port_max", 0)),
        cfg.get("internal_port_id", ""),
        cfg.get("internal_ip_address", ""),
        (cfg.get("internal_port_min", 0), cfg.get("internal_port_max", 0)),
    )


class AgentsWorld:
    """Several agents' own tables as one world (t.World): what the hosts really hold."""

    def __init__(self, states: dict[str, AgentState]) -> None:
        self._tables = {host: AgentTables(state, host) for host, state in states.items()}
        self._by_ip = {tables.host_ip: host for host, tables in self._tables.items()}

    def tables(self, host: str) -> AgentTables | None:
        """Return an agent's tables."""
        return self._tables.get(host)

    def host_of(self, host_ip: str) -> str | None:
        """Return the agent at a data-path address."""
        return self._by_ip.get(host_ip)

    def host_of_port(self, port_id: str) -> str | None:
        """Return the agent that holds a port."""
        return next((h for h, t_ in self._tables.items() if port_id in t_.state.ports), None)

    def floating_ip_host(self, address: str) -> str | None:
        """Return the agent that holds a floating IP address."""
        return next(
            (h for h, t_ in self._tables.items() if t_.floating_ip(address) is not None), None
        )

    def port_forwarding_host(self, address: str, protocol: str, port: int) -> str | None:
        """Return the agent that holds the forwarding of a floating IP's (protocol, port)."""
        return next(
            (
                h
                for h, t_ in self._tables.items()
                if t_.port_forwarding(address, protocol, port) is not None
            ),
            None,
        )
