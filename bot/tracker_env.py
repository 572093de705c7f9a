"""The variables endpoints.yml reads, derived from settings: the action server URL, and the
tracker store taken apart from DATABASE_URL so transcripts live in the store's own database
(one setting for the operator, not two)."""
from __future__ import annotations

import shlex

from sqlalchemy.engine import make_url

from bot.settings import get_settings


def tracker_env(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    dialect = url.get_backend_name()
    return {
        "TRACKER_DIALECT": dialect,
        "TRACKER_HOST": url.host or "",
        "TRACKER_PORT": str(url.port or (5432 if dialect == "postgresql" else "")),
        "TRACKER_USER": url.username or "",
        "TRACKER_PASSWORD": url.password or "",
        "TRACKER_DB": url.database or "",
    }


def rasa_env_lines() -> list[str]:
    settings = get_settings()
    env = {"ACTION_SERVER_URL": settings.action_server_url, **tracker_env(settings.database_url)}
    return [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
