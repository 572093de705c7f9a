"""Rasa's Slack connector, posting to a configurable Web API base URL (`slack_api_url`):
GovSlack (https://slack-gov.com/api/), an Enterprise endpoint, or a local stand-in in tests.
Request signing (X-Slack-Signature with the signing secret, requests older than 5 minutes
refused) is Rasa's own check, unchanged."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels import slack
from rasa.core.channels.channel import InputChannel, OutputChannel
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_API_URL = "https://slack.com/api/"


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

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.api_url = _with_slash(credentials.get("slack_api_url") or DEFAULT_API_URL)
        return channel

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return SlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_url)
