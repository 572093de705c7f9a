"""`python -m bot import shopify`: a store's Shopify exports into the database DATABASE_URL names.

Products come first, each file in its own transaction: a bad row rolls its whole file back, so a
file is imported entirely or not at all. `--dry-run` runs both files in one transaction that is
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
from bot.order_sources.records import RecordError
from bot.settings import get_settings
from bot.store.engine import Store, create_database_if_missing
from bot.store.models import Base


class _DryRun(Exception):
    """Raised inside the dry run's transaction so that it rolls back."""


@dataclass(frozen=True)
class ImportFile:
    kind: str  # products | orders
    path: Path

    def write(self, session: Session, counts: ImportCounts, show_progress: bool) -> None:
        reader, apply = ((shopify_csv.read_products, apply_products) if self.kind == "products"
                         else (shopify_csv.read_orders, apply_orders))
        with self.path.open(newline="", encoding="utf-8-sig") as lines, \
                _progress_bar(self, show_progress) as progress:
            apply(session, reader(lines), counts, progress=progress)


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


def import_files(store: Store, files: list[ImportFile], dry_run: bool = False,
                 show_progress: bool = False) -> ImportCounts:
    """Writes each file in its own transaction (or all in one rolled back, when dry_run).

    Raises RecordError (with the file's name) on the first bad row; what that file wrote is
    rolled back, files before it stay written."""
    counts = ImportCounts()
    if dry_run:
        try:
            with store.session() as session:
                Base.metadata.create_all(session.connection())  # rolled back with the rest
                for file in files:
                    _write(file, session, counts, show_progress)
                raise _DryRun
        except _DryRun:
            return counts
    store.create_schema()
    for file in files:
        with store.session() as session:
            _write(file, session, counts, show_progress)
    return counts


def _write(file: ImportFile, session: Session, counts: ImportCounts, show_progress: bool) -> None:
    try:
        file.write(session, counts, show_progress)
    except RecordError as exc:
        raise RecordError(f"{file.path.name} {exc.origin}".strip(), exc.reason) from exc
    except IntegrityError as exc:
        raise RecordError(file.path.name, f"the database refused a batch: {exc.orig}") from exc


def import_shopify_command(products: Path | None, orders: Path | None, dry_run: bool = False,
                           quiet: bool = False) -> int:
    files = [ImportFile(kind, path) for kind, path in (("products", products), ("orders", orders)) if path]
    if not files:
        print("Nothing to import: give --products and/or --orders.", file=sys.stderr)
        return 2
    missing = [str(f.path) for f in files if not f.path.is_file()]
    if missing:
        print(f"ERROR: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    url = get_settings().database_url
    if not dry_run:
        create_database_if_missing(url)
    store = Store(url)
    try:
        counts = import_files(store, files, dry_run=dry_run, show_progress=not quiet and sys.stderr.isatty())
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
