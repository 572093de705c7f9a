"""Handing a conversation to a human agent, and giving it back to the bot.

A conversation has at most one open ticket: `HandoffTicket.open_marker` is 1 while a ticket is
open and NULL once resolved, and (conversation_id, open_marker) is unique, so the database
itself refuses a second open ticket even when two requests race. Asking again returns the
ticket that is already waiting, with its place in the queue.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.conversation import Conversation, Transcript
from bot.money import audit
from bot.rasa_link import rasa_api
from bot.settings import Settings, get_settings
from bot.store.engine import Store
from bot.store.models import HandoffTicket
from bot.support import wait_targets

log = logging.getLogger(__name__)

# The bot's CSAT question (actions/csat.py), asked after a person resolved a conversation.
CSAT_ACTION = "action_ask_csat"

REASONS = (
    "over_limit_refund",
    "asked_for_human",
    "repeated_fallback",
    "frustration",
    "verification_failed",
)


def _transcript_json(transcript: Transcript) -> str:
    if transcript is None:
        return "[]"
    if isinstance(transcript, str):
        return transcript
    return json.dumps(
        [{"who": str(m.get("who", "")), "text": str(m.get("text", ""))} for m in transcript],
        ensure_ascii=False,
    )


def transcript_of(ticket: HandoffTicket) -> list[dict[str, str]]:
    """The conversation as it was when the ticket was opened: [{"who", "text"}, ...]."""
    try:
        messages = json.loads(ticket.transcript or "[]")
    except ValueError:
        return []
    return messages if isinstance(messages, list) else []


def open_ticket_for(session: Session, conversation_id: str) -> HandoffTicket | None:
    """The conversation's open (or claimed) ticket, if it has one."""
    return session.execute(
        select(HandoffTicket).where(
            HandoffTicket.conversation_id == conversation_id, HandoffTicket.open_marker == 1
        )
    ).scalar_one_or_none()


def open_tickets(session: Session) -> list[HandoffTicket]:
    """Every ticket still waiting for (or with) an agent, oldest first."""
    return list(
        session.execute(
            select(HandoffTicket).where(HandoffTicket.open_marker == 1).order_by(HandoffTicket.id)
        ).scalars()
    )


def _insert_ticket(session: Session, ticket: HandoffTicket) -> HandoffTicket | None:
    """Adds the ticket (None); or, if another request opened the conversation's ticket between
    our look-up and our insert (the database refuses a second open one), returns that one."""
    try:
        with session.begin_nested():
            session.add(ticket)
            session.flush()
    except IntegrityError:
        racer = open_ticket_for(session, ticket.conversation_id)
        if racer is None:
            raise
        return racer
    return None


def _attach_refund(
    ticket: HandoffTicket,
    summary: str,
    customer_id: int | None,
    order_id: int | None,
    refund_id: int | None,
    amount: Decimal | None,
) -> None:
    """A refund waiting for review joins an open ticket that had none, so the agent sees it."""
    if refund_id is None or ticket.refund_id is not None:
        return
    ticket.refund_id = refund_id
    ticket.amount = amount
    ticket.order_id = ticket.order_id or order_id
    ticket.customer_id = ticket.customer_id or customer_id
    ticket.summary = f"{ticket.summary}\n{summary}".strip()


def open_ticket(
    session: Session,
    conversation: Conversation,
    reason: str,
    summary: str,
    *,
    customer_id: int | None = None,
    order_id: int | None = None,
    refund_id: int | None = None,
    amount: Decimal | None = None,
    settings: Settings | None = None,
) -> tuple[HandoffTicket, bool]:
    """Puts the conversation in the agents' queue; (ticket, created). Never two open tickets.

    An already open ticket is returned as it is, except that a refund waiting for review is
    attached to it if it had none. Called inside the caller's unit of work, so a refund and
    its ticket commit together.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}; expected one of {REASONS}")
    settings = settings or get_settings()
    existing = open_ticket_for(session, conversation.id)
    if existing is None:
        ticket = HandoffTicket(
            conversation_id=conversation.id,
            channel=conversation.channel or "unknown",
            customer_id=customer_id,
            order_id=order_id,
            refund_id=refund_id,
            reason=reason,
            amount=amount,
            summary=summary,
            transcript=_transcript_json(conversation.transcript),
            status="open",
            created_at=settings.now(),
            open_marker=1,
        )
        existing = _insert_ticket(session, ticket)
        if existing is None:
            audit.record(
                session, actor="bot", action=audit.TICKET_OPENED, at=settings.now(), order_id=order_id,
                refund_id=refund_id, ticket_id=ticket.id, amount=amount,
                detail=f"{reason} in conversation {conversation.id} ({conversation.channel})",
            )
            return ticket, True
    _attach_refund(existing, summary, customer_id, order_id, refund_id, amount)
    return existing, False


def tickets_ahead(session: Session, ticket: HandoffTicket) -> int:
    """Open tickets opened before this one."""
    return session.execute(
        select(func.count(HandoffTicket.id)).where(
            HandoffTicket.open_marker == 1, HandoffTicket.id < ticket.id
        )
    ).scalar_one()


def queue_position(session: Session, ticket: HandoffTicket) -> int:
    """1 for the next ticket an agent picks up; 0 if the ticket is no longer open."""
    if ticket.open_marker != 1:
        return 0
    return tickets_ahead(session, ticket) + 1


def estimated_wait(session: Session, ticket: HandoffTicket, settings: Settings | None = None) -> wait_targets.WaitEstimate:
    """Until an agent reaches this ticket (every ticket ahead, plus picking this one up, at the
    desk's recent pace), and when the desk opens if it is closed now."""
    return wait_targets.estimate(session, queue_position(session, ticket), settings or get_settings())


def estimated_wait_minutes(session: Session, ticket: HandoffTicket, settings: Settings | None = None) -> int:
    return estimated_wait(session, ticket, settings).minutes


@dataclass(frozen=True)
class Resolution:
    found: bool
    ticket_id: int
    conversation_id: str | None = None
    already_resolved: bool = False
    resumed: bool = False  # Rasa un-paused the conversation
    message_sent: bool = False
    rasa_error: str | None = None  # why the conversation could not be resumed / messaged


def _locked(session: Session, ticket_id: int) -> HandoffTicket | None:
    return session.execute(
        select(HandoffTicket).where(HandoffTicket.id == ticket_id).with_for_update()
    ).scalar_one_or_none()


def close_ticket(
    session: Session, ticket_id: int, actor: str, note: str = "", settings: Settings | None = None
) -> Resolution:
    """Marks the ticket resolved and audits it, inside the caller's unit of work (Rasa untouched)."""
    settings = settings or get_settings()
    ticket = _locked(session, ticket_id)
    if ticket is None:
        return Resolution(found=False, ticket_id=ticket_id)
    if ticket.status == "resolved":
        return Resolution(True, ticket_id, ticket.conversation_id, already_resolved=True)
    ticket.status = "resolved"
    ticket.resolved_at = settings.now()
    ticket.open_marker = None
    ticket.assigned_to = ticket.assigned_to or actor
    audit.record_for_ticket(session, ticket, actor=actor, action=audit.TICKET_RESOLVED, at=settings.now(), detail=note)
    return Resolution(True, ticket_id, ticket.conversation_id)


def _hand_back(closed: Resolution, message_to_shopper: str | None, rasa_url: str) -> Resolution:
    """Tells Rasa to resume the conversation, then the message; Rasa down is reported, not raised."""
    conversation_id = closed.conversation_id
    resumed = sent = False
    error = None
    try:
        rasa_api.resume_conversation(conversation_id, rasa_url=rasa_url)
        resumed = True
        if message_to_shopper:
            rasa_api.send_to_conversation(conversation_id, message_to_shopper, rasa_url=rasa_url)
            sent = True
    except rasa_api.RasaUnavailable as exc:
        error = str(exc)
    if resumed:
        ask_how_it_went(conversation_id, rasa_url)
    return replace(closed, resumed=resumed, message_sent=sent, rasa_error=error)


def ask_how_it_went(conversation_id: str, rasa_url: str) -> None:
    """Issue #18: the CSAT question after a person resolved the conversation; the ticket is
    resolved whether or not Rasa can ask (bot.support.csat asks once)."""
    try:
        rasa_api.execute_action(conversation_id, CSAT_ACTION, rasa_url=rasa_url)
    except rasa_api.RasaUnavailable as exc:
        log.warning("Could not ask conversation %s how it went: %s", conversation_id, exc)


def resolve(
    store: Store,
    ticket_id: int,
    actor: str,
    note: str = "",
    message_to_shopper: str | None = None,
    settings: Settings | None = None,
    rasa_url: str | None = None,
) -> Resolution:
    """Closes the ticket and gives the conversation back to the bot.

    Keeps the Store on purpose: the ticket is closed (and audited) in its own unit of work,
    committed before Rasa is told. An unreachable Rasa server does not undo the resolution:
    the result says the conversation was not resumed so the agent can retry or tell the
    shopper another way.
    """
    settings = settings or get_settings()
    with store.session() as s:
        closed = close_ticket(s, ticket_id, actor, note, settings)
    if not closed.found or closed.already_resolved:
        return closed
    return _hand_back(closed, message_to_shopper, rasa_url or settings.rasa_url)


@dataclass(frozen=True)
class Claim:
    outcome: str  # claimed | already_yours | taken (by someone else) | closed | not_found
    # (assign: assigned | already_assigned too)
    ticket_id: int
    assigned_to: str | None = None


def _open_and_locked(session: Session, ticket_id: int) -> tuple[HandoffTicket | None, Claim | None]:
    """The ticket, locked for a change of hands, or why it cannot change hands (gone or resolved)."""
    ticket = _locked(session, ticket_id)
    if ticket is None:
        return None, Claim("not_found", ticket_id)
    if ticket.open_marker != 1:
        return None, Claim("closed", ticket_id, ticket.assigned_to)
    return ticket, None


def claim(session: Session, ticket_id: int, actor: str, settings: Settings | None = None) -> Claim:
    """An agent takes an open ticket, so colleagues see it is being handled."""
    settings = settings or get_settings()
    ticket, refusal = _open_and_locked(session, ticket_id)
    if refusal is not None:
        return refusal
    if ticket.status == "claimed":
        return Claim("already_yours" if ticket.assigned_to == actor else "taken", ticket_id, ticket.assigned_to)
    ticket.status = "claimed"
    ticket.assigned_to = actor
    audit.record_for_ticket(session, ticket, actor=actor, action=audit.TICKET_CLAIMED, at=settings.now())
    return Claim("claimed", ticket_id, actor)


def assign(session: Session, ticket_id: int, to: str, actor: str, settings: Settings | None = None) -> Claim:
    """Gives an open ticket to `to` (an active console account; the caller checks), claimed in
    their name; taking it from someone else is audited with both names."""
    settings = settings or get_settings()
    ticket, refusal = _open_and_locked(session, ticket_id)
    if refusal is not None:
        return refusal
    if ticket.status == "claimed" and ticket.assigned_to == to:
        return Claim("already_yours" if to == actor else "already_assigned", ticket_id, to)
    before = ticket.assigned_to if ticket.status == "claimed" else None
    ticket.status, ticket.assigned_to = "claimed", to
    detail = f"from {before} to {to}" if before else f"to {to}"
    audit.record_for_ticket(session, ticket, actor=actor, action=audit.TICKET_ASSIGNED, at=settings.now(),
                            detail=detail)
    return Claim("assigned", ticket_id, to)
