"""What every message the store sends on its own schedule shares: claim, send, retry, give up.

Reminders (bot.engagement.reminders) and proactive order updates (bot.engagement.order_updates)
are rows with the same delivery columns: status (scheduled | sending | sent | failed ...),
attempts, next_attempt_at, claimed_at, sent_at and last_error. A runner claims due rows with
SKIP LOCKED and commits the claim before calling Rasa, so two runners (or replicas) never send
one row; a failed call is tried again after a growing delay, then given up.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable, Iterable, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import Select

from bot.store.engine import Store

# Minutes to wait after the 1st, 2nd, ... failed delivery; after the last, the row fails.
RETRY_DELAYS_MINUTES = (1, 5, 15, 60, 240)
# A claim older than this belongs to a runner that died mid-delivery: it may be taken again.
STALE_CLAIM = dt.timedelta(minutes=10)
# How long a message waits while a person has the conversation (the bot stays silent then).
HANDOFF_RECHECK = dt.timedelta(minutes=15)

Due = TypeVar("Due")


def claimable(model, now: dt.datetime, limit: int) -> Select:
    """Rows of `model` due now, or claimed by a runner that died, locked for this runner only."""
    return (
        select(model)
        .where(
            or_(
                and_(model.status == "scheduled", model.next_attempt_at <= now),
                and_(model.status == "sending", model.claimed_at < now - STALE_CLAIM),
            )
        )
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def claim(row, now: dt.datetime) -> None:
    row.status = "sending"
    row.claimed_at = now


def wait_for_agent(row, now: dt.datetime) -> None:
    row.status = "scheduled"
    row.next_attempt_at = now + HANDOFF_RECHECK


def mark_sent(row, now: dt.datetime) -> None:
    row.status = "sent"
    row.sent_at = now
    row.attempts += 1


def retry_or_give_up(row, now: dt.datetime, exc: Exception) -> bool:
    """Counts a failed attempt; schedules the next one, or marks the row failed after the last
    delay. True when it was given up."""
    row.attempts += 1
    row.last_error = str(exc)[:500]
    if row.attempts > len(RETRY_DELAYS_MINUTES):
        row.status = "failed"
        return True
    row.status = "scheduled"
    row.next_attempt_at = now + dt.timedelta(minutes=RETRY_DELAYS_MINUTES[row.attempts - 1])
    return False


def send_each(
    store: Store,
    claimed: Iterable[Due],
    send: Callable[[Due], None],
    on_sent: Callable[..., None],
    on_failure: Callable[..., None],
) -> None:
    """Sends each claimed item; records each outcome in a unit of work of its own, after the call:
    on_sent(session, due) or on_failure(session, due, exc)."""
    for due in claimed:
        try:
            send(due)
        except Exception as exc:  # noqa: BLE001 - any failure to deliver is retried, then recorded
            with store.session() as s:
                on_failure(s, due, exc)
        else:
            with store.session() as s:
                on_sent(s, due)
