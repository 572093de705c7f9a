"""`python -m bot privacy [export | forget] --email X`: a shopper's data requests, for operators.

    export --email X                  print everything kept about the shopper as JSON
    forget --email X --operator NAME  erase the shopper (their orders' numbers and amounts stay)
"""
from __future__ import annotations

import json
import sys
from typing import TextIO

from bot.privacy import data_requests as privacy
from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store


def privacy_command(
    action: str,
    email: str,
    operator: str | None = None,
    store: Store | None = None,
    settings: Settings | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    store = store or get_store()
    settings = settings or get_settings()
    if action == "export":
        with store.reading() as s:
            data = privacy.export_customer(s, email)
        if data is None:
            print("No customer with that email.", file=err)
            return 1
        print(json.dumps(data, indent=2, ensure_ascii=False), file=out)
        return 0
    if not operator:
        print("forget needs --operator NAME (who asked for it, for the audit log).", file=err)
        return 2
    with store.session() as s:
        report = privacy.forget_customer(s, email, operator, settings)
    if report is None:
        print("No customer with that email.", file=err)
        return 1
    print(
        f"Customer #{report.customer_id} forgotten: {report.conversations} conversations "
        f"({report.transcript_events} transcript events) erased, {report.tickets_scrubbed} tickets "
        f"and {report.audit_entries_scrubbed} audit entries scrubbed.",
        file=out,
    )
    return 0
