"""Rasa's socket.io channel with session persistence that delivers replies.

With session_persistence Rasa sends every reply to the room named after the session id, and
joins the socket to that room on `session_request` with `sio.enter_room(...)`. Since
python-socketio 5.10 AsyncServer.enter_room is a coroutine, which Rasa 3.6 does not await: the
socket never joins, and the web chat gets no answers. This channel awaits it.
"""
from __future__ import annotations

import inspect
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint


class SocketIOInput(socketio.SocketIOInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = (data or {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return blueprint
