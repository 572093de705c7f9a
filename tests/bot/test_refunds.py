"""Refunds: computed from the order, decided by the ladder, reviewed by agents, audited."""
from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.money import audit, refund_ladder, refunds
from bot.returns import eligibility, exchange_request, matching, problem_report, return_request, rma, variants
from bot.store.models import AuditEntry, HandoffTicket, Order, Refund
from bot.support import handoff
from tests.bot.ladder_fixtures import delivered_verified_order, ordinary_day

DAY = dt.timedelta(days=1)
CENT = Decimal("0.01")
RETURNS_MODULES = (eligibility, matching, variants, rma, return_request, exchange_request, problem_report)


def on(settings, day: dt.date):
    return dataclasses.replace(settings, today_override=day)


def order_with(store, conversation_id, settings, prices, shipping_paid="5.00", earlier_refund=None) -> tuple[str, int]:
    """A delivered, verified order with one item per price; optionally an earlier issued refund."""
    return delivered_verified_order(
        store, [conversation_id], settings, prices, shipping_paid=shipping_paid, earlier_refund=earlier_refund
    )


def return_item(store, conversation_id, settings, number, which=None, channel="unknown", transcript=None, **kwargs):
    today = on(settings, ordinary_day(settings) + 2 * DAY)
    conversation = Conversation(conversation_id, channel, transcript)
    with store.session() as s:
        return return_request.start_return(s, conversation, number, which, "changed_mind", settings=today, **kwargs)


def audit_actions(store, refund_id):
    with store.session() as s:
        return [(e.actor, e.action, e.amount) for e in audit.entries(s, refund_id=refund_id)]


# ------------------------------------------------------------------ the ladder in practice


def test_a_refund_exactly_at_the_bot_limit_is_issued_by_the_bot(store, settings, conversation_id):
    number, _ = order_with(store, conversation_id, settings, [settings.bot_refund_limit])

    refund = return_item(store, conversation_id, settings, number).refund

    assert refund.status == "issued"
    assert refund.level == "bot"
    assert refund.amount == settings.bot_refund_limit
    assert refund.ticket_id is None
    assert audit_actions(store, refund.refund_id) == [("bot", audit.REFUND_AUTO_APPROVED, settings.bot_refund_limit)]


def test_a_refund_one_cent_over_the_bot_limit_waits_for_an_agent_with_a_ticket(store, settings, conversation_id):
    number, order_id = order_with(store, conversation_id, settings, [settings.bot_refund_limit + CENT])

    refund = return_item(store, conversation_id, settings, number, channel="socketio",
                         transcript=[{"who": "shopper", "text": "I want my money back"}]).refund

    assert refund.status == "pending_review"
    assert refund.level == "agent"
    assert refund.queue_position == 1
    assert refund.wait_minutes == settings.handoff_minutes_per_ticket
    with store.session() as s:
        ticket = s.get(HandoffTicket, refund.ticket_id)
        assert (ticket.reason, ticket.refund_id, ticket.amount, ticket.order_id, ticket.channel) == (
            "over_limit_refund", refund.refund_id, settings.bot_refund_limit + CENT, order_id, "socketio",
        )
        assert handoff.transcript_of(ticket) == [{"who": "shopper", "text": "I want my money back"}]
        assert s.get(Refund, refund.refund_id).decided_by is None
    assert ("bot", audit.REFUND_ESCALATED, settings.bot_refund_limit + CENT) in audit_actions(store, refund.refund_id)


def test_earlier_refunds_on_the_order_count_towards_the_bot_limit(store, settings, conversation_id):
    earlier = Decimal("20.00")
    fits = settings.bot_refund_limit - earlier
    # The earlier refund gave back the shipping, so the item's price is still fully refundable.
    number, _ = order_with(store, conversation_id, settings, [fits], shipping_paid=earlier, earlier_refund=earlier)

    first = return_item(store, conversation_id, settings, number).refund
    assert first.status == "issued"

    other_conversation = conversation_id + "-b"
    number2, _ = order_with(
        store, other_conversation, settings, [fits + CENT], shipping_paid=earlier, earlier_refund=earlier
    )
    second = return_item(store, other_conversation, settings, number2).refund
    assert second.status == "pending_review"
    assert second.level == "agent"


def test_a_refund_over_the_agent_limit_needs_a_supervisor(store, settings, conversation_id):
    number, _ = order_with(store, conversation_id, settings, [settings.agent_refund_limit + CENT])

    refund = return_item(store, conversation_id, settings, number).refund

    assert refund.status == "pending_review"
    assert refund.level == "supervisor"


def test_an_escalated_refund_joins_the_conversations_open_ticket(store, settings, conversation_id):
    number, _ = order_with(store, conversation_id, settings, [settings.bot_refund_limit + CENT])
    with store.session() as s:
        asked, _ = handoff.open_ticket(s, Conversation(conversation_id, "rest", []), "asked_for_human", "wants a person",
                                       settings=settings)

    refund = return_item(store, conversation_id, settings, number).refund

    assert refund.ticket_id == asked.id
    with store.session() as s:
        assert s.execute(select(func.count(HandoffTicket.id))).scalar_one() == 1
        assert s.get(HandoffTicket, asked.id).refund_id == refund.refund_id


# ------------------------------------------------------------------ never more than was paid


def test_refunds_never_exceed_what_the_order_paid(store, settings, conversation_id):
    # 40 + 5 shipping paid, 30 already given back: only 15 can still go back.
    number, order_id = order_with(store, conversation_id, settings, ["40.00"], shipping_paid="5.00", earlier_refund="30.00")

    refund = return_item(store, conversation_id, settings, number).refund

    assert refund.amount == Decimal("15.00")
    with store.session() as s:
        assert refunds.refunded(s, order_id, refunds.COMMITTED) == Decimal("45.00")


def test_nothing_is_refunded_once_everything_paid_went_back(store, settings, conversation_id):
    number, _ = order_with(store, conversation_id, settings, ["40.00"], shipping_paid="5.00", earlier_refund="45.00")

    outcome = return_item(store, conversation_id, settings, number)

    assert outcome.refund.status == "nothing_to_refund"
    assert outcome.refund.amount == Decimal("0.00")


def test_no_public_refund_function_accepts_an_amount():
    """The shopper's words can never set an amount: there is no parameter to put it in."""
    public = [
        f
        for module in (refunds, *RETURNS_MODULES, handoff)
        for name, f in vars(module).items()
        if inspect.isfunction(f) and not name.startswith("_") and f.__module__ == module.__name__
    ]
    taking_amounts = [
        f"{f.__module__}.{f.__name__}({p})"
        for f in public
        if f.__module__ != handoff.__name__  # tickets record an amount decided elsewhere
        for p in inspect.signature(f).parameters
        if "amount" in p or "price" in p or "total" in p
    ]
    assert taking_amounts == []


# ------------------------------------------------------------------ agents


def escalated_refund(store, conversation_id, settings, price) -> int:
    number, _ = order_with(store, conversation_id, settings, [price])
    return return_item(store, conversation_id, settings, number).refund.refund_id


def test_an_agent_approves_a_refund_within_their_limit(store, settings, conversation_id):
    refund_id = escalated_refund(store, conversation_id, settings, settings.bot_refund_limit + CENT)

    with store.session() as s:
        review = refunds.approve(s, refund_id, "alice", refund_ladder.limit_for("agent", settings), settings)

    assert review.outcome == "approved"
    with store.session() as s:
        refund = s.get(Refund, refund_id)
        assert (refund.status, refund.decided_by) == ("approved", "alice")
        assert [v.status for v in refunds.refund_status(s, refund.order)] == ["approved"]
    assert ("alice", audit.REFUND_APPROVED, settings.bot_refund_limit + CENT) in audit_actions(store, refund_id)


def test_an_agent_cannot_approve_above_their_own_limit(store, settings, conversation_id):
    refund_id = escalated_refund(store, conversation_id, settings, settings.agent_refund_limit + CENT)

    with store.session() as s:
        review = refunds.approve(s, refund_id, "alice", refund_ladder.limit_for("agent", settings), settings)

    assert review.outcome == "needs_supervisor"
    assert review.required_level == "supervisor"
    with store.session() as s:
        assert s.get(Refund, refund_id).status == "pending_review"
    assert ("alice", audit.REFUND_APPROVAL_REFUSED, settings.agent_refund_limit + CENT) in audit_actions(store, refund_id)

    with store.session() as s:
        supervisor = refunds.approve(s, refund_id, "sam", refund_ladder.limit_for("supervisor", settings), settings)
    assert supervisor.outcome == "approved"


def test_an_agent_exactly_at_their_limit_may_approve(store, settings, conversation_id):
    refund_id = escalated_refund(store, conversation_id, settings, settings.agent_refund_limit)

    with store.session() as s:
        review = refunds.approve(s, refund_id, "alice", settings.agent_refund_limit, settings)

    assert review.outcome == "approved"


def test_a_denied_refund_stays_denied(store, settings, conversation_id):
    refund_id = escalated_refund(store, conversation_id, settings, settings.bot_refund_limit + CENT)

    with store.session() as s:
        denied = refunds.deny(s, refund_id, "alice", "item was used", settings)
    with store.session() as s:
        late_approval = refunds.approve(s, refund_id, "bob", settings.agent_refund_limit, settings)

    assert denied.outcome == "denied"
    assert late_approval.outcome == "already_decided"
    with store.session() as s:
        refund = s.get(Refund, refund_id)
        assert [v.status for v in refunds.refund_status(s, refund.order)] == ["denied"]
    assert ("alice", audit.REFUND_DENIED, settings.bot_refund_limit + CENT) in audit_actions(store, refund_id)


def test_a_denied_refund_frees_its_share_of_the_order(store, settings, conversation_id):
    number, order_id = order_with(store, conversation_id, settings, [settings.bot_refund_limit + CENT])
    refund_id = return_item(store, conversation_id, settings, number).refund.refund_id

    with store.session() as s:
        refunds.deny(s, refund_id, "alice", settings=settings)

    with store.session() as s:
        assert refunds.refunded(s, order_id, refunds.COMMITTED) == Decimal("0.00")


def test_refund_status_lists_every_refund_of_the_order(store, settings, conversation_id):
    number, order_id = order_with(store, conversation_id, settings, ["10.00", settings.bot_refund_limit])
    return_item(store, conversation_id, settings, number, ["1"])
    return_item(store, conversation_id, settings, number, ["2"])

    with store.session() as s:
        order = s.get(Order, order_id)
        views = refunds.refund_status(s, order)

    assert [(v.amount, v.status) for v in views] == [(Decimal("10.00"), "issued"), (settings.bot_refund_limit, "pending_review")]
    assert all(v.rma and v.rma.startswith("RMA-") for v in views)


def test_approving_an_unknown_refund_says_so(store, settings):
    with store.session() as s:
        assert refunds.approve(s, 999, "alice", settings.agent_refund_limit, settings).outcome == "not_found"


def test_every_decision_is_in_the_audit_log(store, settings, conversation_id):
    number, order_id = order_with(store, conversation_id, settings, ["10.00", settings.bot_refund_limit])
    return_item(store, conversation_id, settings, number, ["1"])
    pending = return_item(store, conversation_id, settings, number, ["2"]).refund
    with store.session() as s:
        refunds.approve(s, pending.refund_id, "alice", settings.agent_refund_limit, settings)

    with store.session() as s:
        actions = [(e.actor, e.action) for e in audit.entries(s, order_id=order_id) if e.refund_id]
        assert s.execute(select(func.count(AuditEntry.id)).where(AuditEntry.ticket_id.isnot(None))).scalar_one() >= 1

    assert actions == [
        ("bot", audit.REFUND_AUTO_APPROVED),
        ("bot", audit.REFUND_ESCALATED),
        ("bot", audit.TICKET_OPENED),
        ("alice", audit.REFUND_APPROVED),
    ]


@pytest.mark.parametrize("bad", [10.5, "10.00"])
def test_an_agent_limit_must_be_money(store, settings, conversation_id, bad):
    refund_id = escalated_refund(store, conversation_id, settings, settings.bot_refund_limit + CENT)
    with pytest.raises(TypeError):
        with store.session() as s:
            refunds.approve(s, refund_id, "alice", bad, settings)
