"""Where a store's orders come from: each order source turns one platform's data into plain records.

An order source (Shopify's CSV exports today, `shopify_csv`; Shopify webhooks, WooCommerce or a
store's own database later) reads the platform's format and yields the dataclasses of `records`:
a product variant, a customer, an order with its lines and, when the platform knows it, a
shipment. It knows nothing about Tinsel's tables. `apply` is the one place that writes such
records into the store models, upserting by natural key (Product.sku, Customer.email lowercased,
Order.number) in batches inside the caller's transaction and counting what it created, updated
or left unchanged. Another platform is therefore one new module that yields records; `cli` runs
the Shopify CSV import behind `python -m bot import shopify`.
"""
