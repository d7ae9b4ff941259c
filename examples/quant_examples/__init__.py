"""Example plug-ins for quant-lakehouse: an engine, a signal and a score, and two faulty ones.

Installed with the platform by ``make install``; see their entry points in ``pyproject.toml``.
``faulty`` holds plug-ins the platform refuses or vetoes, for its tests.
"""
