"""Finding 4 of issue #15: the per-conversation limit on order-number + email checks did not
stop guessing, because a new conversation started with a fresh budget. Tried the way an
attacker would, over HTTP on the REST channel of the running stack: wrong pairs for one order
spread over many senders throttle that order (even the right pair is then refused with the
same answer as a mismatch), while other orders and honest mistypes still get through."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from bot.settings import load_settings
from bot.store.models import VerificationFailure

TARGET_ORDER, TARGET_EMAIL = "104776", "liam.carter@example.com"
OTHER_ORDER, OTHER_EMAIL = "104802", "mia.johnson@example.com"


@pytest.fixture(autouse=True)
def forget_guesses(running_stack):
    """The stack is shared by the whole session: other tests verify 104776 too, so the
    throttle this test provokes must not outlive it."""
    yield
    with running_stack.store.session() as s:
        s.execute(delete(VerificationFailure))


def sender(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:8]}"


def try_pair(rasa, who: str, number: str, email: str) -> str:
    rasa.say(who, f"where is my order {number}?")
    return rasa.say(who, email)


MISMATCH = "couldn't find an order with that number and email"


def test_guessing_one_order_from_many_conversations_is_throttled(running_stack):
    rasa = running_stack.rasa
    settings = load_settings()
    guesses = 0
    for attacker in (sender("attacker") for _ in range(6)):
        rasa.say(attacker, f"where is my order {TARGET_ORDER}?")
        for _ in range(settings.max_verification_attempts):
            answer = rasa.say(attacker, f"{TARGET_ORDER} guess{guesses}@example.net")
            guesses += 1
            assert "UPS" not in answer and "on its way" not in answer
    assert guesses == 18 > settings.guess_limit_per_order

    owner_answer = try_pair(rasa, sender("seventh"), TARGET_ORDER, TARGET_EMAIL)
    assert MISMATCH in owner_answer and "on its way" not in owner_answer
    assert "person from our support team" in owner_answer

    other = try_pair(rasa, sender("mia"), OTHER_ORDER, OTHER_EMAIL)
    assert MISMATCH not in other and OTHER_ORDER in other


def test_a_shopper_who_mistypes_once_gets_in_on_the_second_try(running_stack):
    rasa = running_stack.rasa
    who = sender("typo")
    first = try_pair(rasa, who, "104770", "olivia.benet@example.com")
    assert MISMATCH in first
    second = rasa.say(who, "104770 olivia.bennett@example.com")
    assert MISMATCH not in second and "out for delivery" in second
