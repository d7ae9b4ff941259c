"""The shared instance: runs of killed SDK processes are marked failed, others left alone."""

import subprocess
import sys

import dagster as dg

from dagster_defs.instance import fail_abandoned_runs, process_tags
from dagster_defs.tags import HOST_TAG, PID_TAG


@dg.op
def nothing() -> None:
    pass


@dg.job
def tiny() -> None:
    nothing()


def test_a_run_whose_process_is_gone_is_marked_failed():
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = gone.stdout.strip()
    with dg.DagsterInstance.ephemeral() as instance:
        dead = instance.create_run_for_job(tiny, tags={**process_tags(), PID_TAG: dead_pid})
        alive = instance.create_run_for_job(tiny, tags=process_tags())  # this very process
        elsewhere = instance.create_run_for_job(
            tiny, tags={HOST_TAG: "another-host", PID_TAG: dead_pid}
        )
        assert fail_abandoned_runs(instance) == [dead.run_id]
        statuses = {r.run_id: r.status for r in instance.get_runs()}
        assert statuses[dead.run_id] == dg.DagsterRunStatus.FAILURE
        assert statuses[alive.run_id] == dg.DagsterRunStatus.NOT_STARTED
        assert statuses[elsewhere.run_id] == dg.DagsterRunStatus.NOT_STARTED
        assert fail_abandoned_runs(instance) == []
