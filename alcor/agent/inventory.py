"""The agent's answer to AgentInventory.GetInventory: what it holds, per kind."""

from __future__ import annotations

from alcor.southbound.inventory import Held, encode_reply

from .records import DHCP, KIND_NAMES, NEIGHBOR
from .state import AgentState


def held(state: AgentState) -> Held:
    """Return every applied state as kind name -> resource id -> revision."""
    out: Held = {}
    for kind, name in KIND_NAMES.items():
        if kind == NEIGHBOR:
            out[name] = {nid: n.revision for nid, n in state.neighbors.items()}
        elif kind == DHCP:
            out[name] = {pid: rev for pid, (rev, _) in state.dhcp_by_id.items()}
        else:
            out[name] = {
                rid: cfg.get("revision_number", 0) for rid, cfg in state.table(kind).items()
            }
    return out


def answer(state: AgentState, entries: bool, kind_mask: int) -> bytes:
    """Return the encoded InventoryReply for this agent's state."""
    return encode_reply(held(state), entries, kind_mask)
