"""Schema migrations, applied in order and recorded in `PRAGMA user_version`.

A migration is frozen once released: later changes go into a new function appended to
MIGRATIONS. Columns of resource tables mirror the attribute tables in alcor/resources
(tests/unit/store/test_schema.py checks that they agree).
"""

from __future__ import annotations

import uuid
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


def _add_columns(db: sqlite_utils.Database, table: str, columns: dict[str, type]) -> None:
    """Add columns that a table lacks (migrations are re-runnable on partial schemas)."""
    target = db.table(table)
    have = set(target.columns_dict)
    for name, kind in columns.items():
        if name not in have:
            target.add_column(name, kind)


def rbac_policies(db: sqlite_utils.Database) -> None:
    """Add RBAC policies; shared and external networks get their wildcard policies."""
    _table(
        db,
        "rbac_policies",
        {
            "id": str,
            "project_id": str,
            "object_type": str,
            "object_id": str,
            "action": str,
            "target_tenant": str,
        },
        pk="id",
        indexes=[("object_type", "target_tenant", "action", "object_id"), ("project_id",)],
        unique=[("object_id", "object_type", "action", "target_tenant")],
    )
    _add_columns(db, "networks", {"is_default": int})
    db.execute("UPDATE networks SET is_default = 0 WHERE is_default IS NULL")
    for column, action in (
        ("shared", "access_as_shared"),
        ("router_external", "access_as_external"),
    ):
        rows = db.execute(f"SELECT id, project_id FROM networks WHERE {column} = 1").fetchall()
        db.conn.executemany(
            "INSERT INTO rbac_policies (id, project_id, object_type, object_id, action, "
            "target_tenant) VALUES (?, ?, 'network', ?, ?, '*')",
            [(str(uuid.uuid4()), project, net_id, action) for net_id, project in rows],
        )


def qos(db: sqlite_utils.Database) -> None:
    """Add QoS policies, their four rule tables, and the bindings of networks and ports."""
    _table(
        db,
        "qos_policies",
        {**STD, "shared": int, "is_default": int},
        pk="id",
        indexes=[("project_id",)],
    )
    rule_fields: dict[str, dict[str, type]] = {
        "bandwidth_limit": {"max_kbps": int, "max_burst_kbps": int, "direction": str},
        "dscp_marking": {"dscp_mark": int},
        "minimum_bandwidth": {"min_kbps": int, "direction": str},
        "minimum_packet_rate": {"min_kpps": int, "direction": str},
    }
    for kind, fields in rule_fields.items():
        _table(
            db,
            f"qos_{kind}_rules",
            {"id": str, "qos_policy_id": str, "project_id": str, **fields},
            pk="id",
            indexes=[("qos_policy_id",)],
        )
    for table in ("networks", "ports"):
        _add_columns(db, table, {"qos_policy_id": str})
        db.table(table).create_index(["qos_policy_id"], index_name=f"idx_{table}_qos_policy_id")


def trunks(db: sqlite_utils.Database) -> None:
    """Add trunks and their subports (a port is in one trunk at most)."""
    _table(
        db,
        "trunks",
        {**STD, "status": str, "admin_state_up": int, "port_id": str},
        pk="id",
        indexes=[("project_id",)],
        unique=[("port_id",)],
    )
    _table(
        db,
        "trunk_subports",
        {
            "port_id": str,
            "trunk_id": str,
            "segmentation_type": str,
            "segmentation_id": int,
            "seq": int,
        },
        pk="port_id",
        indexes=[("trunk_id", "seq")],
        unique=[("trunk_id", "segmentation_type", "segmentation_id")],
    )


def address_scopes(db: sqlite_utils.Database) -> None:
    """Add address scopes (subnet pools already have address_scope_id)."""
    _table(
        db,
        "address_scopes",
        {"id": str, "project_id": str, "name": str, "shared": int, "ip_version": int},
        pk="id",
        indexes=[("project_id",)],
    )
    db.table("subnetpools").create_index(
        ["address_scope_id"], index_name="idx_subnetpools_address_scope_id"
    )


def address_groups(db: sqlite_utils.Database) -> None:
    """Add address groups, and rules that refer to one (remote_address_group_id)."""
    _table(
        db,
        "address_groups",
        {**STD, "addresses": str, "shared": int},
        pk="id",
        indexes=[("project_id",)],
    )
    _add_columns(db, "security_group_rules", {"remote_address_group_id": str})
    db.table("security_group_rules").create_index(
        ["remote_address_group_id"], index_name="idx_security_group_rules_remote_address_group_id"
    )


LEGACY_RULE_TEMPLATES = (
    # (direction, ethertype, remote_group_id, used_in_non_default_sg, description)
    ("egress", "IPv4", None, 1, "Legacy default SG rule for egress traffic"),
    ("egress", "IPv6", None, 1, "Legacy default SG rule for egress traffic"),
    ("ingress", "IPv4", "PARENT", 0, "Legacy default SG rule for ingress traffic"),
    ("ingress", "IPv6", "PARENT", 0, "Legacy default SG rule for ingress traffic"),
)


def security_group_features(db: sqlite_utils.Database) -> None:
    """Stateful/stateless and RBAC-shared groups, normalized rule CIDRs, and the default
    rule templates (the four rules alcor gave every default group until now)."""
    _add_columns(db, "security_groups", {"stateful": int, "shared": int})
    db.execute("UPDATE security_groups SET stateful = 1 WHERE stateful IS NULL")
    db.execute("UPDATE security_groups SET shared = 0 WHERE shared IS NULL")
    _add_columns(db, "security_group_rules", {"normalized_cidr": str})
    # Rules stored so far kept their prefix normalized already.
    db.execute("UPDATE security_group_rules SET normalized_cidr = remote_ip_prefix")
    _table(
        db,
        "default_security_group_rules",
        {
            "id": str,
            "description": str,
            "direction": str,
            "ethertype": str,
            "protocol": str,
            "port_range_min": int,
            "port_range_max": int,
            "remote_ip_prefix": str,
            "remote_group_id": str,
            "remote_address_group_id": str,
            "used_in_default_sg": int,
            "used_in_non_default_sg": int,
        },
        pk="id",
    )
    db.conn.executemany(
        "INSERT INTO default_security_group_rules (id, description, direction, ethertype, "
        "remote_group_id, used_in_default_sg, used_in_non_default_sg) "
        "VALUES (?, ?, ?, ?, ?, 1, ?)",
        [
            (str(uuid.uuid4()), desc, direction, ethertype, remote, non_default)
            for direction, ethertype, remote, non_default, desc in LEGACY_RULE_TEMPLATES
        ],
    )


def port_forwardings(db: sqlite_utils.Database) -> None:
    """Add floating IP port forwardings."""
    _table(
        db,
        "port_forwardings",
        {
            "id": str,
            "floatingip_id": str,
            "project_id": str,
            "router_id": str,
            "floating_ip_address": str,
            "internal_port_id": str,
            "internal_ip_address": str,
            "internal_port": int,
            "external_port": int,
            "internal_port_range": str,
            "external_port_range": str,
            "protocol": str,
            "description": str,
        },
        pk="id",
        indexes=[("floatingip_id",), ("internal_port_id",)],
    )


def metering(db: sqlite_utils.Database) -> None:
    """Add metering labels and their rules."""
    _table(
        db,
        "metering_labels",
        {"id": str, "project_id": str, "name": str, "description": str, "shared": int},
        pk="id",
        indexes=[("project_id",)],
    )
    _table(
        db,
        "metering_label_rules",
        {
            "id": str,
            "project_id": str,
            "metering_label_id": str,
            "direction": str,
            "excluded": int,
            "remote_ip_prefix": str,
            "source_ip_prefix": str,
            "destination_ip_prefix": str,
        },
        pk="id",
        indexes=[("metering_label_id",), ("project_id",)],
    )


def flavors(db: sqlite_utils.Database) -> None:
    """Add flavors, service profiles, their bindings, and routers' flavor_id."""
    _table(
        db,
        "flavors",
        {"id": str, "name": str, "description": str, "service_type": str, "enabled": int},
        pk="id",
    )
    _table(
        db,
        "service_profiles",
        {"id": str, "description": str, "driver": str, "metainfo": str, "enabled": int},
        pk="id",
    )
    _table(
        db,
        "flavor_service_profiles",
        {"flavor_id": str, "service_profile_id": str},
        pk=("flavor_id", "service_profile_id"),
        indexes=[("service_profile_id",)],
    )
    _add_columns(db, "routers", {"flavor_id": str})
    db.table("routers").create_index(["flavor_id"], index_name="idx_routers_flavor_id")


def subnet_routers(db: sqlite_utils.Database) -> None:
    """A subnet may be on several routers: attached_router_ids (attached_router_id stays the
    first of them)."""
    _add_columns(db, "subnets", {"attached_router_ids": str})
    db.execute(
        "UPDATE subnets SET attached_router_ids = CASE WHEN attached_router_id IS NULL "
        "THEN '[]' ELSE json_array(attached_router_id) END"
    )


def dns_names(db: sqlite_utils.Database) -> None:
    """DNS names and domains of ports and floating IPs, domains of networks."""
    for table, columns in (
        ("ports", ("dns_name", "dns_domain")),
        ("floatingips", ("dns_name", "dns_domain")),
        ("networks", ("dns_domain",)),
    ):
        _add_columns(db, table, dict.fromkeys(columns, str))
        for column in columns:
            db.execute(f"UPDATE {table} SET {column} = '' WHERE {column} IS NULL")


def subnet_service_types(db: sqlite_utils.Database) -> None:
    """Service types of subnets (subnet-service-types)."""
    _add_columns(db, "subnets", {"service_types": str})
    db.execute("UPDATE subnets SET service_types = '[]' WHERE service_types IS NULL")


def router_zones(db: sqlite_utils.Database) -> None:
    """Availability zone hints of routers (router_availability_zone)."""
    _add_columns(db, "routers", {"availability_zone_hints": str})
    db.execute(
        "UPDATE routers SET availability_zone_hints = '[]' WHERE availability_zone_hints IS NULL"
    )


def segment_ranges(db: sqlite_utils.Database) -> None:
    """Network segment ranges (network-segment-range)."""
    _table(
        db,
        "network_segment_ranges",
        {
            "id": str,
            "project_id": str,
            "name": str,
            "description": str,
            "default": int,
            "shared": int,
            "network_type": str,
            "physical_network": str,
            "minimum": int,
            "maximum": int,
            "tags": str,
            "revision_number": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )


def network_segments(db: sqlite_utils.Database) -> None:
    """Segments of networks (segment, multi-provider; a network's single segment is written
    when first needed, managers/network/network_segments.py); subnets on segments."""
    _table(
        db,
        "network_segments",
        {
            "id": str,
            "network_id": str,
            "name": str,
            "description": str,
            "network_type": str,
            "physical_network": str,
            "segmentation_id": int,
            "segment_index": int,
            "revision_number": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        indexes=[("network_id",)],
    )
    _add_columns(db, "networks", {"segments": str})
    _add_columns(db, "subnets", {"segment_id": str})


def auto_allocated_topologies(db: sqlite_utils.Database) -> None:
    """The auto-allocated network and router of each project (auto-allocated-topology)."""
    _table(
        db,
        "auto_allocated_topologies",
        {"project_id": str, "network_id": str, "router_id": str},
        pk="project_id",
        indexes=[("network_id",)],
    )


def port_forwarding_revisions(db: sqlite_utils.Database) -> None:
    """Give port forwardings the revision their hosts' NAT state carries (not in the API:
    Neutron shows none), 1 for those that exist."""
    _add_columns(db, "port_forwardings", {"sb_revision": int})
    db.execute("UPDATE port_forwardings SET sb_revision = 1 WHERE sb_revision IS NULL")


def port_trusted(db: sqlite_utils.Database) -> None:
    """The `trusted` flag of ports (port-trusted-vif); NULL is "not set"."""
    _add_columns(db, "ports", {"trusted": int})


MIGRATIONS = [
    initial,
    change_record,
    southbound_ledger,
    southbound_channels,
    gateways,
    rbac_policies,
    qos,
    trunks,
    address_scopes,
    address_groups,
    security_group_features,
    port_forwardings,
    metering,
    flavors,
    subnet_routers,
    dns_names,
    subnet_service_types,
    router_zones,
    segment_ranges,
    network_segments,
    auto_allocated_topologies,
    port_forwarding_revisions,
    port_trusted,
]
