"""Rasa's Redis lock store, so several Rasa servers take one conversation's messages in turn,
and one that keeps answering when Redis is down.

Rasa serialises the messages of a conversation with a ticket lock. In memory, that only holds
within one server; behind HAProxy with several replicas the lock must be shared, which Rasa's
RedisLockStore does. But when Redis is unreachable, Rasa's store raises on every message and the
shopper gets no answer at all. Here a Redis error falls back to this server's own in-memory locks
(still right for every conversation this server takes, and the web chat's sticky sessions keep a
conversation on one server), logs it once, and goes back to Redis as soon as it answers again.
Rasa's own RedisLockStore is not safe across servers (its read-modify-writes race); here each
runs under a short Redis mutex per conversation.

endpoints.yml names this class when LOCK_STORE_URL is set (`python -m bot rasa-env`); Rasa
passes it the endpoint config, whose `url` is LOCK_STORE_URL (redis://[:password@]host:port/db).
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager, suppress
from typing import Any, Callable, Iterator, Optional, Text
from urllib.parse import urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import LockError, RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "tinsel"
# A stopped Redis must not hold a message for long: the shopper is waiting.
SOCKET_TIMEOUT_SECONDS = 1.0
# After a failure, Redis is not asked again for this long (each try could wait the timeout).
RETRY_AFTER_SECONDS = 5.0
# The longest one server may hold a conversation's mutex (a read and a write of its ticket lock).
MUTEX_SECONDS = 2.0


def redis_options(url: Text) -> dict[str, Any]:
    """RedisLockStore's arguments from a redis:// or rediss:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("LOCK_STORE_URL must be a redis:// or rediss:// URL")
    database = parts.path.strip("/")
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(database) if database else 1,
        "username": parts.username or None,
        "password": parts.password or None,
        "use_ssl": parts.scheme == "rediss",
        "key_prefix": KEY_PREFIX,
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
    }


class RedisLockStoreWithFallback(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, url: Optional[Text] = None) -> None:
        super().__init__(**redis_options(url or (endpoint_config.url if endpoint_config else "")))
        self.local = InMemoryLockStore()
        self.redis_down_since: Optional[float] = None
        self.holding = threading.local()  # .ids: conversations whose mutex this thread holds now

    # Rasa reads a conversation's ticket lock, changes it and writes it back; two servers doing
    # that at once both get ticket 0 and process their messages side by side (one is lost: seen
    # in tests/scale). Each of these read-modify-writes runs under a short Redis mutex instead.
    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self.exclusive(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        with self.exclusive(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        with self.exclusive(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self.exclusive(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    @contextmanager
    def exclusive(self, conversation_id: Text) -> Iterator[None]:
        """Only this server changes the conversation's ticket lock meanwhile (re-entrant: cleanup
        calls finish_serving). Without Redis, this server's own locks need no mutex."""
        held = self.holding.__dict__.setdefault("ids", set())
        if conversation_id in held or self.resting():
            yield
            return
        mutex = self.red.lock(f"{self.key_prefix}{conversation_id}:mutex", timeout=MUTEX_SECONDS,
                              blocking_timeout=MUTEX_SECONDS, sleep=0.002)
        try:
            acquired = mutex.acquire()
        except RedisError as error:
            self.failed(error)
            yield
            return
        held.add(conversation_id)
        try:
            yield
        finally:
            held.discard(conversation_id)
            if acquired:
                with suppress(RedisError, LockError):
                    mutex.release()

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self._either(lambda: super(RedisLockStoreWithFallback, self).get_lock(conversation_id),
                            lambda: self.local.get_lock(conversation_id))

    def delete_lock(self, conversation_id: Text) -> None:
        self._either(lambda: super(RedisLockStoreWithFallback, self).delete_lock(conversation_id),
                     lambda: self.local.delete_lock(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        self._either(lambda: super(RedisLockStoreWithFallback, self).save_lock(lock),
                     lambda: self.local.save_lock(lock))

    def _either(self, in_redis: Callable[[], Any], locally: Callable[[], Any]) -> Any:
        """Redis while it answers; this server's own locks while it doesn't."""
        if self.resting():
            return locally()
        try:
            result = in_redis()
        except RedisError as error:
            self.failed(error)
            return locally()
        if self.redis_down_since is not None:
            logger.warning("Redis lock store answers again: conversations are locked across servers.")
            self.redis_down_since = None
        return result

    def resting(self) -> bool:
        """Redis failed a moment ago: not asked again yet (each try could wait the timeout)."""
        return self.redis_down_since is not None and time.monotonic() - self.redis_down_since < RETRY_AFTER_SECONDS

    def failed(self, error: Exception) -> None:
        if self.redis_down_since is None:
            logger.error("Redis lock store unreachable (%s): locking conversations on this server only "
                         "until it answers again.", type(error).__name__)
        self.redis_down_since = time.monotonic()
