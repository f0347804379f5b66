"""Configuration: frozen dataclasses with visible defaults, loaded in layers.

Precedence, lowest first: defaults here < alcor.toml < `ALCOR__SECTION__KEY` environment
variables (values parsed as TOML scalars) < CLI flags. This module is the only reader of
alcor.toml. Unknown keys are errors that name their path; all errors are reported together.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ENV_PREFIX = "ALCOR__"
TRANSPORT_GROUP = "alcor.southbound"  # entry-point group of southbound transports
# A value of the wrong type: reported as a problem, and the key keeps its default so that
# the semantic checks can still run (and report their own problems) without crashing.
_INVALID: Any = object()
_D = TypeVar("_D", bound="DataclassInstance")


class ConfigError(Exception):
    """The configuration is invalid; `problems` lists every path that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class ServerConfig:
    """The HTTP listener."""

    host: str = "127.0.0.1"
    port: int = 9009
    shutdown_timeout: float = 30.0
    # A client must send a request's headers, and then its body, within these (else 408).
    header_timeout_s: float = 30.0
    body_timeout_s: float = 60.0
    # The event loop: "asyncio" (the standard library's) or "uvloop" (pip install alcor[uvloop]).
    loop: str = "asyncio"
    # On the asyncio loop, the API's callbacks run before background work (the pushes);
    # background waits through at most this much of the API's work (alcor/priority.py).
    api_first: bool = True
    background_wait_ms: float = 1.0
    # Allocations between two young-generation garbage collections (0: Python's 700); see
    # alcor/runtime.py for why the default is far above Python's.
    gc_threshold: int = 50_000


@dataclass(frozen=True)
class StoreConfig:
    """The database: the embedded SQLite file, or PostgreSQL when `url` names one."""

    path: str = "alcor.db"
    # postgresql://user:password@host:port/dbname: several alcor processes share it.
    url: str = ""
    checkpoint_interval_s: float = 1.0
    # The write-ahead log shrinks back to this after a checkpoint (it grew for ever before).
    wal_limit_mb: float = 64.0
    # How long the change record keeps a change (the /watch stream can resume that far back).
    change_retention_s: float = 7 * 86400.0
    # PostgreSQL: connections per process, and how long to wait for one.
    pool_size: int = 10
    connect_timeout_s: float = 5.0


@dataclass(frozen=True)
class ClusterConfig:
    """Several processes on one PostgreSQL database: membership and host ownership."""

    # With PostgreSQL, hosts are partitioned among the live processes; false: this
    # process delivers to every host (one process only).
    enabled: bool = True
    heartbeat_s: float = 1.0
    # A process whose heartbeat is older is dead: its hosts move to the others.
    dead_after_s: float = 5.0
    # How often the change record is read when no commit notification arrives.
    poll_s: float = 0.5


@dataclass(frozen=True)
class LogConfig:
    """Logging."""

    level: str = "INFO"


@dataclass(frozen=True)
class ApiConfig:
    """REST API limits and link generation."""

    public_base_url: str = ""
    max_body_bytes: int = 10 * 1024 * 1024
    max_bulk_items: int = 1000
    pagination_max_limit: int = -1
    # An idle /watch stream writes a heartbeat line this often (keeps proxies from cutting it).
    watch_heartbeat_s: float = 15.0


@dataclass(frozen=True)
class TokenEntry:
    """One static bearer token (`auth.strategy = "token"`)."""

    project_id: str
    token: str = ""
    token_sha256: str = ""
    roles: tuple[str, ...] = ("member",)
    user_id: str = ""


@dataclass(frozen=True)
class KeystoneConfig:
    """Keystone v3 settings (`auth.strategy = "keystone"`)."""

    auth_url: str = "http://127.0.0.1:5000/v3"
    username: str = "neutron"
    password: str = ""
    project_name: str = "service"
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    cache_ttl_s: float = 300.0
    timeout_s: float = 10.0


@dataclass(frozen=True)
class AuthConfig:
    """How callers are identified."""

    strategy: str = "noauth"
    default_project: str = "default"
    noauth_default_roles: tuple[str, ...] = ("admin",)
    tokens: tuple[TokenEntry, ...] = ()
    keystone: KeystoneConfig = field(default_factory=KeystoneConfig)


@dataclass(frozen=True)
class NetworkConfig:
    """Network defaults and segmentation ranges."""

    default_network_type: str = "vxlan"
    tunnel_id_ranges: tuple[tuple[int, int], ...] = ((1, 16777215),)
    vlan_ranges: Mapping[str, tuple[tuple[int, int], ...]] = field(
        default_factory=lambda: {"physnet1": ((1, 4094),)}
    )
    flat_networks: tuple[str, ...] = ("physnet1",)
    default_physical_network: str = "physnet1"
    global_physnet_mtu: int = 1500
    availability_zones: tuple[str, ...] = ("nova",)
    port_security_enabled: bool = True


@dataclass(frozen=True)
class PortConfig:
    """Port defaults."""

    mac_prefix: str = "fa:16:3e"
    max_allowed_address_pairs: int = 10
    # The domain of the ports' DNS names (dns-integration): fqdn = hostname + "." + domain,
    # unless the port or its network names another.
    dns_domain: str = "openstacklocal."


@dataclass(frozen=True)
class SubnetConfig:
    """Subnet limits."""

    max_dns_nameservers: int = 5
    max_host_routes: int = 20


@dataclass(frozen=True)
class RouterConfig:
    """Router limits and defaults."""

    max_routes: int = 30
    enable_snat_by_default: bool = True


@dataclass(frozen=True)
class QuotaConfig:
    """Default per-project quotas (-1 = unlimited)."""

    network: int = 100
    subnet: int = 100
    port: int = 500
    router: int = 10
    floatingip: int = 50
    security_group: int = 10
    security_group_rule: int = 100
    rbac_policy: int = 10


@dataclass(frozen=True)
class RetryConfig:
    """Southbound retry policy (capped exponential backoff with jitter)."""

    base_s: float = 0.2
    factor: float = 2.0
    cap_s: float = 30.0
    failure_attempts: int = 5
    invalid_arg_attempts: int = 2


@dataclass(frozen=True)
class GrpcServerConfig:
    """The controller's own gRPC server (RequestGoalStates from agents)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9016


@dataclass(frozen=True)
class OnDemandConfig:
    """ON_DEMAND request handling."""

    push_deadline_s: float = 2.0
    max_inflight_per_host: int = 64


@dataclass(frozen=True)
class AutoConfig:
    """Channel Selection Algorithm thresholds for `auto` nodes."""

    upper_ports: int = 1000
    lower_ports: int = 100


@dataclass(frozen=True)
class SouthboundConfig:
    """Goal-state delivery. Plugin sections (grpc, kafka) are validated by the plugins."""

    default_transport: str = "grpc"
    agent_port: int = 50001
    max_concurrent_pushes: int = 1024
    # Hosts that may build and start a push at the same time (replies are awaited outside):
    # bounds the slice of the event loop one burst of pushes takes from the API.
    push_start_concurrency: int = 8
    # A host pushed to within this window waits for the rest of it: a burst of changes goes
    # in one message (0 = every change as soon as the previous push is answered).
    coalesce_ms: float = 2.0
    # While the event loop is busier than loop_busy_target (share of wall time, the API
    # waiting behind pushes) the window widens up to coalesce_max_ms, and narrows back once
    # it has room again (= coalesce_ms: fixed). 0.5 since the port window (below) keeps a
    # port's own host quick: the neighbors may wait, the API should not (docs/benchmarks.md).
    coalesce_max_ms: float = 200.0
    loop_busy_target: float = 0.5
    # A host with a PORT state pending (the port's own host: a VM waits for ACTIVE) waits
    # at most this long, however wide the paced window (0 = the paced window).
    coalesce_port_ms: float = 20.0
    deadline_base_s: float = 10.0
    deadline_per_state_ms: float = 0.5
    deadline_max_s: float = 600.0
    embedded_agents: int = 0
    embedded_agents_admin: str = ""  # host:port of the embedded agents' admin API ("" = off)
    # Drift audit (southbound spec §6.1): every interval each idle host is compared with what
    # it should hold (0 = never); drift found is repaired when audit_repair is true.
    audit_interval_s: float = 300.0
    audit_repair: bool = True
    audit_timeout_s: float = 10.0
    retry: RetryConfig = field(default_factory=RetryConfig)
    grpc_server: GrpcServerConfig = field(default_factory=GrpcServerConfig)
    ondemand: OnDemandConfig = field(default_factory=OnDemandConfig)
    auto: AutoConfig = field(default_factory=AutoConfig)
    grpc: Mapping[str, Any] = field(default_factory=dict)
    kafka: Mapping[str, Any] = field(default_factory=dict)
    # `[southbound.<name>]` tables of other installed transports (entry points in group
    # `alcor.southbound`), lifted here by load_config; each plugin validates its own.
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """Return the config section handed to the transport called `name`."""
        if name in ("grpc", "kafka"):
            return getattr(self, name)  # type: ignore[no-any-return]
        return self.plugins.get(name, {})


@dataclass(frozen=True)
class ZetaConfig:
    """Zeta gateway integration (southbound spec §8): one gateway per VXLAN network."""

    enabled: bool = False
    url: str = ""  # Zeta's management API, e.g. http://zeta-manager:5000
    timeout_s: float = 10.0
    port_batch: int = 4000  # ports per POST /ports
    mac_node: str = ""  # "" = each node's own mac_address
    alarm_after: int = 10  # failed attempts of one call before its gateway shows ERROR
    retry_base_s: float = 1.0  # jittered backoff of a failed call: base doubling to the cap
    retry_cap_s: float = 300.0
    parallel_vpcs: int = 16  # VPCs whose calls run at the same time (each VPC stays FIFO)
    # Changes and calls wait this long to gather more of their kind: one transaction and
    # one POST /ports per burst of API calls, not one each (latency traded for batching).
    linger_s: float = 0.2


@dataclass(frozen=True)
class StaticNode:
    """A compute node seeded from config instead of the API."""

    node_id: str
    node_name: str
    local_ip: str
    mac_address: str
    server_port: int = 0
    transport: str = ""


@dataclass(frozen=True)
class Config:
    """The whole effective configuration."""

    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    log: LogConfig = field(default_factory=LogConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    port: PortConfig = field(default_factory=PortConfig)
    subnet: SubnetConfig = field(default_factory=SubnetConfig)
    router: RouterConfig = field(default_factory=RouterConfig)
    quotas: QuotaConfig = field(default_factory=QuotaConfig)
    southbound: SouthboundConfig = field(default_factory=SouthboundConfig)
    zeta: ZetaConfig = field(default_factory=ZetaConfig)
    nodes: tuple[StaticNode, ...] = ()


# Keys whose values must never be printed by `alcor config show`.
SECRET_KEYS = frozenset({"password", "token", "token_sha256"})
CHOICES = {
    ("auth", "strategy"): ("noauth", "token", "keystone"),
    ("network", "default_network_type"): ("vxlan", "geneve", "gre", "vlan", "flat"),
    ("log", "level"): ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
}


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the effective Config from a TOML file, the environment and CLI overrides.

    `overrides` uses dotted keys (`{"server.port": 9010}`); None values are ignored.
    The file is `path`, else `$ALCOR_CONFIG`, else `./alcor.toml` when it exists.
    """
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    problems: list[str] = []
    file = _config_file(path, env)
    if file is not None:
        try:
            data = tomllib.loads(Path(file).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError([f"{file}: {exc}"]) from exc
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            dotted = key[len(ENV_PREFIX) :].lower().replace("__", ".")
            parsed = _parse_env_value(value)
            if _hint_at(dotted) is str and not isinstance(parsed, str):
                parsed = value  # ALCOR__AUTH__DEFAULT_PROJECT=12345 means "12345"
            _set_dotted(data, dotted, parsed)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(data, dotted, value)
    _lift_plugin_sections(data)
    config = _build(Config, data, "", problems)
    problems.extend(_check_semantics(config))
    if problems or config is None:
        raise ConfigError(problems)
    return config


def installed_transports() -> list[str]:
    """Return the names of the installed southbound transports (entry points), sorted."""
    return sorted({ep.name for ep in entry_points(group=TRANSPORT_GROUP)})


def _lift_plugin_sections(data: dict[str, Any]) -> None:
    """Move `[southbound.<plugin>]` tables of installed transports under `plugins`."""
    southbound = data.get("southbound")
    if not isinstance(southbound, dict):
        return
    known = {f.name for f in dataclasses.fields(SouthboundConfig)}
    installed = set(installed_transports())
    for key in [
        k
        for k, v in southbound.items()
        if k not in known and k in installed and isinstance(v, dict)
    ]:
        southbound.setdefault("plugins", {})[key] = southbound.pop(key)


def url_without_password(url: str) -> str:
    """Return `url` with its password (if any) replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def config_as_dict(config: Any, mask_secrets: bool = True) -> Any:
    """Return the config as plain TOML-able data, secrets masked."""
    if dataclasses.is_dataclass(config):
        out = {}
        for f in dataclasses.fields(config):
            value = getattr(config, f.name)
            if mask_secrets and f.name in SECRET_KEYS and value:
                out[f.name] = "***"
            elif mask_secrets and f.name == "url" and isinstance(value, str):
                out[f.name] = url_without_password(value)
            else:
                out[f.name] = config_as_dict(value, mask_secrets)
        return out
    if isinstance(config, Mapping):
        return {k: config_as_dict(v, mask_secrets) for k, v in config.items()}
    if isinstance(config, tuple | list):
        return [config_as_dict(v, mask_secrets) for v in config]
    return config


def _config_file(path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path)
    if env.get("ALCOR_CONFIG"):
        return Path(env["ALCOR_CONFIG"])
    local = Path("alcor.toml")
    return local if local.exists() else None


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _hint_at(dotted: str) -> Any:
    """Return the type hint of a dotted key of Config, or None when it names no field."""
    hint: Any = Config
    for part in dotted.split("."):
        if not dataclasses.is_dataclass(hint):
            return None
        hint = typing.get_type_hints(hint).get(part)
    return hint


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node[last] = value


def _build(cls: type[_D], data: Any, path: str, problems: list[str]) -> _D | None:
    """Build dataclass `cls` from `data`, appending every problem found to `problems`."""
    if not isinstance(data, Mapping):
        problems.append(f"{path or '<root>'}: expected a table")
        return cls() if _has_all_defaults(cls) else None
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            problems.append(f"{_join(path, key)}: unknown key")
    kwargs = {}
    complete = True
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name in data:
            value = _convert(hints[f.name], data[f.name], _join(path, f.name), problems)
            if value is not _INVALID and value is not None:
                kwargs[f.name] = value
            elif required:
                complete = False
        elif required:
            problems.append(f"{_join(path, f.name)}: required key missing")
            complete = False
    if not complete:
        return None
    try:
        return cls(**kwargs)
    except TypeError as exc:
        problems.append(f"{path}: {exc}")
        return None


def _has_all_defaults(cls: type) -> bool:
    return all(
        f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        for f in dataclasses.fields(cls)
    )


def _convert(hint: Any, value: Any, path: str, problems: list[str]) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, path, problems)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            problems.append(f"{path}: expected a list")
            return _INVALID
        inner = args[0]
        if len(args) == 2 and args[1] is Ellipsis:
            items = tuple(_convert(inner, v, f"{path}[{i}]", problems) for i, v in enumerate(value))
        elif len(value) != len(args):
            problems.append(f"{path}: expected {len(args)} items")
            return _INVALID
        else:
            items = tuple(
                _convert(a, v, f"{path}[{i}]", problems)
                for i, (a, v) in enumerate(zip(args, value, strict=True))
            )
        return _INVALID if any(i is _INVALID or i is None for i in items) else items
    if origin in (Mapping, dict) or hint is Mapping:
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected a table")
            return _INVALID
        if not args or args[1] is Any:
            return dict(value)
        converted = {k: _convert(args[1], v, f"{path}.{k}", problems) for k, v in value.items()}
        return _INVALID if any(v is _INVALID for v in converted.values()) else converted
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        problems.append(f"{path}: expected {hint.__name__}, got {type(value).__name__} {value!r}")
        return _INVALID
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_semantics(config: Config | None) -> list[str]:
    if config is None:
        return []
    problems = []
    for (section, key), allowed in CHOICES.items():
        obj = getattr(config, section, None)
        value = getattr(obj, key, None) if obj is not None else None
        if value is not None and value not in allowed:
            problems.append(f"{section}.{key}: must be one of {', '.join(allowed)}, got {value!r}")
    transports = ("auto", *installed_transports())
    if config.southbound.default_transport not in transports:
        problems.append(
            f"southbound.default_transport: must be one of {', '.join(transports)}, "
            f"got {config.southbound.default_transport!r}"
        )
    for i, entry in enumerate(config.auth.tokens):
        if bool(entry.token) == bool(entry.token_sha256):
            problems.append(f"auth.tokens[{i}]: set exactly one of token, token_sha256")
        elif entry.token_sha256 and not re.fullmatch(r"[0-9A-Fa-f]{64}", entry.token_sha256):
            # A malformed digest would silently never match: refuse it at startup.
            problems.append(f"auth.tokens[{i}].token_sha256: must be 64 hexadecimal digits")
        if not entry.project_id.strip():
            problems.append(f"auth.tokens[{i}].project_id: must not be empty")
    if config.auth.strategy == "token" and not config.auth.tokens:
        problems.append("auth.tokens: strategy 'token' needs at least one [[auth.tokens]] entry")
    if not 0 < config.server.port < 65536:
        problems.append("server.port: must be 1-65535")
    url = config.store.url
    if url and not url.startswith(("postgresql://", "postgres://")):
        problems.append("store.url: must be a postgresql:// URL (or empty for SQLite)")
    cluster = config.cluster
    if not 0 < cluster.heartbeat_s < cluster.dead_after_s:
        problems.append("cluster: heartbeat_s must be above 0 and below dead_after_s")
    sb = config.southbound
    if sb.push_start_concurrency < 1 or sb.max_concurrent_pushes < 1:
        problems.append("southbound: push_start_concurrency and max_concurrent_pushes must be >= 1")
    if (
        min(sb.coalesce_ms, sb.coalesce_max_ms, sb.coalesce_port_ms) < 0
        or not 0 < sb.loop_busy_target <= 1
    ):
        problems.append(
            "southbound: coalesce_ms, coalesce_max_ms and coalesce_port_ms must be >= 0, "
            "loop_busy_target in (0, 1]"
        )
    if config.server.gc_threshold < 0:
        problems.append("server.gc_threshold: must be >= 0 (0 keeps Python's default)")
    if config.server.background_wait_ms <= 0:
        problems.append("server.background_wait_ms: must be above 0")
    if config.server.loop not in ("asyncio", "uvloop"):
        problems.append(f"server.loop: must be asyncio or uvloop, got {config.server.loop!r}")
    admin = config.southbound.embedded_agents_admin
    if admin and not re.fullmatch(r"[^:\s]*:\d{1,5}", admin):
        problems.append(f"southbound.embedded_agents_admin: must be host:port, got {admin!r}")
    for lo, hi in config.network.tunnel_id_ranges:
        if not 1 <= lo <= hi <= 16777215:
            problems.append(f"network.tunnel_id_ranges: bad range [{lo}, {hi}]")
    for physnet, ranges in config.network.vlan_ranges.items():
        for lo, hi in ranges:
            if not 1 <= lo <= hi <= 4094:
                problems.append(f"network.vlan_ranges.{physnet}: bad range [{lo}, {hi}]")
    problems.extend(_check_zeta(config.zeta))
    prefix = config.port.mac_prefix.split(":")
    if not 1 <= len(prefix) <= 5 or any(len(p) != 2 for p in prefix):
        problems.append("port.mac_prefix: 1-5 colon-separated octets")
    else:
        try:
            if int(prefix[0], 16) & 1:
                problems.append("port.mac_prefix: must be unicast")
        except ValueError:
            problems.append("port.mac_prefix: octets must be hex")
    return problems


def _check_zeta(zeta: ZetaConfig) -> list[str]:
    problems = []
    if zeta.enabled and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", zeta.url):
        problems.append(f"zeta.url: an http(s) URL is required when zeta.enabled, got {zeta.url!r}")
    if zeta.mac_node and not re.fullmatch(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", zeta.mac_node):
        problems.append(f"zeta.mac_node: must be a MAC address or empty, got {zeta.mac_node!r}")
    for key in ("timeout_s", "retry_base_s", "port_batch", "alarm_after", "parallel_vpcs"):
        if getattr(zeta, key) <= 0:
            problems.append(f"zeta.{key}: must be positive")
    if zeta.linger_s < 0:
        problems.append("zeta.linger_s: must not be negative")
    if zeta.retry_cap_s < zeta.retry_base_s:
        problems.append("zeta.retry_cap_s: must not be below zeta.retry_base_s")
    return problems
