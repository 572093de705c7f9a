"""The few calls an agent's tools make to the running Rasa server, and its tracker store.

Rasa pauses a conversation while a handoff ticket is open; resolving the ticket resumes it
through Rasa's HTTP API (server started with `--enable-api` and `--auth-token`). The standard library's urllib
is enough for two POSTs, so this adds no dependency. Agents read what the shopper wrote while
waiting straight from Rasa's SQL tracker store, which lives in the store's own database.
"""
from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, inspect, select
from sqlalchemy.orm import Session

from bot.settings import get_settings
from bot.store.engine import Store
from bot.store.models import HandoffTicket

DEFAULT_TIMEOUT_SECONDS = 5.0

# Rasa's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent). Its own MetaData, so
# the store's create_all/drop_all never touch it: Rasa owns this table.
_tracker_metadata = MetaData()
tracker_events = Table(
    "events",
    _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

_SPEAKERS = {"user": "shopper", "bot": "bot"}
# The message a channel passes into Rasa for a photo it kept (domain/photos.yml, issue #19).
PHOTO_RECEIVED = "/EXTERNAL_photo_received"
# What a channel typed for the shopper, as an agent reads it in a transcript.
SHOWN_AS = {PHOTO_RECEIVED: "[sent a photo]"}


class RasaUnavailable(Exception):
    """The Rasa server could not be reached or refused the request."""


def _post(path: str, payload: Any, query: dict[str, str], rasa_url: str | None, timeout: float) -> Any:
    """POSTs to Rasa's HTTP API with the API token (Rasa's --auth-token reads the `token` query
    parameter); the URL with the token never goes into an error message or a log."""
    settings = get_settings()
    base = (rasa_url or settings.rasa_url).rstrip("/")
    url = base + path + "?" + urllib.parse.urlencode({**query, "token": settings.api_token})
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise RasaUnavailable(f"Rasa answered {exc.code} for {path}: {exc.read()[:200]!r}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RasaUnavailable(f"Rasa server at {base} unreachable: {exc}") from exc
    return json.loads(body) if body else None


def conversation_path(conversation_id: str, endpoint: str) -> str:
    """/conversations/<id>/<endpoint>; the ':' of `rest:<sender>` or `web:<session>` is left
    as it is (Sanic would not decode %3A in a path parameter)."""
    return f"/conversations/{urllib.parse.quote(str(conversation_id), safe=':')}/{endpoint}"


def _events_path(conversation_id: str) -> str:
    return conversation_path(conversation_id, "tracker/events")


def execute_action(
    conversation_id: str, action: str, rasa_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> bool:
    """Has Rasa run `action` in the conversation, its messages going to the shopper's channel.

    Works while the conversation is paused for an agent: Rasa's execute endpoint runs the
    action without asking whether the tracker is paused (rasa/core/processor.py
    execute_action). But if the shopper's last message is older than the domain's
    session_expiration_time, Rasa first starts a new session, which un-pauses it; the return
    value says whether the conversation is still paused afterwards.
    Raises RasaUnavailable like resume_conversation.
    """
    path = conversation_path(conversation_id, "execute")
    answer = _post(path, {"name": action}, {"output_channel": "latest"}, rasa_url, timeout)
    return bool(((answer or {}).get("tracker") or {}).get("paused"))


def pause_conversation(
    conversation_id: str, rasa_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> None:
    """Keeps the bot quiet in the conversation again (a person still has it)."""
    _post(_events_path(conversation_id), [{"event": "pause"}], {}, rasa_url, timeout)


def resume_conversation(
    conversation_id: str, rasa_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> None:
    """Un-pauses the conversation so the bot answers the shopper again.

    The bot comes back in a new session: what happened while a person had the conversation
    is not a dialogue the policies were trained on, so predicting from it gives odd answers.
    The transcript stays in the tracker store, and verification lives in the database.
    Raises RasaUnavailable when the server cannot be reached or rejects the events.
    """
    events = [
        {"event": "resume"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
    ]
    _post(_events_path(conversation_id), events, {}, rasa_url, timeout)


def send_to_conversation(
    conversation_id: str, text: str, rasa_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> None:
    """Shows `text` to the shopper as a bot message in the channel they last wrote from.

    Appends a `bot` event with `execute_side_effects=true`, which makes Rasa forward the
    message to `output_channel=latest`. Channels that cannot push (plain REST) keep it in the
    conversation history only. Raises RasaUnavailable like resume_conversation.
    """
    _post(
        _events_path(conversation_id),
        {"event": "bot", "text": text},
        {"output_channel": "latest", "execute_side_effects": "true"},
        rasa_url,
        timeout,
    )


def trigger_intent(
    conversation_id: str,
    intent: str,
    entities: dict[str, Any] | None = None,
    rasa_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[dict[str, Any]]:
    """Fires an external event into the conversation, as if the shopper had sent `intent`.

    Rasa predicts and runs the next actions and sends what they say to the channel the shopper
    last wrote from (`output_channel=latest`); a paused conversation stays silent. Returns the
    messages Rasa reports (channels that push, like Slack or socket.io, get them directly).
    Raises RasaUnavailable like resume_conversation.
    """
    path = conversation_path(conversation_id, "trigger_intent")
    answer = _post(path, {"name": intent, "entities": entities or {}}, {"output_channel": "latest"}, rasa_url, timeout)
    return list((answer or {}).get("messages") or [])


def has_tracker_table(session: Session) -> bool:
    """Rasa creates its events table on first use; before that a store has no conversations."""
    return inspect(session.connection()).has_table(tracker_events.name)


def read_transcript(
    store: Store,
    conversation_id: str,
    since: dt.datetime | None = None,
    after_pause: bool = False,
) -> list[dict[str, Any]]:
    """`transcript` in a read-only unit of work of its own, for bot.support.desk, which reads
    it after its ticket's unit of work (never waits for SQLite's write lock: an agent's page)."""
    with store.reading() as s:
        return transcript(s, conversation_id, since, after_pause)


def transcript(
    session: Session,
    conversation_id: str,
    since: dt.datetime | None = None,
    after_pause: bool = False,
) -> list[dict[str, Any]]:
    """The shopper's and the bot's messages from Rasa's tracker store, oldest first.

    Each is {"who": "shopper"|"bot", "text": str, "at": datetime}. `since` (local time, as
    Rasa's timestamps) keeps only later messages; `after_pause` keeps only those after the
    conversation was last paused for a human, which does not depend on the store's clock
    (TINSEL_TODAY). No tracker table (Rasa never ran on this database) means no messages.
    """
    events = tracker_events.c
    query = (
        select(events.type_name, events.timestamp, events.data)
        .where(events.sender_id == conversation_id, events.type_name.in_(tuple(_SPEAKERS)))
        .order_by(events.id)
    )
    if since is not None:
        query = query.where(events.timestamp > since.timestamp())
    if after_pause:
        last_pause = (
            select(func.max(events.id))
            .where(events.sender_id == conversation_id, events.type_name == "pause")
            .scalar_subquery()
        )
        query = query.where(events.id > func.coalesce(last_pause, 0))
    messages = []
    rows = session.execute(query).all() if has_tracker_table(session) else []
    for type_name, timestamp, data in rows:
        try:
            text = (json.loads(data or "{}") or {}).get("text")
        except ValueError:
            text = None
        if not text:
            continue
        at = dt.datetime.fromtimestamp(timestamp) if timestamp is not None else None
        messages.append({"who": _SPEAKERS[type_name], "text": SHOWN_AS.get(text.split("{")[0], text), "at": at})
    return messages


def last_message_times(session: Session, conversation_ids: list[str]) -> dict[str, dict[str, dt.datetime]]:
    """{conversation: {"shopper": when they last wrote, "bot": when the bot or an agent last did}},
    one grouped query for a whole queue (issue #19: how long a shopper's message waits unanswered)."""
    if not conversation_ids or not has_tracker_table(session):
        return {}
    events = tracker_events.c
    rows = session.execute(
        select(events.sender_id, events.type_name, func.max(events.timestamp))
        .where(events.sender_id.in_(conversation_ids), events.type_name.in_(tuple(_SPEAKERS)))
        .group_by(events.sender_id, events.type_name)
    ).all()
    found: dict[str, dict[str, dt.datetime]] = {}
    for sender, type_name, timestamp in rows:
        if timestamp is not None:
            found.setdefault(sender, {})[_SPEAKERS[type_name]] = dt.datetime.fromtimestamp(timestamp)
    return found


def conversation_counts(store: Store) -> tuple[int, int]:
    """(conversations in the tracker store, those of them that ever had a handoff ticket)."""
    senders = select(tracker_events.c.sender_id).distinct().subquery()
    with store.reading() as s:
        if not has_tracker_table(s):
            return 0, 0
        total = s.execute(select(func.count()).select_from(senders)).scalar_one()
        with_ticket = s.execute(
            select(func.count()).select_from(senders).where(
                senders.c.sender_id.in_(select(HandoffTicket.conversation_id))
            )
        ).scalar_one()
    return total, with_ticket
