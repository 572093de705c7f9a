"""Proactive order updates: the shopper hears when an order changes, without asking (issue #18).

Who hears about an order: every conversation that verified it (VerifiedOrder rows, of any age:
proving it once is asking to be told), minus conversations that said "stop updates"
(OrderUpdateOptOut). Each change becomes one OrderUpdate row per such conversation, keyed by
(conversation, order, event key), so a repeated webhook delivery or CLI call adds nothing.

`deliver_due` (run by `python -m bot reminders run`, beside the reminders) fires each due
update into its conversation through Rasa's external-event API, like bot.engagement.reminders:
the claim commits before Rasa is called, so two runners never send the same update (SKIP
LOCKED), a refused send is retried with a growing delay and then given up, and the update waits
while a person has the conversation. The action that says it (actions/order_updates.py) stamps
`said_at` under a row lock through `take_for_saying`, so it is said once even when a stale claim
is retaken, and never for an update a shopper typed in themselves.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.engagement import scheduled_sends
from bot.settings import Settings, get_settings
from bot.store.engine import Store
from bot.store.models import (
    Order,
    OrderUpdate,
    OrderUpdateOptOut,
    Refund,
    Return,
    Shipment,
    VerifiedOrder,
)
from bot.support import handoff

log = logging.getLogger(__name__)

SHIPPED, OUT_FOR_DELIVERY, DELAYED, DELIVERED = "shipped", "out_for_delivery", "delayed", "delivered"
RETURN_RECEIVED, REFUND_PAID, LATE_GIFT = "return_received", "refund_paid", "late_gift"
STATUS_KINDS = (SHIPPED, OUT_FOR_DELIVERY, DELAYED, DELIVERED)
KINDS = STATUS_KINDS + (RETURN_RECEIVED, REFUND_PAID, LATE_GIFT)
# The intent the runner fires (domain/order_updates.yml, data/rules/order_updates.yml).
INTENT = "EXTERNAL_order_update"

# Shared with reminders (bot.engagement.scheduled_sends); named here for callers.
RETRY_DELAYS_MINUTES, STALE_CLAIM = scheduled_sends.RETRY_DELAYS_MINUTES, scheduled_sends.STALE_CLAIM

class Refused(Exception):
    """Rasa answered the delivery with an error (a channel that refused the message: blocked
    bot, revoked token): nothing reached the shopper, so the update is tried again."""


class UnknownOrder(LookupError):
    """An update named an order (or return) the store does not have; nothing was written."""


# --- who is told ------------------------------------------------------------------------------


def watchers(session: Session, order_id: int) -> list[str]:
    """The conversations to tell about this order: those that verified it, minus opted-out ones."""
    opted_out = select(OrderUpdateOptOut.conversation_id)
    return list(
        session.execute(
            select(VerifiedOrder.conversation_id)
            .where(VerifiedOrder.order_id == order_id, VerifiedOrder.conversation_id.not_in(opted_out))
            .order_by(VerifiedOrder.id)
        ).scalars()
    )


def opt_out(session: Session, conversation_id: str, now: dt.datetime) -> bool:
    """"Stop updates": nothing more is queued for this conversation, and what is queued and not
    yet sent is dropped. False if it had already opted out."""
    for update in session.execute(
        select(OrderUpdate).where(OrderUpdate.conversation_id == conversation_id, OrderUpdate.status == "scheduled")
    ).scalars():
        update.status = "cancelled"
    if is_opted_out(session, conversation_id):
        return False
    try:
        with session.begin_nested():
            session.add(OrderUpdateOptOut(conversation_id=conversation_id, opted_out_at=now))
    except IntegrityError:  # the same message raced us
        return False
    return True


def opt_in(session: Session, conversation_id: str) -> bool:
    """"Send me updates again"; False if it had not opted out."""
    row = session.execute(
        select(OrderUpdateOptOut).where(OrderUpdateOptOut.conversation_id == conversation_id)
    ).scalar_one_or_none()
    if row is None:
        return False
    session.delete(row)
    return True


def is_opted_out(session: Session, conversation_id: str) -> bool:
    return session.execute(
        select(OrderUpdateOptOut.id).where(OrderUpdateOptOut.conversation_id == conversation_id)
    ).first() is not None


# --- queueing (the outbox) --------------------------------------------------------------------


def queue(
    session: Session,
    order: Order,
    kind: str,
    event_key: str,
    now: dt.datetime,
    *,
    ret: Return | None = None,
    refund: Refund | None = None,
    skip: tuple[str, ...] = (),
) -> list[int]:
    """One update of this change for each watcher (but `skip`); ids of the rows added. A change
    already queued for a conversation adds nothing, so repeats are harmless."""
    if kind not in KINDS:
        raise ValueError(f"unknown order update kind {kind!r}")
    added = []
    for conversation_id in watchers(session, order.id):
        if conversation_id in skip or _already_queued(session, conversation_id, order.id, event_key):
            continue
        update = OrderUpdate(
            conversation_id=conversation_id, order_id=order.id, kind=kind, event_key=event_key[:120],
            return_id=ret.id if ret else None, refund_id=refund.id if refund else None,
            status="scheduled", attempts=0, next_attempt_at=now, created_at=now,
        )
        try:
            with session.begin_nested():  # a racing twin inserted it: keep the caller's work usable
                session.add(update)
                session.flush()
        except IntegrityError:
            continue
        added.append(update.id)
    return added


def _already_queued(session: Session, conversation_id: str, order_id: int, event_key: str) -> bool:
    return session.execute(
        select(OrderUpdate.id).where(
            OrderUpdate.conversation_id == conversation_id,
            OrderUpdate.order_id == order_id,
            OrderUpdate.event_key == event_key[:120],
        )
    ).first() is not None


def status_event_key(order: Order) -> str:
    """What makes a status change this one: a second delay with a new date is news again."""
    shipment = order.shipment
    if order.status == DELAYED:
        return f"{DELAYED}:{shipment.eta if shipment else ''}"
    if order.status == SHIPPED:
        return f"{SHIPPED}:{shipment.tracking_number if shipment else ''}"
    return order.status


def queue_status_update(session: Session, order: Order, now: dt.datetime | None = None) -> list[int]:
    """Queues the order's current status (shipped, out for delivery, delayed, delivered) for its
    watchers; other statuses are not news to push. The hook for every source of order changes."""
    if order.status not in STATUS_KINDS:
        return []
    session.flush()
    return queue(session, order, order.status, status_event_key(order), now or get_settings().now())


def queue_status_update_of(session: Session, number: str, now: dt.datetime | None = None) -> list[int]:
    """queue_status_update for the order with this number (none in the store: nothing)."""
    order = session.execute(select(Order).where(Order.number == number)).scalar_one_or_none()
    return [] if order is None else queue_status_update(session, order, now)


def queue_refund_paid(session: Session, refund: Refund, now: dt.datetime | None = None) -> list[int]:
    """A refund was issued: its order's watchers hear it, except the conversation that asked for
    it, which is told there and then (or by the agent's notice)."""
    session.flush()
    order = session.get(Order, refund.order_id)
    return queue(session, order, REFUND_PAID, f"{REFUND_PAID}:{refund.id}", now or get_settings().now(),
                 refund=refund, skip=(refund.conversation_id or "",))


# --- changes an operator makes (CLI) ----------------------------------------------------------


def set_order_status(
    session: Session, number: str, status: str, now: dt.datetime, tracking: str | None = None,
    carrier: str | None = None,
) -> tuple[Order, list[int]]:
    """Changes an order's status (and parcel) and queues the update, in the caller's unit of work.
    Raises UnknownOrder (nothing written) for an order the store does not have."""
    if status not in STATUS_KINDS:
        raise ValueError(f"status must be one of {', '.join(STATUS_KINDS)}")
    order = session.execute(
        select(Order).where(Order.number == str(number).lstrip("#")).with_for_update()
    ).scalar_one_or_none()
    if order is None:
        raise UnknownOrder(f"no order {number} in the store")
    order.status = status
    _update_parcel(session, order, status, now, tracking, carrier)
    return order, queue_status_update(session, order, now)


def _update_parcel(
    session: Session, order: Order, status: str, now: dt.datetime, tracking: str | None, carrier: str | None
) -> None:
    shipment = order.shipment
    if shipment is None:
        if not tracking:
            return
        shipment = Shipment(order=order, carrier=carrier or "unknown", tracking_number=tracking, status=status)
        session.add(shipment)
    shipment.status = status
    if tracking:
        shipment.tracking_number = tracking
    if carrier:
        shipment.carrier = carrier
    if status == SHIPPED and shipment.shipped_at is None:
        shipment.shipped_at = now
    if status == DELIVERED:
        shipment.delivered_at = now


def mark_return_received(session: Session, rma: str, now: dt.datetime) -> tuple[Return, list[int]]:
    """The warehouse has the parcel back: the return is "received" and its watchers are told."""
    ret = session.execute(
        select(Return).where(Return.rma == str(rma).strip().upper()).with_for_update()
    ).scalar_one_or_none()
    if ret is None:
        raise UnknownOrder(f"no return {rma} in the store")
    ret.status = "received"
    return ret, queue(session, ret.order, RETURN_RECEIVED, f"{RETURN_RECEIVED}:{ret.id}", now, ret=ret)


# --- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueUpdate:
    id: int
    conversation_id: str
    kind: str
    intent: str = INTENT

    @property
    def entities(self) -> dict[str, int]:
        """What the fired intent carries, so the action can check it with take_for_saying."""
        return {"update_id": self.id}


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    waiting_for_agent: list[int] = field(default_factory=list)


# send(update) delivers it or raises; bot.rasa_link.rasa_api.trigger_intent in production.
Sender = Callable[[DueUpdate], None]


def _claim_due(session: Session, now: dt.datetime, limit: int) -> tuple[list[DueUpdate], DeliveryReport]:
    """Marks the due updates as being sent by this runner; those of a conversation a person
    has wait."""
    report = DeliveryReport()
    claimed: list[DueUpdate] = []
    rows = session.execute(scheduled_sends.claimable(OrderUpdate, now, limit)).scalars().all()
    for update in rows:
        if handoff.open_ticket_for(session, update.conversation_id) is not None:
            scheduled_sends.wait_for_agent(update, now)
            report.waiting_for_agent.append(update.id)
            continue
        scheduled_sends.claim(update, now)
        claimed.append(DueUpdate(update.id, update.conversation_id, update.kind))
    return claimed, report


def deliver_due(
    store: Store, send: Sender, now: dt.datetime | None = None, settings: Settings | None = None, limit: int = 200
) -> DeliveryReport:
    """Sends every update that is due; returns what happened to each.

    Takes the Store: the claim commits before each Rasa call and each outcome after it."""
    settings = settings or get_settings()
    now = now or settings.now()
    with store.session() as s:
        claimed, report = _claim_due(s, now, limit)
    scheduled_sends.send_each(
        store,
        claimed,
        send,
        on_sent=lambda session, due: _record_sent(session, due.id, now, report),
        on_failure=lambda session, due, exc: _record_failure(session, due, now, exc, report),
    )
    return report


def _record_sent(session: Session, update_id: int, now: dt.datetime, report: DeliveryReport) -> None:
    scheduled_sends.mark_sent(session.get(OrderUpdate, update_id), now)
    report.sent.append(update_id)


def _record_failure(session: Session, due: DueUpdate, now: dt.datetime, exc: Exception, report: DeliveryReport) -> None:
    log.warning("order update #%s to %s not delivered: %s", due.id, due.conversation_id, exc)
    update = session.get(OrderUpdate, due.id)
    if isinstance(exc, Refused):  # the action's stamp was for messages that never got out
        update.said_at = None
    elif update.said_at is not None:  # no answer, but the shopper has it: sending again would repeat it
        update.attempts += 1
        update.status, update.sent_at, update.last_error = "sent", update.said_at, str(exc)[:500]
        report.sent.append(due.id)
        return
    if scheduled_sends.retry_or_give_up(update, now, exc):
        log.warning("order update #%s given up after %s attempts", due.id, update.attempts)
        report.failed.append(due.id)
    else:
        report.retrying.append(due.id)


# --- saying it (the action) -------------------------------------------------------------------


def take_for_saying(session: Session, conversation_id: str, update_id, now: dt.datetime) -> OrderUpdate | None:
    """The update a runner is delivering into this conversation right now, stamped as said; None
    for one that is not being sent (typed in by a shopper), belongs elsewhere or was said already.
    Locks the row, so two deliveries of one claim say it once."""
    try:
        update_id = int(update_id)
    except (TypeError, ValueError):
        return None
    update = session.execute(
        select(OrderUpdate).where(OrderUpdate.id == update_id).with_for_update()
    ).scalar_one_or_none()
    if (
        update is None
        or update.conversation_id != conversation_id
        or update.status != "sending"
        or update.said_at is not None
    ):
        return None
    update.said_at = now
    return update
