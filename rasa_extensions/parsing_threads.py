"""A message's NLU runs on a worker thread, not on the Rasa server's event loop (issue #16).

Rasa parses a message (spaCy, the sentence encoder, DIET, the response selector) synchronously
on the event loop, so one server uses about one core however many shoppers are waiting, and
nothing else (an action server's answer, a reply to send) moves meanwhile. The heavy parts run
outside Python's lock (TensorFlow, onnxruntime), so on a worker thread two parses share the
machine's cores and the loop stays free. Rasa's own `parse_message` still does everything after
the parse; only the graph run moves. With a parser process (parsing_process.py), the worker
threads hand the parse to it and wait, so the event loop has this process's core to itself.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, Dict, Optional, Text

import rasa.core.run
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_extensions.parsing_process import STARTUP_WAIT_SECONDS, Parsers

ORIGINAL_PARSE_MESSAGE = MessageProcessor.parse_message
ORIGINAL_PARSE_WITH_GRAPH = MessageProcessor._parse_message_with_graph
ORIGINAL_LOAD_AGENT_ON_START = rasa.core.run.load_agent_on_start

_parsed_on_worker: ContextVar[Optional[Dict[Text, Any]]] = ContextVar("parsed_on_worker", default=None)
_workers: Optional[ThreadPoolExecutor] = None
_parsers: Optional[Parsers] = None


def parse_on_worker(self: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker,
                    only_output_properties: bool) -> Dict[Text, Any]:
    """The parser process's parse when it can give one now, else Rasa's graph run here."""
    if _parsers is not None:
        parsed = _parsers.parse(self.model_path, self.model_metadata.model_id, message, only_output_properties)
        if parsed is not None:
            return parsed
    return ORIGINAL_PARSE_WITH_GRAPH(self, message, tracker, only_output_properties)


async def parse_message_on_worker(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    """Rasa's parse_message, its graph run done on a worker thread."""
    if self.http_interpreter or _workers is None:
        return await ORIGINAL_PARSE_MESSAGE(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await asyncio.get_running_loop().run_in_executor(
        _workers, parse_on_worker, self, message, tracker, only_output_properties)
    token = _parsed_on_worker.set(parse_data)
    try:
        return await ORIGINAL_PARSE_MESSAGE(self, message, tracker, only_output_properties)
    finally:
        _parsed_on_worker.reset(token)


async def load_agent_and_start_parser(*args: Any, **kwargs: Any) -> Agent:
    """Rasa's `rasa run` start-up, then the parser process of the loaded model: the server serves
    once it is ready (or STARTUP_WAIT_SECONDS have passed), so it is not loading while shoppers wait."""
    agent = await ORIGINAL_LOAD_AGENT_ON_START(*args, **kwargs)
    parser = None
    if _parsers is not None and agent.processor is not None:
        parser = _parsers.for_model(agent.processor.model_path, agent.processor.model_metadata.model_id)
    if parser is not None:
        await asyncio.get_running_loop().run_in_executor(None, parser.wait_until_settled, STARTUP_WAIT_SECONDS)
    return agent


def parse_with_graph_or_take_parsed(self: MessageProcessor, *args: Any, **kwargs: Any) -> Dict[Text, Any]:
    """Inside parse_message_on_worker, the worker's result; anywhere else, Rasa's own graph run."""
    parsed = _parsed_on_worker.get()
    if parsed is not None:
        _parsed_on_worker.set(None)
        return parsed
    return ORIGINAL_PARSE_WITH_GRAPH(self, *args, **kwargs)


def install(threads: int, parser_process: bool = False) -> None:
    """From now on messages are parsed on `threads` worker threads (0: on the event loop, as Rasa),
    which hand them to a parser process when `parser_process` (one pipe per thread)."""
    global _workers, _parsers
    if _workers is not None:
        _workers.shutdown(wait=False)
        _workers = None
    if _parsers is not None:
        _parsers.stop()
        _parsers = None
    rasa.core.run.load_agent_on_start = ORIGINAL_LOAD_AGENT_ON_START
    if threads <= 0:
        MessageProcessor.parse_message = ORIGINAL_PARSE_MESSAGE
        MessageProcessor._parse_message_with_graph = ORIGINAL_PARSE_WITH_GRAPH
        return
    _workers = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nlu")
    if parser_process:
        _parsers = Parsers(pipes=threads)
        rasa.core.run.load_agent_on_start = load_agent_and_start_parser
    MessageProcessor.parse_message = parse_message_on_worker
    MessageProcessor._parse_message_with_graph = parse_with_graph_or_take_parsed
