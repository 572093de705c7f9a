"""Handoff tickets: one per conversation, a fair queue, and a resolve that gives the shopper back
to the bot (or says why it could not)."""
from __future__ import annotations

import dataclasses
import io
import json
import threading
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from bot.__main__ import main as bot_main
from bot.cli.handoffs import handoffs_command
from bot.conversation import Conversation
from bot.money import audit
from bot.rasa_link import rasa_api
from bot.store.models import AuditEntry, HandoffTicket
from bot.support import accounts as agents, handoff
from tests.bot.ladder_fixtures import refund_ticket as over_limit_ticket
from tests.factories import add_events


def open_for(store, settings, conversation_id, reason="asked_for_human", **kwargs):
    conversation = Conversation(
        conversation_id, kwargs.pop("channel", "socketio"),
        kwargs.pop("transcript", [{"who": "shopper", "text": "a human please"}]),
    )
    with store.session() as s:
        return handoff.open_ticket(s, conversation, reason, kwargs.pop("summary", "wants a person"), settings=settings, **kwargs)


@pytest.fixture
def fake_rasa():
    """A stand-in Rasa server recording what it is asked: [(path, query, json body)]."""
    calls = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            query = dict(urllib.parse.parse_qsl(url.query))
            query.pop("token", None)  # Rasa's API token (bot.rasa_link.rasa_api sends it; tested with the server)
            calls.append((url.path, query, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"paused": false}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", calls
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------ one open ticket per conversation


def test_asking_twice_returns_the_ticket_already_waiting(store, settings, conversation_id):
    first, created = open_for(store, settings, conversation_id)
    second, created_again = open_for(store, settings, conversation_id, reason="frustration")

    assert created and not created_again
    assert second.id == first.id
    with store.session() as s:
        assert s.execute(select(func.count(HandoffTicket.id))).scalar_one() == 1
        assert handoff.open_ticket_for(s, conversation_id).id == first.id


def test_a_new_ticket_can_be_opened_once_the_last_one_is_resolved(store, settings, conversation_id, dead_rasa_url):
    first, _ = open_for(store, settings, conversation_id)
    handoff.resolve(store, first.id, "alice", "sorted", settings=settings, rasa_url=dead_rasa_url)

    second, created = open_for(store, settings, conversation_id, reason="repeated_fallback")

    assert created
    assert second.id != first.id


def test_an_unknown_reason_is_refused(store, settings, conversation_id):
    with pytest.raises(ValueError):
        open_for(store, settings, conversation_id, reason="bored")


def test_opening_a_ticket_is_audited(store, settings, conversation_id):
    ticket, _ = open_for(store, settings, conversation_id, reason="verification_failed")

    with store.session() as s:
        assert [(e.actor, e.action) for e in audit.entries(s, ticket_id=ticket.id)] == [("bot", audit.TICKET_OPENED)]


# ------------------------------------------------------------------ the queue


def test_tickets_are_served_in_the_order_they_were_opened(store, settings, conversation_id, dead_rasa_url):
    tickets = [open_for(store, settings, f"{conversation_id}-{n}")[0] for n in range(3)]

    with store.session() as s:
        positions = [handoff.queue_position(s, t) for t in tickets]
        waits = [handoff.estimated_wait_minutes(s, t, settings) for t in tickets]
    assert positions == [1, 2, 3]
    assert waits == [n * settings.handoff_minutes_per_ticket for n in (1, 2, 3)]

    handoff.resolve(store, tickets[0].id, "alice", "", settings=settings, rasa_url=dead_rasa_url)

    with store.session() as s:
        assert [handoff.queue_position(s, t) for t in tickets[1:]] == [1, 2]
        assert handoff.queue_position(s, s.get(HandoffTicket, tickets[0].id)) == 0


def test_the_wait_follows_the_configured_minutes_per_ticket(store, settings, conversation_id):
    slow = dataclasses.replace(settings, handoff_minutes_per_ticket=settings.handoff_minutes_per_ticket + 6)
    open_for(store, settings, f"{conversation_id}-a")
    ticket, _ = open_for(store, settings, f"{conversation_id}-b")

    with store.session() as s:
        assert handoff.estimated_wait_minutes(s, ticket, slow) == 2 * slow.handoff_minutes_per_ticket


# ------------------------------------------------------------------ resolving


def test_resolving_closes_the_ticket_and_resumes_the_conversation(store, settings, conversation_id, fake_rasa):
    url, calls = fake_rasa
    ticket, _ = open_for(store, settings, conversation_id)

    result = handoff.resolve(
        store, ticket.id, "alice", "refund approved", message_to_shopper="All sorted, enjoy the holidays!",
        settings=settings, rasa_url=url,
    )

    assert result.resumed and result.message_sent and result.rasa_error is None
    path = f"/conversations/{conversation_id}/tracker/events"
    assert calls[0][:2] == (path, {})
    assert [e["event"] for e in calls[0][2]] == ["resume", "session_started", "action"]
    assert calls[1] == (
        path,
        {"output_channel": "latest", "execute_side_effects": "true"},
        {"event": "bot", "text": "All sorted, enjoy the holidays!"},
    )
    with store.session() as s:
        closed = s.get(HandoffTicket, ticket.id)
        assert (closed.status, closed.open_marker) == ("resolved", None)
        assert closed.resolved_at is not None
        assert handoff.open_ticket_for(s, conversation_id) is None
        entries = [(e.actor, e.action, e.detail) for e in audit.entries(s, ticket_id=ticket.id)]
    assert ("alice", audit.TICKET_RESOLVED, "refund approved") in entries


def test_resolving_while_rasa_is_down_still_resolves_and_says_so(store, settings, conversation_id, dead_rasa_url):
    ticket, _ = open_for(store, settings, conversation_id)

    result = handoff.resolve(store, ticket.id, "alice", "done", settings=settings, rasa_url=dead_rasa_url)

    assert result.found and not result.resumed
    assert "unreachable" in result.rasa_error
    with store.session() as s:
        assert s.get(HandoffTicket, ticket.id).status == "resolved"


def test_resolving_twice_is_harmless(store, settings, conversation_id, fake_rasa):
    url, calls = fake_rasa
    ticket, _ = open_for(store, settings, conversation_id)
    handoff.resolve(store, ticket.id, "alice", "", settings=settings, rasa_url=url)
    after_first = list(calls)

    again = handoff.resolve(store, ticket.id, "bob", "", settings=settings, rasa_url=url)

    assert again.already_resolved
    assert calls == after_first  # the second resolve tells Rasa nothing
    assert [body for _, _, body in after_first][1:] == [{"name": handoff.CSAT_ACTION}]  # resumed, then asked once


def test_resolving_an_unknown_ticket_says_so(store, settings):
    assert not handoff.resolve(store, 12345, "alice", "", settings=settings).found


def test_closing_a_ticket_belongs_to_the_callers_unit_of_work(store, settings, conversation_id):
    ticket, _ = open_for(store, settings, conversation_id)

    with pytest.raises(RuntimeError):
        with store.session() as s:
            closed = handoff.close_ticket(s, ticket.id, "alice", "sorted", settings)
            assert (closed.found, closed.conversation_id, closed.resumed) == (True, conversation_id, False)
            raise RuntimeError("the caller's later write failed")

    with store.session() as s:
        assert s.get(HandoffTicket, ticket.id).open_marker == 1
        assert audit.TICKET_RESOLVED not in [e.action for e in audit.entries(s, ticket_id=ticket.id)]
        closed = handoff.close_ticket(s, ticket.id, "alice", "sorted", settings)
    with store.session() as s:
        again = handoff.close_ticket(s, ticket.id, "bob", "", settings)
        assert s.get(HandoffTicket, ticket.id).status == "resolved"
    assert closed.found and not closed.already_resolved
    assert again.already_resolved


def test_claiming_in_the_callers_unit_of_work(store, settings, conversation_id, dead_rasa_url):
    ticket, _ = open_for(store, settings, conversation_id)

    with store.session() as s:
        assert handoff.claim(s, ticket.id, "dana", settings).outcome == "claimed"
    with store.session() as s:
        assert handoff.claim(s, ticket.id, "dana", settings).outcome == "already_yours"
        assert handoff.claim(s, ticket.id, "lee", settings) == handoff.Claim("taken", ticket.id, "dana")
        assert handoff.claim(s, 12345, "lee", settings).outcome == "not_found"
    handoff.resolve(store, ticket.id, "dana", "", settings=settings, rasa_url=dead_rasa_url)
    with store.session() as s:
        assert handoff.claim(s, ticket.id, "lee", settings).outcome == "closed"
        claims = [e.actor for e in audit.entries(s, ticket_id=ticket.id) if e.action == audit.TICKET_CLAIMED]
    assert claims == ["dana"]


# ------------------------------------------------------------------ Rasa's tracker store


def test_the_transcript_comes_from_rasas_tracker_store(store, conversation_id, tracker_table):
    add_events(
        store, conversation_id,
        ("user", "where is my refund"), ("action", None), ("bot", "Let me get a person."),
        ("pause", None), ("user", "hello? still there?"),
    )
    add_events(store, "someone-else", ("user", "not this one"))

    everything = rasa_api.read_transcript(store, conversation_id)
    while_paused = rasa_api.read_transcript(store, conversation_id, after_pause=True)

    assert [(m["who"], m["text"]) for m in everything] == [
        ("shopper", "where is my refund"), ("bot", "Let me get a person."), ("shopper", "hello? still there?"),
    ]
    assert [m["text"] for m in while_paused] == ["hello? still there?"]


def test_a_photo_the_channel_passed_in_reads_as_a_photo_not_as_its_payload(store, conversation_id, tracker_table):
    add_events(store, conversation_id, ("user", "/EXTERNAL_photo_received"), ("user", "it came broken"))

    assert [m["text"] for m in rasa_api.read_transcript(store, conversation_id)] == [
        rasa_api.SHOWN_AS["/EXTERNAL_photo_received"], "it came broken",
    ]


def test_no_tracker_table_means_no_messages(store, conversation_id):
    assert rasa_api.read_transcript(store, conversation_id) == []


# ------------------------------------------------------------------ python -m bot handoffs


def run_cli(store, settings, *args, **kwargs):
    out = io.StringIO()
    code = handoffs_command(*args, store=store, settings=settings, out=out, **kwargs)
    return code, out.getvalue()


@pytest.fixture
def accounts(store, settings):
    """The console accounts the terminal acts as: alice (agent) and sam (supervisor)."""
    with store.session() as s:
        agents.add_account(s, "alice", "agent", settings.agent_refund_limit, "alice-password", settings)
        agents.add_account(s, "sam", "supervisor", settings.supervisor_refund_limit, "sam-password", settings)


def audited(store, refund_id):
    with store.session() as s:
        query = select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.refund_id == refund_id)
        return [tuple(row) for row in s.execute(query.order_by(AuditEntry.id))]


def test_the_list_shows_open_tickets_oldest_first(store, settings, conversation_id):
    open_for(store, settings, f"{conversation_id}-first", reason="frustration", channel="telegram")
    open_for(store, settings, f"{conversation_id}-second", reason="over_limit_refund", amount=Decimal("120.50"))

    code, text = run_cli(store, settings, "list", None)

    assert code == 0
    first, second = text.index(f"{conversation_id}-first"), text.index(f"{conversation_id}-second")
    assert first < second
    assert "frustration" in text and "telegram" in text
    assert "over_limit_refund" in text and "120.50" in text
    assert "min" in text


def test_the_list_says_when_nobody_is_waiting(store, settings):
    assert run_cli(store, settings, "list", None) == (0, "No open tickets.\n")


def test_show_prints_the_summary_and_what_the_shopper_wrote_since(store, settings, conversation_id, tracker_table):
    ticket, _ = open_for(
        store, settings, conversation_id, summary="Refund of 120.50 needs an agent",
        transcript=[{"who": "shopper", "text": "my parcel is soaked"}, {"who": "bot", "text": "Passing you to a colleague."}],
    )
    add_events(store, conversation_id, ("user", "my parcel is soaked"), ("pause", None), ("user", "any news?"))

    code, text = run_cli(store, settings, "show", ticket.id)

    assert code == 0
    assert "Refund of 120.50 needs an agent" in text
    assert "shopper: my parcel is soaked" in text
    assert "bot: Passing you to a colleague." in text
    since = text.split("Since the handoff:")[1]
    assert "any news?" in since and "soaked" not in since


def test_resolve_from_the_command_line_reports_an_unreachable_rasa(store, settings, accounts, conversation_id, dead_rasa_url):
    ticket, _ = open_for(store, settings, conversation_id)

    code, text = run_cli(store, dataclasses.replace(settings, rasa_url=dead_rasa_url), "resolve", ticket.id, agent="alice", note="ok")

    assert code == 0
    assert "resolved by alice" in text
    assert "Could not resume" in text
    with store.session() as s:
        assert s.get(HandoffTicket, ticket.id).status == "resolved"


@pytest.mark.parametrize("action", ["show", "resolve"])
def test_a_ticket_number_is_required(store, settings, action):
    code, text = run_cli(store, settings, action, None)
    assert code == 2
    assert "Which ticket?" in text


def test_showing_an_unknown_ticket_fails(store, settings):
    assert run_cli(store, settings, "show", 4242)[0] == 1


def test_an_agent_approves_the_tickets_refund_from_the_command_line(store, settings, accounts, conversation_id, fake_rasa):
    ticket_id = over_limit_ticket(store, settings, conversation_id, settings.bot_refund_limit + Decimal("0.01"))
    rasa_url, calls = fake_rasa

    code, text = run_cli(store, dataclasses.replace(settings, rasa_url=rasa_url), "approve", ticket_id, agent="alice")

    assert code == 0
    assert "approved by alice" in text
    with store.session() as s:
        assert s.get(HandoffTicket, ticket_id).refund.status == "approved"
    # The same path as the web console: Rasa is asked to tell the shopper in their channel.
    path, query, body = calls[0]
    assert (path, query["output_channel"], body) == (
        f"/conversations/{conversation_id}/execute", "latest", {"name": "action_tell_agent_decision"})


def test_the_command_line_sends_refunds_over_the_agent_limit_to_a_supervisor(
    store, settings, accounts, conversation_id, dead_rasa_url
):
    ticket_id = over_limit_ticket(store, settings, conversation_id, settings.agent_refund_limit + Decimal("0.01"))
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)

    code, text = run_cli(store, settings, "approve", ticket_id, agent="alice")
    assert code == 1
    assert "supervisor" in text

    code, text = run_cli(store, settings, "approve", ticket_id, agent="sam")
    assert code == 0
    with store.session() as s:
        assert s.get(HandoffTicket, ticket_id).refund.decided_by == "sam"


def test_an_agent_denies_the_tickets_refund_from_the_command_line(store, settings, accounts, conversation_id, dead_rasa_url):
    ticket_id = over_limit_ticket(store, settings, conversation_id, settings.bot_refund_limit + Decimal("0.01"))

    code, text = run_cli(store, dataclasses.replace(settings, rasa_url=dead_rasa_url), "deny", ticket_id,
                         agent="alice", note="worn")

    assert code == 0
    assert "could not be delivered" in text
    with store.session() as s:
        assert s.get(HandoffTicket, ticket_id).refund.status == "denied"


def test_a_ticket_without_a_refund_has_nothing_to_approve(store, settings, accounts, conversation_id):
    ticket, _ = open_for(store, settings, conversation_id)

    code, text = run_cli(store, settings, "approve", ticket.id, agent="alice")

    assert code == 1
    assert "no refund" in text


@pytest.mark.parametrize("action", ["approve", "deny", "resolve"])
@pytest.mark.parametrize("who", ["nobody", None])
def test_an_unknown_account_changes_nothing_from_the_command_line(store, settings, accounts, conversation_id,
                                                                   dead_rasa_url, action, who):
    ticket_id = over_limit_ticket(store, settings, conversation_id, settings.bot_refund_limit + Decimal("0.01"))
    refund_id = over_limit_refund_id(store, ticket_id)
    before = audited(store, refund_id)

    code, text = run_cli(store, dataclasses.replace(settings, rasa_url=dead_rasa_url), action, ticket_id,
                         agent=who, note="worn")

    assert code != 0
    assert "No active console account" in text
    with store.session() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        assert (ticket.status, ticket.refund.status) == ("open", "pending_review")
    assert audited(store, refund_id) == before


def over_limit_refund_id(store, ticket_id):
    with store.session() as s:
        return s.get(HandoffTicket, ticket_id).refund_id


def test_the_command_line_uses_the_accounts_own_limit_and_the_audit_names_it(store, settings, accounts,
                                                                             conversation_id, dead_rasa_url):
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    ticket_id = over_limit_ticket(store, settings, conversation_id, Decimal("300.00"))
    with store.session() as s:
        agents.add_account(s, "junior", "agent", Decimal("250.00"), "junior-password", settings)

    code, text = run_cli(store, settings, "approve", ticket_id, agent="junior")
    assert code == 1
    assert "over junior's limit ($250.00)" in text
    code, _ = run_cli(store, settings, "approve", ticket_id, agent="alice")
    assert code == 0

    assert ("junior", audit.REFUND_APPROVAL_REFUSED) in audited(store, over_limit_refund_id(store, ticket_id))
    assert ("alice", audit.REFUND_APPROVED) in audited(store, over_limit_refund_id(store, ticket_id))


def test_the_command_line_cannot_resolve_a_ticket_whose_refund_is_undecided(store, settings, accounts,
                                                                            conversation_id, dead_rasa_url):
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    ticket_id = over_limit_ticket(store, settings, conversation_id, settings.bot_refund_limit + Decimal("0.01"))

    code, text = run_cli(store, settings, "resolve", ticket_id, agent="alice")

    assert code == 1
    assert "stays open" in text
    with store.session() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        assert (ticket.status, ticket.refund.status) == ("open", "pending_review")


def test_the_command_line_has_no_level_switch_to_borrow_a_supervisors_limit():
    with pytest.raises(SystemExit) as exit_:
        bot_main(["handoffs", "approve", "1", "--agent", "alice", "--level", "supervisor"])
    assert exit_.value.code != 0
