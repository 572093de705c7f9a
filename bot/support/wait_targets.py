"""How long shoppers wait for a person, against the first-reply target (issue #19).

A ticket is overdue when nobody has replied FIRST_REPLY_TARGET_MINUTES after it could have been
answered: after it opened, or after the desk opened if it came in while nobody was there (a night
ticket is not overdue at 3am; it is at 8:03). The shopper's wait estimate comes from how fast the
desk really works (the median minutes from claiming to resolving a ticket lately, shared by the
agents at work in the last hour), not from a constant, which is only the fallback while there is
too little history to say.
"""
from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.money import audit
from bot.settings import Settings
from bot.store.models import AuditEntry, HandoffTicket
from bot.support import business_hours

HANDLING_HISTORY_DAYS = 14  # resolved tickets this recent set the handling time
MIN_HANDLED_TICKETS = 3  # fewer than this and the setting's minutes per ticket are used instead
AGENT_ACTIVITY_WINDOW = dt.timedelta(hours=1)  # an agent who acted this recently is at the desk
AGENT_ACTIONS = (audit.TICKET_CLAIMED, audit.AGENT_REPLIED, audit.TICKET_RESOLVED)


def first_replies(session: Session, ticket_ids: list[int]) -> dict[int, dt.datetime]:
    """When an agent first replied on each ticket that has a reply."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(AuditEntry.ticket_id, func.min(AuditEntry.at))
        .where(AuditEntry.ticket_id.in_(ticket_ids), AuditEntry.action == audit.AGENT_REPLIED)
        .group_by(AuditEntry.ticket_id)
    ).all()
    return dict(rows)


def answerable_from(created_at: dt.datetime, settings: Settings) -> dt.datetime:
    """When a ticket could first be answered: when it opened, or when the desk next opened."""
    opening = business_hours.next_opening(created_at, settings)
    return opening.at if opening is not None else created_at


def is_overdue(created_at: dt.datetime, first_reply: dt.datetime | None, settings: Settings) -> bool:
    """No reply yet, the desk is open, and the target has passed since the ticket was answerable."""
    desk_open = business_hours.is_open(settings.now(), settings)
    return overdue_since(answerable_from(created_at, settings), first_reply, desk_open, settings)


def overdue_since(answerable: dt.datetime, first_reply: dt.datetime | None, desk_open: bool,
                  settings: Settings) -> bool:
    """is_overdue for a queue, which knows whether the desk is open and when each ticket became
    answerable, so neither is worked out twice per ticket."""
    if first_reply is not None or not desk_open:
        return False
    return settings.now() - answerable > dt.timedelta(minutes=settings.first_reply_target_minutes)


def handling_minutes(session: Session, settings: Settings) -> float | None:
    """The median minutes from claim to resolution of recently resolved tickets, or None when
    there are fewer than MIN_HANDLED_TICKETS of them."""
    since = settings.now() - dt.timedelta(days=HANDLING_HISTORY_DAYS)
    claimed = (
        select(AuditEntry.ticket_id, func.min(AuditEntry.at).label("claimed_at"))
        .where(AuditEntry.action == audit.TICKET_CLAIMED)
        .group_by(AuditEntry.ticket_id)
        .subquery()
    )
    rows = session.execute(
        select(claimed.c.claimed_at, HandoffTicket.resolved_at)
        .join(claimed, claimed.c.ticket_id == HandoffTicket.id)
        .where(HandoffTicket.resolved_at >= since)
    ).all()
    minutes = [(resolved - claimed_at).total_seconds() / 60 for claimed_at, resolved in rows if resolved >= claimed_at]
    return statistics.median(minutes) if len(minutes) >= MIN_HANDLED_TICKETS else None


def agents_at_work(session: Session, settings: Settings) -> int:
    """Agents who claimed, replied or resolved in the last hour; at least one."""
    since = settings.now() - AGENT_ACTIVITY_WINDOW
    count = session.execute(
        select(func.count(func.distinct(AuditEntry.actor)))
        .where(AuditEntry.at >= since, AuditEntry.action.in_(AGENT_ACTIONS), AuditEntry.ticket_id.is_not(None))
    ).scalar_one()
    return max(1, count)


@dataclass(frozen=True)
class WaitEstimate:
    minutes: int  # of the desk's working time until a person picks the ticket up
    opens: business_hours.NextOpening | None  # when the desk opens, if it is closed now


def estimate(session: Session, position: int, settings: Settings) -> WaitEstimate:
    """Working minutes until a person reaches the `position`-th ticket of the queue (1 = next),
    and when the desk opens if nobody is there now."""
    per_ticket = handling_minutes(session, settings) or settings.handoff_minutes_per_ticket
    minutes = math.ceil(position * per_ticket / agents_at_work(session, settings)) if position else 0
    return WaitEstimate(minutes, business_hours.next_opening(settings.now(), settings))
