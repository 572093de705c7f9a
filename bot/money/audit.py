"""The audit log: who decided what about money or a ticket, and when.

Entries are only ever appended, in the same unit of work as the decision they describe, so a
refund can never exist without the entry that explains it (and vice versa).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import AuditEntry

# The decisions the log knows about; `action` is one of these (or a caller's own, e.g.
# "order_cancelled").
REFUND_AUTO_APPROVED = "refund_auto_approved"
REFUND_ESCALATED = "refund_escalated"
REFUND_APPROVED = "refund_approved"
REFUND_DENIED = "refund_denied"
REFUND_APPROVAL_REFUSED = "refund_approval_refused"
RETURN_CREATED = "return_created"
EXCHANGE_CREATED = "exchange_created"
TICKET_OPENED = "ticket_opened"
TICKET_RESOLVED = "ticket_resolved"
# The support console and the agents' command line (bot/support/accounts.py, bot/support/desk.py).
TICKET_CLAIMED = "ticket_claimed"
AGENT_REPLIED = "agent_replied"
REFUND_FORWARDED = "refund_forwarded"
CONSOLE_LOGIN = "console_login"
CONSOLE_LOGIN_FAILED = "console_login_failed"
CONSOLE_LOGOUT = "console_logout"
AGENT_ACCOUNT_ADDED = "agent_account_added"
# Issue #19: the desk at peak (bot/support/labels.py, handoff.assign, canned_replies.py).
TICKET_ASSIGNED = "ticket_assigned"
TICKET_LABELED = "ticket_labeled"
TICKET_UNLABELED = "ticket_unlabeled"
CANNED_REPLY_SAVED = "canned_reply_saved"
CANNED_REPLY_REMOVED = "canned_reply_removed"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    at: dt.datetime,
    order_id: int | None = None,
    refund_id: int | None = None,
    ticket_id: int | None = None,
    amount: Decimal | None = None,
    detail: str = "",
) -> AuditEntry:
    """Appends one entry to the log (flushed, so it has an id)."""
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        order_id=order_id,
        refund_id=refund_id,
        ticket_id=ticket_id,
        amount=amount,
        detail=detail,
    )
    session.add(entry)
    session.flush()
    return entry


def record_for_ticket(
    session: Session, ticket, *, actor: str, action: str, at: dt.datetime, detail: str = ""
) -> AuditEntry:
    """An entry about a handoff ticket, linked to its order and refund."""
    return record(
        session, actor=actor, action=action, at=at,
        order_id=ticket.order_id, refund_id=ticket.refund_id, ticket_id=ticket.id, detail=detail,
    )


def entries(
    session: Session,
    *,
    order_id: int | None = None,
    refund_id: int | None = None,
    ticket_id: int | None = None,
) -> list[AuditEntry]:
    """The log, oldest first, narrowed to an order, a refund and/or a ticket."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if order_id is not None:
        query = query.where(AuditEntry.order_id == order_id)
    if refund_id is not None:
        query = query.where(AuditEntry.refund_id == refund_id)
    if ticket_id is not None:
        query = query.where(AuditEntry.ticket_id == ticket_id)
    return list(session.execute(query).scalars())
