"""Rasa's socket.io channel with session persistence that delivers replies, and sessions a
stranger cannot pick.

With session_persistence Rasa sends every reply to the room named after the session id, and
joins the socket to that room on `session_request` with `sio.enter_room(...)`. Since
python-socketio 5.10 AsyncServer.enter_room is a coroutine, which Rasa 3.6 does not await: the
socket never joins, and the web chat gets no answers. This channel awaits it.

Rasa also takes the session id (the conversation id) from the client: any one on
session_request, and again from every `user_uttered`, so a client could talk in any
conversation whose id it knows or guesses ("123456", a Telegram chat id). Here a proposed id is
kept only if it has the form of the ids this server issues (32 lowercase hex characters, 128
random bits from `secrets`; the web chat proposes its own again after a reload), otherwise a
fresh one is issued; and messages go to the session confirmed to that socket, never to the one
a message names. The conversation is `web:<session id>` (channels/identity.py), and the
browser's address goes into the metadata as `client` for the order-guessing throttle.

The page's "Send a photo" button posts to /webhooks/socketio/photo (multipart: `session_id` and
`photo`). The session id is the bearer secret here too: only one of the issued form, of a
conversation that has begun, may send one. The body is read only up to PHOTO_MAX_BYTES and a
little for the envelope (413 beyond, unread); bot/support/photos.py checks, re-encodes and
keeps the photo, or says why not, and the page shows that sentence. A kept photo goes into the
conversation as `/EXTERNAL_photo_received` with its id in the metadata, its replies queued for
the session's page like any pushed message (the upload may reach another server than the socket).
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Text

from rasa.core.channels import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from bot.rasa_link.rasa_api import PHOTO_RECEIVED, last_message_times
from bot.settings import Settings, get_settings
from bot.store.engine import get_store
from bot.support import photos
from bot.web.webchat import outbox
from channels.identity import addressed_by_platform, client_address, conversation_id, platform_id, with_client
from channels.safe_output import safe_output, with_safe_links

logger = logging.getLogger(__name__)

SESSION_ID_FORM = re.compile(r"[0-9a-f]{32}")
CONVERSATION_PREFIX = "web"  # conversations are web:<session id>; the socket.io room is the session id
POLL_SECONDS = 1.0  # how soon an open page shows a message queued by another server
PHOTO_ROUTE = "/photo"  # /webhooks/socketio/photo
ENVELOPE_BYTES = 16_384  # a multipart upload's boundaries, part headers and session id, beside the photo
HTTP_STATUS_FOR = {photos.STORED: 200, photos.DUPLICATE: 200, photos.TOO_BIG: 413, photos.WRONG_TYPE: 415,
                   photos.CORRUPT: 422, photos.TOO_MANY: 429}


def accepted_session_id(proposed: Any) -> Text:
    """The client's id if it has the form of one this server issues, else a fresh one."""
    if isinstance(proposed, str) and SESSION_ID_FORM.fullmatch(proposed):
        return proposed
    return secrets.token_hex(16)


class QueuedOutput(socketio.SocketIOOutput):
    """Keeps each message in the outbox for the session's page instead of emitting it now."""

    def __init__(self, sio: Any, bot_message_evt: Text, on_queued: Callable[[Text], Awaitable[None]]) -> None:
        super().__init__(sio, bot_message_evt)
        self.on_queued = on_queued

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        await asyncio.to_thread(queue_message, conversation_id(CONVERSATION_PREFIX, socket_id), response)
        await self.on_queued(socket_id)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, json_message)


def queue_message(conversation: Text, message: Dict[Text, Any]) -> None:
    with get_store().session() as s:
        outbox.put(s, conversation, message)


def take_waiting(conversations: Iterable[Text]) -> list:
    with get_store().session() as s:
        return outbox.claim_waiting(s, conversations)


def mark_shown(message_ids: Iterable[int]) -> None:
    with get_store().session() as s:
        outbox.mark_shown(s, message_ids)


class SocketIOInput(socketio.SocketIOInput):
    def get_output_channel(self) -> Optional[OutputChannel]:
        """Rasa asks for this only to push from outside a reply: those messages are queued."""
        if self.session_persistence and self.sio is not None:
            queued = QueuedOutput(self.sio, self.bot_message_evt, self.show_if_open)
            return safe_output(addressed_by_platform(queued, CONVERSATION_PREFIX))
        return safe_output(addressed_by_platform(super().get_output_channel(), CONVERSATION_PREFIX))

    async def show_if_open(self, session_id: Text) -> None:
        """Shows the session's waiting messages now if a page of it is open on this server."""
        if session_id in self.open_sessions().values():
            await self.show_waiting([session_id])

    def open_sessions(self) -> Dict[Text, Text]:
        """socket id -> the session confirmed to it, on this server."""
        if not hasattr(self, "_open_sessions"):
            self._open_sessions: Dict[Text, Text] = {}
        return self._open_sessions

    async def show_waiting(self, session_ids: Iterable[Text]) -> None:
        """Emits the sessions' waiting messages, oldest first, and marks them shown."""
        conversations = [conversation_id(CONVERSATION_PREFIX, session_id) for session_id in set(session_ids)]
        waiting = await asyncio.to_thread(take_waiting, conversations)
        shown = []
        for message in waiting:
            room = platform_id(CONVERSATION_PREFIX, message.conversation_id)
            await self.sio.emit(self.bot_message_evt, message.message, room=room, namespace=self.namespace)
            shown.append(message.id)
        if shown:
            await asyncio.to_thread(mark_shown, shown)

    async def keep_showing_waiting(self) -> None:
        """Every POLL_SECONDS, shows what another server queued for the pages open here."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            open_now = list(self.open_sessions().values())
            if not open_now:
                continue
            try:
                await self.show_waiting(open_now)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop; the next pass retries
                logger.exception("Could not show waiting web chat messages; trying again.")

    def start_showing_waiting(self) -> None:
        if getattr(self, "_poller", None) is None:
            self._poller = asyncio.get_running_loop().create_task(self.keep_showing_waiting())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = with_safe_links(on_new_message)
        blueprint = super().blueprint(on_new_message)
        if not self.session_persistence:
            return blueprint
        sio = self.sio
        sessions = self.open_sessions()

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            proposed = data.get("session_id") if isinstance(data, dict) else None
            session_id = accepted_session_id(proposed)
            sessions[sid] = session_id
            entered = sio.enter_room(sid, session_id, namespace=self.namespace)
            if inspect.isawaitable(entered):
                await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            self.start_showing_waiting()
            try:
                await self.show_waiting([session_id])
            except Exception:  # noqa: BLE001 - the poll loop shows them once the database answers
                logger.exception("Could not show the waiting web chat messages of a reopened page.")

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            sessions.pop(sid, None)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            session_id = sessions.get(sid)
            if session_id is None or not isinstance(data, dict):
                logger.warning("Ignored a web chat message from a socket without a confirmed session.")
                return
            output = addressed_by_platform(socketio.SocketIOOutput(sio, self.bot_message_evt), CONVERSATION_PREFIX)
            metadata = with_client(metadata_of(data, self.metadata_key), socket_client(sio, sid, self.namespace))
            await on_new_message(UserMessage(
                data.get("message", ""), output, conversation_id(CONVERSATION_PREFIX, session_id),
                input_channel=self.name(), metadata=metadata))

        @blueprint.route(PHOTO_ROUTE, methods=["POST"], stream=True)
        async def receive_photo(request: Request) -> response.HTTPResponse:
            settings = get_settings()
            body = await capped_body(request, settings.photo_max_bytes + ENVELOPE_BYTES)
            if body is None:
                return photo_answer(photos.TOO_BIG, settings)
            request.body = body
            session_id = request.form.get("session_id") or ""
            conversation = conversation_id(CONVERSATION_PREFIX, session_id)
            if not SESSION_ID_FORM.fullmatch(session_id) or not await asyncio.to_thread(has_begun, conversation):
                return response.json({"status": "no_chat", "message": photos.shopper_text("utter_photo_chat_not_started")},
                                     status=403)
            upload = request.files.get("photo")
            raw = upload.body if upload else b""
            result = await asyncio.to_thread(photos.keep, get_store(), conversation, self.name(), raw, settings)
            if result.status == photos.STORED:
                await self.tell_rasa(on_new_message, conversation, result.photo_id, client_address(request))
            return photo_answer(result.status, settings)

        return blueprint

    async def tell_rasa(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], conversation: Text,
                        photo_id: int, client: Text) -> None:
        """The kept photo enters the conversation; a failure there does not undo it (the agent sees it)."""
        metadata = with_client({photos.PHOTO_METADATA_KEY: photo_id}, client)
        try:
            await on_new_message(UserMessage(PHOTO_RECEIVED, self.get_output_channel(), conversation,
                                             input_channel=self.name(), metadata=metadata))
        except Exception:  # noqa: BLE001 - the photo is stored and on the ticket; the page says it was sent
            logger.exception("A web chat photo was kept but the assistant could not be told.")


SERVER_SET_METADATA = ("client", photos.PHOTO_METADATA_KEY)


async def capped_body(request: Request, limit: int) -> Optional[bytes]:
    """The request body, or None as soon as it is (or says it will be) longer than `limit`: the
    rest is never read (Sanic drops the connection rather than drain it past the limit)."""
    request.stream.request_max_size = limit
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks, size = [], 0
    try:
        while (chunk := await request.stream.read()) is not None:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except PayloadTooLarge:  # a chunked body past request_max_size
        return None
    return b"".join(chunks)


def has_begun(conversation: Text) -> bool:
    """Whether the conversation has a message in Rasa's tracker store (the page says hello on
    opening): a photo cannot open a conversation, so made-up session ids store nothing."""
    with get_store().reading() as s:
        return conversation in last_message_times(s, [conversation])


def photo_answer(status: Text, settings: Settings) -> response.HTTPResponse:
    """The status and the sentence (domain/photos.yml) the page shows under the chat."""
    return response.json({"status": status, "message": photos.answer_text(status, settings)},
                         status=HTTP_STATUS_FOR[status])


def socket_client(sio: Any, sid: Text, namespace: Optional[Text]) -> Text:
    """The address of the browser behind a socket, from the request that opened it."""
    try:
        environ = sio.get_environ(sid, namespace=namespace) or {}
    except (KeyError, AttributeError):
        environ = {}
    return client_address(environ.get("sanic.request"))


def metadata_of(data: Dict, key: Text) -> Dict:
    """As Rasa reads it: a dict, or JSON text of one; without the keys only the server may set
    (the order-guessing throttle counts failures per `client`, so a browser must not name one)."""
    metadata = data.get(key) or {}
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    if not isinstance(metadata, dict):
        return {}
    return {name: value for name, value in metadata.items() if name not in SERVER_SET_METADATA}
