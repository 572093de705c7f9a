"""The agents' console over HTTP: logins, the queue, a ticket and every action on it."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from bot.conversation import Conversation
from bot.money import audit
from bot.store.models import AgentSession, AuditEntry, HandoffTicket, Refund, ShopperNotice
from bot.support import accounts as agents, handoff
from tests.bot.ladder_fixtures import refund_ticket
from tests.factories import add_events
from tests.console.conftest import PASSWORD, Client, start_console


def ask_for_person(store, conversation_id, channel, reason, summary, settings):
    """A shopper's request for a person, in its own unit of work (as the handoff action opens it)."""
    with store.session() as s:
        return handoff.open_ticket(s, Conversation(conversation_id, channel, []), reason, summary, settings=settings)


CONSOLE_GETS = ["/", "/overview", "/tickets/1"]
CONSOLE_POSTS = ["/logout"] + [f"/tickets/1/{a}" for a in
                               ("claim", "reply", "approve", "deny", "forward", "resolve", "send-again", "goodwill")]


def actions_logged(store, **where):
    with store.session() as s:
        query = select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return [tuple(row) for row in s.execute(query)]


def refund_of(store, ticket_id) -> Refund:
    with store.session() as s:
        return s.get(HandoffTicket, ticket_id).refund


# ------------------------------------------------------------------ who may come in


@pytest.mark.parametrize("path", CONSOLE_GETS)
def test_every_page_sends_an_anonymous_visitor_to_the_login(client, path):
    page = client.get(path)
    assert page.status == 303
    assert page.location == "/login"


@pytest.mark.parametrize("path", CONSOLE_POSTS)
def test_every_action_refuses_an_anonymous_post_and_changes_nothing(store, settings, client, conversation_id, path):
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)
    page = client.post(path.replace("/1/", f"/{ticket_id}/"), {"text": "hi", "note": "no"})
    assert page.status == 403
    refund = refund_of(store, ticket_id)
    assert refund.status == "pending_review"
    with store.session() as s:
        assert s.get(HandoffTicket, ticket_id).status == "open"


def test_the_right_password_logs_in_with_a_strict_httponly_cookie(accounts, console):
    client = Client(console.url)
    page = client.log_in("dana")
    assert page.status == 303 and page.location == "/"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/").status == 200


def test_a_wrong_password_is_refused_and_audited(store, accounts, client):
    page = client.log_in("dana", "not the password")
    assert page.status == 401
    assert "Wrong username or password" in page.text()
    assert client.get("/").status == 303
    assert ("dana", audit.CONSOLE_LOGIN_FAILED) in actions_logged(store)


def test_a_login_post_without_the_login_forms_token_is_refused(store, accounts, client):
    page = client.post("/login", {"username": "dana", "password": PASSWORD})
    assert page.status == 403
    assert client.get("/").status == 303
    assert actions_logged(store, action=audit.CONSOLE_LOGIN) == []


def test_a_reply_rasa_cannot_take_is_saved_and_the_page_says_so(
    store, settings, accounts, dead_rasa_url, conversation_id
):
    ticket, _ = ask_for_person(store, conversation_id, "socketio", "asked_for_human", "", settings)
    down = start_console(store, settings, dead_rasa_url)
    try:
        client = Client(down.url)
        client.log_in("dana")
        page = client.act(ticket.id, "reply", text="On it!")
    finally:
        down.stop()
    assert "could not be delivered" in page.text()
    assert ("dana", audit.AGENT_REPLIED) in actions_logged(store, ticket_id=ticket.id)


def test_the_database_keeps_only_a_hash_of_the_session_token(store, accounts, client):
    client.log_in("dana")
    token = client.cookies["tinsel_console"]
    with store.session() as s:
        stored = s.execute(select(AgentSession.token_hash)).scalar_one()
    assert token not in stored
    assert stored == agents.token_hash(token)


def test_an_expired_session_is_refused(store, accounts, client):
    client.log_in("dana")
    with store.session() as s:
        s.execute(update(AgentSession).values(expires_at=agents.utc_now() - dt.timedelta(minutes=1)))
    assert client.get("/").status == 303
    assert client.post("/tickets/1/claim", {"csrf": "x"}).status == 403


def test_logging_out_ends_the_session(store, accounts, client):
    client.log_in("dana")
    stolen = dict(client.cookies)
    page = client.post("/logout", {"csrf": client.get("/").csrf()})
    assert page.status == 303 and page.location == "/login"
    assert Client(client.base, stolen).get("/").status == 303
    assert ("dana", audit.CONSOLE_LOGOUT) in actions_logged(store)


def test_a_page_view_answers_while_a_writer_holds_the_lock(store, settings, accounts, client, conversation_id,
                                                          tracker_table):
    """Finding who is logged in, the queue and a ticket with its transcript only read: on SQLite
    a page view that asked for the write lock would wait behind the open write (up to the 30 s
    busy timeout) instead of answering."""
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)
    client.log_in("dana")
    statuses: list[int] = []

    def view() -> None:
        statuses.extend([client.get("/").status, client.get(f"/tickets/{ticket_id}").status])

    with store.session() as writer:
        writer.execute(update(AgentSession).values(created_at=AgentSession.created_at))  # holds the lock
        viewer = threading.Thread(target=view, daemon=True)
        viewer.start()
        viewer.join(timeout=10)
        assert statuses == [200, 200]


def test_a_post_without_the_sessions_csrf_token_is_refused(store, settings, accounts, client, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)
    client.log_in("dana")
    assert client.post(f"/tickets/{ticket_id}/approve").status == 403
    assert client.post(f"/tickets/{ticket_id}/approve", {"csrf": "guessed"}).status == 403
    assert refund_of(store, ticket_id).status == "pending_review"


def test_every_response_carries_the_security_headers(store, settings, accounts, client, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)
    responses = [client.get("/login"), client.get("/"), client.post(f"/tickets/{ticket_id}/claim")]
    client.log_in("dana")
    responses += [client.get("/"), client.get(f"/tickets/{ticket_id}"), client.get("/tickets/999999")]
    for page in responses:
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert [p.status for p in responses] == [200, 303, 403, 200, 200, 404]


def test_an_unknown_action_is_refused_and_changes_nothing(store, settings, accounts, client, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)
    client.log_in("dana")

    page = client.act(ticket_id, "refund-everything")

    assert page.status == 404 and "Unknown action 'refund-everything'" in page.text()
    assert refund_of(store, ticket_id).status == "pending_review"


def test_an_account_that_may_no_longer_approve_is_refused(
    store, settings, accounts, client, conversation_id, monkeypatch
):
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("120.00"))
    client.log_in("dana")
    token = client.get(f"/tickets/{ticket_id}").csrf()
    monkeypatch.setattr(agents, "refund_limit_of", lambda session, account_id: None)  # deactivated meanwhile

    page = client.post(f"/tickets/{ticket_id}/approve", {"csrf": token})

    assert page.status == 403 and "can no longer approve refunds" in page.text()
    assert refund_of(store, ticket_id).status == "pending_review"


def test_what_a_shopper_wrote_is_shown_escaped(store, settings, accounts, client, conversation_id):
    ticket, _ = ask_for_person(store, conversation_id, "socketio", "asked_for_human",
                               "<script>alert(1)</script>", settings)
    client.log_in("dana")

    page = client.get(f"/tickets/{ticket.id}")

    assert "<script>" not in page.body and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.body


# ------------------------------------------------------------------ what an agent sees


def test_the_queue_lists_open_tickets_oldest_first_with_wait_reason_amount_and_channel(
    store, settings, accounts, client, conversation_id
):
    first, _ = ask_for_person(store, f"{conversation_id}-a", "telegram", "frustration", "cross", settings)
    second = refund_ticket(store, settings, f"{conversation_id}-b", settings.bot_refund_limit + Decimal("10.50"))
    with store.session() as s:
        s.get(HandoffTicket, first.id).created_at = settings.now() - dt.timedelta(minutes=95)
    client.log_in("dana")

    text = client.get("/").text()

    assert text.index(f"#{first.id}") < text.index(f"#{second}")
    assert "1 h 35 min" in text and "frustration" in text and "telegram" in text
    assert "over limit refund" in text and f"${settings.bot_refund_limit + Decimal('10.50'):,.2f}" in text


def test_the_ticket_page_shows_the_transcript_order_and_refund(store, settings, accounts, client, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("120.00"))
    client.log_in("dana")

    text = client.get(f"/tickets/{ticket_id}").text()

    with store.session() as s:
        order = s.get(HandoffTicket, ticket_id).order
        number, item = order.number, order.items[0].product.name
    assert f"Order {number}" in text and item in text and "Total paid" in text
    assert f"Refund #{refund_of(store, ticket_id).id}: $120.00" in text
    assert "pending review" in text


# ------------------------------------------------------------------ what an agent does


def test_an_agent_cannot_approve_above_their_own_limit_and_the_refund_waits_for_a_supervisor(
    store, settings, accounts, console, fake_rasa, conversation_id
):
    ticket_id = refund_ticket(store, settings, conversation_id, settings.agent_refund_limit + Decimal("0.01"))
    agent = Client(console.url)
    agent.log_in("dana")

    page = agent.act(ticket_id, "approve")

    assert page.status == 409
    assert "forwarded to a supervisor" in page.text()
    refund = refund_of(store, ticket_id)
    assert (refund.status, refund.required_level) == ("pending_review", "supervisor")
    assert "needs supervisor" in agent.get("/").text()
    assert fake_rasa.said == []

    supervisor = Client(console.url)
    supervisor.log_in("sam")
    page = supervisor.act(ticket_id, "approve")

    assert page.status == 200
    assert "The shopper has been told" in page.text()
    refund = refund_of(store, ticket_id)
    assert (refund.status, refund.decided_by) == ("approved", "sam")
    [(conversation, response, values)] = fake_rasa.said
    assert (conversation, response) == (conversation_id, "utter_agent_refund_approved")
    assert values["amount"] == f"${refund.amount:,.2f}"
    assert ("dana", audit.REFUND_APPROVAL_REFUSED) in actions_logged(store, refund_id=refund.id)
    assert ("sam", audit.REFUND_APPROVED) in actions_logged(store, refund_id=refund.id)


def test_the_limit_is_the_accounts_own_from_the_database(store, settings, accounts, client, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("300.00"))
    with store.session() as s:
        agents.add_account(s, "junior", "agent", Decimal("250.00"), PASSWORD, settings)
    client.log_in("junior")

    assert client.act(ticket_id, "approve").status == 409
    assert refund_of(store, ticket_id).status == "pending_review"


def test_a_denial_tells_the_shopper_the_agents_note(store, settings, accounts, client, fake_rasa, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("120.00"))
    client.log_in("dana")

    assert client.act(ticket_id, "deny", note="").status == 400
    page = client.act(ticket_id, "deny", note="The photos show wear from use.")

    assert page.status == 200
    assert refund_of(store, ticket_id).status == "denied"
    [(conversation, response, values)] = fake_rasa.said
    assert (conversation, response) == (conversation_id, "utter_agent_refund_denied")
    assert values["note"] == "The photos show wear from use."


def test_a_decision_survives_a_rasa_that_is_down_and_can_be_sent_again(
    store, settings, accounts, fake_rasa, dead_rasa_url, conversation_id
):
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("120.00"))
    down = start_console(store, settings, dead_rasa_url)
    try:
        client = Client(down.url)
        client.log_in("dana")
        page = client.act(ticket_id, "approve")
    finally:
        down.stop()

    assert page.status == 200
    assert "could not be delivered" in page.text()
    assert refund_of(store, ticket_id).status == "approved"
    assert "Not delivered to the shopper yet" in page.text()

    up = start_console(store, settings, fake_rasa.url)
    try:
        client = Client(up.url)
        client.log_in("dana")
        page = client.act(ticket_id, "send-again")
    finally:
        up.stop()
    assert "The shopper has been told" in page.text()
    assert [said[1] for said in fake_rasa.said] == ["utter_agent_refund_approved"]
    with store.session() as s:
        assert s.execute(select(ShopperNotice.delivered_at)).scalar_one() is not None


def test_telling_the_shopper_keeps_the_conversation_paused_while_the_agent_has_it(
    store, settings, accounts, client, fake_rasa, conversation_id
):
    """A shopper silent for longer than the session expiry gets a new session when Rasa runs the
    action, and a new session is not paused: the console pauses it again."""
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("120.00"))
    fake_rasa.paused_after_execute = False
    client.log_in("dana")

    client.act(ticket_id, "approve")

    assert [(path.rsplit("/", 1)[-1], body) for path, _, body in fake_rasa.calls] == [
        ("execute", {"name": "action_tell_agent_decision"}), ("events", [{"event": "pause"}]),
    ]


def test_a_reply_goes_to_the_shoppers_channel_through_rasa(store, settings, accounts, client, fake_rasa, conversation_id):
    ticket, _ = ask_for_person(store, conversation_id, "socketio", "asked_for_human", "wants a person", settings)
    client.log_in("dana")

    page = client.act(ticket.id, "reply", text="Hi, I'm Dana from the team. Checking now!")

    assert page.status == 200 and "Reply sent" in page.text()
    [(path, query, body)] = fake_rasa.calls
    assert path == f"/conversations/{conversation_id}/tracker/events"
    assert query["output_channel"] == "latest"
    assert body == {"event": "bot", "text": "Hi, I'm Dana from the team. Checking now!"}
    assert ("dana", audit.AGENT_REPLIED) in actions_logged(store, ticket_id=ticket.id)


def ticket_state(store, ticket_id) -> tuple[str, str]:
    with store.session() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        return ticket.status, ticket.refund.status


def test_resolving_a_ticket_whose_refund_is_undecided_is_refused_and_both_stay_open(
    store, settings, accounts, client, fake_rasa, conversation_id
):
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("120.00"))
    client.log_in("dana")

    page = client.act(ticket_id, "resolve", note="done here")

    assert page.status == 409
    assert "stays open" in page.text() and "decide refund" in page.text()
    assert ticket_state(store, ticket_id) == ("open", "pending_review")
    assert ("dana", audit.TICKET_RESOLVED) not in actions_logged(store, ticket_id=ticket_id)
    assert fake_rasa.calls == []


def test_claim_forward_and_resolve_are_recorded(store, settings, accounts, client, fake_rasa, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, Decimal("120.00"))
    client.log_in("dana")

    assert client.act(ticket_id, "claim").status == 200
    assert client.act(ticket_id, "forward", note="regular customer, your call").status == 200
    assert refund_of(store, ticket_id).required_level == "supervisor"
    # Forwarded is not decided: the ticket stays in the queue until the supervisor decides.
    page = client.act(ticket_id, "resolve", note="handled")
    assert page.status == 409 and "waits for a supervisor" in page.text()
    assert ticket_state(store, ticket_id) == ("claimed", "pending_review")

    supervisor = Client(client.base)
    supervisor.log_in("sam")
    assert supervisor.act(ticket_id, "approve").status == 200
    page = client.act(ticket_id, "resolve", note="handled")

    assert "handed back to the bot" in page.text()
    with store.session() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        assert (ticket.status, ticket.assigned_to) == ("resolved", "dana")
    logged = actions_logged(store, ticket_id=ticket_id)
    assert ("dana", audit.TICKET_CLAIMED) in logged and ("dana", audit.TICKET_RESOLVED) in logged
    assert ("dana", audit.REFUND_FORWARDED) in actions_logged(store, refund_id=refund_of(store, ticket_id).id)
    assert fake_rasa.calls[-2][2][0] == {"event": "resume"}
    assert fake_rasa.calls[-1][2] == {"name": "action_ask_csat"}  # issue #18: how did we do?


def test_the_overview_counts_tickets_and_conversations_without_a_human(store, settings, accounts, client, conversation_id):
    ask_for_person(store, f"{conversation_id}-a", "rest", "frustration", "", settings)
    ask_for_person(store, f"{conversation_id}-b", "rest", "frustration", "", settings)
    ask_for_person(store, f"{conversation_id}-c", "rest", "asked_for_human", "", settings)
    client.log_in("dana")

    text = client.get("/overview").text()

    assert "3 open tickets" in text
    assert "frustration 2 2" in text and "asked for human 1 1" in text


def test_the_ticket_page_shows_the_whole_conversation_from_rasas_tracker_store(
    store, settings, accounts, client, conversation_id, tracker_table
):
    ticket, _ = ask_for_person(store, conversation_id, "rest", "asked_for_human", "", settings)
    add_events(store, conversation_id, ("user", "where is my parcel?"), ("bot", "Let me get a person."),
               ("pause", None), ("user", "hello? still there?"))
    client.log_in("dana")

    text = client.get(f"/tickets/{ticket.id}").text()

    assert text.index("where is my parcel?") < text.index("Let me get a person.") < text.index("hello? still there?")
    assert "the shopper wrote 1 message(s)" in text


def test_the_overview_shares_conversations_the_bot_handled_alone(
    store, settings, accounts, client, conversation_id, tracker_table
):
    for n in range(4):
        add_events(store, f"{conversation_id}-{n}", ("user", "hi"), ("bot", "Hello!"))
    ask_for_person(store, f"{conversation_id}-0", "rest", "frustration", "", settings)
    client.log_in("dana")

    text = client.get("/overview").text()

    assert "75.0%" in text and "3 of 4 conversations never needed a ticket" in text
