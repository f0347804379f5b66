"""Schema migrations, applied in order, each recorded by its number (alcor/store/ddl.py).

A migration is frozen once released: later changes go into a new function appended to
MIGRATIONS. Columns of resource tables mirror the attribute tables in alcor/resources
(tests/unit/store/test_schema.py checks that they agree). Each migration writes both
dialects through `Ddl`; where they differ it says so with `ddl.sql(sqlite=, postgresql=)`.
"""

from __future__ import annotations

from alcor.store import changes, outbox
from alcor.store.ddl import Ddl

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


def initial(ddl: Ddl) -> None:
    """Create the L2 core, the node registry, L3/security resources and the outboxes."""
    ddl.table(
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
    ddl.table(
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
    ddl.table(
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
    ddl.table(
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
    ddl.table("free_ranges", {"pool": str, "first": str, "last": str}, pk=("pool", "first"))
    ddl.table(
        "ipam_pools", {"subnet_id": str, "first": str, "last": str}, pk=("subnet_id", "first")
    )
    ddl.table(
        "macs",
        {"network_id": str, "mac": str, "owner": str},
        pk=("network_id", "mac"),
        indexes=[("mac",)],
    )
    ddl.table(
        "segments",
        {"kind": str, "seg_id": int, "network_id": str},
        pk=("kind", "seg_id"),
        indexes=[("network_id",)],
    )
    ddl.table(
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
    ddl.table("tombstones", {"kind": str, "id": str, "revision": int}, pk=("kind", "id"))
    ddl.table(
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
    ddl.table("security_groups", {**STD, "is_default": int}, pk="id", indexes=[("project_id",)])
    ddl.table(
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
    ddl.table(
        "port_security_groups",
        {"port_id": str, "security_group_id": str},
        pk=("port_id", "security_group_id"),
        indexes=[("security_group_id",)],
    )
    ddl.table(
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
    ddl.table(
        "quotas",
        {"project_id": str, "resource": str, "hard_limit": int},
        pk=("project_id", "resource"),
    )
    ddl.table(
        "quota_usage",
        {"project_id": str, "resource": str, "used": int},
        pk=("project_id", "resource"),
    )
    untagged = {k: v for k, v in STD.items() if k != "tags"}  # ACLs have no tags (§13)
    ddl.table(
        "network_acls",
        {
            **untagged,
            "vpc_id": str,
            "associated_subnets": str,
        },
        pk="id",
        indexes=[("project_id",), ("vpc_id",)],
    )
    ddl.table(
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
    ddl.table(
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
    ddl.table(
        "sb_outbox",
        {"seq": int, "kind": str, "key": str, "revision": int, "created_at": str},
        pk="seq",
    )
    # Durable external-call outbox (Zeta), southbound spec §8.1.
    ddl.table(
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
    ddl.table(
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


def change_record(ddl: Ddl) -> None:
    """Add the change record (alcor/store/changes.py); drop two outboxes nothing used."""
    ddl.sql("DROP TABLE IF EXISTS sb_outbox")
    ddl.sql("DROP TABLE IF EXISTS sb_delivery")
    changes.create_tables(ddl)


def southbound_ledger(ddl: Ddl) -> None:
    """Add the durable per-host southbound ledger (alcor/southbound/ledger.py)."""
    ddl.table(
        "sb_ledger",
        {
            "node_id": "TEXT NOT NULL",
            "kind": "TEXT NOT NULL",
            "key": "TEXT NOT NULL",
            "rev": "INTEGER NOT NULL",
            "present": "INTEGER NOT NULL",
            "acked_rev": "INTEGER",
            "status": "TEXT",
            "attempts": "INTEGER NOT NULL DEFAULT 0",
            "last_error": "TEXT",
            "updated_at": "REAL NOT NULL",
        },
        pk=("node_id", "kind", "key"),
        without_rowid=True,
    )
    ddl.table(
        "sb_hosts",
        {
            "node_id": "TEXT NOT NULL",
            "cursor_seq": "INTEGER NOT NULL",
            "updated_at": "REAL NOT NULL",
        },
        pk="node_id",
        without_rowid=True,
    )


def southbound_channels(ddl: Ddl) -> None:
    """Persist channel selection (alcor/southbound/channel_store.py)."""
    ddl.table("sb_vpc_channels", {"vpc_id": str}, pk="vpc_id", without_rowid=True)
    ddl.table(
        "sb_vpc_subscriptions",
        {"node_id": str, "vpc_id": str},
        pk=("node_id", "vpc_id"),
        without_rowid=True,
    )
    ddl.table(
        "sb_vpc_published",
        {
            "vpc_id": str,
            "port_id": str,
            "revision": "INTEGER NOT NULL",
            "present": "INTEGER NOT NULL",
        },
        pk=("vpc_id", "port_id"),
        without_rowid=True,
    )


def gateways(ddl: Ddl) -> None:
    """Zeta gateways (southbound spec §8): the gateway resource, what each port is
    registered as, the VPC's gateway ids, and the outbox rebuilt for FIFO lanes.

    The first outbox table had a text id (no order) and text times; it never held a row.
    """
    ddl.sql("DROP TABLE IF EXISTS outbox")
    outbox.create_tables(ddl)
    ddl.table(
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
    ddl.table(
        "gateway_ports",
        {"port_id": str, "network_id": str, "node_id": str, "body": str, "create_row": int},
        pk="port_id",
        indexes=[("network_id",), ("node_id",)],
    )
    ddl.sql(f"ALTER TABLE networks ADD COLUMN gateway_ids {ddl.column_type(str)}")


# The list-valued attributes whose values are rows of `list_values` (list filters without
# JSON functions): every tagged table's tags, and the list filters no other table answers.
TAGGED_TABLES = (
    "networks",
    "subnets",
    "ports",
    "routers",
    "security_groups",
    "floatingips",
    "subnetpools",
)
LISTED = (
    *((table, "tags") for table in TAGGED_TABLES),
    ("networks", "availability_zone_hints"),
    ("networks", "availability_zones"),
    ("network_acls", "associated_subnets"),
)


def portable(ddl: Ddl) -> None:
    """Make the schema speak both engines and hold its invariants as constraints.

    List values move to `list_values` (filters without json_each); a generated MAC is
    unique everywhere and a project has one default security group, by unique index.
    """
    ddl.table(
        "list_values",
        {"tbl": str, "attr": str, "value": str, "id": str},
        pk=("tbl", "attr", "value", "id"),
        indexes=[("tbl", "id")],
        without_rowid=True,
    )
    for table, attr in LISTED:  # existing SQLite data; a new database has none
        ddl.sql(
            sqlite=f"INSERT OR IGNORE INTO list_values (tbl, attr, value, id) "
            f"SELECT '{table}', '{attr}', j.value, t.id FROM \"{table}\" t, json_each(t.\"{attr}\") j "
            f'WHERE t."{attr}" IS NOT NULL'
        )
    # Processes sharing one PostgreSQL database (alcor/southbound/ownership.py).
    ddl.table(
        "cluster_members",
        {"member_id": str, "address": str, "started_at": float, "heartbeat_at": float},
        pk="member_id",
    )
    ddl.sql('ALTER TABLE macs ADD COLUMN "auto" INTEGER')
    ddl.index("macs", ("mac",), unique=True, where='"auto" = 1')
    ddl.index("security_groups", ("project_id",), unique=True, where="is_default = 1")


MIGRATIONS = [initial, change_record, southbound_ledger, southbound_channels, gateways, portable]
