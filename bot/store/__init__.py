"""The store's database: its tables (`models`), the engine and one session per unit of work
(`engine`: `get_store`, `Store.session`, `Store.reading`, `create_database_if_missing`). Every other
package reads and writes through these; where orders come from (a store's Shopify exports, its
webhooks, and the demo store's files behind `python -m bot seed`) is `bot/order_sources/`.
"""
