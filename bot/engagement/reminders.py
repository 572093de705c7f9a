"""Reminders a shopper asks for ("tell me when the sale starts"), kept in the database.

Rasa's own ReminderScheduled lives in the server's memory and is dropped when the server
restarts or the conversation starts a new session, while a sale can be months away. So the
reminder is a row here, and `deliver_due` (run every minute by `python -m bot reminders run`)
fires it into the shopper's conversation through Rasa's external-event API
(`trigger_intent`, output channel "latest"), which sends the answer to the channel the shopper
last wrote from.

Delivery is at-most-once per reminder: a row is claimed (status "sending") in its own unit of
work before Rasa is called, so two runners never send the same reminder; a failed call is
retried with a growing delay, then given up ("failed"). While a person has the conversation
(open handoff ticket) the bot stays silent, so the reminder waits.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.engagement import holiday_calendar, scheduled_sends
from bot.settings import Settings, get_settings
from bot.store.engine import Store
from bot.store.models import Reminder
from bot.support import handoff

SALE_START = "sale_start"
HOLIDAY_RECAP = "holiday_recap"  # issue #18: the season's recap, once after the season (bot/engagement/recap.py)
KINDS = (SALE_START, HOLIDAY_RECAP)
# The intent Rasa fires into the conversation for each kind (domain/, data/rules/).
INTENT_FOR_KIND = {SALE_START: "EXTERNAL_sale_reminder", HOLIDAY_RECAP: "EXTERNAL_holiday_recap"}

# Shared with proactive order updates (bot.engagement.scheduled_sends); named here for callers.
RETRY_DELAYS_MINUTES, STALE_CLAIM, HANDOFF_RECHECK = (
    scheduled_sends.RETRY_DELAYS_MINUTES, scheduled_sends.STALE_CLAIM, scheduled_sends.HANDOFF_RECHECK)


# What a request for one of our reminders talks about; "remind me to call mom" names none.
_ABOUT_THE_SALE = re.compile(
    r"\b(sales?|deals?|discounts?|black\s*friday|cyber\s*monday|promo(tion)?s?|offers?|"
    r"prices?\s+(drop|go\s+down)|bargains?|markdowns?)\b",
    re.IGNORECASE,
)


def asks_about_the_sale(text: str | None) -> bool:
    """Whether a "remind me ..." message is about our sale, the one reminder the store sends."""
    return bool(text) and bool(_ABOUT_THE_SALE.search(text[:2000]))


@dataclass(frozen=True)
class SaleReminderRequest:
    """The answer to "remind me when the sale starts"."""

    status: str  # scheduled | already_scheduled | sale_on
    sale: holiday_calendar.SaleWindow
    due_at: dt.datetime | None = None


def pending(session: Session, conversation_id: str, kind: str) -> Reminder | None:
    """The conversation's reminder of this kind that has not gone out yet."""
    return session.execute(
        select(Reminder)
        .where(
            Reminder.conversation_id == conversation_id,
            Reminder.kind == kind,
            Reminder.status.in_(("scheduled", "sending")),
        )
        .order_by(Reminder.due_at)
    ).scalars().first()


def being_sent(session: Session, conversation_id: str, reminder_id) -> Reminder | None:
    """The reminder a runner is delivering into this conversation right now, else None.

    The bot speaks a reminder only then: a shopper typing the external intent themselves
    (`/EXTERNAL_sale_reminder{"reminder_id": 1}`) names no reminder of theirs being sent.
    """
    try:
        reminder_id = int(reminder_id)
    except (TypeError, ValueError):
        return None
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.conversation_id != conversation_id or reminder.status != "sending":
        return None
    return reminder


def has_pending(session: Session, conversation_id: str, kind: str) -> bool:
    return pending(session, conversation_id, kind) is not None


def schedule_sale_reminder(
    session: Session, conversation_id: str, channel: str, settings: Settings | None = None
) -> SaleReminderRequest:
    """Schedules a message for the first morning of the next sale; asking twice keeps one.
    Writes (call it in store.session()); while the sale is on it does not touch the store."""
    settings = settings or get_settings()
    today = settings.today()
    sale = holiday_calendar.holiday_sale(today, settings)
    due_at = holiday_calendar.sale_reminder_at(today, settings)
    if due_at is None:
        return SaleReminderRequest("sale_on", sale)
    existing = pending(session, conversation_id, SALE_START)
    if existing is not None:
        return SaleReminderRequest("already_scheduled", sale, existing.due_at)
    earlier = session.execute(
        select(Reminder).where(
            Reminder.conversation_id == conversation_id,
            Reminder.kind == SALE_START,
            Reminder.due_at == due_at,
        )
    ).scalar_one_or_none()
    if earlier is not None:  # cancelled, then asked for again
        earlier.status, earlier.next_attempt_at, earlier.attempts = "scheduled", due_at, 0
        return SaleReminderRequest("scheduled", sale, due_at)
    reminder = Reminder(
        conversation_id=conversation_id,
        channel=channel or "unknown",
        kind=SALE_START,
        due_at=due_at,
        next_attempt_at=due_at,
        status="scheduled",
        attempts=0,
        created_at=settings.now(),
    )
    try:
        with session.begin_nested():  # a savepoint: losing the race leaves the caller's unit of work usable
            session.add(reminder)
    except IntegrityError:
        # The same request raced us to the insert; its reminder is the one.
        return SaleReminderRequest("already_scheduled", sale, due_at)
    return SaleReminderRequest("scheduled", sale, due_at)


def schedule_once(
    session: Session, conversation_id: str, channel: str, kind: str, due_at: dt.datetime, now: dt.datetime
) -> bool:
    """A reminder of `kind` due at `due_at`, unless the conversation has it already; True if new."""
    if kind not in KINDS:
        raise ValueError(f"unknown reminder kind {kind!r}; expected one of {KINDS}")
    if pending(session, conversation_id, kind) is not None:
        return False
    reminder = Reminder(conversation_id=conversation_id, channel=channel or "unknown", kind=kind, due_at=due_at,
                        next_attempt_at=due_at, status="scheduled", attempts=0, created_at=now)
    try:
        with session.begin_nested():  # the same request raced us to the insert; its reminder is the one
            session.add(reminder)
    except IntegrityError:
        return False
    return True


def cancel(session: Session, conversation_id: str, kind: str) -> bool:
    """Cancels the conversation's pending reminder of this kind; False if there was none."""
    reminder = pending(session, conversation_id, kind)
    if reminder is None or reminder.status != "scheduled":
        return False
    reminder.status = "cancelled"
    return True


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    waiting_for_agent: list[int] = field(default_factory=list)
    rescheduled: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)  # the sale came and went while we could not send


@dataclass(frozen=True)
class DueReminder:
    id: int
    conversation_id: str
    kind: str
    intent: str

    @property
    def entities(self) -> dict[str, int]:
        """What the fired intent carries, so the action can check it with being_sent."""
        return {"reminder_id": self.id}


# send(reminder) delivers it or raises; bot.rasa_link.rasa_api.trigger_intent in production.
Sender = Callable[[DueReminder], None]


def _claim_due(
    session: Session, now: dt.datetime, settings: Settings, limit: int
) -> tuple[list[DueReminder], DeliveryReport]:
    """Marks the due reminders as being sent by this runner; settles those that must not go."""
    report = DeliveryReport()
    claimed: list[DueReminder] = []
    rows = session.execute(scheduled_sends.claimable(Reminder, now, limit)).scalars().all()
    for reminder in rows:
        if reminder.kind == SALE_START and not _settle_sale_dates(reminder, now, settings, report):
            continue
        if handoff.open_ticket_for(session, reminder.conversation_id) is not None:
            scheduled_sends.wait_for_agent(reminder, now)
            report.waiting_for_agent.append(reminder.id)
            continue
        scheduled_sends.claim(reminder, now)
        claimed.append(
            DueReminder(reminder.id, reminder.conversation_id, reminder.kind, INTENT_FOR_KIND[reminder.kind])
        )
    return claimed, report


def _settle_sale_dates(reminder: Reminder, now: dt.datetime, settings: Settings, report: DeliveryReport) -> bool:
    """True if the sale is on now; otherwise moves the reminder to the sale's new dates, or
    drops it when that sale is already over."""
    if holiday_calendar.holiday_sale(now.date(), settings).status == "on":
        return True
    asked_for = holiday_calendar.holiday_sale(reminder.due_at.date(), settings)
    if asked_for.end < now.date():
        reminder.status = "missed"
        report.missed.append(reminder.id)
        return False
    new_due = holiday_calendar.sale_reminder_at(now.date(), settings)
    reminder.status = "scheduled"
    reminder.due_at = reminder.next_attempt_at = new_due
    report.rescheduled.append(reminder.id)
    return False


def deliver_due(
    store: Store,
    send: Sender,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
    limit: int = 200,
) -> DeliveryReport:
    """Sends every reminder that is due; returns what happened to each.

    Takes the Store: the claim commits before each Rasa call and each outcome after it (at-most-once)."""
    settings = settings or get_settings()
    now = now or settings.now()
    with store.session() as s:
        claimed, report = _claim_due(s, now, settings, limit)
    scheduled_sends.send_each(
        store,
        claimed,
        send,
        on_sent=lambda session, due: _record_sent(session, due.id, now, report),
        on_failure=lambda session, due, exc: _record_failure(session, due.id, now, exc, report),
    )
    return report


def _record_sent(session: Session, reminder_id: int, now: dt.datetime, report: DeliveryReport) -> None:
    scheduled_sends.mark_sent(session.get(Reminder, reminder_id), now)
    report.sent.append(reminder_id)


def _record_failure(
    session: Session, reminder_id: int, now: dt.datetime, exc: Exception, report: DeliveryReport
) -> None:
    given_up = scheduled_sends.retry_or_give_up(session.get(Reminder, reminder_id), now, exc)
    (report.failed if given_up else report.retrying).append(reminder_id)


def upcoming(session: Session) -> list[Reminder]:
    """Reminders still to go out, soonest first (for operators)."""
    return list(
        session.execute(
            select(Reminder).where(Reminder.status.in_(("scheduled", "sending"))).order_by(Reminder.due_at)
        ).scalars()
    )
