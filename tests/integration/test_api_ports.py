"""Ports over HTTP: fixed IPs (§5.3), MACs, security groups, pairs, DHCP options, binding."""

from __future__ import annotations

import re

import pytest

UNKNOWN = "11111111-1111-4111-8111-111111111111"


async def _post(api, body, status):
    reply = await api.call("POST", "/v2.0/ports", {"port": body})
    assert reply.status == status, reply.body
    return reply


def _ips(port):
    return [f["ip_address"] for f in port["fixed_ips"]]


async def test_create_port_defaults(api, net):
    """A port gets a generated MAC, the lowest IPv4 address, the default SG and is DOWN."""
    reply = await api.call(
        "POST",
        "/v2.0/ports",
        {
            "port": {
                "network_id": net["id"],
                "name": "vm1-eth0",
                "device_owner": "compute:nova",
                "device_id": "8182a4d4-0000-4000-8000-000000000001",
            }
        },
    )
    assert reply.status == 201
    port = reply.body["port"]
    assert set(port) == {
        "id",
        "name",
        "description",
        "network_id",
        "project_id",
        "tenant_id",
        "admin_state_up",
        "status",
        "mac_address",
        "fixed_ips",
        "device_id",
        "device_owner",
        "security_groups",
        "port_security_enabled",
        "allowed_address_pairs",
        "extra_dhcp_opts",
        "binding:host_id",
        "binding:vif_type",
        "binding:vnic_type",
        "binding:profile",
        "binding:vif_details",
        "qos_policy_id",
        "trusted",
        "dns_name",
        "dns_domain",
        "dns_assignment",
        "resource_request",
        "tags",
        "revision_number",
        "created_at",
        "updated_at",
    }
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", port["mac_address"])
    assert port["fixed_ips"] == [{"subnet_id": net["subnet"]["id"], "ip_address": "10.0.0.2"}]
    assert port["status"] == "DOWN" and port["admin_state_up"] is True
    assert port["binding:vif_type"] == "unbound" and port["binding:vif_details"] == {}
    assert port["binding:vnic_type"] == "normal" and port["binding:host_id"] == ""
    assert port["binding:profile"] == {}
    assert port["port_security_enabled"] is True
    assert port["allowed_address_pairs"] == [] and port["extra_dhcp_opts"] == []
    groups = (await api.get("/v2.0/security-groups"))["security_groups"]
    default = [
        g["id"] for g in groups if g["name"] == "default" and g["project_id"] == port["project_id"]
    ]
    assert port["security_groups"] == default
    shown = (await api.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert shown == port


async def test_automatic_addresses_one_per_version_plus_eui64(api):
    """Without fixed_ips: one IPv4, one stateful IPv6 and the EUI-64 of every slaac subnet."""
    net = await api.network()
    v4 = await api.subnet(net["id"], "10.0.0.0/24")
    stateful = await api.subnet(
        net["id"],
        "fd00:a::/64",
        ipv6_address_mode="dhcpv6-stateful",
        ipv6_ra_mode="dhcpv6-stateful",
    )
    await api.subnet(net["id"], "fd00:b::/64")  # a second stateful one is not used
    slaac = await api.subnet(
        net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac"
    )
    port = await api.port(net["id"], mac_address="fa:16:3e:00:00:01")
    assert port["fixed_ips"] == [
        {"subnet_id": v4["id"], "ip_address": "10.0.0.2"},
        {"subnet_id": stateful["id"], "ip_address": "fd00:a::2"},
        {"subnet_id": slaac["id"], "ip_address": "fd00:1::f816:3eff:fe00:1"},
    ]


async def test_automatic_ipv4_moves_to_the_next_subnet_when_one_is_full(api):
    """The first IPv4 subnet with a free address (creation order) serves automatic requests."""
    net = await api.network()
    full = await api.subnet(net["id"], "10.0.0.0/30")  # one usable address: .2
    spare = await api.subnet(net["id"], "10.0.1.0/24")
    a = await api.port(net["id"])
    b = await api.port(net["id"])
    assert a["fixed_ips"] == [{"subnet_id": full["id"], "ip_address": "10.0.0.2"}]
    assert b["fixed_ips"] == [{"subnet_id": spare["id"], "ip_address": "10.0.1.2"}]


async def test_exhausted_network_is_409_and_network_without_subnets_gives_no_ips(api):
    """No free IPv4 anywhere → 409 IpAddressGenerationFailure; no subnets → no addresses."""
    net = await api.network()
    await api.subnet(net["id"], "10.0.0.0/30")
    await api.port(net["id"])
    reply = await _post(api, {"network_id": net["id"]}, 409)
    assert reply.error == "IpAddressGenerationFailure"
    assert reply.message == f"No more IP addresses available on network {net['id']}."
    bare = await api.network()
    port = await api.port(bare["id"])
    assert port["fixed_ips"] == [] and port["security_groups"] == []


async def test_empty_fixed_ips_means_no_addresses(api, net):
    """fixed_ips: [] gives no address and so no default security group."""
    port = await api.port(net["id"], fixed_ips=[])
    assert port["fixed_ips"] == [] and port["security_groups"] == []


async def test_fixed_ip_by_subnet_id(api, net):
    """{"subnet_id": S} takes S's lowest free address."""
    await api.port(net["id"])
    port = await api.port(net["id"], fixed_ips=[{"subnet_id": net["subnet"]["id"]}])
    assert port["fixed_ips"] == [{"subnet_id": net["subnet"]["id"], "ip_address": "10.0.0.3"}]


async def test_fixed_ip_by_subnet_id_errors(api, net):
    """Unknown subnet → 404, another network's subnet → 400, exhausted subnet → 409."""
    reply = await _post(api, {"network_id": net["id"], "fixed_ips": [{"subnet_id": UNKNOWN}]}, 404)
    assert reply.error == "SubnetNotFound"
    other = await api.network()
    foreign = await api.subnet(other["id"], "10.9.0.0/30")
    reply = await _post(
        api, {"network_id": net["id"], "fixed_ips": [{"subnet_id": foreign["id"]}]}, 400
    )
    assert reply.error == "InvalidInput"
    await api.port(other["id"])
    reply = await _post(
        api, {"network_id": other["id"], "fixed_ips": [{"subnet_id": foreign["id"]}]}, 409
    )
    assert reply.error == "IpAddressGenerationFailure"


async def test_fixed_ip_by_address_finds_its_subnet(api):
    """{"ip_address": A} uses the subnet containing A; no such subnet → 400."""
    net = await api.network()
    await api.subnet(net["id"], "10.0.0.0/24")
    second = await api.subnet(net["id"], "10.0.1.0/24")
    port = await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.1.50"}])
    assert port["fixed_ips"] == [{"subnet_id": second["id"], "ip_address": "10.0.1.50"}]
    reply = await _post(
        api, {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.7.0.5"}]}, 400
    )
    assert reply.error == "InvalidIpForNetwork"
    assert reply.message == (
        "IP address 10.7.0.5 is not a valid IP for any of the subnets on the specified network."
    )


async def test_fixed_ip_with_subnet_and_address(api):
    """{"subnet_id": S, "ip_address": A} needs A inside S (400 InvalidIpForSubnet)."""
    net = await api.network()
    first = await api.subnet(net["id"], "10.0.0.0/24")
    await api.subnet(net["id"], "10.0.1.0/24")
    ok = await api.port(
        net["id"], fixed_ips=[{"subnet_id": first["id"], "ip_address": "10.0.0.77"}]
    )
    assert _ips(ok) == ["10.0.0.77"]
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "fixed_ips": [{"subnet_id": first["id"], "ip_address": "10.0.1.5"}],
        },
        400,
    )
    assert reply.error == "InvalidIpForSubnet"
    assert reply.message == "IP address 10.0.1.5 is not a valid IP for the specified subnet."


async def test_explicit_address_rules(api):
    """Explicit IPs may be outside pools or the gateway, never network/broadcast."""
    net = await api.network()
    await api.subnet(
        net["id"], "10.0.0.0/24", allocation_pools=[{"start": "10.0.0.100", "end": "10.0.0.110"}]
    )
    outside = await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.5"}])
    gateway = await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.1"}])
    assert _ips(outside) == ["10.0.0.5"] and _ips(gateway) == ["10.0.0.1"]
    for reserved in ("10.0.0.0", "10.0.0.255"):
        reply = await _post(
            api, {"network_id": net["id"], "fixed_ips": [{"ip_address": reserved}]}, 400
        )
        assert reply.error == "InvalidIpForSubnet", reserved
    # automatic allocation still starts at the pool
    assert _ips(await api.port(net["id"])) == ["10.0.0.100"]


async def test_address_already_allocated_or_requested_twice_is_409(api, net):
    """An address held by a port, or asked twice in one request → 409."""
    await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.101"}])
    reply = await _post(
        api, {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.101"}]}, 409
    )
    assert reply.body == {
        "NeutronError": {
            "type": "IpAddressAlreadyAllocated",
            "detail": "",
            "message": f"IP address 10.0.0.101 already allocated in subnet {net['subnet']['id']}",
        }
    }
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "fixed_ips": [{"ip_address": "10.0.0.102"}, {"ip_address": "10.0.0.102"}],
        },
        409,
    )
    assert reply.error == "IpAddressAlreadyAllocated"


async def test_explicit_address_on_a_slaac_subnet_is_400(api):
    """Auto-address subnets take no explicit address; subnet_id alone gives the EUI-64."""
    net = await api.network()
    slaac = await api.subnet(
        net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac"
    )
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "fixed_ips": [{"subnet_id": slaac["id"], "ip_address": "fd00:1::99"}],
        },
        400,
    )
    assert reply.error == "InvalidInput"
    port = await api.port(
        net["id"], mac_address="fa:16:3e:00:00:02", fixed_ips=[{"subnet_id": slaac["id"]}]
    )
    assert _ips(port) == ["fd00:1::f816:3eff:fe00:2"]


async def test_fixed_ip_item_needs_a_key(api, net):
    """An empty fixed_ips item or an unknown key is 400."""
    for item in ({}, {"ip": "10.0.0.5"}, {"ip_address": "not-an-ip"}):
        reply = await _post(api, {"network_id": net["id"], "fixed_ips": [item]}, 400)
        assert reply.error == "HTTPBadRequest", item


async def test_delete_releases_ip_and_mac(api, net):
    """A deleted port's address and MAC can be used again."""
    port = await api.port(net["id"])
    await api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    again = await api.port(net["id"], mac_address=port["mac_address"])
    assert _ips(again) == _ips(port)
    reply = await api.call("GET", f"/v2.0/ports/{port['id']}")
    assert reply.status == 404 and reply.error == "PortNotFound"
    assert reply.message == f"Port {port['id']} could not be found."


async def test_fixed_ips_update_keeps_listed_allocates_new_releases_missing(api, net):
    """PUT fixed_ips is the complete list: kept, added and released in one go."""
    port = await api.port(
        net["id"], fixed_ips=[{"ip_address": "10.0.0.10"}, {"ip_address": "10.0.0.11"}]
    )
    path = f"/v2.0/ports/{port['id']}"
    updated = (
        await api.ok(
            "PUT",
            path,
            {"port": {"fixed_ips": [{"ip_address": "10.0.0.11"}, {"ip_address": "10.0.0.2"}]}},
        )
    )["port"]
    assert _ips(updated) == ["10.0.0.2", "10.0.0.11"]
    assert updated["revision_number"] == 2
    other = await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.10"}])
    assert _ips(other) == ["10.0.0.10"]
    reply = await api.call("PUT", path, {"port": {"fixed_ips": [{"ip_address": "10.0.0.10"}]}})
    assert reply.status == 409 and reply.error == "IpAddressAlreadyAllocated"
    # the failed update changed nothing
    assert _ips((await api.get(path))["port"]) == ["10.0.0.2", "10.0.0.11"]
    cleared = await api.ok("PUT", path, {"port": {"fixed_ips": [], "security_groups": []}})
    assert cleared["port"]["fixed_ips"] == []
    assert _ips(await api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.11"}])) == ["10.0.0.11"]


async def test_subnet_only_item_reuses_an_address_the_port_holds(api, net):
    """On update, explicit addresses match first; a subnet-only item keeps a held address."""
    port = await api.port(
        net["id"], fixed_ips=[{"ip_address": "10.0.0.10"}, {"ip_address": "10.0.0.11"}]
    )
    path = f"/v2.0/ports/{port['id']}"
    for request in (
        [{"subnet_id": net["subnet"]["id"]}, {"ip_address": "10.0.0.10"}],
        [{"ip_address": "10.0.0.11"}, {"subnet_id": net["subnet"]["id"]}],
    ):
        updated = (await api.ok("PUT", path, {"port": {"fixed_ips": request}}))["port"]
        assert _ips(updated) == ["10.0.0.10", "10.0.0.11"], request
        assert updated["revision_number"] == 1
    added = (
        await api.ok(
            "PUT",
            path,
            {"port": {"fixed_ips": [*port["fixed_ips"], {"subnet_id": net["subnet"]["id"]}]}},
        )
    )["port"]
    assert _ips(added) == ["10.0.0.2", "10.0.0.10", "10.0.0.11"]


async def test_resending_the_current_fixed_ips_with_an_eui64_address_works(api, net):
    """A client sending back the port's whole list (EUI-64 included) changes nothing."""
    slaac = await api.subnet(
        net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac"
    )
    port = await api.port(net["id"])
    path = f"/v2.0/ports/{port['id']}"
    same = (await api.ok("PUT", path, {"port": {"fixed_ips": port["fixed_ips"]}}))["port"]
    assert same["fixed_ips"] == port["fixed_ips"] and same["revision_number"] == 1
    v4_only = [f for f in port["fixed_ips"] if f["subnet_id"] != slaac["id"]]
    changed = (
        await api.ok(
            "PUT",
            path,
            {
                "port": {
                    "fixed_ips": [
                        *v4_only,
                        {"ip_address": "10.0.0.77"},
                        *[f for f in port["fixed_ips"] if f["subnet_id"] == slaac["id"]],
                    ]
                }
            },
        )
    )["port"]
    assert len(changed["fixed_ips"]) == 3


async def test_a_second_slaac_subnet_gives_ports_a_second_eui64_address(api, net):
    """Adding another auto-address subnet keeps the first EUI-64 and adds the second."""
    first = await api.subnet(
        net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac"
    )
    port = await api.port(net["id"], mac_address="fa:16:3e:00:00:05")
    second = await api.subnet(
        net["id"],
        "fd00:2::/64",
        ipv6_address_mode="dhcpv6-stateless",
        ipv6_ra_mode="dhcpv6-stateless",
    )
    after = (await api.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert after["fixed_ips"] == [
        {"subnet_id": net["subnet"]["id"], "ip_address": "10.0.0.2"},
        {"subnet_id": first["id"], "ip_address": "fd00:1::f816:3eff:fe00:5"},
        {"subnet_id": second["id"], "ip_address": "fd00:2::f816:3eff:fe00:5"},
    ]


async def test_user_mac_is_normalised_and_unique_per_network(api, net):
    """A given MAC is lowercased; reused on the network → 409; another network may reuse it."""
    port = await api.port(net["id"], mac_address="FA-16-3E-4C-2A-01")
    assert port["mac_address"] == "fa:16:3e:4c:2a:01"
    reply = await _post(api, {"network_id": net["id"], "mac_address": "fa:16:3e:4c:2a:01"}, 409)
    assert reply.body["NeutronError"] == {
        "type": "MacAddressInUse",
        "detail": "",
        "message": f"Unable to complete operation for network {net['id']}. The mac address "
        "fa:16:3e:4c:2a:01 is in use.",
    }
    other = await api.network()
    assert (await api.port(other["id"], mac_address="fa:16:3e:4c:2a:01"))["mac_address"]
    for bad in ("01:00:5e:00:00:01", "00:00:00:00:00:00", "fa:16:3e:4c:2a"):
        reply = await _post(api, {"network_id": net["id"], "mac_address": bad}, 400)
        assert reply.error == "HTTPBadRequest", bad


async def test_mac_of_a_subnet_gateway_counts_as_in_use(api, client):
    """Each subnet reserves a gateway MAC on its network; a port asking for it → 409."""
    net = await api.network()
    subnet = await api.subnet(net["id"], "10.0.0.0/24")
    row = await client.alcor.store.fetchone(
        "SELECT gateway_mac FROM subnets WHERE id = ?", [subnet["id"]]
    )
    assert row[0].startswith("fa:16:3e:")
    reply = await _post(api, {"network_id": net["id"], "mac_address": row[0]}, 409)
    assert reply.error == "MacAddressInUse"


async def test_generated_macs_use_the_configured_prefix(make_api):
    """port.mac_prefix decides the first octets of generated MACs."""
    api = await make_api(**{"port.mac_prefix": "02:aa:bb:cc"})
    net = await api.network()
    macs = {(await api.port(net["id"]))["mac_address"] for _ in range(5)}
    assert len(macs) == 5 and all(m.startswith("02:aa:bb:cc:") for m in macs)


async def test_mac_update_rules(api, net):
    """Admins change MACs of unbound ports (re-deriving SLAAC); bound ports → 409 PortBound."""
    slaac = await api.subnet(
        net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac"
    )
    port = await api.port(net["id"], mac_address="fa:16:3e:00:00:01")
    updated = (
        await api.ok(
            "PUT", f"/v2.0/ports/{port['id']}", {"port": {"mac_address": "fa:16:3e:00:00:02"}}
        )
    )["port"]
    assert {"subnet_id": slaac["id"], "ip_address": "fd00:1::f816:3eff:fe00:2"} in updated[
        "fixed_ips"
    ]
    assert "10.0.0.2" in _ips(updated)
    reused = await api.port(net["id"], mac_address="fa:16:3e:00:00:01")  # old MAC released
    assert reused["mac_address"] == "fa:16:3e:00:00:01"
    await api.node("node1", "192.0.2.11")
    bound = await api.port(net["id"], **{"binding:host_id": "node1"})
    reply = await api.call(
        "PUT", f"/v2.0/ports/{bound['id']}", {"port": {"mac_address": "fa:16:3e:00:00:09"}}
    )
    assert reply.status == 409 and reply.error == "PortBound"
    reply = await api.call(
        "PUT", f"/v2.0/ports/{port['id']}", {"port": {"mac_address": "fa:16:3e:00:00:01"}}
    )
    assert reply.status == 409 and reply.error == "MacAddressInUse"


async def test_security_group_defaults_and_rules(api, net):
    """Default SG only with port security, an IP and a non-network owner; [] stays []."""
    assert (await api.port(net["id"], security_groups=[]))["security_groups"] == []
    assert (await api.port(net["id"], port_security_enabled=False))["security_groups"] == []
    assert (await api.port(net["id"], device_owner="network:dhcp"))["security_groups"] == []
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "port_security_enabled": False,
            "security_groups": [(await api.port(net["id"]))["security_groups"][0]],
        },
        400,
    )
    assert reply.error == "PortSecurityAndIPRequiredForSecurityGroups"
    default = (await api.port(net["id"]))["security_groups"][0]
    bare = await api.port(net["id"], fixed_ips=[], security_groups=[default])
    assert bare["security_groups"] == [default]  # no IP needed, as in Neutron
    reply = await _post(api, {"network_id": net["id"], "security_groups": [UNKNOWN]}, 404)
    assert reply.error == "SecurityGroupNotFound"
    assert reply.message == f"Security group {UNKNOWN} does not exist"


async def test_port_security_follows_the_network_default(api):
    """A port inherits its network's port_security_enabled."""
    net = await api.network(port_security_enabled=False)
    await api.subnet(net["id"], "10.0.0.0/24")
    port = await api.port(net["id"])
    assert port["port_security_enabled"] is False and port["security_groups"] == []


async def test_disabling_port_security_needs_no_groups_and_no_pairs(api, net):
    """port_security_enabled=false with SGs → 409; remove SGs in the same PUT and it works."""
    port = await api.port(net["id"])
    path = f"/v2.0/ports/{port['id']}"
    reply = await api.call("PUT", path, {"port": {"port_security_enabled": False}})
    assert reply.status == 409 and reply.error == "PortSecurityPortHasSecurityGroup"
    off = (
        await api.ok("PUT", path, {"port": {"port_security_enabled": False, "security_groups": []}})
    )["port"]
    assert off["port_security_enabled"] is False
    reply = await api.call(
        "PUT", path, {"port": {"allowed_address_pairs": [{"ip_address": "10.0.0.99"}]}}
    )
    assert reply.status == 409 and reply.error == "AddressPairAndPortSecurityRequired"


async def test_allowed_address_pairs(api, net):
    """Pairs default their MAC to the port's; duplicates and too many are 400."""
    port = await api.port(
        net["id"],
        allowed_address_pairs=[
            {"ip_address": "10.0.0.99"},
            {"ip_address": "192.168.0.0/24", "mac_address": "FA:16:3E:00:00:AA"},
        ],
    )
    assert port["allowed_address_pairs"] == [
        {"ip_address": "10.0.0.99", "mac_address": port["mac_address"]},
        {"ip_address": "192.168.0.0/24", "mac_address": "fa:16:3e:00:00:aa"},
    ]
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "allowed_address_pairs": [{"ip_address": "10.0.0.99"}, {"ip_address": "10.0.0.99"}],
        },
        400,
    )
    assert reply.error == "DuplicateAddressPairInRequest"
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "allowed_address_pairs": [{"ip_address": f"10.1.0.{i}"} for i in range(11)],
        },
        400,
    )
    assert reply.error == "AllowedAddressPairExhausted"
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "port_security_enabled": False,
            "allowed_address_pairs": [{"ip_address": "10.0.0.9"}],
        },
        409,
    )
    assert reply.error == "AddressPairAndPortSecurityRequired"
    reply = await _post(
        api,
        {"network_id": net["id"], "allowed_address_pairs": [{"mac_address": "fa:16:3e:00:00:aa"}]},
        400,
    )
    assert reply.error == "HTTPBadRequest"


async def test_extra_dhcp_opts(api, net):
    """DHCP options default to IPv4, are unique per name/version; null on update deletes."""
    port = await api.port(
        net["id"],
        extra_dhcp_opts=[
            {"opt_name": "tftp-server", "opt_value": "10.0.0.9"},
            {"opt_name": "tftp-server", "opt_value": "fd00::9", "ip_version": 6},
        ],
    )
    assert port["extra_dhcp_opts"] == [
        {"opt_name": "tftp-server", "opt_value": "10.0.0.9", "ip_version": 4},
        {"opt_name": "tftp-server", "opt_value": "fd00::9", "ip_version": 6},
    ]
    path = f"/v2.0/ports/{port['id']}"
    updated = (
        await api.ok(
            "PUT",
            path,
            {
                "port": {
                    "extra_dhcp_opts": [
                        {"opt_name": "tftp-server", "opt_value": None, "ip_version": 6},
                        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
                    ]
                }
            },
        )
    )["port"]
    assert sorted(o["opt_name"] for o in updated["extra_dhcp_opts"]) == [
        "bootfile-name",
        "tftp-server",
    ]
    assert all(o["ip_version"] == 4 for o in updated["extra_dhcp_opts"])
    reply = await _post(
        api,
        {
            "network_id": net["id"],
            "extra_dhcp_opts": [
                {"opt_name": "a", "opt_value": "1"},
                {"opt_name": "a", "opt_value": "2"},
            ],
        },
        400,
    )
    assert reply.error == "HTTPBadRequest"
    for bad in (
        [{"opt_name": "", "opt_value": "1"}],
        [{"opt_value": "1"}],
        [{"opt_name": "a", "opt_value": "1", "ip_version": 5}],
        [{"opt_name": "a", "opt_value": None}],
    ):
        reply = await _post(api, {"network_id": net["id"], "extra_dhcp_opts": bad}, 400)
        assert reply.error == "HTTPBadRequest", bad


async def test_router_and_floatingip_owners_are_refused(api, net):
    """device_owner network:router_* / network:floatingip are set only by those APIs."""
    for owner in ("network:router_interface", "network:router_gateway", "network:floatingip"):
        reply = await _post(api, {"network_id": net["id"], "device_owner": owner}, 400)
        assert reply.error == "HTTPBadRequest", owner


async def test_binding_to_a_registered_node(api, net):
    """A port bound to a known node gets vif_type ovs and the OVS details; status DOWN."""
    await api.node("node1", "192.0.2.11")
    port = await api.port(net["id"], **{"binding:host_id": "node1"})
    assert port["binding:vif_type"] == "ovs" and port["status"] == "DOWN"
    assert port["binding:vif_details"] == {
        "port_filter": True,
        "ovs_hybrid_plug": False,
        "bridge_name": "br-int",
    }


async def test_binding_failed_until_the_node_registers(api, net):
    """An unknown host gives binding_failed; registering the node rebinds the port."""
    port = await api.port(net["id"], **{"binding:host_id": "node7"})
    assert port["binding:vif_type"] == "binding_failed" and port["status"] == "DOWN"
    assert port["binding:vif_details"] == {"reason": "host not registered"}
    await api.node("node7", "192.0.2.17")
    rebound = (await api.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert rebound["binding:vif_type"] == "ovs"
    assert rebound["revision_number"] == port["revision_number"] + 1
    assert rebound["updated_at"] >= port["updated_at"]


async def test_non_normal_vnic_type_fails_binding(api, net):
    """Only vnic_type normal can be bound by alcor."""
    await api.node("node1", "192.0.2.11")
    port = await api.port(net["id"], **{"binding:host_id": "node1", "binding:vnic_type": "direct"})
    assert port["binding:vif_type"] == "binding_failed"
    assert port["binding:vif_details"] == {"reason": "vnic_type direct is not supported"}
    fixed = (
        await api.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:vnic_type": "normal"}})
    )["port"]
    assert fixed["binding:vif_type"] == "ovs"


async def test_create_unbound_then_bind_with_put(api, net):
    """The Nova flow: create unbound, PUT binding:host_id binds; clearing it unbinds."""
    await api.node("node1", "192.0.2.11")
    port = await api.port(net["id"])
    path = f"/v2.0/ports/{port['id']}"
    bound = (await api.ok("PUT", path, {"port": {"binding:host_id": "node1"}}))["port"]
    assert bound["binding:vif_type"] == "ovs" and bound["status"] == "DOWN"
    assert bound["revision_number"] == 2
    unbound = (await api.ok("PUT", path, {"port": {"binding:host_id": ""}}))["port"]
    assert unbound["binding:vif_type"] == "unbound" and unbound["binding:vif_details"] == {}


async def test_binding_profile_is_an_object_up_to_4k(api, net):
    """binding:profile is echoed; not an object or over 4 KiB → 400."""
    port = await api.port(net["id"], **{"binding:profile": {"pci_slot": "0000:00:01.0"}})
    assert port["binding:profile"] == {"pci_slot": "0000:00:01.0"}
    for bad in ("x", {"k": "v" * 5000}):
        reply = await _post(api, {"network_id": net["id"], "binding:profile": bad}, 400)
        assert reply.error == "HTTPBadRequest"


async def test_trusted_is_mirrored_in_the_binding_profile(api, net):
    """port-trusted-vif: `trusted` (admin only) shows in binding:profile while it is set."""
    unset = await api.port(net["id"], **{"binding:profile": {"pci_slot": "0000:00:01.0"}})
    assert unset["trusted"] is None and "trusted" not in unset["binding:profile"]
    for value in (True, False):
        port = await api.port(net["id"], trusted=value)
        assert port["trusted"] is value and port["binding:profile"] == {"trusted": value}
    path = f"/v2.0/ports/{unset['id']}"
    port = (await api.ok("PUT", path, {"port": {"trusted": True}}))["port"]
    assert port["trusted"] is True
    assert port["binding:profile"] == {"pci_slot": "0000:00:01.0", "trusted": True}
    # A new profile keeps the flag, as Neutron keeps it apart from the profile.
    port = (await api.ok("PUT", path, {"port": {"binding:profile": {"a": "b"}}}))["port"]
    assert port["binding:profile"] == {"a": "b", "trusted": True}
    port = (await api.ok("PUT", path, {"port": {"trusted": False}}))["port"]
    assert port["trusted"] is False and port["binding:profile"] == {"a": "b", "trusted": False}
    port = (await api.ok("PUT", path, {"port": {"trusted": None}}))["port"]
    assert port["trusted"] is None and port["binding:profile"] == {"a": "b"}
    assert (await api.get(path))["port"] == port
    listed = await api.get(f"/v2.0/ports?trusted=false&network_id={net['id']}")
    assert [p["trusted"] for p in listed["ports"]] == [False]


async def test_trusted_is_admin_only_and_boolean(api, net):
    """A member may not set or read `trusted` (403, nothing stored); a non-boolean is 400."""
    member = api.as_(net["project_id"])
    await member.fails(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": net["id"], "trusted": True}},
        status=403,
        error="PolicyNotAuthorized",
    )
    port = await member.port(net["id"])
    assert "trusted" not in port  # admins only read it too
    path = f"/v2.0/ports/{port['id']}"
    await member.fails(
        "PUT", path, {"port": {"trusted": True}}, status=403, error="PolicyNotAuthorized"
    )
    await api.fails("PUT", path, {"port": {"trusted": "maybe"}}, status=400, error="HTTPBadRequest")
    assert (await api.get(path))["port"]["trusted"] is None
    assert "port-trusted-vif" in {
        e["alias"] for e in (await api.get("/v2.0/extensions"))["extensions"]
    }


async def test_read_only_port_attributes(api, net):
    """status, vif_type and network_id cannot be written."""
    port = await api.port(net["id"])
    for attr, value in (
        ("status", "ACTIVE"),
        ("binding:vif_type", "ovs"),
        ("network_id", net["id"]),
    ):
        reply = await api.call("PUT", f"/v2.0/ports/{port['id']}", {"port": {attr: value}})
        assert reply.status == 400 and reply.message == f"Cannot update read-only attribute {attr}"
    reply = await _post(api, {"network_id": net["id"], "status": "ACTIVE"}, 400)
    assert reply.message == "Attribute 'status' not allowed in POST"


async def test_port_on_unknown_network_is_404(api):
    """network_id must name a visible network."""
    reply = await _post(api, {"network_id": UNKNOWN}, 404)
    assert reply.error == "NetworkNotFound"
    reply = await _post(api, {"name": "x"}, 400)
    assert reply.message == "Failed to parse request. Required attribute 'network_id' not specified"


async def test_bulk_ports_are_created_in_order(api, net):
    """Bulk create returns ports in request order with distinct addresses and MACs."""
    body = {"ports": [{"network_id": net["id"], "name": f"p{i}"} for i in range(5)]}
    ports = (await api.ok("POST", "/v2.0/ports", body, 201))["ports"]
    assert [p["name"] for p in ports] == [f"p{i}" for i in range(5)]
    assert [_ips(p)[0] for p in ports] == [f"10.0.0.{i}" for i in range(2, 7)]
    assert len({p["mac_address"] for p in ports}) == 5


async def test_bulk_failure_creates_nothing_and_releases_ips_and_macs(api, net):
    """A failing bulk item (Appendix A) rolls back every item's IPs and MACs."""
    taken = await api.port(net["id"], mac_address="fa:16:3e:4c:2a:01")
    body = {
        "ports": [
            {
                "network_id": net["id"],
                "name": "a",
                "mac_address": "fa:16:3e:00:00:0a",
                "fixed_ips": [{"ip_address": "10.0.0.50"}],
            },
            {"network_id": net["id"], "mac_address": "fa:16:3e:4c:2a:01"},
        ]
    }
    reply = await api.call("POST", "/v2.0/ports", body)
    assert reply.status == 409 and reply.error == "MacAddressInUse"
    ports = (await api.get("/v2.0/ports"))["ports"]
    assert [p["id"] for p in ports] == [taken["id"]]
    again = await api.port(
        net["id"], mac_address="fa:16:3e:00:00:0a", fixed_ips=[{"ip_address": "10.0.0.50"}]
    )
    assert _ips(again) == ["10.0.0.50"]
    assert _ips(await api.port(net["id"])) == ["10.0.0.3"]


async def test_bulk_items_conflict_with_each_other(api, net):
    """The same fixed IP or MAC in two items of one bulk → 409, nothing created."""
    for item in ({"fixed_ips": [{"ip_address": "10.0.0.9"}]}, {"mac_address": "fa:16:3e:00:00:01"}):
        body = {"ports": [{"network_id": net["id"], **item}, {"network_id": net["id"], **item}]}
        reply = await api.call("POST", "/v2.0/ports", body)
        assert reply.status == 409, reply.body
    assert (await api.get("/v2.0/ports"))["ports"] == []


async def test_bulk_error_of_the_first_failing_item_is_returned(api, net):
    """Validation errors of any bulk item reject the whole request before anything is done."""
    body = {"ports": [{"network_id": net["id"]}, {"network_id": net["id"], "colour": "red"}]}
    reply = await api.call("POST", "/v2.0/ports", body)
    assert reply.status == 400 and reply.message == "Unrecognized attribute(s) 'colour'"
    assert (await api.get("/v2.0/ports"))["ports"] == []


async def test_bulk_size_limits(make_api):
    """Bulk requests take 1 to api.max_bulk_items items."""
    api = await make_api(**{"api.max_bulk_items": 3})
    net = await api.network()
    for count in (0, 4):
        reply = await api.call(
            "POST", "/v2.0/ports", {"ports": [{"network_id": net["id"]} for _ in range(count)]}
        )
        assert reply.status == 400, count
    await api.ok("POST", "/v2.0/ports", {"ports": [{"network_id": net["id"]}] * 3}, 201)


async def test_native_bulk_update_is_all_or_nothing(api, net):
    """PUT /project/{p}/ports/bulk applies every item or none."""
    a = await api.port(net["id"], name="a")
    b = await api.port(net["id"], name="b")
    path = f"/project/{net['project_id']}/ports/bulk"
    body = {"ports": [{"id": a["id"], "name": "a2"}, {"id": b["id"], "name": "b2"}]}
    updated = (await api.ok("PUT", path, body))["ports"]
    assert [p["name"] for p in updated] == ["a2", "b2"]
    body = {
        "ports": [
            {"id": a["id"], "name": "a3"},
            {"id": b["id"], "fixed_ips": [{"ip_address": _ips(a)[0]}]},
        ]
    }
    reply = await api.call("PUT", path, body)
    assert reply.status == 409 and reply.error == "IpAddressAlreadyAllocated"
    assert (await api.get(f"/v2.0/ports/{a['id']}"))["port"]["name"] == "a2"
    reply = await api.call("PUT", path, {"ports": [{"name": "x"}]})
    assert reply.status == 400


async def test_deleting_a_port_releases_it_from_its_node(api, net):
    """A node with bound ports cannot be deleted; once the port is gone it can."""
    node = await api.node("node1", "192.0.2.11")
    port = await api.port(net["id"], **{"binding:host_id": "node1"})
    reply = await api.call("DELETE", f"/nodes/{node['node_id']}")
    assert reply.status == 409 and reply.error == "NodeInUse"
    await api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await api.ok("DELETE", f"/nodes/{node['node_id']}", status=204)


@pytest.mark.parametrize(
    "attrs",
    [
        {"admin_state_up": "maybe"},
        {"device_id": 5},
        {"binding:vnic_type": "fast"},
        {"security_groups": "x"},
    ],
)
async def test_port_type_errors_are_400(api, net, attrs):
    """Wrong types on ports are 400 HTTPBadRequest naming the attribute."""
    reply = await _post(api, {"network_id": net["id"], **attrs}, 400)
    assert reply.message.startswith(f"Invalid input for {next(iter(attrs))}. Reason: ")


async def test_port_put_without_changes_bumps_nothing_and_if_match_applies(api, net):
    """Re-sending a port's own values changes nothing; If-Match guards PUT and DELETE."""
    port = await api.port(net["id"], name="p", allowed_address_pairs=[{"ip_address": "10.0.0.99"}])
    path = f"/v2.0/ports/{port['id']}"
    same = (
        await api.ok(
            "PUT",
            path,
            {
                "port": {
                    "name": "p",
                    "admin_state_up": True,
                    "fixed_ips": port["fixed_ips"],
                    "security_groups": port["security_groups"],
                    "mac_address": port["mac_address"],
                    "allowed_address_pairs": port["allowed_address_pairs"],
                    "device_owner": "",
                }
            },
        )
    )["port"]
    assert same["revision_number"] == 1 and same["updated_at"] == port["updated_at"]
    reply = await api.call(
        "PUT", path, {"port": {"name": "q"}}, headers={"If-Match": "revision_number=0"}
    )
    assert reply.status == 412 and reply.error == "RevisionNumberConstraintFailed"
    reply = await api.call("DELETE", path, headers={"If-Match": "revision_number=3"})
    assert reply.status == 412
    await api.ok("DELETE", path, headers={"If-Match": "revision_number=1"}, status=204)


async def test_security_groups_of_another_project_are_not_found(api):
    """A member cannot attach another project's security group to its port (404)."""
    other_sg = await api.as_("p1").port((await api.as_("p1").network())["id"], fixed_ips=[])
    p1_net = await api.as_("p1").network()
    await api.as_("p1").subnet(p1_net["id"], "10.0.0.0/24")
    p1_group = (await api.as_("p1").port(p1_net["id"]))["security_groups"][0]
    del other_sg
    p2 = api.as_("p2")
    net = await p2.network()
    await p2.subnet(net["id"], "10.0.0.0/24")
    reply = await p2.call(
        "POST", "/v2.0/ports", {"port": {"network_id": net["id"], "security_groups": [p1_group]}}
    )
    assert reply.status == 404 and reply.error == "SecurityGroupNotFound"


async def test_mac_generation_failure_when_the_prefix_space_is_full(make_api):
    """With every MAC of a 5-octet prefix taken, a generated MAC → 503 MacAddressGenerationFailure."""
    api = await make_api(**{"port.mac_prefix": "fa:16:3e:00:01"})
    net = await api.network()
    await api.ok(
        "POST",
        "/v2.0/ports",
        {
            "ports": [
                {"network_id": net["id"], "mac_address": f"fa:16:3e:00:01:{i:02x}"}
                for i in range(256)
            ]
        },
        201,
    )
    reply = await api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}})
    assert reply.status == 503 and reply.error == "MacAddressGenerationFailure"
    assert reply.message == f"Unable to generate unique mac on network {net['id']}."


async def test_groups_on_a_port_without_addresses(api):
    """A port of a network without subnets takes and drops groups; each change bumps it."""
    net = await api.network()
    port = await api.port(net["id"])
    group = (
        await api.ok("POST", "/v2.0/security-groups", {"security_group": {"name": "web"}}, 201)
    )["security_group"]
    path = f"/v2.0/ports/{port['id']}"
    added = (await api.ok("PUT", path, {"port": {"security_groups": [group["id"]]}}))["port"]
    assert added["security_groups"] == [group["id"]]
    assert added["revision_number"] > port["revision_number"]
    in_use = await api.call("DELETE", f"/v2.0/security-groups/{group['id']}")
    assert in_use.status == 409
    dropped = (await api.ok("PUT", path, {"port": {"security_groups": []}}))["port"]
    assert dropped["security_groups"] == []
    assert dropped["revision_number"] > added["revision_number"]


async def test_ports_are_tagged_during_bulk_creation(api, net):
    """tag-ports-during-bulk-creation: each bulk item keeps its own tags (none: [])."""
    tags = [["tag-1", "tag-2", "tag-3"], ["tag-1", "tag-3"], []]
    body = {
        "ports": [
            {"port": {"network_id": net["id"], "name": str(i), "tags": t}}
            for i, t in enumerate(tags)
        ]
    }
    created = (await api.ok("POST", "/v2.0/ports", body, 201))["ports"]
    assert [p["tags"] for p in created] == tags
    shown = await api.get(f"/v2.0/ports/{created[0]['id']}")
    assert shown["port"]["tags"] == tags[0]


async def test_mac_address_null_regenerates_the_mac(api, net):
    """port-mac-address-regenerate: PUT mac_address null gives a new generated MAC (the old
    one is free again); a bound port keeps its MAC (409); null on create generates one."""
    port = await api.port(net["id"])
    body = await api.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"mac_address": None}})
    new = body["port"]["mac_address"]
    assert new != port["mac_address"] and re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", new)
    assert body["port"]["revision_number"] == port["revision_number"] + 1
    reuse = await api.port(net["id"], mac_address=port["mac_address"])
    assert reuse["mac_address"] == port["mac_address"]
    created = await api.port(net["id"], mac_address=None)
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", created["mac_address"])
    await api.node("node1", "192.168.0.11")
    bound = await api.port(net["id"], **{"binding:host_id": "node1"})
    reply = await api.call("PUT", f"/v2.0/ports/{bound['id']}", {"port": {"mac_address": None}})
    assert reply.status == 409 and reply.error == "PortBound"
