"""Returns, exchanges and problem reports: what a shopper can send back, when, and what happens."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.returns import eligibility, exchange_request, problem_report, return_request, variants
from bot.store.models import Product, Refund, Return, VerifiedOrder
from tests.factories import make_customer, make_order, make_product, make_shipment

DAY = dt.timedelta(days=1)


def on(settings, day: dt.date):
    """The settings with the store's date pinned to `day`."""
    return dataclasses.replace(settings, today_override=day)


def outside_holidays(settings) -> dt.date:
    """A purchase date just after the holiday purchase period."""
    return dt.date(2025, *settings.holiday_purchase_end) + DAY


def build_order(
    store,
    conversation_id,
    *,
    placed: dt.date,
    delivered: dt.date | None,
    lines=(("Red Wool Scarf", "30.00", 1, False),),
    shipping_paid="6.00",
    is_gift=False,
    eta: dt.date | None = None,
) -> str:
    """A verified order with (name, unit price, quantity, final_sale) lines; its number."""
    with store.session() as s:
        shopper = make_customer(s)
        items = [
            (make_product(s, name=name, price=price, final_sale=final_sale), qty, Decimal(price))
            for name, price, qty, final_sale in lines
        ]
        order = make_order(
            s,
            shopper,
            items=items,
            status="delivered" if delivered else "shipped",
            placed_at=dt.datetime.combine(placed, dt.time(10)),
            shipping_paid=shipping_paid,
            is_gift=is_gift,
        )
        make_shipment(
            s,
            order,
            eta=eta or (delivered or placed + 5 * DAY),
            delivered_at=dt.datetime.combine(delivered, dt.time(15)) if delivered else None,
        )
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=order.placed_at,
                              last_used_at=dt.datetime.now()))
        return order.number


# ------------------------------------------------------------------ the return window


def test_a_return_on_the_windows_last_day_is_accepted(store, settings, conversation_id):
    placed = outside_holidays(settings)
    delivered = placed + 3 * DAY
    number = build_order(store, conversation_id, placed=placed, delivered=delivered)
    last_day = delivered + dt.timedelta(days=settings.standard_return_days)

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, None, "changed_mind", settings=on(settings, last_day))

    assert outcome.status == "created"
    assert outcome.rma.startswith("RMA-")
    assert outcome.items[0].date == last_day


def test_a_return_the_day_after_the_window_is_refused_with_the_last_day(store, settings, conversation_id):
    placed = outside_holidays(settings)
    delivered = placed + 3 * DAY
    number = build_order(store, conversation_id, placed=placed, delivered=delivered)
    last_day = delivered + dt.timedelta(days=settings.standard_return_days)

    with store.session() as s:
        outcome = return_request.start_return(
            s, Conversation(conversation_id), number, None, "changed_mind", settings=on(settings, last_day + DAY)
        )

    assert outcome.status == "ineligible"
    assert outcome.ineligible[0].reason == "window_closed"
    assert outcome.ineligible[0].date == last_day
    with store.session() as s:
        assert s.execute(select(func.count(Return.id))).scalar_one() == 0


def test_a_holiday_purchase_can_be_returned_in_january(store, settings, conversation_id):
    placed = dt.date(2025, *settings.holiday_purchase_start)
    delivered = placed + 2 * DAY
    holiday_last_day = dt.date(2026, *settings.holiday_return_until)
    last_day = max(holiday_last_day, delivered + dt.timedelta(days=settings.standard_return_days))
    number = build_order(store, conversation_id, placed=placed, delivered=delivered)

    with store.session() as s:
        refused = return_request.start_return(s, Conversation(conversation_id), number, None, "unwanted_gift", settings=on(settings, last_day + DAY))
    with store.session() as s:
        accepted = return_request.start_return(s, Conversation(conversation_id), number, None, "unwanted_gift", settings=on(settings, last_day))

    assert refused.status == "ineligible"
    assert refused.ineligible[0].reason == "window_closed"
    assert refused.ineligible[0].date == last_day
    assert accepted.status == "created"


def test_a_purchase_outside_the_holiday_period_gets_only_the_standard_window(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)
    standard_last_day = placed + DAY + dt.timedelta(days=settings.standard_return_days)

    with store.session() as s:
        items = eligibility.eligibility(s, conversation_id, number, on(settings, placed))

    assert items[0].eligible
    assert items[0].date == standard_last_day


def test_an_undelivered_order_cannot_be_returned_yet(store, settings, conversation_id):
    placed = outside_holidays(settings)
    eta = placed + 4 * DAY
    number = build_order(store, conversation_id, placed=placed, delivered=None, eta=eta)

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, None, "changed_mind", settings=on(settings, placed + DAY))

    assert outcome.status == "ineligible"
    assert outcome.ineligible[0].reason == "not_delivered"
    assert outcome.ineligible[0].date == eta


def test_final_sale_items_cannot_be_returned(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(
        store, conversation_id, placed=placed, delivered=placed + DAY,
        lines=(("Clearance Ornament", "8.00", 1, True),),
    )

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, None, "changed_mind", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "ineligible"
    assert outcome.ineligible[0].reason == "final_sale"


def test_eligible_items_are_returned_and_final_sale_ones_explained(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(
        store, conversation_id, placed=placed, delivered=placed + DAY,
        lines=(("Red Wool Scarf", "30.00", 1, False), ("Clearance Ornament", "8.00", 1, True)),
    )

    with store.session() as s:
        outcome = return_request.start_return(
            s, Conversation(conversation_id), number, ["all"], "changed_mind", settings=on(settings, placed + 2 * DAY)
        )

    assert outcome.status == "created"
    assert [i.name for i in outcome.items] == ["Red Wool Scarf"]
    assert [(i.name, i.reason) for i in outcome.ineligible] == [("Clearance Ornament", "final_sale")]
    assert outcome.refund.amount == Decimal("30.00")


# ------------------------------------------------------------------ already returned, idempotency


def test_asking_for_the_same_return_again_gives_the_same_rma_and_one_refund(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)
    today = on(settings, placed + 2 * DAY)

    with store.session() as s:
        first = return_request.start_return(s, Conversation(conversation_id), number, None, "wrong_size", settings=today)
    with store.session() as s:
        second = return_request.start_return(s, Conversation(conversation_id), number, None, "wrong_size", settings=today)

    assert first.status == "created"
    assert second.status == "already_created"
    assert second.rma == first.rma
    assert second.refund.refund_id == first.refund.refund_id
    assert not second.refund.created
    with store.session() as s:
        assert s.execute(select(func.count(Refund.id))).scalar_one() == 1


def test_a_returned_item_is_reported_as_already_returned_with_the_date(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)
    returned_on = placed + 2 * DAY
    with store.session() as s:
        return_request.start_return(s, Conversation(conversation_id), number, None, "wrong_size", settings=on(settings, returned_on))

    with store.session() as s:
        items = eligibility.eligibility(s, conversation_id, number, on(settings, returned_on + DAY))
    with store.session() as s:
        exchange = exchange_request.start_exchange(
            s, Conversation(conversation_id), number, None, size="L", settings=on(settings, returned_on + DAY)
        )

    assert items[0].reason == "already_returned"
    assert items[0].date == returned_on
    assert exchange.status == "ineligible"
    assert exchange.item.reason == "already_returned"


# ------------------------------------------------------------------ choosing items, reasons, verification


def test_a_several_item_order_asks_which_item(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(
        store, conversation_id, placed=placed, delivered=placed + DAY,
        lines=(("Red Wool Scarf", "30.00", 1, False), ("Snow Globe", "18.00", 2, False)),
    )

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, None, "changed_mind", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "choose_items"
    assert [(c.position, c.name) for c in outcome.choices] == [(1, "Red Wool Scarf"), (2, "Snow Globe")]


@pytest.mark.parametrize("said", ["2", "the second one", "snow globe", "globes"])
def test_an_item_can_be_chosen_by_position_or_name(store, settings, conversation_id, said):
    placed = outside_holidays(settings)
    number = build_order(
        store, conversation_id, placed=placed, delivered=placed + DAY,
        lines=(("Red Wool Scarf", "30.00", 1, False), ("Snow Globe", "18.00", 2, False)),
    )

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, [said], "changed_mind", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "created"
    assert [i.name for i in outcome.items] == ["Snow Globe"]
    assert outcome.refund.amount == Decimal("36.00")  # 2 x 18.00, from the order


def test_an_item_the_order_does_not_have_is_reported_back(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(
        store, conversation_id, placed=placed, delivered=placed + DAY,
        lines=(("Red Wool Scarf", "30.00", 1, False), ("Snow Globe", "18.00", 1, False)),
    )

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, ["teddy bear"], "changed_mind", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "choose_items"
    assert outcome.unmatched == ("teddy bear",)


def test_an_unknown_reason_is_refused(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, None, "because", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "unknown_reason"


def test_an_order_this_conversation_did_not_verify_cannot_be_returned(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation("someone-else"), number, None, "changed_mind", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "not_verified"
    with store.session() as s:
        assert s.execute(select(func.count(Return.id))).scalar_one() == 0


# ------------------------------------------------------------------ next step, gift receipts


def test_the_prepaid_label_goes_to_the_orders_email(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, None, "changed_mind", settings=on(settings, placed + 2 * DAY))

    with store.session() as s:
        email = s.execute(select(Return)).scalar_one().order.customer.email
    assert outcome.next_step == "prepaid_label_by_email"
    assert outcome.label_email == email


def test_drop_off_needs_no_label(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        outcome = return_request.start_return(
            s, Conversation(conversation_id), number, None, "changed_mind", return_method="drop_off", settings=on(settings, placed + 2 * DAY)
        )

    assert outcome.next_step == "drop_off"
    assert outcome.label_email is None


def test_a_gift_returned_with_its_gift_receipt_is_store_credit_for_the_recipient(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY, is_gift=True)

    with store.session() as s:
        outcome = return_request.start_return(
            s, Conversation(conversation_id), number, None, "unwanted_gift", has_gift_receipt=True, settings=on(settings, placed + 2 * DAY)
        )

    assert outcome.refund_method == "store_credit"
    assert outcome.credit_to == "recipient"
    with store.session() as s:
        refund = s.execute(select(Refund)).scalar_one()
        assert refund.method == "store_credit"
        assert refund.ret.refund_method == "store_credit"


def test_a_gift_returned_without_a_receipt_goes_back_to_the_buyers_payment(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY, is_gift=True)

    with store.session() as s:
        outcome = return_request.start_return(s, Conversation(conversation_id), number, None, "unwanted_gift", settings=on(settings, placed + 2 * DAY))

    assert outcome.refund_method == "original_payment"
    assert outcome.credit_to == "buyer"


def test_a_gift_receipt_on_an_order_that_was_not_a_gift_changes_nothing(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY, is_gift=False)

    with store.session() as s:
        outcome = return_request.start_return(
            s, Conversation(conversation_id), number, None, "changed_mind", has_gift_receipt=True, settings=on(settings, placed + 2 * DAY)
        )

    assert outcome.refund_method == "original_payment"


# ------------------------------------------------------------------ exchanges


def sweater_order(store, conversation_id, settings, *, large_stock: int) -> tuple[str, int, int]:
    """A delivered order for a medium sweater whose style also comes in L and a blue M."""
    placed = outside_holidays(settings)
    with store.session() as s:
        medium = make_product(s, name="Fair Isle Sweater", price="45.00", style="SWEATER", size="M", color="red", stock=3)
        large = make_product(s, name="Fair Isle Sweater", price="45.00", style="SWEATER", size="L", color="red", stock=large_stock)
        make_product(s, name="Fair Isle Sweater", price="45.00", style="SWEATER", size="M", color="blue", stock=2)
        order = make_order(s, make_customer(s), items=[(medium, 1)], placed_at=dt.datetime.combine(placed, dt.time(9)))
        make_shipment(s, order, eta=placed + DAY, delivered_at=dt.datetime.combine(placed + DAY, dt.time(14)))
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=order.placed_at,
                              last_used_at=dt.datetime.now()))
        return order.number, large.id, medium.id


def test_an_exchange_for_a_size_in_stock_reserves_it(store, settings, conversation_id):
    number, large_id, _ = sweater_order(store, conversation_id, settings, large_stock=2)
    today = on(settings, outside_holidays(settings) + 2 * DAY)

    with store.session() as s:
        outcome = exchange_request.start_exchange(s, Conversation(conversation_id), number, None, "wrong_size", size="L", settings=today)

    assert outcome.status == "created"
    assert (outcome.new_variant.size, outcome.new_variant.color) == ("L", "red")
    with store.session() as s:
        assert s.get(Product, large_id).stock == 1
        ret = s.execute(select(Return)).scalar_one()
        assert ret.kind == "exchange"
        assert ret.items[0].exchange_product_id == large_id
        assert s.execute(select(func.count(Refund.id))).scalar_one() == 0


def test_an_exchange_for_a_size_out_of_stock_offers_alternatives_or_a_refund(store, settings, conversation_id):
    number, large_id, _ = sweater_order(store, conversation_id, settings, large_stock=0)
    today = on(settings, outside_holidays(settings) + 2 * DAY)

    with store.session() as s:
        outcome = exchange_request.start_exchange(s, Conversation(conversation_id), number, None, "wrong_size", size="L", settings=today)

    assert outcome.status == "out_of_stock"
    assert [(a.size, a.color) for a in outcome.alternatives] == [("M", "blue")]
    assert outcome.refund_amount == Decimal("45.00")
    with store.session() as s:
        assert s.get(Product, large_id).stock == 0
        assert s.execute(select(func.count(Return.id))).scalar_one() == 0


def test_an_exchange_without_a_size_or_colour_lists_what_is_in_stock(store, settings, conversation_id):
    number, _, _ = sweater_order(store, conversation_id, settings, large_stock=0)
    today = on(settings, outside_holidays(settings) + 2 * DAY)

    with store.session() as s:
        outcome = exchange_request.start_exchange(s, Conversation(conversation_id), number, None, "wrong_size", settings=today)

    assert outcome.status == "choose_variant"
    assert [(a.size, a.color) for a in outcome.alternatives] == [("M", "blue")]


def test_an_exchange_for_a_variant_the_style_does_not_have(store, settings, conversation_id):
    number, _, _ = sweater_order(store, conversation_id, settings, large_stock=1)
    today = on(settings, outside_holidays(settings) + 2 * DAY)

    with store.session() as s:
        outcome = exchange_request.start_exchange(s, Conversation(conversation_id), number, None, "wrong_size", size="XXL", settings=today)

    assert outcome.status == "no_such_variant"


def test_a_final_sale_item_cannot_be_exchanged(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(
        store, conversation_id, placed=placed, delivered=placed + DAY, lines=(("Clearance Hat", "9.00", 1, True),)
    )

    with store.session() as s:
        outcome = exchange_request.start_exchange(s, Conversation(conversation_id), number, None, size="L", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "ineligible"
    assert outcome.item.reason == "final_sale"


# ------------------------------------------------------------------ which size or colour the words ask for


@pytest.fixture
def jumper(store):
    """A medium red jumper, whose style also comes in L red (2 left), S red (sold out),
    XL red (sold out), XL blue (5 left) and M blue (1 left); the medium's product id."""
    with store.session() as s:
        def variant(size, color, stock):
            return make_product(s, name="Snowflake Jumper", price="40.00", style="JUMPER", size=size, color=color,
                                stock=stock, sku=f"JUMPER-{size}-{color.upper()}")
        current = variant("M", "Red", 3)
        for size, color, stock in (("L", "Red", 2), ("S", "Red", 0), ("XL", "Red", 0), ("XL", "Blue", 5), ("M", "Blue", 1)):
            variant(size, color, stock)
        return current.id


def match(store, product_id, text, quantity=1):
    with store.session() as s:
        return variants.match_variant(s, s.get(Product, product_id), text, quantity)


def picked(m):
    return (m.status, m.variant.size, m.variant.color) if m.variant else (m.status, None, None)


@pytest.mark.parametrize("said", ["large", "L", "size l", "Large please", "I'd like a LARGE", "jumper-l-red"])
def test_a_size_in_words_letters_or_a_sku_picks_that_size_in_the_same_colour(store, jumper, said):
    assert picked(match(store, jumper, said)) == ("matched", "L", "Red")


def test_a_colour_alone_keeps_the_size(store, jumper):
    assert picked(match(store, jumper, "the blue one")) == ("matched", "M", "Blue")


def test_a_size_and_colour_together_pick_that_variant(store, jumper):
    assert picked(match(store, jumper, "XL in blue")) == ("matched", "XL", "Blue")


def test_an_in_stock_variant_wins_over_keeping_the_colour(store, jumper):
    """What the form accepts must be what the exchange sends, so a sold-out XL red is passed over."""
    assert picked(match(store, jumper, "extra large")) == ("matched", "XL", "Blue")


@pytest.mark.parametrize("said, wanted, sold_out", [("small", "S", ("S", "Red")), ("XL in red", "XL, Red", ("XL", "Red"))])
def test_a_sold_out_variant_is_named_back_and_not_matched(store, jumper, said, wanted, sold_out):
    found = match(store, jumper, said)

    assert found.status == "sold_out"
    assert found.wanted == wanted
    assert (found.variant.size, found.variant.color) == sold_out


def test_a_variant_with_fewer_left_than_the_item_bought_is_sold_out_for_it(store, jumper):
    assert match(store, jumper, "L", quantity=2).status == "matched"
    assert match(store, jumper, "L", quantity=3).status == "sold_out"


def test_a_combination_the_style_does_not_come_in_is_said_back(store, jumper):
    found = match(store, jumper, "large in blue")

    assert (found.status, found.wanted, found.variant) == ("no_such_variant", "L, Blue", None)


@pytest.mark.parametrize("said", ["medium red", "JUMPER-M-RED"])
def test_asking_for_what_the_shopper_already_has(store, jumper, said):
    assert match(store, jumper, said).status == "same_as_current"


@pytest.mark.parametrize("said", ["something sparkly", "XXL", "green", "", None])
def test_words_naming_no_size_or_colour_of_the_style_are_unclear(store, jumper, said):
    assert match(store, jumper, said) == variants.VariantMatch("unclear")


def test_the_variant_choice_needs_an_order_this_conversation_verified(store, settings, conversation_id, jumper):
    with store.session() as s:
        order = make_order(s, make_customer(s), items=[(s.get(Product, jumper), 1)])
        number = order.number
    with store.session() as s:
        assert variants.variant_choice(s, conversation_id, number, None, "large") is None

    with store.session() as s:
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=order.placed_at,
                              last_used_at=dt.datetime.now()))
    with store.session() as s:
        choice = variants.variant_choice(s, conversation_id, number, None, "large")

    assert (choice.current.size, choice.current.color) == ("M", "Red")
    assert picked(choice.match) == ("matched", "L", "Red")


# ------------------------------------------------------------------ problems


def test_a_late_holiday_delivery_is_compensated_with_the_shipping_paid(store, settings, conversation_id):
    christmas = dt.date(2025, *settings.christmas_delivery_day)
    placed = dt.date(2025, *settings.holiday_purchase_start)
    number = build_order(
        store, conversation_id, placed=placed, delivered=christmas + 3 * DAY, eta=christmas - DAY, shipping_paid="12.95"
    )

    with store.session() as s:
        outcome = problem_report.report_problem(s, Conversation(conversation_id), number, "late", settings=on(settings, christmas + 4 * DAY))
    with store.session() as s:
        again = problem_report.report_problem(s, Conversation(conversation_id), number, "late", settings=on(settings, christmas + 4 * DAY))

    assert outcome.status == "remedied"
    assert outcome.remedy == "compensation"
    assert outcome.refund.amount == Decimal("12.95")
    assert outcome.missed_christmas
    assert again.status == "already_remedied"
    assert again.refund.refund_id == outcome.refund.refund_id
    with store.session() as s:
        assert s.execute(select(func.count(Refund.id))).scalar_one() == 1


def test_a_delivery_on_its_promised_day_is_not_late(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + 3 * DAY, eta=placed + 3 * DAY)

    with store.session() as s:
        outcome = problem_report.report_problem(s, Conversation(conversation_id), number, "late", settings=on(settings, placed + 4 * DAY))

    assert outcome.status == "not_late"
    assert outcome.eta == placed + 3 * DAY
    assert outcome.refund is None


def test_a_parcel_still_missing_after_its_promised_day_is_late(store, settings, conversation_id):
    placed = outside_holidays(settings)
    eta = placed + 3 * DAY
    number = build_order(store, conversation_id, placed=placed, delivered=None, eta=eta, shipping_paid="7.50")

    with store.session() as s:
        outcome = problem_report.report_problem(s, Conversation(conversation_id), number, "late", settings=on(settings, eta + DAY))

    assert outcome.status == "remedied"
    assert outcome.refund.amount == Decimal("7.50")


def test_a_damaged_item_in_stock_is_replaced(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        outcome = problem_report.report_problem(s, Conversation(conversation_id), number, "damaged", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "remedied"
    assert outcome.remedy == "replacement"
    assert outcome.refund is None
    with store.session() as s:
        ret = s.execute(select(Return)).scalar_one()
        assert ret.items[0].exchange_product_id == ret.items[0].order_item.product_id
        assert ret.items[0].order_item.product.stock == 9  # factory stock 10, one sent out


def test_a_damaged_item_out_of_stock_is_refunded(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY, lines=(("Glass Angel", "22.00", 2, False),))
    with store.session() as s:
        for product in s.execute(select(Product)).scalars():
            product.stock = 1

    with store.session() as s:
        outcome = problem_report.report_problem(
            s, Conversation(conversation_id), number, "damaged", prefer="replacement", settings=on(settings, placed + 2 * DAY)
        )

    assert outcome.remedy == "refund"
    assert outcome.replacement_unavailable
    assert outcome.refund.amount == Decimal("44.00")
    with store.session() as s:
        assert s.execute(select(Product)).scalar_one().stock == 1


def test_a_shopper_may_prefer_a_refund_for_a_wrong_item(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        outcome = problem_report.report_problem(
            s, Conversation(conversation_id), number, "wrong_item", prefer="refund", settings=on(settings, placed + 2 * DAY)
        )

    assert outcome.remedy == "refund"
    assert outcome.refund.amount == Decimal("30.00")
    assert outcome.next_step == "prepaid_label_by_email"


def test_a_missing_item_needs_nothing_sent_back(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)

    with store.session() as s:
        outcome = problem_report.report_problem(s, Conversation(conversation_id), number, "missing", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "remedied"
    assert outcome.next_step == "nothing_to_send"


def test_a_damaged_final_sale_item_is_still_put_right(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(
        store, conversation_id, placed=placed, delivered=placed + DAY, lines=(("Clearance Ornament", "8.00", 1, True),)
    )

    with store.session() as s:
        outcome = problem_report.report_problem(s, Conversation(conversation_id), number, "damaged", settings=on(settings, placed + 2 * DAY))

    assert outcome.status == "remedied"


def test_a_problem_reported_twice_is_remedied_once(store, settings, conversation_id):
    placed = outside_holidays(settings)
    number = build_order(store, conversation_id, placed=placed, delivered=placed + DAY)
    today = on(settings, placed + 2 * DAY)

    with store.session() as s:
        first = problem_report.report_problem(s, Conversation(conversation_id), number, "damaged", prefer="refund", settings=today)
    with store.session() as s:
        second = problem_report.report_problem(s, Conversation(conversation_id), number, "damaged", prefer="refund", settings=today)

    assert second.status == "already_remedied"
    assert second.rma == first.rma
    with store.session() as s:
        assert s.execute(select(func.count(Refund.id))).scalar_one() == 1
