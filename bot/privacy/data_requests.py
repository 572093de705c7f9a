"""A shopper's right to see and to erase what the store keeps about them, and transcript retention.

The store knows a shopper by their customer row; their chats are linked to it only through the
orders they verified, asked about or refunded in a conversation (and the tickets and wishlists
of those conversations). Rasa's tracker store (`events`, bot.rasa_link.rasa_api.tracker_events)
lives in the same database, so erasing is one transaction: either every trace goes, or none does.
Order numbers and amounts stay: the books must still add up after a shopper is forgotten.
Each function takes the caller's session: the CLI or the Shopify webhook handler opens the unit
of work (store.reading() for the export).
"""
from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.money import audit
from bot.orders.verification_throttle import email_hash
from bot.privacy.log_masking import mask_text
from bot.rasa_link.rasa_api import has_tracker_table, tracker_events, transcript
from bot.settings import Settings
from bot.store.models import (
    AuditEntry,
    Customer,
    HandoffTicket,
    Order,
    OrderUpdate,
    OrderUpdateOptOut,
    Refund,
    Reminder,
    Return,
    ShopperNotice,
    ShopperPhoto,
    VerificationAttempt,
    VerificationFailure,
    VerifiedOrder,
    WishlistItem,
)

CUSTOMER_FORGOTTEN = "customer_forgotten"
FORGOTTEN_NAME = "forgotten customer"
SCRUBBED = "[removed]"


@dataclass(frozen=True)
class ForgetReport:
    customer_id: int
    conversations: int
    transcript_events: int
    tickets_scrubbed: int
    audit_entries_scrubbed: int


def find_customer(session: Session, email: str) -> Customer | None:
    """The customer with this email, whatever its letter case."""
    wanted = email.strip().lower()
    return session.execute(select(Customer).where(func.lower(Customer.email) == wanted)).scalar_one_or_none()


def conversation_ids(session: Session, customer: Customer) -> list[str]:
    """Every conversation linked to the customer: through an order it verified, tried to verify,
    refunded or returned, a ticket about the customer or their order, or a saved wishlist."""
    order_ids = select(Order.id).where(Order.customer_id == customer.id).scalar_subquery()
    queries = (
        select(VerifiedOrder.conversation_id).where(VerifiedOrder.order_id.in_(order_ids)),
        select(VerificationAttempt.conversation_id).where(VerificationAttempt.order_id.in_(order_ids)),
        select(HandoffTicket.conversation_id).where(
            or_(HandoffTicket.customer_id == customer.id, HandoffTicket.order_id.in_(order_ids))
        ),
        select(Refund.conversation_id).where(Refund.order_id.in_(order_ids)),
        select(Return.conversation_id).where(Return.order_id.in_(order_ids)),
        select(WishlistItem.conversation_id).where(WishlistItem.customer_id == customer.id),
    )
    found: set[str] = set()
    for query in queries:
        found.update(c for c in session.execute(query).scalars() if c)
    return sorted(found)


def _tickets(session: Session, customer: Customer, conversations: list[str]) -> list[HandoffTicket]:
    query = select(HandoffTicket).where(
        or_(HandoffTicket.customer_id == customer.id, HandoffTicket.conversation_id.in_(conversations))
    )
    return list(session.execute(query.order_by(HandoffTicket.id)).scalars())


def _money(value) -> str | None:
    return None if value is None else str(value)


def _order_record(session: Session, order: Order) -> dict[str, Any]:
    returns = session.execute(select(Return).where(Return.order_id == order.id).order_by(Return.id)).scalars()
    return {
        "number": order.number,
        "status": order.status,
        "placed_at": order.placed_at.isoformat(),
        "items": [
            {"product": i.product.name, "sku": i.product.sku, "quantity": i.quantity, "unit_price": _money(i.unit_price)}
            for i in order.items
        ],
        "shipping_paid": _money(order.shipping_paid),
        "total_paid": _money(order.total_paid),
        "refunds": [
            {"amount": _money(r.amount), "status": r.status, "reason": r.reason, "created_at": r.created_at.isoformat()}
            for r in order.refunds
        ],
        "returns": [
            {"rma": r.rma, "kind": r.kind, "status": r.status, "reason": r.reason, "created_at": r.created_at.isoformat()}
            for r in returns
        ],
    }


def _ticket_record(ticket: HandoffTicket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "reason": ticket.reason,
        "status": ticket.status,
        "summary": ticket.summary,
        "transcript": json.loads(ticket.transcript or "[]"),
        "created_at": ticket.created_at.isoformat(),
    }


def export_customer(session: Session, email: str) -> dict[str, Any] | None:
    """Everything the store keeps about the shopper with `email`, as JSON-ready data; None
    when no customer has that email. Only reads (call it in store.reading()): the transcripts
    come from the same snapshot as the rest."""
    customer = find_customer(session, email)
    if customer is None:
        return None
    conversations = conversation_ids(session, customer)
    return {
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "birthday": customer.birthday.isoformat() if customer.birthday else None,
            "loyalty_points": customer.loyalty_points,
        },
        "orders": [_order_record(session, o) for o in customer.orders],
        "tickets": [_ticket_record(t) for t in _tickets(session, customer, conversations)],
        "conversations": [
            {"id": c, "transcript": [_message_record(m) for m in transcript(session, c)],
             "photos": _photo_records(session, c)}
            for c in conversations
        ],
    }


def _photo_records(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The photos the shopper sent in the conversation, as the store keeps them (JPEG, base64)."""
    rows = session.execute(
        select(ShopperPhoto).where(ShopperPhoto.conversation_id == conversation_id).order_by(ShopperPhoto.id)
    ).scalars()
    return [{"received_at": p.received_at.isoformat(), "width": p.width, "height": p.height,
             "content_type": p.content_type, "image_base64": base64.b64encode(p.image).decode("ascii")}
            for p in rows]


def _message_record(message: dict[str, Any]) -> dict[str, Any]:
    return {"who": message["who"], "text": message["text"], "at": message["at"].isoformat() if message["at"] else None}


def _scrubber(*secrets: str):
    """Replaces each secret (any letter case), then anything else that looks personal."""
    pattern = re.compile("|".join(re.escape(x) for x in secrets if x), re.IGNORECASE)
    return lambda text: mask_text(pattern.sub(SCRUBBED, text or ""))


def _mentions(column, *secrets: str):
    return or_(*(func.lower(column).contains(x.lower()) for x in secrets if x))


def forget_customer(session: Session, email: str, operator: str, settings: Settings) -> ForgetReport | None:
    """Erases the shopper with `email` (None when there is none): their chats in Rasa's tracker
    store, their name, email and birthday, the personal text in tickets, notices and the audit
    log, and the verifications, wishlists, reminders and photos of their conversations. Orders, refunds
    and audit amounts stay, linked to the anonymous customer row. Call it in store.session(),
    one transaction: either every trace goes, or none does."""
    customer = find_customer(session, email)
    if customer is None:
        return None
    conversations = conversation_ids(session, customer)
    tickets, entries = _scrub_personal_text(session, customer, conversations)
    events = _delete_conversations(session, customer, conversations)
    customer.name = FORGOTTEN_NAME
    customer.email = f"forgotten-{customer.id}@invalid"
    customer.birthday = None
    audit.record(
        session, actor=operator, action=CUSTOMER_FORGOTTEN, at=settings.now(),
        detail=f"customer #{customer.id}: {len(conversations)} conversations erased",
    )
    return ForgetReport(customer.id, len(conversations), events, tickets, entries)


def _scrub_personal_text(session: Session, customer: Customer, conversations: list[str]) -> tuple[int, int]:
    """The customer's name, email and anything personal out of tickets, notices and the audit
    log; (tickets, audit entries) scrubbed."""
    secrets = (customer.email, customer.name)
    scrub = _scrubber(*secrets)
    tickets = _tickets(session, customer, conversations)
    for ticket in tickets:
        ticket.summary = scrub(ticket.summary)
        ticket.transcript = json.dumps(
            [{**line, "text": scrub(line.get("text", ""))} for line in json.loads(ticket.transcript or "[]")]
        )
    notices = select(ShopperNotice).where(ShopperNotice.conversation_id.in_(conversations))
    for notice in session.execute(notices).scalars():
        notice.note = scrub(notice.note)
    entries = list(session.execute(select(AuditEntry).where(_mentions(AuditEntry.detail, *secrets))).scalars())
    for entry in entries:
        entry.detail = scrub(entry.detail)
    return len(tickets), len(entries)


def _delete_conversations(session: Session, customer: Customer, conversations: list[str]) -> int:
    """The conversations' transcripts, verifications, reminders, wishlists and photos, and the
    customer's failed verifications and wishlist; returns the transcript events deleted."""
    events = 0
    if conversations and has_tracker_table(session):
        events = session.execute(delete(tracker_events).where(tracker_events.c.sender_id.in_(conversations))).rowcount
    for model in (VerifiedOrder, VerificationAttempt, VerificationFailure, Reminder, OrderUpdate, OrderUpdateOptOut,
                  ShopperPhoto):
        session.execute(delete(model).where(model.conversation_id.in_(conversations)))
    session.execute(delete(VerificationFailure).where(VerificationFailure.email_hash == email_hash(customer.email)))
    session.execute(
        delete(WishlistItem).where(
            or_(WishlistItem.customer_id == customer.id, WishlistItem.conversation_id.in_(conversations))
        )
    )
    return events


def prune_transcripts(session: Session, settings: Settings, now: float | None = None) -> int:
    """Deletes tracker events older than TRANSCRIPT_RETENTION_DAYS, except in conversations
    whose handoff ticket is still open (an agent may need the whole story). Returns how many.
    Writes: call it in store.session().

    Rasa stamps events with the real clock (epoch seconds), so the cut-off uses it too,
    not the store's TINSEL_TODAY."""
    if not has_tracker_table(session):
        return 0
    cutoff = (time.time() if now is None else now) - settings.transcript_retention_days * 86400
    still_open = select(HandoffTicket.conversation_id).where(HandoffTicket.status != "resolved")
    events = tracker_events.c
    return session.execute(
        delete(tracker_events).where(events.timestamp < cutoff, events.sender_id.not_in(still_open))
    ).rowcount
