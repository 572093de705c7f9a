"""The demo store: demo_store/'s Shopify exports and side file, imported like a real store's.

`python -m bot seed` imports demo_store/products_export.csv, orders_export.csv and extras.yml
through the same code as `python -m bot import shopify`. The side file's `recorded_on` moves every
date to the store's today (order_sources.date_shift), so the demo always tells a current story:
parcels out for delivery today, a delay from last night's storm, purchases from the most recent
holiday season, an order delivered long ago and out of its return window. Order numbers and emails
never change, so the README's table of orders to try (the side file's try_these) stays true.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.order_sources.cli import ImportFile, import_files
from bot.order_sources.extras import read_extras
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.store.engine import Store, get_store
from bot.store.models import Customer, Order, Product
from bot.support import accounts as agents, canned_replies
from bot.support.demo_history import add_demo_history

DEMO_DIR = PROJECT_ROOT / "demo_store"
DEMO_PRODUCTS = DEMO_DIR / "products_export.csv"
DEMO_ORDERS_FILE = DEMO_DIR / "orders_export.csv"
DEMO_EXTRAS = DEMO_DIR / "extras.yml"


def build_demo_store(store: Store, settings: Settings) -> dict[str, int]:
    """Imports the demo files into an empty schema as of settings.today(); returns row counts."""
    import_files(store, [ImportFile("products", DEMO_PRODUCTS), ImportFile("orders", DEMO_ORDERS_FILE)],
                 extras=DEMO_EXTRAS, settings=settings)
    with store.session() as s:
        canned_replies.add_starter_replies(s, "demo", settings.now())
    add_demo_history(store, settings)
    with store.reading() as s:
        return {
            "products": s.execute(select(func.count(Product.id))).scalar_one(),
            "categories": s.execute(select(func.count(func.distinct(Product.category)))).scalar_one(),
            "customers": s.execute(select(func.count(Customer.id))).scalar_one(),
            "orders": s.execute(select(func.count(Order.id))).scalar_one(),
        }


def demo_orders() -> list[tuple[str, str]]:
    """(order number, what it shows) for each demo order worth trying."""
    return list(read_extras(DEMO_EXTRAS).try_these)


# ------------------------------------------------------------------------------ demo table


def demo_orders_markdown(store: Store) -> str:
    """The README table of demo orders, with email and status as the database has them."""
    worth_trying = demo_orders()
    numbers = [number for number, _ in worth_trying]
    with store.reading() as s:
        found = {
            o.number: o
            for o in s.execute(select(Order).join(Customer).where(Order.number.in_(numbers))).scalars()
        }
        rows = ["| Order | Email | Status | Try |", "|---|---|---|---|"]
        for number, shows in worth_trying:
            order = found.get(number)
            if order is None:
                rows.append(f"| {number} | (missing) | (missing) | {shows} |")
            else:
                rows.append(f"| {number} | {order.customer.email} | {order.status.replace('_', ' ')} | {shows} |")
    return "\n".join(rows)


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def is_default_demo_database(url: str) -> bool:
    """The SQLite file used when DATABASE_URL is unset: the one place demo data goes by default."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return False
    return Path(parsed.database).resolve() == (PROJECT_ROOT / "tinsel.db").resolve()


def seed_command(force: bool = False, demo: bool = False) -> int:
    """`python -m bot seed`: builds the demo store once; --force drops and rebuilds it.

    Only the default SQLite database (or any, with --demo) gets demo orders and demo logins: a
    real store's database must never hold made-up orders or accounts anyone could log in with.
    """
    store, settings = get_store(), get_settings()
    if not (demo or is_default_demo_database(store.url)):
        return _schema_only(store, force)
    store.create_schema()
    with store.reading() as s:
        products = s.execute(select(func.count(Product.id))).scalar_one()
        orders = s.execute(select(func.count(Order.id))).scalar_one()
    if products and not force:
        print(f"Demo store already seeded ({products} products, {orders} orders) in {_where(store.url)}")
        print("(`python -m bot seed --force` drops and rebuilds it.)")
    else:
        if force:
            store.drop_schema()
            store.create_schema()
        counts = build_demo_store(store, settings)
        print(
            f"Seeded the demo store in {_where(store.url)} for {settings.today().isoformat()}: "
            f"{counts['products']} products in {counts['categories']} categories, "
            f"{counts['customers']} customers, {counts['orders']} orders."
        )
    print()
    print("Demo orders (verify with the order number and its email):")
    print()
    print(demo_orders_markdown(store))
    print()
    _print_demo_logins(store, settings)
    return 0


def _schema_only(store: Store, force: bool) -> int:
    if force:
        print(f"Not dropping anything in {_where(store.url)}: it is not the demo store "
              "(add --demo to rebuild it as one).")
        return 2
    store.create_schema()
    print(f"Tables ready in {_where(store.url)}. No demo orders and no console accounts were created: "
          "this is not the default demo database (`python -m bot seed --demo` fills it with demo data).")
    print("Add console accounts with: python -m bot agents add NAME --role agent|supervisor --limit AMOUNT")
    return 0


def _print_demo_logins(store: Store, settings: Settings) -> None:
    """Shows a demo login's password once, when it is created; later runs say how to set a new one."""
    print(f"Agents' console logins (demo only; `python -m bot console`, port {settings.console_port}):")
    with store.session() as session:
        logins = agents.ensure_demo_accounts(session, settings)
    for username, role, password, limit in logins:
        if password is not None:
            print(f"  {username} / {password}  ({role}, refund limit {limit:.2f}) - shown only now, note it")
        else:
            print(f"  {username}  ({role}, refund limit {limit:.2f}) - its password was printed when it was "
                  f"created; set a new one with: python -m bot agents reset-password {username}")
