"""Direct protobuf encoders for the high-volume configurations (neighbor, port, subnet, VPC, DHCP).

Why not betterproto here: its pure-Python encoder costs ~100 µs per NeighborConfiguration,
so a new host with 10,000 neighbors would take a second to encode. These functions write
the same bytes (proto3: fields in number order, zero values omitted) in a few µs; a test
checks byte-for-byte equality with betterproto and decoding with Google's protobuf.
Everything else (routers, security groups, replies) still goes through betterproto.
"""

from __future__ import annotations

from collections.abc import Iterable

from alcor.southbound.encoding import varint

FULL = 1  # UpdateType.FULL


def _s(field: int, text: str) -> bytes:
    if not text:
        return b""
    data = text.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def _v(field: int, value: int) -> bytes:
    if not value:
        return b""
    return varint(field << 3) + varint(value)


def _m(field: int, body: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(body)) + body


def _head(revision: int, rid: str) -> bytes:
    # revision_number=1, (request_id=2 unset), id=3, update_type=4
    return b"".join((_v(1, revision), _s(3, rid), _v(4, FULL)))


def vpc(
    revision: int,
    rid: str,
    project_id: str,
    name: str,
    cidr: str,
    tunnel_id: int,
    gateway_ids: Iterable[str] = (),
    qos_policy_id: str = "",
) -> bytes:
    """Encode a VpcConfiguration."""
    return b"".join(
        (
            _head(revision, rid),
            _s(5, project_id),
            _s(6, name),
            _s(7, cidr),
            _v(8, tunnel_id),
            *(_s(9, g) for g in gateway_ids),
            _s(10, qos_policy_id),
        )
    )


def subnet(
    revision: int,
    rid: str,
    network_type: int,
    vpc_id: str,
    name: str,
    cidr: str,
    tunnel_id: int,
    gateway_ip: str,
    gateway_mac: str,
    dhcp: bool,
    dns: Iterable[str],
    availability_zone: str,
) -> bytes:
    """Encode a SubnetConfiguration."""
    gateway = _s(1, gateway_ip) + _s(2, gateway_mac)
    return b"".join(
        (
            _head(revision, rid),
            _v(5, network_type),
            _s(6, vpc_id),
            _s(7, name),
            _s(8, cidr),
            _v(9, tunnel_id),
            _m(10, gateway) if gateway else b"",
            _v(11, 1 if dhcp else 0),
            *(_m(13, _s(1, d)) for d in dns),
            _s(14, availability_zone),
        )
    )


def port(
    revision: int,
    rid: str,
    vpc_id: str,
    name: str,
    device_id: str,
    device_owner: str,
    mac: str,
    fixed_ips: Iterable[tuple[str, str]],
    pairs: Iterable[tuple[str, str]],
    groups: Iterable[str],
    security_disabled: bool = False,
    qos_policy_id: str = "",
    trunk: tuple[str, str, int] | None = None,
) -> bytes:
    """Encode a PortConfiguration (admin_state_up is always true when programmed); `trunk`
    is a subport's (parent port id, segmentation type, segmentation id)."""
    return b"".join(
        (
            _head(revision, rid),
            _s(5, vpc_id),
            _s(6, name),
            _s(7, device_id),
            _s(8, device_owner),
            _s(9, mac),
            _v(10, 1),
            *(_m(12, _s(1, s) + _s(2, ip)) for s, ip in fixed_ips),
            *(_m(13, _s(1, ip) + _s(2, m)) for ip, m in pairs),
            *(_m(14, _s(1, g)) for g in groups),
            _v(15, int(security_disabled)),
            _s(16, qos_policy_id),
            _m(17, _s(1, trunk[0]) + _s(2, trunk[1]) + _v(3, trunk[2])) if trunk else b"",
        )
    )


def neighbor(
    revision: int,
    rid: str,
    vpc_id: str,
    name: str,
    mac: str,
    host_mac: str,
    host_ip: str,
    fixed_ips: Iterable[tuple[int, str, str, int]],
    pairs: Iterable[tuple[str, str]],
    groups: Iterable[str] = (),
) -> bytes:
    """Encode a NeighborConfiguration; fixed_ips are (neighbor_type, subnet, ip, tunnel_id)."""
    return b"".join(
        (
            _head(revision, rid),
            _s(5, vpc_id),
            _s(6, name),
            _s(7, mac),
            _s(8, host_mac),
            _s(9, host_ip),
            *(
                _m(10, _v(1, kind) + _s(2, s) + _s(3, ip) + _v(5, tunnel))
                for kind, s, ip, tunnel in fixed_ips
            ),
            *(_m(11, _s(1, ip) + _s(2, m)) for ip, m in pairs),
            *(_s(12, g) for g in groups),
        )
    )


def dhcp(
    revision: int,
    rid: str,
    subnet_id: str,
    mac: str,
    ipv4: str,
    ipv6: str,
    host_name: str,
    options: Iterable[tuple[str, str, int]] = (),
) -> bytes:
    """Encode a DHCPConfiguration (options: the port's extra DHCP options, field 10)."""
    return b"".join(
        (
            _head(revision, rid),
            _s(5, subnet_id),
            _s(6, mac),
            _s(7, ipv4),
            _s(8, ipv6),
            _s(9, host_name),
            *(
                _m(10, _s(1, name) + _s(2, value) + _v(3, version))
                for name, value, version in options
            ),
        )
    )
