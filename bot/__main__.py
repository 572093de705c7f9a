"""Command line for operators and agents: `python -m bot <command>`.

    python -m bot init-db          create missing tables
    python -m bot seed [--demo] [--force]  build the deterministic demo store (tables only
                                   on a DATABASE_URL other than the default SQLite one, unless --demo)
    python -m bot handoffs ...     list, show, approve/deny the refund of, resolve tickets
    python -m bot console          serve the agents' web console on CONSOLE_PORT
    python -m bot agents add NAME  add a console account (--role, --limit; password from stdin)
    python -m bot agents reset-password NAME   new password for it (from stdin)
    python -m bot reminders ...    list, send-due, run: the reminders shoppers asked for
                                   (run also delivers order updates, issue #18)
    python -m bot orders update ORDER --status shipped|out_for_delivery|delayed|delivered
                                   [--tracking N]; orders return-received RMA: an order's change,
                                   told to the shoppers who follow it (issue #18)
    python -m bot secrets          generate the missing per-install secrets in .env (never printed)
    python -m bot rasa-env         print the variables endpoints.yml reads (from settings)
    python -m bot rasa-credentials print the channels file Rasa reads (credentials.yml + .env)
    python -m bot webchat          serve the shoppers' web chat page on WEBCHAT_PORT
    python -m bot privacy export|forget --email X   a shopper's data: print it / erase it
    python -m bot import shopify --products products_export.csv --orders orders_export.csv
                                   [--extras extras.yml] [--dry-run]
                                   a store's Shopify exports (and a side file of what they cannot
                                   carry: tracking, gifts, loyalty) into DATABASE_URL (issue #17)
    python -m bot shopify-webhooks [--host --port]   receive Shopify's webhooks on
                                   SHOPIFY_WEBHOOK_PORT, signed with SHOPIFY_WEBHOOK_SECRET
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Command:
    """One subcommand: its name and help line, the arguments it takes and what it runs. `run`
    gets the whole parser too, to report a bad combination of arguments as argparse would."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, argparse.ArgumentParser], int | None]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


# --- store ------------------------------------------------------------------------------------


def init_db(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bot.store.engine import get_store

    get_store().create_schema()
    print("Tables ready.")
    return 0


def seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="drop and rebuild every table")
    # issue #15: demo data and demo logins only in the demo store.
    parser.add_argument("--demo", action="store_true",
                        help="demo orders and console logins even on a DATABASE_URL other than the default")


def seed(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    from bot.order_sources.demo import seed_command

    return seed_command(force=args.force, demo=args.demo)


# --- configuration ----------------------------------------------------------------------------


def generate_secrets(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bot.install_secrets import ensure_secrets
    from bot.settings import PROJECT_ROOT

    for name in ensure_secrets(PROJECT_ROOT / ".env"):
        print(f"Generated {name} in .env (readable by its owner only).")
    return 0


def rasa_env(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bot.install_secrets import MissingSecret
    from bot.rasa_link.tracker_env import rasa_env_lines

    try:
        print("\n".join(rasa_env_lines()))
    except MissingSecret as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


def rasa_credentials(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from bot.rasa_link.channel_credentials import ChannelSettingsError, rasa_credentials_yaml

    try:
        print(rasa_credentials_yaml(), end="")
    except ChannelSettingsError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


# --- servers ----------------------------------------------------------------------------------


def server_arguments(default_host: str, port_setting: str, host_help: str | None = None) -> Callable:
    """--host and --port of a command that serves HTTP (the port defaults to a setting)."""

    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default=default_host, help=host_help)
        parser.add_argument("--port", type=int, help=f"default: {port_setting}")

    return add


def webchat(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    from bot.web.webchat import serve

    return serve(host=args.host, port=args.port)


def console(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    from bot.web.console import serve

    return serve(host=args.host, port=args.port)


def shopify_webhooks(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    from bot.order_sources.webhook_server import serve as serve_shopify_webhooks

    return serve_shopify_webhooks(host=args.host, port=args.port)


# --- agents' work -----------------------------------------------------------------------------


def handoffs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="list", choices=["list", "show", "resolve", "approve", "deny"])
    parser.add_argument("ticket", nargs="?", type=int)
    # issue #15: the terminal acts as an existing console account, with that account's own limit.
    parser.add_argument("--agent", help="your console account (resolve/approve/deny); its refund limit applies")
    parser.add_argument("--note", default="", help="resolution note")


def handoffs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    from bot.cli.handoffs import handoffs_command

    return handoffs_command(args.action, args.ticket, agent=args.agent, note=args.note)


def agents_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["add", "reset-password"])
    parser.add_argument("username")
    # issue #15: --role/--limit are needed by `add` only (checked in agents()), not by reset-password.
    parser.add_argument("--role", choices=["agent", "supervisor"])
    parser.add_argument("--limit", help="the account's own refund limit per order, e.g. 2000.00")


def agents(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    from bot.cli.agents import add_command, reset_password_command

    if args.action == "reset-password":
        return reset_password_command(args.username)
    if args.role is None or args.limit is None:
        parser.error("agents add needs --role and --limit")
    return add_command(args.username, args.role, args.limit)


def reminders_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="list", choices=["list", "send-due", "run"])
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between runs (run)")


def reminders(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    from bot.cli.reminders import reminders_command

    return reminders_command(args.action, interval=args.interval)


def orders_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["update", "return-received"])
    parser.add_argument("reference", help="the order number (update) or the return's RMA (return-received)")
    parser.add_argument("--status", choices=["shipped", "out_for_delivery", "delayed", "delivered"])
    parser.add_argument("--tracking", help="the parcel's tracking number")
    parser.add_argument("--carrier", help="the parcel's carrier (UPS, FedEx, USPS, DHL)")


def orders(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    """Issue #18: proactive order updates from the operator's terminal."""
    from bot.cli.order_updates import return_received_command, update_order_command

    if args.action == "return-received":
        return return_received_command(args.reference)
    if args.status is None:
        parser.error("orders update needs --status")
    return update_order_command(args.reference, args.status, tracking=args.tracking, carrier=args.carrier)


# --- privacy and a store's own data -----------------------------------------------------------


def privacy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["export", "forget"])
    parser.add_argument("--email", required=True, help="the shopper's email")
    parser.add_argument("--operator", help="who asked for it (forget; for the audit log)")


def privacy(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    """Issue #15 (privacy): a shopper's data requests; erasing needs a name for the audit log."""
    from bot.cli.privacy import privacy_command

    if args.action == "forget" and not args.operator:
        parser.error("privacy forget needs --operator NAME")
    return privacy_command(args.action, args.email, operator=args.operator)


def import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=["shopify"])
    parser.add_argument("--products", type=Path, help="Shopify's products_export.csv")
    parser.add_argument("--orders", type=Path, help="Shopify's orders_export.csv")
    parser.add_argument("--extras", type=Path,
                        help="side file (YAML) of what the exports cannot carry; see bot/order_sources/extras.py")
    parser.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def import_exports(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int | None:
    """Issue #17: a store's own Shopify exports."""
    from bot.order_sources.cli import import_shopify_command

    return import_shopify_command(args.products, args.orders, dry_run=args.dry_run, quiet=args.quiet,
                                  extras=args.extras)


OTHER_MACHINES = "0.0.0.0 to serve other machines"
COMMANDS = (
    Command("init-db", "create missing tables", init_db),
    Command("seed", "build the demo store (skipped if it exists)", seed, seed_arguments),
    Command("secrets", "generate missing secrets in .env (mode 600)", generate_secrets),
    Command("rasa-env", "shell exports for endpoints.yml", rasa_env),
    Command("rasa-credentials", "credentials.yml plus the channels set in .env", rasa_credentials),
    Command("webchat", "serve the web chat page", webchat, server_arguments("0.0.0.0", "WEBCHAT_PORT")),
    Command("handoffs", "open handoff tickets", handoffs, handoffs_arguments),
    Command("console", "serve the agents' web console", console,
            server_arguments("127.0.0.1", "CONSOLE_PORT", OTHER_MACHINES)),
    Command("agents", "console accounts", agents, agents_arguments),
    Command("reminders", "reminders shoppers asked for", reminders, reminders_arguments),
    Command("orders", "an order's change, told to its shoppers (update, return-received)", orders,
            orders_arguments),
    Command("privacy", "export or erase what is kept about a shopper", privacy, privacy_arguments),
    Command("import", "import a store's exports (shopify)", import_exports, import_arguments),
    # issue #17: Shopify webhooks (orders, fulfillments, privacy).
    Command("shopify-webhooks", "receive Shopify's webhooks", shopify_webhooks,
            server_arguments("127.0.0.1", "SHOPIFY_WEBHOOK_PORT", OTHER_MACHINES)),
)


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.arguments(subcommands.add_parser(command.name, help=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser()
    args = parser.parse_args(argv)
    command = next(c for c in COMMANDS if c.name == args.command)
    return command.run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
