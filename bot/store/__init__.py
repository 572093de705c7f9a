"""The store's database: its tables (`models`), the engine and one session per unit of work
(`engine`: `get_store`, `Store.session`, `create_database_if_missing`), and the deterministic demo
store behind `python -m bot seed` (`demo_seed`). Every other package reads and writes through
these; where real orders come from is `bot/order_sources/`.
"""
