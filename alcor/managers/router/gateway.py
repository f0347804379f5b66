"""A router's external gateway: its port on an external network, and SNAT."""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import RouterConfig
from alcor.managers.common import RequestContext
from alcor.managers.floatingip.messages import FloatingIpsOfRouter
from alcor.managers.network.messages import GetNetwork
from alcor.managers.port.messages import CreateServicePort, DeleteServicePort
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.resources import repo
from alcor.resources.router import ROUTER
from alcor.store import Store

GATEWAY = "network:router_gateway"


class RouterGateway:
    """Create, replace or clear routers' gateway ports and external_gateway_info."""

    def __init__(self, bus: Bus, store: Store, config: RouterConfig) -> None:
        self._bus = bus
        self._store = store
        self._config = config

    async def set(
        self, ctx: RequestContext, router: dict[str, Any], gateway: dict[str, Any] | None
    ) -> None:
        """Create, replace or clear the gateway port; store external_gateway_info."""
        current = router.get("external_gateway_info")
        if (
            gateway
            and current
            and gateway["network_id"] == current["network_id"]
            and "external_fixed_ips" not in gateway
        ):
            snat = gateway.get("enable_snat", current["enable_snat"])
            kept = dict(current, enable_snat=snat)
            await repo.update(self._store, ROUTER, router["id"], {"external_gateway_info": kept})
            router["external_gateway_info"] = kept
            return
        if current and (not gateway or gateway["network_id"] != current["network_id"]):
            fips = await self._bus.call(FloatingIpsOfRouter(router_id=router["id"]))
            if any(f["floating_network_id"] == current["network_id"] for f in fips):
                raise errors.RouterExternalGatewayInUseByFloatingIp(
                    router_id=router["id"], net_id=current["network_id"]
                )
        if router.get("gw_port_id"):
            await self._bus.call(DeleteServicePort(port_id=router["gw_port_id"]))
        info: dict[str, Any] | None = None
        port_id: str | None = None
        if gateway:
            network = await self._bus.call(GetNetwork(ctx=ctx, id=gateway["network_id"]))
            if not network["router:external"]:
                raise errors.BadRequest(
                    resource="router",
                    msg=f"Network {network['id']} is not a valid external network",
                )
            port = await self._port(router, network, gateway.get("external_fixed_ips"))
            port_id = port["id"]
            info = {
                "network_id": network["id"],
                "enable_snat": gateway.get("enable_snat", self._config.enable_snat_by_default),
                "external_fixed_ips": port["fixed_ips"],
            }
        await repo.update(
            self._store,
            ROUTER,
            router["id"],
            {"external_gateway_info": info, "gw_port_id": port_id},
        )
        router["external_gateway_info"], router["gw_port_id"] = info, port_id

    async def _port(
        self,
        router: dict[str, Any],
        network: dict[str, Any],
        fixed_ips: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        base = {
            "network_id": network["id"],
            "project_id": "",
            "device_owner": GATEWAY,
            "device_id": router["id"],
        }
        if fixed_ips:
            return await self._bus.call(CreateServicePort(**base, fixed_ips=fixed_ips))
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=network["id"]))
        for subnet in (s for s in subnets if s["ip_version"] == 4):
            try:
                async with self._store.transaction():
                    return await self._bus.call(
                        CreateServicePort(**base, fixed_ips=[{"subnet_id": subnet["id"]}])
                    )
            except errors.IpAddressGenerationFailure:
                continue
        if not subnets:
            return await self._bus.call(CreateServicePort(**base, fixed_ips=[]))
        raise errors.IpAddressGenerationFailure(net_id=network["id"])


def gateway_changes(router: dict[str, Any], given: dict[str, Any]) -> bool:
    """Return True when an update's external_gateway_info changes the router's."""
    new = given["external_gateway_info"] or None
    current = router.get("external_gateway_info")
    if not new or not current:
        return bool(new) != bool(current)
    return (
        new["network_id"] != current["network_id"]
        or "external_fixed_ips" in new
        or new.get("enable_snat", current["enable_snat"]) != current["enable_snat"]
    )
