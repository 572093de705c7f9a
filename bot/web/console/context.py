"""What every route of the console shares: the store, the settings, the page renderer, and a way
to run the blocking database and Rasa calls off the event loop."""
from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any, Callable

from sanic.request import Request

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

    async def current_agent(self, request: Request) -> agents.Agent | None:
        """The agent whose session cookie came with the request, if it is still valid."""
        return await self.blocking(agents.agent_for_token, self.store, request.cookies.get(SESSION_COOKIE))
