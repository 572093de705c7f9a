"""The database connection: one engine per process, one session per unit of work.

    with store.session() as s:
        ...   # committed on success, rolled back on error

    with store.reading() as s:
        ...   # only reads: never waits for a writer, and a write in it fails

On SQLite every writing unit of work starts with BEGIN IMMEDIATE, so two writers never interleave
(the same guarantee row locks give on PostgreSQL): money rules stay race-free on both. A reading
one starts with a plain BEGIN under `PRAGMA query_only`, so it neither takes nor waits for the
write lock (WAL lets it read beside a writer); on PostgreSQL it is a READ ONLY transaction.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import get_settings
from bot.store.models import Base

# SQLite keeps NUMERIC as binary floats; Numeric(12, 2) results come back as Decimals rounded to
# cents, which is exact for any amount a store handles, so the warning is noise here.
warnings.filterwarnings("ignore", message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal")


class Store:
    def __init__(self, database_url: str):
        self.url = database_url
        self.engine: Engine = _make_engine(database_url)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)
        self._reading_sessions = sessionmaker(_read_only(self.engine), future=True, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads, so that answering a shopper never queues behind a
        refund being written; a write inside it raises instead of taking the lock."""
        with self._reading_sessions.begin() as s:
            yield s

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def drop_schema(self) -> None:
        Base.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, future=True, pool_pre_ping=True)
    # SQLAlchemy 1.4 opens a new SQLite connection for every unit of work (NullPool), with its
    # PRAGMAs: about 0.7 ms each, several times per message. A pool keeps them open, as 2.0 does.
    engine = create_engine(url, future=True, poolclass=QueuePool,
                           connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        reading = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql(f"PRAGMA query_only = {int(reading)}")  # set on every begin: pooled connections
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


READ_ONLY = "tinsel_read_only"


def _read_only(engine: Engine) -> Engine:
    """The same engine and pool, its transactions marked read-only."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(**{READ_ONLY: True, "postgresql_readonly": True})
    return engine.execution_options(**{READ_ONLY: True})


_store: Store | None = None


def create_database_if_missing(database_url: str) -> None:
    """A PostgreSQL database named in the URL is created when the server lacks it (SQLite
    creates its file by itself); through the server's `postgres` maintenance database."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": url.database}).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def get_store() -> Store:
    """The process's store, created on first use from settings."""
    global _store
    if _store is None:
        _store = Store(get_settings().database_url)
    return _store
