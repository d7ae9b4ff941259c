"""Handlers of the ``quant`` subcommands that look after the lakehouse.

``stale``, ``backfill-stale``, ``doctor`` and ``prune``; the research commands are in
:mod:`quant_sdk.commands`.
"""

import argparse

from quant_sdk.commands import EXIT_FAILED, EXIT_OK, make_sdk
from quant_sdk.console import Output

STATUS_ORDER = ("stale", "new", "quarantined", "vanished", "fresh")
"""The freshness statuses in the order ``quant stale`` counts them (most urgent first)."""


def stale(args: argparse.Namespace, out: Output) -> int:
    """``quant stale``: stale, new and vanished symbols from the lakehouse alone; writes nothing."""
    status = make_sdk(args).stale_symbols(args.source, record=False)
    shown = status if args.all else status[status["status"] != "fresh"]
    if out.json_mode:
        out.json(shown)
        return EXIT_OK
    counts = status["status"].value_counts()
    out.line(", ".join(f"{counts.get(name, 0)} {name}" for name in STATUS_ORDER))
    if len(shown):
        out.table(shown, limit=args.limit)
    return EXIT_OK


def backfill_stale(args: argparse.Namespace, out: Output) -> int:
    """``quant backfill-stale``: one Dagster backfill of the stale and new symbols."""
    backfill_id = make_sdk(args).backfill_stale(args.source, wait=args.wait)
    if out.json_mode:
        out.json({"backfill_id": backfill_id})
    else:
        out.line(backfill_id or "every symbol is fresh: no backfill")
    return EXIT_OK


def prune(args: argparse.Namespace, out: Output) -> int:
    """``quant prune --keep-last N``: remove all but the newest runs."""
    pruned = make_sdk(args).prune_runs(args.keep_last)
    if out.json_mode:
        out.json({"pruned": pruned})
    else:
        out.line(f"pruned {len(pruned)} runs" + "".join(f"\n  {run_id}" for run_id in pruned))
    return EXIT_OK


def doctor(args: argparse.Namespace, out: Output) -> int:
    """``quant doctor [--repair]``: list damaged stored files; repair what can be re-created."""
    findings = make_sdk(args).verify(repair=args.repair)
    if out.json_mode:
        out.json(findings)
    elif findings.empty:
        out.line("every stored file reads, matches its checksum and its contract")
    else:
        out.table(findings, limit=args.limit)
    return EXIT_OK if findings.empty or args.repair else EXIT_FAILED
