"""`python -m bot agents add USERNAME --role agent|supervisor --limit AMOUNT` and
`python -m bot agents reset-password USERNAME`.

The password is asked for twice on a terminal, or read as the first line of stdin
(`printf '%s\\n' "$PASSWORD" | python -m bot agents add ...`), never taken from the command
line, where it would end up in the shell history and the process list.
"""
from __future__ import annotations

import getpass
import sys
from typing import TextIO

from bot import agents
from bot.store import Store, get_store


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
    store = store or get_store()
    out = out or sys.stdout
    password = read_password(stdin or sys.stdin)
    if password is None:
        print("The two passwords differ; nothing was created.", file=out)
        return 1
    store.create_schema()
    try:
        account = agents.add_account(store, username, role, limit, password)
    except agents.AccountError as exc:
        print(f"Not created: {exc}.", file=out)
        return 1
    print(f"Account {account.username} ({account.role}) created, refund limit {account.refund_limit:.2f}.", file=out)
    return 0


def reset_password_command(
    username: str, store: Store | None = None, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    """Sets a new password (read like `add` does) and ends the account's console sessions."""
    store = store or get_store()
    out = out or sys.stdout
    password = read_password(stdin or sys.stdin)
    if password is None:
        print("The two passwords differ; nothing was changed.", file=out)
        return 1
    store.create_schema()
    try:
        agents.reset_password(store, username, password)
    except agents.AccountError as exc:
        print(f"Not changed: {exc}.", file=out)
        return 1
    print(f"New password set for {username.strip().lower()}; its open console sessions are ended.", file=out)
    return 0
