"""Command line for operators and agents: `python -m bot <command>`.

    python -m bot init-db          create missing tables
    python -m bot seed [--demo] [--force]  build the deterministic demo store (tables only
                                   on a DATABASE_URL other than the default SQLite one, unless --demo)
    python -m bot handoffs ...     list, show, approve/deny the refund of, resolve tickets
    python -m bot console          serve the agents' web console on CONSOLE_PORT
    python -m bot agents add NAME  add a console account (--role, --limit; password from stdin)
    python -m bot agents reset-password NAME   new password for it (from stdin)
    python -m bot reminders ...    list, send-due, run: the reminders shoppers asked for
    python -m bot secrets          generate the missing per-install secrets in .env (never printed)
    python -m bot rasa-env         print the variables endpoints.yml reads (from settings)
    python -m bot rasa-credentials print the channels file Rasa reads (credentials.yml + .env)
    python -m bot webchat          serve the shoppers' web chat page on WEBCHAT_PORT
    python -m bot privacy export|forget --email X   a shopper's data: print it / erase it
    python -m bot import shopify --products products_export.csv --orders orders_export.csv [--dry-run]
                                   a store's Shopify exports into DATABASE_URL (issue #17)
    python -m bot shopify-webhooks [--host --port]   receive Shopify's webhooks on
                                   SHOPIFY_WEBHOOK_PORT, signed with SHOPIFY_WEBHOOK_SECRET
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help="create missing tables")
    seed = commands.add_parser("seed", help="build the demo store (skipped if it exists)")
    seed.add_argument("--force", action="store_true", help="drop and rebuild every table")
    # issue #15: demo data and demo logins only in the demo store.
    seed.add_argument("--demo", action="store_true",
                      help="demo orders and console logins even on a DATABASE_URL other than the default")
    commands.add_parser("secrets", help="generate missing secrets in .env (mode 600)")
    commands.add_parser("rasa-env", help="shell exports for endpoints.yml")
    commands.add_parser("rasa-credentials", help="credentials.yml plus the channels set in .env")
    webchat = commands.add_parser("webchat", help="serve the web chat page")
    webchat.add_argument("--host", default="0.0.0.0")
    webchat.add_argument("--port", type=int, help="default: WEBCHAT_PORT")
    handoffs = commands.add_parser("handoffs", help="open handoff tickets")
    handoffs.add_argument("action", nargs="?", default="list", choices=["list", "show", "resolve", "approve", "deny"])
    handoffs.add_argument("ticket", nargs="?", type=int)
    # issue #15: the terminal acts as an existing console account, with that account's own limit.
    handoffs.add_argument("--agent", help="your console account (resolve/approve/deny); its refund limit applies")
    handoffs.add_argument("--note", default="", help="resolution note")
    console = commands.add_parser("console", help="serve the agents' web console")
    console.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    console.add_argument("--port", type=int, help="default: CONSOLE_PORT")
    agents = commands.add_parser("agents", help="console accounts")
    agents.add_argument("action", choices=["add", "reset-password"])
    agents.add_argument("username")
    # issue #15: --role/--limit are needed by `add` only (checked below), not by reset-password.
    agents.add_argument("--role", choices=["agent", "supervisor"])
    agents.add_argument("--limit", help="the account's own refund limit per order, e.g. 2000.00")
    reminders = commands.add_parser("reminders", help="reminders shoppers asked for")
    reminders.add_argument("action", nargs="?", default="list", choices=["list", "send-due", "run"])
    reminders.add_argument("--interval", type=float, default=60.0, help="seconds between runs (run)")
    # issue #15 (privacy): a shopper's data requests.
    privacy = commands.add_parser("privacy", help="export or erase what is kept about a shopper")
    privacy.add_argument("action", choices=["export", "forget"])
    privacy.add_argument("--email", required=True, help="the shopper's email")
    privacy.add_argument("--operator", help="who asked for it (forget; for the audit log)")
    # issue #17: a store's own Shopify exports.
    importer = commands.add_parser("import", help="import a store's exports (shopify)")
    importer.add_argument("source", choices=["shopify"])
    importer.add_argument("--products", type=Path, help="Shopify's products_export.csv")
    importer.add_argument("--orders", type=Path, help="Shopify's orders_export.csv")
    importer.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    importer.add_argument("--quiet", action="store_true", help="no progress bar")
    # issue #17: Shopify webhooks (orders, fulfillments, privacy).
    shopify_webhooks = commands.add_parser("shopify-webhooks", help="receive Shopify's webhooks")
    shopify_webhooks.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    shopify_webhooks.add_argument("--port", type=int, help="default: SHOPIFY_WEBHOOK_PORT")
    args = parser.parse_args(argv)

    if args.command == "init-db":
        from bot.store.engine import get_store

        get_store().create_schema()
        print("Tables ready.")
    elif args.command == "seed":
        from bot.store.demo_seed import seed_command

        return seed_command(force=args.force, demo=args.demo)
    elif args.command == "secrets":
        from bot.install_secrets import ensure_secrets
        from bot.settings import PROJECT_ROOT

        for name in ensure_secrets(PROJECT_ROOT / ".env"):
            print(f"Generated {name} in .env (readable by its owner only).")
    elif args.command == "rasa-env":
        from bot.install_secrets import MissingSecret
        from bot.rasa_link.tracker_env import rasa_env_lines

        try:
            print("\n".join(rasa_env_lines()))
        except MissingSecret as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 2
    elif args.command == "rasa-credentials":
        from bot.rasa_link.channel_credentials import ChannelSettingsError, rasa_credentials_yaml

        try:
            print(rasa_credentials_yaml(), end="")
        except ChannelSettingsError as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 2
    elif args.command == "webchat":
        from bot.web.webchat import serve

        return serve(host=args.host, port=args.port)
    elif args.command == "handoffs":
        from bot.cli.handoffs import handoffs_command

        return handoffs_command(args.action, args.ticket, agent=args.agent, note=args.note)
    elif args.command == "console":
        from bot.web.console import serve

        return serve(host=args.host, port=args.port)
    elif args.command == "agents":
        from bot.cli.agents import add_command, reset_password_command

        if args.action == "reset-password":
            return reset_password_command(args.username)
        if args.role is None or args.limit is None:
            parser.error("agents add needs --role and --limit")
        return add_command(args.username, args.role, args.limit)
    elif args.command == "reminders":
        from bot.cli.reminders import reminders_command

        return reminders_command(args.action, interval=args.interval)
    elif args.command == "privacy":  # issue #15 (privacy)
        from bot.cli.privacy import privacy_command

        if args.action == "forget" and not args.operator:
            parser.error("privacy forget needs --operator NAME")
        return privacy_command(args.action, args.email, operator=args.operator)
    elif args.command == "import":  # issue #17
        from bot.order_sources.cli import import_shopify_command

        return import_shopify_command(args.products, args.orders, dry_run=args.dry_run, quiet=args.quiet)
    elif args.command == "shopify-webhooks":  # issue #17
        from bot.order_sources.webhook_server import serve as serve_shopify_webhooks

        return serve_shopify_webhooks(host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
