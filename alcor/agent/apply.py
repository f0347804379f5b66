"""Apply one goal state to an AgentState and build the reply (spec §4.3, §7).

Pure and synchronous: bytes in, reply bytes out, so the gRPC servers and (later) the
Kafka consumer feed it alike. Order per message: context states (VPC, subnet, SG,
gateway) are stored first so later lookups see them; then ACA's order routers → ports →
neighbors → DHCP; context DELETEs last. Neighbor entries are decoded and applied one at
a time, so a million-neighbor message never exists as a million dicts.
"""

from __future__ import annotations

import logging
import random
import time
from array import array
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, cast

from alcor.proto import schema
from alcor.southbound import wire
from alcor.southbound.encoding import V1_FIELD, V2_FIELD, varint

from .program import (
    DELETE,
    FAILURE,
    INFO,
    INVALID_ARG,
    OUT_OF_ORDER,
    SUCCESS,
    Invalid,
    Programmer,
)
from .records import (
    DHCP,
    FLOATINGIP,
    GATEWAY,
    KIND_NAMES,
    NEIGHBOR,
    NETWORK_ACL,
    PORT,
    PORT_FORWARDING,
    QOS_POLICY,
    ROUTER,
    SECURITYGROUP,
    SUBNET,
    VPC,
)
from .state import AgentState

_LOGGER = logging.getLogger(__name__)

FORMAT_VERSION = 102
_now = time.perf_counter_ns


CHUNK = 2048  # states applied between two yields of steps_v1/steps_v2


def drain(steps: Generator[None, None, bytes]) -> bytes:
    """Run a steps generator to its end and return its value (the reply)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return cast(bytes, done.value)


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """Test and benchmark knobs of the reference agent."""

    pending_until_plug: bool = False
    fail_rate: float = 0.0
    seed: int | None = None


class ReplyBuilder:
    """Append GoalStateOperationStatus entries as bytes while applying."""

    def __init__(self) -> None:
        self._buf = bytearray(b"\x08" + varint(FORMAT_VERSION))
        self._heads: dict[tuple[int, int, int], bytes] = {}
        self.count = 0

    def add(
        self,
        rid: str,
        kind: int,
        op: int,
        status: int,
        nc_us: int,
        dp_us: int,
        reason: str = "",
    ) -> None:
        """Add one status; times in µs; `reason` says why a state was refused."""
        r = rid.encode()
        head = self._heads.get((kind, op, status))
        if head is None:
            head = self._heads[(kind, op, status)] = b"".join(
                bytes((tag,)) + varint(v)
                for tag, v in ((0x10, kind), (0x18, op), (0x20, status))
                if v
            )
        body = b"\x0a" + varint(len(r)) + r + head
        # Times are uint32 µs; a state taking over 71 minutes is clamped.
        if dp_us:
            body += b"\x28" + varint(dp_us if dp_us < 0xFFFFFFFF else 0xFFFFFFFF)
        if nc_us:
            body += b"\x30" + varint(nc_us if nc_us < 0xFFFFFFFF else 0xFFFFFFFF)
        elapse = nc_us + dp_us
        if elapse:
            body += b"\x38" + varint(elapse if elapse < 0xFFFFFFFF else 0xFFFFFFFF)
        if reason:
            why = reason.encode()
            body += b"\x42" + varint(len(why)) + why
        buf = self._buf
        buf.append(0x12)
        buf += varint(len(body))
        buf += body
        self.count += 1

    def finish(self, total_us: int) -> bytes:
        """Return the encoded GoalStateOperationReply."""
        if total_us:
            self._buf.append(0x18)
            self._buf += varint(min(total_us, 0xFFFFFFFF))
        return bytes(self._buf)


_V2_VALUE = {
    n: wire.value_spec_of(wire.spec_of(schema.GoalStateV2)[n << 3 | 2]) for n in V2_FIELD.values()
}
_V1_STATE = {n: wire.spec_of(schema.GoalState)[n << 3 | 2].sub for n in V1_FIELD.values()}
# Context first, then ACA's order; alcor's ACLs and QoS policies with the context (ports
# name them), floating IPs last.
_STAGE1 = (GATEWAY, VPC, SUBNET, SECURITYGROUP, NETWORK_ACL, QOS_POLICY)
_STAGE2 = (ROUTER, PORT)


class Applier:
    """Apply goal states to one AgentState."""

    def __init__(self, state: AgentState, options: ApplyOptions | None = None) -> None:
        self.state = state
        self.options = options or ApplyOptions()
        self._rng = random.Random(self.options.seed)
        self.last_states = 0  # states in the last message (for --apply-latency-us)
        self.program = Programmer(state, self.options.pending_until_plug)

    # ---- entry points ----------------------------------------------------------------

    def apply_v2(self, payload: bytes) -> bytes:
        """Apply a GoalStateV2 and return the encoded GoalStateOperationReply."""
        return drain(self.steps_v2(payload))

    def apply_v1(self, payload: bytes) -> bytes:
        """Apply a V1 GoalState (repeated states) and return the encoded reply."""
        return drain(self.steps_v1(payload))

    def steps_v2(self, payload: bytes) -> Generator[None, None, bytes]:
        """Apply a GoalStateV2 in steps of CHUNK states; the generator returns the reply.

        Lets an event loop that runs many agents breathe during a million-state message.
        """
        return self._run(
            payload, V2_FIELD, lambda n, s, e: wire.decode_map_value(payload, s, e, _V2_VALUE[n])
        )

    def steps_v1(self, payload: bytes) -> Generator[None, None, bytes]:
        """Apply a V1 GoalState in steps, like steps_v2."""
        return self._run(
            payload, V1_FIELD, lambda n, s, e: wire.decode_span(payload, s, e, _V1_STATE[n])
        )

    def _run(
        self, payload: bytes, fields: Any, decode: Callable[[int, int, int], dict[str, Any]]
    ) -> Generator[None, None, bytes]:
        t0 = _now()
        kind_of = {n: k for k, n in fields.items()}
        spans: dict[int, array[int]] = {k: array("q") for k in kind_of.values()}
        for n, start, end in wire.spans(payload):
            kind = kind_of.get(n)
            if kind is not None:
                spans[kind].extend((n, start, end))
        reply = ReplyBuilder()
        deletes: list[tuple[int, dict[str, Any]]] = []
        for kind in (*_STAGE1, *_STAGE2, NEIGHBOR, DHCP, FLOATINGIP, PORT_FORWARDING):
            s = spans.get(kind)  # V1 has no field for alcor's extension kinds
            if s is None:
                continue
            for i in range(0, len(s), 3):
                state = decode(s[i], s[i + 1], s[i + 2])
                if kind in _STAGE1 and state.get("operation_type", INFO) == DELETE:
                    deletes.append((kind, state))  # context leaves after its users
                else:
                    self._one(kind, state, reply)
                    if reply.count % CHUNK == 0:
                        yield
        for kind, state in deletes:
            self._one(kind, state, reply)
        self.state.counters["messages"] += 1
        self.last_states = reply.count
        return reply.finish((_now() - t0) // 1000)

    # ---- one state -------------------------------------------------------------------

    def _one(self, kind: int, state: dict[str, Any], reply: ReplyBuilder) -> None:
        t0 = _now()
        op = state.get("operation_type", INFO)
        cfg = state.get("configuration") or {}
        rid = cfg.get("id", "")
        rev = cfg.get("revision_number", 0)
        counters = self.state.counters
        t1 = t0
        reason = ""
        if not self.state.accepts(kind, rid, rev, op == DELETE):
            status = OUT_OF_ORDER
        elif self.options.fail_rate and self._rng.random() < self.options.fail_rate:
            status = FAILURE
            reason = "injected failure (--fail-rate)"
        elif op == DELETE:
            t1 = _now()
            self.program.delete[kind](rid, cfg)
            self.state.bury(kind, rid, rev)
            status = SUCCESS
        else:
            try:
                status = self.program.put[kind](op, cfg, rev)
                t1 = self.program.validated_at
            except Invalid as exc:
                t1 = _now()
                status = INVALID_ARG
                reason = str(exc)
                self.state.last_errors.append(
                    {"kind": KIND_NAMES[kind], "id": rid, "revision": rev, "reason": str(exc)}
                )
                _LOGGER.debug("%s %s rev %s invalid: %s", KIND_NAMES[kind], rid, rev, exc)
            if status == SUCCESS and self.state.applied(kind, rid) == rev:
                self.state.unbury(kind, rid)
        t2 = _now()
        counters[_COUNTER_KEYS[kind][status]] += 1
        reply.add(rid, kind, op, status, (t1 - t0) // 1000, (t2 - t1) // 1000, reason)


_COUNTER_KEYS = {
    kind: [f"{name}:{s.name}" for s in schema.OperationStatus] for kind, name in KIND_NAMES.items()
}
