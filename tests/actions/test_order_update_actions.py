"""Order update actions (issue #18): an update the runner delivers is said once, one a shopper
types in is not, and "stop updates" / "send me updates again" work in one message."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from actions.order_updates import ActionResumeUpdates, ActionSayOrderUpdate, ActionStopUpdates
from bot.engagement import order_updates
from bot.store.models import Order, OrderUpdate, VerifiedOrder
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.replies import sent_payloads
from tests.factories import make_customer, make_order, make_product, make_shipment


def shipped_order_watched_by(store, settings, conversation_id: str) -> tuple[str, int]:
    """An order verified by the conversation, just marked shipped: (number, the update's id)."""
    now = settings.now()
    with store.session() as s:
        order = make_order(s, make_customer(s), [(make_product(s, name="Snow Globe"), 1)], status="processing")
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=now, last_used_at=now))
        number = order.number
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        make_shipment(s, order, carrier="UPS", tracking_number="1ZSNOW", eta=now.date() + dt.timedelta(days=2))
        _, (update_id,) = order_updates.set_order_status(s, number, "shipped", now)
    return number, update_id


def claim(store, update_id: int, settings) -> None:
    """What the runner does before it calls Rasa."""
    with store.session() as s:
        row = s.get(OrderUpdate, update_id)
        row.status, row.claimed_at = "sending", settings.now()


def fired(conversation_id: str, update_id) -> object:
    return make_tracker(conversation_id, intent="EXTERNAL_order_update",
                        entities=[{"entity": "update_id", "value": update_id}])


def test_an_update_being_sent_is_said_once(action_store, settings, domain, conversation_id):
    number, update_id = shipped_order_watched_by(action_store, settings, conversation_id)
    claim(action_store, update_id, settings)
    events, messages = run_action(ActionSayOrderUpdate(), fired(conversation_id, update_id), domain)
    assert response_names(messages) == ["utter_order_update_shipped"]
    assert messages[0]["order_number"] == number and "1ZSNOW" in messages[0]["tracking_url"]
    assert events == [{"event": "slot", "timestamp": None, "name": "order_number", "value": number}]
    _, again = run_action(ActionSayOrderUpdate(), fired(conversation_id, update_id), domain)
    assert again == []


def test_a_typed_update_says_nothing(action_store, settings, domain, conversation_id):
    _, update_id = shipped_order_watched_by(action_store, settings, conversation_id)
    # Not being sent (only scheduled): a shopper typing /EXTERNAL_order_update{"update_id": N}.
    assert run_action(ActionSayOrderUpdate(), fired(conversation_id, update_id), domain) == ([], [])
    claim(action_store, update_id, settings)
    # Being sent, but to another conversation: not theirs to hear.
    assert run_action(ActionSayOrderUpdate(), fired("someone-else", update_id), domain) == ([], [])
    assert run_action(ActionSayOrderUpdate(), fired(conversation_id, "nonsense"), domain) == ([], [])


def test_stop_then_resume_updates(action_store, settings, domain, conversation_id):
    number, _ = shipped_order_watched_by(action_store, settings, conversation_id)
    _, messages = run_action(ActionStopUpdates(), make_tracker(conversation_id, intent="stop_updates"), domain)
    assert response_names(messages) == ["utter_order_updates_stopped"]
    with action_store.session() as s:
        assert order_updates.set_order_status(s, number, "delivered", settings.now())[1] == []
    _, messages = run_action(ActionResumeUpdates(), make_tracker(conversation_id, intent="resume_updates"), domain)
    assert response_names(messages) == ["utter_order_updates_resumed"]
    with action_store.session() as s:
        assert len(order_updates.set_order_status(s, number, "out_for_delivery", settings.now())[1]) == 1


def test_every_kind_has_its_response_and_the_late_gift_offers_choices(domain):
    for kind in order_updates.KINDS:
        assert f"utter_order_update_{kind}" in domain["responses"]
    [late] = domain["responses"]["utter_order_update_late_gift"]
    payloads = sent_payloads(late)
    assert payloads == ['/choose_goodwill{"goodwill_kind":"store_credit"}',
                        '/choose_goodwill{"goodwill_kind":"shipping_upgrade"}', "/human_handoff"]
