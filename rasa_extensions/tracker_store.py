"""Rasa's SQL tracker store, remembering the conversations this server has just saved (issue #16).

On every message Rasa's SQLTrackerStore reads all of the conversation's rows since its last
session start, parses each row's JSON and replays every event to rebuild the tracker; to save,
it first counts the rows already stored (a query with a subquery) to know which events are new.
A profile of one turn put a fifth of its time there.

Here a server keeps each conversation it saved, with how many of its events are stored and the
id of the last stored row. The next message of that conversation asks the database only for rows
from that id on: usually just that row, so nothing has changed; rows after it, added by another
replica behind HAProxy, are applied; if that row is gone (the conversation was erased or
pruned), the conversation is read whole as Rasa does. A save inserts the events after the
stored ones without counting. Messages of one conversation run under Rasa's conversation lock
(in Redis across replicas), so row ids grow in the order messages were handled.

A remembered tracker is handed out once (taken, not copied), so two callers never share one
object; a tracker this store did not hand out is saved the way Rasa saves it. A tracker that
started a new session in this server is not remembered (the next message reads it from the
database), so every tracker handed out holds the same events Rasa's own retrieve would give.
At most REMEMBERED_CONVERSATIONS are kept, each for REMEMBER_SECONDS after its last save.

endpoints.yml names this class (`type: rasa_extensions.tracker_store.RememberingSQLTrackerStore`)
with the same `dialect` and `url` as Rasa's SQL store; Rasa passes the url as `host`.
"""
from __future__ import annotations

import itertools
import json
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

# A Tinsel conversation of 100 events takes about 250 kB in memory (each tracker copies every slot
# of the domain): at most about 120 MB, beside the 1.1 GB of a loaded server.
REMEMBERED_CONVERSATIONS = 500
# Long enough for a shopper's next message; short enough that an erased conversation's events
# do not linger in memory (an erasure is noticed on the next message anyway).
REMEMBER_SECONDS = 600.0


@dataclass
class StoredPart:
    """How much of one tracker object is in the database."""

    tracker: Callable[[], Optional[DialogueStateTracker]]  # a weak reference to it
    events: int  # the first `events` of tracker.events are stored ...
    last_id: int  # ... the last of them in this row


class RememberingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that remembers saved conversations and reads only rows it has not seen."""

    def __init__(self, *args: Any, clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._keep_connections_open()
        self._clock = clock
        self._stored: dict[Text, StoredPart] = {}  # by sender: the tracker last handed out or saved
        self._idle: OrderedDict[Text, tuple[DialogueStateTracker, float]] = OrderedDict()

    def _keep_connections_open(self) -> None:
        """SQLAlchemy 1.4 opens a new SQLite connection for every read and write (NullPool);
        a pool keeps them, as SQLAlchemy 2.0 does (PostgreSQL engines already pool)."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
        self.sessionmaker = sessionmaker(bind=self.engine)

    @property
    def remembered(self) -> int:
        """How many conversations are kept in memory now."""
        return len(self._idle)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation since its last session start, as Rasa's retrieve gives it."""
        if self.event_broker is not None:  # Rasa's stream_events compares against a fresh retrieve
            return await super().retrieve(sender_id)
        tracker = self._take_idle(sender_id)
        if tracker is not None and self._catch_up(tracker):
            return tracker
        return self._read(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Inserts the events not stored yet, then remembers the tracker for the next message."""
        if self.event_broker is not None:
            return await super().save(tracker)
        part = self._part_of(tracker)
        with self.session_scope() as session:
            start = part.events if part else self._count_stored(session, tracker)
            rows = [self._row(tracker.sender_id, event) for event in itertools.islice(tracker.events, start, None)]
            last_id = self._insert(session, tracker.sender_id, rows) if rows else (part.last_id if part else None)
            session.commit()
        self._remember(tracker, last_id)

    # --- reading ---------------------------------------------------------------------------------

    def _read(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The whole session from the database, as Rasa reads it."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
            last_id = rows[-1].id if rows else None
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        self._note(tracker, len(events), last_id)
        return tracker

    def _catch_up(self, tracker: DialogueStateTracker) -> bool:
        """Applies the rows stored after the remembered ones; False if the tracker must be read
        whole (its last row is gone, or another server started a new session)."""
        part = self._part_of(tracker)
        if part is None:
            return False
        with self.session_scope() as session:
            rows = (session.query(self.SQLEvent.id, self.SQLEvent.data)
                    .filter(self.SQLEvent.sender_id == tracker.sender_id, self.SQLEvent.id >= part.last_id)
                    .order_by(self.SQLEvent.id).all())
        if not rows or rows[0].id != part.last_id:
            return False
        newer = deserialise_events([json.loads(row.data) for row in rows[1:]])
        if any(isinstance(event, SessionStarted) for event in newer):
            return False
        for event in newer:
            tracker.update(event)
        part.events += len(newer)
        part.last_id = rows[-1].id
        return True

    # --- writing ---------------------------------------------------------------------------------

    def _count_stored(self, session: Any, tracker: DialogueStateTracker) -> int:
        """For a tracker this store did not hand out: how many of its events are stored, counted
        as Rasa counts them."""
        return self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()

    @staticmethod
    def _row(sender_id: Text, event: Event) -> dict[Text, Any]:
        """The row Rasa's own save writes for an event."""
        data = event.as_dict()
        return dict(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _insert(self, session: Any, sender_id: Text, rows: list[dict[Text, Any]]) -> int:
        """Inserts the rows in one statement (the ORM inserted them one by one to learn each id)
        and gives the id of the last. Under the conversation's lock nobody else adds rows of
        this sender meanwhile, and ids grow in insertion order, so that is the sender's largest."""
        session.execute(sa.insert(self.SQLEvent.__table__), rows)
        return session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    # --- remembering -----------------------------------------------------------------------------

    def _part_of(self, tracker: DialogueStateTracker) -> Optional[StoredPart]:
        """What is stored of this very tracker object, if this store handed it out or saved it."""
        part = self._stored.get(tracker.sender_id)
        return part if part is not None and part.tracker() is tracker else None

    def _remember(self, tracker: DialogueStateTracker, last_id: Optional[int]) -> None:
        sender_id = tracker.sender_id
        self._idle.pop(sender_id, None)
        if last_id is None or starts_a_session_after_its_first_event(tracker):
            self._stored.pop(sender_id, None)
            return
        self._note(tracker, len(tracker.events), last_id)
        self._idle[sender_id] = (tracker, self._clock())
        self._forget_old()

    def _note(self, tracker: DialogueStateTracker, events: int, last_id: int) -> None:
        """Records what is stored of this tracker; the record goes when the tracker does."""
        sender_id, stored = tracker.sender_id, self._stored

        def forget(dead: weakref.ref) -> None:
            if sender_id in stored and stored[sender_id].tracker is dead:
                del stored[sender_id]

        part = self._part_of(tracker)
        if part is not None:
            part.events, part.last_id = events, last_id
        else:
            stored[sender_id] = StoredPart(weakref.ref(tracker, forget), events, last_id)

    def _take_idle(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The remembered tracker, handed out once: the caller owns it until it saves it."""
        tracker, saved_at = self._idle.pop(sender_id, (None, 0.0))
        if tracker is not None and self._clock() - saved_at > REMEMBER_SECONDS:
            return None
        return tracker

    def _forget_old(self) -> None:
        """Drops the oldest conversations past the count or the age limit."""
        now = self._clock()
        while self._idle:
            sender_id, (_, saved_at) = next(iter(self._idle.items()))
            if len(self._idle) <= REMEMBERED_CONVERSATIONS and now - saved_at <= REMEMBER_SECONDS:
                break
            del self._idle[sender_id]
            self._stored.pop(sender_id, None)


def starts_a_session_after_its_first_event(tracker: DialogueStateTracker) -> bool:
    """A session started in memory: Rasa's retrieve would give only the events from its start,
    so the tracker is not what the database gives for it."""
    return any(isinstance(event, SessionStarted) for event in itertools.islice(tracker.events, 1, None))
