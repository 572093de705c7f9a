"""Goodwill from the console (issue #18): an agent gives within their role's limit, a supervisor
more; above it, or without the session's CSRF token, nothing is given."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.conversation import Conversation
from bot.store.models import GoodwillGesture
from bot.support import handoff
from tests.console.conftest import Client
from tests.factories import make_customer


def frustrated_ticket(store, settings, conversation_id) -> int:
    with store.session() as s:
        customer = make_customer(s)
        ticket, _ = handoff.open_ticket(s, Conversation(conversation_id, "socketio", []), "frustration",
                                        "shopper is upset", customer_id=customer.id, settings=settings)
        return ticket.id


def gestures(store) -> list[tuple]:
    with store.session() as s:
        return [(g.kind, g.value, g.level, g.granted_by)
                for g in s.execute(select(GoodwillGesture).order_by(GoodwillGesture.id)).scalars()]


def test_an_agent_gives_within_their_limit_and_the_page_shows_it(store, settings, accounts, console, conversation_id):
    ticket_id = frustrated_ticket(store, settings, conversation_id)
    agent = Client(console.url)
    agent.log_in("dana")
    value = settings.goodwill_agent_limit

    page = agent.act(ticket_id, "goodwill", kind="store_credit", value=str(value))

    assert page.status == 200, page.text()
    assert "Goodwill given" in page.text()
    assert gestures(store) == [("store_credit", value, "agent", "dana")]
    assert "given by dana" in agent.get(f"/tickets/{ticket_id}").text()


def test_above_the_agents_limit_only_a_supervisor_gives(store, settings, accounts, console, conversation_id):
    ticket_id = frustrated_ticket(store, settings, conversation_id)
    value = settings.goodwill_agent_limit + Decimal("0.01")
    agent = Client(console.url)
    agent.log_in("dana")

    page = agent.act(ticket_id, "goodwill", kind="store_credit", value=str(value))

    assert page.status == 409 and "over your goodwill limit" in page.text()
    assert gestures(store) == []

    supervisor = Client(console.url)
    supervisor.log_in("sam")
    page = supervisor.act(ticket_id, "goodwill", kind="store_credit", value=str(value))
    assert page.status == 200, page.text()
    assert gestures(store) == [("store_credit", value, "supervisor", "sam")]


def test_a_second_gesture_for_the_same_incident_is_not_given(store, settings, accounts, console, conversation_id):
    ticket_id = frustrated_ticket(store, settings, conversation_id)
    agent = Client(console.url)
    agent.log_in("dana")
    agent.act(ticket_id, "goodwill", kind="gift_wrap", value="5")
    page = agent.act(ticket_id, "goodwill", kind="store_credit", value="20")
    assert "already given" in page.text()
    assert [kind for kind, *_ in gestures(store)] == ["gift_wrap"]


def test_without_the_csrf_token_nothing_is_given(store, settings, accounts, console, conversation_id):
    ticket_id = frustrated_ticket(store, settings, conversation_id)
    agent = Client(console.url)
    agent.log_in("dana")
    page = agent.post(f"/tickets/{ticket_id}/goodwill", {"kind": "store_credit", "value": "5"})
    assert page.status == 403
    assert gestures(store) == []


def test_a_value_that_is_not_money_is_refused(store, settings, accounts, console, conversation_id):
    ticket_id = frustrated_ticket(store, settings, conversation_id)
    agent = Client(console.url)
    agent.log_in("dana")
    page = agent.act(ticket_id, "goodwill", kind="store_credit", value="-5")
    assert page.status == 400
    assert gestures(store) == []
