"""The `auto` transport: Channel Selection per VPC (southbound spec §2.5).

A VPC whose bound ports exceed `auto.upper_ports` switches to MQ: its neighbor states are
published once to `alcor-vpc-<vpc>` and every `auto` host with ports in it subscribes,
instead of each of them getting every neighbor pushed. Below `auto.lower_ports` it goes
back to per-host gRPC (hysteresis). Revisions make duplicates harmless, so a host keeps
getting the neighbors per host until its subscription is confirmed: nothing is lost.
All transitions and publications run in one background task, one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from alcor.lifecycle import cancel
from alcor.proto import schema
from alcor.southbound import channel_store, encoding, metrics
from alcor.southbound.base import TransportError
from alcor.southbound.builder import ENTER_OP, KIND_TYPE
from alcor.southbound.delivery import status_name
from alcor.southbound.transports import target
from alcor.southbound.view import NEIGHBOR, SUBNET, VPC, Key, neighbor_key, port_of_neighbor

if TYPE_CHECKING:
    from alcor.southbound.delivery import Delivery
    from alcor.southbound.engine import SouthboundEngine
    from alcor.southbound.planner import Marks
    from alcor.southbound.records import NodeRec
    from alcor.southbound.sender import HostSender

_LOGGER = logging.getLogger(__name__)
MQ = "MQ"
SUBSCRIBED = "SUBSCRIBED"
SUBSCRIBE_DEADLINE_S = 120.0
RETRY_S = 1.0


class Channels:
    """vpc_channel[v] ∈ {GRPC, MQ} and host_vpc_sub[(node, v)], with the worker that acts."""

    def __init__(self, dp: SouthboundEngine) -> None:
        self._dp = dp
        self.mode: dict[str, str] = {}  # vpc -> "MQ" (absent = GRPC)
        self.subs: dict[tuple[str, str], str] = {}  # (node, vpc) -> SUBSCRIBING | SUBSCRIBED
        self.published: dict[str, dict[str, tuple[int, bool]]] = defaultdict(dict)
        self._port_vpc: dict[str, str] = {}  # port -> its VPC (kept for deleted ports)
        self._pending: dict[str, set[str]] = defaultdict(set)  # vpc -> ports to publish
        self._dirty: set[str] = set()  # vpcs whose size may have crossed a threshold
        # Subscriptions left by a process stopped while its VPC went back to per host.
        self._stale: set[tuple[str, str]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def restore(self, state: channel_store.ChannelState) -> None:
        """Resume from the persisted state: every MQ VPC's topic is published again (what is
        bound, and a DELETE for every other port it may have carried), subscriptions stand."""
        for vpc in state.mq:
            self.mode[vpc] = MQ
        for key in state.subscribed:
            self.subs[key] = SUBSCRIBED
            if key[1] not in state.mq:
                # The VPC went back to per-host delivery and the process stopped before
                # this host was handed back: hand it back now, or its neighbors of the VPC
                # would be left to a topic nobody publishes.
                self._stale.add(key)
        for vpc, ports in state.published.items():
            # Recorded before produced (_publish): a DELETE recorded when the process stopped
            # may never have reached the topic, and its hosts would hold the neighbor for
            # good. Every recorded port counts as present until its state goes out again.
            self.published[vpc] = {port: (revision, True) for port, (revision, _) in ports.items()}
            for port_id in ports:
                self._port_vpc[port_id] = vpc
        for vpc in state.mq:
            self._pending[vpc] |= set(self._dp.topo.bound_in_network.get(vpc, ()))
            self._pending[vpc] |= set(state.published.get(vpc, ()))
            self._dirty.add(vpc)
        for node_id, vpc in state.subscribed - self._stale:
            self._hand_over(node_id, vpc)
        if state.mq or self._stale:
            self._wake.set()

    async def _persist(self, write: Callable[..., Awaitable[None]], *args: Any) -> None:
        store = self._dp.store
        async with store.transaction():
            await write(store, *args)

    def start(self) -> None:
        """Start the worker."""
        self._task = asyncio.create_task(self._run(), name="dataplane-channels")

    async def stop(self) -> None:
        """Stop the worker."""
        await cancel(self._task)

    # ---- called by the data plane on the event path (synchronous) ------------------------
    def after_batch(self, marks: Marks) -> None:
        """Route neighbor changes of MQ VPCs to their topic; note VPCs that may switch."""
        topo = self._dp.topo
        for node_id, keys in marks.items():
            node = topo.nodes.get(node_id)
            sender = self._dp.senders.get(node_id)
            for key in [k for k in keys if k[0] == NEIGHBOR]:
                port_id = port_of_neighbor(key[1])
                vpc = self.vpc_of(port_id)
                if vpc is None:
                    continue
                self._dirty.add(vpc)
                if self.mode.get(vpc) == MQ:
                    self._pending[vpc].add(port_id)
                    if node is not None and self._from_topic(node_id, vpc, key, sender):
                        keys.discard(key)
        if self._dirty or self._pending:
            self._wake.set()

    def vpc_of(self, port_id: str) -> str | None:
        """Return the VPC of a port (remembered after the port is gone)."""
        port = self._dp.topo.ports.get(port_id)
        if port is not None:
            self._port_vpc[port_id] = port.network_id
            return port.network_id
        return self._port_vpc.get(port_id)

    def subscribed(self, node_id: str, vpc: str) -> bool:
        """Return True when a host takes a VPC's neighbors from its topic."""
        return self.subs.get((node_id, vpc)) == SUBSCRIBED

    def _from_topic(self, node_id: str, vpc: str, key: Key, sender: HostSender | None) -> bool:
        """Tell whether a host takes this neighbor from its VPC's topic: it is subscribed and
        its per-host ledger no longer tracks the neighbor (see `_hand_over`)."""
        if not self.subscribed(node_id, vpc):
            return False
        return sender is None or not sender.delivery.may_hold(key)

    def filter_keys(self, node: NodeRec, keys: list[Key]) -> list[Key]:
        """Drop the neighbor keys a subscribed `auto` host gets from VPC topics."""
        if node.transport != "auto" or not self.mode:
            return keys
        sender = self._dp.senders.get(node.id)
        return [
            k
            for k in keys
            if k[0] != NEIGHBOR
            or not self._from_topic(node.id, self.vpc_of(port_of_neighbor(k[1])) or "", k, sender)
        ]

    # ---- the worker ----------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._step()
            except TransportError as exc:
                _LOGGER.warning("channel selection: %s; retrying", exc)
                await asyncio.sleep(RETRY_S)
                self._wake.set()
            except Exception:
                _LOGGER.exception("channel selection failed; retrying")
                await asyncio.sleep(RETRY_S)
                self._wake.set()

    async def _step(self) -> None:
        for node_id, vpc in sorted(self._stale):
            await self._leave(node_id, vpc)
            self._stale.discard((node_id, vpc))
        auto = self._dp.config.auto
        for vpc in list(self._dirty):
            self._dirty.discard(vpc)
            size = len(self._dp.topo.bound_in_network.get(vpc, ()))
            if self.mode.get(vpc) != MQ and size > auto.upper_ports and self._auto_hosts(vpc):
                await self._to_mq(vpc)
            elif self.mode.get(vpc) == MQ and size < auto.lower_ports:
                await self._to_grpc(vpc)
        for vpc in list(self._pending):
            ports = self._pending.pop(vpc)
            if self.mode.get(vpc) == MQ:
                await self._publish(vpc, ports)
        for vpc in [v for v, m in self.mode.items() if m == MQ]:
            await self._follow_hosts(vpc)

    def _auto_hosts(self, vpc: str) -> set[str]:
        topo = self._dp.topo
        return {
            h
            for h in topo.hosts_in_network.get(vpc, ())
            if h in topo.nodes and topo.nodes[h].transport == "auto"
        }

    async def _kafka(self) -> Any:
        anchor = next(iter(self._dp.topo.nodes.values()))
        kafka = await self._dp.transports.get(anchor, "kafka")
        kafka.set_reply_listener(self._on_topic_reply)
        return kafka

    def _on_topic_reply(self, reply: Any) -> None:
        """Agents answer topic records only on failure: count and log them (no retry path:
        the host resyncs on its next AGENT_RESTARTED or hand-back)."""
        for status in reply.reply.operation_statuses:
            name = status_name(status.operation_status)
            metrics.STATES_TOTAL.labels("vpc-topic", name).inc()
            _LOGGER.warning(
                "node %s answered %s for %s on %s",
                reply.node_id,
                name,
                status.resource_id,
                reply.topic,
            )

    # ---- transitions ---------------------------------------------------------------------
    async def _to_mq(self, vpc: str) -> None:
        kafka = await self._kafka()
        await kafka.create_vpc_topic(vpc)
        await self._persist(channel_store.set_mq, vpc, True)
        self.mode[vpc] = MQ
        await self._publish(vpc, set(self._dp.topo.bound_in_network.get(vpc, ())))
        _LOGGER.info(
            "VPC %s switched to its topic (%d bound ports)",
            vpc,
            len(self._dp.topo.bound_in_network.get(vpc, ())),
        )
        await self._follow_hosts(vpc)

    async def _to_grpc(self, vpc: str) -> None:
        await self._persist(channel_store.set_mq, vpc, False)
        self.mode.pop(vpc, None)
        for node_id, _vpc in [k for k in self.subs if k[1] == vpc]:
            await self._leave(node_id, vpc)
        self.published.pop(vpc, None)
        kafka = await self._kafka()
        await kafka.delete_vpc_topic(vpc)
        _LOGGER.info("VPC %s switched back to per-host delivery", vpc)

    async def _follow_hosts(self, vpc: str) -> None:
        """Subscribe auto hosts that have ports in the VPC; unsubscribe those that left."""
        hosts = self._auto_hosts(vpc)
        for node_id in sorted(hosts):
            if not self.subscribed(node_id, vpc):
                await self._join(node_id, vpc)
        for node_id, _vpc in [k for k in self.subs if k[1] == vpc and k[0] not in hosts]:
            await self._leave(node_id, vpc)

    async def _join(self, node_id: str, vpc: str) -> None:
        node = self._dp.topo.nodes[node_id]
        self.subs[(node_id, vpc)] = "SUBSCRIBING"
        kafka = await self._kafka()
        status = await self._subscribe(
            node, kafka.vpc_topic(vpc), schema.SubscribeOperation.Subscribe
        )
        if status != schema.OperationStatus.SUCCESS:
            self.subs.pop((node_id, vpc), None)
            raise TransportError(f"node {node_id} answered {status.name} to Subscribe")
        await self._persist(channel_store.set_subscribed, node_id, vpc, True)
        self.subs[(node_id, vpc)] = SUBSCRIBED
        self._hand_over(node_id, vpc)

    def _hand_over(self, node_id: str, vpc: str) -> None:
        """The topic carries a subscribed host's neighbors of the VPC from now on, deletes
        included: the per-host ledger stops tracking every neighbor the topic has carried
        at least at the revision the host got per host.

        A neighbor sent per host while the host was subscribing and not yet published (or
        published at a lower revision) stays tracked per host, and its changes keep going
        per host too, down to its DELETE: were the port deleted before its first
        publication, the topic would never carry that DELETE and the host would hold the
        neighbor forever.
        """
        sender = self._dp.senders.get(node_id)
        if sender is None:
            return
        delivery = sender.delivery
        keys = {
            k
            for table in (delivery.pending, delivery.sent, delivery.acked)
            for k in table
            if k[0] == NEIGHBOR and self.vpc_of(port_of_neighbor(k[1])) == vpc
        }
        for key in keys:
            if self._topic_covers(vpc, key, delivery):
                delivery.pending.pop(key, None)
                delivery.sent.pop(key, None)
                delivery.acked.pop(key, None)

    def _topic_covers(self, vpc: str, key: Key, delivery: Delivery) -> bool:
        """Tell whether the VPC's topic carries a neighbor at the revision a host may hold
        from per-host delivery, or newer (True when the host may hold none)."""
        sent = delivery.sent.get(key)
        revision = sent[0] if sent is not None else delivery.acked.get(key)
        if revision is None:
            return True
        published = self.published.get(vpc, {}).get(port_of_neighbor(key[1]))
        return published is not None and published[0] >= revision

    async def _leave(self, node_id: str, vpc: str) -> None:
        """Hand a host back to per-host delivery: it may hold the topic's revisions (§2.5)."""
        # Not subscribed from here on, so the sender stops filtering these neighbors out.
        await self._persist(channel_store.set_subscribed, node_id, vpc, False)
        self.subs.pop((node_id, vpc), None)
        self._hand_back(node_id, vpc)
        node = self._dp.topo.nodes.get(node_id)
        if node is not None:
            kafka = await self._kafka()
            await self._subscribe(node, kafka.vpc_topic(vpc), schema.SubscribeOperation.Unsubscribe)

    def _hand_back(self, node_id: str, vpc: str) -> None:
        """Make the per-host ledger track whatever the host may hold from the VPC's topic."""
        sender = self._dp.senders.get(node_id)
        if sender is None:
            return
        delivery = sender.delivery
        for port_id, (revision, _present) in self.published.get(vpc, {}).items():
            key = (NEIGHBOR, neighbor_key(port_id))
            # The host may hold any published state, deletes included when its consumer stops
            # before reading them: withdraw per host unless still in its view (a DELETE of an
            # unknown neighbor is a harmless SUCCESS). Nothing counts as acked: the consumer
            # may also stop before reading what is still wanted, which is then sent again.
            if delivery.sent.get(key, (0, True))[0] <= revision:  # not newer per host
                delivery.sent[key] = (revision, True)
                delivery.acked.pop(key, None)
            delivery.mark([key])
        # The topic's records also brought their subnets' and the VPC's contexts.
        for key in self._topic_contexts(vpc):
            context_revision = self._dp.builder.revision(*key)
            if key not in delivery.sent and context_revision is not None:
                delivery.sent[key] = (context_revision, True)
            delivery.mark([key])
        sender.wake()

    async def _subscribe(self, node: NodeRec, topic: str, operation: int) -> schema.OperationStatus:
        grpc = await self._dp.transports.get(node, "grpc")
        reply = await grpc.push_subscribe_info(
            target(node),
            schema.NodeSubscribeInfo(subscribe_operation=operation, topic=topic, key=node.local_ip),
            timeout=SUBSCRIBE_DEADLINE_S,
        )
        return schema.OperationStatus(reply.operation_status)

    # ---- publication ---------------------------------------------------------------------
    async def _publish(self, vpc: str, port_ids: set[str]) -> None:
        from alcor_kafka.transport import VpcRecord  # the kafka extra, needed only here

        kafka = await self._kafka()
        records, published, deleted = [], {}, []
        for port_id in sorted(port_ids):
            record = self._record(vpc, port_id)
            if record is None:
                continue
            key, value, revision, present = record
            records.append(VpcRecord(key, value))
            published[port_id] = (revision, present)
            if not present:
                deleted.append(key)
        if not records:
            return
        # Known before produced: after a crash, every record the topic may hold is known.
        await self._persist(
            channel_store.will_publish,
            vpc,
            [(p, r, present) for p, (r, present) in published.items()],
        )
        await kafka.publish_vpc_records(vpc, records)
        self.published[vpc].update(published)
        for key in deleted:
            kafka.schedule_tombstone(vpc, key)

    def _record(self, vpc: str, port_id: str) -> tuple[str, bytes, int, bool] | None:
        """Return (key, GoalStateV2 bytes, revision, present) of one neighbor on the topic."""
        dp = self._dp
        key = neighbor_key(port_id)
        port = dp.topo.ports.get(port_id)
        anchor = next(iter(dp.topo.nodes.values()))
        entries: dict[int, list[bytes]] = defaultdict(list)
        resources = []
        if port is not None and port.node_id is not None and port.network_id == vpc:
            built = dp.builder.config(NEIGHBOR, key, anchor)
            if built is None:
                return None
            revision, present = built[0], True
            entries[encoding.V2_FIELD[KIND_TYPE[NEIGHBOR]]].append(
                dp.builder.entry(NEIGHBOR, key, ENTER_OP[NEIGHBOR], *built)
            )
            context = [(SUBNET, s) for s in port.subnet_ids] + [(VPC, vpc)]
        elif self.published.get(vpc, {}).get(port_id, (0, False))[1]:
            revision = dp.tombs.get((NEIGHBOR, key)) or self.published[vpc][port_id][0]
            present = False
            config = dp.builder.delete_config(NEIGHBOR, key, revision)
            entries[encoding.V2_FIELD[KIND_TYPE[NEIGHBOR]]].append(
                dp.builder.entry(NEIGHBOR, key, schema.OperationType.DELETE, revision, config)
            )
            context = []
        else:
            return None
        resources.append(dp.builder.resource_entry(KIND_TYPE[NEIGHBOR], key))
        for kind, name in context:
            built = dp.builder.config(kind, name, anchor)
            if built is not None:
                entries[encoding.V2_FIELD[KIND_TYPE[kind]]].append(
                    dp.builder.entry(kind, name, ENTER_OP[kind], *built)
                )
                resources.append(dp.builder.resource_entry(KIND_TYPE[kind], name))
        return key, encoding.assemble_v2_parts("", resources, entries), revision, present

    def topic_keys(self, node_id: str) -> tuple[set[Key], set[Key]]:
        """Return (keys, keys in flight) a host holds from its VPC topics: every bound
        neighbor of a subscribed VPC, with its subnets and the VPC (the audit's intent)."""
        topo = self._dp.topo
        keys: set[Key] = set()
        busy: set[Key] = set()
        for (node, vpc), state in self.subs.items():
            if node != node_id or state != SUBSCRIBED:
                continue
            keys.add((VPC, vpc))
            for port_id in topo.bound_in_network.get(vpc, ()):
                key = (NEIGHBOR, neighbor_key(port_id))
                keys.add(key)
                keys.update((SUBNET, s) for s in topo.ports[port_id].subnet_ids)
                if port_id in self._pending.get(vpc, ()):
                    busy.add(key)
        return keys, busy

    def _topic_contexts(self, vpc: str) -> set[Key]:
        """Return the context keys a VPC's topic records carry (their subnets, the VPC)."""
        topo = self._dp.topo
        keys: set[Key] = {(VPC, vpc)}
        for port_id, (_, present) in self.published.get(vpc, {}).items():
            port = topo.ports.get(port_id)
            if present and port is not None:
                keys.update((SUBNET, s) for s in port.subnet_ids)
        return keys

    def forget_host(self, node_id: str) -> None:
        """Treat a restarted agent as subscribed to nothing: it is subscribed again to
        every MQ VPC it has ports in (spec §6, AGENT_RESTARTED step 3), and meanwhile
        gets those VPCs' neighbors per host."""
        for node, vpc in [k for k in self.subs if k[0] == node_id]:
            del self.subs[(node, vpc)]
            self._dirty.add(vpc)
        if self.mode:
            self._wake.set()

    def describe(self, node_id: str) -> list[dict[str, Any]]:
        """Return a node's VPC subscriptions (GET /nodes/{id} "vpc_subscriptions")."""
        return [
            {"vpc_id": vpc, "topic": f"alcor-vpc-{vpc}", "state": state, "lag": None}
            for (node, vpc), state in sorted(self.subs.items())
            if node == node_id
        ]
