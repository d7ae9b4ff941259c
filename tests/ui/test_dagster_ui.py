"""The Dagster UI in a real browser: headless Debian Chromium driven by Playwright against
`dagster dev` on 127.0.0.1, after a canary run on a temporary lakehouse and DAGSTER_HOME; then a
new run started from the UI alone (the `new_run` launchpad, the daemon's `requested_runs` sensor).

Run with `make test-ui`, which installs Chromium (apt) and Playwright (pip); nothing here
downloads a browser. Screenshots go to data/ui-screenshots/.
"""

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_defs.tags import REQUESTED_BY_RUN_TAG
from lakehouse import LakehouseStore
from quant_assets.assets.tournament import TOURNAMENT_CODE_VERSION
from tests.conftest import SMALL_SYMBOLS
from tests.processes import stop_process_group

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "data" / "ui-screenshots"
LOCATION = "dagster_defs"
PILLARS = ["hydration", "discovery", "features", "regimes", "selection", "allocation", "tournament"]
ENGINES = ["equal_weight", "inverse_volatility", "market", "min_variance"]
STARTUP_SECONDS = 120
UI_TIMEOUT_MS = 30_000
NEW_RUN_TIMEOUT_MS = 120_000
"""Launch to success of `new_run` (queued, then a process of its own): seconds when idle."""
PRODUCTION_SECONDS = 300
"""The sensor's next tick, the launch and a canary `production` run: under a minute when idle."""
UI_OVERRIDES = {"start_date": "2019-01-01", "min_history": 252}
"""What the UI user types as overrides: the canary on recent data, fast."""
NEW_RUN_CONFIG = textwrap.dedent(
    """\
    ops:
      mint_run_id:
        config:
          profile: canary
          overrides:
            start_date: 2019-01-01
            min_history: 252
    """
)
# Chromium as the machine notes advise: no sandbox (root), no background calls to the network.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

CANARY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from quant_sdk import QuantSDK

    sdk = QuantSDK(root=sys.argv[1])
    sdk.hydrate(symbols=sys.argv[2].split(","))
    run_id = sdk.new_run("canary")
    board = sdk.run(run_id=run_id)
    best = f"{board['profile'].iloc[0]}/{board['engine'].iloc[0]}"
    print("RESULT " + json.dumps(
        {"run_id": run_id, "engines": sorted(board["engine"]), "best": best}
    ))
    """
)


@dataclass(frozen=True)
class DagsterUI:
    url: str
    home: Path
    lake: Path
    run_id: str
    engines: list[str]
    best: str


def _require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM}); `make test-ui` installs it")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("the playwright package is not installed; `make test-ui` installs it")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _isolated_env(home: Path, lake: Path) -> dict[str, str]:
    # drop the caller's QUANT_* settings (auto_sync, sources...) so the UI shows only this lake
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANT_")}
    return {**env, "DAGSTER_HOME": str(home), "QUANT_DATA_ROOT": str(lake)}


def _location_loaded(url: str) -> bool:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body: dict[str, Any] = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    entries = body.get("data", {}).get("workspaceOrError", {}).get("locationEntries") or []
    return any(e["name"] == LOCATION and e["loadStatus"] == "LOADED" for e in entries)


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUI]:
    """A canary run on a temporary lakehouse, then `dagster dev` serving it on a free port."""
    _require_browser()
    tmp = tmp_path_factory.mktemp("dagster_ui")
    home, lake = tmp / "dagster_home", tmp / "lakehouse"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = _isolated_env(home, lake)

    canary = subprocess.run(
        [sys.executable, "-c", CANARY_SCRIPT, str(lake), ",".join(SMALL_SYMBOLS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert canary.returncode == 0, canary.stderr[-3000:]
    result = json.loads(canary.stdout.split("RESULT ", 1)[1])
    with dg.DagsterInstance.from_config(str(home)) as instance:
        # create every SQLite storage now: the daemon and the webserver creating the schedule
        # storage at the same moment can leave it with two alembic heads
        instance.get_runs(limit=1)
        instance.all_instigator_state()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "dagster_dev.log"
    with log_path.open("wb") as log:
        # its own process group: `dagster dev` ignores SIGTERM otherwise, and the group is
        # killed as one in the teardown
        dev = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        started = time.monotonic()
        while not _location_loaded(url):
            assert dev.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() - started < STARTUP_SECONDS, (
                f"dagster dev not ready within {STARTUP_SECONDS} s:\n"
                + log_path.read_text(errors="replace")[-3000:]
            )
            time.sleep(1)
        print(f"dagster dev ready at {url} in {time.monotonic() - started:.1f} s")
        yield DagsterUI(url=url, home=home, lake=lake, **result)
    finally:
        stop_process_group(dev)


@pytest.fixture(scope="module")
def browser(dagster_ui: DagsterUI) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    # the first visit shows a "Join the Dagster community" dialog: skip it whenever it shows
    community = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
    page.add_locator_handler(
        community, lambda dialog: dialog.get_by_role("button", name="Skip").click()
    )
    try:
        yield page
    finally:
        context.close()


def _screenshot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")  # no half-faded dialogs
    print(f"screenshot: {path}")
    return path


def test_asset_graph_shows_the_pillar_groups(dagster_ui: DagsterUI, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{dagster_ui.url}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    graph = page.locator("svg")
    for pillar in PILLARS:
        # one node per group in the lineage graph, and one entry per group in the side tree
        expect(graph.get_by_text(pillar, exact=True)).to_be_visible()
        expect(page.get_by_text(pillar, exact=True).first).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    _screenshot(page, "asset-graph")


def test_leaderboard_page_shows_the_canary_tournament(dagster_ui: DagsterUI, page: Any) -> None:
    from playwright.sync_api import expect

    assert dagster_ui.engines == ENGINES
    page.goto(f"{dagster_ui.url}/assets/leaderboard")
    expect(page.get_by_text("Latest materialization")).to_be_visible()
    # the materialization is the canary's run_id partition
    expect(page.get_by_text(dagster_ui.run_id).first).to_be_visible()
    # definition: pillar group, owner, kinds, description, code version
    expect(page.get_by_text("tournament", exact=True).first).to_be_visible()
    expect(page.get_by_text("quant-research", exact=True)).to_be_visible()
    expect(page.get_by_text("Parquet", exact=True)).to_be_visible()
    expect(page.get_by_text("Every profile x engine after costs").first).to_be_visible()
    page.get_by_text("Compute details", exact=True).click()
    expect(page.get_by_text(TOURNAMENT_CODE_VERSION, exact=True).first).to_be_visible()

    metadata = page.locator("tr")
    expect(metadata.filter(has_text="best").filter(has_text=dagster_ui.best)).to_have_count(1)
    expect(
        metadata.filter(has_text="strategies").filter(has_text=str(len(ENGINES)))
    ).not_to_have_count(0)
    expect(metadata.filter(has_text="content_hash")).to_have_count(1)
    _screenshot(page, "leaderboard-overview")

    # the leaderboard table, rendered from the materialization's markdown metadata
    row = metadata.filter(has=page.get_by_text("leaderboard", exact=True))
    row.get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("leaderboard", exact=True)).to_be_visible()
    table = dialog.locator("table")
    expect(table.locator("th")).to_contain_text(["rank", "profile", "engine", "sharpe"])
    expect(table.locator("tbody tr")).to_have_count(len(ENGINES))
    for engine in ENGINES:
        expect(table.get_by_role("cell", name=engine, exact=True)).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text(dagster_ui.best.split("/")[1])
    _screenshot(page, "leaderboard-table")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)

    # the equity curve: an inline PNG that the browser decoded
    row = metadata.filter(has=page.get_by_text("equity_curve", exact=True))
    row.get_by_text("[Show Markdown]").click()
    image = page.get_by_role("dialog").get_by_role("img", name="equity curves")
    expect(image).to_be_visible()
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width >= 400 and height >= 200, (width, height)
    _screenshot(page, "leaderboard-equity-curve")


def test_the_tear_sheet_opens_offline_in_the_browser(dagster_ui: DagsterUI, page: Any) -> None:
    from playwright.sync_api import expect

    report = dagster_ui.lake / "tearsheet" / f"run_id={dagster_ui.run_id}" / "tearsheet.html"
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())
    expect(page.locator("h2#leaderboard")).to_be_visible()
    for engine in dagster_ui.engines:
        expect(
            page.locator("#leaderboard").locator("..").get_by_text(engine).first
        ).to_be_attached()
    images = page.locator("img")
    assert images.count() >= 5
    for index in range(images.count()):
        width = images.nth(index).evaluate("img => img.naturalWidth")
        assert width > 0, f"image {index} did not render"
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    _screenshot(page, "tear-sheet")


def _production_run_of(home: Path, run_id: str) -> dg.DagsterRun:
    """Wait for the `production` run of partition ``run_id`` to finish; return it."""
    deadline = time.monotonic() + PRODUCTION_SECONDS
    with dg.DagsterInstance.from_config(str(home)) as instance:
        while True:
            runs = instance.get_runs(
                dg.RunsFilter(job_name="production", tags={"dagster/partition": run_id})
            )
            if runs and runs[0].is_finished:
                return runs[0]
            assert time.monotonic() < deadline, (
                f"no finished production run for {run_id} after {PRODUCTION_SECONDS} s: {runs}"
            )
            time.sleep(2)


def test_a_new_run_from_the_launchpad_alone(dagster_ui: DagsterUI, page: Any) -> None:
    """Profile and overrides typed in the launchpad of `new_run`, launched by clicking; the
    daemon's sensor runs `production` for the minted run id; its leaderboard shows the engines.

    Kept last in this module: it adds the newest `leaderboard` materialization.
    """
    from playwright.sync_api import expect

    started = time.monotonic()
    page.goto(f"{dagster_ui.url}/locations/{LOCATION}/jobs/new_run/playground")
    editor = page.locator(".CodeMirror").first
    expect(editor).to_contain_text("mint_run_id")  # the launchpad scaffolds the config
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(NEW_RUN_CONFIG)
    expect(editor).to_contain_text("min_history: 252")
    expect(page.get_by_text("No errors", exact=True)).to_be_visible()
    _screenshot(page, "new-run-launchpad")

    page.get_by_role("button", name="Launch Run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    dagster_run_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_text("Succeeded (1)")).to_be_visible(timeout=NEW_RUN_TIMEOUT_MS)
    # the op's output metadata shows the run id it minted: the time, then the Dagster run id
    minted = page.get_by_text(re.compile(rf"^\d{{8}}-\d{{6}}-{dagster_run_id[:8]}$")).first
    expect(minted).to_be_visible()
    run_id = minted.inner_text().strip()
    _screenshot(page, "new-run-minted")
    print(f"new_run {dagster_run_id} minted {run_id} in {time.monotonic() - started:.1f} s")

    production = _production_run_of(dagster_ui.home, run_id)
    assert production.status == dg.DagsterRunStatus.SUCCESS, production.status
    assert production.tags[REQUESTED_BY_RUN_TAG] == dagster_run_id
    print(f"production {production.run_id} done {time.monotonic() - started:.1f} s after launch")
    page.goto(f"{dagster_ui.url}/runs/{production.run_id}")
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    expect(page.get_by_text("production", exact=True).first).to_be_visible()
    _screenshot(page, "new-run-production")

    page.goto(f"{dagster_ui.url}/assets/leaderboard?view=partitions&partition={run_id}")
    expect(page.get_by_text("Latest materialization")).to_be_visible()
    expect(page.get_by_text(production.run_id[:8], exact=True).first).to_be_visible()
    metadata = page.locator("tr")
    row = metadata.filter(has=page.get_by_text("leaderboard", exact=True))
    row.get_by_text("[Show Markdown]").click()
    table = page.get_by_role("dialog").locator("table")
    expect(table.locator("tbody tr")).to_have_count(len(ENGINES))
    for engine in ENGINES:
        expect(table.get_by_role("cell", name=engine, exact=True)).to_be_visible()
    _screenshot(page, "new-run-leaderboard")

    # the run's manifest froze what the UI user chose
    store = LakehouseStore(dagster_ui.lake)
    manifest = store.read_document(store.run_dir("run_manifest", run_id))
    assert manifest["profile"] == "canary"
    assert manifest["request"]["overrides"] == UI_OVERRIDES
    assert manifest["settings"]["start_date"] == "2019-01-01"
    assert manifest["settings"]["min_history"] == 252
    assert sorted(store.read_frame(store.run_dir("leaderboard", run_id))["engine"]) == ENGINES
