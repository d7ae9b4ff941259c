"""The event log of our laptop Dagster instance: Dagster's SQLite storage, databases opened once.

A package of its own that imports nothing of the code location (``dagster_defs``,
``quant_assets``, ...): ``dagster.yaml`` names it, so every process that opens the instance
(``dagster instance info``, the webserver, the daemon, the SDK) imports it, and a code location
that fails to import must not take the instance down with it (a test checks). A team instance
on PostgreSQL (:mod:`dagster_defs.team`) does not need it.

Dagster's :class:`SqliteEventLogStorage` creates an engine, opens a connection and closes it
again for every transaction, and the close of a database's last connection checkpoints its
write-ahead log and deletes it: about 10 ms an event on this machine. A hydration writes two
or three events per symbol partition (a planned event, a materialization, sometimes a check
result), each one to three transactions: most of the 166 s a 5,000-symbol hydration took went
there.

:class:`PooledSqliteEventLogStorage` keeps one engine (one pooled connection) per database
file, the cross-run index and the last :data:`OPEN_RUN_SHARDS` runs' files, and changes
nothing else: the same files and schema, each transaction its own durable commit (SQLite's
default ``synchronous=FULL``), Dagster's lock around every connection (2-3 ms an event).
Events now stay in a run's write-ahead log (``<run_id>.db-wal``) until SQLite checkpoints it,
but Dagster's live log watcher (the UI's run page, ``instance.watch_event_logs``) listens for
changes of ``<run_id>.db`` itself: after each write to a run's database its modification time
is touched, which wakes the watcher (it reads through SQLite, which sees the log).

This module subclasses a class of Dagster's internals (``dagster._core``), documented in its
API reference under "Internals" (a debt: the speed-up is worth it on SQLite, and PostgreSQL, the
team instance, needs none); :mod:`dagster_defs.instance` names it in ``dagster.yaml``.
"""

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

OPEN_RUN_SHARDS = 8
"""Run databases kept open at once (besides the index); the least recently used is closed."""
SPARE_CONNECTIONS = 2
"""Connections a database's pool may open beyond its one (Dagster's lock allows one at a time)."""


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """:class:`SqliteEventLogStorage` that opens each database once, not once per transaction.

    Configure it in ``dagster.yaml`` (:func:`dagster_defs.instance.dagster_home` does)::

        event_log_storage:
          module: quant_event_log
          class: PooledSqliteEventLogStorage
          config:
            base_dir: <DAGSTER_HOME>/history/runs
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # the parent connects at once
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> "PooledSqliteEventLogStorage":
        """Build from the ``config`` of ``dagster.yaml`` (``base_dir``)."""
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                sqlite = conn.connection.dbapi_connection
                changes_before = sqlite.total_changes  # type: ignore[union-attr]
                with conn.begin():
                    yield conn
                wrote = sqlite.total_changes != changes_before  # type: ignore[union-attr]
            if wrote and shard != INDEX_SHARD_NAME:
                with suppress(FileNotFoundError):  # deleted meanwhile: nobody to wake
                    os.utime(self.path_for_shard(shard))  # wakes Dagster's live log watcher

    def _engine(self, shard: str) -> Engine:
        """The open engine of ``shard`` (created and initialised on first use), now most recent."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = db.create_engine(
                self.conn_string_for_shard(shard),
                pool_size=1,
                max_overflow=SPARE_CONNECTIONS,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in run_shards[:-OPEN_RUN_SHARDS]:
            self._engines.pop(name).dispose()
        return engine

    def open_shards(self) -> list[str]:
        """The databases open now, least recently used first (``"index"`` is the index)."""
        return list(self._engines)

    def _close_all(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        """Close every database, then delete the runs' files and empty the index (Dagster's)."""
        self._close_all()  # the run files are deleted next
        super().wipe()

    def dispose(self) -> None:
        """Stop Dagster's watchers and close every database (the instance is closing)."""
        super().dispose()
        self._close_all()
