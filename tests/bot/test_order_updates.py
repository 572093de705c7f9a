"""Proactive order updates (issue #18): who is told, once per change, delivered once by any
number of runners, retried with back-off when the channel refuses, and late gifts found."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from bot.cli.order_updates import return_received_command, update_order_command
from bot.cli.reminders import send_updates_through_rasa
from bot.conversation import Conversation
from bot.engagement import late_gifts, order_updates
from bot.money import refunds
from bot.orders import lookup
from bot.store.models import GiftArrivalCheck, Order, OrderUpdate, Return, VerifiedOrder
from bot.support import handoff
from tests.bot.test_handoff import fake_rasa  # noqa: F401 - a fixture
from tests.factories import make_customer, make_order, make_product, make_shipment

NOW = dt.datetime(2026, 12, 10, 12, 0)


@pytest.fixture
def config(settings):
    return dataclasses.replace(settings, today_override=NOW.date())


class Recorder:
    """A sender that remembers what it delivered, optionally refusing or slow."""

    def __init__(self, fail: Exception | None = None, delay: float = 0.0):
        self.sent: list[order_updates.DueUpdate] = []
        self.fail = fail
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, due: order_updates.DueUpdate) -> None:
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        with self.lock:
            self.sent.append(due)


def placed_order(store, status="processing", is_gift=False, eta=None, number=None) -> str:
    with store.session() as s:
        customer = make_customer(s)
        order = make_order(s, customer, [(make_product(s, price="30.00"), 1)], status=status, is_gift=is_gift,
                           shipping_paid="7.00", number=number)
        if status != "processing":
            make_shipment(s, order, eta=eta)
        return order.number


def verify(store, conversation_id: str, number: str, at: dt.datetime = NOW) -> None:
    """The conversation proved it owns the order (as lookup.verify records it)."""
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=at, last_used_at=at))


def updates(store) -> list[tuple[str, str, str]]:
    with store.session() as s:
        return [(u.conversation_id, u.kind, u.status)
                for u in s.execute(select(OrderUpdate).order_by(OrderUpdate.id)).scalars()]


def mark(store, number, status, config, tracking=None) -> list[int]:
    with store.session() as s:
        return order_updates.set_order_status(s, number, status, NOW, tracking)[1]


# ------------------------------------------------------------------ who is told


def test_every_conversation_that_verified_the_order_is_told_even_long_ago(store, config):
    number = placed_order(store)
    verify(store, "web:a", number, at=NOW - dt.timedelta(days=40))
    verify(store, "telegram:b", number)
    other = placed_order(store)
    verify(store, "web:other", other)
    assert len(mark(store, number, "shipped", config, tracking="1Z1")) == 2
    assert updates(store) == [("web:a", "shipped", "scheduled"), ("telegram:b", "shipped", "scheduled")]


def test_an_opted_out_conversation_hears_nothing_until_it_opts_back_in(store, config):
    number = placed_order(store)
    verify(store, "web:a", number)
    with store.session() as s:
        assert order_updates.opt_out(s, "web:a", NOW) is True
        assert order_updates.opt_out(s, "web:a", NOW) is False
    assert mark(store, number, "shipped", config) == []
    with store.session() as s:
        assert order_updates.opt_in(s, "web:a") is True
    assert len(mark(store, number, "out_for_delivery", config)) == 1


def test_stopping_drops_what_was_queued_and_not_yet_sent(store, config):
    number = placed_order(store)
    verify(store, "web:a", number)
    mark(store, number, "shipped", config)
    with store.session() as s:
        order_updates.opt_out(s, "web:a", NOW)
    assert updates(store) == [("web:a", "shipped", "cancelled")]
    assert order_updates.deliver_due(store, Recorder(), NOW, config).sent == []


def test_the_same_change_twice_adds_nothing_but_a_new_delay_date_is_news(store, config):
    number = placed_order(store, status="shipped", eta=NOW.date() + dt.timedelta(days=3))
    verify(store, "web:a", number)
    assert len(mark(store, number, "delayed", config)) == 1
    assert mark(store, number, "delayed", config) == []
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        order.shipment.eta += dt.timedelta(days=4)
        assert len(order_updates.queue_status_update(s, order, NOW)) == 1


def test_an_unknown_order_or_return_is_refused_and_writes_nothing(store, config, capsys):
    assert update_order_command("999999", "shipped", store=store, settings=config) == 2
    assert return_received_command("RMA-NOPE", store=store, settings=config) == 2
    assert "no order 999999" in capsys.readouterr().err
    assert updates(store) == []


def test_the_cli_changes_the_order_and_queues_in_one_unit_of_work(store, config, capsys):
    number = placed_order(store)
    verify(store, "web:a", number)
    assert update_order_command(number, "shipped", tracking="1ZNEW", carrier="UPS", store=store, settings=config) == 0
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        assert (order.status, order.shipment.tracking_number, order.shipment.status) == ("shipped", "1ZNEW", "shipped")
    assert updates(store) == [("web:a", "shipped", "scheduled")]
    assert "1 update(s) queued" in capsys.readouterr().out


def test_a_received_return_is_told_once(store, config):
    number = placed_order(store, status="delivered")
    verify(store, "web:a", number)
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        s.add(Return(rma="RMA-T1", order_id=order.id, kind="return", reason="changed_mind",
                     refund_method="original_payment", status="open", created_at=NOW))
    assert return_received_command("rma-t1", store=store, settings=config) == 0
    assert return_received_command("RMA-T1", store=store, settings=config) == 0
    assert updates(store) == [("web:a", "return_received", "scheduled")]


# ------------------------------------------------------------------ the hooks


def test_a_refund_issued_tells_the_other_conversations_once(store, config):
    number = placed_order(store, status="delivered")
    verify(store, "web:asker", number)
    verify(store, "telegram:other", number)
    for _ in range(2):  # asked twice: one refund, one update
        with store.session() as s:
            order = refunds.lock_order(s, s.execute(select(Order.id).where(Order.number == number)).scalar_one())
            outcome = refunds.refund_shipping(s, order, reason="late_delivery",
                                              conversation=Conversation("web:asker", "socketio", []), settings=config)
    assert outcome.status == "issued"
    assert updates(store) == [("telegram:other", "refund_paid", "scheduled")]


def test_a_shopify_fulfillment_queues_one_update_and_a_duplicate_none(store, config):
    from bot.order_sources.shopify_webhooks import ShopifyWebhooks
    from bot.settings import load_settings
    from tests.shopify_webhook_payloads import TEST_SECRET, fulfillment_payload, order_payload, shopify_time, signed

    handler = ShopifyWebhooks(store, load_settings({"DATABASE_URL": store.url, "SHOPIFY_WEBHOOK_SECRET": TEST_SECRET}))
    now = shopify_time(handler.clock().replace(microsecond=0, tzinfo=dt.timezone.utc))

    def deliver(topic, payload, webhook_id):
        headers, body = signed(topic, payload, webhook_id=webhook_id, triggered_at=now)
        return handler.handle(handler.read(headers, body))

    assert deliver("orders/create", order_payload(), "wh-1") == "applied"
    verify(store, "web:a", "5301")
    assert deliver("fulfillments/create", fulfillment_payload(), "wh-2") == "applied"
    assert deliver("fulfillments/create", fulfillment_payload(), "wh-2") == "duplicate"
    assert deliver("fulfillments/update", fulfillment_payload(), "wh-3") == "unchanged"
    assert updates(store) == [("web:a", "shipped", "scheduled")]


# ------------------------------------------------------------------ delivery


def test_a_due_update_is_sent_once_through_the_sender(store, config):
    number = placed_order(store)
    verify(store, "web:a", number)
    (update_id,) = mark(store, number, "shipped", config)
    send = Recorder()
    assert order_updates.deliver_due(store, send, NOW, config).sent == [update_id]
    assert order_updates.deliver_due(store, send, NOW + dt.timedelta(hours=1), config).sent == []
    assert [(d.id, d.intent, d.entities) for d in send.sent] == [
        (update_id, "EXTERNAL_order_update", {"update_id": update_id})]


def test_a_refusing_channel_is_retried_with_growing_delays_then_given_up(store, config):
    number = placed_order(store)
    verify(store, "telegram:1", number)
    (update_id,) = mark(store, number, "shipped", config)
    refusing = Recorder(fail=order_updates.Refused("Rasa answered 500: bot was blocked by the user"))
    at, waits = NOW, []
    for attempt in range(len(order_updates.RETRY_DELAYS_MINUTES) + 1):
        report = order_updates.deliver_due(store, refusing, at, config)
        with store.session() as s:
            row = s.get(OrderUpdate, update_id)
            status, next_at, error = row.status, row.next_attempt_at, row.last_error
        assert "blocked" in error
        if status == "failed":
            break
        assert report.retrying == [update_id]
        assert order_updates.deliver_due(store, refusing, next_at - dt.timedelta(seconds=1), config).retrying == []
        waits.append(next_at - at)
        at = next_at
    assert status == "failed" and report.failed == [update_id]
    assert waits == [dt.timedelta(minutes=m) for m in order_updates.RETRY_DELAYS_MINUTES]
    assert waits == sorted(waits)


def test_a_refused_send_after_the_action_stamped_it_is_said_again_on_retry(store, config):
    number = placed_order(store)
    verify(store, "telegram:1", number)
    (update_id,) = mark(store, number, "shipped", config)

    def says_then_refused(due):
        with store.session() as s:  # the action said it, then the channel refused the message
            assert order_updates.take_for_saying(s, due.conversation_id, due.id, NOW) is not None
        raise order_updates.Refused("Rasa answered 500")

    order_updates.deliver_due(store, says_then_refused, NOW, config)
    retry_at = NOW + dt.timedelta(minutes=order_updates.RETRY_DELAYS_MINUTES[0])
    said = []

    def says(due):
        with store.session() as s:
            said.append(order_updates.take_for_saying(s, due.conversation_id, due.id, retry_at) is not None)

    assert order_updates.deliver_due(store, says, retry_at, config).sent == [update_id]
    assert said == [True]


def test_an_update_waits_while_a_person_has_the_conversation(store, config):
    number = placed_order(store)
    verify(store, "web:a", number)
    mark(store, number, "shipped", config)
    with store.session() as s:
        handoff.open_ticket(s, Conversation("web:a", "socketio", []), "asked_for_human", "wants a person",
                            settings=config)
    report = order_updates.deliver_due(store, Recorder(), NOW, config)
    assert report.sent == [] and len(report.waiting_for_agent) == 1


def test_a_stale_claim_is_retaken_but_the_action_says_nothing_twice(store, config):
    number = placed_order(store)
    verify(store, "web:a", number)
    (update_id,) = mark(store, number, "shipped", config)
    with store.session() as s:  # a runner claimed it, Rasa said it, and the runner died
        row = s.get(OrderUpdate, update_id)
        row.status, row.claimed_at = "sending", NOW
        assert order_updates.take_for_saying(s, "web:a", update_id, NOW) is not None
    said = []

    def says(due):
        with store.session() as s:
            said.append(order_updates.take_for_saying(s, due.conversation_id, due.id, NOW) is not None)

    assert order_updates.deliver_due(store, says, NOW + dt.timedelta(minutes=1), config).sent == []
    later = NOW + order_updates.STALE_CLAIM + dt.timedelta(seconds=1)
    assert order_updates.deliver_due(store, says, later, config).sent == [update_id]
    assert said == [False]


def test_a_typed_update_id_says_nothing(store, config):
    number = placed_order(store)
    verify(store, "web:a", number)
    (update_id,) = mark(store, number, "shipped", config)
    with store.session() as s:
        assert order_updates.take_for_saying(s, "web:a", update_id, NOW) is None  # scheduled, not being sent
        assert order_updates.take_for_saying(s, "web:a", "3; drop table", NOW) is None
    order_updates.deliver_due(store, lambda due: None, NOW, config)
    with store.session() as s:
        assert order_updates.take_for_saying(s, "web:a", update_id, NOW) is None  # sent already


def test_two_runners_at_once_send_each_update_once(store, config):
    for n in range(6):
        number = placed_order(store)
        verify(store, f"shopper-{n}", number)
        mark(store, number, "shipped", config)
    send = Recorder(delay=0.05)
    runners = [threading.Thread(target=order_updates.deliver_due, args=(store, send, NOW, config)) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert sorted(d.conversation_id for d in send.sent) == [f"shopper-{n}" for n in range(6)]
    assert {status for _, _, status in updates(store)} == {"sent"}


def test_the_runner_fires_the_external_intent_and_treats_an_error_answer_as_refused(
    store, config, fake_rasa  # noqa: F811
):
    url, calls = fake_rasa
    number = placed_order(store)
    verify(store, "telegram:42", number)
    (update_id,) = mark(store, number, "shipped", config)
    through = dataclasses.replace(config, rasa_url=url)
    assert order_updates.deliver_due(store, send_updates_through_rasa(through), NOW, through).sent == [update_id]
    path, query, body = calls[0]
    assert path == "/conversations/telegram:42/trigger_intent" and query == {"output_channel": "latest"}
    assert body == {"name": "EXTERNAL_order_update", "entities": {"update_id": update_id}}


def test_an_unreachable_rasa_is_retried(store, config, dead_rasa_url):
    number = placed_order(store)
    verify(store, "telegram:42", number)
    mark(store, number, "shipped", config)
    through = dataclasses.replace(config, rasa_url=dead_rasa_url)
    report = order_updates.deliver_due(store, send_updates_through_rasa(through), NOW, through)
    assert report.sent == [] and len(report.retrying) == 1


# ------------------------------------------------------------------ late gifts


def christmas(config) -> dt.date:
    return lookup.christmas_date_for(NOW.date(), config)


def delay(store, number, eta):
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        order.status, order.shipment.eta = "delayed", eta


def test_a_watched_gift_turning_late_is_told_once_per_season(store, config):
    number = placed_order(store, status="shipped", is_gift=True, eta=christmas(config) - dt.timedelta(days=1))
    verify(store, "web:a", number)
    with store.session() as s:
        assert late_gifts.recheck(s, NOW, config) == []  # arrives the day before: in time
    hours = dt.timedelta(hours=config.order_update_recheck_hours)
    delay(store, number, christmas(config))  # a new ETA is checked at once: still in time, on the day
    with store.session() as s:
        assert late_gifts.recheck(s, NOW + dt.timedelta(minutes=1), config) == []
    with store.session() as s:
        late = s.execute(select(Order).where(Order.number == number)).scalar_one()
        late.shipment.eta = christmas(config) + dt.timedelta(days=1)
    with store.session() as s:
        assert len(late_gifts.recheck(s, NOW + dt.timedelta(minutes=2), config)) == 1
    with store.session() as s:
        assert late_gifts.recheck(s, NOW + 2 * hours, config) == []  # re-checked, still late: told already
        assert s.execute(select(GiftArrivalCheck.arrives_in_time)).scalar_one() is False
    assert updates(store) == [("web:a", "late_gift", "scheduled")]


def test_an_unchanged_eta_is_rechecked_only_every_recheck_hours(store, config):
    number = placed_order(store, status="shipped", is_gift=True, eta=christmas(config))
    verify(store, "web:a", number)
    with store.session() as s:
        assert late_gifts.recheck(s, NOW, config) == []
    hours = dt.timedelta(hours=config.order_update_recheck_hours)
    # The season's delivery day moves (a setting) without the parcel's ETA changing.
    earlier = dataclasses.replace(config, christmas_delivery_day=(christmas(config).month, christmas(config).day - 1))
    with store.session() as s:
        assert late_gifts.recheck(s, NOW + hours - dt.timedelta(minutes=1), earlier) == []
    with store.session() as s:
        assert len(late_gifts.recheck(s, NOW + hours, earlier)) == 1


def test_unwatched_or_non_gift_orders_are_not_rechecked(store, config):
    late = christmas(config) + dt.timedelta(days=2)
    placed_order(store, status="delayed", is_gift=True, eta=late)  # nobody asked about it
    verify(store, "web:a", placed_order(store, status="delayed", is_gift=False, eta=late))
    with store.session() as s:
        assert late_gifts.recheck(s, NOW, config) == []
        assert s.execute(select(func.count(GiftArrivalCheck.id))).scalar_one() == 0
