"""Returns, exchanges and problem reports, run as the action server runs them, on a real
database. Amounts are built from settings (the bot's limit) and checked against the rows
bot/ wrote, never against numbers typed into a slot."""
from __future__ import annotations

import asyncio
import datetime as dt
import io
from decimal import Decimal

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet
from sqlalchemy import event, func, select

from actions.returns import (
    ActionAskExchangeVariant,
    ActionAskReturnItem,
    ActionSubmitExchange,
    ActionSubmitProblem,
    ActionSubmitReturn,
    ValidateExchangeForm,
    ValidateProblemForm,
    ValidateReturnForm,
)
from bot.cli.handoffs import handoffs_command
from bot.orders import lookup as orders
from bot.store.models import HandoffTicket, Product, Refund, Return
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.factories import make_customer, make_order, make_product, make_shipment

DAY = dt.timedelta(days=1)
CENT = Decimal("0.01")


def under_limit(settings) -> Decimal:
    return (settings.bot_refund_limit / 2).quantize(CENT)


def over_limit(settings) -> Decimal:
    return settings.bot_refund_limit + Decimal("50.00")


def long_ago(settings) -> dt.date:
    """A purchase day outside any holiday period whose return window closed long ago."""
    return dt.date(settings.today().year - 1, *settings.holiday_purchase_start) - 40 * DAY


def build_order(store, settings, lines, *, delivered=True, placed: dt.date | None = None, is_gift=False,
                shipping_paid="0.00", eta: dt.date | None = None, birthday: dt.date | None = None) -> tuple[str, str]:
    """An order of (name, price, quantity, final_sale) lines; (number, email)."""
    today = settings.today()
    placed = placed or today - 5 * DAY
    with store.session() as s:
        shopper = make_customer(s, birthday=birthday)
        items = [(make_product(s, name=name, price=price, final_sale=final), qty) for name, price, qty, final in lines]
        order = make_order(s, shopper, items=items, status="delivered" if delivered else "shipped",
                           placed_at=dt.datetime.combine(placed, dt.time(10)), is_gift=is_gift,
                           shipping_paid=shipping_paid)
        arrived = placed + 3 * DAY
        make_shipment(s, order, eta=eta or arrived,
                      delivered_at=dt.datetime.combine(arrived, dt.time(15)) if delivered else None)
        return order.number, shopper.email


def verify(store, settings, conversation_id, number, email) -> None:
    with store.session() as s:
        assert orders.verify(s, conversation_id, number, email, settings).outcome == "verified"


def shopper_said(*texts):
    return [{"event": "user", "text": t} for t in texts]


def submit_return(conversation_id, domain, number, item=None, reason="wrong_size", gift_receipt=None, **extra):
    slots = {"order_number": number, "return_item": item, "return_reason": reason, "gift_receipt": gift_receipt}
    tracker = make_tracker(conversation_id, slots=slots, events=shopper_said("I want to return something"), **extra)
    return run_action(ActionSubmitReturn(), tracker, domain)


def refunds_of(store, number=None):
    with store.session() as s:
        return s.execute(select(Refund).order_by(Refund.id)).scalars().all()


def required(form, conversation_id, domain, **slots):
    tracker = make_tracker(conversation_id, slots=slots)
    return asyncio.run(form.required_slots(list(domain["forms"][form.form_name()]["required_slots"]), None,
                                           tracker, domain))


# ------------------------------------------------------------------ returns


def birthday_this_month(settings) -> dt.date:
    return settings.today().replace(year=1990, day=min(settings.today().day, 28))


@pytest.mark.parametrize("reason", ["wrong_size", "unwanted_gift", "changed_mind"])
def test_an_ordinary_return_ends_with_the_birthday_offer(action_store, settings, domain, conversation_id, reason):
    number, email = build_order(action_store, settings, [("Star Lamp", under_limit(settings), 1, False)],
                                birthday=birthday_this_month(settings))
    verify(action_store, settings, conversation_id, number, email)
    events, messages = submit_return(conversation_id, domain, number, item="1", reason=reason)
    assert response_names(messages)[0] == "utter_return_created"
    assert response_names(messages)[-1] == "utter_personal_touch" and "birthday" in messages[-1]["touch"]
    assert {"event": "slot", "timestamp": None, "name": "personal_touch_done", "value": True} in events


@pytest.mark.parametrize("reason", ["damaged", "not_as_described", "late"])
def test_a_return_because_of_a_fault_gets_no_offer(action_store, settings, domain, conversation_id, reason):
    number, email = build_order(action_store, settings, [("Star Lamp", under_limit(settings), 1, False)],
                                birthday=birthday_this_month(settings))
    verify(action_store, settings, conversation_id, number, email)
    _, messages = submit_return(conversation_id, domain, number, item="1", reason=reason)
    assert response_names(messages)[0] == "utter_return_created"
    assert "utter_personal_touch" not in response_names(messages)


def test_no_offer_when_the_shopper_was_angry_or_already_had_one(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Star Lamp", under_limit(settings), 1, False)],
                                birthday=birthday_this_month(settings))
    verify(action_store, settings, conversation_id, number, email)
    slots = {"order_number": number, "return_item": "1", "return_reason": "wrong_size", "gift_receipt": None}
    angry = make_tracker(conversation_id, slots=slots, events=shopper_said("this is RIDICULOUS, i want to return it"))
    _, messages = run_action(ActionSubmitReturn(), angry, domain)
    assert "utter_personal_touch" not in response_names(messages)


def test_a_return_over_the_bots_limit_gets_no_offer(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Star Lamp", over_limit(settings), 1, False)],
                                birthday=birthday_this_month(settings))
    verify(action_store, settings, conversation_id, number, email)
    _, messages = submit_return(conversation_id, domain, number, item="1")
    assert "utter_personal_touch" not in response_names(messages)


def test_an_eligible_return_is_refunded_by_the_bot_with_a_label_by_email(action_store, settings, domain, conversation_id):
    price = under_limit(settings)
    number, email = build_order(action_store, settings, [("Star Lamp", price, 1, False), ("Spare Bulbs", "6.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)

    events, messages = submit_return(conversation_id, domain, number, item="1")

    assert response_names(messages) == ["utter_return_created", "utter_refund_issued", "utter_return_label"]
    assert messages[0]["rma"].startswith(f"RMA-{number}") and messages[0]["items"] == "Star Lamp"
    assert messages[1]["amount"] == f"${price:,.2f}"
    assert messages[2]["label_email"] == email
    [refund] = refunds_of(action_store)
    assert (refund.amount, refund.status, refund.method) == (price, "issued", "original_payment")
    assert SlotSet("return_item", None) in events and SlotSet("return_reason", None) in events


def test_a_return_past_its_window_says_when_it_closed(action_store, settings, domain, conversation_id):
    placed = long_ago(settings)
    number, email = build_order(action_store, settings, [("Walnut Chess Set", "119.00", 1, False)], placed=placed)
    verify(action_store, settings, conversation_id, number, email)
    assert required(ValidateReturnForm(), conversation_id, domain, order_number=number) == []

    _, messages = submit_return(conversation_id, domain, number, reason=None)

    assert response_names(messages) == ["utter_return_ineligible", "utter_item_window_closed"]
    closed = placed + 3 * DAY + dt.timedelta(days=settings.standard_return_days)
    assert f"{closed:%B} {closed.day}" in messages[1]["date"] and str(closed.year) in messages[1]["date"]
    assert refunds_of(action_store) == []


def test_final_sale_items_are_refused_and_the_rest_is_returned(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Fair Isle Sweater", "40.00", 1, False),
                                                         ("Cabin Socks", "19.00", 1, True)])
    verify(action_store, settings, conversation_id, number, email)

    _, messages = submit_return(conversation_id, domain, number, item="all")

    assert response_names(messages)[:4] == ["utter_return_created", "utter_return_not_included",
                                            "utter_item_final_sale", "utter_refund_issued"]
    assert messages[2]["name"] == "Cabin Socks"
    assert [r.amount for r in refunds_of(action_store)] == [Decimal("40.00")]


def test_only_final_sale_chosen_ends_the_form_without_asking_why(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Fair Isle Sweater", "40.00", 1, False),
                                                         ("Cabin Socks", "19.00", 1, True)])
    verify(action_store, settings, conversation_id, number, email)

    assert required(ValidateReturnForm(), conversation_id, domain, order_number=number) == ["return_item", "return_reason"]
    assert required(ValidateReturnForm(), conversation_id, domain, order_number=number, return_item="2") == ["return_item"]
    _, messages = submit_return(conversation_id, domain, number, item="the socks", reason=None)
    assert response_names(messages) == ["utter_return_ineligible", "utter_item_final_sale"]


def test_an_item_not_delivered_yet_cannot_go_back_and_the_eta_is_given(action_store, settings, domain, conversation_id):
    eta = settings.today() + 3 * DAY
    number, email = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)], delivered=False, eta=eta)
    verify(action_store, settings, conversation_id, number, email)

    _, messages = submit_return(conversation_id, domain, number)

    assert response_names(messages) == ["utter_return_ineligible", "utter_item_not_delivered_eta"]
    assert f"{eta:%B} {eta.day}" in messages[1]["date"]
    assert refunds_of(action_store) == []


def test_a_gift_receipt_turns_the_refund_into_store_credit_for_the_recipient(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Chunky Throw", under_limit(settings), 1, False)], is_gift=True)
    verify(action_store, settings, conversation_id, number, email)
    assert required(ValidateReturnForm(), conversation_id, domain, order_number=number) == ["return_reason", "gift_receipt"]

    _, messages = submit_return(conversation_id, domain, number, reason="unwanted_gift", gift_receipt=True)

    assert "utter_refund_store_credit_for_recipient" in response_names(messages)
    [refund] = refunds_of(action_store)
    assert refund.method == "store_credit" and refund.status == "issued"


def test_a_refund_over_the_bots_limit_opens_a_ticket_and_pauses(action_store, desk_open, settings, domain,
                                                                conversation_id):
    price = over_limit(settings)
    number, email = build_order(action_store, settings, [("Noise-Cancelling Headphones", price, 1, False)])
    verify(action_store, settings, conversation_id, number, email)

    events, messages = submit_return(conversation_id, domain, number, reason="changed_mind")

    assert ConversationPaused() in events
    assert response_names(messages) == ["utter_return_created", "utter_refund_needs_review"]
    assert messages[1]["amount"] == f"${price:,.2f}" and messages[1]["wait_minutes"] >= 1
    [refund] = refunds_of(action_store)
    assert (refund.amount, refund.status, refund.required_level) == (price, "pending_review", "agent")
    with action_store.session() as s:
        ticket = s.execute(select(HandoffTicket).where(HandoffTicket.conversation_id == conversation_id)).scalar_one()
        assert (ticket.id, ticket.refund_id, ticket.reason) == (messages[1]["ticket_id"], refund.id, "over_limit_refund")

    out = io.StringIO()
    assert handoffs_command("show", ticket.id, store=action_store, settings=settings, out=out) == 0
    shown = out.getvalue()
    assert "shopper: I want to return something" in shown and f"{price:.2f}" in shown


def test_asking_twice_for_the_same_return_gives_the_same_rma_and_no_second_refund(
    action_store, settings, domain, conversation_id
):
    number, email = build_order(action_store, settings, [("Star Lamp", under_limit(settings), 1, False)])
    verify(action_store, settings, conversation_id, number, email)

    _, first = submit_return(conversation_id, domain, number)
    _, second = submit_return(conversation_id, domain, number, reason="changed_mind")

    assert response_names(second) == ["utter_return_already_created", "utter_refund_already_issued"]
    assert second[0]["rma"] == first[0]["rma"]
    assert len(refunds_of(action_store)) == 1
    with action_store.session() as s:
        assert s.execute(select(func.count(Return.id))).scalar_one() == 1


def test_typed_amounts_and_someone_elses_order_number_move_no_money(action_store, settings, domain, conversation_id):
    """`/request_refund{"amount": "500"}` and a swapped order number change nothing: there is no
    amount slot, and only an order this conversation verified can be refunded."""
    assert "amount" not in domain["slots"] and "amount" not in domain["entities"]
    price = under_limit(settings)
    mine, email = build_order(action_store, settings, [("Star Lamp", price, 1, False)])
    theirs, _ = build_order(action_store, settings, [("Espresso Machine", "2349.00", 1, False)])
    verify(action_store, settings, conversation_id, mine, email)
    injected = [{"entity": "amount", "value": "500", "start": 0, "end": 0}]

    _, messages = submit_return(conversation_id, domain, theirs, text='/request_refund{"amount": "500"}',
                                intent="request_refund", entities=injected)
    assert response_names(messages) == ["utter_verification_locked"] and refunds_of(action_store) == []

    tracker = make_tracker(conversation_id, text='/request_refund{"amount": "500"}', intent="request_refund",
                           entities=injected, slots={"order_number": mine, "return_reason": "changed_mind",
                                                     "amount": "500", "return_item": "1"})
    run_action(ActionSubmitReturn(), tracker, domain)
    assert [r.amount for r in refunds_of(action_store)] == [price]


# ------------------------------------------------------------------ the return form


def test_the_item_question_lists_positions_amounts_and_why_not(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Fair Isle Sweater", "40.00", 1, False),
                                                         ("Cabin Socks", "19.00", 2, True)])
    verify(action_store, settings, conversation_id, number, email)

    _, messages = run_action(ActionAskReturnItem(), make_tracker(conversation_id, slots={"order_number": number},
                                                                  active_loop="return_form"), domain)

    [question] = messages
    assert question["response"] == "utter_which_item_return"
    assert "1. Fair Isle Sweater: $40.00" in question["item_list"]
    assert "2. Cabin Socks (x2): $38.00 (final sale)" in question["item_list"]
    assert [b["payload"] for b in question["buttons"]] == ['/inform{"product": "1"}', '/inform{"product": "2"}',
                                                          '/inform{"product": "all"}']


@pytest.mark.parametrize("said, kept", [("2", "2"), ("the socks", "the socks"), ("the teapot", None), ("7", None)])
def test_an_item_answer_must_pick_items_of_the_order(action_store, settings, domain, conversation_id, said, kept):
    number, email = build_order(action_store, settings, [("Fair Isle Sweater", "40.00", 1, False),
                                                         ("Cabin Socks", "19.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)
    tracker = make_tracker(conversation_id, slots={"order_number": number, "return_item": said,
                                                  "requested_slot": "return_item"},
                           events=[SlotSet("return_item", said)], active_loop="return_form", text=said)

    events, messages = run_action(ValidateReturnForm(), tracker, domain)

    assert SlotSet("return_item", kept) in events
    assert ("utter_item_unclear" in response_names(messages)) == (kept is None)


def test_a_reason_from_the_entity_or_a_button_is_kept_and_anything_else_asked_again(
    action_store, settings, domain, conversation_id
):
    number, email = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)
    form = ValidateReturnForm()
    entity = make_tracker(conversation_id, slots={"order_number": number}, text="it's too small",
                          entities=[{"entity": "return_reason", "value": "wrong_size"}])
    assert form.validate_return_reason("it's too small", None, entity, domain) == {"return_reason": "wrong_size"}
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    plain = make_tracker(conversation_id, slots={"order_number": number}, text="meh")
    assert form.validate_return_reason("meh", dispatcher, plain, domain) == {"return_reason": None}
    assert response_names(dispatcher.messages) == ["utter_return_reason_unclear"]


# ------------------------------------------------------------------ exchanges


@pytest.fixture
def sweater(action_store, settings):
    """An order of a red L sweater: XL is in stock, M is sold out; (number, email)."""
    with action_store.session() as s:
        shopper = make_customer(s)
        variants = {size: make_product(s, name="Fair Isle Sweater", price="68.00", style="SWEATER", size=size,
                                       color="Red", stock=stock, sku=f"SWEATER-{size}")
                    for size, stock in (("M", 0), ("L", 4), ("XL", 2))}
        order = make_order(s, shopper, items=[(variants["L"], 1)], status="delivered",
                           placed_at=dt.datetime.combine(settings.today() - 5 * DAY, dt.time(10)))
        make_shipment(s, order, eta=settings.today() - 2 * DAY,
                      delivered_at=dt.datetime.combine(settings.today() - 2 * DAY, dt.time(15)))
        return order.number, shopper.email


def stock_of(store, sku):
    with store.session() as s:
        return s.execute(select(Product.stock).where(Product.sku == sku)).scalar_one()


def test_the_size_question_offers_what_is_in_stock(action_store, settings, domain, conversation_id, sweater):
    verify(action_store, settings, conversation_id, *sweater)
    assert required(ValidateExchangeForm(), conversation_id, domain, order_number=sweater[0]) == ["exchange_variant"]

    _, [question] = run_action(ActionAskExchangeVariant(), make_tracker(conversation_id, slots={
        "order_number": sweater[0]}, active_loop="exchange_form"), domain)

    assert question["response"] == "utter_ask_exchange_variant" and question["current_variant"] == "L, Red"
    assert question["options"] == "XL, Red"
    assert [b["payload"] for b in question["buttons"]] == ['/inform{"product": "SWEATER-XL"}', "/return_item"]


def test_an_exchange_in_stock_is_created_and_set_aside(action_store, settings, domain, conversation_id, sweater):
    verify(action_store, settings, conversation_id, *sweater)
    tracker = make_tracker(conversation_id, slots={"order_number": sweater[0], "exchange_variant": "extra large please"})

    events, messages = run_action(ActionSubmitExchange(), tracker, domain)

    assert response_names(messages) == ["utter_exchange_created", "utter_exchange_label"]
    assert messages[0]["new_variant"] == "XL, Red" and messages[0]["old_variant"] == "L, Red"
    assert stock_of(action_store, "SWEATER-XL") == 1
    with action_store.session() as s:
        ret = s.execute(select(Return)).scalar_one()
        assert ret.kind == "exchange" and ret.items[0].exchange_product.sku == "SWEATER-XL"
    assert refunds_of(action_store) == []

    _, again = run_action(ActionSubmitExchange(), tracker, domain)
    assert response_names(again) == ["utter_exchange_already_created"]
    assert stock_of(action_store, "SWEATER-XL") == 1


def test_a_sold_out_size_is_refused_by_the_form_and_asked_again(action_store, settings, domain, conversation_id, sweater):
    verify(action_store, settings, conversation_id, *sweater)
    tracker = make_tracker(conversation_id, slots={"order_number": sweater[0], "exchange_variant": "medium",
                                                  "requested_slot": "exchange_variant"},
                           events=[SlotSet("exchange_variant", "medium")], active_loop="exchange_form", text="medium")

    events, messages = run_action(ValidateExchangeForm(), tracker, domain)

    assert SlotSet("exchange_variant", None) in events
    assert response_names(messages) == ["utter_exchange_sold_out"] and messages[0]["variant"] == "M"


def test_sold_out_at_the_last_moment_asks_again_with_what_is_left(action_store, settings, domain, conversation_id, sweater):
    verify(action_store, settings, conversation_id, *sweater)
    tracker = make_tracker(conversation_id, slots={"order_number": sweater[0], "exchange_variant": "M"})

    events, messages = run_action(ActionSubmitExchange(), tracker, domain)

    assert response_names(messages) == ["utter_exchange_sold_out"]
    assert events == [SlotSet("exchange_variant", None), {"event": "followup", "timestamp": None, "name": "exchange_form"}]
    with action_store.session() as s:
        assert s.execute(select(func.count(Return.id))).scalar_one() == 0


def test_nothing_in_stock_offers_a_refund_instead(action_store, settings, domain, conversation_id, sweater):
    verify(action_store, settings, conversation_id, *sweater)
    with action_store.session() as s:
        s.execute(select(Product).where(Product.sku == "SWEATER-XL")).scalar_one().stock = 0
    assert required(ValidateExchangeForm(), conversation_id, domain, order_number=sweater[0]) == []

    events, messages = run_action(ActionSubmitExchange(), make_tracker(conversation_id, slots={
        "order_number": sweater[0]}), domain)

    assert response_names(messages) == ["utter_exchange_no_alternatives"]
    assert messages[0]["amount"] == "$68.00"
    assert "/return_item" in [b["payload"] for b in domain["responses"]["utter_exchange_no_alternatives"][0]["buttons"]]
    assert SlotSet("return_item", None) not in events


# ------------------------------------------------------------------ problems


def submit_problem(conversation_id, domain, number, problem, item=None, remedy=None):
    slots = {"order_number": number, "problem": problem, "return_item": item, "problem_remedy": remedy}
    tracker = make_tracker(conversation_id, slots=slots, events=shopper_said("my order arrived damaged"))
    return run_action(ActionSubmitProblem(), tracker, domain)


def test_a_damaged_item_is_replaced_when_in_stock(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)
    assert required(ValidateProblemForm(), conversation_id, domain, order_number=number) == ["problem"]
    assert required(ValidateProblemForm(), conversation_id, domain, order_number=number,
                    problem="damaged") == ["problem", "problem_remedy"]

    _, messages = submit_problem(conversation_id, domain, number, "damaged", remedy="replacement")

    # Issue #18: a goodwill gesture is offered on top of the replacement.
    assert response_names(messages) == ["utter_problem_replacement", "utter_problem_return_label", "utter_goodwill_offer"]
    assert refunds_of(action_store) == []


def test_a_damaged_item_over_the_limit_refunded_goes_to_a_person(action_store, desk_open, settings, domain,
                                                                 conversation_id):
    price = over_limit(settings)
    number, email = build_order(action_store, settings, [("Espresso Grinder", price, 1, True)])
    verify(action_store, settings, conversation_id, number, email)

    events, messages = submit_problem(conversation_id, domain, number, "damaged", remedy="refund")

    assert response_names(messages) == ["utter_problem_refund", "utter_refund_needs_review"]
    assert ConversationPaused() in events
    [refund] = refunds_of(action_store)
    assert refund.amount == price and refund.status == "pending_review"


def test_a_late_delivery_refunds_the_shipping_once(action_store, settings, domain, conversation_id):
    today = settings.today()
    number, email = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)], shipping_paid="14.99",
                                placed=today - 9 * DAY, eta=today - 7 * DAY)
    verify(action_store, settings, conversation_id, number, email)
    assert required(ValidateProblemForm(), conversation_id, domain, order_number=number, problem="late") == ["problem"]

    _, messages = submit_problem(conversation_id, domain, number, "late")
    _, again = submit_problem(conversation_id, domain, number, "late")

    assert response_names(messages) == ["utter_late_apology", "utter_late_compensation", "utter_refund_issued"]
    assert messages[1]["amount"] == "$14.99"
    assert response_names(again) == ["utter_late_apology", "utter_refund_already_issued"]
    assert [r.amount for r in refunds_of(action_store)] == [Decimal("14.99")]


def test_a_problem_answer_is_one_of_the_four_problems(action_store, settings, domain, conversation_id):
    form = ValidateProblemForm()
    from rasa_sdk.executor import CollectingDispatcher

    button = make_tracker(conversation_id, entities=[{"entity": "problem", "value": "wrong_item"}])
    assert form.validate_problem("x", CollectingDispatcher(), button, domain) == {"problem": "wrong_item"}
    assert form.validate_problem("Missing", CollectingDispatcher(), make_tracker(conversation_id), domain) == {
        "problem": "missing"}
    dispatcher = CollectingDispatcher()
    assert form.validate_problem("charged twice", dispatcher, make_tracker(conversation_id), domain) == {"problem": None}
    assert response_names(dispatcher.messages) == ["utter_problem_unclear"]


# ------------------------------------------------------------------ one lookup per call


def proof_reads(store):
    """Counts the reads of this conversation's proof of ownership (bot.orders.lookup)."""
    reads = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM verified_orders" in statement:
            reads.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    return reads


def test_the_return_form_reads_the_order_once_per_call_not_once_per_question(action_store, settings, domain,
                                                                            conversation_id):
    """rasa-sdk asks required_slots three times in one call; the database is asked once."""
    number, email = build_order(action_store, settings, [("Fair Isle Sweater", "40.00", 1, False),
                                                         ("Cabin Socks", "19.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)
    reads = proof_reads(action_store)
    tracker = make_tracker(conversation_id, slots={"order_number": number, "return_item": "the socks",
                                                   "requested_slot": "return_item"},
                           text="the socks", active_loop="return_form")

    events, _ = run_action(ValidateReturnForm(), tracker, domain)

    assert {"event": "slot", "timestamp": None, "name": "requested_slot", "value": "return_reason"} in events
    assert len(reads) == 1
    run_action(ValidateReturnForm(), tracker, domain)  # a new call reads again: nothing outlives a call
    assert len(reads) == 2
