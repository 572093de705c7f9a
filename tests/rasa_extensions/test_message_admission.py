"""The door in front of Rasa's processor (rasa_extensions/message_admission.py): at most its
number of messages at work, arrivals in order, a message waiting for the action server holds no
place and goes back in first, and nothing is lost when a message is cancelled. Stand-in turns
(coroutines that record what happens), no model."""
from __future__ import annotations

import asyncio

import pytest

from rasa_extensions import message_admission
from rasa_extensions.message_admission import Door, admitting, stepped_out, waiting_for_another_part


def test_at_most_its_places_at_work_and_the_rest_in_arrival_order():
    at_work, most, finished = [0], [0], []

    async def turn(name: str) -> str:
        at_work[0] += 1
        most[0] = max(most[0], at_work[0])
        await asyncio.sleep(0.001)
        at_work[0] -= 1
        finished.append(name)
        return name

    handle = admitting(3, turn)

    async def main():
        return await asyncio.gather(*(handle(f"m{n}") for n in range(12)))

    assert asyncio.run(main()) == [f"m{n}" for n in range(12)]
    assert most[0] == 3
    assert finished == [f"m{n}" for n in range(12)]


def test_a_message_waiting_for_the_action_server_holds_no_place():
    """A stopped action server stops only the messages that need it."""
    door = Door(1)
    log = []

    async def needs_the_action_server(stopped: asyncio.Event):
        async with door.one_message():
            async with stepped_out():
                await stopped.wait()
            log.append("order answered")

    async def greeting():
        async with door.one_message():
            log.append("greeted")

    async def main():
        stopped = asyncio.Event()
        waiting = asyncio.create_task(needs_the_action_server(stopped))
        await asyncio.sleep(0)
        await asyncio.wait_for(greeting(), 1)  # gets in although the other message is not done
        stopped.set()
        await waiting

    asyncio.run(main())
    assert log == ["greeted", "order answered"]


def test_back_from_the_action_server_a_message_goes_in_before_new_arrivals():
    door = Door(1)
    log = []

    async def returning(answer: asyncio.Event):
        async with door.one_message():
            async with stepped_out():
                await answer.wait()
            log.append("return finished")

    async def newcomer(name: str, release: asyncio.Event | None = None):
        async with door.one_message():
            if release:
                await release.wait()  # keeps the place while the others queue up
            log.append(name)

    async def main():
        answer, release = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(returning(answer))
        await asyncio.sleep(0)
        holder = asyncio.create_task(newcomer("holder", release))
        await asyncio.sleep(0)
        later = asyncio.create_task(newcomer("arrived earlier"))
        await asyncio.sleep(0)
        answer.set()  # the action server answers: the return queues to go back in
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, holder, later)

    asyncio.run(main())
    assert log == ["holder", "return finished", "arrived earlier"]


def test_a_cancelled_message_gives_its_place_back():
    door = Door(1)

    async def main():
        release = asyncio.Event()

        async def hold():
            async with door.one_message():
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        queued = asyncio.create_task(hold())
        await asyncio.sleep(0)
        queued.cancel()  # e.g. the shopper's connection closed while it waited
        with pytest.raises(asyncio.CancelledError):
            await queued
        release.set()
        await holder
        assert door.inside == 0
        async with door.one_message():
            assert door.inside == 1

    asyncio.run(main())


def test_an_error_in_a_turn_gives_its_place_back():
    door = Door(2)

    async def main():
        with pytest.raises(RuntimeError):
            async with door.one_message():
                async with stepped_out():
                    raise RuntimeError("action server answered 500")
        assert door.inside == 0

    asyncio.run(main())


def test_outside_a_messages_turn_stepping_out_does_nothing():
    """Actions run through Rasa's HTTP API (an agent's reply, a reminder) take no place."""

    async def main():
        async with stepped_out():
            return "ran"

    assert asyncio.run(main()) == "ran"


def test_a_quick_action_server_keeps_the_place_and_a_stuck_one_gives_it_up(monkeypatch):
    """Answers within HOLD_SECONDS keep the message at work (nothing new starts meanwhile); a
    stuck action server lets the next message in."""
    monkeypatch.setattr(message_admission, "HOLD_SECONDS", 0.05)
    door = Door(1)
    log = []

    async def turn(name: str, action_server_takes: float):
        async with door.one_message():
            log.append(f"{name} in")
            await waiting_for_another_part(asyncio.sleep(action_server_takes))
            log.append(f"{name} done")

    async def main():
        quick = asyncio.create_task(turn("quick", 0.01))
        await asyncio.sleep(0)
        after_quick = asyncio.create_task(turn("next", 0))
        await asyncio.gather(quick, after_quick)
        stuck = asyncio.create_task(turn("stuck", 0.5))
        await asyncio.sleep(0)
        after_stuck = asyncio.create_task(turn("greeting", 0))
        await asyncio.gather(stuck, after_stuck)

    asyncio.run(main())
    assert log == ["quick in", "quick done", "next in", "next done",
                   "stuck in", "greeting in", "greeting done", "stuck done"]
