"""The Dagster code location: ``defs`` merges every pillar's definitions with resources and jobs."""

from dagster_defs.definitions import build_definitions, defs

__all__ = ["build_definitions", "defs"]
