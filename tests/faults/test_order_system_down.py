"""Finding 8 of issue #15: with the action server killed or hung, or the store database refusing,
the shopper used to get no reply at all (Rasa waited 300 s, then dropped the turn). Now an honest
line with a human contact comes within seconds, and the same conversation, its order form
included, carries on once the part is back. Every part here is really stopped."""
from __future__ import annotations

import time
import uuid

from bot.settings import get_settings
from tests.faults.conftest import set_connections_allowed, shipped_order, start_rasa
from tests.replies import response_texts

REPLY_WITHIN_SECONDS = 10
UNREACHABLE = "can't reach our order system"


def new_shopper() -> str:
    return f"faults-{uuid.uuid4().hex[:10]}"


def timed_say(rasa, sender: str, text: str) -> str:
    started = time.monotonic()
    answer = rasa.say(sender, text)
    seconds = time.monotonic() - started
    print(f"reply to {text!r} after {seconds:.1f}s: {answer!r}")
    assert seconds < REPLY_WITHIN_SECONDS
    return answer


def assert_honest_line(answer: str) -> None:
    assert UNREACHABLE in answer
    assert get_settings().support_contact in answer and "person" in answer


def start_order_form(rasa, number: str) -> str:
    sender = new_shopper()
    assert "order number" in rasa.say(sender, "where is my order?").lower()
    assert "email" in rasa.say(sender, number).lower()
    return sender


def test_the_wording_lives_in_the_domain():
    assert all("{support_contact}" in text and UNREACHABLE in text
               for text in response_texts("utter_order_system_unreachable"))


def test_killed_action_server_mid_form_then_back_on_the_same_port(healthy_actions):
    stack = healthy_actions
    number, email = shipped_order(stack.store)
    sender = start_order_form(stack.rasa, number)
    stack.kill_actions()
    assert_honest_line(timed_say(stack.rasa, sender, email))
    stack.start_actions()
    answer = stack.rasa.say(sender, email)
    assert f"Order {number}" in answer and "on its way" in answer


def test_hung_action_server_then_resumed(healthy_actions):
    stack = healthy_actions
    number, email = shipped_order(stack.store)
    sender = start_order_form(stack.rasa, number)
    stack.pause_actions()
    assert_honest_line(timed_say(stack.rasa, sender, email))
    stack.resume_actions()
    answer = stack.rasa.say(sender, email)
    assert f"Order {number}" in answer and "on its way" in answer


def test_store_database_refusing_then_back(healthy_actions, scratch_postgres_store):
    stack = healthy_actions
    stack.actions.stop()
    stack.start_actions(scratch_postgres_store.url)
    try:
        number, email = shipped_order(scratch_postgres_store)
        sender = start_order_form(stack.rasa, number)
        set_connections_allowed(scratch_postgres_store.url, False)
        assert_honest_line(timed_say(stack.rasa, sender, email))
        # The action server's 500 names the action only: the shopper's tracker never reaches Rasa's log.
        assert email not in stack.rasa.log_path.read_text(errors="replace")
        set_connections_allowed(scratch_postgres_store.url, True)
        answer = stack.rasa.say(sender, email)
        assert f"Order {number}" in answer and "on its way" in answer
    finally:
        set_connections_allowed(scratch_postgres_store.url, True)
        stack.actions.stop()
        stack.start_actions()


def test_rasa_restarted_mid_form_continues_the_form(healthy_actions):
    """Runs last: it replaces the module's Rasa server with a new one on the same database."""
    stack = healthy_actions
    number, email = shipped_order(stack.store)
    sender = start_order_form(stack.rasa, number)
    stack.rasa.stop()
    stack.rasa = None
    stack.rasa = start_rasa(stack)
    answer = stack.rasa.say(sender, email)
    assert f"Order {number}" in answer and "on its way" in answer
