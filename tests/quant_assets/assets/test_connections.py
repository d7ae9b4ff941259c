"""A run holds its database connections: a process Dagster's daemon launches does not connect
once per event (``dagster-postgres`` outside the webserver opens one per transaction)."""

import uuid
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

from dagster_defs import build_definitions
from dagster_defs.tags import RANGE_END_TAG, RANGE_START_TAG
from dagster_defs.team import write_team_home
from lakehouse.store import SYMBOL_PARTITIONS
from quant_assets.settings import Settings
from tests.conftest import SMALL_SYMBOLS


def test_a_run_on_postgres_records_its_events_over_connections_it_holds(
    local_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = write_team_home(tmp_path / "home", local_postgres)
    defs = build_definitions(Settings(data_root=tmp_path / "lake", source="bundled"))
    connected: list[str] = []
    step: dict[str, int] = {}

    def count(*_: object) -> None:
        connected.append("connect")

    def mark(entry: dg.EventLogEntry) -> None:
        kind = entry.dagster_event_type
        if kind in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS):
            step[kind.value] = len(connected)

    event.listen(Pool, "connect", count)  # every new database connection of this process
    try:
        # as in a run worker the daemon starts: a fresh instance, nothing held by the SDK
        with dg.DagsterInstance.from_config(str(home)) as instance:
            instance.add_dynamic_partitions(SYMBOL_PARTITIONS, SMALL_SYMBOLS)
            run_id = str(uuid.uuid4())
            instance.add_event_listener(run_id, mark)
            result = defs.resolve_job_def("hydrate").execute_in_process(
                instance=instance,
                run_id=run_id,
                tags={RANGE_START_TAG: SMALL_SYMBOLS[0], RANGE_END_TAG: SMALL_SYMBOLS[-1]},
            )
    finally:
        event.remove(Pool, "connect", count)

    stored = [m.partition for m in result.asset_materializations_for_node("market_data")]
    assert result.success and stored == SMALL_SYMBOLS
    during_step = step["STEP_SUCCESS"] - step["STEP_START"]
    # a materialization per symbol: two or three connections each without the held pool
    assert during_step <= 4, f"{during_step} connections for {len(SMALL_SYMBOLS)} symbols"
