"""Port manager: owns ports and their MAC, fixed IPs, security groups and binding."""

from __future__ import annotations

import logging
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import PortConfig
from alcor.managers.base import ResourceManager, apply_tag_op
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_if_match,
    check_new_id,
    deny,
    first_revision,
    new_id,
    now_iso,
    stamp_new,
    tombstone,
)
from alcor.managers.floatingip.messages import DisassociatePort
from alcor.managers.ipam.messages import AllocateAutomaticIps, AllocatePortIps, ReleasePortIps
from alcor.managers.mac.messages import AllocateMac, AllocateMacs, ReleaseMac
from alcor.managers.network.messages import GetNetwork, LookupNetwork
from alcor.managers.node.messages import LookupNodeByName
from alcor.managers.port import rules
from alcor.managers.port.messages import (
    AddAutoAddresses,
    BumpNeighbors,
    CreatePorts,
    CreateServicePort,
    DeletePort,
    DeleteServicePort,
    GetPort,
    ListPorts,
    LookupPorts,
    PortCreated,
    PortDeleted,
    PortStatusChanged,
    PortUpdated,
    QueryPorts,
    RebindHost,
    RemoveSubnetAddresses,
    SetPortStatus,
    SetServicePort,
    UpdatePort,
    UpdatePorts,
)
from alcor.managers.qos.messages import CheckQosPolicy, CheckQosPolicyRemoval
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.security_group.messages import (
    CheckPortSecurityGroups,
    EnsureDefaultSecurityGroup,
)
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.managers.trunk.messages import CheckPortNotInTrunk, TrunkDetails
from alcor.resources import repo
from alcor.resources.base import defaults
from alcor.resources.port import PORT
from alcor.resources.repo import Where
from alcor.store import Store

_LOGGER = logging.getLogger(__name__)
repo.register_extra_columns(PORT, ("neighbor_revision", "network_project_id"))
NEIGHBOR_FIELDS = (
    "mac_address",
    "fixed_ips",
    "allowed_address_pairs",
    "binding:host_id",
    "admin_state_up",
    "name",
)


class PortManager(ResourceManager):
    """Create, read, update and delete ports."""

    resource = PORT
    name = "port"
    requires = (
        "store",
        "bus",
        "network",
        "subnet",
        "ipam",
        "mac",
        "quota",
        "node",
        "security_group",
    )

    def __init__(self, bus: Bus, store: Store, config: PortConfig) -> None:
        super().__init__(bus, store)
        self._config = config

    async def start(self) -> None:
        """Register the port commands."""
        for command, handler in (
            (CreatePorts, self.create),
            (GetPort, self.get),
            (ListPorts, self.list),
            (UpdatePort, self.update),
            (DeletePort, self.delete),
            (UpdatePorts, self.update_many),
            (QueryPorts, self._query),
            (LookupPorts, self._lookup_many),
            (CreateServicePort, self._create_service),
            (SetServicePort, self._set_service),
            (DeleteServicePort, self._delete_service),
            (AddAutoAddresses, self._add_auto),
            (RemoveSubnetAddresses, self._remove_subnet),
            (BumpNeighbors, self._bump_neighbors),
            (SetPortStatus, self._set_status),
            (RebindHost, self._rebind),
        ):
            self._bus.handle(command, handler)
        await self._bus.call(RegisterUsageCounter(resource="port", counter=_count))

    # ---- visibility: own, or on one's own network --------------------------------------
    def visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        return [
            Where(
                "t.project_id = ? OR t.network_project_id = ?", (ctx.view_project, ctx.view_project)
            )
        ]

    def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return ctx.view_project is None or ctx.view_project in (
            obj["project_id"],
            obj["network_project_id"],
        )

    async def present(self, ctx: RequestContext, objs: Any) -> list[dict[str, Any]]:
        """Add trunk_details to the parent ports of trunks (trunk-details)."""
        out = await self.adecorate(objs)
        details = await self._bus.call(TrunkDetails(port_ids=[p["id"] for p in out]))
        for port in out:
            if port["id"] in details:
                port["trunk_details"] = details[port["id"]]
        return out

    def _check_write(self, ctx: RequestContext, port: dict[str, Any], action: str) -> None:
        if ctx.caller.is_reader_only:
            raise deny(action)
        if ctx.view_project is None:
            if not ctx.is_admin:
                raise deny(action)
        elif ctx.view_project not in (port["project_id"], port["network_project_id"]):
            raise deny(action)

    def extra_where(self, extra: dict[str, list[str]]) -> list[Where]:
        """Translate `fixed_ips=ip_address=X` / `subnet_id=Y` / `ip_address_substr=Z`."""
        clauses = []
        params: list[Any] = []
        for key, column, op in (
            ("ip_address", "ip", "="),
            ("subnet_id", "subnet_id", "="),
            ("ip_address_substr", "ip", "LIKE"),
        ):
            values = extra.get(key)
            if values:
                if op == "LIKE":
                    clauses.append("(" + " OR ".join("a.ip LIKE ?" for _ in values) + ")")
                    params.extend(f"%{v}%" for v in values)
                else:
                    clauses.append(f"a.{column} IN ({', '.join('?' for _ in values)})")
                    params.extend(values)
        if not clauses:
            return []
        # Driven from the allocations index (ip / subnet), not a scan of every port.
        return [
            Where(
                "t.id IN (SELECT a.port_id FROM ip_allocations a WHERE "
                + " AND ".join(clauses)
                + ")",
                tuple(params),
            )
        ]

    # ---- create ------------------------------------------------------------------------
    async def create(self, cmd: CreatePorts) -> list[dict[str, Any]]:
        """Create ports in one transaction (bulk: all or nothing)."""
        out = []
        async with self._store.transaction():
            prepared = []
            counts: dict[str, int] = {}
            networks: dict[str, dict[str, Any]] = {}  # one lookup per network, not per item
            for item in cmd.items:
                network = await self._authorize_create(cmd.ctx, item, networks)
                prepared.append((item, network))
                counts[item["project_id"]] = counts.get(item["project_id"], 0) + 1
            for project, count in counts.items():
                await self._bus.call(CheckQuota(project_id=project, resource="port", count=count))
                # A port create is a "first use" of the project's default group (§7.1),
                # whether or not this port ends up in it.
                await self._bus.call(EnsureDefaultSecurityGroup(project_id=project))
            subnets_of: dict[str, list[dict[str, Any]]] = {}
            for _, network in prepared:
                if network["id"] not in subnets_of:
                    subnets_of[network["id"]] = await self._bus.call(
                        SubnetsOfNetwork(network_id=network["id"])
                    )
            if _batchable(prepared):
                network = prepared[0][1]
                return await self._create_batch(
                    [i for i, _ in prepared], network, subnets_of[network["id"]], cmd.ctx
                )
            for item, network in prepared:
                out.append(
                    await self._create_one(item, network, subnets_of[network["id"]], cmd.ctx)
                )
        return out

    async def _authorize_create(
        self, ctx: RequestContext, item: dict[str, Any], networks: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        rules.check_device_owner(item)
        project = check_create_project(ctx, item, "create_port")
        network = networks.get(item["network_id"])
        if network is None:
            network = await self._bus.call(GetNetwork(ctx=ctx, id=item["network_id"]))
            networks[network["id"]] = network
        if not ctx.is_admin and network["project_id"] != project and not network["shared"]:
            raise deny("create_port")
        rules.check_policy(item, ctx, creating=True, network=network)
        return network

    async def _create_one(
        self,
        given: dict[str, Any],
        network: dict[str, Any],
        subnets: list[dict[str, Any]],
        ctx: RequestContext | None,
        borrowed_mac: str | None = None,
    ) -> dict[str, Any]:
        port = self._skeleton(given, network)
        if borrowed_mac is not None:
            port["mac_address"] = borrowed_mac  # the subnet's gateway MAC stays the subnet's
        else:
            port["mac_address"] = await self._bus.call(
                AllocateMac(
                    network_id=network["id"], owner=port["id"], mac=given.get("mac_address")
                )
            )
        self._check_subnet_ids(given.get("fixed_ips"), subnets, ctx)
        port["fixed_ips"] = await self._bus.call(
            AllocatePortIps(
                port_id=port["id"],
                network_id=network["id"],
                subnets=subnets,
                requested=given.get("fixed_ips"),
                mac=port["mac_address"],
            )
        )
        await self._finish(port, given, network, ctx, {})
        repo.insert(self._store.db, PORT, port)
        self._write_sg_links(port["id"], port["security_groups"], fresh=True)
        self._bus.publish(PortCreated(port=port))
        return port

    async def _create_batch(
        self,
        items: list[dict[str, Any]],
        network: dict[str, Any],
        subnets: list[dict[str, Any]],
        ctx: RequestContext,
    ) -> list[dict[str, Any]]:
        """Bulk ports with automatic MACs and addresses: allocations and inserts in batches."""
        ports = [self._skeleton(given, network) for given in items]
        ids = [p["id"] for p in ports]
        macs = await self._bus.call(AllocateMacs(network_id=network["id"], owners=ids))
        fixed = await self._bus.call(
            AllocateAutomaticIps(network_id=network["id"], subnets=subnets, port_ids=ids, macs=macs)
        )
        nodes: dict[str, Any] = {}
        for port, given, mac, fixed_ips in zip(ports, items, macs, fixed, strict=True):
            port["mac_address"], port["fixed_ips"] = mac, fixed_ips
            await self._finish(port, given, network, ctx, nodes)
        repo.insert_many(self._store.db, PORT, ports)
        self._store.db.conn.executemany(
            "INSERT INTO port_security_groups (port_id, security_group_id) VALUES (?, ?)",
            [(p["id"], g) for p in ports for g in p["security_groups"]],
        )
        for port in ports:
            self._bus.publish(PortCreated(port=port))
        return ports

    def _skeleton(self, given: dict[str, Any], network: dict[str, Any]) -> dict[str, Any]:
        db = self._store.db
        check_new_id(db, PORT, given, "Port")
        port = defaults(PORT, given)
        stamp_new(port, first_revision(db, "port", port["id"]) if "id" in given else 1)
        port["network_project_id"] = network["project_id"]
        port["neighbor_revision"] = port["revision_number"]
        return port

    async def _finish(
        self,
        port: dict[str, Any],
        given: dict[str, Any],
        network: dict[str, Any],
        ctx: RequestContext | None,
        nodes: dict[str, Any],
    ) -> None:
        """Security, pairs, DHCP options, binding and status of a port being created."""
        port.setdefault("port_security_enabled", network["port_security_enabled"])
        await self._check_qos(ctx, None, port["qos_policy_id"])
        await self._set_security_groups(port, given, ctx)
        rules.check_pairs(port, self._config.max_allowed_address_pairs)
        port["extra_dhcp_opts"] = rules.normalize_dhcp_opts(port["extra_dhcp_opts"])
        host = port["binding:host_id"]
        if host not in nodes:
            nodes[host] = await self._bus.call(LookupNodeByName(name=host)) if host else None
        port.update(rules.binding_of(host, port["binding:vnic_type"], nodes[host]))
        port["status"] = rules.initial_status(port["device_owner"])
        port["tags"] = sorted(set(port["tags"]))

    def _check_subnet_ids(
        self,
        fixed_ips: list[dict[str, Any]] | None,
        subnets: list[dict[str, Any]],
        ctx: RequestContext | None,
    ) -> None:
        """A subnet_id that exists but is on another network is InvalidInput; unknown is 404."""
        if not fixed_ips:
            return
        ours = {s["id"] for s in subnets}
        for item in fixed_ips:
            subnet_id = item.get("subnet_id")
            if subnet_id is None or subnet_id in ours:
                continue
            row = self._store.db.execute(
                "SELECT project_id, network_id FROM subnets WHERE id = ?", [subnet_id]
            ).fetchone()
            if row is None or (
                ctx is not None
                and ctx.view_project not in (None, row[0])
                and not self._network_public(row[1])
            ):
                raise errors.SubnetNotFound(id=subnet_id)
            raise errors.InvalidInput(
                error_message=f"Failed to create port on network "
                f"{subnets[0]['network_id'] if subnets else ''}"
                f", because fixed_ips included invalid subnet "
                f"{subnet_id}"
            )

    def _network_public(self, network_id: str) -> bool:
        return (
            self._store.db.execute(
                "SELECT 1 FROM networks WHERE id = ? AND (shared = 1 OR router_external = 1)",
                [network_id],
            ).fetchone()
            is not None
        )

    async def _set_security_groups(
        self, port: dict[str, Any], given: dict[str, Any], ctx: RequestContext | None
    ) -> None:
        if "security_groups" in given:
            groups = given["security_groups"]
            if groups:
                await self._bus.call(
                    CheckPortSecurityGroups(
                        ids=groups, project_id=port["project_id"], admin=ctx is None or ctx.is_admin
                    )
                )
        elif (
            port["port_security_enabled"]
            and port["fixed_ips"]
            and not port["device_owner"].startswith("network:")
        ):
            groups = [
                await self._bus.call(EnsureDefaultSecurityGroup(project_id=port["project_id"]))
            ]
        else:
            groups = []
        port["security_groups"] = groups
        rules.check_security(port, groups_given="security_groups" in given)

    async def _check_qos(
        self, ctx: RequestContext | None, old: str | None, new: str | None
    ) -> None:
        """Detaching a QoS policy needs access to it (403); attaching, to the new one (404)."""
        if ctx is None:
            return
        if old is not None:
            await self._bus.call(CheckQosPolicyRemoval(ctx=ctx, policy_id=old))
        if new is not None:
            await self._bus.call(CheckQosPolicy(ctx=ctx, policy_id=new))

    async def _binding(self, host: str, vnic_type: str) -> dict[str, Any]:
        node = await self._bus.call(LookupNodeByName(name=host)) if host else None
        return rules.binding_of(host, vnic_type, node)

    def _write_sg_links(self, port_id: str, groups: list[str], fresh: bool = False) -> None:
        db = self._store.db
        if not fresh:  # a new port has no links yet
            db.execute("DELETE FROM port_security_groups WHERE port_id = ?", [port_id])
        db.conn.executemany(
            "INSERT INTO port_security_groups (port_id, security_group_id) VALUES (?, ?)",
            [(port_id, g) for g in groups],
        )

    # ---- update ------------------------------------------------------------------------
    async def update(self, cmd: UpdatePort) -> dict[str, Any]:
        """Update a port (partial)."""
        async with self._store.transaction():
            return await self._update_one(cmd.ctx, cmd.id, cmd.changes, cmd.if_match, cmd.tag_op)

    async def update_many(self, cmd: UpdatePorts) -> list[dict[str, Any]]:
        """Native bulk update: every item as a single PUT, all or nothing."""
        async with self._store.transaction():
            return [
                await self._update_one(
                    cmd.ctx, item["id"], {k: v for k, v in item.items() if k != "id"}, None, None
                )
                for item in cmd.items
            ]

    async def _update_one(
        self,
        ctx: RequestContext,
        port_id: str,
        changes: dict[str, Any],
        if_match: int | None,
        tag_op: tuple[str, Any] | None,
    ) -> dict[str, Any]:
        port = self.get_visible(ctx, port_id)
        self._check_write(ctx, port, "update_port")
        network = await self._bus.call(LookupNetwork(id=port["network_id"]))
        rules.check_policy(changes, ctx, creating=False, network=network)
        if "device_owner" in changes and changes["device_owner"] != port["device_owner"]:
            rules.check_device_owner(changes)
        check_if_match(port, if_match)
        given = dict(changes)
        if tag_op is not None:
            given["tags"] = apply_tag_op(PORT, port, tag_op)
        diff = changed(port, given)
        if not diff:
            return port
        before = dict(port)
        await self._apply_update(port, diff, given, network, ctx)
        # A request can differ from the port and still resolve to what it has (fixed_ips
        # given in another form): nothing changed, so nothing is bumped (§1.5).
        diff = {k: v for k, v in diff.items() if before.get(k) != v}
        return self._save_update(port, before, diff)

    def _save_update(
        self, port: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a port's changes (none: nothing is bumped) and announce them."""
        if not diff:
            return port
        diff["neighbor_revision"] = port["neighbor_revision"] + 1
        repo.update(self._store.db, PORT, port["id"], bump(port, diff))
        self._bus.publish(PortUpdated(port=port, before=before, changed=frozenset(diff)))
        return port

    async def _apply_update(
        self,
        port: dict[str, Any],
        diff: dict[str, Any],
        given: dict[str, Any],
        network: dict[str, Any],
        ctx: RequestContext,
    ) -> None:
        if "mac_address" in diff:
            await self._change_mac(port, diff, network)
        if "fixed_ips" in diff or "mac_address" in diff:
            subnets = await self._bus.call(SubnetsOfNetwork(network_id=port["network_id"]))
            self._check_subnet_ids(diff.get("fixed_ips"), subnets, ctx)
            requested = diff.get("fixed_ips", _reusable(port["fixed_ips"], subnets))
            diff["fixed_ips"] = await self._bus.call(
                AllocatePortIps(
                    port_id=port["id"],
                    network_id=port["network_id"],
                    subnets=subnets,
                    requested=requested,
                    mac=diff.get("mac_address", port["mac_address"]),
                    current=port["fixed_ips"],
                )
            )
        merged = {**port, **diff}
        if "qos_policy_id" in diff:
            await self._check_qos(ctx, port["qos_policy_id"], diff["qos_policy_id"])
        if "security_groups" in diff:
            groups = diff["security_groups"]
            if groups:
                await self._bus.call(
                    CheckPortSecurityGroups(
                        ids=groups, project_id=port["project_id"], admin=ctx.is_admin
                    )
                )
        if {"security_groups", "port_security_enabled", "fixed_ips"} & diff.keys():
            rules.check_security(merged, groups_given="security_groups" in diff)
        if {"allowed_address_pairs", "port_security_enabled", "mac_address"} & diff.keys():
            rules.check_pairs(merged, self._config.max_allowed_address_pairs)
            diff["allowed_address_pairs"] = merged["allowed_address_pairs"]
        if "extra_dhcp_opts" in diff:
            diff["extra_dhcp_opts"] = rules.normalize_dhcp_opts(
                given["extra_dhcp_opts"], port["extra_dhcp_opts"]
            )
        if "binding:host_id" in diff or "binding:vnic_type" in diff:
            diff.update(await self._binding(merged["binding:host_id"], merged["binding:vnic_type"]))
            if port["status"] not in ("N/A",) and port["device_owner"] not in rules.ROUTER_OWNERS:
                diff["status"] = "DOWN"
        if "security_groups" in diff:
            self._write_sg_links(port["id"], diff["security_groups"])
        if "tags" in diff:
            diff["tags"] = sorted(set(diff["tags"]))

    async def _change_mac(
        self, port: dict[str, Any], diff: dict[str, Any], network: dict[str, Any]
    ) -> None:
        if port["binding:vif_type"] not in ("unbound", "binding_failed"):
            raise errors.PortBound(
                port_id=port["id"],
                vif_type=port["binding:vif_type"],
                old_mac=port["mac_address"],
                new_mac=diff["mac_address"],
            )
        # mac_address null regenerates the MAC (port-mac-address-regenerate).
        diff["mac_address"] = await self._bus.call(
            AllocateMac(network_id=network["id"], owner=port["id"], mac=diff["mac_address"])
        )
        await self._bus.call(
            ReleaseMac(network_id=network["id"], mac=port["mac_address"], owner=port["id"])
        )

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeletePort) -> None:
        """Delete a port (router and floating IP ports are refused)."""
        async with self._store.transaction():
            port = self.get_visible(cmd.ctx, cmd.id)
            self._check_write(cmd.ctx, port, "delete_port")
            check_if_match(port, cmd.if_match)
            if port["device_owner"] in rules.SERVICE_OWNERS:
                raise errors.ServicePortInUse(port_id=port["id"], device_owner=port["device_owner"])
            await self._bus.call(CheckPortNotInTrunk(port_id=port["id"]))
            await self._bus.call(DisassociatePort(port_id=port["id"]))
            await self._remove(port)

    async def _remove(self, port: dict[str, Any]) -> None:
        db = self._store.db
        await self._bus.call(ReleasePortIps(port_id=port["id"]))
        await self._bus.call(
            ReleaseMac(network_id=port["network_id"], mac=port["mac_address"], owner=port["id"])
        )
        db.execute("DELETE FROM port_security_groups WHERE port_id = ?", [port["id"]])
        repo.delete(db, PORT, port["id"])
        tombstone(db, "port", port["id"], port["revision_number"] + 1)
        tombstone(db, "neighbor", port["id"], port["neighbor_revision"] + 1)
        self._bus.publish(PortDeleted(port=port))

    # ---- internal commands -------------------------------------------------------------
    async def _query(self, cmd: QueryPorts) -> list[dict[str, Any]]:
        clauses, params = [], []
        for column, value in (
            ("network_id", cmd.network_id),
            ("device_id", cmd.device_id),
            ("device_owner", cmd.device_owner),
            ("binding_host_id", cmd.host_id),
        ):
            if value is not None:
                clauses.append(f"t.{column} = ?")
                params.append(value)
        if cmd.device_owner_prefix is not None:
            clauses.append("t.device_owner LIKE ?")
            params.append(cmd.device_owner_prefix + "%")
        if cmd.not_project is not None:
            clauses.append("t.project_id != ?")
            params.append(cmd.not_project)
        if cmd.subnet_id is not None:
            clauses.append("t.id IN (SELECT port_id FROM ip_allocations WHERE subnet_id = ?)")
            params.append(cmd.subnet_id)
        if cmd.security_group_id is not None:
            clauses.append(
                "t.id IN (SELECT port_id FROM port_security_groups WHERE security_group_id = ?)"
            )
            params.append(cmd.security_group_id)
        where = Where(" AND ".join(clauses) or "1", tuple(params))
        order = "t.id" + (f" LIMIT {int(cmd.limit)}" if cmd.limit else "")
        return repo.find(self._store.db, PORT, where, order=order, names=cmd.fields)

    async def _lookup_many(self, cmd: LookupPorts) -> dict[str, dict[str, Any]]:
        return repo.get_many(self._store.db, PORT, cmd.ids)

    async def _create_service(self, cmd: CreateServicePort) -> dict[str, Any]:
        network = await self._bus.call(LookupNetwork(id=cmd.network_id))
        if network is None:
            raise errors.NetworkNotFound(id=cmd.network_id)
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=cmd.network_id))
        given: dict[str, Any] = {
            "network_id": cmd.network_id,
            "project_id": cmd.project_id,
            "device_owner": cmd.device_owner,
            "device_id": cmd.device_id,
            "security_groups": [],
            "port_security_enabled": False,
        }
        if cmd.fixed_ips is not None:
            given["fixed_ips"] = cmd.fixed_ips
        return await self._create_one(given, network, subnets, None, borrowed_mac=cmd.mac_address)

    async def _set_service(self, cmd: SetServicePort) -> dict[str, Any]:
        port = self.lookup(cmd.port_id)
        if port is None:
            raise errors.PortNotFound(id=cmd.port_id)
        before = dict(port)
        diff = changed(port, cmd.changes)
        if "security_groups" in diff:
            self._write_sg_links(port["id"], diff["security_groups"])
        return self._save_update(port, before, diff)

    async def _delete_service(self, cmd: DeleteServicePort) -> None:
        port = self.lookup(cmd.port_id)
        if port is not None:
            await self._remove(port)

    async def _add_auto(self, cmd: AddAutoAddresses) -> None:
        subnet = cmd.subnet
        ports = repo.find(
            self._store.db,
            PORT,
            Where(
                "t.network_id = ? AND t.device_owner NOT LIKE 'network:router%'",
                (subnet["network_id"],),
            ),
        )
        if not ports:
            return
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=subnet["network_id"]))
        for port in ports:
            fixed_ips = await self._bus.call(
                AllocatePortIps(
                    port_id=port["id"],
                    network_id=port["network_id"],
                    subnets=subnets,
                    requested=[*port["fixed_ips"], {"subnet_id": subnet["id"]}],
                    mac=port["mac_address"],
                    current=port["fixed_ips"],
                )
            )
            await self._set_fixed_ips(port, fixed_ips)

    async def _remove_subnet(self, cmd: RemoveSubnetAddresses) -> None:
        ports = repo.find(
            self._store.db,
            PORT,
            Where(
                "t.id IN (SELECT port_id FROM ip_allocations WHERE subnet_id = ?)", (cmd.subnet_id,)
            ),
        )
        for port in ports:
            await self._bus.call(ReleasePortIps(port_id=port["id"], subnet_id=cmd.subnet_id))
            await self._set_fixed_ips(
                port, [f for f in port["fixed_ips"] if f["subnet_id"] != cmd.subnet_id]
            )

    async def _set_fixed_ips(self, port: dict[str, Any], fixed_ips: list[dict[str, str]]) -> None:
        before = dict(port)
        diff = {"fixed_ips": fixed_ips, "neighbor_revision": port["neighbor_revision"] + 1}
        repo.update(self._store.db, PORT, port["id"], bump(port, diff))
        self._bus.publish(PortUpdated(port=port, before=before, changed=frozenset(diff)))

    async def _bump_neighbors(self, cmd: BumpNeighbors) -> None:
        for start in range(0, len(cmd.port_ids), 500):
            chunk = cmd.port_ids[start : start + 500]
            self._store.db.execute(
                f"UPDATE ports SET neighbor_revision = neighbor_revision + 1 WHERE id IN "
                f"({', '.join('?' for _ in chunk)})",
                chunk,
            )

    async def _set_status(self, cmd: SetPortStatus) -> None:
        """Write status changes in one short transaction; status is not revisioned."""
        async with self._store.transaction():
            db = self._store.db
            for port_id, status in cmd.statuses.items():
                cursor = db.execute(
                    "UPDATE ports SET status = ? WHERE id = ? AND status != ?",
                    [status, port_id, status],
                )
                if cursor.rowcount:
                    repo.record_update(db, PORT, port_id)
                    self._bus.publish(PortStatusChanged(port_id=port_id, status=status))

    async def _rebind(self, cmd: RebindHost) -> list[str]:
        ports = repo.find(self._store.db, PORT, Where("t.binding_host_id = ?", (cmd.host,)))
        rebound = []
        for port in ports:
            binding = await self._binding(port["binding:host_id"], port["binding:vnic_type"])
            if binding["binding:vif_type"] == port["binding:vif_type"]:
                continue
            before = dict(port)
            diff = {**binding, "neighbor_revision": port["neighbor_revision"] + 1}
            if port["device_owner"] not in rules.ROUTER_OWNERS:
                diff["status"] = "DOWN"
            repo.update(self._store.db, PORT, port["id"], bump(port, diff))
            self._bus.publish(PortUpdated(port=port, before=before, changed=frozenset(diff)))
            rebound.append(port["id"])
        return rebound


def _batchable(prepared: list[tuple[dict[str, Any], dict[str, Any]]]) -> bool:
    """Several ports on one network with automatic MACs and addresses take the batch path."""
    return (
        len(prepared) > 1
        and len({n["id"] for _, n in prepared}) == 1
        and all("fixed_ips" not in item and "mac_address" not in item for item, _ in prepared)
    )


def _reusable(
    fixed_ips: list[dict[str, str]], subnets: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Request the same addresses again, but re-derive automatic (EUI-64) ones."""
    auto = {
        s["id"]
        for s in subnets
        if s["ip_version"] == 6 and s.get("ipv6_address_mode") in ("slaac", "dhcpv6-stateless")
    }
    return [{"subnet_id": f["subnet_id"]} if f["subnet_id"] in auto else dict(f) for f in fixed_ips]


def _count(db: Any, project_id: str) -> int:
    return db.execute("SELECT COUNT(*) FROM ports WHERE project_id = ?", [project_id]).fetchone()[0]


__all__ = ["PortManager", "new_id", "now_iso"]
