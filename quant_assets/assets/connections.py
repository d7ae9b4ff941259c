"""Database connections held open by the process that executes a run.

``dagster-postgres`` opens a new connection for every transaction outside the webserver
(SQLAlchemy ``NullPool``: about 6 ms a connection here, two or three an event), so a run that
records thousands of events (a hydration: a materialization per symbol) spent most of its time
connecting. :func:`hold_pooled_connections` gives the instance the pooled engine the webserver
uses (``instance.optimize_for_webserver``, an instance method outside Dagster's API reference);
SQLite storages ignore it.

The SDK calls it before it executes a run in its own process (the run's creation writes a
planned event per partition); every run calls it again as its lakehouse resource starts
(:class:`~quant_assets.assets.resources.LakehouseResource`), which covers the runs Dagster's
daemon launches in processes of their own. An instance is given its pool once.
"""

import weakref

import dagster as dg

POOL_RECYCLE_SECONDS = 3600
"""A pooled database connection older than this is replaced before use."""
POOL_OVERFLOW = 4
"""Connections a storage may open beyond its one pooled connection (concurrent reads)."""

_pooled: "weakref.WeakSet[dg.DagsterInstance]" = weakref.WeakSet()
"""Instances already holding pooled connections."""


def hold_pooled_connections(instance: dg.DagsterInstance) -> None:
    """Let ``instance`` keep its database connections open (once per instance)."""
    if instance in _pooled:
        return
    instance.optimize_for_webserver(
        statement_timeout=0, pool_recycle=POOL_RECYCLE_SECONDS, max_overflow=POOL_OVERFLOW
    )
    _pooled.add(instance)
