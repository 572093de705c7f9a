"""A message's NLU runs on a worker thread, not on the Rasa server's event loop (issue #16).

Rasa parses a message (spaCy, the sentence encoder, DIET, the response selector) synchronously
on the event loop, so one server uses about one core however many shoppers are waiting, and
nothing else (an action server's answer, a reply to send) moves meanwhile. The heavy parts run
outside Python's lock (TensorFlow, onnxruntime), so on a worker thread two parses share the
machine's cores and the loop stays free. Rasa's own `parse_message` still does everything after
the parse; only the graph run moves.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL_PARSE_MESSAGE = MessageProcessor.parse_message
ORIGINAL_PARSE_WITH_GRAPH = MessageProcessor._parse_message_with_graph

_parsed_on_worker: ContextVar[Optional[Dict[Text, Any]]] = ContextVar("parsed_on_worker", default=None)
_workers: Optional[ThreadPoolExecutor] = None


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
        _workers, ORIGINAL_PARSE_WITH_GRAPH, self, message, tracker, only_output_properties)
    token = _parsed_on_worker.set(parse_data)
    try:
        return await ORIGINAL_PARSE_MESSAGE(self, message, tracker, only_output_properties)
    finally:
        _parsed_on_worker.reset(token)


def parse_with_graph_or_take_parsed(self: MessageProcessor, *args: Any, **kwargs: Any) -> Dict[Text, Any]:
    """Inside parse_message_on_worker, the worker's result; anywhere else, Rasa's own graph run."""
    parsed = _parsed_on_worker.get()
    if parsed is not None:
        _parsed_on_worker.set(None)
        return parsed
    return ORIGINAL_PARSE_WITH_GRAPH(self, *args, **kwargs)


def install(threads: int) -> None:
    """From now on messages are parsed on `threads` worker threads (0: on the event loop, as Rasa)."""
    global _workers
    if _workers is not None:
        _workers.shutdown(wait=False)
        _workers = None
    if threads <= 0:
        MessageProcessor.parse_message = ORIGINAL_PARSE_MESSAGE
        MessageProcessor._parse_message_with_graph = ORIGINAL_PARSE_WITH_GRAPH
        return
    _workers = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nlu")
    MessageProcessor.parse_message = parse_message_on_worker
    MessageProcessor._parse_message_with_graph = parse_with_graph_or_take_parsed
