"""Tinsel's store: catalog, orders, returns, the refund ladder and handoffs. No Rasa in here.

One subpackage per concern; `settings` and `policies`, which all of them read, stay at the top,
beside `conversation` (the id, channel and transcript a request comes from) and `install_secrets`
(the per-install secrets in the `.env` that settings reads). The store's functions take a
SQLAlchemy session; the caller (an action, a CLI command, a console route) opens the unit of work,
`store.session()` to write or `store.reading()` to only read (README, "How one message flows",
names the few that take the Store and why):

    store/          the tables, the engine and its sessions, the demo store
    order_sources/  where a store's orders come from: Shopify's exports and webhooks
    orders/         verified order look-up, tracking, cancellation, the guessing throttle
    returns/        returns, exchanges and problem reports
    money/          the refund ladder, refunds, the audit log
    gifting/        gift requests and ideas, the catalog's links and add-ons, wishlists
    engagement/     personal touches and loyalty, shoppers' reminders, the holiday calendar
    support/        agents' accounts, handoff tickets, the agent desk, notices to shoppers
    privacy/        shoppers' data requests and retention, masked logs, safe links
    rasa_link/      what Rasa is started with, and the calls made to it
    web/            the agents' console and the shoppers' web chat page
    cli/            the `python -m bot` commands (parsed in __main__.py)
"""
