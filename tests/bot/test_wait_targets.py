"""Issue #19: the first-reply target, the queue at peak, and a wait estimate from the desk's real pace."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.conversation import Conversation
from bot.money import audit
from bot.store.models import HandoffTicket
from bot.support import desk, handoff, wait_targets
from tests.conftest import DESK_ALWAYS_OPEN
from tests.factories import add_events

TODAY = dt.date(2026, 12, 8)  # a Tuesday


@pytest.fixture
def open_desk(settings):
    return dataclasses.replace(settings, today_override=TODAY, support_hours=DESK_ALWAYS_OPEN["SUPPORT_HOURS"],
                               holiday_support_hours=(("01-01", "closed"),))


@pytest.fixture
def closed_desk(open_desk):
    """Nobody until 9pm UTC; the store's clock says noon."""
    return dataclasses.replace(open_desk, support_hours="daily 9pm-11pm UTC")


def open_ticket(store, settings, conversation_id, minutes_ago=0, reason="asked_for_human"):
    with store.session() as s:
        ticket, _ = handoff.open_ticket(s, Conversation(conversation_id, "socketio", []), reason, "help",
                                        settings=settings)
        ticket.created_at = settings.now() - dt.timedelta(minutes=minutes_ago)
        return ticket.id


def agent_did(store, settings, ticket_id, action, actor="alice", minutes_ago=0):
    with store.session() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        audit.record_for_ticket(s, ticket, actor=actor, action=action,
                                at=settings.now() - dt.timedelta(minutes=minutes_ago))


def resolved_after(store, settings, conversation_id, handled_minutes, actor="alice"):
    """A ticket claimed and then resolved `handled_minutes` later, in the recent past."""
    ticket_id = open_ticket(store, settings, conversation_id, minutes_ago=120)
    agent_did(store, settings, ticket_id, audit.TICKET_CLAIMED, actor, minutes_ago=100)
    with store.session() as s:
        handoff.close_ticket(s, ticket_id, actor, "", settings)
        s.get(HandoffTicket, ticket_id).resolved_at = settings.now() - dt.timedelta(minutes=100 - handled_minutes)
    return ticket_id


def test_a_ticket_past_the_first_reply_target_is_overdue_and_sorts_first(store, open_desk, conversation_id):
    target = open_desk.first_reply_target_minutes
    oldest_answered = open_ticket(store, open_desk, f"{conversation_id}-a", minutes_ago=target + 30)
    agent_did(store, open_desk, oldest_answered, audit.AGENT_REPLIED, minutes_ago=target + 29)
    fresh = open_ticket(store, open_desk, f"{conversation_id}-b", minutes_ago=target - 1)
    overdue = open_ticket(store, open_desk, f"{conversation_id}-c", minutes_ago=target + 1)
    more_overdue = open_ticket(store, open_desk, f"{conversation_id}-d", minutes_ago=target + 5)

    queue = desk.queue(store, open_desk)

    assert [r.ticket_id for r in queue.rows] == [more_overdue, overdue, oldest_answered, fresh]
    assert [r.overdue for r in queue.rows] == [True, True, False, False]
    assert queue.after_hours == [] and queue.target_minutes == target


def test_nothing_is_overdue_while_the_desk_is_closed_and_night_tickets_wait_apart(store, closed_desk, conversation_id):
    night = open_ticket(store, closed_desk, conversation_id, minutes_ago=closed_desk.first_reply_target_minutes + 60)

    queue = desk.queue(store, closed_desk)

    assert queue.rows == [] and [r.ticket_id for r in queue.after_hours] == [night]
    assert not queue.after_hours[0].overdue and queue.opens == "today at 9pm UTC"


def test_a_night_ticket_becomes_overdue_only_the_target_after_the_desk_opens(store, closed_desk, conversation_id):
    night = open_ticket(store, closed_desk, conversation_id, minutes_ago=60)  # 11am: closed
    opening = wait_targets.answerable_from(closed_desk.now() - dt.timedelta(minutes=60), closed_desk)
    target = dt.timedelta(minutes=closed_desk.first_reply_target_minutes)

    def at(moment):
        class StoreClock(type(closed_desk)):
            def now(self):
                return moment
        return StoreClock(**{f.name: getattr(closed_desk, f.name) for f in dataclasses.fields(closed_desk)})

    with store.reading() as s:
        created = s.get(HandoffTicket, night).created_at
    assert not wait_targets.is_overdue(created, None, at(opening + target))
    assert wait_targets.is_overdue(created, None, at(opening + target + dt.timedelta(minutes=1)))


def test_the_time_since_the_shoppers_last_unanswered_message_shows(store, open_desk, conversation_id, tracker_table):
    waiting = open_ticket(store, open_desk, f"{conversation_id}-w")
    answered = open_ticket(store, open_desk, f"{conversation_id}-a")
    add_events(store, f"{conversation_id}-w", ("bot", "A person will take over"), ("user", "hello??"))
    add_events(store, f"{conversation_id}-a", ("user", "hello??"), ("bot", "Hi, Alice here"))

    rows = {r.ticket_id: r for r in desk.queue(store, open_desk)}

    assert rows[waiting].unanswered is not None and rows[answered].unanswered is None


def test_the_queue_filters_by_label(store, open_desk, conversation_id):
    damaged = open_ticket(store, open_desk, f"{conversation_id}-1")
    open_ticket(store, open_desk, f"{conversation_id}-2")
    with store.session() as s:
        desk.label(s, damaged, "Damaged ", "alice", open_desk)

    queue = desk.queue(store, open_desk, label="DAMAGED")

    assert [r.ticket_id for r in queue.rows] == [damaged] and queue.rows[0].labels == ("damaged",)
    assert queue.label == "damaged" and "damaged" in queue.labels


def test_without_history_the_wait_uses_the_configured_minutes_per_ticket(store, open_desk, conversation_id):
    open_ticket(store, open_desk, f"{conversation_id}-1")
    second = open_ticket(store, open_desk, f"{conversation_id}-2")
    with store.reading() as s:
        wait = handoff.estimated_wait(s, s.get(HandoffTicket, second), open_desk)
    assert wait.minutes == 2 * open_desk.handoff_minutes_per_ticket and wait.opens is None


def test_the_wait_follows_the_desks_real_handling_time_and_the_agents_at_work(store, open_desk, conversation_id):
    handled = open_desk.handoff_minutes_per_ticket * 3
    for n in range(wait_targets.MIN_HANDLED_TICKETS):
        resolved_after(store, open_desk, f"{conversation_id}-done-{n}", handled)
    first = open_ticket(store, open_desk, f"{conversation_id}-1")
    second = open_ticket(store, open_desk, f"{conversation_id}-2")

    with store.reading() as s:
        assert wait_targets.handling_minutes(s, open_desk) == handled
        assert handoff.estimated_wait_minutes(s, s.get(HandoffTicket, second), open_desk) == 2 * handled
    agent_did(store, open_desk, first, audit.TICKET_CLAIMED, actor="bob")  # now two agents at work
    agent_did(store, open_desk, first, audit.AGENT_REPLIED, actor="alice")
    with store.reading() as s:
        assert wait_targets.agents_at_work(s, open_desk) == 2
        assert handoff.estimated_wait_minutes(s, s.get(HandoffTicket, second), open_desk) == handled


def test_when_the_desk_is_closed_the_estimate_says_when_it_opens(store, closed_desk, conversation_id):
    ticket_id = open_ticket(store, closed_desk, conversation_id)
    with store.reading() as s:
        wait = handoff.estimated_wait(s, s.get(HandoffTicket, ticket_id), closed_desk)
    assert wait.opens is not None and wait.opens.when == "today at 9pm UTC"
