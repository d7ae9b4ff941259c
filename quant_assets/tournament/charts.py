"""Pictures of a tournament: the equity curve of every strategy, as PNG bytes."""

import base64
import io

import pandas as pd

FIGURE_SIZE = (9.0, 4.5)
DPI = 80


def equity_curve_png(returns: pd.DataFrame, title: str = "Out-of-sample equity") -> bytes:
    """Growth of 1 for every column of daily ``returns`` (dates x strategies), log scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI)
    axes = figure.add_subplot()
    wealth = (1.0 + returns.fillna(0.0)).cumprod()
    for name in wealth.columns:
        axes.plot(wealth.index, wealth[name].to_numpy(), linewidth=1.0, label=str(name))
    axes.set_yscale("log")
    axes.set_title(title)
    axes.set_ylabel("growth of 1 (log)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small", ncol=2)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def png_markdown(png: bytes, alt: str) -> str:
    """Markdown that shows ``png`` inline (Dagster renders it in the asset's metadata)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
