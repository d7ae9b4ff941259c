"""The code location: groups and metadata, checks and jobs (its edges: the snapshot test)."""

import dagster as dg
import pytest

from dagster_defs import build_definitions
from dagster_defs.jobs import RUN_GROUPS
from quant_assets.settings import Settings

PILLARS = ("hydration", *RUN_GROUPS)


@pytest.fixture(scope="module")
def asset_graph():
    return build_definitions(Settings()).resolve_asset_graph()


def test_every_asset_is_documented_in_a_pillar(asset_graph):
    for key in asset_graph.get_all_asset_keys():
        node = asset_graph.get(key)
        name = key.to_user_string()
        assert node.group_name in PILLARS, name
        assert node.description and len(node.description) > 20, name
        assert node.owners == ["team:quant-research"], name
        assert node.kinds, name
        assert node.code_version, name
    groups = {asset_graph.get(k).group_name for k in asset_graph.get_all_asset_keys()}
    assert groups == set(PILLARS)


def test_production_covers_every_run_asset_and_checks_their_contracts(asset_graph):
    defs = build_definitions(Settings())
    job = defs.resolve_job_def("production")
    run_assets = {
        key.to_user_string()
        for key in asset_graph.get_all_asset_keys()
        if asset_graph.get(key).group_name in RUN_GROUPS
    }
    every = {key.to_user_string() for key in asset_graph.get_all_asset_keys()}
    assert run_assets == every - {"market_data"}
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert selected == run_assets
    checks = {key.name for key in asset_graph.asset_check_keys}
    for name in run_assets - {"run_manifest", "tearsheet"}:  # a JSON document, an HTML file
        assert f"{name}_matches_contract" in checks, name


def test_automation_is_off_by_default():
    defs = build_definitions(Settings())
    assert defs.resolve_sensor_def("auto_sync").default_status == dg.DefaultSensorStatus.STOPPED
    schedule = defs.resolve_schedule_def("daily_production")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_only_the_ui_run_launcher_is_on_by_default():
    """`requested_runs` launches nothing unless a user launches `new_run` (see test_new_run)."""
    defs = build_definitions(Settings())
    running = [
        sensor.name
        for sensor in defs.sensors or []
        if defs.resolve_sensor_def(sensor.name).default_status == dg.DefaultSensorStatus.RUNNING
    ]
    assert running == ["requested_runs"]
