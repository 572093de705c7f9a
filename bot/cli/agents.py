"""`python -m bot agents add USERNAME --role agent|supervisor --limit AMOUNT` and
`python -m bot agents reset-password USERNAME`.

The password is asked for twice on a terminal, or read as the first line of stdin
(`printf '%s\\n' "$PASSWORD" | python -m bot agents add ...`), never taken from the command
line, where it would end up in the shell history and the process list.
"""
from __future__ import annotations

import getpass
import sys
from typing import Callable, TextIO

from sqlalchemy.orm import Session

from bot.store.engine import Store, get_store
from bot.support import accounts as agents


def read_password(stdin: TextIO) -> str | None:
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            return None
        return first
    return stdin.readline().rstrip("\r\n")


def add_command(
    username: str,
    role: str,
    limit: str,
    store: Store | None = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> int:
    def create(session: Session, password: str) -> str:
        account = agents.add_account(session, username, role, limit, password)
        return f"Account {account.username} ({account.role}) created, refund limit {account.refund_limit:.2f}."

    return _with_new_password(create, "created", store, stdin, out)


def reset_password_command(
    username: str, store: Store | None = None, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    """Sets a new password (read like `add` does) and ends the account's console sessions."""
    def reset(session: Session, password: str) -> str:
        agents.reset_password(session, username, password)
        return f"New password set for {username.strip().lower()}; its open console sessions are ended."

    return _with_new_password(reset, "changed", store, stdin, out)


def _with_new_password(
    change: Callable[[Session, str], str], verb: str, store: Store | None, stdin: TextIO | None, out: TextIO | None
) -> int:
    """Reads the password twice, then makes the account change in one unit of work (nothing is
    written when it is refused); one wording for both commands."""
    store = store or get_store()
    out = out or sys.stdout
    password = read_password(stdin or sys.stdin)
    if password is None:
        print(f"The two passwords differ; nothing was {verb}.", file=out)
        return 1
    store.create_schema()
    try:
        with store.session() as session:
            done = change(session, password)
    except agents.AccountError as exc:
        print(f"Not {verb}: {exc}.", file=out)
        return 1
    print(done, file=out)
    return 0
