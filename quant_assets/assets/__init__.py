"""The thin Dagster assets and checks over the pillars, one module per pillar."""
