import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import dagster as dg
import pytest

from dagster_defs import build_definitions
from dagster_defs.new_run import (
    MINT_OP,
    NewRunConfig,
    ProfileName,
    SettingOverrides,
    minted_run_id,
)
from dagster_defs.tags import REQUESTED_BY_RUN_TAG
from lakehouse import LakehouseStore, new_run_id
from quant_assets.provenance import read_run_request, write_run_request
from quant_assets.settings import PROFILES, Settings
from tests.conftest import SMALL_SYMBOLS

FAST = {"start_date": "2019-01-01", "min_history": 252}
"""Overrides as a UI user types them in the launchpad (dates are strings in YAML)."""


@pytest.fixture
def location(tmp_path: Path):
    settings = Settings(data_root=tmp_path / "lakehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        yield build_definitions(settings), instance, LakehouseStore(settings.data_root)


def _launch(defs, instance, profile=None, overrides=None) -> dg.ExecuteInProcessResult:
    config: dict = {}
    if profile is not None:
        config["profile"] = profile
    if overrides is not None:
        config["overrides"] = overrides
    return defs.resolve_job_def("new_run").execute_in_process(
        run_config={"ops": {MINT_OP: {"config": config}}}, instance=instance, raise_on_error=False
    )


def _minted(result: dg.ExecuteInProcessResult) -> str:
    """The run id a successful `new_run` minted, read from its output's metadata."""
    (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    return output.event_specific_data.metadata["run_id"].value


def _tick(defs, instance, cursor=None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, definitions=defs, cursor=cursor)
    result = defs.resolve_sensor_def("requested_runs")(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _failure(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    return result.failure_data_for_node(MINT_OP).error.message


def test_every_config_field_is_described_and_profiles_match_the_settings():
    assert set(get_args(ProfileName)) == set(PROFILES)
    for name, field in NewRunConfig.model_fields.items():
        assert field.description and len(field.description) > 30, name
    assert NewRunConfig().profile == "canary" and NewRunConfig().overrides == SettingOverrides()


def test_minted_run_id_is_the_dagster_runs_time_and_short_id():
    created = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    dagster_id = "1a2b3c4d-0000-4000-8000-000000000000"
    assert minted_run_id(dagster_id, created) == "20260304-050607-1a2b3c4d"
    naive_utc = created.replace(tzinfo=None)
    assert minted_run_id(dagster_id, naive_utc) == "20260304-050607-1a2b3c4d"
    elsewhere = created.astimezone(UTC).astimezone(tz=None)  # same moment, local zone
    assert minted_run_id(dagster_id, elsewhere) == "20260304-050607-1a2b3c4d"


def test_new_run_mints_registers_and_records_the_chosen_profile_and_overrides(location):
    defs, instance, store = location
    overrides = {**FAST, "engines": ["equal_weight", "market"], "end_date": None}
    result = _launch(defs, instance, "production", overrides)
    assert result.success
    run_id = _minted(result)
    assert run_id == minted_run_id(
        result.run_id, instance.get_run_record_by_id(result.run_id).create_timestamp
    )
    assert run_id.endswith("-" + result.run_id[:8])
    assert instance.get_dynamic_partitions("run_id") == [run_id]
    request = read_run_request(store, run_id)
    assert request["profile"] == "production" and request["overrides"] == overrides
    settings = Settings.model_validate(request["settings"])
    assert settings.profile == "production" and settings.train == PROFILES["production"]["train"]
    assert settings.start_date.isoformat() == "2019-01-01" and settings.min_history == 252
    assert settings.engines == ["equal_weight", "market"]
    (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = output.event_specific_data.metadata
    assert metadata["run_id"].value == run_id and metadata["profile"].value == "production"
    assert metadata["overrides"].value == overrides
    assert metadata["settings_hash"].value == settings.content_hash()


def test_new_run_without_config_is_the_plain_canary(location):
    defs, instance, store = location
    result = _launch(defs, instance)
    assert result.success
    request = read_run_request(store, _minted(result))
    assert (request["profile"], request["overrides"]) == ("canary", {})
    assert Settings.model_validate(request["settings"]) == Settings.for_profile(
        "canary", data_root=store.root
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"min_histroy": 252}, "unknown setting `min_histroy` (did you mean `min_history`?)"),
        ({"min_history": 1}, "setting `min_history` (given 1): Input should be greater than"),
        ({"engines": ["hrp", "magic"]}, "setting `engines`"),
        ({"step": 63}, "unknown setting `step`"),
        ({"profile": "production"}, "setting `profile` cannot be overridden here"),
        ({"data_root": "/tmp/elsewhere"}, "setting `data_root` cannot be overridden here"),
    ],
)
def test_a_bad_override_fails_the_run_naming_it_and_registers_nothing(location, overrides, named):
    defs, instance, store = location
    message = _failure(_launch(defs, instance, "canary", overrides))
    assert named in message, message
    assert "in the launchpad of `new_run`" in message
    assert instance.get_dynamic_partitions("run_id") == []
    assert store.run_ids() == [] and not (store.root / "run_requests").exists()


def test_a_bad_profile_is_refused_before_the_run_starts(location):
    defs, instance, _ = location
    with pytest.raises(dg.DagsterInvalidConfigError, match="profile"):
        _launch(defs, instance, "fastest")


def test_sensor_requests_production_once_per_new_run_and_ignores_other_run_ids(location):
    defs, instance, store = location
    # minted elsewhere (`quant new-run`, the schedule): never launched by this sensor
    by_hand = new_run_id()
    write_run_request(store, by_hand, Settings(data_root=store.root), "canary", {})
    instance.add_dynamic_partitions("run_id", [by_hand])
    assert not _tick(defs, instance).run_requests

    first_run, second_run = _launch(defs, instance, "canary", FAST), _launch(defs, instance)
    first = _tick(defs, instance)
    requested = [r.partition_key for r in first.run_requests]
    minted = [_minted(first_run), _minted(second_run)]
    assert requested == minted
    request = first.run_requests[0]
    assert request.run_key == minted[0] and request.tags[REQUESTED_BY_RUN_TAG] == first_run.run_id

    second = _tick(defs, instance, first.cursor)
    assert not second.run_requests
    assert "no new `new_run` run to launch" in second.skip_reason.skip_message

    # production ran for the first (the daemon launched it); a tick without a cursor (the
    # sensor turned off and on) requests only the other one again
    _record_production_run(defs, instance, minted[0])
    fresh = _tick(defs, instance)
    assert [r.partition_key for r in fresh.run_requests] == [minted[1]]


def _record_production_run(defs, instance, run_id):
    """A `production` run of ``run_id`` in the instance, as the daemon's launch leaves one."""
    job = defs.resolve_job_def("production")
    instance.create_run_for_job(job, tags={"dagster/partition": run_id})


def test_cursor_forgets_handled_runs_outside_the_overlap(location):
    defs, instance, _ = location
    _launch(defs, instance)
    cursor = json.loads(_tick(defs, instance).cursor)
    (end,) = cursor["handled"].values()
    assert cursor["after"] == end
    late = {"after": end + timedelta(hours=1).total_seconds(), "handled": cursor["handled"]}
    assert json.loads(_tick(defs, instance, json.dumps(late)).cursor)["handled"] == {}


def test_a_pruned_run_id_is_not_launched(location):
    defs, instance, _ = location
    run_id = _minted(_launch(defs, instance))
    instance.delete_dynamic_partition("run_id", run_id)
    result = _tick(defs, instance)
    assert not result.run_requests
    assert f"{run_id} (its partition is gone (pruned?))" in result.skip_reason.skip_message


def test_the_requested_production_run_records_profile_and_overrides(hydrated_root: Path):
    settings = Settings(data_root=hydrated_root)
    defs = build_definitions(settings)
    overrides = {**FAST, "engines": ["equal_weight", "market"], "train": 252}
    with dg.DagsterInstance.ephemeral() as instance:
        assert _launch(defs, instance, "production", overrides).success
        (request,) = _tick(defs, instance).run_requests
        result = defs.resolve_job_def("production").execute_in_process(
            partition_key=request.partition_key, tags=request.tags, instance=instance
        )
        assert result.success
    store = LakehouseStore(hydrated_root)
    run_id = request.partition_key
    manifest = store.read_document(store.run_dir("run_manifest", run_id))
    assert manifest["profile"] == "production"
    assert manifest["request"]["profile"] == "production"
    assert manifest["request"]["overrides"] == overrides
    assert manifest["settings"]["start_date"] == "2019-01-01"
    assert manifest["settings"]["train"] == 252 and manifest["settings"]["test"] == 21
    assert sorted(manifest["inputs"]["market_data"]) == sorted(SMALL_SYMBOLS)
    leaderboard = store.read_frame(store.run_dir("leaderboard", run_id))
    assert sorted(leaderboard["engine"]) == ["equal_weight", "market"]
    assert set(leaderboard["profile"]) == {"production"}


def test_the_launchpad_grid_mints_a_sweep(location):
    defs, instance, store = location
    config = {
        "profile": "canary",
        "grid": {"top_n": [3, 5], "engines": ["hrp", "inverse_variance"]},
    }
    result = defs.resolve_job_def("new_run").execute_in_process(
        run_config={"ops": {MINT_OP: {"config": config}}}, instance=instance
    )
    request = read_run_request(store, _minted(result))
    assert request["grid"] == config["grid"]
    assert list(request["points"]) == [
        "top_n=3,engines=hrp",
        "top_n=3,engines=inverse_variance",
        "top_n=5,engines=hrp",
        "top_n=5,engines=inverse_variance",
    ]
    assert request["points"]["top_n=5,engines=hrp"]["engines"] == ["hrp"]
    bad = {"profile": "canary", "grid": {"start_date": ["2019-01-01"]}}
    failed = defs.resolve_job_def("new_run").execute_in_process(
        run_config={"ops": {MINT_OP: {"config": bad}}}, instance=instance, raise_on_error=False
    )
    assert "'start_date' cannot vary within a run" in _failure(failed)
