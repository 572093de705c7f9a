"""Finding 3 of issue #15: Rasa's REST channel took the conversation id from the caller, so a
stranger could post as another shopper's conversation (a REST sender, a Telegram chat id, a web
chat session id) and be answered inside it, with the order that shopper had verified. Tried the
way a stranger would, over HTTP against the running stack: REST conversations are now
`rest:<sender>` and never reach another conversation."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from bot.rasa_link import rasa_api
from bot.store.models import Order, Shipment

VICTIMS_ORDER, VICTIMS_EMAIL = "104776", "liam.carter@example.com"


def tracking_number(store, number: str) -> str:
    with store.session() as s:
        return s.execute(select(Shipment.tracking_number).join(Order, Shipment.order_id == Order.id)
                         .where(Order.number == number)).scalar_one()


def verified_rest_shopper(running_stack) -> str:
    """A shopper who verified their order over REST; the tracking number is in their answer."""
    sender = f"alice-{uuid.uuid4().hex[:8]}"
    running_stack.rasa.say(sender, f"where is my order {VICTIMS_ORDER}?")
    answer = running_stack.rasa.say(sender, VICTIMS_EMAIL)
    assert tracking_number(running_stack.store, VICTIMS_ORDER) in answer
    return sender


def test_a_rest_conversation_is_stored_under_rest_and_its_sender(running_stack):
    sender = verified_rest_shopper(running_stack)

    stored = rasa_api.read_transcript(running_stack.store, f"rest:{sender}")

    assert [m["text"] for m in stored if m["who"] == "shopper"][:2] == [f"where is my order {VICTIMS_ORDER}?",
                                                                         VICTIMS_EMAIL]
    assert rasa_api.read_transcript(running_stack.store, sender) == []


def test_posting_as_the_stored_conversation_id_does_not_reach_the_verified_order(running_stack):
    sender = verified_rest_shopper(running_stack)
    tracking = tracking_number(running_stack.store, VICTIMS_ORDER)
    # The shopper's own next question is answered from their verified order...
    assert tracking in running_stack.rasa.say(sender, f"where is my order {VICTIMS_ORDER}?")

    # ...a stranger posting as the id it is stored under gets a conversation of their own.
    answer = running_stack.rasa.say(f"rest:{sender}", f"where is my order {VICTIMS_ORDER}?")

    assert tracking not in answer and "email" in answer.lower()
    assert rasa_api.read_transcript(running_stack.store, f"rest:rest:{sender}")


def test_posting_as_another_channels_conversation_id_does_not_reach_it(running_stack):
    """Every conversation id carries its channel (telegram:<chat>, slack:<team>:<user>,
    web:<session>); a REST sender, bare or spelled like one of those, stays under rest:."""
    telegram_chat = str(100000 + uuid.uuid4().int % 900000)

    for sender in (telegram_chat, f"telegram:{telegram_chat}", f"slack:T0TINSEL:U{telegram_chat}"):
        running_stack.rasa.say(sender, "hi")
        assert rasa_api.read_transcript(running_stack.store, sender) == []
        assert rasa_api.read_transcript(running_stack.store, f"rest:{sender}")
