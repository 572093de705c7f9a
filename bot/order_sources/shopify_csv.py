"""Shopify admin's CSV exports (products_export.csv, orders_export.csv) as order-source records.

Both files are read as a stream, one row at a time; rows are grouped as Shopify writes them:

* products: every row of a product shares its Handle and only the first carries Title, Body
  (HTML), Type, Tags and the option names. A row with a Variant SKU, price or option value is a
  variant; a row with none of them only adds an image (Image Src) and is skipped.
* orders: one row per line item, all sharing the order's Name; order-level fields (Financial
  Status, Fulfillment Status, Created at, Shipping, Shipping Method, Cancelled at, names) are
  read from the order's first row only.

Errors name the physical line of the file where the bad row starts.

Products (a Tinsel product is one variant):

    Tinsel          Shopify
    sku             Variant SKU (required: Tinsel finds products by SKU)
    style           Handle (variants of one product share it, as exchanges expect)
    name            Title;  description: Body (HTML) as plain text
    category        Type lowercased, else the last part of Product Category, else "other"
    price, stock    Variant Price, Variant Inventory Qty (empty: 0)
    size, color     the option named Size, and the one named Color or Colour
    tags            Tags, lowercased
    slug            the link's path after /products/: Handle for a product with one variant;
                    otherwise Handle plus the variant's options as a query Shopify ignores
                    ("fair-isle-sweater?size=M&color=Red"), so every variant's link opens the
                    product's page (the export has no variant id for `?variant=`) and stays
                    unique

Orders:

    Tinsel           Shopify
    number           Name without "#" ("#5301" -> "5301")
    customer         Email (lowercased, required), Billing Name, else Shipping Name
    placed_at        Created at, the shop's wall-clock time (the UTC offset is dropped, as the
                     store keeps local times); "2025-10-07 09:50:26 +0200" or ISO 8601
    shipping_paid    Shipping;  line items: Lineitem sku, Lineitem quantity, Lineitem price
    cancelled_at     Cancelled at; refunded: Refunded Amount (a cancelled order's refund is
                     written as issued, so the bot says the money already went back)
    shipping_method  Shipping Method containing "overnight" / "next day" -> overnight;
                     "express" / "priority" / "2-day" / "two-day" -> express; else standard

    status           Cancelled at set, or Financial Status voided / expired   -> cancelled
                     Financial Status refunded or Fulfillment Status restocked -> returned when
                         fulfilled or partial, else cancelled
                     Fulfillment Status fulfilled or partial                   -> shipped
                     Fulfillment Status unfulfilled, pending or empty          -> processing
                     (Financial Status pending, authorized, partially_paid, paid and
                     partially_refunded do not change the status; other values are errors.)

What the exports cannot carry is not invented: no carrier, tracking number or delivery (so no
Shipment, and "shipped" never becomes "delivered" from a CSV), no gift flag, no ages, final-sale
flag or refill days for products, no customer birthday or loyalty points. Taxes, discounts,
refunded amounts, addresses, payment and currency are not kept by Tinsel's models. Products whose
Status is draft or archived are imported like active ones (old orders still name them).
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Iterable, Iterator
from urllib.parse import urlencode

from bot.order_sources.records import (
    CustomerRecord,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    RecordError,
)

# The header rows Shopify's admin writes (Products > Export; Orders > Export).
PRODUCT_COLUMNS = (
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty",
    "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src", "Image Position",
    "Image Alt Text", "Gift Card", "SEO Title", "SEO Description",
    "Google Shopping / Google Product Category", "Google Shopping / Gender", "Google Shopping / Age Group",
    "Google Shopping / MPN", "Google Shopping / AdWords Grouping", "Google Shopping / AdWords Labels",
    "Google Shopping / Condition", "Google Shopping / Custom Product", "Google Shopping / Custom Label 0",
    "Google Shopping / Custom Label 1", "Google Shopping / Custom Label 2", "Google Shopping / Custom Label 3",
    "Google Shopping / Custom Label 4", "Variant Image", "Variant Weight Unit", "Variant Tax Code",
    "Cost per item", "Included / United States", "Price / United States", "Compare At Price / United States",
    "Included / International", "Price / International", "Compare At Price / International", "Status",
)
ORDER_COLUMNS = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2", "Billing Company", "Billing City",
    "Billing Zip", "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes", "Cancelled at",
    "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee",
    "Location", "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount", "Tax 1 Name",
    "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value", "Tax 4 Name", "Tax 4 Value",
    "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name",
    "Shipping Province Name", "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
)
# The columns the import reads; any other column may be missing (exports vary by shop and year).
PRODUCT_COLUMNS_READ = ("Handle", "Title", "Body (HTML)", "Type", "Tags", "Option1 Name", "Option1 Value",
                        "Variant SKU", "Variant Price")
ORDER_COLUMNS_READ = ("Name", "Email", "Financial Status", "Fulfillment Status", "Created at",
                      "Lineitem quantity", "Lineitem price", "Lineitem sku")

FINANCIAL_STATUSES = ("pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded",
                      "voided", "expired")
FULFILLMENT_STATUSES = ("fulfilled", "partial", "unfulfilled", "pending", "restocked", "")
SHIPPING_METHOD_WORDS = (("overnight", ("overnight", "next day", "next-day")),
                         ("express", ("express", "priority", "2-day", "two-day")))
SHOPIFY_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
CENT = Decimal("0.01")
MAX_LENGTHS = {"Variant SKU": 40, "Name": 20, "Email": 254, "Title": 160}


class _Row:
    """One data row: values by column name, stripped; a missing optional column reads as ""."""

    __slots__ = ("values", "index", "line")

    def __init__(self, values: list[str], index: dict[str, int], line: int):
        self.values, self.index, self.line = values, index, line

    def __getitem__(self, column: str) -> str:
        position = self.index.get(column)
        return self.values[position].strip() if position is not None else ""

    @property
    def origin(self) -> str:
        return f"line {self.line}"

    def fail(self, reason: str) -> RecordError:
        return RecordError(self.origin, reason)

    def required(self, column: str) -> str:
        value = self[column]
        if not value:
            raise self.fail(f"{column} is empty")
        if len(value) > MAX_LENGTHS.get(column, len(value)):
            raise self.fail(f"{column} {value!r} is longer than {MAX_LENGTHS[column]} characters")
        return value


def read_rows(lines: Iterable[str], columns_read: tuple[str, ...]) -> Iterator[_Row]:
    """The data rows after the header, each knowing the physical line it starts on."""
    reader = csv.reader(lines)
    try:
        header = [name.strip().lstrip("\ufeff") for name in next(reader, [])]
        missing = [name for name in columns_read if name not in header]
        if missing:
            raise RecordError("line 1", f"not a Shopify export: no column {', '.join(missing)}")
        index = {name: position for position, name in enumerate(header)}
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise RecordError(f"line {start}", f"{len(values)} values for {len(header)} columns")
            yield _Row(values, index, start)
    except csv.Error as exc:
        raise RecordError(f"line {reader.line_num}", f"not readable as CSV: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise RecordError(f"after line {reader.line_num}", "not UTF-8 text") from exc


def money(row: _Row, column: str, default: str | None = None) -> Decimal:
    text = row[column] or default
    if text is None:
        raise row.fail(f"{column} is empty")
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise row.fail(f"{column} {text!r} is not a price") from None
    if not amount.is_finite() or amount < 0:
        raise row.fail(f"{column} {text!r} is not a price")
    return amount.quantize(CENT)


def whole_number(row: _Row, column: str, default: str | None = None, least: int | None = None) -> int:
    text = row[column] or default
    if text is None:
        raise row.fail(f"{column} is empty")
    try:
        number = int(text)
    except ValueError:
        raise row.fail(f"{column} {text!r} is not a whole number") from None
    if least is not None and number < least:
        raise row.fail(f"{column} {text!r} is less than {least}")
    return number


def timestamp(row: _Row, column: str) -> dt.datetime:
    """Shopify's "2025-10-07 09:50:26 +0200" (or ISO 8601), as the shop's wall-clock time."""
    text = row.required(column)
    def not_a_date() -> RecordError:
        return row.fail(f"{column} {text!r} is not a date Shopify writes (2025-10-07 09:50:26 +0200)")

    if SHOPIFY_TIMESTAMP.fullmatch(text):  # the usual form, without strptime's cost
        try:
            return dt.datetime.fromisoformat(text[:19])
        except ValueError:
            raise not_a_date() from None
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=None)
        except ValueError:
            pass
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise not_a_date() from None


# ------------------------------------------------------------------------------- products


class _PlainText(HTMLParser):
    BLOCKS = {"p", "br", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Body (HTML) as the text a shopper reads: tags dropped, entities decoded, blocks on lines."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower().replace("'", "")).strip("-")


def variant_page(handle: str, options: dict[str, str]) -> str:
    """The product page's path for one variant (see `slug` in the mapping above)."""
    return f"{handle}?{urlencode(options)}" if options else handle


class _ProductHead:
    """The product-level fields from a product's first row, shared by its variant rows."""

    def __init__(self, row: _Row):
        self.handle = row["Handle"]
        self.title = row.required("Title")
        self.description = plain_text(row["Body (HTML)"])
        leaf = row["Product Category"].rsplit(">", 1)[-1].strip()
        self.category = (row["Type"] or leaf or "other").lower()[:60]
        self.tags = tuple(sorted({t.strip().lower()[:40] for t in row["Tags"].split(",") if t.strip()}))
        self.option_names = [row[f"Option{n} Name"].lower() for n in (1, 2, 3)]

    def variant(self, row: _Row) -> ProductRecord:
        values = [row[f"Option{n} Value"] for n in (1, 2, 3)]
        options = {name: value for name, value in zip(self.option_names, values) if name and value}
        named = {name: value for name, value in options.items() if value != "Default Title"}
        return ProductRecord(
            sku=row.required("Variant SKU"), style=self.handle, name=self.title, category=self.category,
            price=money(row, "Variant Price"), slug=variant_page(self.handle, named),
            description=self.description, size=options.get("size"),
            color=options.get("color") or options.get("colour"),
            stock=whole_number(row, "Variant Inventory Qty", default="0"), tags=self.tags, origin=row.origin,
        )


def _is_image_only(row: _Row) -> bool:
    return not (row["Variant SKU"] or row["Variant Price"] or row["Option1 Value"])


def read_products(lines: Iterable[str]) -> Iterator[ProductRecord]:
    """Variant records from a products_export.csv, in file order."""
    head: _ProductHead | None = None
    for row in read_rows(lines, PRODUCT_COLUMNS_READ):
        handle = row.required("Handle")
        if head is None or handle != head.handle:
            if not row["Title"]:
                raise row.fail(f"Handle {handle!r} has no Title: a product's first row must carry it")
            head = _ProductHead(row)
        if not _is_image_only(row):
            yield head.variant(row)


# --------------------------------------------------------------------------------- orders


def order_status(row: _Row) -> str:
    """Financial Status, Fulfillment Status and Cancelled at as Tinsel's order status (table above)."""
    financial, fulfillment = row["Financial Status"].lower(), row["Fulfillment Status"].lower()
    if financial not in FINANCIAL_STATUSES:
        raise row.fail(f"Financial Status {financial!r} is not one Shopify writes")
    if fulfillment not in FULFILLMENT_STATUSES:
        raise row.fail(f"Fulfillment Status {fulfillment!r} is not one Shopify writes")
    if row["Cancelled at"]:
        timestamp(row, "Cancelled at")
    return status_from(financial, fulfillment, cancelled=bool(row["Cancelled at"]))


def status_from(financial: str, fulfillment: str, cancelled: bool) -> str:
    """The table above, for the CSV import and the webhooks alike (lowercased statuses)."""
    if cancelled or financial in ("voided", "expired"):
        return "cancelled"
    sent = fulfillment in ("fulfilled", "partial")
    if financial == "refunded" or fulfillment == "restocked":
        return "returned" if sent else "cancelled"
    return "shipped" if sent else "processing"


def shipping_method(title: str) -> str:
    title = title.lower()
    for method, words in SHIPPING_METHOD_WORDS:
        if any(word in title for word in words):
            return method
    return "standard"


def _line_item(row: _Row) -> OrderLineRecord:
    return OrderLineRecord(sku=row.required("Lineitem sku"),
                           quantity=whole_number(row, "Lineitem quantity", least=1),
                           unit_price=money(row, "Lineitem price"), origin=row.origin)


def _order(first: _Row, lines: list[OrderLineRecord]) -> OrderRecord:
    email = first.required("Email").lower()
    if "@" not in email:
        raise first.fail(f"Email {email!r} is not an email address")
    name = (first["Billing Name"] or first["Shipping Name"] or email.split("@")[0])[:120]
    number = first.required("Name").lstrip("#").strip()
    if not number:
        raise first.fail("Name has no order number")
    return OrderRecord(
        number=number, customer=CustomerRecord(email=email, name=name),
        placed_at=timestamp(first, "Created at"), status=order_status(first),
        shipping_method=shipping_method(first["Shipping Method"]),
        shipping_paid=money(first, "Shipping", default="0"), lines=tuple(lines),
        cancelled_at=timestamp(first, "Cancelled at") if first["Cancelled at"] else None,
        refunded=money(first, "Refunded Amount", default="0"), origin=first.origin, source_rows=len(lines),
    )


def read_orders(lines: Iterable[str]) -> Iterator[OrderRecord]:
    """Order records from an orders_export.csv, one per run of rows sharing a Name."""
    first: _Row | None = None
    items: list[OrderLineRecord] = []
    for row in read_rows(lines, ORDER_COLUMNS_READ):
        name = row.required("Name")
        if first is not None and name == first["Name"]:
            items.append(_line_item(row))
            continue
        if first is not None:
            yield _order(first, items)
        first, items = row, [_line_item(row)]
    if first is not None:
        yield _order(first, items)
