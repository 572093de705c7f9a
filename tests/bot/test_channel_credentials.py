import pytest
import yaml

from bot.rasa_link.channel_credentials import (
    REST_CONNECTOR, SLACK_CONNECTOR, TELEGRAM_CONNECTOR, ChannelSettingsError, channel_credentials, read_base_credentials,
    rasa_credentials_yaml,
)
from bot.settings import load_settings

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "8f14e45fceea167a5a36dedd4bea2543"}
TELEGRAM = {"TELEGRAM_ACCESS_TOKEN": "123456:ABC-def", "TELEGRAM_BOT_NAME": "@tinsel_shop_bot",
            "TELEGRAM_WEBHOOK_URL": "https://chat.example.com/webhooks/telegram/webhook"}


def credentials(env: dict) -> dict:
    return channel_credentials(load_settings(env), read_base_credentials())


def test_without_slack_or_telegram_settings_only_rest_and_socketio_listen():
    generated = credentials({})
    assert generated == read_base_credentials()
    assert set(generated) == {REST_CONNECTOR, "channels.socketio.SocketIOInput"}
    assert generated["channels.socketio.SocketIOInput"]["session_persistence"] is True


def test_rest_channel_off_leaves_rest_out_and_keeps_the_rest():
    assert REST_CONNECTOR in credentials({"REST_CHANNEL": "open"})
    generated = credentials({**SLACK, "REST_CHANNEL": "off"})
    assert REST_CONNECTOR not in generated and "rest" not in generated
    assert {"channels.socketio.SocketIOInput", SLACK_CONNECTOR} <= set(generated)


def test_rest_channel_token_asks_for_the_api_token_without_writing_it_down():
    generated = credentials({"REST_CHANNEL": "token", "TINSEL_API_TOKEN": "a-secret-api-token"})
    assert generated[REST_CONNECTOR] == {"require_api_token": True}
    assert "a-secret-api-token" not in yaml.safe_dump(generated)


def test_a_mistyped_rest_channel_setting_is_an_error_not_open():
    with pytest.raises(ValueError, match="REST_CHANNEL"):
        load_settings({"REST_CHANNEL": "of"})


def test_slack_settings_switch_slack_on_and_nothing_else():
    generated = credentials(SLACK)
    slack = generated[SLACK_CONNECTOR]
    assert slack["slack_token"] == SLACK["SLACK_BOT_TOKEN"]
    assert slack["slack_signing_secret"] == SLACK["SLACK_SIGNING_SECRET"]
    assert slack["slack_api_url"] == load_settings({}).slack_api_url
    assert TELEGRAM_CONNECTOR not in generated and REST_CONNECTOR in generated


def test_telegram_settings_switch_telegram_on_with_a_webhook_secret():
    generated = credentials({**TELEGRAM, "TELEGRAM_API_URL": "http://localhost:8081"})
    telegram = generated[TELEGRAM_CONNECTOR]
    assert telegram["access_token"] == TELEGRAM["TELEGRAM_ACCESS_TOKEN"]
    assert telegram["verify"] == "tinsel_shop_bot"
    assert telegram["webhook_url"] == TELEGRAM["TELEGRAM_WEBHOOK_URL"]
    assert telegram["api_url"] == "http://localhost:8081"
    secret = telegram["secret_token"]
    assert len(secret) >= 32 and TELEGRAM["TELEGRAM_ACCESS_TOKEN"] not in secret
    assert credentials({**TELEGRAM, "TELEGRAM_WEBHOOK_SECRET": "chosen-secret"})[TELEGRAM_CONNECTOR][
        "secret_token"] == "chosen-secret"
    assert SLACK_CONNECTOR not in generated


@pytest.mark.parametrize("env, missing", [
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
    ({"TELEGRAM_ACCESS_TOKEN": "123456:ABC", "TELEGRAM_BOT_NAME": "tinsel_shop_bot"}, "TELEGRAM_WEBHOOK_URL"),
])
def test_a_half_configured_channel_is_an_error_naming_what_is_missing(env, missing):
    with pytest.raises(ChannelSettingsError, match=missing):
        credentials(env)


def test_the_generated_file_is_yaml_rasa_can_read():
    generated = yaml.safe_load(rasa_credentials_yaml(load_settings({**SLACK, **TELEGRAM})))
    assert set(generated) == {REST_CONNECTOR, "channels.socketio.SocketIOInput", SLACK_CONNECTOR, TELEGRAM_CONNECTOR}
