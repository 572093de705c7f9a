"""The shared lock store with Redis really stopped (issue #16; #15's "Redis down"): a Redis server
of the test's own on a free port, killed and paused, while Rasa's lock protocol runs against
rasa_extensions/lock_store.py. Conversations keep being served (locked on this server only) and
go back to Redis once it answers again."""
from __future__ import annotations

import asyncio
import signal
import time
import uuid

import pytest
import redis

from rasa_extensions import lock_store
from rasa_extensions.lock_store import RedisLockStoreWithFallback
from tests.servers import RedisServer, free_port


@pytest.fixture
def redis_port():
    return free_port()


def serve_one_message(store: RedisLockStoreWithFallback, conversation: str) -> float:
    """What Rasa does around each message: take the conversation's ticket lock, then give it back.
    Returns the seconds it took."""

    async def message() -> None:
        async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
            await asyncio.sleep(0)

    started = time.monotonic()
    asyncio.run(message())
    return time.monotonic() - started


def test_locks_live_in_redis_while_it_answers(redis_port):
    server = RedisServer(redis_port)
    try:
        store = RedisLockStoreWithFallback(url=f"redis://127.0.0.1:{redis_port}/3")
        conversation = f"rest:{uuid.uuid4().hex[:8]}"
        seen_in_redis = []

        async def message() -> None:
            async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
                seen_in_redis.append(redis.Redis(port=redis_port, db=3).exists(store.key_prefix + conversation))

        asyncio.run(message())
    finally:
        server.stop()

    assert seen_in_redis == [1] and store.key_prefix.startswith(lock_store.KEY_PREFIX)


def test_with_redis_killed_messages_are_still_served_and_redis_is_used_again_when_back(redis_port, monkeypatch):
    monkeypatch.setattr(lock_store, "RETRY_AFTER_SECONDS", 0.5)
    server = RedisServer(redis_port)
    store = RedisLockStoreWithFallback(url=f"redis://127.0.0.1:{redis_port}/3")
    conversation = f"rest:{uuid.uuid4().hex[:8]}"
    try:
        serve_one_message(store, conversation)
        server.stop()  # SIGKILL

        while_down = [serve_one_message(store, conversation) for _ in range(3)]

        server = RedisServer(redis_port)
        time.sleep(lock_store.RETRY_AFTER_SECONDS)
        serve_one_message(store, conversation)
    finally:
        server.stop()

    assert all(seconds < 10 for seconds in while_down)
    assert store.redis_down_since is None  # back on Redis


def test_with_redis_paused_a_message_waits_at_most_the_socket_timeout(redis_port):
    server = RedisServer(redis_port)
    store = RedisLockStoreWithFallback(url=f"redis://127.0.0.1:{redis_port}/3")
    conversation = f"rest:{uuid.uuid4().hex[:8]}"
    try:
        serve_one_message(store, conversation)
        server.process.send_signal(signal.SIGSTOP)
        paused = [serve_one_message(store, conversation) for _ in range(3)]
    finally:
        server.stop()

    # The first message finds Redis silent after the socket timeout; the next ones don't ask it.
    assert paused[0] < lock_store.SOCKET_TIMEOUT_SECONDS * 4 + 1
    assert all(seconds < 0.5 for seconds in paused[1:])


def test_a_lock_store_url_that_is_not_redis_is_refused():
    with pytest.raises(ValueError, match="LOCK_STORE_URL"):
        lock_store.redis_options("postgresql://127.0.0.1/tinsel")
    options = lock_store.redis_options("redis://:s3cret@cache.internal:6380/2")
    assert (options["host"], options["port"], options["db"], options["password"]) == ("cache.internal", 6380, 2, "s3cret")


def test_two_servers_issuing_tickets_at_once_never_get_the_same_one(redis_port):
    """Rasa's RedisLockStore reads, changes and writes the ticket lock without a mutex: two
    servers at once get the same ticket and serve two messages side by side."""
    from concurrent.futures import ThreadPoolExecutor

    server = RedisServer(redis_port)
    try:
        servers = [RedisLockStoreWithFallback(url=f"redis://127.0.0.1:{redis_port}/3") for _ in range(2)]
        conversation = f"rest:{uuid.uuid4().hex[:8]}"
        with ThreadPoolExecutor(16) as pool:
            tickets = list(pool.map(lambda n: servers[n % 2].issue_ticket(conversation, 60), range(200)))
    finally:
        server.stop()

    assert sorted(tickets) == list(range(200))
