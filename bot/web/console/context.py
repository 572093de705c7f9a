"""What every route of the console shares: the store, the settings, the page renderer, and a way
to run the blocking database and Rasa calls off the event loop.

A route is the edge where a unit of work opens: `reading` and `writing` run a function that takes a
Session in a worker thread inside `store.reading()` or `store.session()`, opened in that thread."""
from __future__ import annotations

import asyncio
import functools
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable

from sanic.request import Request
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.store.engine import Store
from bot.support import accounts as agents
from bot.web.console.pages import Pages

SESSION_COOKIE = "tinsel_console"


@dataclass(frozen=True)
class ConsoleContext:
    store: Store
    settings: Settings
    pages: Pages

    async def blocking(self, fn: Callable, *args: Any) -> Any:
        """Runs fn in a worker thread, so one slow Rasa never freezes the console for the others."""
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))

    async def reading(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(session, *args) in a worker thread, in a read-only unit of work (no write lock)."""
        return await self.blocking(in_unit_of_work, self.store.reading, fn, *args)

    async def writing(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(session, *args) in a worker thread, in a unit of work committed when fn returns."""
        return await self.blocking(in_unit_of_work, self.store.session, fn, *args)

    async def current_agent(self, request: Request) -> agents.Agent | None:
        """The agent whose session cookie came with the request, if it is still valid; a page
        view only reads, so it never waits for a writer."""
        return await self.reading(agents.agent_for_token, request.cookies.get(SESSION_COOKIE))


def in_unit_of_work(
    unit_of_work: Callable[[], AbstractContextManager[Session]], fn: Callable[..., Any], *args: Any
) -> Any:
    """Opens the unit of work in the calling (worker) thread and runs fn(session, *args) in it."""
    with unit_of_work() as session:
        return fn(session, *args)
