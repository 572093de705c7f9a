"""The per-install secrets in `.env`: made when missing, never printed.

TINSEL_API_TOKEN guards Rasa's HTTP API (`rasa run --auth-token`); ACTION_SERVER_TOKEN is the
secret Rasa sends the action server. A fresh install must not share them with any other, so they
are random, and `.env` (git-ignored) is readable by its owner only.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import dotenv_values

GENERATED_SECRETS = ("TINSEL_API_TOKEN", "ACTION_SERVER_TOKEN")
OWNER_ONLY = 0o600


class MissingSecret(RuntimeError):
    """A server was started without a secret it needs."""


def ensure_secrets(env_path: Path, names: tuple[str, ...] = GENERATED_SECRETS) -> list[str]:
    """Appends a random value for each of `names` that `env_path` lacks; returns the names added."""
    present = dotenv_values(env_path) if env_path.exists() else {}
    missing = [name for name in names if not (present.get(name) or "").strip()]
    if not env_path.exists():
        env_path.touch(mode=OWNER_ONLY)
    os.chmod(env_path, OWNER_ONLY)
    if missing:
        text = env_path.read_text()
        lines = [] if not text or text.endswith("\n") else [""]
        lines += [f"{name}={secrets.token_urlsafe(32)}" for name in missing]
        with env_path.open("a") as env_file:
            env_file.write("\n".join(lines) + "\n")
    return missing
