"""Issue #19: canned replies, filled from the ticket's order, counted when sent."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from bot.conversation import Conversation
from bot.orders.lookup import tracking_url_of
from bot.returns.eligibility import return_deadline
from bot.policies import format_date
from bot.store.models import CannedReply
from bot.support import canned_replies, desk, handoff
from tests.factories import make_customer, make_order, make_product, make_shipment

BODY = "Hi {name}, order {order_number}: {tracking_link} (returns until {return_deadline}). {store_name}"


def save(store, settings, title="Parcel", body=BODY, reply_id=None):
    with store.session() as s:
        return canned_replies.save(s, reply_id, title, body, "sam", settings.now())


def reply_id_of(store, title):
    with store.reading() as s:
        return next(r.id for r in canned_replies.active(s) if r.title == title)


@pytest.fixture
def ticket_with_order(store, settings, conversation_id):
    with store.session() as s:
        shopper = make_customer(s, name="Noelle Frost")
        order = make_order(s, shopper, items=[(make_product(s), 1, Decimal("20.00"))], status="delivered")
        shipment = make_shipment(s, order, delivered_at=settings.now() - dt.timedelta(days=2))
        ticket, _ = handoff.open_ticket(s, Conversation(conversation_id, "socketio", []), "asked_for_human", "help",
                                        settings=settings, order_id=order.id, customer_id=shopper.id)
        deadline = return_deadline(order, shipment.delivered_at.date(), settings)
        return ticket.id, order.number, tracking_url_of(shipment), format_date(deadline, weekday=True)


def test_a_canned_reply_is_filled_from_the_tickets_order(store, settings, ticket_with_order):
    ticket_id, number, link, deadline = ticket_with_order
    assert save(store, settings) == "saved"

    with store.reading() as s:
        filled = canned_replies.filled(s, reply_id_of(store, "Parcel"), ticket_id, settings)

    assert filled.body == f"Hi Noelle, order {number}: {link} (returns until {deadline}). {settings.store_name}"


def test_what_a_ticket_lacks_is_left_as_a_marker_for_the_agent(store, settings, conversation_id):
    with store.session() as s:
        ticket, _ = handoff.open_ticket(s, Conversation(conversation_id, "socketio", []), "asked_for_human", "help",
                                        settings=settings)
    save(store, settings)
    with store.reading() as s:
        body = canned_replies.filled(s, reply_id_of(store, "Parcel"), ticket.id, settings).body
    assert body.startswith("Hi there, order [order number]: [tracking link] (returns until [return deadline])")


@pytest.mark.parametrize("body", [
    "Hi {name.__class__.__init__.__globals__}",  # str.format would reach into objects
    "Hi {customer}", "Hi {0}", "Hi {name!r}", "Hi {name:>30}", "Hi {name", "Hi {}",
])
def test_only_the_known_placeholders_by_exact_name_are_saved(store, settings, body):
    assert canned_replies.problems("Title", body)
    assert save(store, settings, body=body) == "invalid"
    with store.reading() as s:
        assert s.query(CannedReply).count() == 0


def test_titles_are_unique_and_a_removed_reply_leaves_every_list(store, settings):
    save(store, settings, title="Parcel")
    assert save(store, settings, title="Parcel", body="Another") == "duplicate"
    reply_id = reply_id_of(store, "Parcel")
    assert save(store, settings, title="Parcel", body="Changed {name}", reply_id=reply_id) == "saved"
    with store.session() as s:
        assert canned_replies.remove(s, reply_id, "sam", settings.now())
        assert not canned_replies.remove(s, reply_id, "sam", settings.now())
    with store.reading() as s:
        assert canned_replies.active(s) == []
    assert save(store, settings, title="Parcel") == "saved"  # the title is free again


def test_a_reply_sent_from_a_canned_reply_counts_its_use(store, settings, ticket_with_order, dead_rasa_url):
    ticket_id, *_ = ticket_with_order
    save(store, settings)
    reply_id = reply_id_of(store, "Parcel")
    quiet = dataclasses.replace(settings, rasa_url=dead_rasa_url)

    desk.reply(store, ticket_id, "alice", "Hi Noelle, edited before sending", quiet, canned_reply_id=reply_id)
    desk.reply(store, ticket_id, "alice", "Written by hand", quiet)
    desk.reply(store, ticket_id, "alice", "", quiet, canned_reply_id=reply_id)  # refused: nothing sent

    with store.reading() as s:
        assert [r.uses for r in canned_replies.active(s)] == [1]


def test_the_demo_stores_starter_replies_are_valid_and_added_once(store, settings):
    for title, body in canned_replies.STARTER_REPLIES:
        assert canned_replies.problems(title, body) == []
    with store.session() as s:
        assert canned_replies.add_starter_replies(s, "demo", settings.now()) == len(canned_replies.STARTER_REPLIES)
        assert canned_replies.add_starter_replies(s, "demo", settings.now()) == 0
