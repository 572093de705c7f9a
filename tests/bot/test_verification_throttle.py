"""Order-number guessing across conversations is throttled in the database (issue #15),
on SQLite and PostgreSQL. Times are passed explicitly: nothing sleeps."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from bot.orders import lookup as orders, verification_throttle
from bot.store.models import AuditEntry, VerificationFailure
from tests.factories import make_customer, make_order, make_product

TODAY = dt.date(2026, 12, 10)
NOON = dt.datetime.combine(TODAY, dt.time(12, 0))


@pytest.fixture
def pinned(settings):
    return dataclasses.replace(settings, today_override=TODAY)


@pytest.fixture
def shop(store):
    with store.session() as s:
        liam = make_customer(s, name="Liam Carter", email="liam.carter@example.com")
        mia = make_customer(s, name="Mia Johnson", email="mia.johnson@example.com")
        socks = make_product(s, name="Wool Socks", price="12.00", stock=5)
        make_order(s, liam, items=[(socks, 1)], status="shipped", number="104776")
        make_order(s, mia, items=[(socks, 1)], status="processing", number="104802")


def guess_from_many_conversations(store, settings, at):
    """18 wrong emails for 104776 spread over 6 conversations (3 each, the per-chat budget)."""
    for n in range(18):
        with store.session() as s:
            orders.verify(s, f"attacker-{n // 3}", "104776", f"guess{n}@example.com", settings,
                          client="rest", now=at)


def test_right_pair_is_refused_inside_the_window_and_allowed_after_it(store, pinned, shop):
    guess_from_many_conversations(store, pinned, NOON)
    with store.session() as s:
        inside = orders.verify(s, "owner", "104776", "liam.carter@example.com", pinned,
                               client="webchat", now=NOON + dt.timedelta(minutes=1))
    assert inside.outcome == "throttled"
    with store.session() as s:
        assert orders.verified_order(s, "owner", "104776") is None
    after = NOON + dt.timedelta(minutes=pinned.guess_window_minutes + 2)
    with store.session() as s:
        later = orders.verify(s, "owner-later", "104776", "liam.carter@example.com", pinned,
                              client="webchat", now=after)
    assert later.outcome == "verified"


def test_another_order_is_unaffected(store, pinned, shop):
    guess_from_many_conversations(store, pinned, NOON)
    with store.session() as s:
        result = orders.verify(s, "mia", "104802", "mia.johnson@example.com", pinned,
                               client="webchat", now=NOON)
    assert result.outcome == "verified"


def test_one_mistype_then_the_right_pair_gets_in(store, pinned, shop):
    with store.session() as s:
        first = orders.verify(s, "liam", "104776", "liam.cartr@example.com", pinned, client="webchat", now=NOON)
    with store.session() as s:
        second = orders.verify(s, "liam", "104776", "liam.carter@example.com", pinned, client="webchat", now=NOON)
    assert (first.outcome, second.outcome) == ("mismatch", "verified")


def test_guessing_one_email_across_orders_is_throttled(store, pinned, shop):
    for n in range(pinned.guess_limit_per_email):
        with store.session() as s:
            orders.verify(s, f"c{n}", f"2000{n:02d}", "mia.johnson@example.com", pinned, client=f"x{n}", now=NOON)
    with store.session() as s:
        assert orders.verify(s, "mia", "104802", "mia.johnson@example.com", pinned,
                             client="webchat", now=NOON).outcome == "throttled"


def test_one_client_guessing_many_orders_is_throttled(store, pinned, shop):
    for n in range(pinned.guess_limit_per_client):
        with store.session() as s:
            orders.verify(s, f"c{n}", f"3000{n:02d}", f"g{n}@example.com", pinned, client="bad-client", now=NOON)
    with store.session() as s:
        assert orders.verify(s, "z", "104802", "mia.johnson@example.com", pinned,
                             client="bad-client", now=NOON).outcome == "throttled"
    with store.session() as s:
        assert orders.verify(s, "y", "104802", "mia.johnson@example.com", pinned,
                             client="good-client", now=NOON).outcome == "verified"


def test_failures_are_audited_without_the_raw_email(store, pinned, shop):
    guess_from_many_conversations(store, pinned, NOON)
    with store.session() as s:
        orders.verify(s, "owner", "104776", "liam.carter@example.com", pinned, client="rest", now=NOON)
    with store.session() as s:
        entries = s.execute(select(AuditEntry)).scalars().all()
        failures = s.execute(select(VerificationFailure)).scalars().all()
        actions = [e.action for e in entries]
        assert actions.count(verification_throttle.VERIFICATION_FAILED) >= 1
        assert actions[-1] == verification_throttle.VERIFICATION_THROTTLED
        assert all("liam.carter@example.com" not in e.detail and "guess1@" not in e.detail for e in entries)
        assert "l***@example.com" in entries[-1].detail
        assert failures[-1].email_hash == verification_throttle.email_hash("liam.carter@example.com")
        assert len(failures[-1].email_hash) == 64


@pytest.mark.parametrize("client", ["127.0.0.1", "::1", "[::1]", "0.0.0.0", "", None])
def test_the_machines_own_address_is_no_client_bucket(client):
    """A local caller, or a proxy Rasa was not told to trust, would put every shopper in one."""
    assert verification_throttle.client_bucket("rest", client) == ""


@pytest.mark.parametrize("client", ["203.0.113.7", "2001:db8::1", "[2001:db8::1]", "10.1.2.3"])
def test_a_callers_own_address_is_its_bucket_within_its_channel(client):
    assert verification_throttle.client_bucket("socketio", client) == f"socketio:{client}"
