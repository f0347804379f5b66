"""Handing a host over to its VPC's topic (the `auto` transport, southbound spec §2.5).

A host that was subscribing got some neighbors per host; once subscribed, the per-host ledger
lets go only of those the topic has carried at that revision or newer. The others stay per
host, so their deletes still reach the host even when the topic never carried the port.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from alcor.southbound.channel_store import ChannelState
from alcor.southbound.channels import MQ, SUBSCRIBED, Channels
from alcor.southbound.delivery import Delivery
from alcor.southbound.topology import Topology
from alcor.southbound.view import NEIGHBOR, Key, neighbor_key

VPC = "net"
HOST = "h1"


def _port(port_id: str, host: str, revision: int) -> dict[str, Any]:
    return {
        "id": port_id,
        "network_id": VPC,
        "project_id": "p",
        "revision_number": revision,
        "mac_address": "fa:16:3e:00:00:01",
        "binding:vif_type": "ovs",
        "binding:host_id": host,
        "admin_state_up": True,
        "fixed_ips": [{"subnet_id": "s1", "ip_address": f"10.0.0.{revision + 2}"}],
        "security_groups": [],
        "status": "DOWN",
    }


def _channels() -> tuple[Channels, Topology, Delivery]:
    topo = Topology()
    topo.set_network({"id": VPC, "project_id": "p", "name": "n", "revision_number": 1})
    for i, host in enumerate((HOST, "h2")):
        topo.set_node(
            {"node_id": host, "node_name": host, "local_ip": f"10.1.0.{i + 1}",
             "server_port": 50001, "mac_address": "52:54:00:00:00:01", "transport": "auto"}
        )  # fmt: skip
    topo.set_subnet(
        {"id": "s1", "network_id": VPC, "name": "s1", "cidr": "10.0.0.0/24", "ip_version": 4,
         "enable_dhcp": True, "revision_number": 1}
    )  # fmt: skip
    delivery = Delivery(HOST)
    sender = SimpleNamespace(delivery=delivery, wake=lambda: None)
    builder = SimpleNamespace(revision=lambda kind, name: 1)
    engine: Any = SimpleNamespace(topo=topo, senders={HOST: sender}, builder=builder)
    channels = Channels(engine)
    channels.mode[VPC] = MQ
    return channels, topo, delivery


def _subscribe(channels: Channels) -> None:
    channels.subs[(HOST, VPC)] = SUBSCRIBED
    channels._hand_over(HOST, VPC)


def _acked_per_host(topo: Topology, delivery: Delivery, revision: int) -> Key:
    """Bind port p1 on h2 and note HOST as holding its neighbor at `revision`, per host."""
    topo.set_port(_port("p1", "h2", revision))
    key = (NEIGHBOR, neighbor_key("p1"))
    delivery.sent[key] = (revision, True)
    delivery.acked[key] = revision
    return key


def test_a_neighbor_the_topic_never_carried_stays_per_host_and_its_delete_goes_per_host():
    """The port is created while the host subscribes and deleted before its publication."""
    channels, topo, delivery = _channels()
    key = _acked_per_host(topo, delivery, 3)
    _subscribe(channels)
    assert delivery.may_hold(key)

    topo.drop_port("p1")
    marks = {HOST: {key}}
    channels.after_batch(marks)
    assert marks[HOST] == {key}  # the DELETE goes per host
    node = topo.nodes[HOST]
    assert channels.filter_keys(node, [key]) == [key]


def test_a_neighbor_the_topic_carried_at_that_revision_is_handed_over():
    """Per host and the topic agree: the topic alone carries the neighbor from now on."""
    channels, topo, delivery = _channels()
    key = _acked_per_host(topo, delivery, 3)
    channels.published[VPC]["p1"] = (3, True)
    _subscribe(channels)
    assert not delivery.may_hold(key)

    marks = {HOST: {key}}
    channels.after_batch(marks)
    assert marks[HOST] == set()
    assert channels.filter_keys(topo.nodes[HOST], [key]) == []


def test_a_neighbor_newer_per_host_than_on_the_topic_stays_per_host():
    """The host got revision 5 per host; the topic still holds revision 4."""
    channels, topo, delivery = _channels()
    key = _acked_per_host(topo, delivery, 5)
    channels.published[VPC]["p1"] = (4, True)
    _subscribe(channels)
    assert delivery.sent[key] == (5, True)


def test_a_neighbor_only_pending_per_host_is_left_to_the_topic():
    """Never sent per host: the host holds nothing of it, the topic will bring it."""
    channels, topo, delivery = _channels()
    topo.set_port(_port("p1", "h2", 3))
    key = (NEIGHBOR, neighbor_key("p1"))
    delivery.mark([key])
    _subscribe(channels)
    assert key not in delivery.pending


def test_handing_back_counts_nothing_of_the_topic_as_acked():
    """The host's consumer may stop before reading a record: a wanted neighbor the topic
    carried is sent again per host, one it no longer wants is withdrawn."""
    channels, topo, delivery = _channels()
    topo.set_port(_port("p1", "h2", 3))
    wanted, gone = (NEIGHBOR, neighbor_key("p1")), (NEIGHBOR, neighbor_key("p2"))
    channels.published[VPC].update({"p1": (3, True), "p2": (4, False)})
    _subscribe(channels)
    channels.subs.pop((HOST, VPC))
    channels._hand_back(HOST, VPC)
    for key, revision in ((wanted, 3), (gone, 4)):
        assert delivery.sent[key] == (revision, True)  # the host may hold it
        assert not delivery.holds(key, revision)
        assert key in delivery.pending


def test_a_delete_recorded_before_a_crash_is_produced_again_after_the_restart():
    """A topic record is written down before it is produced: the process may stop between
    the two. A port recorded as deleted may still be held by the topic's hosts, so after
    the restart its DELETE goes out again (the chaos crash scenario on `auto` hosts left a
    neighbor on a subscribed host for good)."""
    channels, _, _ = _channels()
    builder = SimpleNamespace(
        revision=lambda kind, name: 1,
        delete_config=lambda kind, key, revision: b"",
        entry=lambda kind, key, op, revision, config: bytes([revision]),
        resource_entry=lambda rtype, key: b"",
    )
    engine = SimpleNamespace(**{**vars(channels._dp), "builder": builder, "tombs": {}})
    restarted = Channels(engine)
    state = ChannelState(mq={VPC}, published={VPC: {"p1": (4, False)}})
    restarted.restore(state)

    assert "p1" in restarted._pending[VPC]
    record = restarted._record(VPC, "p1")
    assert record is not None
    assert (record[0], record[2], record[3]) == (neighbor_key("p1"), 4, False)  # a DELETE at 4


async def test_a_host_still_subscribed_to_a_vpc_back_on_per_host_delivery_is_handed_back():
    """The process stopped while a VPC went back to per-host delivery, before it handed a
    host back: after the restart that host gets the VPC's neighbors per host again (not left
    to a topic nobody publishes), its subscription row goes and its agent unsubscribes."""
    channels, topo, _ = _channels()
    topo.set_port(_port("p1", "h2", 3))
    key = (NEIGHBOR, neighbor_key("p1"))
    written: list[tuple[str, list[Any]]] = []
    unsubscribed: list[Any] = []

    @contextlib.asynccontextmanager
    async def transaction() -> AsyncIterator[None]:
        yield

    async def execute(sql: str, params: list[Any]) -> None:
        written.append((sql.split()[0], params))

    async def push_subscribe_info(target: Any, info: Any, timeout: float) -> Any:
        unsubscribed.append(info)
        return SimpleNamespace(operation_status=0)

    transport = SimpleNamespace(  # one stand-in for the grpc and kafka transports
        push_subscribe_info=push_subscribe_info,
        set_reply_listener=lambda listener: None,
        vpc_topic=lambda vpc: f"alcor-vpc-{vpc}",
    )

    async def get(node: Any, name: str) -> Any:
        return transport

    engine = SimpleNamespace(
        **vars(channels._dp),
        store=SimpleNamespace(transaction=transaction, execute=execute),
        transports=SimpleNamespace(get=get),
        config=SimpleNamespace(auto=SimpleNamespace(upper_ports=3, lower_ports=1)),
    )
    restarted = Channels(engine)
    restarted.mode["other"] = MQ  # some VPC still on its topic: filtering is on
    restarted.restore(ChannelState(subscribed={(HOST, VPC)}))
    node = topo.nodes[HOST]

    await restarted._step()

    assert restarted.filter_keys(node, [key]) == [key]
    assert (HOST, VPC) not in restarted.subs
    assert ("DELETE", [HOST, VPC]) in written
    assert [i.subscribe_operation for i in unsubscribed] == [1]  # Unsubscribe
