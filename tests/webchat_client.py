"""A socket.io client speaking the web chat's events (rasa-webchat's), as a script would."""
from __future__ import annotations

import asyncio

import socketio

WAIT_SECONDS = 120


class WebChatClient:
    """A socket.io client speaking the web chat's events, as a script would."""

    def __init__(self, rasa_url: str):
        self.rasa_url = rasa_url
        self.client = socketio.AsyncClient()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.replies: list[str] = []
        self.replied = asyncio.Event()
        self.client.on("session_confirm", self.confirmed.put_nowait)
        self.client.on("bot_uttered", self.on_reply)

    async def on_reply(self, message: dict) -> None:
        self.replies.append(message.get("text", ""))
        self.replied.set()

    async def start(self, proposed: str | None) -> str:
        await self.client.connect(self.rasa_url, socketio_path="/socket.io", transports=["polling"])  # websocket needs a newer aiohttp than Rasa pins
        await self.client.emit("session_request", {"session_id": proposed})
        return await asyncio.wait_for(self.confirmed.get(), WAIT_SECONDS)

    async def say(self, text: str, expect: str, session_id: str) -> str:
        """Sends as the web chat does (naming its session) and waits for a reply containing `expect`."""
        before = len(self.replies)
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})

        async def answered() -> str:
            while True:
                new = "\n".join(self.replies[before:])
                if expect.lower() in new.lower():
                    return new
                self.replied.clear()
                await self.replied.wait()

        return await asyncio.wait_for(answered(), WAIT_SECONDS)

    async def stop(self) -> None:
        """Closes the connection (the server drops the socket with it) without waiting for the
        pending long-poll to come back: up to socket.io's ping interval, 25 s, per client."""
        await self.client.eio.disconnect(abort=True)
