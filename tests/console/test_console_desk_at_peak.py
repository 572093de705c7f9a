"""Issue #19 in the console: overdue tickets first, labels and their filter, assignment, canned
replies filled from the order and counted, all behind the console's login and CSRF guards."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest

from bot.conversation import Conversation
from bot.money import audit
from bot.store.models import CannedReply, HandoffTicket, TicketLabel
from bot.support import canned_replies, handoff
from tests.console.conftest import Client, start_console
from tests.conftest import DESK_ALWAYS_OPEN
from tests.factories import make_customer, make_order, make_product, make_shipment


@pytest.fixture
def open_desk(settings):
    return dataclasses.replace(settings, support_hours=DESK_ALWAYS_OPEN["SUPPORT_HOURS"],
                               holiday_support_hours=(("01-01", "closed"),))


@pytest.fixture
def desk_console(store, open_desk, fake_rasa, accounts):
    server = start_console(store, open_desk, fake_rasa.url)
    yield server
    server.stop()


def ticket(store, settings, conversation_id, minutes_ago=0, with_order=False):
    with store.session() as s:
        order = None
        if with_order:
            shopper = make_customer(s, name="Holly Berry")
            order = make_order(s, shopper, items=[(make_product(s), 1, Decimal("30.00"))], status="shipped")
            make_shipment(s, order)
        opened, _ = handoff.open_ticket(s, Conversation(conversation_id, "socketio", []), "asked_for_human", "help",
                                        settings=settings, order_id=order.id if order else None,
                                        customer_id=order.customer_id if order else None)
        opened.created_at = settings.now() - dt.timedelta(minutes=minutes_ago)
        return opened.id


def queue_order(page) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-ticket="(\d+)"', page.body)]


def test_an_overdue_ticket_stands_out_and_comes_first(store, open_desk, desk_console, conversation_id):
    target = open_desk.first_reply_target_minutes
    older_but_fresh = ticket(store, open_desk, f"{conversation_id}-1", minutes_ago=target - 1)
    overdue = ticket(store, open_desk, f"{conversation_id}-2", minutes_ago=target + 3)
    agent = Client(desk_console.url)
    agent.log_in("dana")

    page = agent.get("/")

    assert queue_order(page) == [overdue, older_but_fresh]
    assert re.search(rf'<tr data-ticket="{overdue}" class="overdue">', page.body)
    assert f"First-reply target {target} min" in page.text()
    assert '<meta http-equiv="refresh" content="10">' in page.body


def test_labels_filter_the_queue_and_are_escaped(store, open_desk, desk_console, conversation_id):
    damaged = ticket(store, open_desk, f"{conversation_id}-1")
    other = ticket(store, open_desk, f"{conversation_id}-2")
    agent = Client(desk_console.url)
    agent.log_in("dana")

    assert agent.act(damaged, "label", label="Damaged").status == 200
    refused = agent.act(other, "label", label="<img src=x onerror=alert(1)>")

    assert refused.status == 400 and "<img src=x" not in refused.body
    assert queue_order(agent.get("/?label=damaged")) == [damaged]
    assert sorted(queue_order(agent.get("/"))) == sorted([damaged, other])
    assert agent.act(damaged, "unlabel", label="damaged").status == 200
    assert queue_order(agent.get("/?label=damaged")) == []


def test_without_the_csrf_token_nothing_is_labelled_or_assigned(store, open_desk, desk_console, conversation_id):
    ticket_id = ticket(store, open_desk, conversation_id)
    agent = Client(desk_console.url)
    agent.log_in("dana")

    assert agent.post(f"/tickets/{ticket_id}/label", {"label": "vip"}).status == 403
    assert agent.post(f"/tickets/{ticket_id}/assign", {"to": "dana", "csrf": "forged"}).status == 403
    assert Client(desk_console.url).post(f"/tickets/{ticket_id}/assign", {"to": "dana"}).status == 403
    with store.reading() as s:
        assert s.query(TicketLabel).count() == 0 and s.get(HandoffTicket, ticket_id).assigned_to is None


def test_a_colleagues_claim_shows_and_their_ticket_takes_no_reply_until_reassigned(
    store, open_desk, desk_console, conversation_id, fake_rasa
):
    ticket_id = ticket(store, open_desk, conversation_id)
    dana, sam = Client(desk_console.url), Client(desk_console.url)
    dana.log_in("dana")
    sam.log_in("sam")
    assert dana.act(ticket_id, "claim").status == 200

    assert "claimed by dana" in sam.get("/").text()
    assert "dana has this ticket" in sam.get(f"/tickets/{ticket_id}").text()
    refused = sam.act(ticket_id, "reply", text="Hi, Sam here")
    assert refused.status == 409 and "being handled by dana" in refused.text()
    assert not [c for c in fake_rasa.calls if "Sam here" in str(c)]

    assert sam.act(ticket_id, "assign", to="sam").status == 200
    assert sam.act(ticket_id, "reply", text="Hi, Sam here").status == 200
    with store.reading() as s:
        assigned = [e.detail for e in audit.entries(s, ticket_id=ticket_id) if e.action == audit.TICKET_ASSIGNED]
    assert assigned == ["from dana to sam"]


def test_a_canned_reply_is_inserted_filled_then_sent_and_counted(store, open_desk, desk_console, conversation_id,
                                                                 fake_rasa):
    ticket_id = ticket(store, open_desk, conversation_id, with_order=True)
    with store.session() as s:
        canned_replies.add_starter_replies(s, "demo", open_desk.now())
        reply = s.query(CannedReply).filter_by(title="Where is my parcel").one()
        order = s.get(HandoffTicket, ticket_id).order
        reply_id, number = reply.id, order.number
    agent = Client(desk_console.url)
    agent.log_in("dana")

    page = agent.get(f"/tickets/{ticket_id}?canned={reply_id}")
    draft = re.search(r'<textarea name="text"[^>]*>([^<]*)</textarea>', page.body).group(1)
    assert draft.startswith(f"Hi Holly, thanks for waiting. Your order {number} is on its way")
    assert "{" not in draft

    sent = agent.post(f"/tickets/{ticket_id}/reply", {"csrf": page.csrf(), "canned_reply_id": str(reply_id),
                                                      "text": draft + " Merry Christmas!"})

    assert sent.status == 200 and "Reply sent" in sent.text()
    assert any(draft + " Merry Christmas!" in str(call) for call in fake_rasa.calls)
    with store.reading() as s:
        assert s.get(CannedReply, reply_id).uses == 1


def test_only_a_supervisor_changes_the_canned_replies(store, open_desk, desk_console):
    dana, sam = Client(desk_console.url), Client(desk_console.url)
    dana.log_in("dana")
    sam.log_in("sam")
    form = {"title": "Gift wrap", "body": "Hi {name}, gift wrap is on us for order {order_number}."}

    assert dana.post("/canned/save", {"csrf": dana.get("/canned").csrf(), **form}).status == 403
    saved = sam.post("/canned/save", {"csrf": sam.get("/canned").csrf(), **form})
    assert saved.status == 200 and "Saved." in saved.text()
    bad = sam.post("/canned/save", {"csrf": sam.get("/canned").csrf(), "title": "Sneaky",
                                    "body": "{name.__class__.__init__.__globals__}"})
    assert bad.status == 400 and "Unknown placeholder" in bad.text()
    with store.reading() as s:
        assert [r.title for r in canned_replies.active(s)] == ["Gift wrap"]
    assert "Hi {name}, gift wrap is on us" in dana.get("/canned").text()
