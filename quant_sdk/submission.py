"""A team's Dagster through its webserver: submitting runs, reading their statuses.

:class:`DagsterWebserver` talks to ``dagster-webserver`` over GraphQL and needs only its URL
(``QUANT_DAGSTER_URL`` at the command line's edge), no database credentials: it adds a
dynamic partition with the ``addDynamicPartition`` mutation and submits a job with Dagster's
:class:`~dagster_graphql.DagsterGraphQLClient` (``quant run --submit``); a submitted run waits
in the instance's queue until the daemon launches it (see :mod:`dagster_defs.team`). It also
answers what ``quant runs`` and ``quant show`` ask the instance: the latest run of each
partition of a job, and why a run's steps failed.
"""

import json
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
from dagster_graphql import DagsterGraphQLClient

from dagster_defs.tags import PARTITION_TAG
from quant_sdk.execution import LatestRun, error_line

GRAPHQL_PATH = "/graphql"
REQUEST_TIMEOUT_SECONDS = 60
POLL_SECONDS = 2.0
FINISHED = frozenset(
    {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
)
REPOSITORIES_QUERY = """
query Repositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes { name location { name } jobs { name } }
    }
    ... on PythonError { message }
  }
}
"""
ADD_DYNAMIC_PARTITION = """
mutation AddDynamicPartition(
  $repositorySelector: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!
) {
  addDynamicPartition(
    repositorySelector: $repositorySelector,
    partitionsDefName: $partitionsDefName,
    partitionKey: $partitionKey
  ) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""
ASSET_PARTITIONS_QUERY = """
query AssetPartitions($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode { partitionKeys }
  }
}
"""
RUNS_QUERY = """
query Runs($filter: RunsFilter!, $cursor: String, $limit: Int!) {
  runsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs { results { runId status tags { key value } } }
    ... on PythonError { message }
  }
}
"""
STEP_FAILURES_QUERY = """
query StepFailures($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on ExecutionStepFailureEvent {
          stepKey
          error { message className cause { message className cause { message className } } }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""
RUNS_PAGE = 500
"""Runs asked for at once while looking for the latest run of each partition."""
ADDED = frozenset({"AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"})
"""Outcomes that leave the partition registered (a duplicate was already there)."""


@dataclass(frozen=True)
class SubmittedRun:
    """A run handed to the team's queue: our run id and Dagster's run id."""

    run_id: str
    dagster_run_id: str
    job: str


class WebserverError(RuntimeError):
    """The webserver refused a request or could not be reached; the message says which."""


class DagsterWebserver:
    """A team's ``dagster-webserver`` at ``url`` (e.g. ``http://dagster.example.com:3000``).

    Parameters
    ----------
    url : str
        The webserver's address, ``http://`` or ``https://``, host, optional port and path
        prefix; the URL the UI opens at.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"`dagster_url` must be the webserver's http(s) address, e.g. "
                f"http://127.0.0.1:3000; got {url!r}"
            )
        self.url = url.rstrip("/")
        self.client = DagsterGraphQLClient(
            parts.hostname,
            port_number=parts.port,
            use_https=parts.scheme == "https",
            timeout=REQUEST_TIMEOUT_SECONDS,
            path_prefix=parts.path.rstrip("/"),
        )

    def submit(
        self, job: str, tags: dict[str, str], run_config: Mapping[str, Any] | None = None
    ) -> str:
        """Queue a run of ``job`` with ``tags`` (e.g. its partition); Dagster's run id."""
        try:
            return self.client.submit_job_execution(job, tags=tags, run_config=run_config)
        except Exception as error:  # the client wraps transport errors in several types
            raise WebserverError(f"{self.url} did not take the {job} run: {error}") from error

    def add_partition(self, job: str, partitions: str, key: str) -> None:
        """Register ``key`` in the dynamic ``partitions`` of the code location holding ``job``."""
        location, repository = self._repository_of(job)
        data = self._graphql(
            ADD_DYNAMIC_PARTITION,
            {
                "repositorySelector": {
                    "repositoryLocationName": location,
                    "repositoryName": repository,
                },
                "partitionsDefName": partitions,
                "partitionKey": key,
            },
        )
        outcome = data["addDynamicPartition"]
        if outcome["__typename"] not in ADDED:
            raise WebserverError(
                f"{self.url} did not add partition {key!r} to {partitions}: "
                f"{outcome.get('message', outcome['__typename'])}"
            )

    def partition_keys(self, asset: str) -> list[str]:
        """The partition keys of ``asset``, in the instance's order ([] if it has none)."""
        found = self._graphql(ASSET_PARTITIONS_QUERY, {"assetKey": {"path": [asset]}})
        node = found["assetNodeOrError"]
        if node["__typename"] != "AssetNode":
            raise WebserverError(f"{self.url} has no asset {asset!r}: {node['__typename']}")
        keys: list[str] = node["partitionKeys"]
        return keys

    def status(self, dagster_run_id: str) -> dg.DagsterRunStatus:
        """The run's status as the instance records it (``QUEUED``, ``STARTED``, ...)."""
        return self.client.get_run_status(dagster_run_id)

    def wait(self, dagster_run_id: str, timeout: float) -> dg.DagsterRunStatus:
        """Poll until the run finished; its last status (``TimeoutError`` after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while (status := self.status(dagster_run_id)) not in FINISHED:
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {dagster_run_id} is still {status.value}")
            time.sleep(POLL_SECONDS)
        return status

    def latest_runs(self, job: str, partition: str | None = None) -> dict[str, LatestRun]:
        """Partition key -> its latest run of ``job`` (only ``partition`` when given).

        Pages through the job's runs, newest first, keeping the first run seen of each
        partition (one page of one run for a single partition). Whether a run's process died
        is the instance's run monitoring's to say, not judged here.
        """
        run_filter: dict[str, Any] = {"pipelineName": job}
        if partition is not None:
            run_filter["tags"] = [{"key": PARTITION_TAG, "value": partition}]
        latest: dict[str, LatestRun] = {}
        cursor: str | None = None
        while True:
            limit = 1 if partition is not None else RUNS_PAGE
            variables = {"filter": run_filter, "cursor": cursor, "limit": limit}
            found = self._graphql(RUNS_QUERY, variables)["runsOrError"]
            if found["__typename"] != "Runs":
                raise WebserverError(f"{self.url} did not list the {job} runs: {found}")
            runs = found["results"]
            for run in runs:
                tags = {tag["key"]: tag["value"] for tag in run["tags"]}
                key = tags.get(PARTITION_TAG)
                if key is not None and key not in latest:
                    latest[key] = LatestRun(run["runId"], run["status"])
            if partition is not None or len(runs) < limit:
                return latest
            cursor = runs[-1]["runId"]

    def step_failures(self, dagster_run_id: str) -> list[tuple[str, str]]:
        """``(step, error in one line)`` of every failed step of the run."""
        failures: list[tuple[str, str]] = []
        cursor: str | None = None
        while True:
            variables = {"runId": dagster_run_id, "cursor": cursor}
            found = self._graphql(STEP_FAILURES_QUERY, variables)["logsForRun"]
            if found["__typename"] != "EventConnection":
                raise WebserverError(f"{self.url} has no events of run {dagster_run_id}: {found}")
            for event in found["events"]:
                if event["__typename"] == "ExecutionStepFailureEvent":
                    failures.append((str(event["stepKey"]), _error_line(event["error"])))
            if not found["hasMore"]:
                return failures
            cursor = found["cursor"]

    def _repository_of(self, job: str) -> tuple[str, str]:
        """(code location, repository) of the one repository that has ``job``."""
        found = self._graphql(REPOSITORIES_QUERY, {})["repositoriesOrError"]
        if found["__typename"] != "RepositoryConnection":
            raise WebserverError(f"{self.url} lists no code location: {found.get('message')}")
        holders = [
            (node["location"]["name"], node["name"])
            for node in found["nodes"]
            if any(each["name"] == job for each in node["jobs"])
        ]
        if len(holders) != 1:
            raise WebserverError(
                f"{self.url}: {len(holders)} code locations have a job {job!r} (expected one): "
                "is the quant code location loaded (workspace.yaml)?"
            )
        return holders[0]

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(
            self.url + GRAPHQL_PATH, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                answer: dict[str, Any] = json.load(response)
        except OSError as error:
            message = f"cannot reach the Dagster webserver at {self.url}: {error}"
            raise WebserverError(message) from error
        if answer.get("errors"):
            raise WebserverError(f"{self.url} answered: {answer['errors'][0].get('message')}")
        data: dict[str, Any] = answer["data"]
        return data


def _error_line(error: dict[str, Any] | None) -> str:
    """A GraphQL ``PythonError`` (with its causes) in one line (see :func:`error_line`)."""
    chain = []
    while error is not None:
        chain.append((error.get("className"), str(error["message"])))
        error = error.get("cause")
    return error_line(chain)
