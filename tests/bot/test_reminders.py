"""Reminders shoppers ask for: scheduled once, delivered once when due, never while a person
has the conversation, retried when Rasa is down, and sent through Rasa's external-event API."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from bot.cli.reminders import send_through_rasa
from bot.conversation import Conversation
from bot.engagement import holiday_calendar, reminders
from bot.rasa_link import rasa_api
from bot.store.models import Reminder
from bot.support import handoff
from tests.bot.test_handoff import fake_rasa  # noqa: F401 - a fixture

BEFORE_THE_SALE = dt.date(2025, 11, 20)


@pytest.fixture
def before_sale(settings):
    return dataclasses.replace(settings, today_override=BEFORE_THE_SALE)


def sale_start_morning(config) -> dt.datetime:
    return holiday_calendar.sale_reminder_at(config.today(), config)


class Recorder:
    """A sender that remembers what it delivered, optionally failing or slow."""

    def __init__(self, fail: bool = False, delay: float = 0.0):
        self.sent: list[reminders.DueReminder] = []
        self.fail = fail
        self.delay = delay

    def __call__(self, due: reminders.DueReminder) -> None:
        time.sleep(self.delay)
        if self.fail:
            raise rasa_api.RasaUnavailable("Rasa server unreachable")
        self.sent.append(due)


def schedule(store, conversation_id: str, channel: str, config) -> reminders.SaleReminderRequest:
    """The shopper's request as the action makes it, in a writing unit of work."""
    with store.session() as s:
        return reminders.schedule_sale_reminder(s, conversation_id, channel, config)


def has_pending(store, conversation_id: str) -> bool:
    with store.reading() as s:
        return reminders.has_pending(s, conversation_id, reminders.SALE_START)


def upcoming(store) -> list[Reminder]:
    with store.reading() as s:
        return reminders.upcoming(s)


def count(store) -> int:
    with store.session() as s:
        return s.execute(select(func.count(Reminder.id))).scalar_one()


def status_of(store, reminder_id: int) -> Reminder:
    with store.session() as s:
        return s.get(Reminder, reminder_id)


def test_the_reminder_is_set_for_the_first_morning_of_the_sale(store, before_sale, conversation_id):
    request = schedule(store, conversation_id, "telegram", before_sale)
    sale = holiday_calendar.holiday_sale(BEFORE_THE_SALE, before_sale)
    assert request.status == "scheduled"
    assert request.due_at == dt.datetime.combine(sale.start, holiday_calendar.SALE_REMINDER_TIME)
    assert has_pending(store, conversation_id)
    assert [r.channel for r in upcoming(store)] == ["telegram"]


def test_asking_twice_keeps_one_reminder(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    again = schedule(store, conversation_id, "socketio", before_sale)
    assert again.status == "already_scheduled"
    assert count(store) == 1


def test_losing_the_race_to_schedule_keeps_the_callers_unit_of_work(store, before_sale, conversation_id):
    """Two requests at once: the second finds the first's reminder (SQLite) or loses the insert
    to it (PostgreSQL); either way it says so, and what else its unit of work wrote still commits."""
    answers = []

    def second_request():
        with store.session() as s:
            reminders.schedule_sale_reminder(s, "another-shopper", "socketio", before_sale)
            answers.append(reminders.schedule_sale_reminder(s, conversation_id, "socketio", before_sale))

    with store.session() as s:
        first = reminders.schedule_sale_reminder(s, conversation_id, "socketio", before_sale)
        s.flush()
        racer = threading.Thread(target=second_request)
        racer.start()
        time.sleep(0.3)  # the racer is now waiting on our insert (or on the write lock)
    racer.join(timeout=10)
    assert first.status == "scheduled" and [a.status for a in answers] == ["already_scheduled"]
    assert has_pending(store, "another-shopper") and count(store) == 2


def test_no_reminder_while_the_sale_is_on(store, settings, conversation_id):
    sale = holiday_calendar.holiday_sale(BEFORE_THE_SALE, settings)
    during = dataclasses.replace(settings, today_override=sale.start)
    request = schedule(store, conversation_id, "socketio", during)
    assert request.status == "sale_on" and request.due_at is None
    assert count(store) == 0


def test_a_cancelled_reminder_can_be_asked_for_again(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    with store.session() as s:
        assert reminders.cancel(s, conversation_id, reminders.SALE_START)
    assert not has_pending(store, conversation_id)
    assert schedule(store, conversation_id, "socketio", before_sale).status == "scheduled"
    assert has_pending(store, conversation_id)


def test_nothing_goes_out_before_it_is_due_and_it_goes_out_once(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    due_at = sale_start_morning(before_sale)
    send = Recorder()
    early = reminders.deliver_due(store, send, now=due_at - dt.timedelta(minutes=1), settings=before_sale)
    assert early.sent == [] and send.sent == []

    on_time = reminders.deliver_due(store, send, now=due_at, settings=before_sale)
    assert [d.conversation_id for d in send.sent] == [conversation_id]
    assert send.sent[0].intent == reminders.INTENT_FOR_KIND[reminders.SALE_START]
    assert status_of(store, on_time.sent[0]).status == "sent"

    reminders.deliver_due(store, send, now=due_at + dt.timedelta(hours=1), settings=before_sale)
    assert len(send.sent) == 1
    assert not has_pending(store, conversation_id)


def test_rasa_down_is_retried_later_then_given_up(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    now = sale_start_morning(before_sale)
    down = Recorder(fail=True)
    report = reminders.deliver_due(store, down, now=now, settings=before_sale)
    reminder = status_of(store, report.retrying[0])
    assert reminder.status == "scheduled" and reminder.attempts == 1
    assert reminder.next_attempt_at == now + dt.timedelta(minutes=reminders.RETRY_DELAYS_MINUTES[0])
    assert "unreachable" in reminder.last_error

    # Not retried before its delay is up; back up in time, it goes out.
    assert reminders.deliver_due(store, down, now=now, settings=before_sale).retrying == []
    up = Recorder()
    reminders.deliver_due(store, up, now=reminder.next_attempt_at, settings=before_sale)
    assert len(up.sent) == 1 and status_of(store, reminder.id).status == "sent"


def test_a_reminder_rasa_never_takes_fails_after_the_last_retry(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    now = sale_start_morning(before_sale)
    down = Recorder(fail=True)
    for _ in reminders.RETRY_DELAYS_MINUTES:
        report = reminders.deliver_due(store, down, now=now, settings=before_sale)
        now = status_of(store, report.retrying[0]).next_attempt_at
    final = reminders.deliver_due(store, down, now=now, settings=before_sale)
    assert len(final.failed) == 1
    assert status_of(store, final.failed[0]).status == "failed"
    assert reminders.deliver_due(store, down, now=now + dt.timedelta(days=1), settings=before_sale).failed == []


def test_the_bot_stays_silent_while_a_person_has_the_conversation(store, before_sale, conversation_id, dead_rasa_url):
    schedule(store, conversation_id, "socketio", before_sale)
    with store.session() as s:
        ticket, _ = handoff.open_ticket(
            s, Conversation(conversation_id, "socketio", []), "asked_for_human", "wants a person", settings=before_sale
        )
    now = sale_start_morning(before_sale)
    send = Recorder()
    report = reminders.deliver_due(store, send, now=now, settings=before_sale)
    assert send.sent == [] and len(report.waiting_for_agent) == 1

    handoff.resolve(store, ticket.id, actor="dana", settings=before_sale, rasa_url=dead_rasa_url)
    reminders.deliver_due(store, send, now=now + reminders.HANDOFF_RECHECK, settings=before_sale)
    assert [d.conversation_id for d in send.sent] == [conversation_id]


def test_a_runner_that_was_down_for_the_whole_sale_sends_nothing(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    sale = holiday_calendar.holiday_sale(BEFORE_THE_SALE, before_sale)
    after = dataclasses.replace(before_sale, today_override=sale.end + dt.timedelta(days=2))
    send = Recorder()
    report = reminders.deliver_due(store, send, now=after.now(), settings=after)
    assert send.sent == [] and len(report.missed) == 1
    assert not has_pending(store, conversation_id)


def test_a_sale_moved_later_moves_the_reminder(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    old_due = sale_start_morning(before_sale)
    moved = dataclasses.replace(before_sale, holiday_sale_start="cyber_monday")
    send = Recorder()
    report = reminders.deliver_due(store, send, now=old_due, settings=moved)
    assert send.sent == [] and len(report.rescheduled) == 1
    new_due = status_of(store, report.rescheduled[0]).due_at
    assert new_due == sale_start_morning(moved) > old_due
    reminders.deliver_due(store, send, now=new_due, settings=moved)
    assert len(send.sent) == 1


def test_a_claim_left_by_a_crashed_runner_is_taken_again(store, before_sale, conversation_id):
    schedule(store, conversation_id, "socketio", before_sale)
    now = sale_start_morning(before_sale)
    with store.session() as s:
        reminder = s.execute(select(Reminder)).scalar_one()
        reminder.status, reminder.claimed_at = "sending", now
    send = Recorder()
    assert reminders.deliver_due(store, send, now=now + dt.timedelta(minutes=1), settings=before_sale).sent == []
    reminders.deliver_due(store, send, now=now + reminders.STALE_CLAIM + dt.timedelta(seconds=1), settings=before_sale)
    assert len(send.sent) == 1


def test_two_runners_at_once_send_each_reminder_once(store, before_sale):
    for n in range(5):
        schedule(store, f"shopper-{n}", "socketio", before_sale)
    now = sale_start_morning(before_sale)
    send = Recorder(delay=0.05)
    runners = [
        threading.Thread(target=reminders.deliver_due, args=(store, send), kwargs={"now": now, "settings": before_sale})
        for _ in range(3)
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert sorted(d.conversation_id for d in send.sent) == [f"shopper-{n}" for n in range(5)]


def test_the_runner_fires_the_external_intent_through_rasas_api(store, before_sale, conversation_id, fake_rasa):
    url, calls = fake_rasa
    schedule(store, conversation_id, "slack", before_sale)
    config = dataclasses.replace(before_sale, rasa_url=url)
    report = reminders.deliver_due(store, send_through_rasa(config), now=sale_start_morning(config), settings=config)
    assert len(report.sent) == 1
    path, query, body = calls[0]
    assert path == f"/conversations/{conversation_id}/trigger_intent"
    assert query == {"output_channel": "latest"}
    assert body == {"name": "EXTERNAL_sale_reminder", "entities": {"reminder_id": report.sent[0]}}


def test_an_unreachable_rasa_leaves_the_reminder_for_the_next_run(store, before_sale, conversation_id, dead_rasa_url):
    schedule(store, conversation_id, "slack", before_sale)
    config = dataclasses.replace(before_sale, rasa_url=dead_rasa_url)
    report = reminders.deliver_due(store, send_through_rasa(config), now=sale_start_morning(config), settings=config)
    assert report.sent == [] and len(report.retrying) == 1
    assert has_pending(store, conversation_id)


@pytest.mark.parametrize("text, about_the_sale", [
    ("remind me when the sale starts", True),
    ("ping me when black friday deals go live", True),
    ("let me know when cyber monday begins", True),
    ("tell me when prices drop", True),
    ("remind me to call my mom tomorrow", False),
    ("set a reminder for the dentist at 3", False),
    ("", False),
    (None, False),
])
def test_only_a_request_about_the_sale_is_one_for_us(text, about_the_sale):
    assert reminders.asks_about_the_sale(text) is about_the_sale
