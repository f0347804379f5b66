"""Schema migrations, applied in order, each recorded by its number (alcor/store/ddl.py).

A migration is frozen once released: later changes go into a new function appended to
MIGRATIONS. Columns of resource tables mirror the attribute tables in alcor/resources
(tests/unit/store/test_schema.py checks that they agree). Each migration writes both
dialects through `Ddl`; where they differ it says so with `ddl.sql(sqlite=, postgresql=)`.
"""

from __future__ import annotations

import uuid

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


def _add_columns(ddl: Ddl, table: str, columns: dict[str, type]) -> None:
    """Add columns to a table."""
    for name, kind in columns.items():
        ddl.sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {ddl.column_type(kind)}')


# A random UUID in SQL (data migrations that give existing rows new ids).
_NEW_UUID = {
    "sqlite": "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
    "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || "
    "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))",
    "postgresql": "gen_random_uuid()::text",
}


def rbac_policies(ddl: Ddl) -> None:
    """Add RBAC policies; shared and external networks get their wildcard policies."""
    ddl.table(
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
    _add_columns(ddl, "networks", {"is_default": int})
    ddl.sql("UPDATE networks SET is_default = 0 WHERE is_default IS NULL")
    for column, action in (
        ("shared", "access_as_shared"),
        ("router_external", "access_as_external"),
    ):
        ddl.sql(
            "INSERT INTO rbac_policies (id, project_id, object_type, object_id, action, "
            f"target_tenant) SELECT {_NEW_UUID[ddl.dialect]}, project_id, 'network', id, "
            f"'{action}', '*' FROM networks WHERE {column} = 1"
        )


def qos(ddl: Ddl) -> None:
    """Add QoS policies, their four rule tables, and the bindings of networks and ports."""
    ddl.table(
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
        ddl.table(
            f"qos_{kind}_rules",
            {"id": str, "qos_policy_id": str, "project_id": str, **fields},
            pk="id",
            indexes=[("qos_policy_id",)],
        )
    for table in ("networks", "ports"):
        _add_columns(ddl, table, {"qos_policy_id": str})
        ddl.index(table, ("qos_policy_id",))


def trunks(ddl: Ddl) -> None:
    """Add trunks and their subports (a port is in one trunk at most)."""
    ddl.table(
        "trunks",
        {**STD, "status": str, "admin_state_up": int, "port_id": str},
        pk="id",
        indexes=[("project_id",)],
        unique=[("port_id",)],
    )
    ddl.table(
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


def address_scopes(ddl: Ddl) -> None:
    """Add address scopes (subnet pools already have address_scope_id)."""
    ddl.table(
        "address_scopes",
        {"id": str, "project_id": str, "name": str, "shared": int, "ip_version": int},
        pk="id",
        indexes=[("project_id",)],
    )
    ddl.index("subnetpools", ("address_scope_id",))


def address_groups(ddl: Ddl) -> None:
    """Add address groups, and rules that refer to one (remote_address_group_id)."""
    ddl.table(
        "address_groups",
        {**STD, "addresses": str, "shared": int},
        pk="id",
        indexes=[("project_id",)],
    )
    _add_columns(ddl, "security_group_rules", {"remote_address_group_id": str})
    ddl.index("security_group_rules", ("remote_address_group_id",))


LEGACY_RULE_TEMPLATES = (
    # (direction, ethertype, remote_group_id, used_in_non_default_sg, description)
    ("egress", "IPv4", None, 1, "Legacy default SG rule for egress traffic"),
    ("egress", "IPv6", None, 1, "Legacy default SG rule for egress traffic"),
    ("ingress", "IPv4", "PARENT", 0, "Legacy default SG rule for ingress traffic"),
    ("ingress", "IPv6", "PARENT", 0, "Legacy default SG rule for ingress traffic"),
)


def security_group_features(ddl: Ddl) -> None:
    """Stateful/stateless and RBAC-shared groups, normalized rule CIDRs, and the default
    rule templates (the four rules alcor gave every default group until now)."""
    _add_columns(ddl, "security_groups", {"stateful": int, "shared": int})
    ddl.sql("UPDATE security_groups SET stateful = 1 WHERE stateful IS NULL")
    ddl.sql("UPDATE security_groups SET shared = 0 WHERE shared IS NULL")
    _add_columns(ddl, "security_group_rules", {"normalized_cidr": str})
    # Rules stored so far kept their prefix normalized already.
    ddl.sql("UPDATE security_group_rules SET normalized_cidr = remote_ip_prefix")
    ddl.table(
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
    for direction, ethertype, remote, non_default, desc in LEGACY_RULE_TEMPLATES:
        ddl.sql(
            "INSERT INTO default_security_group_rules (id, description, direction, ethertype, "
            "remote_group_id, used_in_default_sg, used_in_non_default_sg) VALUES "
            f"('{uuid.uuid4()}', '{desc}', '{direction}', '{ethertype}', "
            f"{'NULL' if remote is None else repr(remote)}, 1, {non_default})"
        )


def port_forwardings(ddl: Ddl) -> None:
    """Add floating IP port forwardings."""
    ddl.table(
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


def metering(ddl: Ddl) -> None:
    """Add metering labels and their rules."""
    ddl.table(
        "metering_labels",
        {"id": str, "project_id": str, "name": str, "description": str, "shared": int},
        pk="id",
        indexes=[("project_id",)],
    )
    ddl.table(
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


def flavors(ddl: Ddl) -> None:
    """Add flavors, service profiles, their bindings, and routers' flavor_id."""
    ddl.table(
        "flavors",
        {"id": str, "name": str, "description": str, "service_type": str, "enabled": int},
        pk="id",
    )
    ddl.table(
        "service_profiles",
        {"id": str, "description": str, "driver": str, "metainfo": str, "enabled": int},
        pk="id",
    )
    ddl.table(
        "flavor_service_profiles",
        {"flavor_id": str, "service_profile_id": str},
        pk=("flavor_id", "service_profile_id"),
        indexes=[("service_profile_id",)],
    )
    _add_columns(ddl, "routers", {"flavor_id": str})
    ddl.index("routers", ("flavor_id",))


def subnet_routers(ddl: Ddl) -> None:
    """A subnet may be on several routers: attached_router_ids (attached_router_id stays the
    first of them)."""
    _add_columns(ddl, "subnets", {"attached_router_ids": str})
    ddl.sql(
        "UPDATE subnets SET attached_router_ids = CASE WHEN attached_router_id IS NULL "
        "THEN '[]' ELSE '[\"' || attached_router_id || '\"]' END"
    )


def dns_names(ddl: Ddl) -> None:
    """DNS names and domains of ports and floating IPs, domains of networks."""
    for table, columns in (
        ("ports", ("dns_name", "dns_domain")),
        ("floatingips", ("dns_name", "dns_domain")),
        ("networks", ("dns_domain",)),
    ):
        _add_columns(ddl, table, dict.fromkeys(columns, str))
        for column in columns:
            ddl.sql(f"UPDATE {table} SET {column} = '' WHERE {column} IS NULL")


def subnet_service_types(ddl: Ddl) -> None:
    """Service types of subnets (subnet-service-types)."""
    _add_columns(ddl, "subnets", {"service_types": str})
    ddl.sql("UPDATE subnets SET service_types = '[]' WHERE service_types IS NULL")


def router_zones(ddl: Ddl) -> None:
    """Availability zone hints of routers (router_availability_zone)."""
    _add_columns(ddl, "routers", {"availability_zone_hints": str})
    ddl.sql(
        "UPDATE routers SET availability_zone_hints = '[]' WHERE availability_zone_hints IS NULL"
    )


def segment_ranges(ddl: Ddl) -> None:
    """Network segment ranges (network-segment-range)."""
    ddl.table(
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


def network_segments(ddl: Ddl) -> None:
    """Segments of networks (segment, multi-provider; a network's single segment is written
    when first needed, managers/network/network_segments.py); subnets on segments."""
    ddl.table(
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
    _add_columns(ddl, "networks", {"segments": str})
    _add_columns(ddl, "subnets", {"segment_id": str})


def auto_allocated_topologies(ddl: Ddl) -> None:
    """The auto-allocated network and router of each project (auto-allocated-topology)."""
    ddl.table(
        "auto_allocated_topologies",
        {"project_id": str, "network_id": str, "router_id": str},
        pk="project_id",
        indexes=[("network_id",)],
    )


def port_forwarding_revisions(ddl: Ddl) -> None:
    """Give port forwardings the revision their hosts' NAT state carries (not in the API:
    Neutron shows none), 1 for those that exist."""
    _add_columns(ddl, "port_forwardings", {"sb_revision": int})
    ddl.sql("UPDATE port_forwardings SET sb_revision = 1 WHERE sb_revision IS NULL")


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
    "qos_policies",
    "trunks",
    "address_groups",
    "network_segment_ranges",
)
LISTED = (
    *((table, "tags") for table in TAGGED_TABLES),
    ("networks", "availability_zone_hints"),
    ("networks", "availability_zones"),
    ("network_acls", "associated_subnets"),
    ("routers", "availability_zone_hints"),
    ("subnets", "service_types"),
)


def portable(ddl: Ddl) -> None:
    """Make the schema speak both engines and hold its invariants as constraints.

    List values move to `list_values` (filters without json_each); a generated MAC is
    unique everywhere and a project has one default security group and at most one default
    QoS policy, by unique index.
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
    ddl.index("qos_policies", ("project_id",), unique=True, where="is_default = 1")


def port_trusted(ddl: Ddl) -> None:
    """The `trusted` flag of ports (port-trusted-vif); NULL is "not set"."""
    _add_columns(ddl, "ports", {"trusted": int})


def outbox_senders(ddl: Ddl) -> None:
    """Mark outbox calls in flight by cluster member (several processes, one database)."""
    outbox.add_senders(ddl)


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
    portable,
    outbox_senders,
]
