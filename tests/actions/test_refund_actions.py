"""Refund requests and refund status, run as the action server runs them, on a real database."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from actions.refunds import ActionRefundRoute, ActionRefundStatus
from actions.returns import ActionSubmitReturn
from bot.money import refunds
from bot.store.models import Refund
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.actions.test_return_actions import build_order, over_limit, submit_return, under_limit, verify


def test_a_refund_request_asks_whether_something_is_wrong_or_it_goes_back(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)

    _, [question] = run_action(ActionRefundRoute(), make_tracker(conversation_id, slots={"order_number": number}), domain)

    assert question["response"] == "utter_ask_refund_route"
    assert [b["payload"] for b in domain["responses"]["utter_ask_refund_route"][0]["buttons"]] == [
        "/report_problem", "/return_item"]


def test_a_refund_request_with_an_amount_creates_nothing(action_store, settings, domain, conversation_id):
    """The route action is where `/request_refund{"amount": "500"}` lands: it only asks."""
    number, email = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)
    tracker = make_tracker(conversation_id, slots={"order_number": number, "amount": "500"}, intent="request_refund",
                           text='/request_refund{"amount": "500"}',
                           entities=[{"entity": "amount", "value": "500"}])

    events, messages = run_action(ActionRefundRoute(), tracker, domain)

    assert events == [] and response_names(messages) == ["utter_ask_refund_route"]
    with action_store.session() as s:
        assert s.execute(select(Refund)).scalars().all() == []


def test_a_refund_request_without_a_verified_order_reveals_nothing(action_store, settings, domain, conversation_id):
    number, _ = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)])

    _, messages = run_action(ActionRefundRoute(), make_tracker(conversation_id, slots={"order_number": number}), domain)

    assert "utter_ask_refund_route" not in response_names(messages)


def test_refund_status_with_no_refund_says_so(action_store, settings, domain, conversation_id):
    number, email = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)])
    verify(action_store, settings, conversation_id, number, email)

    _, messages = run_action(ActionRefundStatus(), make_tracker(conversation_id, slots={"order_number": number}), domain)

    assert response_names(messages) == ["utter_refund_status_none"] and messages[0]["order_number"] == number


def test_refund_status_tells_issued_pending_and_denied_with_amounts_and_dates(
    action_store, settings, domain, conversation_id
):
    small, big = under_limit(settings), over_limit(settings)
    number, email = build_order(action_store, settings, [("Star Lamp", small, 1, False),
                                                         ("Headphones", big, 1, False)])
    verify(action_store, settings, conversation_id, number, email)
    submit_return(conversation_id, domain, number, item="1")
    run_action(ActionSubmitReturn(), make_tracker(conversation_id, slots={
        "order_number": number, "return_item": "2", "return_reason": "changed_mind"}), domain)
    status = make_tracker(conversation_id, slots={"order_number": number})

    _, messages = run_action(ActionRefundStatus(), status, domain)

    assert response_names(messages) == ["utter_refund_status_issued", "utter_refund_status_pending_review"]
    assert [m["amount"] for m in messages] == [f"${small:,.2f}", f"${big:,.2f}"]
    assert messages[0]["what"].startswith(f"Refund for return RMA-{number}")
    today = settings.today()
    assert all(f"{today:%B} {today.day}" in m["date"] for m in messages)

    with action_store.session() as s:
        pending = s.execute(select(Refund.id).where(Refund.status == "pending_review")).scalar_one()
    with action_store.session() as s:
        assert refunds.deny(s, pending, "agent.riley", "used", settings).outcome == "denied"
    _, messages = run_action(ActionRefundStatus(), status, domain)
    assert response_names(messages) == ["utter_refund_status_issued", "utter_refund_status_denied"]


def test_refund_status_only_for_a_verified_order(action_store, settings, domain, conversation_id):
    number, _ = build_order(action_store, settings, [("Star Lamp", "30.00", 1, False)])

    _, messages = run_action(ActionRefundStatus(), make_tracker(conversation_id, slots={"order_number": number}), domain)

    assert not any(n.startswith("utter_refund_status") for n in response_names(messages))


def test_an_approved_refund_shows_as_approved(action_store, settings, domain, conversation_id):
    price = over_limit(settings)
    number, email = build_order(action_store, settings, [("Headphones", price, 1, False)])
    verify(action_store, settings, conversation_id, number, email)
    submit_return(conversation_id, domain, number)
    with action_store.session() as s:
        refund_id = s.execute(select(Refund.id)).scalar_one()
    with action_store.session() as s:
        assert refunds.approve(s, refund_id, "agent.riley", settings.agent_refund_limit, settings).outcome == "approved"

    _, messages = run_action(ActionRefundStatus(), make_tracker(conversation_id, slots={"order_number": number}), domain)

    assert response_names(messages) == ["utter_refund_status_approved"]
    assert messages[0]["amount"] == f"${price:,.2f}" and messages[0]["method_text"] == "your original payment method"
    assert Decimal(messages[0]["amount"].strip("$").replace(",", "")) == price
