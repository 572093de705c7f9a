"""The variables `rasa run` and endpoints.yml read, derived from settings: the action server URL
and its secret, the tracker store pointed at DATABASE_URL so transcripts live in the store's own
database (one setting for the operator, not two), the lock store (LOCK_STORE_URL), the API token
and the web chat's origin.
Rasa takes a full database URL in the tracker store's `url` field.

The Makefile evaluates these lines (`eval "$(python -m bot rasa-env)"`), so the secrets reach
Rasa's environment and command line without being echoed.
"""
from __future__ import annotations

import shlex

from sqlalchemy.engine import make_url

from bot.install_secrets import MissingSecret
from bot.settings import Settings, get_settings


def tracker_env(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    return {
        "TRACKER_DIALECT": url.get_backend_name(),
        "TRACKER_URL": url.render_as_string(hide_password=False),
    }


REDIS_LOCK_STORE = "rasa_extensions.lock_store.RedisLockStoreWithFallback"


def lock_store_env(lock_store_url: str) -> dict[str, str]:
    """Rasa's lock store: shared in Redis when LOCK_STORE_URL is set, else in this server's memory."""
    return {"LOCK_STORE_TYPE": REDIS_LOCK_STORE if lock_store_url else "in_memory",
            "LOCK_STORE_URL": lock_store_url}


def rasa_env(settings: Settings) -> dict[str, str]:
    missing = [name for name, value in (("TINSEL_API_TOKEN", settings.api_token),
                                        ("ACTION_SERVER_TOKEN", settings.action_server_token)) if not value]
    if missing:
        raise MissingSecret(f"{' and '.join(missing)} not set: run `python -m bot secrets` (make run does).")
    return {
        "ACTION_SERVER_URL": settings.action_server_url,
        "ACTION_SERVER_TOKEN": settings.action_server_token,
        "TINSEL_API_TOKEN": settings.api_token,
        "WEBCHAT_ORIGIN": settings.webchat_page_origin(),
        # Sanic's access log writes each request's URL, and Rasa reads --auth-token from the
        # URL's `token` parameter: with LOG_LEVEL_LIBRARIES=INFO the token would reach the log.
        "SANIC_ACCESS_LOG": "false",
        # Sanic reads X-Forwarded-For only from this many proxies (channels/identity.py).
        "SANIC_PROXIES_COUNT": str(settings.trusted_proxies),
        **tracker_env(settings.database_url),
        **lock_store_env(settings.lock_store_url),
    }


def rasa_env_lines() -> list[str]:
    return [f"export {k}={shlex.quote(v)}" for k, v in rasa_env(get_settings()).items()]
