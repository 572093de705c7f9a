"""`python -m bot import shopify`: a store's Shopify exports into the database DATABASE_URL names.

Products come first, then orders, then the side file (`--extras`, order_sources.extras: what
the exports cannot carry), each file in its own transaction: a bad row rolls its whole file back,
so a file is imported entirely or not at all. A side file with `recorded_on` moves the orders
file's dates and its own to today (order_sources.date_shift): that is how the demo store stays
current. `--dry-run` runs both files in one transaction that is
rolled back (orders then see the products the products file would add) and prints the counts.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.order_sources import shopify_csv
from bot.order_sources.apply import ImportCounts, apply_orders, apply_products
from bot.order_sources.apply_extras import apply_extras
from bot.order_sources.date_shift import DateShift
from bot.order_sources.extras import Extras, read_extras
from bot.order_sources.records import RecordError
from bot.settings import Settings, get_settings
from bot.store.engine import Store, create_database_if_missing
from bot.store.models import Base


class _DryRun(Exception):
    """Raised inside the dry run's transaction so that it rolls back."""


@dataclass(frozen=True)
class ImportFile:
    kind: str  # products | orders
    path: Path

    def write(self, session: Session, counts: ImportCounts, shift: DateShift, show_progress: bool) -> None:
        with self.path.open(newline="", encoding="utf-8-sig") as lines, \
                _progress_bar(self, show_progress) as progress:
            if self.kind == "products":
                apply_products(session, shopify_csv.read_products(lines), counts, progress=progress)
            else:
                apply_orders(session, map(shift.order, shopify_csv.read_orders(lines)), counts, progress=progress)


@contextmanager
def _progress_bar(file: ImportFile, show: bool) -> Iterator[Callable[[int], None]]:
    total = _count_lines(file.path) - 1 if show else None
    with tqdm(total=total, desc=file.path.name, unit=" rows", file=sys.stderr, disable=not show) as bar:
        yield bar.update
        if show:
            bar.update(max(total - bar.n, 0))  # image-only rows and multi-line cells are not counted


def _count_lines(path: Path) -> int:
    with path.open("rb") as raw:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))


class _SideFile:
    """The side file's records and the date move they ask for, written after the CSV files."""

    def __init__(self, path: Path | None, settings: Settings):
        self.path, self.settings = path, settings
        self.extras = _named(path, read_extras, path) if path else Extras(recorded_on=None)
        self.shift = DateShift(self.extras, settings.today(), settings)

    def write(self, session: Session, counts: ImportCounts) -> None:
        if self.path:
            counts.extras = _named(self.path, apply_extras, session, self.extras, self.shift, self.settings)


def import_files(store: Store, files: list[ImportFile], dry_run: bool = False, show_progress: bool = False,
                 extras: Path | None = None, settings: Settings | None = None) -> ImportCounts:
    """Writes each file in its own transaction (or all in one rolled back, when dry_run).

    Raises RecordError (with the file's name) on the first bad row; what that file wrote is
    rolled back, files before it stay written."""
    counts, side = ImportCounts(), _SideFile(extras, settings or get_settings())
    if dry_run:
        try:
            with store.session() as session:
                Base.metadata.create_all(session.connection())  # rolled back with the rest
                for file in files:
                    _named(file.path, file.write, session, counts, side.shift, show_progress)
                side.write(session, counts)
                raise _DryRun
        except _DryRun:
            return counts
    store.create_schema()
    for file in files:
        with store.session() as session:
            _named(file.path, file.write, session, counts, side.shift, show_progress)
    with store.session() as session:
        side.write(session, counts)
    return counts


def _named(path: Path, step: Callable, *args):
    """Runs one file's step; its errors name the file."""
    try:
        return step(*args)
    except RecordError as exc:
        raise RecordError(f"{path.name} {exc.origin}".strip(), exc.reason) from exc
    except IntegrityError as exc:
        raise RecordError(path.name, f"the database refused a batch: {exc.orig}") from exc


def import_shopify_command(products: Path | None, orders: Path | None, dry_run: bool = False,
                           quiet: bool = False, extras: Path | None = None) -> int:
    files = [ImportFile(kind, path) for kind, path in (("products", products), ("orders", orders)) if path]
    if not files:
        print("Nothing to import: give --products and/or --orders.", file=sys.stderr)
        return 2
    missing = [str(p) for p in [f.path for f in files] + [extras] if p and not p.is_file()]
    if missing:
        print(f"ERROR: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    url = get_settings().database_url
    if not dry_run:
        create_database_if_missing(url)
    store = Store(url)
    try:
        counts = import_files(store, files, dry_run=dry_run, show_progress=not quiet and sys.stderr.isatty(),
                              extras=extras)
    except RecordError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        print("Nothing of that file was written (files before it were).", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"ERROR: the database is not reachable: {exc.orig}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    verb = "Dry run, nothing written; would be" if dry_run else "Imported"
    print(f"{verb}:" if dry_run else f"{verb} into {store.engine.url.render_as_string(hide_password=True)}:")
    for line in counts.lines():
        print(f"  {line}")
    return 0
