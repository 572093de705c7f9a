"""Rasa's Slack connector, posting to a configurable Web API base URL (`slack_api_url`):
GovSlack (https://slack-gov.com/api/), an Enterprise endpoint, or a local stand-in in tests.
Request signing (X-Slack-Signature with the signing secret, requests older than 5 minutes
refused) is Rasa's own check, unchanged.

Slack redelivers an event it thinks was not acknowledged (X-Slack-Retry-Num, up to three
times). Rasa skips only retries whose reason is `http_timeout`; any other retry of an event
already taken in would be answered twice. Here an event whose event_id was already taken in
is acknowledged with 200 and not processed; a retry of an event that never arrived is. The
ids seen are kept in memory, enough for one server (Slack retries within minutes).

Conversations are `slack:<team>:<user>` (channels/identity.py); replies go to the user."""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels import slack
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from channels.identity import addressed_by_platform, conversation_id
from channels.safe_output import safe_output, with_safe_links

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
# Event ids remembered; Slack retries an event three times within about five minutes.
EVENT_IDS_KEPT = 10_000
CONVERSATION_PREFIX = "slack"  # conversations are slack:<team>:<user>


def _with_slash(url: Text) -> Text:
    """slack_sdk joins method names onto the base URL, which needs its trailing slash."""
    return url.rstrip("/") + "/"


class SlackBot(slack.SlackBot):
    def __init__(self, token: Text, slack_channel: Optional[Text] = None, thread_id: Optional[Text] = None,
                 proxy: Optional[Text] = None, api_url: Text = DEFAULT_API_URL) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, proxy=proxy, base_url=_with_slash(api_url))


class SlackInput(slack.SlackInput):
    api_url: Text = DEFAULT_API_URL

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen_events = SeenEvents(EVENT_IDS_KEPT)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.api_url = _with_slash(credentials.get("slack_api_url") or DEFAULT_API_URL)
        return channel

    async def process_message(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                              text: Text, sender_id: Optional[Text], metadata: Optional[Dict]) -> Any:
        event_id = event_id_of(request)
        if event_id is not None and self.seen_events.seen_before(event_id):
            logger.info("Acknowledged a repeated Slack event without processing it again.")
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        sender_id = conversation_id(f"{CONVERSATION_PREFIX}:{team_of(request)}", sender_id)
        return await super().process_message(request, with_safe_links(on_new_message), text, sender_id, metadata)

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        bot = SlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_url)
        return safe_output(addressed_by_platform(bot, CONVERSATION_PREFIX))


class SeenEvents:
    """The last `size` Slack event ids taken in, oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.ids: OrderedDict[Text, None] = OrderedDict()

    def seen_before(self, event_id: Text) -> bool:
        """True if already taken in; otherwise remembers it. No await inside, so two
        deliveries of one event on the same event loop cannot both pass."""
        if event_id in self.ids:
            return True
        self.ids[event_id] = None
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)
        return False


def team_of(request: Request) -> Text:
    """The workspace a signed request comes from: `team_id` of an event, `team.id` of an
    interactive payload."""
    if request.headers.get("content-type") == "application/json":
        body = request.json if isinstance(request.json, dict) else {}
        team = body.get("team_id")
    else:
        try:
            payload = json.loads(request.form["payload"][0])
            team = (payload.get("team") or {}).get("id")
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            team = None
    return team if isinstance(team, str) and team else "-"


def event_id_of(request: Request) -> Optional[Text]:
    """The Events API event_id of a JSON post (interactive form posts have none)."""
    if request.headers.get("content-type") != "application/json":
        return None
    body = request.json
    event_id = body.get("event_id") if isinstance(body, dict) else None
    return event_id if isinstance(event_id, str) and event_id else None
