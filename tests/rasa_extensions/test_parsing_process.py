"""The parser process (rasa_extensions/parsing_process.py) understands every message exactly as
the server's own graph does, two threads at once included. A stopped or killed parser process is
not waited for beyond its timeout: the caller parses in the server, the process is gone, and a
new one starts no sooner than the restart interval. A parser process holding another model than
the server's is never used, nor started again for that model. Real processes, the trained model."""
from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_extensions import parsing_process
from rasa_extensions.parsing_process import ParserProcess, Parsers
from rasa_extensions.parsing_threads import ORIGINAL_PARSE_WITH_GRAPH
from tests.rasa_extensions.test_fast_model_load import _messages
from tests.servers import MODEL, require_model

LOAD_SECONDS = 240


@pytest.fixture(scope="module")
def agent():
    require_model()
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL))


@pytest.fixture(scope="module")
def model_id(agent) -> str:
    return agent.processor.model_metadata.model_id


def message(text: str, n: int = 0) -> UserMessage:
    return UserMessage(text, sender_id="parser-test", message_id=f"m-{n}", metadata={"channel": "test"})


def servers_own_parse(agent, text: str, n: int = 0) -> dict:
    """Rasa's own graph run in this process, whatever parsing_threads has installed."""
    tracker = DialogueStateTracker.from_events("parser-test", [])
    return ORIGINAL_PARSE_WITH_GRAPH(agent.processor, message(text, n), tracker, True)


def wait_until_ready(parser: ParserProcess) -> None:
    deadline = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < deadline and not parser.broken:
        if parser.parse(message("hi"), True) is not None:
            return
        time.sleep(0.5)
    raise AssertionError("the parser process never became ready")


@pytest.fixture(scope="module")
def parser(model_id):
    parser = ParserProcess(MODEL, model_id, pipes=2)
    try:
        wait_until_ready(parser)
        yield parser
    finally:
        parser.stop()


def test_every_message_is_understood_as_the_server_understands_it(agent, parser):
    texts = _messages()
    assert len(texts) > 300
    for n, text in enumerate(texts):
        # intent and its confidence, the whole ranking, entities, the FAQ answer
        assert parser.parse(message(text, n), True) == servers_own_parse(agent, text, n)


def test_two_threads_parse_at_once_each_getting_its_own_answer(agent, parser):
    texts = _messages()[:40]
    with ThreadPoolExecutor(2) as pool:
        parsed = list(pool.map(lambda n: parser.parse(message(texts[n], n), True), range(len(texts))))
    assert parsed == [servers_own_parse(agent, text, n) for n, text in enumerate(texts)]


def test_a_message_it_cannot_send_is_left_to_the_server_and_the_pipe_stays_usable(parser):
    unpicklable = UserMessage("hi", sender_id="parser-test", metadata={"lock": threading.Lock()})
    assert parser.parse(unpicklable, True) is None
    assert not parser.broken
    assert parser.parse(message("hi"), True)["intent"]["name"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_stopped_then_killed_parser_processes_are_replaced_no_sooner_than_the_restart_interval(model_id, monkeypatch):
    monkeypatch.setattr(parsing_process, "PARSE_TIMEOUT_SECONDS", 1.0)
    clock = Clock()
    parsers = Parsers(pipes=1, clock=clock)
    try:
        first = parsers.for_model(MODEL, model_id)
        wait_until_ready(first)
        os.kill(first.process.pid, signal.SIGSTOP)  # hung: it answers nothing
        started = time.monotonic()
        assert parsers.parse(MODEL, model_id, message("where is my order?"), True) is None
        assert time.monotonic() - started < 3
        assert first.broken and not first.process.is_alive()
        assert parsers.for_model(MODEL, model_id) is None  # too soon to start another
        clock.now += parsing_process.RESTART_SECONDS
        second = parsers.for_model(MODEL, model_id)
        assert second is not None and second is not first
        wait_until_ready(second)
        second.process.kill()  # dead: its pipes close
        second.process.join()
        assert parsers.parse(MODEL, model_id, message("where is my order?"), True) is None
        assert second.broken
    finally:
        parsers.stop()


def test_a_parser_process_holding_another_model_is_never_used(monkeypatch):
    clock = Clock()
    parsers = Parsers(pipes=1, clock=clock)
    try:
        stale = parsers.for_model(MODEL, "a-model-the-server-has-not-loaded")
        deadline = time.monotonic() + LOAD_SECONDS
        while not stale.broken and time.monotonic() < deadline:
            assert stale.parse(message("hi"), True) is None
            time.sleep(0.5)
        assert stale.broken and stale.other_model
        clock.now += parsing_process.RESTART_SECONDS
        assert parsers.for_model(MODEL, "a-model-the-server-has-not-loaded") is None
    finally:
        parsers.stop()
