"""The whole code location as text, compared with a stored snapshot: a graph change is a diff.

After an intended change, rewrite the snapshot with ``UPDATE_SNAPSHOTS=1 pytest <this file>``
and review the diff of ``definitions.snapshot.txt`` like code.
"""

import difflib
import os
from pathlib import Path

import dagster as dg

from dagster_defs import build_definitions
from quant_assets.settings import Settings

SNAPSHOT = Path(__file__).with_name("definitions.snapshot.txt")


def describe(defs: dg.Definitions) -> str:
    """Assets with their edges, checks, jobs with their selections, schedules, sensors."""
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = getattr(node.partitions_def, "name", None)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        lines.append(
            f"asset {key.to_user_string()} group={node.group_name} partitions={partitions} "
            f"code_version={node.code_version} <- [{parents}]"
        )
    for check in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.path, k.name)):
        lines.append(f"check {check.name} on {check.asset_key.to_user_string()}")
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        keys = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        lines.append(f"job {job.name} executor={job.executor_def.name} assets=[{', '.join(keys)}]")
    for schedule in sorted(defs.schedules or [], key=lambda s: s.name):
        schedule = defs.resolve_schedule_def(schedule.name)
        lines.append(
            f"schedule {schedule.name} cron={schedule.cron_schedule} job={schedule.job_name} "
            f"default={schedule.default_status.value}"
        )
    for sensor in sorted(defs.sensors or [], key=lambda s: s.name):
        sensor = defs.resolve_sensor_def(sensor.name)
        lines.append(
            f"sensor {sensor.name} job={sensor.job_name} "
            f"interval={sensor.minimum_interval_seconds}s default={sensor.default_status.value}"
        )
    for name, resource in sorted((defs.resources or {}).items()):
        lines.append(f"resource {name} {type(resource).__name__}")
    return "\n".join(lines) + "\n"


def test_definitions_match_the_snapshot(tmp_path: Path):
    current = describe(build_definitions(Settings(data_root=tmp_path)))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    stored = SNAPSHOT.read_text()
    diff = "".join(
        difflib.unified_diff(
            stored.splitlines(True), current.splitlines(True), "snapshot", "definitions"
        )
    )
    assert not diff, f"the code location changed; review, then UPDATE_SNAPSHOTS=1:\n{diff}"
