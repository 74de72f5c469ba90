"""A sweep's headline metric: a line over one varied path, a heat map over two."""

from __future__ import annotations

__all__ = ["sweep_plot"]


def sweep_plot(result, metric: str, ax=None):
    """Draw ``metric`` against the varied paths (one: a line, with intervals if any; two: a heat
    map of the mean over any other paths). Returns the Axes."""
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    rows = result.table[result.table.metric == metric]
    columns = [v.column for v in result.variations]
    if len(columns) == 1:
        x = columns[0]
        ordered = rows.sort_values(x) if rows[x].dtype.kind in "if" else rows
        labels = ordered[x].astype(str)
        positions = np.arange(len(ordered))
        ax.plot(positions, ordered.value, marker="o")
        if ordered.low.notna().any():
            ax.fill_between(positions, ordered.low, ordered.high, alpha=0.2, label="95% interval")
            ax.legend()
        ax.set_xticks(positions, labels)
        ax.set_xlabel(x)
        ax.set_ylabel(metric)
    else:
        x, y = columns[0], columns[1]
        table = rows.groupby([y, x], sort=False).value.mean().unstack(x)
        image = ax.imshow(table.to_numpy(dtype=float), aspect="auto", origin="lower", cmap="viridis")
        ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
        ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.figure.colorbar(image, ax=ax, label=metric)
    ax.set_title(f"{metric} over the sweep")
    return ax
