"""The whole assistant in one process for conversation tests: the trained model, a real action
server in a subprocess, and a freshly seeded demo store behind it."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(os.environ.get("TINSEL_MODEL", ROOT / "models" / "tinsel.tar.gz"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ActionServer:
    def __init__(self, database_url: str, log_path: Path):
        self.port = _free_port()
        self.env = {**os.environ, "DATABASE_URL": database_url}
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "rasa"), "run", "actions", "--port", str(self.port),
             "--actions", "actions"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}/webhook"
        self._wait_until_healthy()

    def _wait_until_healthy(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"action server exited ({self.process.returncode}); see {self._log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("action server did not become healthy")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


class Assistant:
    """Talks to the trained Rasa agent like a channel would."""

    def __init__(self, action_server_url: str):
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig

        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(str(MODEL), action_endpoint=EndpointConfig(action_server_url))

    def new_conversation(self) -> "Conversation":
        return Conversation(self, f"shopper-{uuid.uuid4().hex[:10]}")

    def close(self) -> None:
        self.loop.close()


class Conversation:
    def __init__(self, assistant: Assistant, sender_id: str):
        self.assistant = assistant
        self.sender_id = sender_id

    def say(self, text: str) -> str:
        """Sends one message; returns everything the bot answered, joined by newlines."""
        replies = self.assistant.loop.run_until_complete(
            self.assistant.agent.handle_text(text, sender_id=self.sender_id)
        ) or []
        return "\n".join(r.get("text", "") for r in replies if r.get("text"))

    def fire(self, intent: str, entities: dict | None = None) -> str:
        """An external event into this conversation, as Rasa's trigger_intent API fires it
        (bot.reminders does); returns what the bot said."""
        from rasa.core.channels.channel import CollectingOutputChannel

        async def trigger() -> list[dict]:
            output = CollectingOutputChannel()
            agent = self.assistant.agent
            async with agent.lock_store.lock(self.sender_id):
                tracker = await agent.processor.fetch_tracker_and_update_session(self.sender_id, output)
                await agent.trigger_intent(intent, entities or {}, output, tracker)
            return output.messages

        replies = self.assistant.loop.run_until_complete(trigger())
        return "\n".join(r.get("text", "") for r in replies if r.get("text"))

    def tracker(self):
        return self.assistant.loop.run_until_complete(
            self.assistant.agent.tracker_store.retrieve(self.sender_id)
        )
