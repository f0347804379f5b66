"""DNS names (dns-integration, dns-domain-ports): ports, networks, floating IPs."""

from __future__ import annotations


async def test_port_dns_name_and_assignment(api):
    """A port's dns_assignment names each fixed IP: its dns_name, else host-<address>, with
    the FQDN in the port's domain (else the configured one); create, show, list and update
    all carry it."""
    net, _sub = await api.lan("10.0.0.0/24")
    port = await api.port(net["id"], dns_name="d1", dns_domain="test.org.")
    ip = port["fixed_ips"][0]["ip_address"]
    assert port["dns_assignment"] == [{"hostname": "d1", "ip_address": ip, "fqdn": "d1.test.org."}]
    shown = (await api.get(f"/v2.0/ports/{port['id']}"))["port"]
    assert shown["dns_assignment"] == port["dns_assignment"]
    updated = (await api.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"dns_name": ""}}))["port"]
    hostname = "host-" + ip.replace(".", "-")
    assert updated["dns_assignment"][0]["hostname"] == hostname
    assert updated["revision_number"] > port["revision_number"]
    plain = await api.port(net["id"])
    listed = (await api.get(f"/v2.0/ports?id={plain['id']}"))["ports"][0]
    assert listed["dns_name"] == "" and listed["dns_assignment"][0]["fqdn"].endswith(
        ".openstacklocal."
    )
    only = await api.get(f"/v2.0/ports?id={plain['id']}&fields=dns_assignment")
    assert only["ports"] == [{"dns_assignment": listed["dns_assignment"]}]
    assert (await api.get(f"/v2.0/ports?id={plain['id']}&fields=id"))["ports"] == [
        {"id": plain["id"]}
    ]
    for bad in ({"dns_name": "-bad"}, {"dns_domain": "single"}, {"dns_name": "a" * 64}):
        reply = await api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], **bad}})
        assert reply.status == 400, bad


async def test_network_and_floating_ip_dns(api):
    """Networks have a dns_domain (an update bumps the revision); floating IPs a dns_name."""
    net = await api.network(dns_domain="example.test.")
    updated = (
        await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"dns_domain": "exa.test."}})
    )["network"]
    assert (
        updated["dns_domain"] == "exa.test." and updated["revision_number"] > net["revision_number"]
    )
    public = await api.network(**{"router:external": True})
    await api.subnet(public["id"], "203.0.113.0/24")
    fip = await api.fip(public["id"], dns_name="web", dns_domain="example.org.")
    assert (fip["dns_name"], fip["dns_domain"]) == ("web", "example.org.")
