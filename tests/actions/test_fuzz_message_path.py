"""Property-based (fuzz) tests of the message path into the order form (issue #15).

Whatever a stranger types, and whatever slot values arrive with it (Rasa accepts
`/intent{"slot": ...}`), the form's validation action must not crash and must never put
anything but 5-12 digits into order_number. Runs the real action on a real SQLite store.
"""
from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from rasa_sdk.events import SlotSet

import bot.store.engine
from actions.orders import ValidateOrderLookupForm
from bot.store.engine import Store
from tests.actions.conftest import make_tracker, run_action
from tests.factories import make_customer, make_order

NUMBER, EMAIL = "104217", "ann.lee@example.com"
ORDER_DIGITS = re.compile(r"\d{5,12}")

message_text = (
    st.text(max_size=200)
    | st.text(alphabet="0123456789 #$£€.,+-@()abcdefxyz", max_size=60)
    | st.builds(lambda part, n: part * n, st.text(min_size=1, max_size=10), st.integers(100, 400))
    | st.sampled_from([f"{NUMBER} {EMAIL}", f"order #{NUMBER}", EMAIL.upper(), "+44 7700 900123", "$104.99"])
)
slot_value = (
    st.none()
    | st.text(max_size=60)
    | st.integers()
    | st.floats(allow_nan=True)
    | st.booleans()
    | st.lists(st.text(max_size=10), max_size=3)
    | st.sampled_from([NUMBER, EMAIL, f"#{NUMBER}"])
)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    """A module-wide store (hypothesis reuses it across examples; each uses its own sender)."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('fuzz-actions') / 'tinsel-fuzz.db'}")
    store.create_schema()
    with store.session() as s:
        make_order(s, make_customer(s, name="Ann Lee", email=EMAIL), status="shipped", number=NUMBER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.store.engine, "_store", store)
        yield store
    store.dispose()


@hypothesis_settings(max_examples=150, deadline=None)
@given(text=message_text, number=slot_value, email=slot_value,
       requested=st.sampled_from(["order_number", "order_email", None]),
       changed=st.sampled_from([("order_number",), ("order_email",), ("order_number", "order_email"), ()]))
def test_order_form_validation_never_raises_and_keeps_order_number_digits(
    fuzz_store, domain, text, number, email, requested, changed
):
    slots = {"order_number": number, "order_email": email, "requested_slot": requested}
    tracker = make_tracker(
        f"fuzz-{uuid.uuid4()}",
        slots=slots,
        text=text,
        events=[SlotSet(name, slots[name]) for name in changed],
        active_loop="order_lookup_form",
    )
    events, _ = run_action(ValidateOrderLookupForm(), tracker, domain)
    for event in events:
        if event.get("event") == "slot" and event["name"] == "order_number" and event["value"] is not None:
            assert isinstance(event["value"], str) and ORDER_DIGITS.fullmatch(event["value"])
        if event.get("event") == "slot" and event["name"] == "order_email" and event["value"] is not None:
            assert event["value"] == event["value"].lower() and event["value"].count("@") == 1
