"""Where one turn's time goes (issue #16): the trained model in this process, a real action
server on a seeded demo store and Rasa's SQL tracker store, timed per part of the turn.

Every graph component Rasa runs for a message (spaCy, the sentence encoder, DIET, the blended
intent classifier, the response selector, TED, rules, ...) is timed by wrapping Rasa's
GraphNode call; the action server round trip by wrapping RemoteAction.run; the tracker store by
wrapping its retrieve and save. Prints each part's mean milliseconds per message and its share.

The tracker store is the one endpoints.yml names (rasa_extensions/tracker_store.py); with
--baseline, conversations alternate between it and Rasa's own SQLTrackerStore in this process,
and the tracker store's rows and the whole turn are printed for each, with their ratio.

    .venv/bin/python bench/profile_turn.py [--conversations 20] [--baseline]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import MODEL, ActionServer, action_server_headers, seeded_demo_store  # noqa: E402

SPENT: dict[str, float] = collections.defaultdict(float)
CALLS: collections.Counter = collections.Counter()


def timed(name_of):
    """Wraps a method so its wall time adds to SPENT[name_of(self, ...)]."""

    def wrap(method):
        if asyncio.iscoroutinefunction(method):
            @functools.wraps(method)
            async def run_async(self, *args, **kwargs):
                started = time.perf_counter()
                try:
                    return await method(self, *args, **kwargs)
                finally:
                    SPENT[name_of(self)] += time.perf_counter() - started
                    CALLS[name_of(self)] += 1
            return run_async

        @functools.wraps(method)
        def run(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                SPENT[name_of(self)] += time.perf_counter() - started
                CALLS[name_of(self)] += 1
        return run

    return wrap


def instrument() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.graph import GraphNode

    GraphNode.__call__ = timed(lambda node: f"component {node._component_class.__name__}")(GraphNode.__call__)
    RemoteAction.run = timed(lambda action: f"action server: {action.name()}")(RemoteAction.run)
    from rasa_extensions.tracker_store import RememberingSQLTrackerStore

    for store_class in (SQLTrackerStore, RememberingSQLTrackerStore):
        store_class.retrieve = timed(lambda store: f"tracker store: read{label(store)}")(store_class.retrieve)
        store_class.save = timed(lambda store: f"tracker store: write{label(store)}")(store_class.save)


BASELINE = False  # set by --baseline: tracker store rows then say whose they are


def label(store) -> str:
    return f" ({type(store).__name__})" if BASELINE else ""


def conversations(store) -> list[list[str]]:
    from sqlalchemy import select

    from bot.store.models import Order

    with store.session() as s:
        order = s.execute(select(Order).where(Order.status == "shipped").order_by(Order.id)).scalars().first()
        number, email = order.number, order.customer.email
    return [["hi", "where is my order?", number, email, "what is your return policy?", "thanks"],
            ["I need a gift for my dad under $50", "do you do gift wrapping?", "can I talk to a person?"]]


def main() -> int:
    global BASELINE
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--by-action", action="store_true", help="one row per custom action, not one in all")
    parser.add_argument("--baseline", action="store_true",
                        help="alternate conversations with Rasa's own SQLTrackerStore and compare")
    args = parser.parse_args()
    BASELINE = args.baseline
    # Rasa's DEBUG lines (its logging and its structlog events, which print unless configured, as
    # `rasa run` does) would bury the table and slow every turn.
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    from rasa_extensions import resilient_actions
    from rasa_extensions.tracker_store import RememberingSQLTrackerStore

    workdir = Path(tempfile.mkdtemp(prefix="tinsel-profile-"))
    store = seeded_demo_store(workdir / "store.db")
    actions = ActionServer(store.url, workdir / "actions.log")
    try:
        resilient_actions.install()
        instrument()
        ours = RememberingSQLTrackerStore(dialect="sqlite", db=str(workdir / "store.db"))
        agent = Agent.load(str(MODEL), tracker_store=ours,
                           action_endpoint=EndpointConfig(actions.url, headers=action_server_headers()))
        rasas = SQLTrackerStore(agent.domain, dialect="sqlite", db=str(workdir / "store.db"))
        tracker_stores = [ours, rasas] if args.baseline else [ours]
        loop = asyncio.new_event_loop()
        scripts = conversations(store)
        for text in ("hi", "where is my order?"):  # warm-up, not counted
            loop.run_until_complete(agent.handle_text(text, sender_id="warm-up"))
        SPENT.clear()
        CALLS.clear()
        messages: collections.Counter = collections.Counter()
        seconds: dict[str, float] = collections.defaultdict(float)
        for n in range(args.conversations):
            tracker_store = tracker_stores[n % len(tracker_stores)]
            agent.processor.tracker_store = FailSafeTrackerStore(tracker_store)
            sender = f"profile-{uuid.uuid4().hex[:8]}"
            for text in scripts[(n // len(tracker_stores)) % len(scripts)]:
                started = time.perf_counter()
                loop.run_until_complete(agent.handle_text(text, sender_id=sender))
                seconds[type(tracker_store).__name__] += time.perf_counter() - started
                messages[type(tracker_store).__name__] += 1
        report(sum(seconds.values()), sum(messages.values()), by_action=args.by_action)
        if args.baseline:
            compare(seconds, messages)
    finally:
        actions.stop()
    return 0


def compare(seconds: dict[str, float], messages: dict[str, int]) -> None:
    """Each tracker store's rows and whole turn, per message of its own conversations."""
    per_message = {name: seconds[name] / messages[name] * 1000 for name in seconds}
    print("\n| Tracker store | read ms | write ms | whole turn ms |\n|---|---:|---:|---:|")
    for name in per_message:
        read = SPENT[f"tracker store: read ({name})"] / messages[name] * 1000
        write = SPENT[f"tracker store: write ({name})"] / messages[name] * 1000
        print(f"| {name} | {read:.1f} | {write:.1f} | {per_message[name]:.1f} |")
    ours, rasas = per_message["RememberingSQLTrackerStore"], per_message["SQLTrackerStore"]
    print(f"\nwhole turn, remembering / Rasa's: {ours / rasas:.2f}x")


def merged(by_action: bool) -> tuple[dict[str, float], dict[str, int]]:
    """SPENT and CALLS with every custom action in one row, unless by_action."""
    if by_action:
        return dict(SPENT), dict(CALLS)
    spent: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter = collections.Counter()
    for name, seconds in SPENT.items():
        row = "action server round trip" if name.startswith("action server:") else name
        spent[row] += seconds
        calls[row] += CALLS[name]
    return dict(spent), dict(calls)


def report(total: float, messages: int, by_action: bool) -> None:
    print(f"{messages} messages, {total / messages * 1000:.1f} ms per message in all (one shopper at a time)\n")
    print("| Part of the turn | ms per message | calls per message | share |\n|---|---:|---:|---:|")
    spent, calls = merged(by_action)
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        if seconds / total >= 0.005:
            print(f"| {name} | {seconds / messages * 1000:.1f} | {calls[name] / messages:.1f} | {seconds / total:.0%} |")
    accounted = sum(SPENT.values())
    print(f"| everything else (Rasa's processor, policies' glue, events) | "
          f"{(total - accounted) / messages * 1000:.1f} | | {(total - accounted) / total:.0%} |")


if __name__ == "__main__":
    sys.exit(main())
