"""Messages for a web chat page that may be closed: kept until a page of that session shows them.

A message pushed into a web chat conversation from outside a reply (a proactive order update,
an agent's answer or decision, a reminder) reaches Rasa's socket.io channel while the shopper's
page may be closed, or open on another Rasa server behind HAProxy. The channel (channels/socketio.py)
puts it here instead of emitting it; whichever server holds a page of that session takes it,
shows it and marks it shown. A claim is row-locked with SKIP LOCKED, so two servers never show
one message; a claim whose server died before showing it is taken again after STALE_CLAIM.

Times are the real clock (UTC), not the store's date (TINSEL_TODAY): this is plumbing.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import WebchatMessage

# A claimed message not marked shown after this long belonged to a server that died: show it again.
STALE_CLAIM = dt.timedelta(minutes=2)
MAX_MESSAGE_CHARS = 20_000  # a bot message; anything longer is not ours


@dataclass(frozen=True)
class WaitingMessage:
    id: int
    conversation_id: str
    message: dict[str, Any]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def put(session: Session, conversation_id: str, message: dict[str, Any], now: dt.datetime | None = None) -> int:
    """Keeps `message` (what the socket.io channel would emit) for the conversation's next page."""
    text = json.dumps(message, ensure_ascii=False)
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValueError(f"a web chat message of {len(text)} characters is longer than {MAX_MESSAGE_CHARS}")
    row = WebchatMessage(conversation_id=conversation_id, message=text, created_at=now or utc_now())
    session.add(row)
    session.flush()
    return row.id


def claim_waiting(
    session: Session, conversation_ids: Iterable[str], now: dt.datetime | None = None, limit: int = 200
) -> list[WaitingMessage]:
    """The conversations' messages not shown yet, oldest first, claimed for this server; another
    server asking at the same time gets none of them (SKIP LOCKED)."""
    conversation_ids = list(conversation_ids)
    if not conversation_ids:
        return []
    now = now or utc_now()
    rows = session.execute(
        select(WebchatMessage)
        .where(
            WebchatMessage.conversation_id.in_(conversation_ids),
            WebchatMessage.shown_at.is_(None),
            or_(WebchatMessage.claimed_at.is_(None), WebchatMessage.claimed_at < now - STALE_CLAIM),
        )
        .order_by(WebchatMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for row in rows:
        row.claimed_at = now
    return [WaitingMessage(row.id, row.conversation_id, json.loads(row.message)) for row in rows]


def mark_shown(session: Session, message_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    message_ids = list(message_ids)
    if message_ids:
        session.execute(
            update(WebchatMessage)
            .where(WebchatMessage.id.in_(message_ids), WebchatMessage.shown_at.is_(None))
            .values(shown_at=now or utc_now())
        )


def release(session: Session, message_ids: Iterable[int]) -> None:
    """Gives claimed messages back (the page went away before they were shown)."""
    message_ids = list(message_ids)
    if message_ids:
        session.execute(
            update(WebchatMessage)
            .where(WebchatMessage.id.in_(message_ids), WebchatMessage.shown_at.is_(None))
            .values(claimed_at=None)
        )


def waiting_count(session: Session, conversation_id: str) -> int:
    """How many messages the conversation's next page will show."""
    return session.execute(
        select(func.count())
        .select_from(WebchatMessage)
        .where(WebchatMessage.conversation_id == conversation_id, WebchatMessage.shown_at.is_(None))
    ).scalar_one()
