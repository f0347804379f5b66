"""QoS manager contract: policy and rule CRUD, binding checks, and what hosts need to know.

Southbound: a policy's rules apply to the ports bound to it (a port's qos_policy_id, else its
network's). QosPolicyChanged carries the policy with all its rules after every change of the
policy or of one of its rules; PortUpdated / NetworkUpdated (with `qos_policy_id` in
`changed`) tell when a binding moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command, Event
from alcor.managers.common import RequestContext
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)


class CreateQosPolicies(CreateCommand):
    """Create QoS policies (admin)."""


class GetQosPolicy(GetCommand):
    """Return one visible QoS policy with its rules."""


class ListQosPolicies(ListCommand):
    """List visible QoS policies."""


class UpdateQosPolicy(UpdateCommand):
    """Update a QoS policy (admin)."""


class DeleteQosPolicy(DeleteCommand):
    """Delete a QoS policy that no network or port uses (admin)."""


# Rule commands name their rule type (bandwidth_limit, dscp_marking, minimum_bandwidth,
# minimum_packet_rate); `parent` is the policy id.
@dataclass(frozen=True, slots=True, kw_only=True)
class CreateQosRules(CreateCommand):
    """Create rules in a policy (admin)."""

    rule_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetQosRule(GetCommand):
    """Return one rule of a visible policy."""

    rule_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ListQosRules(ListCommand):
    """List the rules of one type of a visible policy."""

    rule_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateQosRule(UpdateCommand):
    """Update a rule (admin)."""

    rule_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteQosRule(DeleteCommand):
    """Delete a rule (admin)."""

    rule_type: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckQosPolicy(Command[None]):
    """Raise QosPolicyNotFound unless `ctx` may use the policy (bind it to a network/port)."""

    ctx: RequestContext
    policy_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckQosPolicyRemoval(Command[None]):
    """Raise PolicyRemoveAuthorizationError unless `ctx` may see the policy it detaches."""

    ctx: RequestContext
    policy_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultQosPolicy(Command[str | None]):
    """Return the id of a project's default QoS policy (qos-default), or None."""

    project_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PortResourceRequests(Command[dict[str, Any]]):
    """Return {port id: resource_request} for `ports` (records): what the minimum rules of
    each port's policy (its own, else its network's) reserve; ports reserving nothing are
    left out."""

    ports: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class QosPolicyChanged(Event):
    """A policy or one of its rules was created or changed: `policy` has all its `rules`."""

    policy: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class QosPolicyDeleted(Event):
    """A policy (and its rules) was deleted."""

    policy: dict[str, Any]
