"""Slack and Telegram end to end: a real Rasa server whose channels come from
`python -m bot rasa-credentials` with Slack and Telegram settings pointed at a local stand-in
for their APIs, a real action server and a seeded SQLite demo store."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.rasa_link.channel_credentials import telegram_webhook_secret
from bot.settings import load_settings
from bot.store.engine import Store
from tests.channels.platform_standin import PlatformStandIn
from tests.servers import ActionServer, RasaServer, rasa_credentials, require_model, seeded_demo_store

SLACK_SIGNING_SECRET = "3f1c9a7be0d24b6f8e5a2c4d6b8f0a1e"
TELEGRAM_BOT_NAME = "tinsel_test_bot"


@dataclass
class ChannelStack:
    rasa: RasaServer
    platforms: PlatformStandIn
    store: Store
    env: dict[str, str]
    credentials: Path

    @property
    def telegram_secret(self) -> str:
        return telegram_webhook_secret(load_settings(self.env))


@pytest.fixture(scope="session")
def channel_stack(tmp_path_factory):
    require_model()
    workdir = tmp_path_factory.mktemp("channels")
    store = seeded_demo_store(workdir / "demo-store.db")
    platforms = PlatformStandIn(telegram_bot_name=TELEGRAM_BOT_NAME)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-000000000000-tinsel-test",
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_API_URL": platforms.slack_api_url,
        "TELEGRAM_ACCESS_TOKEN": "123456789:tinsel-test-token",
        "TELEGRAM_BOT_NAME": TELEGRAM_BOT_NAME,
        "TELEGRAM_WEBHOOK_URL": "https://chat.tinsel.example/webhooks/telegram/webhook",
        "TELEGRAM_API_URL": platforms.telegram_api_url,
        # REST as a production store runs it: behind the API token, behind a proxy (HAProxy)
        # whose X-Forwarded-For Rasa trusts (TRUSTED_PROXIES) (tests/channels/test_rest_channel.py).
        "REST_CHANNEL": "token",
        "TRUSTED_PROXIES": "1",
        # Channels do not depend on where messages are parsed: no parser process to wait for.
        "PARSER_PROCESS": "0",
    }
    servers = []
    try:
        actions = ActionServer(store.url, workdir / "actions.log")
        servers.append(actions)
        credentials = rasa_credentials(env, workdir / "credentials.yml")
        rasa = RasaServer(database_url=store.url, action_server_url=actions.url, credentials=credentials,
                          log_path=workdir / "rasa.log", env=env)
        servers.append(rasa)
        yield ChannelStack(rasa=rasa, platforms=platforms, store=store, env=env, credentials=credentials)
    finally:
        for server in reversed(servers):
            server.stop()
        platforms.stop()
        store.dispose()
