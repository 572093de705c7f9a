"""Verified order look-up, tracking and cancellation, on SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.orders import lookup as orders
from bot.store.models import AuditEntry, Order, Product, Refund, VerificationAttempt
from tests.factories import make_customer, make_order, make_product, make_shipment

TODAY = dt.date(2026, 12, 10)


@pytest.fixture
def pinned(settings):
    return dataclasses.replace(settings, today_override=TODAY)


@pytest.fixture
def shop(store):
    """Two shoppers; Ann's shipped order with a complement in stock, Bob's processing order."""
    with store.session() as s:
        ann = make_customer(s, name="Ann Lee", email="ann.lee@example.com")
        bob = make_customer(s, name="Bob Ray", email="bob.ray@example.com")
        paints = make_product(s, name="Watercolor Set", price="32.00", stock=5)
        sketchbook = make_product(s, name="Sketchbook", price="14.00", stock=3)
        paints.complements.append(sketchbook)
        shipped = make_order(s, ann, items=[(paints, 1)], status="shipped", number="104217",
                             shipping_paid="5.00")
        make_shipment(s, shipped, carrier="UPS", eta=TODAY + dt.timedelta(days=3),
                      tracking_number="1Z999")
        processing = make_order(s, bob, items=[(paints, 2), (sketchbook, 1)], status="processing",
                                number="104300", shipping_paid="7.50")
    return {"shipped": "104217", "processing": "104300", "ann": "ann.lee@example.com",
            "bob": "bob.ray@example.com"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("104217", "104217"),
        ("where is order #104217 please", "104217"),
        ("order no. 104217, thanks", "104217"),
        ("it's # 104217", "104217"),
        ("I paid $12345 for it", None),
        ("bought in 2025", None),
        ("call me on +447994544339", None),
        ("my number is 555-867-7364", None),
        ("write to jo12345@example.com", None),
        ("it cost 1234.56", None),
        ("order#104217", "104217"),
        ("where is #5301?", "5301"),
        ("order#5301", "5301"),
        ("5301", None),
        ("bought in 2024", None),
        (" order #5301. ", "5301"),
        ("it&#8217;s late", None),
        ("#530", None),
        ("bought 2 in 2025, #5301 was one", "5301"),
        ("call 7700 now", None),
        ("(104217)", "104217"),
        ("", None),
        (None, None),
        ("x" * 100_000, None),
    ],
)
def test_parse_order_number(text, expected):
    assert orders.parse_order_number(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("5301", "5301"), (" 5301. ", "5301"), ("order 5301", "5301"), ("#5301", "5301"),
    ("104217", "104217"), ("in 2024", None), ("5301 5302", None), ("530", None), (None, None),
])
def test_a_bare_four_digit_reply_is_an_order_number(text, expected):
    assert orders.parse_order_number_reply(text) == expected


def test_parse_email_finds_the_address_in_a_sentence():
    assert orders.parse_email("sure, it's Ann.Lee@Example.com thanks") == "ann.lee@example.com"
    assert orders.parse_email("ann at example dot com") is None


def test_order_number_and_matching_email_verify(store, pinned, shop, conversation_id):
    with store.session() as s:
        result = orders.verify(s, conversation_id, shop["shipped"], "ANN.LEE@example.com", pinned)
    assert result.outcome == "verified"
    with store.session() as s:
        assert orders.verified_order(s, conversation_id, "#104217").number == "104217"


def test_someone_elses_order_gets_the_same_answer_as_a_missing_one(store, pinned, shop, conversation_id):
    with store.session() as s:
        wrong_owner = orders.verify(s, conversation_id, shop["shipped"], shop["bob"], pinned)
    with store.session() as s:
        missing = orders.verify(s, conversation_id, "999999", shop["bob"], pinned)
    assert (wrong_owner.outcome, missing.outcome) == ("mismatch", "mismatch")
    assert wrong_owner.attempts_left - 1 == missing.attempts_left
    with store.session() as s:
        assert orders.verified_order(s, conversation_id, shop["shipped"]) is None


def test_verification_locks_after_the_configured_failures(store, pinned, shop, conversation_id):
    outcomes = []
    for _ in range(pinned.max_verification_attempts):
        with store.session() as s:
            outcomes.append(orders.verify(s, conversation_id, shop["shipped"], shop["bob"], pinned).outcome)
    assert outcomes[-1] == "locked" and set(outcomes[:-1]) <= {"mismatch"}
    with store.reading() as s:
        assert orders.is_locked(s, conversation_id, pinned)
    with store.session() as s:
        late_correct = orders.verify(s, conversation_id, shop["shipped"], shop["ann"], pinned)
    assert late_correct.outcome == "locked"
    with store.session() as s:
        attempts = s.execute(select(VerificationAttempt)).scalars().all()
        assert len(attempts) == pinned.max_verification_attempts
        assert orders.verified_order(s, conversation_id, shop["shipped"]) is None


def test_verification_belongs_to_the_conversation_that_proved_it(store, pinned, shop, conversation_id):
    with store.session() as s:
        orders.verify(s, conversation_id, shop["shipped"], shop["ann"], pinned)
    with store.session() as s:
        assert orders.verified_order(s, "someone-else", shop["shipped"]) is None


def test_tracking_a_shipped_order(store, pinned, shop, conversation_id):
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == shop["shipped"])).scalar_one()
        info = orders.tracking(s, order, pinned)
    assert info.status_text == orders.STATUS_TEXT["shipped"]
    assert info.carrier == "UPS" and info.tracking_number == "1Z999"
    assert "1Z999" in info.tracking_url
    assert info.eta == TODAY + dt.timedelta(days=3)
    assert info.christmas_date == dt.date(2026, *pinned.christmas_delivery_day)
    assert info.arrives_by_christmas is True
    assert info.suggestion.name == "Sketchbook"


def test_tracking_says_when_christmas_will_be_missed(store, pinned, shop):
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == shop["shipped"])).scalar_one()
        order.shipment.eta = dt.date(2026, *pinned.christmas_delivery_day) + dt.timedelta(days=1)
        assert orders.tracking(s, order, pinned).arrives_by_christmas is False


def test_after_christmas_the_question_does_not_come_up(store, pinned, shop):
    boxing_day = dataclasses.replace(pinned, today_override=dt.date(2026, 12, 26))
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == shop["shipped"])).scalar_one()
        info = orders.tracking(s, order, boxing_day)
    assert info.christmas_date is None and info.arrives_by_christmas is None


def test_cancel_an_unshipped_order_refunds_all_and_restocks(store, pinned, shop, conversation_id):
    with store.session() as s:
        orders.verify(s, conversation_id, shop["processing"], shop["bob"], pinned)
    with store.session() as s:
        stock_before = {p.name: p.stock for p in s.execute(select(Product)).scalars()}
    with store.session() as s:
        result = orders.cancel(s, conversation_id, shop["processing"], pinned)
    assert result.outcome == "cancelled"
    assert result.amount == Decimal("32.00") * 2 + Decimal("14.00") + Decimal("7.50")
    with store.session() as s:
        again = orders.cancel(s, conversation_id, shop["processing"], pinned)
    assert again.outcome == "already_cancelled"
    with store.session() as s:
        stock_after = {p.name: p.stock for p in s.execute(select(Product)).scalars()}
        refunds = s.execute(select(Refund)).scalars().all()
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "order_cancelled")).scalars().all()
    assert stock_after == {"Watercolor Set": stock_before["Watercolor Set"] + 2,
                           "Sketchbook": stock_before["Sketchbook"] + 1}
    assert [r.amount for r in refunds] == [result.amount]
    assert len(audit) == 1


def test_a_shipped_order_cannot_be_cancelled(store, pinned, shop, conversation_id):
    with store.session() as s:
        orders.verify(s, conversation_id, shop["shipped"], shop["ann"], pinned)
    with store.session() as s:
        assert orders.cancel(s, conversation_id, shop["shipped"], pinned).outcome == "already_shipped"


def test_cancelling_needs_verification_even_with_the_right_number(store, pinned, shop, conversation_id):
    with store.session() as s:
        assert orders.cancel(s, conversation_id, shop["processing"], pinned).outcome == "not_verified"
    with store.session() as s:
        assert s.execute(select(Order.status).where(Order.number == shop["processing"])).scalar_one() == "processing"


# --- Issue #15: verified access expires after idle time and on restart.
def test_verified_access_expires_after_idle_time_and_use_refreshes_it(store, pinned, shop, conversation_id):
    noon = pinned.now()
    idle = dt.timedelta(minutes=pinned.verification_idle_minutes)
    with store.session() as s:
        orders.verify(s, conversation_id, shop["shipped"], shop["ann"], pinned, now=noon)
    with store.session() as s:
        used = noon + idle - dt.timedelta(minutes=1)
        assert orders.verified_order(s, conversation_id, shop["shipped"], pinned, now=used) is not None
    with store.session() as s:
        still = used + idle - dt.timedelta(minutes=1)
        assert orders.verified_order(s, conversation_id, shop["shipped"], pinned, now=still) is not None
    with store.session() as s:
        gone = still + idle + dt.timedelta(minutes=1)
        assert orders.verified_order(s, conversation_id, shop["shipped"], pinned, now=gone) is None
        assert orders.verification_expired(s, conversation_id, shop["shipped"], pinned, now=gone)
        assert not orders.verification_expired(s, "someone-else", shop["shipped"], pinned, now=gone)


def test_verification_ends_when_the_conversation_restarts(store, pinned, shop, conversation_id):
    with store.session() as s:
        orders.verify(s, conversation_id, shop["shipped"], shop["ann"], pinned)
    with store.session() as s:
        orders.verify(s, "other-chat", shop["shipped"], shop["ann"], pinned)
    with store.session() as s:
        assert orders.forget_verifications(s, conversation_id) == 1
    with store.session() as s:
        assert orders.verified_order(s, conversation_id, shop["shipped"], pinned) is None
        assert orders.verified_order(s, "other-chat", shop["shipped"], pinned) is not None
    with store.session() as s:
        assert orders.cancel(s, conversation_id, shop["shipped"], pinned).outcome == "not_verified"



def test_callers_without_settings_get_the_idle_expiry_too(store, shop, conversation_id):
    """Returns, refunds and loyalty call verified_order without settings: the running settings apply."""
    from bot.settings import get_settings
    from bot.store.models import VerifiedOrder

    running = get_settings()
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == shop["shipped"])).scalar_one()
        stale = running.now() - dt.timedelta(minutes=running.verification_idle_minutes + 1)
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=stale))
    with store.session() as s:
        assert orders.verified_order(s, conversation_id, shop["shipped"]) is None
        assert orders.verification_expired(s, conversation_id, shop["shipped"])
