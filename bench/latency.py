"""How fast Tinsel answers: the trained model plus a real action server on a seeded demo store.

Sends a fixed mix of conversations (greeting, order tracking with verification, FAQ, out of
scope) and prints per-message latency (mean, p50, p95, max) and the process's memory.

    .venv/bin/python bench/latency.py [--conversations 30]
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.settings import load_settings  # noqa: E402
from bot.order_sources.demo import build_demo_store  # noqa: E402
from bot.store.engine import Store  # noqa: E402
from bot.store.models import Order  # noqa: E402
from tests.assistant import MODEL, ActionServer, Assistant  # noqa: E402


def scripts(store: Store) -> list[list[str]]:
    with store.session() as s:
        orders = s.execute(select(Order).where(Order.status.in_(("shipped", "delayed", "delivered")))
                           .order_by(Order.id).limit(5)).scalars().all()
        pairs = [(o.number, o.customer.email) for o in orders]
    conversations = [
        ["hi", "where is my order?", pairs[0][0], pairs[0][1], "thanks!"],
        [f"track order {pairs[1][0]} email {pairs[1][1]}", "bye"],
        ["when do I have to order to get it by christmas?", "do you do gift wrapping?"],
        ["what's the weather in Paris tomorrow?", "are you a bot?"],
    ]
    return conversations


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=30)
    args = parser.parse_args()
    if not MODEL.exists():
        print(f"No trained model at {MODEL}: run `make train` first.")
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="tinsel-bench-"))
    store = Store(f"sqlite:///{workdir / 'store.db'}")
    store.create_schema()
    build_demo_store(store, load_settings())
    server = ActionServer(store.url, workdir / "actions.log")
    started = time.perf_counter()
    assistant = Assistant(server.url)
    load_seconds = time.perf_counter() - started
    try:
        mix = scripts(store)
        assistant.new_conversation().say("hello")  # warm-up: first call builds TF graphs
        latencies: list[float] = []
        for i in range(args.conversations):
            chat = assistant.new_conversation()
            for text in mix[i % len(mix)]:
                t0 = time.perf_counter()
                chat.say(text)
                latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        assistant.close()
        server.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model load: {load_seconds:.1f} s")
    print(f"messages: {len(latencies)} in {args.conversations} conversations")
    print(f"latency ms: mean {statistics.mean(latencies):.0f}, p50 {percentile(latencies, 0.5):.0f}, "
          f"p95 {percentile(latencies, 0.95):.0f}, max {max(latencies):.0f}")
    print(f"peak memory of the Rasa process: {rss_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
