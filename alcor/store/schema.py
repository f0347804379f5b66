"""Schema migrations, applied in order and recorded in `PRAGMA user_version`.

A migration is frozen once released: later changes go into a new function appended to
MIGRATIONS. Columns of resource tables mirror the attribute tables in alcor/resources
(tests/unit/store/test_schema.py checks that they agree).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from alcor.store import changes, outbox

STD = {
    "id": str,
    "project_id": str,
    "name": str,
    "description": str,
    "tags": str,
    "revision_number": int,
    "created_at": str,
    "updated_at": str,
}


def _table(
    db: sqlite_utils.Database,
    name: str,
    columns: dict[str, type],
    pk: str | tuple[str, ...],
    indexes: Sequence[tuple[str, ...]] = (),
    unique: Sequence[tuple[str, ...]] = (),
) -> None:
    table = db.table(name)
    table.create(columns, pk=pk, not_null=[pk] if isinstance(pk, str) else list(pk))
    for cols in indexes:
        table.create_index(list(cols), index_name=f"idx_{name}_{'_'.join(cols)}")
    for cols in unique:
        table.create_index(list(cols), index_name=f"uq_{name}_{'_'.join(cols)}", unique=True)


def initial(db: sqlite_utils.Database) -> None:
    """Create the L2 core, the node registry, L3/security resources and the outboxes."""
    _table(
        db,
        "networks",
        {
            **STD,
            "status": str,
            "admin_state_up": int,
            "subnets": str,
            "shared": int,
            "router_external": int,
            "provider_network_type": str,
            "provider_physical_network": str,
            "provider_segmentation_id": int,
            "mtu": int,
            "port_security_enabled": int,
            "availability_zone_hints": str,
            "availability_zones": str,
            "cidr": str,
        },
        pk="id",
        indexes=[("project_id",), ("shared",), ("router_external",), ("provider_segmentation_id",)],
    )
    _table(
        db,
        "subnets",
        {
            **STD,
            "network_id": str,
            "ip_version": int,
            "cidr": str,
            "gateway_ip": str,
            "allocation_pools": str,
            "dns_nameservers": str,
            "host_routes": str,
            "enable_dhcp": int,
            "ipv6_address_mode": str,
            "ipv6_ra_mode": str,
            "subnetpool_id": str,
            "attached_router_id": str,
            "seq": int,
            "gateway_mac": str,
        },
        pk="id",
        indexes=[
            ("network_id", "seq"),
            ("project_id",),
            ("attached_router_id",),
            ("subnetpool_id",),
        ],
    )
    _table(
        db,
        "ports",
        {
            **STD,
            "status": str,
            "network_id": str,
            "admin_state_up": int,
            "mac_address": str,
            "fixed_ips": str,
            "device_id": str,
            "device_owner": str,
            "security_groups": str,
            "port_security_enabled": int,
            "allowed_address_pairs": str,
            "extra_dhcp_opts": str,
            "binding_host_id": str,
            "binding_vif_type": str,
            "binding_vif_details": str,
            "binding_vnic_type": str,
            "binding_profile": str,
            "neighbor_revision": int,
            "network_project_id": str,
        },
        pk="id",
        indexes=[
            ("network_id",),
            ("project_id",),
            ("device_id",),
            ("binding_host_id",),
            ("network_project_id",),
            ("device_owner",),
            ("name",),
        ],
    )
    _table(
        db,
        "ip_allocations",
        {
            "subnet_id": str,
            "ip_key": str,
            "ip": str,
            "port_id": str,
            "network_id": str,
            "auto": int,
        },
        pk=("subnet_id", "ip_key"),
        indexes=[("port_id",), ("ip",)],
    )
    _table(db, "free_ranges", {"pool": str, "first": str, "last": str}, pk=("pool", "first"))
    _table(
        db, "ipam_pools", {"subnet_id": str, "first": str, "last": str}, pk=("subnet_id", "first")
    )
    _table(
        db,
        "macs",
        {"network_id": str, "mac": str, "owner": str},
        pk=("network_id", "mac"),
        indexes=[("mac",)],
    )
    _table(
        db,
        "segments",
        {"kind": str, "seg_id": int, "network_id": str},
        pk=("kind", "seg_id"),
        indexes=[("network_id",)],
    )
    _table(
        db,
        "nodes",
        {
            "node_id": str,
            "node_name": str,
            "local_ip": str,
            "mac_address": str,
            "veth": str,
            "server_port": int,
            "host_dvr_mac": str,
            "data_path_ip": str,
            "ncm_id": str,
            "transport": str,
            "mq_topic": str,
            "grpc_api": str,
            "agent_type": str,
            "subscribe_port": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="node_id",
        indexes=[("local_ip",)],
        unique=[("node_name",), ("local_ip", "server_port")],
    )
    _table(db, "tombstones", {"kind": str, "id": str, "revision": int}, pk=("kind", "id"))
    _table(
        db,
        "routers",
        {
            **STD,
            "status": str,
            "admin_state_up": int,
            "external_gateway_info": str,
            "routes": str,
            "distributed": int,
            "ha": int,
            "gw_port_id": str,
        },
        pk="id",
        indexes=[("project_id",)],
    )
    _table(db, "security_groups", {**STD, "is_default": int}, pk="id", indexes=[("project_id",)])
    _table(
        db,
        "security_group_rules",
        {
            "id": str,
            "project_id": str,
            "description": str,
            "revision_number": int,
            "created_at": str,
            "updated_at": str,
            "security_group_id": str,
            "direction": str,
            "ethertype": str,
            "protocol": str,
            "port_range_min": int,
            "port_range_max": int,
            "remote_ip_prefix": str,
            "remote_group_id": str,
            "seq": int,
            "sg_project_id": str,
            "normalized": str,
        },
        pk="id",
        indexes=[
            ("security_group_id", "seq"),
            ("security_group_id", "normalized"),
            ("remote_group_id",),
            ("project_id",),
            ("sg_project_id",),
        ],
    )
    _table(
        db,
        "port_security_groups",
        {"port_id": str, "security_group_id": str},
        pk=("port_id", "security_group_id"),
        indexes=[("security_group_id",)],
    )
    _table(
        db,
        "floatingips",
        {
            **STD,
            "status": str,
            "floating_network_id": str,
            "floating_ip_address": str,
            "port_id": str,
            "fixed_ip_address": str,
            "router_id": str,
            "fip_port_id": str,
        },
        pk="id",
        indexes=[("project_id",), ("port_id",), ("router_id",), ("floating_network_id",)],
    )
    _table(
        db,
        "quotas",
        {"project_id": str, "resource": str, "hard_limit": int},
        pk=("project_id", "resource"),
    )
    _table(
        db,
        "quota_usage",
        {"project_id": str, "resource": str, "used": int},
        pk=("project_id", "resource"),
    )
    untagged = {k: v for k, v in STD.items() if k != "tags"}  # ACLs have no tags (§13)
    _table(
        db,
        "network_acls",
        {
            **untagged,
            "vpc_id": str,
            "associated_subnets": str,
        },
        pk="id",
        indexes=[("project_id",), ("vpc_id",)],
    )
    _table(
        db,
        "subnetpools",
        {
            **STD,
            "prefixes": str,
            "ip_version": int,
            "default_prefixlen": int,
            "min_prefixlen": int,
            "max_prefixlen": int,
            "default_quota": int,
            "shared": int,
            "is_default": int,
            "address_scope_id": str,
        },
        pk="id",
        indexes=[("project_id",)],
    )
    _table(
        db,
        "network_acl_rules",
        {
            **untagged,
            "network_acl_id": str,
            "number": int,
            "direction": str,
            "ether_type": str,
            "protocol": str,
            "ip_prefix": str,
            "port_range_min": int,
            "port_range_max": int,
            "icmp_type": int,
            "icmp_code": int,
            "action": str,
        },
        pk="id",
        indexes=[("network_acl_id", "number"), ("project_id",)],
    )
    # Durable southbound outbox: one row per committed resource change (kind, id, revision),
    # written in the changing transaction and cleared once every affected host has it.
    _table(
        db,
        "sb_outbox",
        {"seq": int, "kind": str, "key": str, "revision": int, "created_at": str},
        pk="seq",
    )
    # Durable external-call outbox (Zeta), southbound spec §8.1.
    _table(
        db,
        "outbox",
        {
            "id": str,
            "kind": str,
            "key": str,
            "payload": str,
            "created_at": str,
            "attempts": int,
            "next_attempt_at": float,
            "last_error": str,
            "done_at": str,
        },
        pk="id",
        indexes=[("done_at", "next_attempt_at"), ("key",)],
    )
    # Per-host delivery bookkeeping of the kinds that are persisted (§4.2).
    _table(
        db,
        "sb_delivery",
        {
            "node_id": str,
            "kind": str,
            "key": str,
            "sent_rev": int,
            "acked_rev": int,
            "last_status": str,
            "attempts": int,
            "updated_at": str,
        },
        pk=("node_id", "kind", "key"),
    )


def change_record(db: sqlite_utils.Database) -> None:
    """Add the change record (alcor/store/changes.py); drop two outboxes nothing used."""
    db.execute("DROP TABLE IF EXISTS sb_outbox")
    db.execute("DROP TABLE IF EXISTS sb_delivery")
    db.execute(changes.DDL)
    db.execute(changes.CONSUMERS_DDL)
    for statement in changes.INDEXES:
        db.execute(statement)


def southbound_ledger(db: sqlite_utils.Database) -> None:
    """Add the durable per-host southbound ledger (alcor/southbound/ledger.py)."""
    db.execute(
        """CREATE TABLE sb_ledger (
            node_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            rev INTEGER NOT NULL,
            present INTEGER NOT NULL,
            acked_rev INTEGER,
            status TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            updated_at REAL NOT NULL,
            PRIMARY KEY (node_id, kind, key)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE sb_hosts (
            node_id TEXT PRIMARY KEY,
            cursor_seq INTEGER NOT NULL,
            updated_at REAL NOT NULL
        ) WITHOUT ROWID"""
    )


def southbound_channels(db: sqlite_utils.Database) -> None:
    """Persist channel selection (alcor/southbound/channel_store.py)."""
    db.execute("CREATE TABLE sb_vpc_channels (vpc_id TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE sb_vpc_subscriptions (node_id TEXT NOT NULL, vpc_id TEXT NOT NULL, "
        "PRIMARY KEY (node_id, vpc_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE sb_vpc_published (vpc_id TEXT NOT NULL, port_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, present INTEGER NOT NULL, "
        "PRIMARY KEY (vpc_id, port_id)) WITHOUT ROWID"
    )


def gateways(db: sqlite_utils.Database) -> None:
    """Zeta gateways (southbound spec §8): the gateway resource, what each port is
    registered as, the VPC's gateway ids, and the outbox rebuilt for FIFO lanes.

    The first outbox table had a text id (no order) and text times; it never held a row.
    """
    db.execute("DROP TABLE IF EXISTS outbox")
    db.execute(outbox.DDL)
    for statement in outbox.INDEXES:
        db.execute(statement)
    _table(
        db,
        "gateways",
        {
            "id": str,
            "project_id": str,
            "network_id": str,
            "type": str,
            "status": str,
            "zgc_id": str,
            "destinations": str,
            "port_inband_operation": int,
            "last_error": str,
            "revision_number": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        indexes=[("project_id",)],
        unique=[("network_id",)],
    )
    # What each port is registered (or queued to be registered) as at Zeta, and the outbox
    # row of that registration: the gateway manager diffs a port's new state against it.
    _table(
        db,
        "gateway_ports",
        {"port_id": str, "network_id": str, "node_id": str, "body": str, "create_row": int},
        pk="port_id",
        indexes=[("network_id",), ("node_id",)],
    )
    db.execute("ALTER TABLE networks ADD COLUMN gateway_ids TEXT")


MIGRATIONS = [initial, change_record, southbound_ledger, southbound_channels, gateways]
