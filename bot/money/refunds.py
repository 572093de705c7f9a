"""Money going back to shoppers: amounts from the database, levels from the ladder.

No function here accepts an amount. What is refunded is named (the items of a return, the
shipping of a late order) and the amount is computed from what the order actually paid, so a
shopper typing "refund me $500" can never move a cent. Every request:

* locks the order row (SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions are already
  BEGIN IMMEDIATE), so concurrent requests on one order run one after another;
* is idempotent: `Refund.idempotency_key` names what is refunded, is unique, and a repeated
  (or racing) request gets the existing refund back instead of a second one;
* never takes the order's refunds past what was paid (items + shipping), counting refunds
  waiting for review as well as those given;
* goes up the ladder: the bot issues it, or it waits for an agent/supervisor with a ticket.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.conversation import Conversation
from bot.engagement import order_updates
from bot.money import audit, refund_ladder
from bot.settings import Settings, get_settings
from bot.store.models import HandoffTicket, Order, Refund, Return
from bot.support import handoff

GIVEN = ("approved", "issued")
COMMITTED = ("pending_review", "approved", "issued")
METHODS = ("original_payment", "store_credit")


@dataclass(frozen=True)
class RefundOutcome:
    """What happened to a refund request, in terms the shopper is told."""

    status: str  # issued | pending_review | approved | denied | nothing_to_refund
    amount: Decimal
    created: bool  # False: the same refund had already been requested
    refund_id: int | None = None
    method: str | None = None  # original_payment | store_credit
    level: str | None = None  # bot | agent | supervisor
    ticket_id: int | None = None  # the handoff ticket an agent will review it on
    queue_position: int | None = None
    wait_minutes: int | None = None
    desk_opens: str | None = None  # when a person is next at the desk, if nobody is there now


@dataclass(frozen=True)
class RefundView:
    refund_id: int
    amount: Decimal
    status: str  # pending_review | approved | issued | denied
    method: str
    reason: str
    required_level: str
    rma: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None


@dataclass(frozen=True)
class Review:
    """An agent's approve/deny attempt."""

    outcome: str  # approved | denied | needs_supervisor | forwarded | already_decided | not_found
    refund_id: int
    status: str | None = None
    amount: Decimal | None = None
    required_level: str | None = None
    order_number: str | None = None
    conversation_id: str | None = None


def refunded(session: Session, order_id: int, statuses: Sequence[str] = GIVEN) -> Decimal:
    """What the order's refunds in `statuses` add up to."""
    total = session.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order_id, Refund.status.in_(tuple(statuses))
        )
    ).scalar_one()
    return Decimal(total).quantize(Decimal("0.01"))


def lock_order(session: Session, order_id: int) -> Order:
    """The order row, locked for the rest of the unit of work and re-read from the database."""
    return session.execute(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def items_key(order: Order, order_item_ids: Sequence[int]) -> str:
    return f"order:{order.id}:items:{','.join(str(i) for i in sorted(order_item_ids))}"


def shipping_key(order: Order) -> str:
    return f"order:{order.id}:shipping"


def cancellation_key(order_id: int) -> str:
    """A cancelled order's one refund, whether the bot cancelled it or the store's data says so."""
    return f"order:{order_id}:cancel"


def _ticket_for_refund(session: Session, refund: Refund) -> HandoffTicket | None:
    return session.execute(
        select(HandoffTicket)
        .where(HandoffTicket.refund_id == refund.id, HandoffTicket.open_marker == 1)
        .order_by(HandoffTicket.id)
    ).scalars().first()


def _outcome(session: Session, refund: Refund, created: bool, settings: Settings) -> RefundOutcome:
    ticket = _ticket_for_refund(session, refund) if refund.status == "pending_review" else None
    wait = handoff.estimated_wait(session, ticket, settings) if ticket else None
    return RefundOutcome(
        status=refund.status,
        amount=refund.amount,
        created=created,
        refund_id=refund.id,
        method=refund.method,
        level=refund.required_level,
        ticket_id=ticket.id if ticket else None,
        queue_position=handoff.queue_position(session, ticket) if ticket else None,
        wait_minutes=wait.minutes if wait else None,
        desk_opens=wait.opens.when if wait and wait.opens else None,
    )


def _existing(session: Session, key: str) -> Refund | None:
    return session.execute(
        select(Refund).where(Refund.idempotency_key == key).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def existing_outcome(session: Session, key: str, settings: Settings) -> RefundOutcome | None:
    """What became of the refund already requested under this idempotency key, if any
    (`created` False), so a repeated request is answered with the first one's outcome."""
    existing = _existing(session, key)
    return _outcome(session, existing, False, settings) if existing is not None else None


def _audit(session: Session, refund: Refund, actor: str, action: str, at: dt.datetime, detail: str) -> None:
    """The audit entry of a decision about this refund, written in the same unit of work."""
    audit.record(
        session,
        actor=actor,
        action=action,
        at=at,
        order_id=refund.order_id,
        refund_id=refund.id,
        amount=refund.amount,
        detail=detail,
    )


def _insert_refund(
    session: Session,
    order: Order,
    decision: refund_ladder.Decision,
    *,
    key: str,
    reason: str,
    method: str,
    conversation: Conversation,
    now: dt.datetime,
    ret: Return | None,
) -> Refund | None:
    """Adds the refund row at the level the ladder decided; None if a racing request with the
    same key inserted it first."""
    refund = Refund(
        order_id=order.id,
        return_id=ret.id if ret is not None else None,
        amount=decision.amount,
        reason=reason[:60],
        method=method,
        status="issued" if decision.auto_approved else "pending_review",
        required_level=decision.level,
        idempotency_key=key,
        conversation_id=conversation.id,
        decided_by="bot" if decision.auto_approved else None,
        decided_at=now if decision.auto_approved else None,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(refund)
            session.flush()
    except IntegrityError:
        if _existing(session, key) is None:
            raise
        return None
    return refund


def _escalate(
    session: Session,
    order: Order,
    refund: Refund,
    decision: refund_ladder.Decision,
    what: str,
    conversation: Conversation,
    settings: Settings,
) -> None:
    """Over the bot's limit: audited, and put on the conversation's ticket for a person to decide."""
    _audit(
        session, refund, "bot", audit.REFUND_ESCALATED, refund.created_at,
        f"{what}; {refund.method}; order total refunded would be {decision.total_after}, "
        f"needs {decision.level}",
    )
    summary = (
        f"Refund of {refund.amount} on order {order.number} for {what}, to {refund.method.replace('_', ' ')}. "
        f"Already refunded on this order: {decision.already_refunded}. Needs {decision.level} approval "
        f"(bot limit {settings.bot_refund_limit}, agent limit {settings.agent_refund_limit})."
    )
    handoff.open_ticket(
        session,
        conversation,
        "over_limit_refund",
        summary,
        settings=settings,
        customer_id=order.customer_id,
        order_id=order.id,
        refund_id=refund.id,
        amount=refund.amount,
    )


def _request(
    session: Session,
    order: Order,
    *,
    amount: Decimal,
    key: str,
    reason: str,
    method: str,
    conversation: Conversation,
    settings: Settings,
    ret: Return | None = None,
) -> RefundOutcome:
    """The one place a refund row is born. The caller holds the order lock (lock_order)."""
    if method not in METHODS:
        raise ValueError(f"unknown refund method {method!r}")
    earlier = existing_outcome(session, key, settings)
    if earlier is not None:
        return earlier
    amount = min(amount, order.total_paid - refunded(session, order.id, COMMITTED))
    if amount <= 0:
        return RefundOutcome(status="nothing_to_refund", amount=Decimal("0.00"), created=False)
    decision = refund_ladder.decide(amount, refunded(session, order.id, GIVEN), settings)
    refund = _insert_refund(
        session, order, decision, key=key, reason=reason, method=method, conversation=conversation,
        now=settings.now(), ret=ret,
    )
    if refund is None:
        return existing_outcome(session, key, settings)
    what = f"{reason} ({ret.rma})" if ret is not None else reason
    if decision.auto_approved:
        _audit(
            session, refund, "bot", audit.REFUND_AUTO_APPROVED, refund.created_at,
            f"{what}; {method}; order total refunded {decision.total_after} "
            f"<= bot limit {settings.bot_refund_limit}",
        )
        order_updates.queue_refund_paid(session, refund, refund.created_at)  # issue #18
    else:
        _escalate(session, order, refund, decision, what, conversation, settings)
    return _outcome(session, refund, True, settings)


def refund_return(
    session: Session, order: Order, ret: Return, *, conversation: Conversation, settings: Settings
) -> RefundOutcome:
    """Refunds what the return's items were paid (unit price x quantity), by its refund method.

    The caller holds the order lock; bot/returns calls this when it creates the return.
    """
    by_item = {i.id: i for i in order.items}
    amount = sum(
        (by_item[ri.order_item_id].unit_price * ri.quantity for ri in ret.items), Decimal("0.00")
    )
    return _request(
        session,
        order,
        amount=amount,
        key=items_key(order, [ri.order_item_id for ri in ret.items]),
        reason=f"return:{ret.reason}",
        method=ret.refund_method,
        conversation=conversation,
        settings=settings,
        ret=ret,
    )


def refund_shipping(
    session: Session, order: Order, *, reason: str, conversation: Conversation, settings: Settings
) -> RefundOutcome:
    """Gives back the shipping the order paid (compensation for a late delivery), once.

    The caller holds the order lock (lock_order)."""
    return _request(
        session,
        order,
        amount=order.shipping_paid,
        key=shipping_key(order),
        reason=reason,
        method="original_payment",
        conversation=conversation,
        settings=settings,
    )


def _view(refund: Refund) -> RefundView:
    return RefundView(
        refund_id=refund.id,
        amount=refund.amount,
        status=refund.status,
        method=refund.method,
        reason=refund.reason,
        required_level=refund.required_level,
        rma=refund.ret.rma if refund.ret is not None else None,
        created_at=refund.created_at,
        decided_at=refund.decided_at,
        decided_by=refund.decided_by,
    )


def refund_status(session: Session, order: Order) -> list[RefundView]:
    """The order's refunds, oldest first, each pending_review / approved / issued / denied."""
    refunds = session.execute(
        select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
    ).scalars()
    return [_view(r) for r in refunds]


def _review_target(session: Session, refund_id: int) -> tuple[Refund, Order] | None:
    refund = session.get(Refund, refund_id)
    if refund is None:
        return None
    order = lock_order(session, refund.order_id)
    refund = session.execute(
        select(Refund)
        .where(Refund.id == refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return refund, order


def _pending(session: Session, refund_id: int) -> tuple[Refund, Order] | Review:
    """The locked refund and order to decide on, or the Review saying why there is nothing to decide."""
    target = _review_target(session, refund_id)
    if target is None:
        return Review("not_found", refund_id)
    refund, order = target
    if refund.status != "pending_review":
        return _review(refund, order, "already_decided")
    return target


def _decided(refund: Refund, status: str, actor: str, now: dt.datetime) -> None:
    refund.status = status
    refund.decided_by = actor
    refund.decided_at = now


def _review(refund: Refund, order: Order, outcome: str) -> Review:
    return Review(
        outcome=outcome,
        refund_id=refund.id,
        status=refund.status,
        amount=refund.amount,
        required_level=refund.required_level,
        order_number=order.number,
        conversation_id=refund.conversation_id,
    )


def approve(
    session: Session,
    refund_id: int,
    actor: str,
    actor_limit: Decimal | None,
    settings: Settings | None = None,
) -> Review:
    """An agent approves a refund waiting for review, within their own ladder limit.

    `actor_limit` is what this person may have given back on one order
    (refund_ladder.limit_for("agent", settings), or None for a supervisor). Above it the
    refund is not approved: it is marked for a supervisor and the outcome says so.
    """
    settings = settings or get_settings()
    target = _pending(session, refund_id)
    if isinstance(target, Review):
        return target
    refund, order = target
    given = refunded(session, order.id, GIVEN)
    now = settings.now()
    if not refund_ladder.within(actor_limit, refund.amount, given):
        refund.required_level = "supervisor"
        _audit(
            session, refund, actor, audit.REFUND_APPROVAL_REFUSED, now,
            f"order total refunded would be {given + refund.amount}, over {actor}'s limit "
            f"{actor_limit}: needs a supervisor",
        )
        return _review(refund, order, "needs_supervisor")
    _decided(refund, "approved", actor, now)
    _audit(
        session, refund, actor, audit.REFUND_APPROVED, now,
        f"{refund.reason}; order total refunded now {given + refund.amount}",
    )
    order_updates.queue_refund_paid(session, refund, now)  # issue #18
    return _review(refund, order, "approved")


def deny(
    session: Session, refund_id: int, actor: str, note: str = "", settings: Settings | None = None
) -> Review:
    """An agent turns down a refund waiting for review; the note says why (for the audit log)."""
    settings = settings or get_settings()
    target = _pending(session, refund_id)
    if isinstance(target, Review):
        return target
    refund, order = target
    now = settings.now()
    _decided(refund, "denied", actor, now)
    _audit(session, refund, actor, audit.REFUND_DENIED, now, f"{refund.reason}; {note}".strip("; "))
    return _review(refund, order, "denied")


def forward(
    session: Session, refund_id: int, actor: str, note: str = "", settings: Settings | None = None
) -> Review:
    """An agent hands a pending refund to a supervisor without deciding it."""
    settings = settings or get_settings()
    target = _pending(session, refund_id)
    if isinstance(target, Review):
        return target
    refund, order = target
    refund.required_level = "supervisor"
    _audit(
        session, refund, actor, audit.REFUND_FORWARDED, settings.now(),
        f"forwarded to a supervisor; {note}".strip("; "),
    )
    return _review(refund, order, "forwarded")
