"""``QuantSDK``: the one Python entry point; the command line and Makefile wrap it."""

import logging
from typing import Any

import dagster as dg
import pandas as pd

from lakehouse import LakehouseStore, new_run_id, validate_run_id, validate_symbol
from lakehouse.catalog import query as catalog_query
from quant_assets.hydration import make_source
from quant_assets.instance import contiguous_ranges, dagster_instance
from quant_assets.loading import load_closes
from quant_assets.provenance import write_run_request
from quant_assets.settings import Settings, get_settings

logger = logging.getLogger(__name__)

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class RunFailedError(RuntimeError):
    """A Dagster run launched by the SDK did not succeed."""


class QuantSDK:
    """Hydrate, run, load and query the lakehouse.

    Parameters
    ----------
    root : str or Path, optional
        Lakehouse root; default ``settings.data_root``.
    settings : Settings, optional
        Base settings; default the active settings (see :func:`get_settings`).
    """

    def __init__(self, root: str | None = None, settings: Settings | None = None) -> None:
        base = settings or get_settings()
        self.settings = base.clone(data_root=root) if root is not None else base
        self.store = LakehouseStore(self.settings.data_root.resolve())

    # Dagster plumbing -----------------------------------------------------------------------

    def _definitions(self) -> dg.Definitions:
        # The SDK sits above the code location it drives, so it imports it lazily.
        from dagster_defs.definitions import build_definitions

        return build_definitions(self.settings)

    def _execute(self, job_name: str, tags: dict[str, str], instance: dg.DagsterInstance) -> None:
        job = self._definitions().resolve_job_def(job_name)
        result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
        if not result.success:
            failures = [
                f"{event.step_key}: {_error_message(event)}"
                for event in result.all_events
                if event.is_step_failure
            ]
            raise RunFailedError(
                f"{job_name} run {result.run_id} failed: {'; '.join(failures) or 'see the UI'}"
            )

    # Hydration ------------------------------------------------------------------------------

    def hydrate(
        self,
        source: str | None = None,
        symbols: list[str] | None = None,
        path: str | None = None,
        full: bool = False,
    ) -> pd.DataFrame:
        """Hydrate ``symbols`` (default: all the source has) into the lakehouse via Dagster.

        Registers new ``symbols`` partitions, then materializes ``market_data`` for them in as
        few runs as there are contiguous partition ranges (usually one). Returns what is stored.
        """
        overrides: dict[str, Any] = {}
        if source:
            overrides["source"] = source
        if path:
            overrides["source_path"] = path
        settings = self.settings.clone(**overrides)
        wanted = [validate_symbol(s) for s in (symbols or make_source(settings).symbols())]
        with dagster_instance() as instance:
            known = instance.get_dynamic_partitions("symbols")
            new = [s for s in wanted if s not in set(known)]
            if new:
                instance.add_dynamic_partitions("symbols", new)
            order = list(instance.get_dynamic_partitions("symbols"))
            config = {"source": settings.source, "source_path": str(settings.source_path or "")}
            for first, last in contiguous_ranges(wanted, order):
                tags = {RANGE_START_TAG: first, RANGE_END_TAG: last}
                job = self._definitions().resolve_job_def("hydrate")
                result = job.execute_in_process(
                    instance=instance,
                    tags=tags,
                    run_config={"ops": {"market_data": {"config": {**config, "full": full}}}},
                    raise_on_error=True,
                )
                logger.info("hydrated %s..%s in run %s", first, last, result.run_id)
        return self.query(
            "SELECT symbol, count(*) AS rows, min(date) AS first_date, max(date) AS last_date "
            "FROM market_data WHERE list_contains(?::VARCHAR[], symbol) GROUP BY symbol "
            "ORDER BY symbol",
            [wanted],
        )

    # Runs -----------------------------------------------------------------------------------

    def new_run(self, profile: str = "canary", **overrides: Any) -> str:
        """Mint a run id, record its profile and overrides, and register its partition."""
        run_id = new_run_id()
        write_run_request(self.store, run_id, profile, overrides)
        with dagster_instance() as instance:
            instance.add_dynamic_partitions("run_id", [run_id])
        return run_id

    def run(
        self, profile: str = "canary", run_id: str | None = None, **overrides: Any
    ) -> pd.DataFrame:
        """Materialize ``production`` for ``run_id`` (new by default); return its leaderboard."""
        if run_id is None:
            run_id = self.new_run(profile, **overrides)
        else:
            validate_run_id(run_id)
        with dagster_instance() as instance:
            if not instance.has_dynamic_partition("run_id", run_id):
                instance.add_dynamic_partitions("run_id", [run_id])
            self._execute("production", {"dagster/partition": run_id}, instance)
        self.last_run_id = run_id
        return self.load("leaderboard", run_id)

    def run_ids(self) -> list[str]:
        """Run ids with stored assets, oldest first."""
        return self.store.run_ids()

    # Reading --------------------------------------------------------------------------------

    def load(self, asset_name: str, run_id: str) -> Any:
        """Read one run's stored asset (a DataFrame, or a dict for JSON documents)."""
        folder = self.store.run_dir(asset_name, validate_run_id(run_id))
        if (folder / "document.json").exists():
            return self.store.read_document(folder)
        return self.store.read_frame(folder)

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL over every asset (one DuckDB view each); bind values with ``?``."""
        return catalog_query(sql, params, root=self.store.root)

    def prices(self, symbols: list[str] | None = None) -> pd.DataFrame:
        """Stored closes, wide: dates x symbols."""
        return load_closes(self.store.root, symbols)


def _error_message(event: dg.DagsterEvent) -> str:
    error = getattr(event.event_specific_data, "error", None)
    return str(getattr(error, "message", "unknown error")).strip()
