"""The action server as Tinsel runs it: rasa-sdk's app, bound to ACTION_SERVER_HOST (127.0.0.1
unless an operator puts it on a private network) and refusing every call but `/health` that does
not carry the shared secret ACTION_SERVER_TOKEN.

rasa-sdk 3.6 has no authentication of its own: anyone who reached `/webhook` could post a forged
tracker and run any action as any shopper. Rasa sends the secret as a header (endpoints.yml), so it
never appears in a URL or an access log.

    python -m actions.server [--port 5055]
"""
from __future__ import annotations

import argparse
import hmac
import logging
from http import HTTPStatus

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

from bot.install_secrets import MissingSecret
from bot.privacy.log_masking import mask_logs
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def require_secret(app: Sanic, secret: str) -> None:
    """Every request but /health must carry `Authorization: Bearer <secret>`."""

    @app.middleware("request")
    async def authenticate(request: Request):
        if request.path in OPEN_PATHS:
            return None
        if hmac.compare_digest(bearer_token(request).encode(), secret.encode()):
            return None
        logger.warning("Refused an action server request without the shared secret (%s).", request.path)
        return response.json({"error": "missing or wrong action server secret"}, status=HTTPStatus.UNAUTHORIZED)


def answer_failures_without_echo(app: Sanic) -> None:
    """rasa-sdk answers a failed action with the whole request (the shopper's tracker, email
    included) in the 500 body, which Rasa then writes to its log. Answer with the action's name only."""

    @app.exception(Exception)
    async def action_failed(request: Request, exception: Exception):
        action = (request.json or {}).get("next_action") if request.method == "POST" else None
        logger.error("Action %s failed: %s", action, type(exception).__name__, exc_info=exception)
        return response.json({"error": "the action failed", "action_name": action},
                             status=HTTPStatus.INTERNAL_SERVER_ERROR)


def build_app(settings: Settings) -> Sanic:
    if not settings.action_server_token:
        raise MissingSecret("ACTION_SERVER_TOKEN is not set: run `python -m bot secrets` (make run does).")
    # Rasa calls the action server server-to-server; no browser needs CORS here.
    app = create_app("actions", cors_origins=[])
    require_secret(app, settings.action_server_token)
    answer_failures_without_echo(app)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    settings = get_settings()
    app = build_app(settings)
    mask_logs()  # issue #15 (privacy): no shopper emails/phones/cards/addresses in the log (after Sanic's loggers exist)
    logger.info("Action server on %s:%s (secret required)", settings.action_server_host, args.port)
    app.run(settings.action_server_host, args.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
