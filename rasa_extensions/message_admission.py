"""At most a few messages at work in a Rasa server at once, the rest waiting their turn (issue #16).

A Rasa server works on every message it receives at once, on one event loop. A turn is mostly
CPU (the NLU pipeline and the policies) with one to four calls to the action server in it, and
after each call the loop turns to every other message in flight. With 20 shoppers typing, a
return (four calls) waited behind everyone else's NLU four times: its answer took three times as
long as a greeting's and set the 95th percentile. Here only MESSAGES_AT_ONCE messages are at work
at once; the others wait at the door in arrival order, so every message waits once, at the door,
and then runs through.

A message keeps its place while the action server works, as long as it answers within
HOLD_SECONDS (it takes milliseconds); past that the message steps out, so a stopped or stuck
action server holds up only the messages that need it, and when its answer comes the message
goes back in before any that has not started. Rasa's conversation lock is taken before the door,
so a message waiting for its conversation holds no place. MESSAGES_AT_ONCE=0 lets every message
in at once, as Rasa does.
"""
from __future__ import annotations

import asyncio
from collections import deque
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, AsyncIterator, Awaitable, Callable, Optional

from rasa.core.processor import MessageProcessor

ORIGINAL_HANDLE_MESSAGE = MessageProcessor.handle_message
# Far above an action call's time under load, far below the shopper's patience.
HOLD_SECONDS = 0.5

_place_held_at: ContextVar[Optional["Door"]] = ContextVar("place_held_at", default=None)


class Door:
    """`places` messages inside; those coming back from a wait go in before new arrivals."""

    def __init__(self, places: int) -> None:
        self.places = places
        self._free = places
        self._coming_back: deque[asyncio.Future] = deque()
        self._arriving: deque[asyncio.Future] = deque()

    @property
    def inside(self) -> int:
        return self.places - self._free

    @asynccontextmanager
    async def one_message(self) -> AsyncIterator[None]:
        """A message's whole turn: in at the door, out at the end (however it ends)."""
        await self._enter(self._arriving)
        token = _place_held_at.set(self)
        try:
            yield
        finally:
            if _place_held_at.get() is self:
                self._leave()
            _place_held_at.reset(token)

    async def _enter(self, queue: deque) -> None:
        if self._free > 0 and not self._coming_back and not self._arriving:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._leave()  # a place was handed over just as it was cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def _leave(self) -> None:
        """Hands the place to the first message coming back, else the first arrival."""
        for queue in (self._coming_back, self._arriving):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1


@asynccontextmanager
async def stepped_out() -> AsyncIterator[None]:
    """Around a wait for another part (the action server): the place is free meanwhile, and the
    message goes back in ahead of new arrivals. Outside a message's turn it does nothing."""
    door = _place_held_at.get()
    if door is None:
        yield
        return
    door._leave()
    _place_held_at.set(None)
    try:
        yield
    finally:
        await door._enter(door._coming_back)
        _place_held_at.set(door)


async def waiting_for_another_part(call: Awaitable[Any]) -> Any:
    """Awaits `call` (the action server), stepping out of the door if it takes over HOLD_SECONDS."""
    if _place_held_at.get() is None:
        return await call
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=HOLD_SECONDS)
        if not done:
            async with stepped_out():
                await asyncio.wait({task})
        return task.result()
    finally:
        if not task.done():
            task.cancel()  # the caller gave up (its own timeout): the call goes with it


def admitting(places: int, handle: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`handle` (a message's whole turn) through a door of `places`, one door per event loop."""
    doors: dict[int, Door] = {}

    async def handle_through_door(*args: Any, **kwargs: Any) -> Any:
        loop = id(asyncio.get_running_loop())
        if loop not in doors:  # a door's futures belong to one loop (tests run several in turn)
            doors.clear()
            doors[loop] = Door(places)
        async with doors[loop].one_message():
            return await handle(*args, **kwargs)

    return handle_through_door


def install(places: int) -> None:
    """From now on a Rasa server works on at most `places` messages at once (0: all, as Rasa)."""
    if places <= 0:
        MessageProcessor.handle_message = ORIGINAL_HANDLE_MESSAGE
        return
    MessageProcessor.handle_message = admitting(places, ORIGINAL_HANDLE_MESSAGE)
