"""Trend plots: shares and framing index with interval bands, one panel column per group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["plot_trends"]

_COLOURS = {"multi_vector": "#1f77b4", "russian_orbit": "#d62728", "neutral": "#7f7f7f"}


def plot_trends(
    rows: Sequence[Mapping[str, Any]], path: str | Path, *, by: Sequence[str] = (), level: float = 0.9
) -> Path:
    """Draw shares (top), framing index (middle) and article counts (bottom) per group.

    Args:
        rows: Trend rows from :func:`mediamon.trends.aggregate_trends`.
        path: PNG to write (atomically).
        by: The group columns of the rows.
        level: Interval level, for the legend.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        key = " / ".join(str(r.get(b)) for b in by) if by else "all"
        groups[key].append(r)
    keys = sorted(groups)[:12] or ["all"]
    ncol = len(keys)
    fig, axes = plt.subplots(3, ncol, figsize=(5.5 * ncol, 9), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [3, 2, 1.2]})
    for c, key in enumerate(keys):
        rs = sorted(groups.get(key, []), key=lambda r: r["period"])
        x = [date.fromisoformat(str(r["period"])) for r in rs]
        ax = axes[0][c]
        for s, col in _COLOURS.items():
            y = [float(r[f"share_{s}"]) for r in rs]
            lo = [float(r[f"share_{s}_lo"]) for r in rs]
            hi = [float(r[f"share_{s}_hi"]) for r in rs]
            ax.plot(x, y, color=col, lw=1.6, label=s.replace("_", " "))
            ax.fill_between(x, lo, hi, color=col, alpha=0.18, lw=0)
        ax.set_ylim(0, 1)
        ax.set_title(key if by else "all articles")
        ax.set_ylabel("share of relevant articles")
        ax.grid(alpha=0.3)
        if c == 0:
            ax.legend(loc="upper left", fontsize=8, title=f"bands: {level:.0%} interval", title_fontsize=8)
        ax2 = axes[1][c]
        fi = [float(r["framing_index"]) for r in rs]
        ax2.plot(x, fi, color="black", lw=1.4)
        ax2.fill_between(x, [float(r["framing_index_lo"]) for r in rs], [float(r["framing_index_hi"]) for r in rs],
                         color="black", alpha=0.15, lw=0)
        ax2.axhline(0, color="grey", lw=0.8, ls="--")
        ax2.set_ylim(-1, 1)
        ax2.set_ylabel("framing index\n(mv − ro)/(mv + ro)")
        ax2.grid(alpha=0.3)
        ax3 = axes[2][c]
        width = max(1, int(0.8 * min(((b - a).days for a, b in zip(x, x[1:])), default=20)))
        ax3.bar(x, [int(r["n_articles"]) for r in rs], width=width, color="#9ecae1", label="articles")
        ax3.bar(x, [int(r["n_relevant"]) for r in rs], width=width, color="#3182bd", label="relevant")
        ax3.set_ylabel("count")
        ax3.grid(alpha=0.3)
        if c == 0:
            ax3.legend(loc="upper left", fontsize=8)
        ax3.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    est = rows[0].get("estimator", "?") if rows else "?"
    fig.suptitle(f"mediamon framing trends (estimator: {est})")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out)
    return out
