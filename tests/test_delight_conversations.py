"""Issue #18 in whole conversations: a late gift told first and made up for within the bot's
limit, "stop updates", CSAT asked once and shown in the console, the holiday recap.

The shared stack runs on servers.stack_today() (tests/conftest.py); the late gift is an order
added to the demo store here, due three days after this season's Christmas delivery day."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from bot.engagement import late_gifts, order_updates
from bot.orders.lookup import christmas_date_for
from bot.settings import load_settings
from bot.store.models import GoodwillGesture, Order, OrderUpdate
from bot.support import accounts as agents, csat
from bot.web.console import create_app
from tests.console.conftest import PASSWORD, Client, ConsoleServer
from tests.factories import make_customer, make_order, make_shipment

pytestmark = pytest.mark.usefixtures("assistant")


def late_gift(store, config) -> tuple[str, str]:
    """(number, email) of a new gift order in transit that arrives after Christmas."""
    christmas = christmas_date_for(config.today(), config)
    with store.session() as s:
        customer = make_customer(s, name="Noel Frost")
        product = s.execute(select(Order).order_by(Order.id)).scalars().first().items[0].product
        order = make_order(s, customer, [(product, 1)], status="shipped", is_gift=True)
        make_shipment(s, order, eta=christmas + dt.timedelta(days=3))
        return order.number, customer.email


def verify(chat, number: str, email: str) -> str:
    chat.say("where is my order?")
    chat.say(number)
    return chat.say(email)


def run_the_runner(store, chat, config) -> list[str]:
    """One pass of `python -m bot reminders run`'s order-update work, fired into `chat`."""
    spoken = []
    with store.session() as s:
        late_gifts.recheck(s, config.now(), config)
    order_updates.deliver_due(store, lambda due: spoken.append(chat.fire(due.intent, due.entities)),
                              config.now(), config)
    return spoken


def test_a_late_gift_is_told_first_and_the_bot_gives_credit_within_its_limit(assistant, demo_store):
    config = load_settings()
    number, email = late_gift(demo_store, config)
    chat = assistant.new_conversation()
    verify(chat, number, email)

    [told] = run_the_runner(demo_store, chat, config)
    assert f"#{number}" in told and "won't arrive by" in told
    assert run_the_runner(demo_store, chat, config) == []  # told once

    answer = chat.say('/choose_goodwill{"goodwill_kind":"store_credit"}')
    credit = f"${config.goodwill_store_credit:,.2f}"
    assert f"added {credit} of store credit" in answer and f"balance is now {credit}" in answer
    with demo_store.session() as s:
        [gesture] = s.execute(select(GoodwillGesture).where(GoodwillGesture.conversation_id == chat.sender_id)).scalars()
        assert (gesture.level, gesture.value) == ("bot", config.goodwill_store_credit)
        assert gesture.value <= config.goodwill_bot_limit

    again = chat.say('/choose_goodwill{"goodwill_kind":"gift_wrap"}')
    assert "already made this one up" in again


def test_a_typed_goodwill_choice_without_an_incident_gets_nothing(assistant, demo_store):
    chat = assistant.new_conversation()
    answer = chat.say('/choose_goodwill{"goodwill_kind":"store_credit"}')
    assert "nothing for me to make up for" in answer
    with demo_store.session() as s:
        assert s.execute(select(GoodwillGesture).where(GoodwillGesture.conversation_id == chat.sender_id)).first() is None


def test_stop_updates_in_one_message(assistant, demo_store):
    config = load_settings()
    number, email = late_gift(demo_store, config)
    chat = assistant.new_conversation()
    verify(chat, number, email)
    assert "won't send you any more order updates" in chat.say("stop sending me order updates")
    assert run_the_runner(demo_store, chat, config) == []
    with demo_store.session() as s:
        assert s.execute(select(OrderUpdate).where(OrderUpdate.conversation_id == chat.sender_id)).first() is None


def test_csat_is_asked_once_and_shows_in_the_console(assistant, demo_store):
    chat = assistant.new_conversation()
    chat.say("hi")
    goodbye = chat.say("bye")
    assert "how did we do" in goodbye.lower()
    assert "anything we could do better" in chat.say('/rate_conversation{"csat_score":"5"}').lower()
    assert "thank you" in chat.say("the order tracking was quick").lower()
    assert "how did we do" not in chat.say("bye").lower()
    with demo_store.session() as s:
        survey = csat.survey_of(s, chat.sender_id)
        assert (survey.score, survey.comment, survey.handled_by) == (5, "the order tracking was quick", "bot")

    with demo_store.session() as s:
        agents.add_account(s, "csat-viewer", "agent", load_settings().agent_refund_limit, PASSWORD, load_settings())
    console = ConsoleServer(create_app(demo_store, load_settings()))
    try:
        agent = Client(console.url)
        agent.log_in("csat-viewer")
        page = agent.get("/csat").text()
    finally:
        console.stop()
    assert "the order tracking was quick" in page
    assert re.search(r"bot only \d+ \d\.\d\d", page)


def test_the_holiday_recap_for_a_verified_shopper(assistant, demo_store):
    config = load_settings()
    number, email = late_gift(demo_store, config)
    chat = assistant.new_conversation()
    chat.say("show me my holiday recap")
    chat.say(number)
    answer = chat.say(email)
    with demo_store.session() as s:
        total = s.execute(select(Order).where(Order.number == number)).scalar_one().total_paid
    assert "Your holiday season with us" in answer
    assert f"Noel: 1 order, ${total:,.2f} in all" in answer
    assert "You sent 1 gift order" in answer
