"""Zeta keeps VNIs and the active ZGC in memory: after its restart alcor re-creates the VPC
(after deleting Zeta's stale rows) and sends its ports again (southbound spec §8.1)."""

from __future__ import annotations

from tests.integration.zeta.conftest import bound_port, gateway_of, gateway_status, settled

LOST = "zeta lost state: re-creating the VPC and its ports"


def collapse(items):
    """Drop consecutive repeats (retries of one failing call)."""
    out = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


async def _vpc_with_ports(zapi, zeta, count):
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    ports = [await bound_port(zapi, network["id"], "host-1") for _ in range(count)]
    before = await settled(zapi, network["id"])
    assert set(zeta.ports) == {p["id"] for p in ports}
    return network, ports, before


async def test_restart_detected_vpc_and_ports_recreated_once_a_zgc_exists(zapi, zeta):
    """Lost VNI and ZGC: ERROR with the reason until the operator's new ZGC, then READY."""
    network, ports, before = await _vpc_with_ports(zapi, zeta, 2)
    zeta.restart()
    start = len(zeta.calls)
    late = await bound_port(zapi, network["id"], "host-1")
    gateway = await gateway_status(zapi, network["id"], "ERROR")
    assert gateway["last_error"] == LOST
    new_zgc = zeta.create_zgc(ip_start="10.253.0.2", ip_end="10.253.0.2")
    after = await settled(zapi, network["id"])
    everyone = sorted(p["id"] for p in [*ports, late])
    assert sorted(zeta.ports) == everyone
    assert zeta.vnis == {network["id"]: network["provider:segmentation_id"]}
    assert after["zgc_id"] == new_zgc and after["last_error"] is None
    assert after["destinations"] == [
        {"ip_address": "10.253.0.2", "mac_address": "aa:bb:cc:00:00:02"}
    ]
    assert after["revision_number"] == before["revision_number"] + 1
    writes = collapse((c.method, c.path) for c in zeta.calls[start:] if c.method != "GET")
    assert writes == [
        ("POST", "/ports"),  # 500: no VNI (twice: one sighting could be a passing failure)
        *(("DELETE", f"/ports/{port_id}") for port_id in everyone),  # stale rows first
        ("DELETE", f"/vpcs/{network['id']}"),
        ("POST", "/vpcs"),  # 500 until a ZGC exists again, then 201
        ("POST", "/ports"),
    ]
    recreated = [c for c in zeta.calls if c.method == "POST" and c.path == "/ports"][-1]
    assert recreated.status == 201 and sorted(p["port_id"] for p in recreated.body) == everyone


async def test_restart_noticed_after_the_zgc_came_back(zapi, zeta):
    """The VPC still reads fine (old ZGC row) but Zeta refuses every port: same recovery."""
    network, ports, _ = await _vpc_with_ports(zapi, zeta, 1)
    zeta.restart()
    zeta.create_zgc()
    late = await bound_port(zapi, network["id"], "host-1")
    await settled(zapi, network["id"])
    assert sorted(zeta.ports) == sorted(p["id"] for p in [*ports, late])
    assert network["id"] in zeta.vnis


async def test_a_single_refusal_is_not_taken_for_a_restart(zapi, zeta):
    """One 500 with nothing written, then success: no re-creation of the VPC."""
    network, _, _ = await _vpc_with_ports(zapi, zeta, 1)
    zeta.fail_next(1)
    start = len(zeta.calls)
    late = await bound_port(zapi, network["id"], "host-1")
    await settled(zapi, network["id"])
    assert late["id"] in zeta.ports
    assert [c.method for c in zeta.calls[start:] if c.method != "GET"] == ["POST", "POST"]
    assert (await gateway_of(zapi, network["id"]))["revision_number"] == 2
