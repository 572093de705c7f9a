"""The remembering tracker store (rasa_extensions/tracker_store.py) stores and gives back exactly
what Rasa's own SQLTrackerStore does, on SQLite and PostgreSQL: message after message, with a
second server (replica) adding to the same conversation, after an erasure, after a new session,
and when it forgets. No model needed: trackers are built from the project's domain."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import delete, select

from bot.rasa_link import rasa_api, tracker_env
from bot.settings import get_settings
from rasa_extensions import tracker_store as remembering
from rasa_extensions.tracker_store import RememberingSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture
def sender() -> str:
    return f"tracker-store-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def clock():
    now = [1000.0]
    return now


@pytest.fixture
def stores(database_url, domain, sender, clock):
    """Two remembering stores (two replicas) and Rasa's own, on one database."""
    made = [RememberingSQLTrackerStore(domain, host=database_url, clock=lambda: clock[0]),
            RememberingSQLTrackerStore(domain, host=database_url, clock=lambda: clock[0]),
            SQLTrackerStore(domain, host=database_url)]
    yield made
    with made[0].engine.begin() as connection:
        connection.execute(delete(rasa_api.tracker_events).where(rasa_api.tracker_events.c.sender_id == sender))
    for store in made:
        store.engine.dispose()


def run(coroutine):
    return asyncio.run(coroutine)


def new_conversation(sender: str, domain: Domain) -> DialogueStateTracker:
    """A conversation's first events as Rasa's processor writes them."""
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    return tracker


def one_message(tracker: DialogueStateTracker, text: str, n: int) -> None:
    """What one turn adds: the shopper's message, a slot, the bot's answer, listening again."""
    tracker.update(UserUttered(text, {"name": "track_order", "confidence": 0.97}))
    tracker.update(ActionExecuted("action_show_order"))
    tracker.update(SlotSet("order_number", str(100000 + n)))
    tracker.update(BotUttered(f"answer {n}"))
    tracker.update(ActionExecuted("action_listen"))


def handle(store, sender: str, text: str, n: int) -> DialogueStateTracker:
    """One message through a store as Rasa's processor does it: retrieve, add, save."""
    tracker = run(store.retrieve(sender))
    one_message(tracker, text, n)
    run(store.save(tracker))
    return tracker


def stored_rows(store, sender: str) -> list[dict]:
    events = rasa_api.tracker_events
    with store.engine.connect() as connection:
        rows = connection.execute(select(events.c.type_name, events.c.data)
                                  .where(events.c.sender_id == sender).order_by(events.c.id))
        return [dict(row._mapping) for row in rows]


def as_rasa_reads_it(sender: str, rasas: SQLTrackerStore) -> DialogueStateTracker:
    return run(rasas.retrieve(sender))


def same(a: DialogueStateTracker, b: DialogueStateTracker) -> bool:
    return ([e.as_dict() for e in a.events] == [e.as_dict() for e in b.events]
            and a.current_slot_values() == b.current_slot_values())


def test_message_after_message_it_stores_and_gives_back_what_rasas_store_does(stores, sender, domain):
    ours, _, rasas = stores
    run(ours.save(new_conversation(sender, domain)))
    for n in range(5):
        tracker = handle(ours, sender, f"message {n}", n)
        assert same(tracker, as_rasa_reads_it(sender, rasas))
    assert len(stored_rows(ours, sender)) == 3 + 5 * 5  # every event once
    assert tracker.get_slot("order_number") == "100004"


def test_the_next_message_gets_the_remembered_tracker_without_reading_it_whole(stores, sender, domain):
    ours, _, _ = stores
    run(ours.save(new_conversation(sender, domain)))
    first = handle(ours, sender, "hello", 1)
    assert run(ours.retrieve(sender)) is first
    # handed out once: a second caller gets its own copy from the database
    second = run(ours.retrieve(sender))
    assert second is not first and same(second, first)


def test_a_reader_in_between_leaves_no_duplicate_rows(stores, sender, domain):
    ours, _, rasas = stores
    run(ours.save(new_conversation(sender, domain)))
    handle(ours, sender, "hello", 1)
    run(ours.retrieve(sender))  # e.g. Rasa's HTTP API reading the conversation, never saving
    handle(ours, sender, "where is my order", 2)
    assert len(stored_rows(ours, sender)) == 3 + 2 * 5
    assert same(run(ours.retrieve(sender)), as_rasa_reads_it(sender, rasas))


def test_messages_alternating_between_two_servers_keep_the_conversation_whole(stores, sender, domain):
    first_server, second_server, rasas = stores
    run(first_server.save(new_conversation(sender, domain)))
    for n in range(6):
        server = (first_server, second_server)[n % 2]
        tracker = handle(server, sender, f"message {n}", n)
        assert same(tracker, as_rasa_reads_it(sender, rasas))
        assert tracker.get_slot("order_number") == str(100000 + n)
    assert len(stored_rows(rasas, sender)) == 3 + 6 * 5


def test_an_erased_conversation_is_not_given_back_from_memory(stores, sender, domain):
    ours, _, _ = stores
    run(ours.save(new_conversation(sender, domain)))
    handle(ours, sender, "my email is jo@example.com", 1)
    with ours.engine.begin() as connection:  # what bot.privacy.data_requests does on erasure
        connection.execute(delete(rasa_api.tracker_events).where(rasa_api.tracker_events.c.sender_id == sender))
    assert run(ours.retrieve(sender)) is None


def test_a_session_started_in_memory_is_read_from_the_database_next(stores, sender, domain):
    ours, _, rasas = stores
    run(ours.save(new_conversation(sender, domain)))
    tracker = handle(ours, sender, "hello", 1)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)  # the shopper came back after the session expired
    one_message(tracker, "back again", 2)
    run(ours.save(tracker))
    again = run(ours.retrieve(sender))
    assert again is not tracker
    assert same(again, as_rasa_reads_it(sender, rasas))
    assert isinstance(again.events[0], SessionStarted)


def test_a_new_session_saved_by_another_server_is_read_whole(stores, sender, domain):
    first_server, second_server, rasas = stores
    run(first_server.save(new_conversation(sender, domain)))
    remembered = handle(first_server, sender, "hello", 1)
    elsewhere = run(second_server.retrieve(sender))
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        elsewhere.update(event)
    one_message(elsewhere, "back again", 2)
    run(second_server.save(elsewhere))
    again = run(first_server.retrieve(sender))
    assert again is not remembered
    assert same(again, as_rasa_reads_it(sender, rasas))


def test_it_forgets_a_conversation_after_its_time(stores, sender, domain, clock):
    ours, _, _ = stores
    run(ours.save(new_conversation(sender, domain)))
    tracker = handle(ours, sender, "hello", 1)
    clock[0] += remembering.REMEMBER_SECONDS + 1
    assert run(ours.retrieve(sender)) is not tracker
    assert ours.remembered == 0


def test_it_keeps_at_most_its_number_of_conversations(database_url, domain, monkeypatch):
    monkeypatch.setattr(remembering, "REMEMBERED_CONVERSATIONS", 3)
    ours = RememberingSQLTrackerStore(domain, host=database_url)
    senders = [f"tracker-store-{uuid.uuid4().hex[:10]}" for _ in range(5)]
    try:
        for sender in senders:
            run(ours.save(new_conversation(sender, domain)))
            handle(ours, sender, "hello", 1)
        assert ours.remembered == 3
    finally:
        with ours.engine.begin() as connection:
            connection.execute(delete(rasa_api.tracker_events).where(rasa_api.tracker_events.c.sender_id.in_(senders)))
        ours.engine.dispose()


def test_endpoints_yml_names_this_store_so_rasa_never_falls_back_to_memory(tmp_path, domain, monkeypatch):
    """Rasa quietly uses an in-memory store when a custom class cannot be imported."""
    url = f"sqlite:///{tmp_path / 'tinsel.db'}"
    for name, value in {**tracker_env.rasa_env(get_settings()), **tracker_env.tracker_env(url)}.items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    store = create_tracker_store(config, domain)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, RememberingSQLTrackerStore)
    assert str(inner.engine.url) == url
    inner.engine.dispose()

