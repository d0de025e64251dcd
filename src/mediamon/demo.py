"""The bundled demo: score the synthetic demo feed, write quarterly trends and a plot,
and compare the recovered framing index with the feed's documented truth."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

from .config import Config, TrendsConfig
from .errors import InputError
from .framing import load_model
from .framing.registry import bundled_models_dir
from .outputs import write_rows
from .pipeline import run_score
from .trends import ValidationStats, aggregate_trends, read_scored

__all__ = ["demo_dir", "run_demo", "compare_with_truth"]


def demo_dir() -> Path:
    """``corpora/demo`` of the repository (beside the bundled ``models/``)."""
    return bundled_models_dir().parent / "corpora" / "demo"


def compare_with_truth(rows: list[dict], truth_csv: Path) -> dict[str, float]:
    """Pearson r of the framing index and mean absolute error of the three shares vs the truth."""
    truth = {r["period"]: r for r in csv.DictReader(truth_csv.open(encoding="utf-8"))}
    xs, ys, errs = [], [], []
    for r in rows:
        t = truth.get(r["period"])
        if not t or t["true_framing_index"] == "" or not math.isfinite(r["framing_index"]):
            continue
        xs.append(float(t["true_framing_index"]))
        ys.append(float(r["framing_index"]))
        for s in ("multi_vector", "russian_orbit", "neutral"):
            if t[f"true_share_{s}"] != "":
                errs.append(abs(float(t[f"true_share_{s}"]) - float(r[f"share_{s}"])))
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True))
    sx = math.sqrt(sum((a - mx) ** 2 for a in xs))
    sy = math.sqrt(sum((b - my) ** 2 for b in ys))
    return {"periods": n, "pearson_r": cov / (sx * sy) if sx and sy else float("nan"), "share_mae": sum(errs) / len(errs)}


def run_demo(output_dir: Path, *, model: str = "default", estimator: str | None = None) -> Iterator[str]:
    """Run the demo end to end; yields the lines to print."""
    src = demo_dir()
    feed = src / "feed.jsonl"
    if not feed.is_file():
        raise InputError(f"{feed}: demo feed not found (run python corpora/demo/make_demo.py)")
    output_dir.mkdir(parents=True, exist_ok=True)
    m = load_model(model)
    scored = output_dir / "scored.jsonl"
    summary = run_score([feed], scored, model=m, config=Config(), force=True, rejects=output_dir / "rejects.jsonl")
    yield f"scored {summary.n_scored} demo articles with {m.full_name} -> {scored}"
    estimator = estimator or TrendsConfig().estimator
    tcfg = TrendsConfig(period="quarter", estimator=estimator)  # type: ignore[arg-type]
    stats = ValidationStats.from_meta(m.meta_)
    res = aggregate_trends(read_scored([scored]), tcfg, stats=stats)
    trends_csv = output_dir / "trends_quarterly.csv"
    write_rows(trends_csv, res.rows, columns=res.columns)
    yield f"quarterly trends ({len(res.rows)} quarters, estimator {estimator}, 90% intervals) -> {trends_csv}"
    bylang = aggregate_trends(read_scored([scored]), TrendsConfig(period="year", by=["lang"], estimator=estimator), stats=stats)  # type: ignore[arg-type,list-item]
    write_rows(output_dir / "trends_yearly_by_lang.csv", bylang.rows, columns=bylang.columns)
    yield f"yearly trends by language -> {output_dir / 'trends_yearly_by_lang.csv'}"
    from .plots import plot_trends

    plot_trends(res.rows, output_dir / "trends_quarterly.png", level=tcfg.level)
    yield f"plot -> {output_dir / 'trends_quarterly.png'}"
    truth = src / "truth_quarterly.csv"
    if truth.is_file():
        c = compare_with_truth(res.rows, truth)
        yield (
            f"against the demo feed's documented truth ({c['periods']} quarters): framing-index Pearson r = "
            f"{c['pearson_r']:.3f}, mean absolute error of the shares = {c['share_mae']:.3f}"
        )
