from datetime import UTC, datetime
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
from lakehouse import LakehouseStore
from quant_assets.provenance import read_run_request
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


def _tick(defs, instance, new_run_result) -> dg.RunRequest | dg.SkipReason:
    """What ``requested_runs`` answers to the success of ``new_run_result`` (as the daemon asks)."""
    run = instance.get_run_by_id(new_run_result.run_id)
    (success,) = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
    context = dg.build_run_status_sensor_context(
        sensor_name="requested_runs",
        dagster_event=success.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
    )
    return defs.resolve_sensor_def("requested_runs")(context)


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


def test_sensor_requests_production_once_per_new_run(location):
    defs, instance, _ = location
    first_run, second_run = _launch(defs, instance, "canary", FAST), _launch(defs, instance)
    requests = [_tick(defs, instance, run) for run in (first_run, second_run)]
    minted = [_minted(first_run), _minted(second_run)]
    assert [r.partition_key for r in requests] == minted
    assert [r.run_key for r in requests] == minted  # Dagster launches a run key once
    assert requests[0].tags[REQUESTED_BY_RUN_TAG] == first_run.run_id

    # production ran for the first (the daemon launched it): asked again, it is passed over
    _record_production_run(defs, instance, minted[0])
    again = _tick(defs, instance, first_run)
    assert isinstance(again, dg.SkipReason)
    assert f"{minted[0]} not launched: production already ran for it" in again.skip_message


def test_the_sensor_watches_new_run_successes_only():
    sensor = build_definitions(Settings()).resolve_sensor_def("requested_runs")
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    assert sensor._run_status == dg.DagsterRunStatus.SUCCESS  # no public reader
    assert [job.name for job in sensor._monitored_jobs] == ["new_run"]
    assert sensor.job_name == "production"


def _record_production_run(defs, instance, run_id):
    """A `production` run of ``run_id`` in the instance, as the daemon's launch leaves one."""
    job = defs.resolve_job_def("production")
    instance.create_run_for_job(job, tags={"dagster/partition": run_id})


def test_a_pruned_run_id_is_not_launched(location):
    defs, instance, _ = location
    launched = _launch(defs, instance)
    run_id = _minted(launched)
    instance.delete_dynamic_partition("run_id", run_id)
    result = _tick(defs, instance, launched)
    assert isinstance(result, dg.SkipReason)
    assert f"{run_id} not launched: its partition is gone (pruned?)" in result.skip_message


def test_the_requested_production_run_records_profile_and_overrides(hydrated_root: Path):
    settings = Settings(data_root=hydrated_root)
    defs = build_definitions(settings)
    overrides = {**FAST, "engines": ["equal_weight", "market"], "train": 252}
    with dg.DagsterInstance.ephemeral() as instance:
        launched = _launch(defs, instance, "production", overrides)
        assert launched.success
        request = _tick(defs, instance, launched)
        assert isinstance(request, dg.RunRequest)
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
