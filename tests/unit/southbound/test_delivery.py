"""Honest delivery bookkeeping: acked only for what the agent acknowledged."""

from __future__ import annotations

from alcor.proto import schema
from alcor.southbound.delivery import Carried, Delivery, Message, apply_reply

ST = schema.OperationStatus
RT = schema.ResourceType


def _message(*carried: Carried) -> Message:
    return Message("req-1", b"", list(carried))


def _reply(*statuses: tuple[int, str, int, str]) -> schema.GoalStateOperationReply:
    return schema.GoalStateOperationReply(
        operation_statuses=[
            schema.GoalStateOperationReplyGoalStateOperationStatus(
                resource_type=rtype, resource_id=rid, operation_status=status, status_message=why
            )
            for rtype, rid, status, why in statuses
        ]
    )


def _send(delivery: Delivery, message: Message, reply: schema.GoalStateOperationReply):
    delivery.record_sent(message)
    return apply_reply(delivery, message, reply, failure_attempts=5, invalid_arg_attempts=2)


def test_a_delete_is_unacked_until_the_agent_answers_it() -> None:
    """A DELETE in flight (or lost) leaves the key counted as unacked, never acked."""
    delivery = Delivery("n1")
    key = ("NEIGHBOR", "p1_n")
    _send(delivery, _message(Carried(key, 3, True)), _reply())
    assert delivery.counts() == {"NEIGHBOR": {"acked": 1, "unacked": 0, "error": 0}}
    delivery.record_sent(_message(Carried(key, 4, False)))
    assert delivery.counts() == {"NEIGHBOR": {"acked": 0, "unacked": 1, "error": 0}}
    assert delivery.may_hold(key)


def test_an_answered_delete_forgets_the_key() -> None:
    """Once the agent confirms a DELETE the host holds nothing: no count, no may-hold."""
    delivery = Delivery("n1")
    key = ("PORT", "p1")
    _send(delivery, _message(Carried(key, 1, True)), _reply())
    outcome = _send(delivery, _message(Carried(key, 2, False)), _reply())
    assert outcome.deleted == [key]
    assert delivery.counts() == {}
    assert not delivery.may_hold(key)


def test_refusals_are_errors_with_the_agents_reason() -> None:
    """INVALID_ARG counts as an error from the first refusal and keeps the reason."""
    delivery = Delivery("n1")
    key = ("NEIGHBOR", "p1_n")
    outcome = _send(
        delivery,
        _message(Carried(key, 2, True)),
        _reply((RT.NEIGHBOR, "p1", ST.INVALID_ARG, "fixed IP 'fd00::5' is not IPv4")),
    )
    assert delivery.counts() == {"NEIGHBOR": {"acked": 0, "unacked": 0, "error": 1}}
    assert outcome.retry == [key]  # one more attempt: a dependency may arrive next
    [(refused_key, refusal)] = outcome.new_refusals
    assert refused_key == key
    assert (refusal.status, refusal.revision) == ("INVALID_ARG", 2)
    assert refusal.reason == "fixed IP 'fd00::5' is not IPv4"
    # The second refusal of the same revision is not new, and exhausts the attempts.
    again = _send(
        delivery,
        _message(Carried(key, 2, True)),
        _reply((RT.NEIGHBOR, "p1", ST.INVALID_ARG, "fixed IP 'fd00::5' is not IPv4")),
    )
    assert again.new_refusals == [] and again.retry == []
    assert (key, 2) in delivery.exhausted


def test_success_of_a_later_revision_clears_the_error() -> None:
    """A refused revision stops being an error when a later one is acknowledged."""
    delivery = Delivery("n1")
    key = ("PORT", "p1")
    _send(delivery, _message(Carried(key, 1, True)), _reply((RT.PORT, "p1", ST.FAILURE, "x")))
    _send(delivery, _message(Carried(key, 2, True)), _reply())
    assert delivery.refused == {}
    assert delivery.counts() == {"PORT": {"acked": 1, "unacked": 0, "error": 0}}


def test_out_of_order_acks_the_revision_sent() -> None:
    """OUT_OF_ORDER for the revision sent means the agent holds it (§4.3)."""
    delivery = Delivery("n1")
    key = ("SUBNET", "s1")
    _send(delivery, _message(Carried(key, 4, True)), _reply((RT.SUBNET, "s1", ST.OUT_OF_ORDER, "")))
    assert delivery.holds(key, 4)
