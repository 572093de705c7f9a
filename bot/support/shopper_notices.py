"""Telling the shopper what a person decided, in their own chat, without ever losing it.

A decision (refund approved or denied) is committed first, with a ShopperNotice row in the
same unit of work. Delivery comes afterwards: Rasa is asked to run `action_tell_agent_decision`
in the conversation (`POST /conversations/{id}/execute?output_channel=latest`; Rasa runs an
executed action even while the conversation is paused for the agent). That action takes the
conversation's undelivered notices from here, says them with the responses in domain/ and
stamps them delivered. A notice still undelivered afterwards (Rasa or the action server down)
stays in the table: the ticket shows it and the agent can send it again. While the ticket is
open the conversation stays paused, even when Rasa started a new session to run the action.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rasa_link import rasa_api
from bot.store.engine import Store
from bot.store.models import HandoffTicket, Refund, ShopperNotice
from bot.support import handoff

TELL_ACTION = "action_tell_agent_decision"
REFUND_APPROVED = "refund_approved"
REFUND_DENIED = "refund_denied"
KINDS = (REFUND_APPROVED, REFUND_DENIED)


@dataclass(frozen=True)
class PendingNotice:
    """What the bot needs to say one notice."""

    notice_id: int
    kind: str
    amount: Decimal | None
    note: str
    order_number: str | None
    refund_method: str | None


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    error: str | None = None  # why not, in words the agent can act on


def queue_in(
    session: Session, ticket: HandoffTicket, refund: Refund, kind: str, note: str, actor: str, at: dt.datetime
) -> ShopperNotice:
    """Records, in the caller's unit of work, that the shopper must be told about `refund`."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}; expected one of {KINDS}")
    notice = ShopperNotice(
        conversation_id=ticket.conversation_id,
        ticket_id=ticket.id,
        refund_id=refund.id,
        kind=kind,
        amount=refund.amount,
        note=note,
        actor=actor,
        created_at=at,
    )
    session.add(notice)
    session.flush()
    return notice


def take_undelivered(session: Session, conversation_id: str, now: dt.datetime) -> list[PendingNotice]:
    """The conversation's notices not said yet, oldest first, stamped delivered at `now`.

    Rows are locked, so two deliveries running at once say each notice once.
    """
    notices = session.execute(
        select(ShopperNotice)
        .where(ShopperNotice.conversation_id == conversation_id, ShopperNotice.delivered_at.is_(None))
        .order_by(ShopperNotice.id)
        .with_for_update()
    ).scalars().all()
    pending = []
    for notice in notices:
        refund = session.get(Refund, notice.refund_id) if notice.refund_id is not None else None
        pending.append(
            PendingNotice(
                notice_id=notice.id,
                kind=notice.kind,
                amount=notice.amount,
                note=notice.note,
                order_number=refund.order.number if refund is not None else None,
                refund_method=refund.method if refund is not None else None,
            )
        )
        notice.delivered_at = now
    return pending


def undelivered_for_ticket(session: Session, ticket_id: int) -> list[ShopperNotice]:
    return list(
        session.execute(
            select(ShopperNotice)
            .where(ShopperNotice.ticket_id == ticket_id, ShopperNotice.delivered_at.is_(None))
            .order_by(ShopperNotice.id)
        ).scalars()
    )


def deliver(store: Store, conversation_id: str, rasa_url: str | None = None) -> Delivery:
    """Asks Rasa to say the conversation's undelivered notices; delivered only if none is left unsaid."""
    try:
        still_paused = rasa_api.execute_action(conversation_id, TELL_ACTION, rasa_url=rasa_url)
        with store.session() as s:
            with_agent = handoff.open_ticket_for(s, conversation_id) is not None
        if with_agent and not still_paused:
            rasa_api.pause_conversation(conversation_id, rasa_url=rasa_url)
    except rasa_api.RasaUnavailable as exc:
        return Delivery(False, str(exc))
    with store.session() as s:
        left = s.execute(
            select(ShopperNotice.id).where(
                ShopperNotice.conversation_id == conversation_id, ShopperNotice.delivered_at.is_(None)
            )
        ).first()
    if left is not None:
        return Delivery(False, "Rasa answered but the message was not said (is the action server running?)")
    return Delivery(True)
