"""A running Rasa server's parser process (rasa_extensions/parsing_process.py, PARSER_PROCESS=1)
really killed, or stopped with SIGSTOP: the shopper's messages are still understood (the server
parses them itself; a stopped parser is waited for at most its timeout), the conversation and its
order form carry on, the stopped process is ended rather than left behind, and a new parser
process takes over. Over HTTP, against the server."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from rasa_extensions.parsing_process import PARSE_TIMEOUT_SECONDS, RESTART_SECONDS
from tests.faults.conftest import shipped_order
from tests.faults.test_order_system_down import new_shopper, start_order_form, timed_say

PARSER_PROCESS = "1"  # the module's fault stack runs one (tests/faults/conftest.py)
READY_LINE = "is ready: messages are parsed there"
LOAD_SECONDS = 240


def parser_pids(rasa) -> list[int]:
    """The server's live parser processes: its children started by multiprocessing's spawn."""
    pids = []
    for task in Path(f"/proc/{rasa.process.pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if b"spawn_main" in cmdline and state != "Z":
                pids.append(int(child))
    return pids


def ready_parsers(rasa) -> int:
    return rasa.log_path.read_text(errors="replace").count(READY_LINE)


def wait_until(condition, seconds: float, then=lambda: None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        then()
        time.sleep(1)


def a_ready_parser(rasa) -> int:
    wait_until(lambda: ready_parsers(rasa) >= 1 and len(parser_pids(rasa)) == 1, LOAD_SECONDS)
    return parser_pids(rasa)[0]


def test_the_server_has_a_parser_process(healthy_actions):
    rasa = healthy_actions.rasa
    pid = a_ready_parser(rasa)
    assert "order number" in rasa.say(new_shopper(), "where is my order?").lower()
    assert parser_pids(rasa) == [pid]


def test_killed_parser_process_mid_form_then_a_new_one_takes_over(healthy_actions):
    stack = healthy_actions
    rasa = stack.rasa
    pid, ready_before = a_ready_parser(rasa), ready_parsers(rasa)
    number, email = shipped_order(stack.store)
    sender = start_order_form(rasa, number)
    os.kill(pid, signal.SIGKILL)
    answer = timed_say(rasa, sender, email)
    assert f"Order {number}" in answer and "on its way" in answer
    other = new_shopper()
    wait_until(lambda: ready_parsers(rasa) > ready_before, RESTART_SECONDS + LOAD_SECONDS,
               then=lambda: rasa.say(other, "hi"))  # a message after the restart interval starts one
    assert parser_pids(rasa) and pid not in parser_pids(rasa)
    assert "order number" in rasa.say(new_shopper(), "where is my order?").lower()


def test_stopped_parser_process_is_waited_for_at_most_its_timeout_and_ended(healthy_actions):
    stack = healthy_actions
    rasa = stack.rasa
    pid = a_ready_parser(rasa)
    number, email = shipped_order(stack.store)
    sender = start_order_form(rasa, number)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        answer = timed_say(rasa, sender, email)
        assert time.monotonic() - started < PARSE_TIMEOUT_SECONDS + 5
        assert f"Order {number}" in answer and "on its way" in answer
        wait_until(lambda: pid not in parser_pids(rasa), 10)  # killed, not left stopped
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
