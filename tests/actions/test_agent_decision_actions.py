"""action_tell_agent_decision: what an agent decided reaches the shopper, worded by domain.yml."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

from actions.agent_decisions import ActionTellAgentDecision
from bot.store.models import HandoffTicket
from bot.support import desk as agent_desk
from tests.actions.conftest import make_tracker, run_action
from tests.bot.ladder_fixtures import refund_ticket


def test_the_shopper_hears_an_approval_and_a_denial_with_the_agents_note(
    action_store, settings, domain, conversation_id, dead_rasa_url
):
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    approved = refund_ticket(action_store, settings, conversation_id, Decimal("120.00"))
    agent_desk.approve(action_store, approved, "dana", settings.agent_refund_limit, settings)
    with action_store.session() as s:
        number = s.get(HandoffTicket, approved).order.number

    _, messages = run_action(ActionTellAgentDecision(), make_tracker(conversation_id), domain)

    [message] = messages
    assert message["response"] == "utter_agent_refund_approved"
    assert (message["amount"], message["order_number"]) == ("$120.00", number)
    text = domain["responses"][message["response"]][0]["text"].format(**message)
    assert "$120.00" in text and number in text

    _, again = run_action(ActionTellAgentDecision(), make_tracker(conversation_id), domain)
    assert again == []


def test_a_denial_carries_the_note(action_store, settings, domain, conversation_id, dead_rasa_url):
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    ticket_id = refund_ticket(action_store, settings, conversation_id, Decimal("99.00"))
    agent_desk.deny(action_store, ticket_id, "dana", "The sweater was worn.", settings)

    _, [message] = run_action(ActionTellAgentDecision(), make_tracker(conversation_id), domain)

    assert message["response"] == "utter_agent_refund_denied"
    text = domain["responses"][message["response"]][0]["text"].format(**message)
    assert text.endswith("The sweater was worn.") and "$99.00" in text
