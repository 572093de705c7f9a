"""The terminal commands behind `python -m bot` (bot/__main__.py parses the arguments):
console accounts (`agents`), the handoff queue (`handoffs`), shoppers' reminders (`reminders`)
and a shopper's data requests (`privacy`). Each is a thin edge over the store's packages; the
Shopify import command lives with its order source in `bot/order_sources/cli.py`.
"""
