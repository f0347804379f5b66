"""Wiring: build(config) creates the store, bus, managers and southbound; no logic here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alcor.bus import Bus
from alcor.config import Config
from alcor.gateway.client import ZetaHttpClient
from alcor.lifecycle import Component
from alcor.managers.acl.manager import NetworkAclManager
from alcor.managers.address_group.manager import AddressGroupManager
from alcor.managers.address_scope.manager import AddressScopeManager
from alcor.managers.auto_allocate.manager import AutoAllocateManager
from alcor.managers.flavor.manager import FlavorManager
from alcor.managers.floatingip.manager import FloatingIpManager
from alcor.managers.gateway.manager import GatewayManager
from alcor.managers.ipam.manager import IpamManager
from alcor.managers.mac.manager import MacManager
from alcor.managers.metering.manager import MeteringManager
from alcor.managers.network.manager import NetworkManager
from alcor.managers.node.manager import NodeManager
from alcor.managers.port.manager import PortManager
from alcor.managers.port_forwarding.manager import PortForwardingManager
from alcor.managers.qos.manager import QosManager
from alcor.managers.quota.manager import QuotaManager
from alcor.managers.rbac.manager import RbacManager
from alcor.managers.router.manager import RouterManager
from alcor.managers.security_group.manager import SecurityGroupManager
from alcor.managers.subnet.manager import SubnetManager
from alcor.managers.subnetpool.manager import SubnetPoolManager
from alcor.managers.trunk.manager import TrunkManager
from alcor.southbound.engine import SouthboundEngine
from alcor.southbound.ownership import Membership
from alcor.store import Store, open_store
from alcor.store.schema import MIGRATIONS

if TYPE_CHECKING:
    from alcor.agent.embedded import EmbeddedAgents
    from alcor.api.routing import Router

_LOGGER = logging.getLogger(__name__)
# Adds routes to the web app's table (tests, extensions): called once when it is built.
RoutePlugin = Callable[["Router", "Alcor"], None]


@dataclass
class Alcor:
    """The assembled application: what the web layer and the CLI need."""

    config: Config
    store: Store
    bus: Bus
    components: list[Component]
    authenticator: Any
    southbound: SouthboundEngine
    gateways: GatewayManager | None = None
    embedded_agents: EmbeddedAgents | None = None
    # Awaited once every component has started (static [[nodes]] registration binds ports).
    on_started: Callable[[], Awaitable[None]] | None = None
    route_plugins: list[RoutePlugin] = field(default_factory=list)
    state: str = "starting"  # starting | running | stopping


def make_authenticator(config: Config) -> Any:
    """Return the configured caller-authentication strategy."""
    strategy = config.auth.strategy
    if strategy == "token":
        from alcor.api.auth.static import TokenAuth

        return TokenAuth(config.auth)
    if strategy == "keystone":
        from alcor.api.auth.keystone import KeystoneAuthenticator

        return KeystoneAuthenticator.from_settings(config.auth.keystone)
    from alcor.api.auth.static import NoAuth

    return NoAuth(config.auth)


class _AuthComponent:
    """Adapt the authenticator to the component protocol (keystone owns a client session)."""

    name = "auth"
    requires: tuple[str, ...] = ()

    def __init__(self, authenticator: Any) -> None:
        self._auth = authenticator

    async def start(self) -> None:
        await self._auth.start()

    async def stop(self) -> None:
        await self._auth.stop()


def _admin_token(config: Config) -> str | None:
    """Return a static admin token the embedded agents can register with (token auth)."""
    if config.auth.strategy != "token":
        return None
    for entry in config.auth.tokens:
        if "admin" in entry.roles and entry.token:
            return entry.token
    return None


def build(config: Config, transports: dict[str, Any] | None = None) -> Alcor:
    """Create every component of alcor from `config` (nothing is started)."""
    store = open_store(config.store, MIGRATIONS)
    bus = Bus()
    # Several processes share a PostgreSQL database: each owns a share of the hosts and of
    # the gateways' outbox lanes, through one membership (a component of its own).
    shared = store.dialect == "postgresql" and config.cluster.enabled
    membership = Membership(store, config.cluster) if shared else None
    managers: list[Component] = [
        QuotaManager(bus, store, config.quotas),
        RbacManager(bus, store),
        QosManager(bus, store),
        MacManager(bus, store, config.port),
        IpamManager(bus, store),
        NetworkManager(bus, store, config.network),
        SubnetManager(bus, store, config.subnet),
        AddressScopeManager(bus, store),
        AddressGroupManager(bus, store),
        SubnetPoolManager(bus, store),
        SecurityGroupManager(bus, store),
        nodes := NodeManager(bus, store, config.southbound, config.nodes),
        PortManager(bus, store, config.port),
        FloatingIpManager(bus, store),
        TrunkManager(bus, store),
        PortForwardingManager(bus, store),
        RouterManager(bus, store, config.router, zones=config.network.availability_zones),
        NetworkAclManager(bus, store),
        MeteringManager(bus, store),
        FlavorManager(bus, store),
        AutoAllocateManager(bus, store),
        gateways := GatewayManager(
            bus,
            store,
            config.zeta,
            config.store.change_retention_s,
            ZetaHttpClient(config.zeta.url, config.zeta.timeout_s),
            membership,
            config.cluster.poll_s,
        ),
    ]
    dataplane = SouthboundEngine(
        bus, store, config.southbound, transports, config.cluster if shared else None, membership
    )
    managers.append(dataplane)
    if membership is not None:
        managers.insert(0, membership)
    authenticator = make_authenticator(config)
    components: list[Component] = [store, bus, _AuthComponent(authenticator), *managers]
    alcor = Alcor(
        config=config,
        store=store,
        bus=bus,
        components=components,
        authenticator=authenticator,
        southbound=dataplane,
        gateways=gateways,
        on_started=nodes.seed_static,
    )
    if config.southbound.embedded_agents > 0:
        from alcor.agent.embedded import EmbeddedAgents

        host = config.server.host if config.server.host not in ("0.0.0.0", "::") else "127.0.0.1"
        embedded = EmbeddedAgents(
            config.southbound.embedded_agents,
            config.southbound.agent_port,
            config.southbound.grpc_server.host,
            lambda: dataplane.server_port,
            f"http://{host}:{config.server.port}",
            _admin_token(config),
            config.southbound.embedded_agents_admin,
        )
        components.append(embedded)
        alcor.embedded_agents = embedded
    return alcor
