"""Goodwill gestures: one per incident, found in the database, within each level's limit."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.conversation import Conversation
from bot.money import goodwill
from bot.policies import SHIPPING_UPGRADE_PRICE, gift_wrap_price
from bot.store.models import AuditEntry, GoodwillGesture, Return, VerifiedOrder
from bot.support import handoff
from tests.factories import make_customer, make_order, make_product, make_shipment

CONVERSATION = "web:" + "c" * 32


@pytest.fixture
def december(settings):
    """A store date in the season: Christmas deliveries are promised."""
    return dataclasses.replace(settings, today_override=dt.date(2026, 12, 10))


def verified_gift(store, settings, eta: dt.date, status: str = "shipped", conversation: str = CONVERSATION) -> int:
    """A gift order in transit with the given ETA, verified by `conversation`; its customer's id."""
    with store.session() as s:
        customer = make_customer(s)
        order = make_order(s, customer, [(make_product(s), 1)], status=status, is_gift=True)
        make_shipment(s, order, eta=eta)
        s.add(VerifiedOrder(conversation_id=conversation, order_id=order.id, verified_at=settings.now()))
        return customer.id


def grant_by_bot(store, settings, kind: str, conversation: str = CONVERSATION) -> goodwill.Grant:
    with store.session() as s:
        return goodwill.grant_by_bot(s, conversation, kind, settings, settings.now())


def test_a_late_gift_gets_the_bots_store_credit_within_its_limit(store, december):
    customer_id = verified_gift(store, december, eta=dt.date(2026, 12, 28))
    assert december.goodwill_store_credit <= december.goodwill_bot_limit
    with store.session() as s:
        result = goodwill.grant_by_bot(s, CONVERSATION, "store_credit", december, december.now())
        assert result.status == "granted"
        assert (result.gesture.value, result.gesture.level, result.gesture.incident) == (
            december.goodwill_store_credit, "bot", "late_gift")
        assert goodwill.credit_balance(s, customer_id) == december.goodwill_store_credit
    with store.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == goodwill.GRANTED)).scalar_one()
        assert (entry.actor, entry.amount) == ("bot", december.goodwill_store_credit)


def test_asking_again_for_the_same_incident_returns_the_first_gesture(store, december):
    verified_gift(store, december, eta=dt.date(2026, 12, 28))
    first = grant_by_bot(store, december, "store_credit")
    again = grant_by_bot(store, december, "gift_wrap")
    assert again.status == "already_granted" and again.gesture.code == first.gesture.code
    with store.session() as s:
        assert len(s.execute(select(GoodwillGesture)).scalars().all()) == 1


def test_a_gift_that_arrives_in_time_is_no_incident(store, december):
    verified_gift(store, december, eta=dt.date(2026, 12, 20))
    assert grant_by_bot(store, december, "store_credit").status == "no_incident"


def test_a_conversation_that_never_verified_the_order_gets_nothing(store, december):
    verified_gift(store, december, eta=dt.date(2026, 12, 28), conversation="web:" + "d" * 32)
    assert grant_by_bot(store, december, "store_credit").status == "no_incident"


def test_the_bot_never_gives_above_its_own_limit(store, december):
    verified_gift(store, december, eta=dt.date(2026, 12, 28))
    generous = dataclasses.replace(december, goodwill_store_credit=december.goodwill_bot_limit + Decimal("0.01"))
    result = grant_by_bot(store, generous, "store_credit")
    assert (result.status, result.limit) == ("over_limit", december.goodwill_bot_limit)
    with store.session() as s:
        assert s.execute(select(GoodwillGesture)).first() is None


def test_a_shipping_upgrade_on_an_order_not_shipped_yet_changes_the_order(store, december):
    verified_gift(store, december, eta=dt.date(2026, 12, 28), status="processing")
    result = grant_by_bot(store, december, "shipping_upgrade")
    with store.session() as s:
        gesture = s.get(GoodwillGesture, result.gesture.id)
        assert gesture.value == SHIPPING_UPGRADE_PRICE
        assert gesture.order.shipping_method == goodwill.FASTER_SHIPPING
        assert goodwill.upgraded_order(gesture)


def test_free_gift_wrap_counts_at_its_price(store, december):
    verified_gift(store, december, eta=dt.date(2026, 12, 28))
    with store.session() as s:
        result = goodwill.grant_by_bot(s, CONVERSATION, "gift_wrap", december, december.now())
        assert result.gesture.value == gift_wrap_price(december)


def test_a_damaged_item_reported_in_the_conversation_is_an_incident(store, settings):
    with store.session() as s:
        customer = make_customer(s)
        order = make_order(s, customer, [(make_product(s), 1)])
        s.add(Return(rma="RMA-TEST1", order_id=order.id, kind="exchange", reason="damaged",
                     refund_method="none", conversation_id=CONVERSATION, created_at=settings.now()))
        number = order.number
    with store.session() as s:
        incident = goodwill.incident_for(s, CONVERSATION, settings)
        assert (incident.kind, incident.key) == ("damaged", f"damaged:{number}")


def test_a_handoff_for_frustration_is_an_incident(store, settings):
    with store.session() as s:
        customer = make_customer(s)
        handoff.open_ticket(s, Conversation(CONVERSATION, "socketio", []), "frustration", "angry",
                            customer_id=customer.id, settings=settings)
    with store.session() as s:
        assert goodwill.incident_for(s, CONVERSATION, settings).kind == "frustrated"


@pytest.mark.parametrize("value, level", [("bot", "bot"), ("agent", "agent"), ("supervisor", "supervisor")])
def test_each_level_is_the_lowest_whose_limit_covers_the_value(settings, value, level):
    assert goodwill.level_for(goodwill.limits(settings)[value], settings) == level
    over_all = goodwill.limits(settings)["supervisor"] + Decimal("0.01")
    assert goodwill.level_for(over_all, settings) is None


@pytest.mark.parametrize("typed, value", [("25", "25.00"), ("$12.5", "12.50"), ("1,000", "1000.00")])
def test_an_agents_typed_amount_is_read_as_money(typed, value):
    assert goodwill.parse_value(typed) == Decimal(value)


@pytest.mark.parametrize("typed", ["", "abc", "-5", "0", "NaN", "inf"])
def test_a_typed_amount_that_is_not_money_is_refused(typed):
    assert goodwill.parse_value(typed) is None
