"""The error hierarchy every component raises on purpose (no HTTP knowledge here).

Each class carries a message template filled from keyword fields, like Neutron's exceptions.
The API layer maps the base classes to HTTP status codes in one table (api/errors.py).
"""

from __future__ import annotations

from typing import Any, ClassVar


class AlcorError(Exception):
    """Base of every error raised on purpose."""

    message: ClassVar[str] = "An unknown error occurred."
    # The NeutronError "type"; defaults to the class name.
    type_name: ClassVar[str | None] = None

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        self.fields = fields
        self.text = message if message is not None else self.message.format(**fields)
        super().__init__(self.text)

    @property
    def type(self) -> str:
        """Return the NeutronError type name of this error."""
        return self.type_name or type(self).__name__


class BadRequest(AlcorError):
    """400: the request is malformed or not applicable."""

    message = "Bad {resource} request: {msg}."


class NotAuthenticated(AlcorError):
    """401: no caller could be established (token missing, unknown or expired)."""

    type_name = "HTTPUnauthorized"
    message = "Authentication required"
    # Extra response headers (WWW-Authenticate), set by the authenticator that raised it.
    headers: dict[str, str]

    def __init__(
        self, message: str | None = None, headers: dict[str, str] | None = None, **fields: Any
    ) -> None:
        super().__init__(message, **fields)
        self.headers = dict(headers or {})


class NotAuthorized(AlcorError):
    """403: the target is visible but the action or attribute is not allowed."""

    type_name = "PolicyNotAuthorized"
    message = "{action} is disallowed by policy."


class NotFound(AlcorError):
    """404: the target does not exist or is not visible to the caller."""

    # Subclasses set None: their own class name is the NeutronError type.
    type_name: ClassVar[str | None] = "HTTPNotFound"
    message = "The resource could not be found."


class Conflict(AlcorError):
    """409: the request conflicts with the current state."""

    message = "{resource} {id} already exists."


class ConcurrentModification(Conflict):
    """409: the request kept losing races with concurrent requests of other processes."""

    message = (
        "The request conflicted with concurrent requests {attempts} times ({reason}); "
        "nothing was applied, retry it."
    )


class PreconditionFailed(AlcorError):
    """412: an If-Match revision constraint failed."""


class Gone(AlcorError):
    """410: what the request points at existed but is no longer kept."""


class CursorExpired(Gone):
    """410: a watch cursor older than the change record's retention."""

    message = (
        "Cursor {cursor} has expired: changes after it are no longer retained; "
        "list the resources again and watch without 'since'"
    )


class RequestTimeout(AlcorError):
    """408: the client did not send its request (headers or body) in time."""

    type_name = "HTTPRequestTimeout"
    message = "The client did not send the complete request in time."


class ServiceUnavailable(AlcorError):
    """503: the server (or a service it depends on) cannot serve the request now."""

    type_name: ClassVar[str | None] = "HTTPServiceUnavailable"
    message = "The server is not ready; retry later."


class DatabaseUnavailable(ServiceUnavailable):
    """503: the database cannot be reached; nothing of the request was applied."""

    type_name = None
    message = "The database is unavailable ({reason}); the request was not applied, retry later."


# ---- 400 -------------------------------------------------------------------------------
class HTTPBadRequest(BadRequest):
    """Malformed body or query, unknown or disallowed attribute, wrong type."""

    message = "{msg}"


class InvalidInput(BadRequest):
    """Semantic validation failed."""

    message = "Invalid input for operation: {error_message}."


class InvalidIpForSubnet(BadRequest):
    """The requested IP is not usable in that subnet."""

    message = "IP address {ip_address} is not a valid IP for the specified subnet."


class InvalidIpForNetwork(BadRequest):
    """The requested IP is in no subnet of the network."""

    message = (
        "IP address {ip_address} is not a valid IP for any of the subnets on the specified network."
    )


class InvalidAllocationPool(BadRequest):
    """Pool start > end or mixed versions."""

    message = "The allocation pool {pool} is not valid."


class OutOfBoundsAllocationPool(BadRequest):
    """Pool outside the CIDR or covering network/broadcast."""

    message = "The allocation pool {pool} spans beyond the subnet cidr {subnet_cidr}."


class DNSNameServersExhausted(BadRequest):
    """Too many DNS name servers."""

    message = (
        "Unable to complete operation for {subnet_id}. The number of DNS nameservers "
        "exceeds the limit {quota}."
    )


class HostRoutesExhausted(BadRequest):
    """Too many host routes."""

    message = (
        "Unable to complete operation for {subnet_id}. The number of host routes "
        "exceeds the limit {quota}."
    )


class InvalidRoutes(BadRequest):
    """Router routes are invalid."""

    message = "Invalid format for routes: {routes}, {reason}"


class RoutesExhausted(BadRequest):
    """Too many router routes."""

    message = (
        "Unable to complete operation for {router_id}. The number of routes exceeds "
        "the maximum {quota}."
    )


class SecurityGroupRuleInvalidProtocol(BadRequest):
    """Unknown protocol in an SG rule."""

    message = (
        "Security group rule protocol {protocol} not supported. Only protocol values "
        "{values} and integer representations [0 to 255] are supported."
    )


class SecurityGroupInvalidPortRange(BadRequest):
    """port_range_min > port_range_max."""

    message = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidPortValue(BadRequest):
    """A port outside 1-65535."""

    message = "Invalid value for port {port}"


class SecurityGroupInvalidIcmpValue(BadRequest):
    """ICMP type/code outside 0-255."""

    message = "Invalid value for ICMP {field} (type or code) {attr} {value}. It must be 0 to 255."


class SecurityGroupMissingIcmpType(BadRequest):
    """ICMP code without type."""

    message = (
        "ICMP code (port-range-max) {value} is provided but ICMP type (port-range-min) is missing."
    )


class SecurityGroupInvalidProtocolForPort(BadRequest):
    """Ports on a protocol without ports."""

    message = "Invalid protocol {protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP."


class SecurityGroupRemoteGroupAndRemoteIpPrefix(BadRequest):
    """Both remote_group_id and remote_ip_prefix."""

    message = "Only remote_ip_prefix or remote_group_id may be provided."


class SecurityGroupRuleParameterConflict(BadRequest):
    """remote_ip_prefix version differs from ethertype."""

    message = "Conflicting value ethertype {ethertype} for CIDR {cidr}"


class SecurityGroupEthertypeConflictWithProtocol(BadRequest):
    """IPv6-only protocol with IPv4."""

    message = "Ethertype {ethertype} is not supported for protocol {protocol}."


class PortSecurityAndIPRequiredForSecurityGroups(BadRequest):
    """Security groups on a port without port security or IPs."""

    message = (
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups."
    )


class AllowedAddressPairExhausted(BadRequest):
    """Too many allowed address pairs."""

    message = "The number of allowed address pair exceeds the maximum {quota}."


class DuplicateAddressPairInRequest(BadRequest):
    """The same pair twice."""

    message = "Request contains duplicate address pair: mac_address {mac_address} ip_address {ip_address}."


# ---- 404 -------------------------------------------------------------------------------
class NetworkNotFound(NotFound):
    """Network not visible."""

    type_name = None
    message = "Network {id} could not be found."


class SubnetNotFound(NotFound):
    """Subnet not visible."""

    type_name = None
    message = "Subnet {id} could not be found."


class PortNotFound(NotFound):
    """Port not visible."""

    type_name = None
    message = "Port {id} could not be found."


class RouterNotFound(NotFound):
    """Router not visible."""

    type_name = None
    message = "Router {id} could not be found."


class FloatingIPNotFound(NotFound):
    """Floating IP not visible."""

    type_name = None
    message = "Floating IP {id} could not be found."


class SecurityGroupNotFound(NotFound):
    """Security group not visible."""

    type_name = None
    message = "Security group {id} does not exist"


class SecurityGroupRuleNotFound(NotFound):
    """Security group rule not visible."""

    type_name = None
    message = "Security group rule {id} does not exist"


class RouterInterfaceNotFound(NotFound):
    """remove_router_interface by a port that is not an interface."""

    type_name = None
    message = "Router {router_id} does not have an interface with id {port_id}"


class RouterInterfaceNotFoundForSubnet(NotFound):
    """remove_router_interface by a subnet without an interface."""

    type_name = None
    message = "Router {router_id} has no interface on subnet {subnet_id}"


class ExternalGatewayForFloatingIPNotFound(NotFound):
    """No router connects the port's subnet to the external network."""

    type_name = None
    message = (
        "External network {external_network_id} is not reachable from subnet {subnet_id}. "
        "Therefore, cannot associate Port {port_id} with a Floating IP."
    )


class AvailabilityZoneNotFound(NotFound):
    """Unknown AZ."""

    type_name = None
    message = "AvailabilityZone {availability_zone} could not be found."


class TagNotFound(NotFound):
    """Tag absent."""

    type_name = None
    message = "Tag {tag} could not be found for {resource} {resource_id}."


class TenantQuotaNotFound(NotFound):
    """No quota overrides for the project."""

    type_name = None
    message = "Quota for tenant {tenant_id} could not be found."


class GatewayNotFound(NotFound):
    """Gateway not visible."""

    type_name = None
    message = "Gateway {id} could not be found."


class NodeNotFound(NotFound):
    """Node id unknown."""

    type_name = None
    message = "Node {id} could not be found."


class NetworkAclNotFound(NotFound):
    """Network ACL not visible."""

    type_name = None
    message = "Network ACL {id} could not be found."


class NetworkAclRuleNotFound(NotFound):
    """Network ACL rule not visible."""

    type_name = None
    message = "Network ACL rule {id} could not be found."


class ExtensionNotFound(NotFound):
    """Unknown extension alias."""

    type_name = "HTTPNotFound"
    message = "The resource could not be found."


class HTTPMethodNotAllowed(AlcorError):
    """405: the path exists but not with this method."""

    message = "The method {method} is not allowed for this resource."

    def __init__(self, allowed: list[str], **fields: Any) -> None:
        super().__init__(**fields)
        self.allowed = allowed


class HTTPRequestEntityTooLarge(AlcorError):
    """413: body over api.max_body_bytes."""

    message = "Request is too large."


# ---- 409 -------------------------------------------------------------------------------
class InUse(Conflict):
    """Base of the in-use conflicts."""


class NetworkInUse(InUse):
    """Network still has ports."""

    message = (
        "Unable to complete operation on network {net_id}. There are one or more ports "
        "still in use on the network."
    )


class SubnetInUse(InUse):
    """Subnet still has allocations, or is attached elsewhere."""

    message = "Unable to complete operation on subnet {subnet_id}: {reason}."


class PortInUse(InUse):
    """The port already has a device."""

    message = (
        "Unable to complete operation on port {port_id} for network {net_id}. Port already "
        "has an attached device {device_id}."
    )


class ServicePortInUse(InUse):
    """A router/floating IP port deleted directly."""

    message = "Port {port_id} cannot be deleted directly via the port API: has device owner {device_owner}."


class PortBound(InUse):
    """MAC change on a bound port."""

    message = (
        "Unable to complete operation on port {port_id}, port is already bound, port type: "
        "{vif_type}, old_mac {old_mac}, new_mac {new_mac}."
    )


class MacAddressInUse(InUse):
    """MAC already on the network."""

    message = "Unable to complete operation for network {net_id}. The mac address {mac} is in use."


class IpAddressAlreadyAllocated(Conflict):
    """Requested IP already allocated."""

    message = "IP address {ip} already allocated in subnet {subnet_id}"


class IpAddressGenerationFailure(Conflict):
    """No free address."""

    message = "No more IP addresses available on network {net_id}."


class IpAddressGenerationFailureNoMatchingSubnet(IpAddressGenerationFailure):
    """No subnet of the network serves the port's device owner (subnet-service-types)."""

    message = (
        "No valid service subnet for the given device owner, network {network_id}, "
        "service type {service_type}."
    )


class GatewayConflictWithAllocationPools(InUse):
    """Gateway inside a pool."""

    message = "Gateway ip {ip_address} conflicts with allocation pool {pool}."


class OverlappingAllocationPools(Conflict):
    """Pools overlap."""

    message = "Found overlapping allocation pools: {pool_1} {pool_2} for subnet {subnet_cidr}."


class GatewayIpInUse(InUse):
    """Gateway held by a router interface."""

    message = "Current gateway ip {ip_address} already in use by port {port_id}. Unable to update."


class InvalidSharedSetting(Conflict):
    """shared→false while others use it."""

    message = "Unable to reconfigure sharing settings for network {network}. Multiple tenants are using it."


class ExternalNetworkInUse(InUse):
    """router:external→false with gateway/FIP ports."""

    message = (
        "External network {net_id} cannot be updated to be made non-external, since it has "
        "existing gateway ports."
    )


class TunnelIdInUse(InUse):
    """Segmentation id taken."""

    message = "Unable to create the network. The tunnel ID {tunnel_id} is in use."


class VlanIdInUse(InUse):
    """VLAN id taken."""

    message = (
        "Unable to create the network. The VLAN {vlan_id} on physical network "
        "{physical_network} is in use."
    )


class FlatNetworkInUse(InUse):
    """Flat physnet taken."""

    message = "Unable to create the flat network. Physical network {physical_network} is in use."


class RouterInUse(InUse):
    """Router still has interfaces."""

    message = "Router {router_id} still has ports"


class RouterInterfaceInUseByFloatingIP(InUse):
    """Interface needed by a floating IP."""

    message = (
        "Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as "
        "it is required by one or more floating IPs."
    )


class RouterInterfaceInUseAsGatewayByFloatingIP(InUse):
    """Interface on the floating network that floating IPs go out through."""

    message = (
        "Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as "
        "it is required by one or more floating IPs as a gateway."
    )


class RouterInterfaceInUseByRoute(InUse):
    """Interface needed by a route."""

    message = (
        "Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as "
        "it is required by one or more routes."
    )


class RouterExternalGatewayInUseByFloatingIp(InUse):
    """Gateway needed by floating IPs."""

    message = (
        "Gateway cannot be updated for router {router_id}, since a gateway to external network "
        "{net_id} is required by one or more floating IPs."
    )


class SecurityGroupInUse(InUse):
    """SG used by ports."""

    message = "Security Group {id} in use."


class SecurityGroupCannotRemoveDefault(InUse):
    """Non-admin deletes default."""

    message = "Insufficient rights for removing default security group."


class SecurityGroupCannotUpdateDefault(InUse):
    """Renaming default."""

    message = "Updating default security group not allowed."


class SecurityGroupDefaultAlreadyExists(InUse):
    """Naming a group default."""

    message = "Default security group already exists."


class SecurityGroupRuleExists(InUse):
    """Duplicate rule."""

    message = "Security group rule already exists. Rule id is {rule_id}."


class FloatingIPPortAlreadyAssociated(InUse):
    """Fixed IP already has a FIP on that network."""

    message = (
        "Cannot associate floating IP {floating_ip_address} ({fip_id}) with port {port_id} "
        "using fixed IP {fixed_ip}, as that fixed IP already has a floating IP on external "
        "network {net_id}."
    )


class PortSecurityPortHasSecurityGroup(InUse):
    """Disabling port security with SGs."""

    message = (
        "Port has security group associated. Cannot disable port security or ip address "
        "until security group is removed."
    )


class NetworkMTUSubnetConflict(Conflict):
    """The network's MTU is below what one of its (new) subnets needs (68 IPv4, 1280 IPv6)."""

    message = "MTU of {net_id} is not valid, subnet requires a minimum of {mtu}"


class AddressPairAndPortSecurityRequired(Conflict):
    """Address pairs without port security."""

    message = "Port Security must be enabled in order to have allowed address pairs on a port."


class OverQuota(Conflict):
    """Quota exceeded."""

    message = "Quota exceeded for resources: {overs}."


class NodeExists(Conflict):
    """Duplicate node id."""

    message = "Node {id} already exists."


class NodeNameInUse(Conflict):
    """Duplicate node name."""

    message = "Node name {name} is already used by node {id}."


class NodeAddressInUse(Conflict):
    """Duplicate (local_ip, server_port)."""

    message = "Address {address} is already used by node {id}."


class NodeInUse(Conflict):
    """Ports bound to the node."""

    message = "Node {id} is in use: {reason}."


class NetworkAclInUse(Conflict):
    """ACL in use."""

    message = "Network ACL {id} is in use: {reason}."


class NetworkAclRuleExists(Conflict):
    """Duplicate ACL rule number."""

    message = "Network ACL rule number {number} already exists in network ACL {acl_id}."


# ---- 412 / 503 -------------------------------------------------------------------------
class RevisionNumberConstraintFailed(PreconditionFailed):
    """If-Match revision mismatch."""

    message = "Constrained to {expected}, but current revision is {current}"


class NoNetworkAvailable(ServiceUnavailable):
    """Segmentation ranges exhausted."""

    type_name = None
    message = "Unable to create the network. No tenant network is available for allocation."


class MacAddressGenerationFailure(ServiceUnavailable):
    """No unique MAC after 16 tries."""

    type_name = None
    message = "Unable to generate unique mac on network {net_id}."
