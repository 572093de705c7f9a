"""`python -m bot orders update|return-received`: an order's changes from the operator's terminal.

    update ORDER --status shipped|out_for_delivery|delayed|delivered [--tracking N] [--carrier C]
    return-received RMA

Each changes the order (or return) and queues the update for the shoppers who follow it in one
unit of work; `python -m bot reminders run` delivers it. An unknown order writes nothing.
"""
from __future__ import annotations

import sys
from typing import TextIO

from bot.engagement import order_updates
from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store


def _told(ids: list[int]) -> str:
    return f"{len(ids)} update(s) queued" if ids else "nobody follows it: no update queued"


def update_order_command(
    number: str, status: str, tracking: str | None = None, carrier: str | None = None,
    store: Store | None = None, settings: Settings | None = None, out: TextIO | None = None,
) -> int:
    store, settings = store or get_store(), settings or get_settings()
    store.create_schema()
    try:
        with store.session() as s:
            order, ids = order_updates.set_order_status(s, number, status, settings.now(), tracking, carrier)
            number = order.number
    except order_updates.UnknownOrder as exc:
        print(f"ERROR: {exc}; nothing changed.", file=sys.stderr)
        return 2
    print(f"Order #{number} is now {status}; {_told(ids)}.", file=out or sys.stdout)
    return 0


def return_received_command(
    rma: str, store: Store | None = None, settings: Settings | None = None, out: TextIO | None = None
) -> int:
    store, settings = store or get_store(), settings or get_settings()
    store.create_schema()
    try:
        with store.session() as s:
            ret, ids = order_updates.mark_return_received(s, rma, settings.now())
            rma = ret.rma
    except order_updates.UnknownOrder as exc:
        print(f"ERROR: {exc}; nothing changed.", file=sys.stderr)
        return 2
    print(f"Return {rma} received; {_told(ids)}.", file=out or sys.stdout)
    return 0
