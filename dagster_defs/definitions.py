"""The whole system in one place: every pillar's definitions, the jobs and the resources."""

import dagster as dg

from dagster_defs.jobs import hydrate, production
from dagster_defs.resources import build_resources
from quant_assets.assets import discovery, features, hydration, regimes, selection

defs = dg.Definitions.merge(
    hydration.defs,
    discovery.defs,
    features.defs,
    regimes.defs,
    selection.defs,
    dg.Definitions(jobs=[production, hydrate], resources=build_resources()),
)
