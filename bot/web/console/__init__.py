"""The support agents' web console: `python -m bot console` (Sanic + Jinja2, no JavaScript).

The web layer only: who is logged in, which form was posted, which page to show. Every rule
lives in plain modules it calls: bot/support/accounts.py (accounts, passwords, sessions, limits) and
bot/support/desk.py (the queue, a ticket, claim/reply/approve/deny/forward/resolve), which the
terminal commands share. Which file holds which route: app.py's docstring.
"""
from bot.web.console.app import create_app, serve

__all__ = ["create_app", "serve"]
