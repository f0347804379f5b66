"""The one URL table: every path alcor serves, built from the resource APIs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from alcor import errors
from alcor.api import http
from alcor.api import service as webmod
from alcor.api.actions import add_action_routes, add_flavor_profile_routes
from alcor.api.l3 import (
    add_floatingip_pool_routes,
    add_ip_availability_routes,
    add_router_action_routes,
)
from alcor.api.misc import add_qos_rule_type_routes, availability_zones
from alcor.api.openapi import bulk_update_body, wrapped
from alcor.api.quotas import QUOTA_BODY, QuotaHandlers
from alcor.api.resources import (
    ResourceApi,
    ResourceHandlers,
    add_resource_routes,
    fields_of,
    renderer,
)
from alcor.api.routing import Handler, Route, Router
from alcor.api.trace import add_trace_routes
from alcor.api.watch import Watchable, watch_handler
from alcor.managers.acl import messages as acl
from alcor.managers.address_group import messages as agroup
from alcor.managers.address_scope import messages as scope
from alcor.managers.auto_allocate import messages as auto
from alcor.managers.flavor import messages as flavor
from alcor.managers.floatingip import messages as fip
from alcor.managers.gateway import messages as gw
from alcor.managers.metering import messages as meter
from alcor.managers.network import messages as net
from alcor.managers.node import messages as node
from alcor.managers.port import messages as port
from alcor.managers.port_forwarding import messages as pfwd
from alcor.managers.qos import messages as qos
from alcor.managers.rbac import messages as rbac
from alcor.managers.router import messages as rtr
from alcor.managers.security_group import messages as sg
from alcor.managers.subnet import messages as subnet
from alcor.managers.subnetpool import messages as pool
from alcor.managers.trunk import messages as trunk
from alcor.resources.address_group import ADDRESS_GROUP
from alcor.resources.address_scope import ADDRESS_SCOPE
from alcor.resources.base import validate_update
from alcor.resources.flavor import FLAVOR, SERVICE_PROFILE
from alcor.resources.floatingip import FLOATINGIP
from alcor.resources.gateway import GATEWAY
from alcor.resources.metering import METERING_LABEL, METERING_LABEL_RULE
from alcor.resources.network import NETWORK
from alcor.resources.network_acl import NETWORK_ACL, NETWORK_ACL_RULE
from alcor.resources.node import NODE
from alcor.resources.port import PORT
from alcor.resources.port_forwarding import PORT_FORWARDING
from alcor.resources.qos import QOS_POLICY, RULES
from alcor.resources.rbac import RBAC_POLICY
from alcor.resources.router import ROUTER
from alcor.resources.security_group import (
    DEFAULT_SG_RULE,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
)
from alcor.resources.segment import SEGMENT
from alcor.resources.segment_range import NETWORK_SEGMENT_RANGE
from alcor.resources.subnet import SUBNET
from alcor.resources.subnetpool import SUBNETPOOL
from alcor.resources.trunk import TRUNK
from alcor.resources.types import Cidr, Invalid, ListOf, Uuid
from alcor.southbound import commands as dp


def _node_aliases(item: dict[str, Any]) -> dict[str, Any]:
    """Accept `data_path_ip` for `data-path-ip` (southbound spec §2.1)."""
    if "data_path_ip" in item:
        item = dict(item)
        item.setdefault("data-path-ip", item.pop("data_path_ip"))
    return item


async def _node_delivery(bus: Any, node_obj: dict[str, Any]) -> dict[str, Any]:
    """Add the node's southbound delivery state (southbound spec §5.3)."""
    state = await bus.call(dp.NodeDeliveryState(node_id=node_obj["node_id"]))
    return {"southbound": state}


RESOURCE_APIS = (
    ResourceApi(
        NETWORK,
        net.CreateNetworks,
        net.GetNetwork,
        net.ListNetworks,
        net.UpdateNetwork,
        net.DeleteNetwork,
        view=net.ViewNetworks,
        v2_path="/v2.0/networks",
        native_path="vpcs",
        bulk_keys=("vpcs",),
    ),
    ResourceApi(
        NETWORK_SEGMENT_RANGE,
        net.CreateNetworkSegmentRanges,
        net.GetNetworkSegmentRange,
        net.ListNetworkSegmentRanges,
        net.UpdateNetworkSegmentRange,
        net.DeleteNetworkSegmentRange,
        v2_path="/v2.0/network-segment-ranges",
    ),
    ResourceApi(
        SEGMENT,
        net.CreateSegments,
        net.GetSegment,
        net.ListSegments,
        net.UpdateSegment,
        net.DeleteSegment,
        v2_path="/v2.0/segments",
    ),
    ResourceApi(
        SUBNET,
        subnet.CreateSubnets,
        subnet.GetSubnet,
        subnet.ListSubnets,
        subnet.UpdateSubnet,
        subnet.DeleteSubnet,
        view=subnet.ViewSubnets,
        v2_path="/v2.0/subnets",
        native_path="subnets",
    ),
    ResourceApi(
        SUBNETPOOL,
        pool.CreateSubnetPools,
        pool.GetSubnetPool,
        pool.ListSubnetPools,
        pool.UpdateSubnetPool,
        pool.DeleteSubnetPool,
        view=pool.ViewSubnetPools,
        v2_path="/v2.0/subnetpools",
        native_path="subnetpools",
    ),
    ResourceApi(
        PORT,
        port.CreatePorts,
        port.GetPort,
        port.ListPorts,
        port.UpdatePort,
        port.DeletePort,
        view=port.ViewPorts,
        v2_path="/v2.0/ports",
        native_path="ports",
    ),
    ResourceApi(
        SECURITY_GROUP,
        sg.CreateSecurityGroups,
        sg.GetSecurityGroup,
        sg.ListSecurityGroups,
        sg.UpdateSecurityGroup,
        sg.DeleteSecurityGroup,
        view=sg.ViewSecurityGroups,
        v2_path="/v2.0/security-groups",
        native_path="security-groups",
    ),
    ResourceApi(
        SECURITY_GROUP_RULE,
        sg.CreateSecurityGroupRules,
        sg.GetSecurityGroupRule,
        sg.ListSecurityGroupRules,
        sg.UpdateSecurityGroupRule,
        sg.DeleteSecurityGroupRule,
        view=sg.ViewSecurityGroupRules,
        v2_path="/v2.0/security-group-rules",
        native_path="security-group-rules",
    ),
    ResourceApi(
        DEFAULT_SG_RULE,
        sg.CreateDefaultSecurityGroupRules,
        sg.GetDefaultSecurityGroupRule,
        sg.ListDefaultSecurityGroupRules,
        sg.UpdateDefaultSecurityGroupRule,
        sg.DeleteDefaultSecurityGroupRule,
        v2_path="/v2.0/default-security-group-rules",
    ),
    ResourceApi(
        ROUTER,
        rtr.CreateRouters,
        rtr.GetRouter,
        rtr.ListRouters,
        rtr.UpdateRouter,
        rtr.DeleteRouter,
        view=rtr.ViewRouters,
        v2_path="/v2.0/routers",
        native_path="routers",
    ),
    ResourceApi(
        FLOATINGIP,
        fip.CreateFloatingIps,
        fip.GetFloatingIp,
        fip.ListFloatingIps,
        fip.UpdateFloatingIp,
        fip.DeleteFloatingIp,
        view=fip.ViewFloatingIps,
        v2_path="/v2.0/floatingips",
        native_path="elasticips",
    ),
    ResourceApi(
        RBAC_POLICY,
        rbac.CreateRbacPolicies,
        rbac.GetRbacPolicy,
        rbac.ListRbacPolicies,
        rbac.UpdateRbacPolicy,
        rbac.DeleteRbacPolicy,
        v2_path="/v2.0/rbac-policies",
    ),
    ResourceApi(
        QOS_POLICY,
        qos.CreateQosPolicies,
        qos.GetQosPolicy,
        qos.ListQosPolicies,
        qos.UpdateQosPolicy,
        qos.DeleteQosPolicy,
        v2_path="/v2.0/qos/policies",
        tags_path="/v2.0/policies",
    ),
    *(
        ResourceApi(
            rule,
            qos.CreateQosRules,
            qos.GetQosRule,
            qos.ListQosRules,
            qos.UpdateQosRule,
            qos.DeleteQosRule,
            v2_path=f"/v2.0/qos/policies/{{id}}/{rule.collection}",
            parent_param="id",
            item_param="rule_id",
            command_args=(("rule_type", rule_type),),
        )
        for rule_type, rule in RULES.items()
    ),
    ResourceApi(
        ADDRESS_SCOPE,
        scope.CreateAddressScopes,
        scope.GetAddressScope,
        scope.ListAddressScopes,
        scope.UpdateAddressScope,
        scope.DeleteAddressScope,
        v2_path="/v2.0/address-scopes",
    ),
    ResourceApi(
        PORT_FORWARDING,
        pfwd.CreatePortForwardings,
        pfwd.GetPortForwarding,
        pfwd.ListPortForwardings,
        pfwd.UpdatePortForwarding,
        pfwd.DeletePortForwarding,
        v2_path="/v2.0/floatingips/{id}/port_forwardings",
        parent_param="id",
        item_param="pf_id",
    ),
    ResourceApi(
        ADDRESS_GROUP,
        agroup.CreateAddressGroups,
        agroup.GetAddressGroup,
        agroup.ListAddressGroups,
        agroup.UpdateAddressGroup,
        agroup.DeleteAddressGroup,
        v2_path="/v2.0/address-groups",
    ),
    ResourceApi(
        TRUNK,
        trunk.CreateTrunks,
        trunk.GetTrunk,
        trunk.ListTrunks,
        trunk.UpdateTrunk,
        trunk.DeleteTrunk,
        v2_path="/v2.0/trunks",
    ),
    ResourceApi(
        FLAVOR,
        flavor.CreateFlavors,
        flavor.GetFlavor,
        flavor.ListFlavors,
        flavor.UpdateFlavor,
        flavor.DeleteFlavor,
        v2_path="/v2.0/flavors",
    ),
    ResourceApi(
        SERVICE_PROFILE,
        flavor.CreateServiceProfiles,
        flavor.GetServiceProfile,
        flavor.ListServiceProfiles,
        flavor.UpdateServiceProfile,
        flavor.DeleteServiceProfile,
        v2_path="/v2.0/service_profiles",
    ),
    ResourceApi(
        METERING_LABEL,
        meter.CreateMeteringLabels,
        meter.GetMeteringLabel,
        meter.ListMeteringLabels,
        meter.UpdateMeteringLabel,
        meter.DeleteMeteringLabel,
        v2_path="/v2.0/metering/metering-labels",
    ),
    ResourceApi(
        METERING_LABEL_RULE,
        meter.CreateMeteringLabelRules,
        meter.GetMeteringLabelRule,
        meter.ListMeteringLabelRules,
        meter.UpdateMeteringLabelRule,
        meter.DeleteMeteringLabelRule,
        v2_path="/v2.0/metering/metering-label-rules",
    ),
    ResourceApi(
        NETWORK_ACL,
        acl.CreateNetworkAcls,
        acl.GetNetworkAcl,
        acl.ListNetworkAcls,
        acl.UpdateNetworkAcl,
        acl.DeleteNetworkAcl,
        view=acl.ViewNetworkAcls,
        native_path="network-acls",
    ),
    ResourceApi(
        NETWORK_ACL_RULE,
        acl.CreateNetworkAclRules,
        acl.GetNetworkAclRule,
        acl.ListNetworkAclRules,
        acl.UpdateNetworkAclRule,
        acl.DeleteNetworkAclRule,
        view=acl.ViewNetworkAclRules,
        native_path="network-acl-rules",
    ),
    ResourceApi(
        GATEWAY,
        None,
        gw.GetGateway,
        gw.ListGateways,
        None,
        None,
        v2_path="/v2.0/gateways",
        native_path="gateways",
        native_names=(("network_id", "vpc_id"),),
        view=gw.ViewGateways,
    ),
    ResourceApi(
        NODE,
        node.CreateNodes,
        node.GetNode,
        node.ListNodes,
        node.UpdateNode,
        node.DeleteNode,
        view=node.ViewNodes,
        root_path="/nodes",
        preprocess=_node_aliases,
        id_key="node_id",
        show_extra=_node_delivery,
    ),
)


def build_router(alcor: Any) -> Router:
    """Return the router with every route of the API."""
    router = Router()
    public = (
        ("GET", "/", webmod.versions),
        ("GET", "/v2.0", webmod.resources_doc),
        ("GET", "/healthz", webmod.healthz),
        ("GET", "/metrics", webmod.metrics),
    )
    for method, template, handler in public:
        router.add(Route(method, template, handler, public=True))
    router.add(Route("GET", "/openapi.json", _openapi_handler(router), public=True))
    router.add(Route("GET", "/v2.0/extensions", webmod.extensions))
    router.add(Route("GET", "/v2.0/extensions/{alias}", webmod.extension))
    router.add(Route("POST", "/segments/createDefaultTable", webmod.segments_default_table))
    router.add(Route("GET", "/v2.0/agents", webmod.agents))
    add_qos_rule_type_routes(router, alcor)
    router.add(Route("GET", "/v2.0/service-providers", webmod.service_providers))
    router.add(
        Route(
            "GET",
            "/v2.0/availability_zones",
            availability_zones(alcor.config.network.availability_zones),
        )
    )
    for api in RESOURCE_APIS:
        add_resource_routes(router, api, ResourceHandlers(api, alcor.bus, alcor.config))
    _add_port_bulk_update(router, alcor)
    _add_subnetpool_prefix_ops(router, alcor)
    _add_subnet_onboard(router, alcor)
    _add_auto_allocated_topology(router, alcor)
    _add_bulk_update(router, alcor, NETWORK_ACL, "network-acls", acl.UpdateNetworkAcls)
    _add_bulk_update(
        router, alcor, NETWORK_ACL_RULE, "network-acl-rules", acl.UpdateNetworkAclRules
    )
    add_router_action_routes(router, alcor)
    add_action_routes(router, alcor)
    add_flavor_profile_routes(router, alcor)
    add_ip_availability_routes(router, alcor)
    add_floatingip_pool_routes(router, alcor)
    _add_node_southbound_routes(router, alcor)
    add_trace_routes(router, alcor)
    _add_quota_routes(router, QuotaHandlers(alcor.bus, alcor.config))
    _add_watch_routes(router, alcor)
    for plugin in alcor.route_plugins:
        plugin(router, alcor)
    return router


def _add_watch_routes(router: Router, alcor: Any) -> None:
    """GET /v2.0/watch (and /watch): the change record as an event stream."""
    watchables = {
        api.resource.name: Watchable(api.resource, api.view)
        for api in RESOURCE_APIS
        if api.view is not None
    }
    handler = watch_handler(
        watchables, alcor.config.auth.default_project, alcor.config.api.watch_heartbeat_s
    )
    router.add(Route("GET", "/v2.0/watch", handler, action="watch"))
    router.add(Route("GET", "/watch", handler, action="watch", alias_of="/v2.0/watch"))


def _add_quota_routes(router: Router, handlers: QuotaHandlers) -> None:
    for base, alias in (("/v2.0/quotas", None), ("/project/{project_id}/quotas", "/v2.0/quotas")):
        for method, suffix, handler in (
            ("GET", "", handlers.list_collection),
            ("GET", "/{target}", handlers.show),
            ("PUT", "/{target}", handlers.update),
            ("DELETE", "/{target}", handlers.delete),
            ("GET", "/{target}/default", handlers.default),
            ("GET", "/{target}/details", handlers.details),
        ):
            router.add(
                Route(
                    method,
                    base + suffix,
                    handler,
                    resource="quota",
                    alias_of=alias + suffix if alias else None,
                    body=QUOTA_BODY if method == "PUT" else None,
                )
            )


def _add_subnetpool_prefix_ops(router: Router, alcor: Any) -> None:
    """PUT subnetpools/{id}/add_prefixes|remove_prefixes {"prefixes": [...]} (subnetpool-prefix-ops)."""
    prefixes_type = ListOf(Cidr(strict=False))

    def action(add: bool) -> Handler:
        name = "add_prefixes" if add else "remove_prefixes"

        async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
            body = await http.read_json(request)
            if not isinstance(body, dict) or not isinstance(body.get("prefixes"), list):
                raise errors.HTTPBadRequest(msg="Unable to find 'prefixes' in request body")
            unknown = [k for k in body if k != "prefixes"]
            if unknown:
                raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{', '.join(unknown)}'")
            try:
                prefixes = prefixes_type.convert(body["prefixes"])
            except Invalid as exc:
                raise errors.HTTPBadRequest(
                    msg=f"Invalid input for prefixes. Reason: {exc}"
                ) from None
            ctx = http.context(request, params, name, alcor.config.auth.default_project)
            result = await alcor.bus.call(
                pool.EditSubnetPoolPrefixes(ctx=ctx, id=params["id"], prefixes=prefixes, add=add)
            )
            return http.json_response({"prefixes": result})

        return handler

    for base, alias in (
        ("/v2.0/subnetpools/{id}", None),
        ("/project/{project_id}/subnetpools/{id}", "/v2.0/subnetpools/{id}"),
    ):
        for add in (True, False):
            name = "add_prefixes" if add else "remove_prefixes"
            router.add(
                Route(
                    "PUT",
                    f"{base}/{name}",
                    action(add),
                    resource="subnetpool",
                    action=name,
                    alias_of=f"{alias}/{name}" if alias else None,
                    body=wrapped("prefixes", prefixes_type.schema()),
                )
            )


def _add_auto_allocated_topology(router: Router, alcor: Any) -> None:
    """GET / DELETE /v2.0/auto-allocated-topology/{project} (auto-allocated-topology);
    GET ?fields=dry-run only checks the requirements."""
    path = "/v2.0/auto-allocated-topology/{topology_project}"  # not {project_id}: no native path

    async def get(request: web.Request, params: dict[str, str]) -> web.Response:
        fields = fields_of(request) or []
        if any(f != "dry-run" for f in fields):
            raise errors.BadRequest(resource="auto_allocate", msg="Unrecognized field")
        ctx = http.context(
            request, params, "get_auto_allocated_topology", alcor.config.auth.default_project
        )
        topology = await alcor.bus.call(
            auto.GetAutoAllocatedTopology(
                ctx=ctx, project_id=params["topology_project"], dry_run=bool(fields)
            )
        )
        topology["tenant_id"] = topology["project_id"]
        return http.json_response({"auto_allocated_topology": topology})

    async def delete(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = http.context(
            request, params, "delete_auto_allocated_topology", alcor.config.auth.default_project
        )
        await alcor.bus.call(
            auto.DeleteAutoAllocatedTopology(ctx=ctx, project_id=params["topology_project"])
        )
        return http.empty()

    router.add(Route("GET", path, get, resource="auto_allocated_topology", action="get"))
    router.add(Route("DELETE", path, delete, resource="auto_allocated_topology", action="delete"))


def _add_subnet_onboard(router: Router, alcor: Any) -> None:
    """PUT subnetpools/{id}/onboard_network_subnets {"network_id": N} (subnet_onboard)."""

    async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
        body = await http.read_json(request)
        network_id = body.get("network_id") if isinstance(body, dict) else None
        if not isinstance(network_id, str) or not network_id:
            raise errors.InvalidInput(error_message="network_id must be specified.")
        unknown = [k for k in body if k != "network_id"]
        if unknown:
            raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        ctx = http.context(
            request, params, "onboard_network_subnets", alcor.config.auth.default_project
        )
        result = await alcor.bus.call(
            pool.OnboardNetworkSubnets(ctx=ctx, id=params["id"], network_id=network_id)
        )
        return http.json_response(result)

    router.add(
        Route(
            "PUT",
            "/v2.0/subnetpools/{id}/onboard_network_subnets",
            handler,
            resource="subnetpool",
            action="onboard_network_subnets",
            body=wrapped("network_id", Uuid().schema()),
        )
    )


def _add_port_bulk_update(router: Router, alcor: Any) -> None:
    """PUT P/ports/bulk (native only): each item as a single PUT, all or nothing."""

    async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
        body = await http.read_json(request)
        items, _ = http.unwrap(body, "port", "ports", allow_bulk=True)
        if not 1 <= len(items) <= alcor.config.api.max_bulk_items:
            raise errors.HTTPBadRequest(
                msg=f"Bulk requests take 1 to {alcor.config.api.max_bulk_items} items"
            )
        changes = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise errors.HTTPBadRequest(msg="Each bulk update item needs an 'id'")
            body_item = {k: v for k, v in item.items() if k != "id"}
            changes.append({"id": item["id"], **validate_update(PORT, body_item, native=True)})
        ctx = http.context(request, params, "update_port", alcor.config.auth.default_project)
        updated = await alcor.bus.call(port.UpdatePorts(ctx=ctx, items=changes))
        render = renderer(PORT, ctx)
        return http.json_response({"ports": [render(p) for p in updated]})

    router.add(
        Route(
            "PUT",
            "/project/{project_id}/ports/bulk",
            handler,
            resource="port",
            action="update_bulk",
            body=bulk_update_body(PORT),
        )
    )


def _add_bulk_update(
    router: Router, alcor: Any, resource: Any, native_path: str, command: type
) -> None:
    """PUT P/<native_path>/bulk: `{<collection>: [{"id": …, <changes>}, …]}`, all or nothing."""

    async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
        body = await http.read_json(request)
        if not (
            isinstance(body, dict)
            and set(body) == {resource.collection}
            and isinstance(body[resource.collection], list)
        ):
            raise errors.HTTPBadRequest(
                msg=f"Unable to find '{resource.collection}' in request body"
            )
        items = body[resource.collection]
        if not 1 <= len(items) <= alcor.config.api.max_bulk_items:
            raise errors.HTTPBadRequest(
                msg=f"Bulk requests take 1 to {alcor.config.api.max_bulk_items} items"
            )
        changes = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise errors.HTTPBadRequest(msg="Each bulk update item needs an 'id'")
            body_item = {k: v for k, v in item.items() if k != "id"}
            changes.append({"id": item["id"], **validate_update(resource, body_item, native=True)})
        ctx = http.context(
            request, params, f"update_{resource.name}", alcor.config.auth.default_project
        )
        updated = await alcor.bus.call(command(ctx=ctx, items=changes))
        render = renderer(resource, ctx)
        return http.json_response({resource.collection: [render(o) for o in updated]})

    router.add(
        Route(
            "PUT",
            f"/project/{{project_id}}/{native_path}/bulk",
            handler,
            resource=resource.name,
            action="update_bulk",
            body=bulk_update_body(resource),
        )
    )


def _add_node_southbound_routes(router: Router, alcor: Any) -> None:
    """The admin's southbound endpoints of a node: per-key delivery records, resync, and
    the drift audit and repair (southbound spec §5.3, §6.1)."""

    async def known_node(request: web.Request, params: dict[str, str], action: str) -> str:
        ctx = http.context(request, params, action, alcor.config.auth.default_project)
        if not ctx.is_admin:
            raise errors.NotAuthorized(action=action)
        await alcor.bus.call(node.GetNode(ctx=ctx, id=params["id"]))  # 404 if unknown
        return params["id"]

    async def resources(request: web.Request, params: dict[str, str]) -> web.Response:
        node_id = await known_node(request, params, "get_node")
        items = await alcor.bus.call(
            dp.NodeDeliveryResources(
                node_id=node_id,
                kind=(request.query.get("kind") or "").upper() or None,  # PORT, port, Port
                status=request.query.get("status"),
            )
        )
        return http.json_response({"resources": items})

    async def resync(request: web.Request, params: dict[str, str]) -> web.Response:
        node_id = await known_node(request, params, "update_node")
        await alcor.bus.call(dp.ResyncNode(node_id=node_id))
        return http.json_response({}, 202)

    async def audit(request: web.Request, params: dict[str, str]) -> web.Response:
        node_id = await known_node(request, params, "get_node")
        result = await alcor.bus.call(dp.AuditNode(node_id=node_id))
        return http.json_response({"audit": result})

    async def repair(request: web.Request, params: dict[str, str]) -> web.Response:
        node_id = await known_node(request, params, "update_node")
        result = await alcor.bus.call(dp.AuditNode(node_id=node_id, repair=True))
        return http.json_response({"audit": result})

    for method, path, handler in (
        ("GET", "/nodes/{id}/southbound/resources", resources),
        ("POST", "/nodes/{id}/southbound/resync", resync),
        ("GET", "/nodes/{id}/southbound/audit", audit),
        ("POST", "/nodes/{id}/southbound/repair", repair),
    ):
        router.add(Route(method, path, handler, resource="host_info", action="southbound"))


def _openapi_handler(router: Router) -> Handler:
    async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
        from alcor.api.openapi import openapi_document

        alcor = request.app[webmod.ALCOR]
        return http.json_response(openapi_document(router, alcor.config))

    return handler
