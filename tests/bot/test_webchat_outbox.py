"""Messages kept for a closed web chat page are shown once, by one server, oldest first."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.web.webchat import outbox

T0 = dt.datetime(2026, 12, 4, 12, 0)
CHAT = "web:" + "a" * 32
OTHER_CHAT = "web:" + "b" * 32


def put(store, conversation: str, text: str) -> int:
    with store.session() as s:
        return outbox.put(s, conversation, {"text": text}, T0)


def claim(store, conversations, now=T0):
    with store.session() as s:
        return outbox.claim_waiting(s, conversations, now)


def test_waiting_messages_come_back_oldest_first_with_their_buttons(store):
    put(store, CHAT, "first")
    with store.session() as s:
        outbox.put(s, CHAT, {"text": "second", "quick_replies": [{"title": "Yes", "payload": "/affirm"}]}, T0)
    put(store, OTHER_CHAT, "not yours")
    waiting = claim(store, [CHAT])
    assert [m.message["text"] for m in waiting] == ["first", "second"]
    assert waiting[1].message["quick_replies"] == [{"title": "Yes", "payload": "/affirm"}]
    assert {m.conversation_id for m in waiting} == {CHAT}


def test_a_shown_message_is_never_shown_again(store):
    put(store, CHAT, "your order shipped")
    waiting = claim(store, [CHAT])
    with store.session() as s:
        outbox.mark_shown(s, [m.id for m in waiting], T0)
    assert claim(store, [CHAT], T0 + outbox.STALE_CLAIM * 10) == []
    with store.session() as s:
        assert outbox.waiting_count(s, CHAT) == 0


def test_a_claimed_message_is_not_claimed_twice_until_its_server_is_presumed_dead(store):
    put(store, CHAT, "your order shipped")
    assert len(claim(store, [CHAT])) == 1
    assert claim(store, [CHAT], T0 + outbox.STALE_CLAIM / 2) == []
    assert [m.message["text"] for m in claim(store, [CHAT], T0 + outbox.STALE_CLAIM * 2)] == ["your order shipped"]


def test_a_released_message_waits_for_the_next_page(store):
    put(store, CHAT, "your order shipped")
    waiting = claim(store, [CHAT])
    with store.session() as s:
        outbox.release(s, [m.id for m in waiting])
        assert outbox.waiting_count(s, CHAT) == 1
    assert len(claim(store, [CHAT])) == 1


def test_no_open_pages_claims_nothing(store):
    put(store, CHAT, "hello")
    assert claim(store, []) == []


def test_an_oversized_message_is_refused_and_nothing_is_kept(store):
    with pytest.raises(ValueError):
        with store.session() as s:
            outbox.put(s, CHAT, {"text": "x" * (outbox.MAX_MESSAGE_CHARS + 1)}, T0)
    with store.session() as s:
        assert outbox.waiting_count(s, CHAT) == 0


def test_two_servers_claiming_at_once_never_get_the_same_message(store):
    """PostgreSQL: the first server's claim holds the rows (SKIP LOCKED); the second gets none."""
    if store.is_sqlite:
        pytest.skip("SQLite has one writer at a time; several Rasa servers need PostgreSQL")
    for n in range(5):
        put(store, CHAT, f"update {n}")
    with store.session() as first:
        first_claim = outbox.claim_waiting(first, [CHAT], T0)
        second_claim = claim(store, [CHAT])  # while the first server's unit of work is still open
    assert len(first_claim) == 5
    assert second_claim == []
