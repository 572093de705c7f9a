"""The whole assistant in one process for conversation tests: the trained model, a real action
server in a subprocess, and a freshly seeded demo store behind it."""
from __future__ import annotations

import asyncio
import uuid

from tests.servers import MODEL, ActionServer, action_server_headers  # noqa: F401  (imported from here by tests and bench)


class Assistant:
    """Talks to the trained Rasa agent like a channel would."""

    def __init__(self, action_server_url: str):
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig
        from rasa_extensions import resilient_actions

        resilient_actions.install()

        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(str(MODEL), action_endpoint=EndpointConfig(action_server_url, headers=action_server_headers()))

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
        (bot.engagement.reminders does); returns what the bot said."""
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
