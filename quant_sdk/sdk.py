"""``QuantSDK``: the one Python entry point; the command line and Makefile wrap it."""

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from dagster_defs.definitions import build_definitions
from dagster_defs.instance import (
    contiguous_ranges,
    dagster_instance,
    fail_abandoned_runs,
    process_tags,
)
from dagster_defs.tags import PARTITION_TAG, PROFILE_TAG, RANGE_END_TAG, RANGE_START_TAG
from lakehouse import LakehouseStore, new_run_id, validate_run_id, validate_symbol
from lakehouse.catalog import query as catalog_query
from lakehouse.store import MARKET_DATA, RUN_ID_PARTITIONS, SYMBOL_PARTITIONS
from quant_assets.assets.hydration import hydration_run_config
from quant_assets.freshness import stored_spans
from quant_assets.hydration import make_source
from quant_assets.hydration.quarantine import QUARANTINE
from quant_assets.hydration.quarantine import entry as quarantine_entry
from quant_assets.hydration.screener import (
    DEFAULT_EXCHANGES,
    DEFAULT_LIMIT,
    DEFAULT_MIN_DOLLAR_VOLUME,
    DEFAULT_MIN_MARKET_CAP,
    screen_description,
    screen_symbols,
)
from quant_assets.hydration.symbol_lists import write_symbol_list
from quant_assets.loading import load_closes
from quant_assets.provenance import (
    plugin_changes,
    plugin_records,
    profiles_of,
    read_run_request,
    write_run_request,
)
from quant_assets.settings import Settings
from quant_assets.settings_sources import ENVIRONMENT, OVERRIDE, explain_settings
from quant_assets.tearsheet import (
    load_tearsheet_inputs,
    render_tearsheet,
    save_tearsheet,
    tearsheet_path,
)
from quant_assets.tournament import TournamentResult, run_tournament
from quant_sdk.execution import (
    DEFAULT_DAGSTER_LOG_LEVEL,
    LatestRun,
    RunFailedError,
    execute_job,
    latest_runs,
    log_level_number,
    register_partitions,
    step_failures,
)
from quant_sdk.maintenance import LakehouseMaintenance
from quant_sdk.run_catalog import (
    COMPLETE,
    FAILED,
    FAILED_DAGSTER_STATUSES,
    PROCESS_STEP,
    RUN_OUTCOME,
    RunComparison,
    RunSummary,
    compare_runs,
    run_table,
    stored_assets_of,
    summarize_run,
)
from quant_sdk.submission import DagsterWebserver, SubmittedRun

logger = logging.getLogger(__name__)

PRODUCTION_JOB = "production"
HYDRATE_JOB = "hydrate"
__all__ = ["NothingStoredError", "QuantSDK", "RunFailedError", "SubmittedRun"]


class NothingStoredError(RuntimeError):
    """A hydration ended with none of its symbols stored; ``refused`` counts the quarantined."""

    def __init__(self, message: str, refused: int) -> None:
        super().__init__(message)
        self.refused = refused


class QuantSDK(LakehouseMaintenance):
    """Hydrate, run, load and query the lakehouse; keep it fresh and sound.

    The methods that look after the lakehouse (stale symbols, backfills, the doctor, pruning)
    come from :class:`~quant_sdk.maintenance.LakehouseMaintenance`.

    Parameters
    ----------
    root : str or Path, optional
        Lakehouse root; default ``settings.data_root``.
    settings : Settings, optional
        Base settings, used as given (the environment is not read). Default:
        :meth:`Settings.from_environment`, the ``QUANT_*`` variables read once, here.
    dagster_log_level : str
        Threshold of Dagster's console logger in the runs the SDK launches: ``INFO`` (default)
        prints Dagster's INFO events; the command line passes ``CRITICAL``, and the SDK's own
        loggers then tell the progress (see :mod:`quant_sdk.progress`).
    setting_sources : mapping of field name to source, optional
        Where base settings came from, for :meth:`explain_settings` (e.g.
        ``{"cost_bps": "environment"}``); read from the environment when ``settings`` is not
        given, and ``root`` counts as an override.
    dagster_url : str, optional
        The address of a team's ``dagster-webserver`` (e.g. ``http://127.0.0.1:3000``), for
        :meth:`submit`: runs go to that instance's queue instead of running in this process.
        The command line passes ``QUANT_DAGSTER_URL``; the SDK does not read it.
    """

    def __init__(
        self,
        root: str | None = None,
        settings: Settings | None = None,
        dagster_log_level: str = DEFAULT_DAGSTER_LOG_LEVEL,
        setting_sources: Mapping[str, str] | None = None,
        dagster_url: str | None = None,
    ) -> None:
        log_level_number(dagster_log_level)  # fail now on a typo, not in the first run
        self.dagster_log_level = dagster_log_level
        sources = dict(setting_sources or {})
        if settings is None:
            settings = Settings.from_environment()
            sources.update(dict.fromkeys(Settings.environment_fields(), ENVIRONMENT))
        if root is not None:
            settings = settings.clone(data_root=root)
            sources["data_root"] = OVERRIDE
        self.settings = settings
        self.setting_sources = sources
        self.store = LakehouseStore(self.settings.data_root)
        self.dagster_url = dagster_url

    # Dagster plumbing -----------------------------------------------------------------------

    def _definitions(self, settings: Settings | None = None) -> dg.Definitions:
        """The code location for runs in this process: no step retries (the caller is there)."""
        return build_definitions(settings or self.settings, retries=False)

    def _execute(
        self,
        job_name: str,
        tags: dict[str, str],
        instance: dg.DagsterInstance,
        run_config: dg.RunConfig | None = None,
        settings: Settings | None = None,
    ) -> str:
        """Execute ``job_name`` in this process on ``instance``; its Dagster run id."""
        abandoned = fail_abandoned_runs(instance)
        if abandoned:
            logger.warning("marked %d runs of killed processes failed", len(abandoned))
        job = self._definitions(settings).resolve_job_def(job_name)
        return execute_job(
            job, instance, {**tags, **process_tags()}, run_config, self.dagster_log_level
        )

    def _webserver(self) -> DagsterWebserver:
        """The team's webserver at ``dagster_url``; ``ValueError`` saying how to set it."""
        if self.dagster_url is None:
            raise ValueError(
                "submitting needs the team's Dagster webserver: QuantSDK(dagster_url=...) or "
                "QUANT_DAGSTER_URL for `quant run --submit`"
            )
        return DagsterWebserver(self.dagster_url)

    # Hydration ------------------------------------------------------------------------------

    def hydrate(
        self,
        source: str | None = None,
        symbols: list[str] | None = None,
        path: str | None = None,
        full: bool = False,
        as_of: datetime | None = None,
    ) -> pd.DataFrame:
        """Hydrate ``symbols`` (default: all the source has) into the lakehouse via Dagster.

        Registers new ``symbols`` partitions, then materializes ``market_data`` for them in as
        few runs as there are contiguous partition ranges (usually one). Returns what is stored.
        An online source is checked first: offline, this raises
        :class:`~quant_assets.hydration.online.SourceUnreachable` before any Dagster run.
        ``as_of`` is the hydration's clock (default: now): bars dated after its last completed
        trading day are refused. Raises :class:`NothingStoredError` when no symbol is stored.
        """
        overrides: dict[str, Any] = {}
        if source:
            overrides["source"] = source
        if path:
            overrides["source_path"] = path
        return self._hydrate_with(self.settings.clone(**overrides), symbols, full, as_of)

    def _hydrate_with(
        self,
        settings: Settings,
        symbols: list[str] | None,
        full: bool = False,
        as_of: datetime | None = None,
    ) -> pd.DataFrame:
        """Hydrate ``symbols`` from the source ``settings`` name (see :meth:`hydrate`).

        ``as_of`` is the hydration's clock (default: now): bars after its last completed
        trading day are refused.

        Raises
        ------
        NothingStoredError
            None of the symbols is stored afterwards (every one refused, or none offered).
        """
        market = make_source(settings, symbols)
        wanted = [validate_symbol(s) for s in (symbols or market.symbols())]
        check_reachable = getattr(market, "check_reachable", None)
        if callable(check_reachable):  # an online source: fail in seconds when offline
            check_reachable()
        logger.info("hydrating %s symbols from %s...", f"{len(wanted):,}", settings.source)
        now = as_of or datetime.now(UTC)  # the hydration's clock: read here, at the edge
        with dagster_instance() as instance:
            register_partitions(instance, SYMBOL_PARTITIONS, wanted)
            order = list(instance.get_dynamic_partitions(SYMBOL_PARTITIONS))
            for first, last in contiguous_ranges(wanted, order):
                tags = {RANGE_START_TAG: first, RANGE_END_TAG: last}
                config = hydration_run_config(settings, full=full, as_of=now)
                dagster_run = self._execute("hydrate", tags, instance, config, settings)
                logger.debug("hydrated %s..%s in run %s", first, last, dagster_run)
        hydrated = set(self.store.symbols())  # one listing, not a look per symbol
        stored = [s for s in wanted if s in hydrated]
        if not stored:
            refused = sum(quarantine_entry(self.store, s) is not None for s in wanted)
            raise NothingStoredError(
                f"no symbols stored ({refused} refused: see the quarantine, "
                f"{self.store.asset_dir(QUARANTINE)}"
                + ("" if wanted else f"; the {settings.source} source offered none")
                + ")",
                refused,
            )
        return stored_spans(self.store, stored)

    def submit_hydration(
        self,
        source: str | None = None,
        symbols: list[str] | None = None,
        path: str | None = None,
        full: bool = False,
    ) -> list[SubmittedRun]:
        """Queue the hydration of ``symbols`` on the team's Dagster (see :meth:`hydrate`); return.

        New ``symbols`` partitions are added through the webserver, then one ``hydrate`` run is
        submitted per contiguous partition range (usually one). The team's queue runs one
        ``market_data`` writer at a time. The source (and ``path``) must be readable where the
        daemon runs the hydration.
        """
        overrides: dict[str, Any] = {}
        if source:
            overrides["source"] = source
        if path:
            overrides["source_path"] = path
        settings = self.settings.clone(**overrides)
        wanted = [validate_symbol(s) for s in (symbols or make_source(settings, symbols).symbols())]
        webserver = self._webserver()
        order = webserver.partition_keys(MARKET_DATA)
        known = set(order)
        for symbol in wanted:
            if symbol not in known:
                webserver.add_partition(HYDRATE_JOB, SYMBOL_PARTITIONS, symbol)
                order.append(symbol)  # a dynamic partition is added at the end
                known.add(symbol)
        config = hydration_run_config(settings, full=full).to_config_dict()  # type: ignore[no-untyped-call]
        submitted = []
        for first, last in contiguous_ranges(wanted, order):
            tags = {RANGE_START_TAG: first, RANGE_END_TAG: last}
            dagster_run_id = webserver.submit(HYDRATE_JOB, tags, config)
            logger.info("hydration %s..%s queued (Dagster run %s)", first, last, dagster_run_id)
            submitted.append(SubmittedRun(f"{first}..{last}", dagster_run_id, HYDRATE_JOB))
        return submitted

    def screen(
        self,
        exchanges: Sequence[str] = DEFAULT_EXCHANGES,
        min_market_cap: float = DEFAULT_MIN_MARKET_CAP,
        min_dollar_volume: float = DEFAULT_MIN_DOLLAR_VOLUME,
        limit: int = DEFAULT_LIMIT,
        out: str | Path | None = None,
    ) -> pd.DataFrame:
        """Symbols from TradingView's screener for a ``yfinance`` hydration (``online`` extra).

        See :func:`quant_assets.hydration.screener.screen_symbols`. With ``out``, the symbols
        are also written there, one per line, for ``quant hydrate --symbols-file OUT``.
        """
        frame = screen_symbols(exchanges, min_market_cap, min_dollar_volume, limit)
        if out is not None:
            header = screen_description(exchanges, min_market_cap, min_dollar_volume, limit)
            written = write_symbol_list(frame["symbol"], out, [header])
            logger.info("wrote %d symbols to %s", len(written), out)
        return frame

    # Runs -----------------------------------------------------------------------------------

    def new_run(
        self,
        profile: str = "canary",
        grid: Mapping[str, Sequence[Any]] | None = None,
        **overrides: Any,
    ) -> str:
        """Mint a run id, freeze its settings in a run request, and register its partition.

        The run's settings are this SDK's settings with ``profile`` and ``overrides`` applied.
        With a ``grid`` the run is a sweep: its tournament holds every point (see :meth:`sweep`).
        """
        run_id = new_run_id()
        write_run_request(self.store, run_id, self.settings, profile, overrides, grid)
        with dagster_instance() as instance:
            register_partitions(instance, RUN_ID_PARTITIONS, [run_id])
        return run_id

    def run(
        self, profile: str = "canary", run_id: str | None = None, **overrides: Any
    ) -> pd.DataFrame:
        """Materialize ``production`` for ``run_id`` (new by default); return its leaderboard.

        To keep the run id of a new run, mint it first: ``sdk.run(run_id=sdk.new_run(...))``.
        """
        if run_id is None:
            run_id = self.new_run(profile, **overrides)
        else:
            validate_run_id(run_id)
            for change in self.plugin_changes(run_id):
                logger.warning("run %s: plug-in changed since it was recorded: %s", run_id, change)
        request = read_run_request(self.store, run_id)
        logger.info(
            "run %s: %s profile, job %s",
            run_id,
            request["profile"] if request else "the code location's",
            PRODUCTION_JOB,
        )
        with dagster_instance() as instance:
            register_partitions(instance, RUN_ID_PARTITIONS, [run_id])
            try:
                dagster_run_id = self._execute(PRODUCTION_JOB, {PARTITION_TAG: run_id}, instance)
            except RunFailedError as error:
                self._record_outcome(run_id, FAILED, error.dagster_run_id, error.failures)
                raise RunFailedError(
                    f"run {run_id}: {error}", error.dagster_run_id, error.failures
                ) from None
        self._record_outcome(run_id, COMPLETE, dagster_run_id, [])
        leaderboard: pd.DataFrame = self.load("leaderboard", run_id)
        return leaderboard

    def submit(
        self, profile: str = "canary", run_id: str | None = None, **overrides: Any
    ) -> SubmittedRun:
        """Queue ``production`` for ``run_id`` (new by default) on the team's Dagster; return.

        The run request is written to this SDK's lakehouse (the team's shared one), the
        ``run_id`` partition added and the run submitted through the webserver at
        ``dagster_url``; the daemon launches it when the queue lets it. Follow it in the UI,
        :meth:`runs` or ``DagsterWebserver(url).wait(dagster_run_id, timeout)``.
        """
        webserver = self._webserver()
        if run_id is None:
            run_id = new_run_id()
            write_run_request(self.store, run_id, self.settings, profile, overrides)
        else:
            validate_run_id(run_id)
        webserver.add_partition(PRODUCTION_JOB, RUN_ID_PARTITIONS, run_id)
        request: Mapping[str, Any] = read_run_request(self.store, run_id) or {}
        tags = {PARTITION_TAG: run_id, PROFILE_TAG: str(request.get("profile", profile))}
        dagster_run_id = webserver.submit(PRODUCTION_JOB, tags)
        logger.info("run %s queued (Dagster run %s)", run_id, dagster_run_id)
        return SubmittedRun(run_id, dagster_run_id, PRODUCTION_JOB)

    def _record_outcome(
        self,
        run_id: str,
        status: str,
        dagster_run_id: str | None,
        failures: list[tuple[str, str]],
    ) -> None:
        """Store how ``run_id`` ended (:data:`~quant_sdk.run_catalog.RUN_OUTCOME`).

        A failure to store it (the disk that failed the run) is logged, never raised over the
        run's own outcome.
        """
        document = {
            "run_id": run_id,
            "status": status,
            "dagster_run_id": dagster_run_id,
            "failures": [list(failure) for failure in failures],
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            self.store.write_document(document, self.store.run_dir(RUN_OUTCOME, run_id))
        except OSError as error:
            logger.warning("run %s: could not record its outcome (%s)", run_id, error)

    def sweep(
        self, profile: str, grid: Mapping[str, Sequence[Any]], **overrides: Any
    ) -> pd.DataFrame:
        """Run a grid of settings as ONE ``production`` run; return its leaderboard.

        ``grid`` maps settings to values, e.g. ``{"top_n": [5, 10, 20], "max_weight": [0.1,
        0.2]}``; every combination is a profile of the run's tournament, named after its values
        (``top_n=5,max_weight=0.1``), on top of ``profile`` and ``overrides``. The points share
        the run's stored assets, its leaderboard and tear-sheet, and the work that does not
        depend on a point (:mod:`quant_assets.sweep`); the grid is in the run manifest. To keep
        the run id: ``sdk.run(run_id=sdk.new_run(profile, grid=grid))``.
        """
        return self.run(run_id=self.new_run(profile, grid=grid, **overrides))

    def plugin_changes(self, run_id: str) -> list[str]:
        """What changed in the plug-ins ``run_id`` used since its manifest recorded them."""
        folder = self.store.run_dir("run_manifest", validate_run_id(run_id))
        if not folder.exists():
            return []
        manifest = self.store.read_document(folder)
        try:
            current = plugin_records(profiles_of(manifest))
        except ValueError as error:  # a plug-in that is gone: the run will say so too
            return [" ".join(str(error).split())]
        return plugin_changes(manifest.get("plugins", []), current)

    def run_ids(self) -> list[str]:
        """Run ids with stored assets, oldest first."""
        return self.store.run_ids()

    def runs(self) -> pd.DataFrame:
        """Every run: id, profile, status, when, best engine and its Sharpe; oldest first.

        The status (see :data:`quant_sdk.run_catalog.RUN_STATUSES`) comes from the stored
        assets and the latest Dagster run of the run's partition; a run the Dagster instance
        has no record of is still listed. Columns: :data:`quant_sdk.run_catalog.RUN_COLUMNS`.
        With ``dagster_url`` the Dagster side is asked of the team's webserver (no database
        credentials needed), else of the local instance.
        """
        latest = self._latest_runs()
        dead = {key for key, run in latest.items() if run.abandoned is not None}
        return run_table(
            self.store, {key: run.status for key, run in latest.items()}, abandoned=dead
        )

    def show(self, run_id: str) -> RunSummary:
        """One run: status, data span, settings that differ from its profile, leaderboard.

        For a run whose latest Dagster run failed, ``failures`` names each failed step and
        its error. The Dagster side comes from where :meth:`runs` asks it.
        """
        validate_run_id(run_id)
        latest = self._latest_runs(run_id).get(run_id)
        failures = []
        if latest is not None and latest.abandoned is not None:
            failures = [(PROCESS_STEP, latest.abandoned)]
        elif latest is not None and latest.status in FAILED_DAGSTER_STATUSES:
            failures = self._step_failures(latest.dagster_run_id)
        status = None if latest is None else latest.status
        abandoned = latest is not None and latest.abandoned is not None
        return summarize_run(self.store, run_id, status, failures, abandoned=abandoned)

    def _latest_runs(self, run_id: str | None = None) -> dict[str, LatestRun]:
        """Run id -> its latest ``production`` run: from the webserver with ``dagster_url``."""
        if self.dagster_url is not None:
            return self._webserver().latest_runs(PRODUCTION_JOB, run_id)
        with dagster_instance() as instance:
            return latest_runs(instance, PRODUCTION_JOB, run_id)

    def _step_failures(self, dagster_run_id: str) -> list[tuple[str, str]]:
        if self.dagster_url is not None:
            return self._webserver().step_failures(dagster_run_id)
        with dagster_instance() as instance:
            return step_failures(instance, dagster_run_id)

    def compare(self, run_a: str, run_b: str) -> RunComparison:
        """Two runs' leaderboards side by side (B - A) and the settings that differ."""
        return compare_runs(self.show(run_a), self.show(run_b))

    def explain_settings(self, profile: str = "canary", **overrides: Any) -> pd.DataFrame:
        """The settings a run with ``profile`` and ``overrides`` would get, and their sources.

        Columns ``setting``, ``value``, ``source`` (default, environment, profile, override)
        and ``overridden``; see :func:`quant_assets.settings_sources.explain_settings`.
        """
        return explain_settings(profile, overrides, self.settings, self.setting_sources)

    # Reading --------------------------------------------------------------------------------

    def load(self, asset_name: str, run_id: str) -> Any:
        """Read one run's stored asset (a DataFrame, or a dict for JSON documents).

        Raises ``FileNotFoundError`` naming the assets the run has when this one is not stored.
        """
        folder = self.store.run_dir(asset_name, validate_run_id(run_id))
        if not folder.is_dir():
            stored = stored_assets_of(self.store, run_id)
            raise FileNotFoundError(
                f"run {run_id} has no stored {asset_name!r}; "
                + (f"it has: {', '.join(stored)}" if stored else "it has no stored assets")
            )
        if self.store.has_document(folder):
            return self.store.read_document(folder)
        return self.store.read_frame(folder)

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL over every asset (one DuckDB view each); bind values with ``?``."""
        return catalog_query(sql, params, root=self.store.root)

    def prices(self, symbols: list[str] | None = None) -> pd.DataFrame:
        """Stored closes, wide: dates x symbols."""
        return load_closes(self.store.root, symbols)

    def tournament(
        self,
        prices: pd.DataFrame,
        profile: str = "canary",
        variants: Mapping[str, Mapping[str, Any]] | None = None,
        **overrides: Any,
    ) -> TournamentResult:
        """Run the walk-forward tournament on exactly these prices, outside Dagster.

        Parameters
        ----------
        prices : DataFrame
            Wide daily closes, dates x symbols (e.g. from :meth:`prices`). Every date and
            symbol given is used; ``start_date``, ``end_date`` and ``symbols`` settings are not.
        profile : str
            Named profile the settings start from (``canary``, ``production``).
        variants : mapping of name to overrides, optional
            More profiles to compare, each the first one with these overrides.
        **overrides
            Settings fields, e.g. ``engines=["min_variance"], cost_bps=0, executor="serial"``.
        """
        settings = self.settings.with_profile(profile, **overrides)
        profiles = {profile: settings}
        for name, changes in (variants or {}).items():
            if name in profiles:
                raise ValueError(f"variant name {name!r} is already taken by the profile")
            profiles[name] = settings.clone(**changes)
        return run_tournament(prices, profiles, base=settings)

    def report(self, run_id: str, out: str | Path | None = None) -> Path:
        """Render ``run_id``'s HTML tear-sheet; return where it was written.

        The report is stored beside the run (``<root>/tearsheet/run_id=<id>/tearsheet.html``,
        what the ``tearsheet`` asset writes in every production run) and, with ``out``, also
        written there. It needs no network to be opened.
        """
        validate_run_id(run_id)
        document = render_tearsheet(load_tearsheet_inputs(self.store.root, run_id))
        stored = save_tearsheet(document, tearsheet_path(self.store, run_id))
        return stored if out is None else save_tearsheet(document, out)
