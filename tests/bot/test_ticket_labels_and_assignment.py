"""Issue #19: labels on tickets, assigning them, and two agents never answering one ticket unknowingly."""
from __future__ import annotations

import dataclasses

import pytest

from bot.conversation import Conversation
from bot.money import audit
from bot.store.models import HandoffTicket, TicketLabel
from bot.support import accounts, desk, handoff, labels


@pytest.fixture
def ticket_id(store, settings, conversation_id):
    with store.session() as s:
        ticket, _ = handoff.open_ticket(s, Conversation(conversation_id, "socketio", []), "asked_for_human", "help",
                                        settings=settings)
        return ticket.id


@pytest.fixture
def colleagues(store, settings):
    with store.session() as s:
        for name in ("alice", "bob"):
            accounts.add_account(s, name, "agent", settings.agent_refund_limit, "a long enough password", settings)
    return "alice", "bob"


def actions_on(store, ticket_id):
    with store.reading() as s:
        return [(e.actor, e.action, e.detail) for e in audit.entries(s, ticket_id=ticket_id)][1:]  # after "opened"


@pytest.mark.parametrize("typed, stored", [("VIP", "vip"), ("  late   gift ", "late gift"), ("wrong-item", "wrong-item")])
def test_a_label_is_stored_in_one_form_so_the_filter_finds_it(store, settings, ticket_id, typed, stored):
    with store.session() as s:
        assert labels.add(s, ticket_id, typed, "alice", settings.now()) == "added"
        assert labels.add(s, ticket_id, stored.upper(), "alice", settings.now()) == "already"
    with store.reading() as s:
        assert labels.of_tickets(s, [ticket_id]) == {ticket_id: (stored,)}


@pytest.mark.parametrize("typed", ["", "   ", "<script>", "x" * 41, "refund!"])
def test_what_is_not_a_label_is_refused_and_nothing_stored(store, settings, ticket_id, typed):
    with store.session() as s:
        assert labels.add(s, ticket_id, typed, "alice", settings.now()) == "invalid"
    with store.reading() as s:
        assert s.query(TicketLabel).count() == 0


def test_labelling_and_unlabelling_are_audited(store, settings, ticket_id):
    with store.session() as s:
        labels.add(s, ticket_id, "damaged", "alice", settings.now())
        assert labels.remove(s, ticket_id, "damaged", "bob", settings.now()) == "removed"
        assert labels.remove(s, ticket_id, "damaged", "bob", settings.now()) == "absent"
    assert actions_on(store, ticket_id) == [("alice", audit.TICKET_LABELED, "damaged"),
                                            ("bob", audit.TICKET_UNLABELED, "damaged")]


def test_no_label_on_a_ticket_that_does_not_exist(store, settings):
    with store.session() as s:
        assert labels.add(s, 999, "vip", "alice", settings.now()) == "not_found"


def test_assigning_to_a_colleague_and_taking_it_back_is_audited_with_both_names(store, settings, ticket_id, colleagues):
    alice, bob = colleagues
    with store.session() as s:
        assert desk.assign(s, ticket_id, bob, alice, settings).kind == "assigned"
        assert desk.assign(s, ticket_id, bob, alice, settings).kind == "already_assigned"
        assert desk.assign(s, ticket_id, alice, alice, settings).kind == "assigned"
    assert actions_on(store, ticket_id) == [(alice, audit.TICKET_ASSIGNED, f"to {bob}"),
                                            (alice, audit.TICKET_ASSIGNED, f"from {bob} to {alice}")]
    with store.reading() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        assert (ticket.status, ticket.assigned_to) == ("claimed", alice)


def test_a_ticket_is_never_assigned_to_someone_who_is_not_an_active_agent(store, settings, ticket_id, colleagues):
    alice, _ = colleagues
    with store.session() as s:
        assert desk.assign(s, ticket_id, "mallory", alice, settings).kind == "not_found"
    with store.reading() as s:
        assert s.get(HandoffTicket, ticket_id).assigned_to is None


def test_a_reply_to_a_ticket_a_colleague_holds_is_refused_and_nothing_is_sent(store, settings, ticket_id, colleagues,
                                                                             dead_rasa_url):
    alice, bob = colleagues
    quiet = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    first = desk.reply(store, ticket_id, alice, "Hi, Alice here", quiet)  # a waiting ticket becomes Alice's
    refused = desk.reply(store, ticket_id, bob, "Hi, Bob here", quiet)

    assert first.ok and not refused.ok and refused.kind == "taken" and alice in refused.message
    replies = [detail for _, action, detail in actions_on(store, ticket_id) if action == audit.AGENT_REPLIED]
    assert replies == ["Hi, Alice here"]
    with store.session() as s:
        desk.assign(s, ticket_id, bob, bob, settings)
    assert desk.reply(store, ticket_id, bob, "Bob here now", quiet).ok
