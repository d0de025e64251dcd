"""Trend plots: shares and framing index with interval bands and per-language counts, one panel per group."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["plot_trends"]

_COLOURS = {"multi_vector": "#1f77b4", "russian_orbit": "#d62728", "neutral": "#7f7f7f"}
_LANG_COLOURS = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#bcbd22", "#17becf", "#8c564b"]
_MAX_GROUPS = 12


def _f(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def plot_trends(
    rows: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    by: Sequence[str] = (),
    level: float = 0.9,
    lang_counts: Mapping[tuple[str, ...], Mapping[str, int]] | None = None,
    changepoints: Sequence[Mapping[str, Any]] = (),
    title: str | None = None,
) -> Path:
    """Draw, per group, shares (top), framing index (middle) and article counts (bottom).

    Groups are laid out in a grid of up to four columns; with more than 12 groups the 12
    with most articles are drawn (the title says so).  Bands are the rows' intervals;
    smoothed lines (``*_smooth`` columns) are dashed; change points are vertical lines on
    the framing-index panel; counts are stacked per language when ``lang_counts`` is given.

    Args:
        rows: Trend rows from :func:`mediamon.trends.aggregate_trends`.
        path: PNG to write (atomically).
        by: The group columns of the rows.
        level: Interval level, for the legend.
        lang_counts: ``(period, *group) → {lang: n}`` (``TrendResult.lang_counts``).
        changepoints: Change-point rows (``TrendResult.changepoints``).
        title: Figure title (default names the estimator).

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import numpy as np

    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[tuple(str(r.get(b)) for b in by)].append(r)
    volume = {k: sum(int(_f(r.get("n_articles")) or 0) for r in rs) for k, rs in groups.items()}
    keys = sorted(sorted(groups, key=lambda k: -volume[k])[:_MAX_GROUPS]) or [()]
    n_all = len(groups)
    ncol = min(4, len(keys))
    nrow = math.ceil(len(keys) / ncol)
    fig = plt.figure(figsize=(5.2 * ncol + 0.6, 7.4 * nrow + 0.6))
    outer = fig.add_gridspec(nrow, ncol, hspace=0.32, wspace=0.3, left=1.0 / (5.2 * ncol + 0.6),
                             right=0.98, bottom=0.45 / (7.4 * nrow + 0.6), top=1 - 0.75 / (7.4 * nrow + 0.6))
    langs = sorted({lg for c in (lang_counts or {}).values() for lg in c})
    lang_col = {lg: _LANG_COLOURS[i % len(_LANG_COLOURS)] for i, lg in enumerate(langs)}
    cps: dict[tuple[str, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for c in changepoints:
        cps[tuple(str(c.get(b)) for b in by)].append(c)
    for idx, key in enumerate(keys):
        inner = outer[idx // ncol, idx % ncol].subgridspec(3, 1, height_ratios=[3, 2, 1.4], hspace=0.08)
        ax = fig.add_subplot(inner[0])
        ax2 = fig.add_subplot(inner[1], sharex=ax)
        ax3 = fig.add_subplot(inner[2], sharex=ax)
        rs = sorted(groups.get(key, []), key=lambda r: str(r["period"]))
        x = mdates.date2num([date.fromisoformat(str(r["period"])) for r in rs])
        marker = "o" if len(x) <= 40 else None
        for s, col in _COLOURS.items():
            ax.plot(x, [_f(r.get(f"share_{s}")) for r in rs], color=col, lw=1.6, marker=marker, ms=3,
                    label=s.replace("_", " "))
            ax.fill_between(x, [_f(r.get(f"share_{s}_lo")) for r in rs], [_f(r.get(f"share_{s}_hi")) for r in rs],
                            color=col, alpha=0.18, lw=0)
            if rs and f"share_{s}_smooth" in rs[0]:
                ax.plot(x, [_f(r.get(f"share_{s}_smooth")) for r in rs], color=col, lw=1.2, ls="--")
        ax.set_ylim(0, 1)
        ax.set_title(" / ".join(f"{b}={k}" for b, k in zip(by, key, strict=True)) if by else "all articles", fontsize=11)
        ax.set_ylabel("share of relevant articles")
        ax.grid(alpha=0.3)
        ax.tick_params(labelbottom=False)
        if idx == 0:
            ax.legend(loc="upper left", fontsize=8, ncol=3, title=f"bands: {level:.0%} intervals", title_fontsize=8)
        fi = [_f(r.get("framing_index")) for r in rs]
        ax2.plot(x, fi, color="black", lw=1.4, marker=marker, ms=3, label="framing index")
        ax2.fill_between(x, [_f(r.get("framing_index_lo")) for r in rs], [_f(r.get("framing_index_hi")) for r in rs],
                         color="black", alpha=0.15, lw=0)
        if rs and "framing_index_smooth" in rs[0]:
            ax2.plot(x, [_f(r.get("framing_index_smooth")) for r in rs], color="black", lw=1.1, ls="--", label="smoothed")
        for c in cps.get(key, []):
            xc = float(mdates.date2num(date.fromisoformat(str(c["period"]))))
            ax2.axvline(xc, color="#ff7f0e", lw=1.3, ls=":")
            ax2.annotate(f"{'▲' if c.get('direction') == 'up' else '▼'} {_f(c.get('size')):+.2f}", (xc, 0.9),
                         fontsize=7, color="#ff7f0e", ha="left", va="top")
        ax2.axhline(0, color="grey", lw=0.8, ls="--")
        ax2.set_ylim(-1.05, 1.05)
        ax2.set_ylabel("framing index\n(mv − ro)/(mv + ro)")
        ax2.grid(alpha=0.3)
        ax2.tick_params(labelbottom=False)
        if idx == 0:
            ax2.text(0.01, 0.03, "+1 = all multi-vector, −1 = all Russian-orbit; dotted = change point",
                     transform=ax2.transAxes, fontsize=7, color="dimgray")
        width = 0.8 * float(np.diff(x).min()) if len(x) > 1 else 20.0
        if lang_counts:
            bottom = np.zeros(len(rs))
            for lg in langs:
                h = [int(lang_counts.get((str(r["period"]), *key), {}).get(lg, 0)) for r in rs]
                if any(h):
                    ax3.bar(x, h, width=width, bottom=bottom, color=lang_col[lg], label=lg)
                    bottom = bottom + np.asarray(h)
        else:
            ax3.bar(x, [int(_f(r.get("n_articles"))) for r in rs], width=width, color="#9ecae1", label="articles")
        (rel_line,) = ax3.plot(x, [int(_f(r.get("n_relevant"))) for r in rs], color="black", lw=1.0, marker=marker,
                               ms=2, label="relevant (predicted)")
        top = max([int(_f(r.get("n_articles"))) for r in rs] or [1])
        ax3.set_ylim(0, max(1.0, top * 1.45))  # headroom for the legend
        ax3.set_ylabel("articles")
        ax3.grid(alpha=0.3)
        if idx == 0:
            from matplotlib.patches import Patch

            handles: list[Any] = [Patch(color=lang_col[lg], label=lg) for lg in langs] if lang_counts else []
            if not lang_counts:
                handles = [h for h in ax3.get_legend_handles_labels()[0] if h is not rel_line]
            handles.append(rel_line)
            ax3.legend(handles=handles, loc="upper left", fontsize=7, ncol=5,
                       title="articles per language" if lang_counts else None, title_fontsize=7)
        loc = mdates.AutoDateLocator()
        ax3.xaxis.set_major_locator(loc)
        ax3.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    est = rows[0].get("estimator", "?") if rows else "?"
    head = title or f"mediamon framing trends (estimator: {est}, {level:.0%} intervals)"
    if n_all > len(keys):
        head += f" — {len(keys)} of {n_all} groups with most articles"
    fig.suptitle(head, fontsize=13)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out)
    return out
