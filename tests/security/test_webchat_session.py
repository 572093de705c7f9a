"""Finding 3 of issue #15 for the web chat: Rasa's socket.io channel took the conversation id
from the client (on session_request and again on every message), so a stranger could talk in
any conversation whose id they knew or guessed. Tried the way a stranger would, with a socket.io
client against the running stack."""
from __future__ import annotations

import asyncio
import re
import uuid

from sqlalchemy import select

from bot.rasa_link import rasa_api
from bot.store.models import Order, Shipment
from tests.webchat_client import WebChatClient

VICTIMS_ORDER, VICTIMS_EMAIL = "104776", "liam.carter@example.com"


def tracking_number(store, number: str) -> str:
    with store.session() as s:
        return s.execute(select(Shipment.tracking_number).join(Order, Shipment.order_id == Order.id)
                         .where(Order.number == number)).scalar_one()


async def verified_web_chat(rasa_url: str, tracking: str) -> tuple[WebChatClient, str]:
    victim = WebChatClient(rasa_url)
    session = await victim.start(None)
    await victim.say(f"where is my order {VICTIMS_ORDER}?", "email", session)
    await victim.say(VICTIMS_EMAIL, tracking, session)
    return victim, session


def test_a_guessable_proposed_session_id_is_replaced_by_a_fresh_one(running_stack):
    async def scenario():
        stranger = WebChatClient(running_stack.rasa_url)
        try:
            return await stranger.start("123456")
        finally:
            await stranger.stop()

    issued = asyncio.run(scenario())

    assert issued != "123456" and re.fullmatch(r"[0-9a-f]{32}", issued)


def test_a_session_id_of_the_issued_form_is_kept_across_a_reload(running_stack):
    async def scenario():
        first = WebChatClient(running_stack.rasa_url)
        issued = await first.start(None)
        await first.stop()
        again = WebChatClient(running_stack.rasa_url)
        try:
            return issued, await again.start(issued)
        finally:
            await again.stop()

    issued, kept = asyncio.run(scenario())

    assert re.fullmatch(r"[0-9a-f]{32}", issued) and kept == issued


def test_a_message_naming_another_session_stays_in_the_senders_own(running_stack):
    tracking = tracking_number(running_stack.store, VICTIMS_ORDER)

    async def scenario():
        victim, victims_session = await verified_web_chat(running_stack.rasa_url, tracking)
        stranger = WebChatClient(running_stack.rasa_url)
        try:
            await stranger.start(uuid.uuid4().hex)
            answer = await stranger.say("where is my order?", "order number", victims_session)
            return answer, victims_session
        finally:
            await stranger.stop()
            await victim.stop()

    answer, victims_session = asyncio.run(scenario())

    assert tracking not in answer
    victim_said = [m["text"] for m in rasa_api.read_transcript(running_stack.store, f"web:{victims_session}")
                   if m["who"] == "shopper"]
    assert victim_said == [f"where is my order {VICTIMS_ORDER}?", VICTIMS_EMAIL]


def test_a_rest_message_naming_a_web_chat_session_does_not_reach_it(running_stack):
    tracking = tracking_number(running_stack.store, VICTIMS_ORDER)

    async def scenario():
        victim, session = await verified_web_chat(running_stack.rasa_url, tracking)
        await victim.stop()
        return session

    session = asyncio.run(scenario())

    for named in (session, f"web:{session}"):  # the socket.io session, and the conversation id
        answer = running_stack.rasa.say(named, f"where is my order {VICTIMS_ORDER}?")
        assert tracking not in answer and "email" in answer.lower()
    assert rasa_api.read_transcript(running_stack.store, f"rest:web:{session}")
