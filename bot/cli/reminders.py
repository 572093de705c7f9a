"""`python -m bot reminders [list | send-due | run]`: the shoppers' reminders for operators.

    list        reminders still to go out, soonest first
    send-due    send every reminder and order update that is due now, once
    run         keep sending them every --interval seconds (started by `make run`)

Issue #18: each pass also re-checks whether watched gifts still arrive in time and delivers
the due proactive order updates (bot.engagement.order_updates), so one runner does both.
"""
from __future__ import annotations

import sys
import time
import urllib.error
from typing import TextIO

from bot.engagement import late_gifts, order_updates, reminders
from bot.privacy import data_requests as privacy
from bot.privacy.log_masking import mask_logs
from bot.rasa_link import rasa_api
from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store


def send_through_rasa(settings: Settings) -> reminders.Sender:
    def send(due: reminders.DueReminder) -> None:
        rasa_api.trigger_intent(due.conversation_id, due.intent, due.entities, rasa_url=settings.rasa_url)

    return send


def send_updates_through_rasa(settings: Settings) -> order_updates.Sender:
    """Fires the update into its conversation; Rasa answering with an error (the shopper's channel
    refused the message) is order_updates.Refused, so the update is tried again."""

    def send(due: order_updates.DueUpdate) -> None:
        try:
            rasa_api.trigger_intent(due.conversation_id, due.intent, due.entities, rasa_url=settings.rasa_url)
        except rasa_api.RasaUnavailable as exc:
            if isinstance(exc.__cause__, urllib.error.HTTPError):
                raise order_updates.Refused(str(exc)) from exc
            raise

    return send


def deliver_order_updates(store: Store, settings: Settings, out: TextIO) -> order_updates.DeliveryReport:
    """One pass of issue #18's work: late gifts re-checked, then due order updates sent."""
    now = settings.now()
    with store.session() as s:
        late_gifts.recheck(s, now, settings)
    report = order_updates.deliver_due(store, send_updates_through_rasa(settings), now, settings)
    for label, ids in (("order updates sent", report.sent), ("order updates to retry", report.retrying),
                       ("order updates given up", report.failed),
                       ("order updates waiting for an agent", report.waiting_for_agent)):
        if ids:
            print(f"{label}: {', '.join(f'#{i}' for i in ids)}", file=out)
    return report


def _print_report(report: reminders.DeliveryReport, out: TextIO) -> None:
    for label, ids in (
        ("sent", report.sent),
        ("will retry", report.retrying),
        ("failed", report.failed),
        ("waiting for an agent", report.waiting_for_agent),
        ("moved to the sale's new dates", report.rescheduled),
        ("missed (the sale is over)", report.missed),
    ):
        if ids:
            print(f"{label}: {', '.join(f'#{i}' for i in ids)}", file=out)


def reminders_command(
    action: str,
    interval: float = 60.0,
    store: Store | None = None,
    settings: Settings | None = None,
    out: TextIO = sys.stdout,
) -> int:
    store = store or get_store()
    settings = settings or get_settings()
    store.create_schema()
    if action == "list":
        with store.reading() as s:
            due = reminders.upcoming(s)
        if not due:
            print("No reminders to send.", file=out)
        for r in due:
            print(f"#{r.id:<5} {r.due_at:%Y-%m-%d %H:%M}  {r.kind:<12} {r.channel:<10} {r.conversation_id}", file=out)
        return 0
    send = send_through_rasa(settings)
    if action == "send-due":
        _print_report(reminders.deliver_due(store, send, settings=settings), out)
        deliver_order_updates(store, settings, out)
        return 0
    mask_logs()  # issue #15 (privacy): no shopper data in this long-running process's log
    print(f"Sending due reminders and order updates every {interval:g} s through {settings.rasa_url} (Ctrl-C stops).", file=out)
    try:
        while True:
            _print_report(reminders.deliver_due(store, send, settings=settings), out)
            deliver_order_updates(store, settings, out)
            # issue #15 (privacy): transcript retention runs with every cycle.
            with store.session() as s:
                pruned = privacy.prune_transcripts(s, settings)
            if pruned:
                print(f"transcripts: {pruned} events older than {settings.transcript_retention_days} days deleted", file=out)
            out.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
