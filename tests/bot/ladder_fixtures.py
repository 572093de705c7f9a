"""The order the refund-ladder tests start from: delivered on an ordinary day (standard return
window, no holiday extension), verified, and optionally already partly refunded, because the
ladder counts every refund given before."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Sequence

from bot.conversation import Conversation
from bot.returns import return_request
from bot.store.models import Refund, VerifiedOrder
from tests.factories import make_customer, make_order, make_product, make_shipment

DAY = dt.timedelta(days=1)


def ordinary_day(settings) -> dt.date:
    """A purchase date just after the holiday purchase period (standard return window)."""
    return dt.date(2025, *settings.holiday_purchase_end) + DAY


def delivered_verified_order(
    store,
    conversations: Sequence[str],
    settings,
    prices,
    *,
    shipping_paid,
    delivered_after: dt.timedelta = DAY,
    days_late: int = 0,
    earlier_refund=None,
) -> tuple[str, int]:
    """An order with one item per price, placed on `ordinary_day`, delivered `delivered_after`
    later (`days_late` after its promised day) and verified by every conversation given;
    `earlier_refund` adds an issued goodwill refund of that amount. (number, id)."""
    placed = ordinary_day(settings)
    delivered = placed + delivered_after
    with store.session() as s:
        items = [(make_product(s, name=f"Gift {n}", price=p), 1, Decimal(p)) for n, p in enumerate(prices, 1)]
        order = make_order(
            s, make_customer(s), items=items, shipping_paid=shipping_paid,
            placed_at=dt.datetime.combine(placed, dt.time(9)),
        )
        make_shipment(
            s, order, eta=delivered - days_late * DAY, delivered_at=dt.datetime.combine(delivered, dt.time(12))
        )
        for conversation in conversations:
            s.add(VerifiedOrder(conversation_id=conversation, order_id=order.id, verified_at=order.placed_at,
                              last_used_at=dt.datetime.now()))
        if earlier_refund is not None:
            s.add(
                Refund(
                    order_id=order.id, amount=Decimal(earlier_refund), reason="goodwill", method="original_payment",
                    status="issued", required_level="bot", idempotency_key=f"order:{order.id}:goodwill",
                    decided_by="bot", decided_at=order.placed_at, created_at=order.placed_at,
                )
            )
        return order.number, order.id


def refund_ticket(store, settings, conversation_id: str, price) -> int:
    """A delivered, verified one-item order whose return refund waits for a person; the ticket's id."""
    placed = ordinary_day(settings)
    with store.session() as s:
        order = make_order(
            s, make_customer(s), items=[(make_product(s, price=price), 1)],
            placed_at=dt.datetime.combine(placed, dt.time(9)),
        )
        make_shipment(s, order, eta=placed, delivered_at=dt.datetime.combine(placed, dt.time(17)))
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=order.placed_at,
                              last_used_at=dt.datetime.now()))
        number = order.number
    today = dataclasses.replace(settings, today_override=placed + DAY)
    with store.session() as s:
        return return_request.start_return(
            s, Conversation(conversation_id), number, None, "damaged", settings=today
        ).refund.ticket_id
