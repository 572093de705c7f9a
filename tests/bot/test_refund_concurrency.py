"""Real parallel requests (threads, each with its own session) on SQLite and PostgreSQL.

Shoppers double-click, retry, and write from two devices at once; agents click "approve"
together. Whatever the interleaving, an order gets one refund per thing refunded, never more
than it paid, and the ladder counts every refund given before it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.money import audit, refunds
from bot.returns import exchange_request, problem_report, return_request
from bot.store.models import AuditEntry, HandoffTicket, Product, Refund, Return, ReturnItem, VerifiedOrder
from bot.support import handoff
from tests.bot.ladder_fixtures import delivered_verified_order, ordinary_day
from tests.factories import make_customer, make_order, make_product, make_shipment

N = 8
DAY = dt.timedelta(days=1)


def in_parallel(calls):
    """Runs the calls on their own threads, released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, c) for c in calls]]


def on_its_own(store, request, *args, **kwargs):
    """One request in its own unit of work, as one action server worker (or console route) runs it."""
    with store.session() as s:
        return request(s, *args, **kwargs)


def today(settings):
    return dataclasses.replace(settings, today_override=ordinary_day(settings) + 3 * DAY)


def order_for(store, conversations, settings, prices, shipping_paid="10.00", earlier_refund=None, late=False) -> tuple[str, int]:
    """A delivered order with one item per price, verified by every conversation given."""
    return delivered_verified_order(
        store, conversations, settings, prices, shipping_paid=shipping_paid, delivered_after=2 * DAY,
        days_late=1 if late else 0, earlier_refund=earlier_refund,
    )


def count(store, model, *where):
    with store.session() as s:
        return s.execute(select(func.count(model.id)).where(*where)).scalar_one()


def test_the_same_return_asked_eight_times_at_once_refunds_once(store, settings, conversation_id):
    number, order_id = order_for(store, [conversation_id], settings, ["30.00"])

    outcomes = in_parallel(
        [lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, None, "changed_mind", settings=today(settings))] * N
    )

    assert sorted(o.status for o in outcomes) == ["already_created"] * (N - 1) + ["created"]
    assert len({o.rma for o in outcomes}) == 1
    assert len({o.refund.refund_id for o in outcomes}) == 1
    assert count(store, Refund, Refund.order_id == order_id) == 1
    assert count(store, Return, Return.order_id == order_id) == 1


def test_two_conversations_returning_the_same_item_at_once_refund_once(store, settings, conversation_id):
    conversations = [f"{conversation_id}-{n}" for n in range(N)]
    number, order_id = order_for(store, conversations, settings, ["30.00"])

    outcomes = in_parallel(
        [
            (lambda c=c: on_its_own(store, return_request.start_return, Conversation(c), number, None, "changed_mind", settings=today(settings)))
            for c in conversations
        ]
    )

    assert [o.status for o in outcomes].count("created") == 1
    assert count(store, Refund, Refund.order_id == order_id) == 1
    with store.session() as s:
        assert s.execute(select(func.sum(Refund.amount))).scalar_one() == Decimal("30.00")


def test_late_delivery_compensation_asked_eight_times_at_once_is_paid_once(store, settings, conversation_id):
    number, order_id = order_for(store, [conversation_id], settings, ["30.00"], shipping_paid="9.95", late=True)

    outcomes = in_parallel(
        [lambda: on_its_own(store, problem_report.report_problem, Conversation(conversation_id), number, "late", settings=today(settings))] * N
    )

    assert sorted(o.status for o in outcomes) == ["already_remedied"] * (N - 1) + ["remedied"]
    assert count(store, Refund, Refund.order_id == order_id) == 1
    assert {o.refund.amount for o in outcomes} == {Decimal("9.95")}


def test_an_escalated_refund_asked_at_once_opens_one_refund_and_one_ticket(store, settings, conversation_id):
    number, order_id = order_for(store, [conversation_id], settings, [settings.bot_refund_limit + Decimal("0.01")])

    outcomes = in_parallel(
        [lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, None, "damaged", settings=today(settings))] * N
    )

    assert {o.refund.status for o in outcomes} == {"pending_review"}
    assert len({o.refund.ticket_id for o in outcomes}) == 1
    assert count(store, Refund, Refund.order_id == order_id) == 1
    assert count(store, HandoffTicket, HandoffTicket.conversation_id == conversation_id) == 1


def test_different_requests_at_once_never_refund_more_than_was_paid(store, settings, conversation_id):
    # 30 + 25 + 20 + 10 shipping = 85 paid; 40 already given back, so at most 45 more.
    number, order_id = order_for(
        store, [conversation_id], settings, ["30.00", "25.00", "20.00"], shipping_paid="10.00",
        earlier_refund="40.00", late=True,
    )
    day = today(settings)
    requests = [
        lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, ["1"], "changed_mind", settings=day),
        lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, ["2"], "changed_mind", settings=day),
        lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, ["3"], "changed_mind", settings=day),
        lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, ["1", "2"], "wrong_size", settings=day),
        lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, ["all"], "unwanted_gift", settings=day),
        lambda: on_its_own(store, problem_report.report_problem, Conversation(conversation_id), number, "late", settings=day),
        lambda: on_its_own(store, problem_report.report_problem, Conversation(conversation_id), number, "damaged", ["3"], prefer="refund", settings=day),
        lambda: on_its_own(store, problem_report.report_problem, Conversation(conversation_id), number, "missing", ["2"], prefer="refund", settings=day),
    ]

    in_parallel(requests)

    with store.session() as s:
        committed = refunds.refunded(s, order_id, refunds.COMMITTED)
        items_returned = s.execute(select(ReturnItem.order_item_id)).scalars().all()
    assert committed <= Decimal("85.00")
    assert len(items_returned) == len(set(items_returned))


def test_two_refunds_at_once_climb_the_ladder_together(store, settings, conversation_id):
    # Each half fits the bot's limit alone; together they do not, whichever comes first.
    half = (settings.bot_refund_limit / 2 + 1).quantize(Decimal("0.01"))
    number, order_id = order_for(store, [conversation_id], settings, [half, half])
    day = today(settings)

    outcomes = in_parallel(
        [
            lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, ["1"], "changed_mind", settings=day),
            lambda: on_its_own(store, return_request.start_return, Conversation(conversation_id), number, ["2"], "changed_mind", settings=day),
        ]
    )

    assert sorted(o.refund.status for o in outcomes) == ["issued", "pending_review"]


def test_two_exchanges_for_the_last_unit_reserve_it_once(store, settings, conversation_id):
    placed = ordinary_day(settings)
    conversations = [f"{conversation_id}-{n}" for n in range(N)]
    numbers = []
    with store.session() as s:
        medium = make_product(s, name="Elf Pyjamas", price="35.00", style="ELF", size="M", stock=5)
        large = make_product(s, name="Elf Pyjamas", price="35.00", style="ELF", size="L", stock=1)
        large_id = large.id
        for conversation in conversations:
            order = make_order(s, make_customer(s), items=[(medium, 1)], placed_at=dt.datetime.combine(placed, dt.time(9)))
            make_shipment(s, order, eta=placed + DAY, delivered_at=dt.datetime.combine(placed + DAY, dt.time(9)))
            s.add(VerifiedOrder(conversation_id=conversation, order_id=order.id, verified_at=order.placed_at,
                              last_used_at=dt.datetime.now()))
            numbers.append(order.number)

    outcomes = in_parallel(
        [
            (lambda c=c, n=n: on_its_own(store, exchange_request.start_exchange, Conversation(c), n, None, "wrong_size", size="L", settings=today(settings)))
            for c, n in zip(conversations, numbers)
        ]
    )

    assert sorted(o.status for o in outcomes) == ["created"] + ["out_of_stock"] * (N - 1)
    with store.session() as s:
        assert s.get(Product, large_id).stock == 0


def test_two_agents_approving_at_once_approve_once(store, settings, conversation_id):
    number, _ = order_for(store, [conversation_id], settings, [settings.bot_refund_limit + Decimal("0.01")])
    with store.session() as s:
        refund_id = return_request.start_return(s, Conversation(conversation_id), number, None, "damaged", settings=today(settings)).refund.refund_id

    reviews = in_parallel(
        [
            (lambda a=a: on_its_own(store, refunds.approve, refund_id, a, settings.agent_refund_limit, settings))
            for a in [f"agent{n}" for n in range(N)]
        ]
    )

    assert sorted(r.outcome for r in reviews) == ["already_decided"] * (N - 1) + ["approved"]
    assert count(store, AuditEntry, AuditEntry.refund_id == refund_id, AuditEntry.action == audit.REFUND_APPROVED) == 1


def test_eight_handoff_requests_at_once_open_one_ticket(store, settings, conversation_id):
    results = in_parallel(
        [
            (lambda: on_its_own(store, handoff.open_ticket, Conversation(conversation_id, "rest", []), "asked_for_human",
                                "wants a person", settings=settings))
        ]
        * N
    )

    assert [created for _, created in results].count(True) == 1
    assert len({t.id for t, _ in results}) == 1
    assert count(store, HandoffTicket, HandoffTicket.conversation_id == conversation_id) == 1
