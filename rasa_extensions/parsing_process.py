"""A Rasa server's messages parsed in a process of its own beside it (issue #16).

Parsing on worker threads (parsing_threads.py) still shares Python's lock with the event loop:
under load the loop (policies, the tracker store, actions) and the parses' Python parts take
turns on one core while the machine's other core is mostly idle. The parser process holds its
own copy of the model's NLU (spaCy, the sentence encoder, DIET, the FAQ response selector) and
answers over pipes, so the loop keeps its core.

`rasa run` starts it once the server's model is loaded and waits for it to load the same model
(about 15 s, at most STARTUP_WAIT_SECONDS) before it serves; until it is ready, messages are
parsed in the server, as before. Each parsing thread has a pipe of its
own to it, and a parse gives the dict Rasa's `_parse_message_with_graph` gives. When the parser
process dies, does not answer within PARSE_TIMEOUT_SECONDS, or holds another model than the
server's, the server parses in-process at once and starts a new one (at most one start per
RESTART_SECONDS). It is the server's child: no port, nothing to secure, and it ends when the
server ends (its pipes close).
"""
from __future__ import annotations

import logging
import multiprocessing
import pickle
import queue
import signal
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.engine.graph import ExecutionContext
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

logger = logging.getLogger(__name__)

PARSE_TIMEOUT_SECONDS = 5.0
LOAD_TIMEOUT_SECONDS = 300.0
STARTUP_WAIT_SECONDS = 120.0  # a server starting waits this long at most for its parser process
RESTART_SECONDS = 30.0
READY, PARSED, FAILED = "ready", "parsed", "failed"


class NluGraph:
    """The NLU part of a model's prediction graph, loaded on its own."""

    def __init__(self, model_path: Path, storage_dir: Path) -> None:
        storage, metadata = LocalModelStorage.from_model_archive(
            storage_path=storage_dir, model_archive_path=model_path)
        schema = metadata.predict_schema.minimal_graph_schema([metadata.nlu_target])
        self.model_id, self.target = metadata.model_id, metadata.nlu_target
        self.runner = DaskGraphRunner.create(
            graph_schema=schema, model_storage=storage,
            execution_context=ExecutionContext(graph_schema=schema, model_id=metadata.model_id))

    def parse(self, message: UserMessage, only_output_properties: bool) -> Dict[Text, Any]:
        """What Rasa's MessageProcessor._parse_message_with_graph gives for the message."""
        results = self.runner.run(inputs={"__message__": [message]}, targets=[self.target])
        parse_data: Dict[Text, Any] = {
            TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
        parse_data.update(results[self.target][0].as_dict(only_output_properties=only_output_properties))
        return parse_data


def serve(model_path: str, pipes: List[Connection]) -> None:
    """The parser process: loads the NLU, then answers each pipe on a thread of its own until the
    server closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which closes the pipes
    with tempfile.TemporaryDirectory(prefix="tinsel-parser-") as storage_dir:
        graph = NluGraph(Path(model_path), Path(storage_dir))
        threads = [threading.Thread(target=answer, args=(pipe, graph)) for pipe in pipes]
        for pipe, thread in zip(pipes, threads):
            pipe.send((READY, graph.model_id))
            thread.start()
        for thread in threads:
            thread.join()


def answer(pipe: Connection, graph: NluGraph) -> None:
    while True:
        try:
            text, message_id, metadata, only_output_properties = pipe.recv()
        except (EOFError, OSError):
            return  # the server is gone
        try:
            reply = (PARSED, graph.parse(UserMessage(text, message_id=message_id, metadata=metadata),
                                         only_output_properties))
        except Exception:  # the server parses it itself, and shows Rasa's own error if it fails there too
            logger.exception("The parser process could not parse a message.")
            reply = (FAILED, None)
        try:
            pipe.send(reply)
        except (EOFError, OSError):
            return


class ParserProcess:
    """One parser process and the server's ends of its pipes."""

    def __init__(self, model_path: Path, model_id: Text, pipes: int) -> None:
        context = multiprocessing.get_context("spawn")  # TensorFlow's threads do not survive a fork
        ends = [context.Pipe() for _ in range(pipes)]
        self.model_path, self.model_id = model_path, model_id
        self.broken = False
        self.other_model = False  # the file at model_path holds another model now
        self.process = context.Process(target=serve, args=(str(model_path), [child for _, child in ends]),
                                       name="tinsel-parser", daemon=True)
        self.process.start()
        for _, child in ends:
            child.close()
        self._pipes = [ours for ours, _ in ends]
        self._idle: "queue.SimpleQueue[Connection]" = queue.SimpleQueue()
        self._settled = threading.Event()  # set once it is ready, or known not to be
        self._stopping = threading.Lock()
        threading.Thread(target=self._await_ready, daemon=True, name="parser-start").start()

    def _await_ready(self) -> None:
        """Each pipe goes into use as the process says it is ready, with the server's model."""
        try:
            for pipe in self._pipes:
                try:
                    ready = pipe.poll(LOAD_TIMEOUT_SECONDS) and pipe.recv()
                except (EOFError, OSError):
                    ready = None
                if ready != (READY, self.model_id):
                    if ready:
                        logger.warning("The parser process loaded another model than the server's; "
                                       "parsing in the server.")
                        self.other_model = True
                    self.stop()
                    return
                self._idle.put(pipe)
            logger.info(f"Parser process {self.process.pid} is ready: messages are parsed there.")
        finally:
            self._settled.set()

    def wait_until_settled(self, seconds: float) -> None:
        """Waits until it is ready or known not to be, at most `seconds`."""
        self._settled.wait(seconds)

    def parse(self, message: UserMessage, only_output_properties: bool) -> Optional[Dict[Text, Any]]:
        """The parse, or None when the process cannot give it now (the caller parses it itself)."""
        try:
            pipe = self._idle.get_nowait()
        except queue.Empty:
            return None  # still loading, or broken
        try:
            pipe.send((message.text, message.message_id, message.metadata, only_output_properties))
        except (pickle.PicklingError, TypeError, AttributeError):
            self._idle.put(pipe)  # pickling fails before anything is written: the pipe is fine
            return None
        except OSError:
            return self._fail("The parser process is gone; parsing in the server.")
        try:
            if not pipe.poll(PARSE_TIMEOUT_SECONDS):
                return self._fail("The parser process did not answer in time; parsing in the server.")
            status, parse_data = pipe.recv()
        except (EOFError, OSError):
            return self._fail("The parser process is gone; parsing in the server.")
        self._idle.put(pipe)
        return parse_data if status == PARSED else None

    def _fail(self, why: Text) -> None:
        logger.warning(why)
        self.stop()
        return None

    def stop(self) -> None:
        """Kills the process; its pipes are not used again."""
        with self._stopping:
            if self.broken:
                return
            self.broken = True
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)
            for pipe in self._pipes:
                pipe.close()


class Parsers:
    """The server's parser process for the model it serves, started again after a failure."""

    def __init__(self, pipes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.pipes, self._clock = pipes, clock
        self.current: Optional[ParserProcess] = None
        self._started_at = -RESTART_SECONDS
        self._other_models: set = set()  # model ids whose file holds another model: not tried again
        self._lock = threading.Lock()

    def for_model(self, model_path: Path, model_id: Text) -> Optional[ParserProcess]:
        """The parser process of this model, starting one when there is none and it may."""
        with self._lock:
            current = self.current
            if current is not None and not current.broken and current.model_id == model_id:
                return current
            if current is not None:
                current.stop()
                self.current = None
                if current.other_model:
                    self._other_models.add(current.model_id)
            if model_id in self._other_models or self._clock() - self._started_at < RESTART_SECONDS:
                return None
            self._started_at = self._clock()
            self.current = ParserProcess(model_path, model_id, self.pipes)
            return self.current

    def parse(self, model_path: Path, model_id: Text, message: UserMessage,
              only_output_properties: bool) -> Optional[Dict[Text, Any]]:
        parser = self.for_model(model_path, model_id)
        return parser.parse(message, only_output_properties) if parser is not None else None

    def stop(self) -> None:
        with self._lock:
            if self.current is not None:
                self.current.stop()
                self.current = None

