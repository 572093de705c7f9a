"""The variables endpoints.yml reads, derived from settings: the action server URL, and the
tracker store pointed at DATABASE_URL so transcripts live in the store's own database (one
setting for the operator, not two). Rasa takes a full database URL in the tracker store's
`url` field."""
from __future__ import annotations

import shlex

from sqlalchemy.engine import make_url

from bot.settings import get_settings


def tracker_env(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    return {
        "TRACKER_DIALECT": url.get_backend_name(),
        "TRACKER_URL": url.render_as_string(hide_password=False),
    }


def rasa_env_lines() -> list[str]:
    settings = get_settings()
    env = {"ACTION_SERVER_URL": settings.action_server_url, **tracker_env(settings.database_url)}
    return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
