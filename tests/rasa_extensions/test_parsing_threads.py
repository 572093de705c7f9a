"""Messages parsed on worker threads (rasa_extensions/parsing_threads.py): the event loop keeps
going during a parse, two parses run at once and each gets its own result, Rasa's own steps after
the parse still apply, and 0 threads gives Rasa's behaviour back. A stand-in graph runner, no model."""
from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE
from rasa.shared.nlu.training_data.message import Message

from rasa_extensions import parsing_threads

NLU_TARGET = "run_RegexMessageHandler"


class StandInGraphRunner:
    """Parses a message as intent `said_<text>` once `go` is set, noting the thread it ran on."""

    def __init__(self, go: threading.Barrier | threading.Event) -> None:
        self.go = go
        self.threads: list[str] = []
        self.waited_in_vain = False

    def run(self, inputs, targets):
        self.threads.append(threading.current_thread().name)
        let_go = self.go.wait(5)
        self.waited_in_vain = self.waited_in_vain or let_go is False
        text = inputs[PLACEHOLDER_MESSAGE][0].text
        parsed = Message(data={"text": text, "intent": {"name": f"said_{text}", "confidence": 0.9},
                               "entities": [], "response_selector": {
                                   "all_retrieval_intents": [f"said_{text}"],
                                   f"said_{text}": {"response": {"intent_response_key": f"said_{text}/answer"}}}},
                         output_properties={"text", "intent", "entities", "response_selector"})
        return {targets[0]: [parsed]}


def processor_with(graph_runner) -> MessageProcessor:
    """A MessageProcessor with only what parse_message reads (no model, no domain)."""
    processor = object.__new__(MessageProcessor)
    processor.http_interpreter = None
    processor.graph_runner = graph_runner
    processor.model_metadata = SimpleNamespace(nlu_target=NLU_TARGET)
    processor.domain = None
    return processor


@pytest.fixture
def two_threads():
    parsing_threads.install(2)
    yield
    parsing_threads.install(0)


def test_the_event_loop_keeps_going_while_a_message_is_parsed(two_threads):
    go = threading.Event()
    runner = StandInGraphRunner(go)
    processor = processor_with(runner)

    async def let_the_parse_finish():
        await asyncio.sleep(0.01)
        go.set()  # on the loop: had the parse held the loop, this would come only after it gave up

    async def main():
        parsed, _ = await asyncio.gather(processor.parse_message(UserMessage("hi", sender_id="s")),
                                         let_the_parse_finish())
        return parsed

    parsed = asyncio.run(main())
    assert not runner.waited_in_vain
    assert runner.threads[0].startswith("nlu")
    assert parsed["intent"]["name"] == "said_hi"


def test_two_messages_are_parsed_at_once_and_each_gets_its_own_result(two_threads):
    both_started = threading.Barrier(2)  # passes only when two parses are under way together
    runner = StandInGraphRunner(both_started)
    processor = processor_with(runner)

    async def main():
        return await asyncio.gather(*(processor.parse_message(UserMessage(text, sender_id=text))
                                      for text in ("hello", "refund")))

    hello, refund = asyncio.run(main())
    assert not runner.waited_in_vain
    assert (hello["intent"]["name"], refund["intent"]["name"]) == ("said_hello", "said_refund")


def test_rasas_own_steps_after_the_parse_still_apply(two_threads):
    processor = processor_with(StandInGraphRunner(threading.Event()))
    processor.graph_runner.go.set()
    parsed = asyncio.run(processor.parse_message(UserMessage("faq", sender_id="s")))
    assert parsed["intent"]["full_retrieval_intent_name"] == "said_faq/answer"


def test_the_graph_run_outside_parse_message_is_rasas_own(two_threads):
    runner = StandInGraphRunner(threading.Event())
    runner.go.set()
    processor = processor_with(runner)
    from rasa.shared.core.trackers import DialogueStateTracker
    parsed = processor._parse_message_with_graph(UserMessage("x", sender_id="s"),
                                                 DialogueStateTracker.from_events("s", []))
    assert parsed["intent"]["name"] == "said_x"
    assert runner.threads == [threading.current_thread().name]


def test_no_threads_is_rasas_behaviour():
    parsing_threads.install(2)
    parsing_threads.install(0)
    assert MessageProcessor.parse_message is parsing_threads.ORIGINAL_PARSE_MESSAGE
    assert MessageProcessor._parse_message_with_graph is parsing_threads.ORIGINAL_PARSE_WITH_GRAPH
    runner = StandInGraphRunner(threading.Event())
    runner.go.set()
    parsed = asyncio.run(processor_with(runner).parse_message(UserMessage("hi", sender_id="s")))
    assert parsed["intent"]["name"] == "said_hi"
    assert runner.threads == [threading.current_thread().name]
