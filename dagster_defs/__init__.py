"""The Dagster code location: ``defs`` merges every pillar's definitions with resources and jobs."""

from dagster_defs.definitions import defs

__all__ = ["defs"]
