"""The extension aliases alcor implements (GET /v2.0/extensions lists exactly these)."""

from __future__ import annotations

from typing import Any

UPDATED = "2024-01-01T00:00:00-00:00"

# alias -> (name, description)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "address-scope": ("Address scope", "Address scopes extension."),
    "allowed-address-pairs": ("Allowed Address Pairs", "Provides allowed address pairs"),
    "auto-allocated-topology": (
        "Auto Allocated Topology Services",
        "Auto Allocated Topology Services.",
    ),
    "availability_zone": ("Availability Zone", "The availability zone extension."),
    "binding": ("Port Binding", "Expose port bindings of a virtual port to external application"),
    "default-subnetpools": (
        "Default Subnetpools",
        "Provides ability to mark and use a subnetpool as the default.",
    ),
    "dns-integration": ("DNS Integration", "Provides integration with DNS."),
    "dns-domain-ports": (
        "dns_domain for ports",
        "Allows the DNS domain to be specified for a network port.",
    ),
    "dvr": ("Distributed Virtual Router", "Enables configuration of Distributed Virtual Routers."),
    "empty-string-filtering": (
        "Empty String Filtering Extension",
        "Allow filtering by attributes with empty string value",
    ),
    "external-net": (
        "Neutron external network",
        "Adds external network attribute to network resource.",
    ),
    "extra_dhcp_opt": (
        "Neutron Extra DHCP options",
        "Extra options configuration for DHCP. For "
        "example PXE boot options to DHCP clients "
        "can be specified (e.g. tftp-server, "
        "server-ip-address, bootfile-name)",
    ),
    "extraroute": ("Neutron Extra Route", "Extra routes configuration for L3 router"),
    "extraroute-atomic": (
        "Atomically add/remove extra routes",
        "Edit extra routes of a router on server side by atomically adding/removing extra routes",
    ),
    "ext-gw-mode": (
        "Neutron L3 Configurable external gateway mode",
        "Extension of the router abstraction for specifying whether SNAT should "
        "occur on the external gateway",
    ),
    "filter-validation": (
        "Filter parameters validation",
        "Provides validation on filter parameters.",
    ),
    "floating-ip-router-writable": (
        "Floating IP Router (writable)",
        "Provides a writable router_id attribute for a floating IP resource.",
    ),
    "floatingip-pools": ("Floating IP Pools Extension", "Provides a floating IP pools API."),
    "flavors": ("Neutron Service Flavors", "Flavor specification for Neutron advanced services."),
    "l3-flavors": ("Router Flavor Extension", "Flavor support for routers."),
    "floating-ip-port-forwarding": (
        "Floating IP Port Forwarding",
        "Provide a way to configure port forwarding on Floating IP",
    ),
    "floating-ip-port-forwarding-description": (
        "Floating IP Port Forwarding new attribute description",
        "Add a description field to Port Forwarding rules",
    ),
    "floating-ip-port-forwarding-detail": (
        "Floating IP Port Forwarding Detail",
        "Add 'id' and 'internal_port_id' in port forwarding of floating IP",
    ),
    "floating-ip-port-forwarding-port-ranges": (
        "Floating IP Port Forwarding support port ranges",
        "Add suport to port ranges on Port Forwarding rules",
    ),
    "expose-port-forwarding-in-fip": (
        "Expose port forwardings in floating IP",
        "Expose port forwardings in floating IP",
    ),
    "fip-port-details": (
        "Floating IP Port Details Extension",
        "Add port_details attribute to Floating IP resource",
    ),
    "ip-substring-filtering": (
        "IP address substring filtering",
        "Provides IP address substring filtering when listing ports",
    ),
    "segment": ("Segment", "Segments extension."),
    "service-type": (
        "Neutron Service Type Management",
        "API for retrieving service providers for Neutron advanced services",
    ),
    "l3-ha": (
        "HA Router extension",
        "Adds HA capability to routers (recorded: alcor routers "
        "are distributed to every host that needs them).",
    ),
    "metering": ("Neutron Metering", "Neutron Metering extension."),
    "metering_source_and_destination_filters": (
        "Neutron Metering with source and destination filtering",
        "Neutron Metering extension that enables the use of source and destination IP "
        "prefixes to create metering label rules.",
    ),
    "multi-provider": (
        "Multi Provider Network",
        "Expose mapping of virtual networks to multiple physical networks",
    ),
    "net-mtu": ("Network MTU", "Provides MTU attribute for a network resource."),
    "net-mtu-writable": (
        "Network MTU (writable)",
        "Provides a writable MTU attribute for a network resource.",
    ),
    "network-ip-availability": (
        "Network IP Availability",
        "Provides IP availability data for each network and subnet.",
    ),
    "network-segment-range": (
        "Neutron Network Segment Range",
        "Provides support for the network segment range management",
    ),
    "network_availability_zone": (
        "Network Availability Zone",
        "Availability zone support for network.",
    ),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "port-mac-address-regenerate": (
        "Neutron Port MAC address regenerate",
        "Network port MAC address regenerate",
    ),
    "port-resource-request": ("Port Resource Request", "Expose resource request to Port"),
    "port-resource-request-groups": (
        "Port Resource Request Groups",
        "Support requesting multiple groups of resources and traits from the same RP subtree "
        "in resource_request",
    ),
    "port-security": ("Port Security", "Provides port security"),
    "port-trusted-vif": ("Port trusted vif", "Expose port 'trusted' attribute in the API"),
    "port-security-groups-filtering": (
        "Port filtering on security groups",
        "Provides security groups filtering when listing ports",
    ),
    "project-id": (
        "project_id field enabled",
        "Extension that indicates that project_id field is enabled.",
    ),
    "provider": ("Provider Network", "Expose mapping of virtual networks to physical networks"),
    "qos": ("Quality of Service", "The Quality of Service extension."),
    "qos-bw-limit-direction": (
        "Direction for QoS bandwidth limit rule",
        "Allow to configure QoS bandwidth limit rule with specific direction: ingress or egress",
    ),
    "qos-bw-minimum-ingress": (
        "Ingress direction for QoS minimum bandwidth rule",
        "Allow to configure QoS minumum bandwidth rule with ingress direction.",
    ),
    "qos-default": ("QoS default policy", "Expose the QoS default policy per project"),
    "qos-pps-minimum": (
        "QoS minimum packet rate rule",
        "Allow to configure QoS minimum packet rate rule.",
    ),
    "qos-rule-type-details": (
        "Details of QoS rule types",
        "Expose details about QoS rule types supported by loaded backend drivers",
    ),
    "quota-check-limit": (
        "Quota engine limit check",
        "Support for checking the resource usage before applying a new quota limit",
    ),
    "quotas": ("Quota management support", "Expose functions for quotas management per tenant"),
    "quota_details": (
        "Quota details management support",
        "Expose functions for quotas usage statistics per project",
    ),
    "rbac-address-scope": (
        "Add address_scope type to RBAC",
        "Add address_scope type to RBAC",
    ),
    "rbac-subnetpool": ("Add subnetpool type to RBAC", "Add subnetpool type to RBAC"),
    "rbac-policies": (
        "RBAC Policies",
        "Allows creation and modification of policies that control project access to resources.",
    ),
    "revision-if-match": (
        "If-Match constraints based on revision_number",
        "Extension indicating that If-Match based on revision_number is supported.",
    ),
    "router-interface-fip": (
        "Router Interface FIP",
        "Allow floating IPs via router interfaces (not only router gateways)",
    ),
    "router_availability_zone": (
        "Router Availability Zone",
        "Availability zone support for router.",
    ),
    "router-admin-state-down-before-update": (
        "Enforce Router's Admin State Down Before Update Extension",
        "Ensure that the admin state of a router is down (False) before updating the "
        "distributed attribute",
    ),
    "router": (
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 "
        "networks and access to external networks via a NAT "
        "gateway.",
    ),
    "security-group": ("security-group", "The security groups extension."),
    "security-groups-default-rules": (
        "Default rules for security groups",
        "Configure set of security group rules used in newly created Security Groups",
    ),
    "security-groups-normalized-cidr": (
        "Security Group Rule normalized CIDR",
        "Add new field with normalized remote_ip_prefix cidr in SG rule",
    ),
    "security-groups-remote-address-group": (
        "Remote address group id field for security group rules",
        "Add new field of remote address group id in SG rules",
    ),
    "security-groups-shared-filtering": (
        "Security group filtering on the shared field",
        "Support filtering security groups on the shared field",
    ),
    "stateful-security-group": (
        "Stateful security group",
        "Indicates if the security group is stateful or not",
    ),
    "rbac-security-groups": (
        "Add security_group type to network RBAC",
        "Add security_group type to network RBAC",
    ),
    "address-group": ("Address group", "Support address group"),
    "rbac-address-group": (
        "Add address_group type to RBAC",
        "Add address_group type to RBAC",
    ),
    "subnet-service-types": (
        "Subnet service types",
        "Provides ability to set the subnet service_types field",
    ),
    "subnet_onboard": (
        "Subnet Onboard",
        "Provides support for onboarding subnets into subnet pools",
    ),
    "subnet_allocation": ("Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
    "subnetpool-prefix-ops": (
        "Subnet Pool Prefix Operations",
        "Provides support for adjusting the prefix list of subnet pools",
    ),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "standard-attr-description": (
        "standard-attr-description",
        "Extension to add descriptions to standard attributes",
    ),
    "standard-attr-revisions": (
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
    ),
    "standard-attr-segment": (
        "Standard Attribute Segment Extension",
        "Add standard attributes to Segment resource",
    ),
    "standard-attr-tag": (
        "Tag support for resources with standard attribute",
        "Enables to set tag on resources with standard attribute.",
    ),
    # Tags are accepted on every create, bulk ones included (neutron-tempest-plugin).
    "tag-ports-during-bulk-creation": (
        "Tag Ports During Bulk Creation",
        "Allow to tag ports during bulk creation",
    ),
    "trunk": ("Trunk Extension", "Provides support for trunk ports"),
    "trunk-details": (
        "Trunk port details",
        "Expose trunk port details",
    ),
    "standard-attr-timestamp": (
        "Resource timestamps",
        "Adds created_at and updated_at fields "
        "to all Neutron resources that have "
        "Neutron standard attributes.",
    ),
    "alcor": (
        "Alcor extensions",
        "Client-supplied ids, network cidr, subnet attached_router_id "
        "and the original Alcor's native paths",
    ),
}


def extension_doc(alias: str) -> dict[str, Any]:
    """Return the extension document of one alias."""
    name, description = EXTENSIONS[alias]
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "updated": UPDATED,
        "links": [],
    }


def all_extensions() -> list[dict[str, Any]]:
    """Return every implemented extension, sorted by alias."""
    return [extension_doc(alias) for alias in sorted(EXTENSIONS)]
