"""Canned replies: the store's own stock answers, with {placeholders} filled from the ticket.

An agent at peak answers the same five questions all day; a canned reply is inserted into the
reply box already filled from the ticket's order (the shopper's name, the order number, its
tracking link, its return deadline), edited there if need be, and sent like any reply. Only the
known placeholders are allowed, by exact name, so a reply can never reach into an object the way
"{name.__class__}" would with str.format. A value the ticket does not have (no order yet) is left
as a visible [marker] for the agent to fill in.
"""
from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.money import audit
from bot.orders.lookup import tracking_url_of
from bot.policies import format_date
from bot.returns.eligibility import return_deadline
from bot.settings import Settings
from bot.store.models import CannedReply, HandoffTicket

PLACEHOLDERS = ("name", "order_number", "tracking_link", "return_deadline", "store_name")
MAX_TITLE = 80
MAX_BODY = 2000  # the longest reply an agent may send (desk.MAX_REPLY_LENGTH)
STARTER_REPLIES = (
    ("Where is my parcel", "Hi {name}, thanks for waiting. Your order {order_number} is on its way: "
     "you can follow it here: {tracking_link}. I'll keep an eye on it for you."),
    ("Return deadline", "Hi {name}, you can return anything from order {order_number} until "
     "{return_deadline}. Just say \"return\" here and I'll set it up."),
    ("Sorry it arrived damaged", "Hi {name}, I'm so sorry your order {order_number} arrived damaged. "
     "I'm sending a replacement today at no cost, and you don't need to send anything back."),
)


@dataclass(frozen=True)
class Reply:
    id: int
    title: str
    body: str
    uses: int


def problems(title: str, body: str) -> list[str]:
    """Why a canned reply cannot be saved as written; empty when it can."""
    found = []
    if not title.strip() or len(title) > MAX_TITLE:
        found.append(f"Give it a title of 1-{MAX_TITLE} characters.")
    if not body.strip() or len(body) > MAX_BODY:
        found.append(f"Write a reply of 1-{MAX_BODY} characters.")
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(body)
                  if name is not None]
    except ValueError:
        return found + ["Braces must be whole placeholders, such as {order_number}."]
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS or spec or conversion:
            found.append(f"Unknown placeholder {{{name}}}: use {', '.join('{%s}' % p for p in PLACEHOLDERS)}.")
    return found


def save(session: Session, reply_id: int | None, title: str, body: str, actor: str, now: dt.datetime) -> str:
    """Adds a reply (reply_id None) or changes one: saved | invalid | duplicate | not_found."""
    title, body = title.strip(), body.strip()
    if problems(title, body):
        return "invalid"
    reply = CannedReply(uses=0, active=True) if reply_id is None else session.get(CannedReply, reply_id)
    if reply is None or not reply.active:
        return "not_found"
    reply.title, reply.body, reply.updated_by, reply.updated_at = title, body, actor, now
    try:
        with session.begin_nested():
            session.add(reply)
    except IntegrityError:
        return "duplicate"
    audit.record(session, actor=actor, action=audit.CANNED_REPLY_SAVED, at=now, detail=f"#{reply.id} {title}")
    return "saved"


def remove(session: Session, reply_id: int, actor: str, now: dt.datetime) -> bool:
    """Retires the reply (kept, with its count, for the record; gone from every list)."""
    reply = session.get(CannedReply, reply_id)
    if reply is None or not reply.active:
        return False
    reply.active = False
    reply.title = f"{reply.title} (removed #{reply.id})"[:MAX_TITLE]
    audit.record(session, actor=actor, action=audit.CANNED_REPLY_REMOVED, at=now, detail=f"#{reply.id}")
    return True


def active(session: Session) -> list[Reply]:
    rows = session.execute(select(CannedReply).where(CannedReply.active.is_(True)).order_by(CannedReply.title))
    return [Reply(r.id, r.title, r.body, r.uses) for r in rows.scalars()]


def values_for(ticket: HandoffTicket, settings: Settings) -> dict[str, str]:
    """What the placeholders say on this ticket; a value it lacks is a [marker] to fill in."""
    order = ticket.order
    customer = ticket.customer or (order.customer if order else None)
    shipment = order.shipment if order else None
    delivered = shipment.delivered_at.date() if shipment and shipment.delivered_at else None
    deadline = return_deadline(order, delivered, settings) if order and delivered else None
    return {
        "name": customer.name.split()[0] if customer and customer.name else "there",
        "order_number": order.number if order else "[order number]",
        "tracking_link": (tracking_url_of(shipment) if shipment else None) or "[tracking link]",
        "return_deadline": format_date(deadline, weekday=True) if deadline else "[return deadline]",
        "store_name": settings.store_name,
    }


def filled(session: Session, reply_id: int, ticket_id: int, settings: Settings) -> Reply | None:
    """The reply as it would go to this ticket's shopper (to be edited before sending)."""
    reply, ticket = session.get(CannedReply, reply_id), session.get(HandoffTicket, ticket_id)
    if reply is None or not reply.active or ticket is None:
        return None
    if problems(reply.title, reply.body):  # written before the rules (or by hand): shown as it is
        return Reply(reply.id, reply.title, reply.body, reply.uses)
    return Reply(reply.id, reply.title, reply.body.format_map(values_for(ticket, settings)), reply.uses)


def count_use(session: Session, reply_id: int) -> None:
    """One more reply sent from it (counted in the database, so two agents at once count two)."""
    session.execute(update(CannedReply).where(CannedReply.id == reply_id).values(uses=CannedReply.uses + 1))


def add_starter_replies(session: Session, actor: str, now: dt.datetime) -> int:
    """The demo store's stock answers, once (a store that has replies of its own keeps them)."""
    if session.execute(select(CannedReply.id).limit(1)).first() is not None:
        return 0
    for title, body in STARTER_REPLIES:
        save(session, None, title, body, actor, now)
    return len(STARTER_REPLIES)
