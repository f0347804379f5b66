"""A seeded stream of operator changes on a small topology, made through REST only.

Topology: two networks (three IPv4 subnets), one router on two of them, two security groups
that name each other as remote groups, and ports spread over the hosts. Operations: port
create, delete, migration (binding:host_id), unbind, admin down/up, security group changes,
rule create/delete, router interface add/remove. Every choice comes from the seeded
generator; what an operation answered does not matter (the oracle reads REST afterwards),
except that a 5xx fails the test (Rest.call).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from tests.chaos.cluster import Cluster
from tests.chaos.rest import Rest, ServerGone


class Workload:
    """Operator changes chosen by `rng` on the cluster's hosts."""

    def __init__(self, cluster: Cluster, rng: random.Random) -> None:
        self.cluster = cluster
        self.rest: Rest = cluster.rest
        self.rng = rng
        self.subnets: list[dict[str, Any]] = []
        self.router: dict[str, Any] = {}
        self.groups: list[str] = []
        self.rules: list[str] = []
        self.ports: list[str] = []
        self.done: list[str] = []  # what was asked, in order (printed on failure)

    @property
    def host_names(self) -> list[str]:
        """Return the node names ports can be bound to."""
        return [h.name for h in self.cluster.hosts]

    async def setup(self, ports: int = 6) -> None:
        """Create the topology and `ports` ports on random hosts."""
        net1 = await self.rest.network("chaos-1")
        net2 = await self.rest.network("chaos-2")
        for net, cidr in ((net1, "10.71.1.0/24"), (net1, "10.71.2.0/24"), (net2, "10.72.1.0/24")):
            self.subnets.append(await self.rest.subnet(net["id"], cidr))
        self.router = await self.rest.router("chaos-r")
        for subnet in (self.subnets[0], self.subnets[2]):
            await self.interface(True, subnet["id"])
        web = await self.rest.security_group("web")
        db = await self.rest.security_group("db")
        self.groups = [web["id"], db["id"]]
        await self.add_rule(web["id"], 80, db["id"])
        await self.add_rule(db["id"], 5432, web["id"])
        for _ in range(ports):
            await self.create_port()

    async def refresh(self) -> None:
        """Re-read the ports (after a crash, the outcome of the calls in flight is unknown)."""
        body = await self.rest.get("/v2.0/ports")
        self.ports = [p["id"] for p in body["ports"] if not p["device_owner"]]

    # ---- operations ----------------------------------------------------------------------

    async def create_port(self, host: str | None = None) -> str | None:
        """Create a port on a random subnet, bound to `host` (random if None)."""
        subnet = self.rng.choice(self.subnets)
        host = host or self.rng.choice(self.host_names)
        groups = self.rng.choice([[], [self.groups[0]], [self.groups[1]], self.groups])
        body: dict[str, Any] = {
            "network_id": subnet["network_id"],
            "fixed_ips": [{"subnet_id": subnet["id"]}],
            "binding:host_id": host,
        }
        if groups:
            body["security_groups"] = groups
        self.done.append(f"create port on {host} in {subnet['cidr']}")
        answer = await self.rest.call("POST", "/v2.0/ports", {"port": body})
        if answer.status != 201:
            return None
        port_id = str(answer.body["port"]["id"])
        self.ports.append(port_id)
        return port_id

    async def delete_port(self, port_id: str) -> int:
        """Delete a port; return the status."""
        self.done.append(f"delete port {port_id}")
        if port_id in self.ports:
            self.ports.remove(port_id)
        return (await self.rest.call("DELETE", f"/v2.0/ports/{port_id}")).status

    async def update_port(self, port_id: str, what: str, **attrs: Any) -> int:
        """PUT attributes of a port; return the status."""
        self.done.append(f"{what} port {port_id}: {attrs}")
        return (await self.rest.call("PUT", f"/v2.0/ports/{port_id}", {"port": attrs})).status

    async def migrate(self, port_id: str, host: str) -> int:
        """Move a port to `host` (binding:host_id)."""
        return await self.update_port(port_id, "migrate", **{"binding:host_id": host})

    async def interface(self, add: bool, subnet_id: str) -> int:
        """Add or remove the router's interface on a subnet."""
        action = "add_router_interface" if add else "remove_router_interface"
        self.done.append(f"{action} {subnet_id}")
        path = f"/v2.0/routers/{self.router['id']}/{action}"
        return (await self.rest.call("PUT", path, {"subnet_id": subnet_id})).status

    async def add_rule(self, group: str, port: int, remote_group: str | None = None) -> None:
        """Add an ingress TCP rule to a group."""
        rule: dict[str, Any] = {
            "security_group_id": group,
            "direction": "ingress",
            "ethertype": "IPv4",
            "protocol": "tcp",
            "port_range_min": port,
            "port_range_max": port,
        }
        if remote_group:
            rule["remote_group_id"] = remote_group
        self.done.append(f"add rule tcp/{port} to {group}")
        answer = await self.rest.call(
            "POST", "/v2.0/security-group-rules", {"security_group_rule": rule}
        )
        if answer.status == 201:
            self.rules.append(answer.body["security_group_rule"]["id"])

    async def random_op(self) -> None:
        """Run one operation chosen by the generator."""
        ops: list[tuple[int, Callable[[], Awaitable[Any]]]] = [
            (25, self.create_port),
            (15, self.delete_random),
            (20, self.migrate_random),
            (5, self.unbind_random),
            (5, self.toggle_admin_random),
            (10, self.regroup_random),
            (10, self.rule_random),
            (10, self.interface_random),
        ]
        action = self.rng.choices([a for _, a in ops], [w for w, _ in ops])[0]
        await action()

    async def run(self, count: int) -> None:
        """Run `count` random operations one after the other."""
        for _ in range(count):
            await self.random_op()

    async def stir(self, hosts: list[str], count: int) -> None:
        """Create a port on each of `hosts` (each gets a push), then `count` random creates,
        deletes and migrations."""
        for host in hosts:
            await self.create_port(host)
        changes: list[Callable[[], Awaitable[Any]]] = [
            self.create_port,
            self.delete_random,
            self.migrate_random,
        ]
        for _ in range(count):
            await self.rng.choice(changes)()

    async def run_until_gone(self, count: int) -> None:
        """Run up to `count` operations; stop at the first one the server died in."""
        for _ in range(count):
            try:
                await self.random_op()
            except ServerGone:
                self.done.append("(server gone: outcome unknown)")
                return

    # ---- random choices ------------------------------------------------------------------

    def a_port(self) -> str | None:
        return self.rng.choice(self.ports) if self.ports else None

    async def delete_random(self) -> None:
        port = self.a_port()
        if port:
            await self.delete_port(port)

    async def migrate_random(self) -> None:
        port = self.a_port()
        if port:
            await self.migrate(port, self.rng.choice(self.host_names))

    async def unbind_random(self) -> None:
        port = self.a_port()
        if port:
            await self.update_port(port, "unbind", **{"binding:host_id": ""})

    async def toggle_admin_random(self) -> None:
        port = self.a_port()
        if port:
            await self.update_port(port, "admin", admin_state_up=self.rng.random() < 0.5)

    async def regroup_random(self) -> None:
        port = self.a_port()
        if port:
            groups = self.rng.choice([[self.groups[0]], [self.groups[1]], self.groups])
            await self.update_port(port, "regroup", security_groups=groups)

    async def rule_random(self) -> None:
        if self.rules and self.rng.random() < 0.4:
            rule = self.rules.pop(self.rng.randrange(len(self.rules)))
            self.done.append(f"delete rule {rule}")
            await self.rest.call("DELETE", f"/v2.0/security-group-rules/{rule}")
        else:
            group = self.rng.choice(self.groups)
            await self.add_rule(group, self.rng.randrange(1000, 2000))

    async def interface_random(self) -> None:
        subnet = self.rng.choice(self.subnets)
        body = await self.rest.get(
            f"/v2.0/ports?device_id={self.router['id']}&device_owner=network:router_interface"
        )
        attached = {f["subnet_id"] for p in body["ports"] for f in p["fixed_ips"]}
        await self.interface(subnet["id"] not in attached, subnet["id"])
