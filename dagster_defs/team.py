"""A team's Dagster instance: PostgreSQL storage, Dagster's run queue, run monitoring.

:func:`team_dagster_yaml` writes the ``dagster.yaml`` of a home shared by a team, from a
``postgresql://`` URL the caller passes (``quant team-home --postgres-url``, ``make team-up``):

- ``storage: postgres`` (``dagster-postgres``): runs, the event log and schedules in one
  database that every process (webserver, daemon, run workers) reaches over the network;
- ``QueuedRunCoordinator``: a submitted run waits in Dagster's queue until the daemon launches
  it, at most :data:`MAX_CONCURRENT_RUNS` at once and one run that writes ``market_data``
  (tag :data:`~dagster_defs.tags.WRITES_TAG`) at a time, so a manual hydration, a backfill
  and ``auto_sync`` never rewrite the same symbol together; the ``market_data`` concurrency
  pool (:data:`POOL_LIMIT`) holds the same limit at the step level, for runs without the tag;
- run monitoring: a run whose worker died is marked failed by the daemon, on any host (the
  host-and-pid check of :mod:`dagster_defs.instance` is for the laptop mode only).

The three processes of a deployment are PostgreSQL, ``dagster-webserver`` and
``dagster-daemon``, all started with ``DAGSTER_HOME`` at this home; users' ``quant`` and SDK
submit through the webserver and need only its URL (``QUANT_DAGSTER_URL``).
"""

import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dagster_defs.tags import MARKET_DATA_WRITES, WRITES_TAG
from lakehouse.commits import publish

MAX_CONCURRENT_RUNS = 4
"""Runs the daemon keeps in progress at once; more wait in the queue."""
MARKET_DATA_WRITERS = 1
"""Runs that write ``market_data`` at once (hydrations, backfills, ``auto_sync``)."""
POOL_LIMIT = 1
"""Steps of one concurrency pool in progress at once, across runs: ``market_data`` is the one
pool (``pool=`` on the asset), so even a run without the tag never writes it beside another."""
RUN_START_TIMEOUT_SECONDS = 180
"""A launched run that has not started after this long is marked failed by run monitoring."""
RUN_MONITORING_POLL_SECONDS = 30
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2")
"""URL schemes taken: SQLAlchemy 2 opens a plain ``postgresql://`` with psycopg 3, which is
not installed; the URL is written with ``postgresql+psycopg2://`` (``dagster-postgres`` brings
psycopg2)."""
DRIVER_SCHEME = "postgresql+psycopg2"


def postgres_driver_url(postgres_url: str) -> str:
    """``postgres_url`` with the psycopg2 driver named; ``ValueError`` if not PostgreSQL.

    ``postgresql://user@host:5432/dagster`` -> ``postgresql+psycopg2://user@host:5432/dagster``.
    """
    parts = urlsplit(postgres_url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError(
            f"`postgres_url` must start with postgresql://, got {parts.scheme or 'no'} scheme "
            "(e.g. postgresql://dagster:secret@db.example.com:5432/dagster)"
        )
    if not parts.hostname or not parts.path.strip("/"):
        raise ValueError(
            "`postgres_url` must name a host and a database, e.g. "
            "postgresql://dagster@db.example.com:5432/dagster"
        )
    return urlunsplit(parts._replace(scheme=DRIVER_SCHEME))


TEAM_DAGSTER_YAML = """# A team's Dagster instance, written by `quant team-home`:
# PostgreSQL storage, Dagster's run queue (one market_data writer at a time), run monitoring.
# Start dagster-webserver and dagster-daemon with DAGSTER_HOME set to this folder.
telemetry:
  enabled: false
storage:
  postgres:
    postgres_url: {postgres_url}
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: {max_concurrent_runs}
    tag_concurrency_limits:
      - key: {writes_tag}
        value: {market_data_writes}
        limit: {market_data_writers}
  pools:
    default_limit: {pool_limit}
run_monitoring:
  enabled: true
  start_timeout_seconds: {start_timeout}
  poll_interval_seconds: {poll_interval}
  max_resume_run_attempts: 0
"""
"""The team ``dagster.yaml``: the queue's limits under ``concurrency`` (Dagster refuses them
under ``run_coordinator`` beside a ``concurrency`` section); ``max_resume_run_attempts: 0``
because the default run launcher cannot resume a run (run monitoring marks it failed)."""


def team_dagster_yaml(postgres_url: str) -> str:
    """The ``dagster.yaml`` of a team's home on the PostgreSQL database at ``postgres_url``."""
    return TEAM_DAGSTER_YAML.format(
        postgres_url=json.dumps(postgres_driver_url(postgres_url)),  # JSON strings are YAML
        max_concurrent_runs=MAX_CONCURRENT_RUNS,
        writes_tag=json.dumps(WRITES_TAG),
        market_data_writes=json.dumps(MARKET_DATA_WRITES),
        market_data_writers=MARKET_DATA_WRITERS,
        pool_limit=POOL_LIMIT,
        start_timeout=RUN_START_TIMEOUT_SECONDS,
        poll_interval=RUN_MONITORING_POLL_SECONDS,
    )


def write_team_home(home: Path, postgres_url: str) -> Path:
    """Write ``home/dagster.yaml`` for a team on ``postgres_url``; return ``home`` (absolute).

    An existing ``dagster.yaml`` is replaced: this is what the caller asked for. The file holds
    the database URL (maybe a password), so only its owner may read it.
    """
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = team_dagster_yaml(postgres_url)
    publish(config, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))
    return home
