"""The agents' console in a real browser, against the whole stack: a shopper asks for a refund
above the bot's limit in the web chat, an agent logs into the console and approves it, and the
decision appears in the shopper's chat (Rasa executes action_tell_agent_decision and pushes it
over socket.io while the conversation is still paused for the agent)."""
from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import load_settings
from bot.store.models import Customer, Order
from bot.support import accounts as agents, handoff
from bot.support.desk import money
from tests.browser.test_webchat import WebChat
from tests.servers import ServerProcess, api_token, free_port

# The demo order the README names for "refund above the bot's limit: goes to an agent".
OVER_THE_BOTS_LIMIT = "104701"


class ConsoleServer(ServerProcess):
    """`python -m bot console`, as `make run` starts it, on the stack's database and Rasa."""

    name = "agents' console"
    ready_path = "/login"

    def __init__(self, database_url: str, rasa_url: str, log_path: Path):
        port = free_port()
        super().__init__(
            [sys.executable, "-m", "bot", "console", "--host", "127.0.0.1", "--port", str(port)],
            port=port, env={**os.environ, "DATABASE_URL": database_url, "RASA_URL": rasa_url}, log_path=log_path,
        )
        self.url = self.base_url


@pytest.fixture(scope="module")
def console(running_stack):
    """The console on the stack's demo store, with an agent and a supervisor account of its own
    (demo logins get per-install passwords, shown once by `python -m bot seed`)."""
    settings = load_settings()
    logins = {"agent": ("browser.agent", "browser-agent-password"),
              "supervisor": ("browser.supervisor", "browser-supervisor-password")}
    limits = {"agent": settings.agent_refund_limit, "supervisor": settings.supervisor_refund_limit}
    with running_stack.store.session() as s:
        for role, (username, password) in logins.items():
            agents.add_account(s, username, role, limits[role], password, settings)
    server = ConsoleServer(running_stack.database_url, running_stack.rasa_url, running_stack.workdir / "console.log")
    yield server, logins
    server.stop()


def tracker(rasa_url: str, conversation_id: str) -> dict:
    token = urllib.parse.urlencode({"token": api_token()})
    url = f"{rasa_url}/conversations/{urllib.parse.quote(conversation_id, safe=':')}/tracker?{token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def email_of(store, number: str) -> str:
    with store.session() as s:
        return s.execute(select(Customer.email).join(Order).where(Order.number == number)).scalar_one()


def test_an_agent_approves_an_escalated_refund_and_the_shopper_sees_it_in_the_chat(running_stack, console, new_page):
    server, logins = console
    store = running_stack.store
    shopper = WebChat(new_page(), running_stack.webchat_url)
    shopper.open()
    shopper.say("i want my money back", expect="order number")
    shopper.say(OVER_THE_BOTS_LIMIT, expect="email")
    shopper.say(email_of(store, OVER_THE_BOTS_LIMIT), expect="send it back")
    shopper.say("/return_item", expect="")
    answer = shopper.say('/inform{"return_reason": "changed_mind"}', expect="ticket #")
    conversation = shopper.conversation_id()
    with store.session() as s:
        ticket = handoff.open_ticket_for(s, conversation)
        ticket_id, refund_id, amount = ticket.id, ticket.refund.id, ticket.refund.amount
    assert f"ticket #{ticket_id}" in answer and money(amount) in answer

    agent = new_page()
    agent.goto(server.url + "/")
    assert agent.url.endswith("/login")
    username, password = logins["agent"]
    agent.get_by_label("Username").fill(username)
    agent.get_by_label("Password").fill(password)
    agent.get_by_role("button", name="Log in").click()
    row = agent.locator(f'tr[data-ticket="{ticket_id}"]')  # in the queue, or apart if after hours
    assert "over limit refund" in row.inner_text() and money(amount) in row.inner_text()
    row.get_by_role("link").click()
    assert f"Refund #{refund_id}: {money(amount)}" in agent.locator("#refund").inner_text()
    assert "i want my money back" in agent.locator("#transcript").inner_text()
    before = len(shopper.bot_messages())

    agent.get_by_role("button", name=f"Approve {money(amount)}").click()

    assert "The shopper has been told" in agent.locator(".banner").inner_text()
    assert agent.locator("#refund-status").inner_text() == "approved"
    told = shopper.wait_for_reply(after=before, containing="good news from our team")
    assert money(amount) in told and OVER_THE_BOTS_LIMIT in told
    with store.session() as s:
        ticket = handoff.open_ticket_for(s, conversation)
        assert (ticket.refund.status, ticket.refund.decided_by) == ("approved", username)
    assert tracker(running_stack.rasa_url, conversation)["paused"]  # still the agent's until resolved
