"""Labels agents put on tickets (damaged, late gift, refund, VIP ...), to sort a busy queue.

A label is a short lowercase word or two, so "VIP" and "vip " are the same label and the queue's
filter finds both; each change is audited on the ticket, like every other thing done to it.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.money import audit
from bot.store.models import HandoffTicket, TicketLabel

SUGGESTED = ("damaged", "late gift", "refund", "vip", "wrong item", "exchange")
LABEL_FORM = re.compile(r"[a-z0-9][a-z0-9 \-]{0,38}[a-z0-9]|[a-z0-9]")


def normalized(text: str | None) -> str | None:
    """The label as stored, or None when it is not one (empty, too long, odd characters)."""
    label = " ".join((text or "").lower().split())
    return label if LABEL_FORM.fullmatch(label) else None


def add(session: Session, ticket_id: int, text: str, actor: str, now: dt.datetime) -> str:
    """Puts the label on the ticket: added | already | invalid | not_found."""
    label = normalized(text)
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        return "not_found"
    if label is None:
        return "invalid"
    try:
        with session.begin_nested():
            session.add(TicketLabel(ticket_id=ticket_id, label=label, added_by=actor, added_at=now))
    except IntegrityError:
        return "already"
    audit.record_for_ticket(session, ticket, actor=actor, action=audit.TICKET_LABELED, at=now, detail=label)
    return "added"


def remove(session: Session, ticket_id: int, text: str, actor: str, now: dt.datetime) -> str:
    """Takes the label off: removed | absent | not_found."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        return "not_found"
    label = normalized(text)
    gone = session.execute(
        delete(TicketLabel).where(TicketLabel.ticket_id == ticket_id, TicketLabel.label == label)
    ).rowcount
    if not gone:
        return "absent"
    audit.record_for_ticket(session, ticket, actor=actor, action=audit.TICKET_UNLABELED, at=now, detail=label)
    return "removed"


def of_tickets(session: Session, ticket_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Each ticket's labels, alphabetical; one query for a whole queue."""
    if not ticket_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(TicketLabel.ticket_id, TicketLabel.label)
        .where(TicketLabel.ticket_id.in_(ticket_ids))
        .order_by(TicketLabel.label)
    )
    for ticket_id, label in rows:
        found.setdefault(ticket_id, []).append(label)
    return {ticket_id: tuple(labels) for ticket_id, labels in found.items()}


def in_use(session: Session) -> list[str]:
    """Every label on a ticket, plus the suggested ones, for the queue's filter."""
    used = session.execute(select(TicketLabel.label).distinct()).scalars()
    return sorted(set(SUGGESTED) | set(used))
