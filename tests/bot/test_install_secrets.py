import dataclasses
import stat

import pytest
from dotenv import dotenv_values

from bot.install_secrets import GENERATED_SECRETS, MissingSecret, ensure_secrets
from bot.rasa_link.tracker_env import rasa_env
from bot.settings import load_settings


def test_a_fresh_install_gets_its_own_random_secrets_readable_by_its_owner_only(tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert ensure_secrets(first) == list(GENERATED_SECRETS)
    ensure_secrets(second)
    values = dotenv_values(first)
    assert all(len(values[name]) >= 40 for name in GENERATED_SECRETS)
    assert values != dotenv_values(second)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600


def test_existing_settings_and_secrets_are_kept(tmp_path):
    env = tmp_path / ".env"
    env.write_text("STORE_NAME=Acme\nTINSEL_API_TOKEN=kept-token")  # no final newline
    env.chmod(0o644)
    assert ensure_secrets(env) == ["ACTION_SERVER_TOKEN"]
    values = dotenv_values(env)
    assert values["STORE_NAME"] == "Acme" and values["TINSEL_API_TOKEN"] == "kept-token"
    assert values["ACTION_SERVER_TOKEN"]
    assert ensure_secrets(env) == [] and dotenv_values(env) == values
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_rasa_is_never_started_without_its_secrets():
    settings = load_settings({"DATABASE_URL": "sqlite:///x.db"})
    with pytest.raises(MissingSecret):
        rasa_env(settings)
    ready = dataclasses.replace(settings, api_token="t", action_server_token="s")
    assert rasa_env(ready)["TINSEL_API_TOKEN"] == "t"
    assert rasa_env(ready)["WEBCHAT_ORIGIN"] == "http://localhost:8080"
