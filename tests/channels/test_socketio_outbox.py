"""The web chat channel keeps messages pushed from outside a reply in the outbox, in the exact
form Rasa's socket.io output would emit, and shows them once to a page of that session."""
import asyncio
import secrets

import pytest
from rasa.core.channels import socketio as rasa_socketio

import bot.store.engine
from bot.web.webchat import outbox
from channels.socketio import SocketIOInput

BUTTONS = [{"title": "Yes, please", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


class RecordingSocketServer:
    """Stands in for python-socketio's server: records what would go to the browser."""

    def __init__(self):
        self.emitted = []

    async def emit(self, event, data, room=None, namespace=None):
        self.emitted.append((event, data, room))


@pytest.fixture
def channel(store, monkeypatch):
    monkeypatch.setattr(bot.store.engine, "_store", store)
    channel = SocketIOInput(session_persistence=True)
    channel.sio = RecordingSocketServer()
    return channel


def waiting(store, session_id):
    with store.session() as s:
        return outbox.waiting_count(s, f"web:{session_id}")


def test_a_pushed_message_waits_in_rasas_own_form_and_is_shown_once(channel, store):
    session_id = secrets.token_hex(16)
    rasa_form = RecordingSocketServer()
    asyncio.run(rasa_socketio.SocketIOOutput(rasa_form, channel.bot_message_evt)
                .send_response(session_id, {"text": "Track it?", "buttons": BUTTONS}))

    pushed = {"text": "Track it?", "buttons": BUTTONS}
    asyncio.run(channel.get_output_channel().send_response(f"web:{session_id}", pushed))
    assert channel.sio.emitted == []  # no page of the session is open
    assert waiting(store, session_id) == 1

    channel.open_sessions()["socket-1"] = session_id
    asyncio.run(channel.show_waiting([session_id]))
    asyncio.run(channel.show_waiting([session_id]))
    assert channel.sio.emitted == rasa_form.emitted
    [(_, shown, room)] = channel.sio.emitted
    assert room == session_id and [b["title"] for b in shown["quick_replies"]] == ["Yes, please", "No"]
    assert waiting(store, session_id) == 0


def test_a_pushed_message_goes_only_to_its_own_session(channel, store):
    mine, other = secrets.token_hex(16), secrets.token_hex(16)
    channel.open_sessions()["socket-1"] = other
    asyncio.run(channel.get_output_channel().send_response(f"web:{mine}", {"text": "Your order shipped"}))
    asyncio.run(channel.show_waiting([other]))
    assert channel.sio.emitted == []
    assert waiting(store, mine) == 1
