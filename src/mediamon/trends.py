"""Time-bucketed framing shares with error-corrected estimates and intervals.

Estimators (per period and group, over the group's articles):

* ``cc``   — classify and count: shares of hard labels.
* ``pcc``  — probabilistic classify and count: mean of calibrated probabilities.
* ``acc``  — adjusted classify and count: solves ``q = Cᵀ π`` for the true prevalence ``π``
  on the simplex, where ``C[i, j] = P(predicted j | true i)`` comes from the model's
  out-of-fold validation confusion matrix (``meta.json → validation.stance``).
* ``pacc`` — probabilistic ACC: the same with ``M[i] = E[p | true i]`` and the mean
  probability vector.

Shares of multi_vector / russian_orbit / neutral are reported over *relevant* articles
(``π_s / (1 − π_off_topic)``), with percentile intervals from a bootstrap over articles; for
``acc`` / ``pacc`` every replicate also redraws the validation statistics, so the interval
carries the classifier's own estimation error.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy.optimize import nnls

from .config import TrendsConfig
from .errors import InputError, UsageError
from .records import STANCES

__all__ = [
    "TREND_COLUMNS",
    "TrendResult",
    "aggregate_trends",
    "estimate_shares",
    "period_start",
    "read_scored",
    "ValidationStats",
]

_P = [f"p_{s}" for s in STANCES]
_REL = ("multi_vector", "russian_orbit", "neutral")
TREND_COLUMNS = [
    "period", "n_articles", "n_relevant",
    *(c for s in _REL for c in (f"share_{s}", f"share_{s}_lo", f"share_{s}_hi")),
    "framing_index", "framing_index_lo", "framing_index_hi", "estimator",
]


@dataclass(frozen=True)
class ValidationStats:
    """A model's held-out confusion statistics (rows true, columns predicted)."""

    confusion: np.ndarray
    mean_probs: np.ndarray

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> ValidationStats:
        """Read ``validation.stance`` from a model's ``meta.json`` contents."""
        try:
            v = meta["validation"]["stance"]
            return cls(np.asarray(v["confusion"], dtype=float), np.asarray(v["mean_probs"], dtype=float))
        except (KeyError, TypeError) as e:
            raise UsageError(f"model metadata has no validation.stance statistics ({e}); retrain the model") from None

    def conditional(self) -> np.ndarray:
        """Row-normalised confusion: P(pred j | true i)."""
        rows = self.confusion.sum(axis=1, keepdims=True)
        return np.divide(self.confusion, rows, out=np.eye(len(rows)), where=rows > 0)

    def resample(self, rng: np.random.Generator) -> ValidationStats:
        """One parametric-bootstrap draw of both matrices (multinomial / Dirichlet rows)."""
        conf = np.zeros_like(self.confusion)
        mp = np.zeros_like(self.mean_probs)
        for i, row in enumerate(self.confusion):
            n = int(row.sum())
            if n == 0:
                conf[i], mp[i] = row, self.mean_probs[i]
                continue
            conf[i] = rng.multinomial(n, row / n)
            mp[i] = rng.dirichlet(self.mean_probs[i] * n + 0.5)
        return ValidationStats(conf, mp)


def _simplex_solve(A: np.ndarray, q: np.ndarray) -> np.ndarray:
    """argmin ||Aᵀ π − q|| with π ≥ 0, Σπ = 1 (sum constraint as a heavy extra row)."""
    k = A.shape[0]
    lhs = np.vstack([A.T, 1e3 * np.ones((1, k))])
    rhs = np.concatenate([q, [1e3]])
    pi, _ = nnls(lhs, rhs)
    s = pi.sum()
    return pi / s if s > 0 else np.full(k, 1.0 / k)


def estimate_shares(
    probs: np.ndarray, estimator: str, stats: ValidationStats | None = None, *, weights: np.ndarray | None = None
) -> np.ndarray:
    """Four-class prevalence of one group of articles.

    Args:
        probs: Calibrated stance probabilities (n, 4).
        estimator: ``cc``, ``pcc``, ``acc`` or ``pacc``.
        stats: Validation statistics (needed for ``acc`` / ``pacc``).
        weights: Optional article weights (bootstrap counts).
    """
    n, k = probs.shape
    w = np.ones(n) if weights is None else weights
    tot = w.sum()
    if tot <= 0:
        return np.full(k, np.nan)
    if estimator in ("cc", "acc"):
        hard = np.zeros_like(probs)
        hard[np.arange(n), probs.argmax(axis=1)] = 1.0
        q = (w @ hard) / tot
    elif estimator in ("pcc", "pacc"):
        q = (w @ probs) / tot
    else:
        raise UsageError(f"unknown estimator {estimator!r} (cc, pcc, acc, pacc)")
    if estimator in ("cc", "pcc"):
        return q
    if stats is None:
        raise UsageError(f"estimator {estimator} needs the model's validation statistics (--model)")
    A = stats.conditional() if estimator == "acc" else stats.mean_probs
    return _simplex_solve(A, q)


def _relevant_shares(pi: np.ndarray) -> tuple[np.ndarray, float]:
    """(mv, ro, neutral) shares over relevant articles, and the framing index."""
    rel = pi[:3]
    s = rel.sum()
    shares = rel / s if s > 0 else np.full(3, np.nan)
    mv, ro = shares[0], shares[1]
    fi = (mv - ro) / (mv + ro) if (mv + ro) > 0 else np.nan
    return shares, float(fi)


def period_start(dt: datetime, period: str, tz: ZoneInfo) -> str:
    """ISO date of the start of the period containing ``dt`` in timezone ``tz``."""
    d = dt.astimezone(tz).date()
    if period == "day":
        s = d
    elif period == "week":
        s = d - timedelta(days=d.weekday())
    elif period == "month":
        s = d.replace(day=1)
    elif period == "quarter":
        s = d.replace(month=3 * ((d.month - 1) // 3) + 1, day=1)
    elif period == "year":
        s = d.replace(month=1, day=1)
    else:
        raise UsageError(f"unknown period {period!r}")
    return s.isoformat()


def read_scored(paths: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """Rows of scored files (JSONL, CSV from ``mediamon score``, or Parquet)."""
    import csv

    for p in map(Path, paths):
        if not p.is_file():
            raise InputError(f"{p}: no such file")
        suf = p.suffix.lower()
        if suf == ".jsonl":
            with p.open(encoding="utf-8") as fh:
                for i, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            yield json.loads(line)
                        except json.JSONDecodeError as e:
                            raise InputError(f"{p}:{i}: not valid JSON ({e.msg})") from None
        elif suf == ".csv":
            with p.open(encoding="utf-8-sig", newline="") as fh:
                for r in csv.DictReader(fh):
                    row: dict[str, Any] = dict(r)
                    row["topics"] = [t for t in (row.get("topics") or "").split(";") if t]
                    yield row
        elif suf == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(p).iter_batches():
                yield from batch.to_pylist()
        else:
            raise UsageError(f"{p}: scored input must be .jsonl, .csv or .parquet")


@dataclass
class TrendResult:
    """Trend rows plus what was left out and why."""

    rows: list[dict[str, Any]]
    n_input: int = 0
    n_undated: int = 0
    n_duplicates: int = 0
    n_bad: int = 0
    columns: list[str] = field(default_factory=list)


def _row_probs(r: Mapping[str, Any]) -> np.ndarray | None:
    try:
        v = np.array([float(r[c]) for c in _P])
    except (KeyError, TypeError, ValueError):
        return None
    if not np.isfinite(v).all():
        return None
    return v / v.sum() if v.sum() > 0 else None


def aggregate_trends(
    rows: Iterable[Mapping[str, Any]],
    config: TrendsConfig | None = None,
    *,
    stats: ValidationStats | None = None,
) -> TrendResult:
    """Aggregate scored rows into tidy trend rows (one per period × group).

    Rows without a date are counted in ``n_undated``; rows with an id seen before or a
    ``duplicate_of`` are counted once (``n_duplicates``).
    """
    cfg = config or TrendsConfig()
    tz = ZoneInfo(cfg.timezone)
    groups: dict[tuple[str, ...], list[np.ndarray]] = defaultdict(list)
    res = TrendResult(rows=[])
    seen: set[str] = set()
    for r in rows:
        res.n_input += 1
        rid = str(r.get("id"))
        if rid in seen or r.get("duplicate_of"):
            res.n_duplicates += 1
            continue
        seen.add(rid)
        p = _row_probs(r)
        if p is None:
            res.n_bad += 1
            continue
        ts = r.get("published_at")
        if not ts:
            res.n_undated += 1
            continue
        try:
            dt = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
        except ValueError:
            res.n_undated += 1
            continue
        per = period_start(dt, cfg.period, tz)
        keys_by: list[list[str]] = []
        for b in cfg.by:
            if b == "topic":
                tl = r.get("topics") or []
                if isinstance(tl, str):
                    tl = [t for t in tl.split(";") if t]
                keys_by.append(list(tl) or ["(none)"])
            else:
                keys_by.append([str(r.get(b) or "und")])
        combos: list[tuple[str, ...]] = [(per,)]
        for ks in keys_by:
            combos = [c + (k,) for c in combos for k in ks]
        for c in combos:
            groups[c].append(p)
    rng = np.random.default_rng(cfg.seed)
    alpha = (1 - cfg.level) / 2
    for key in sorted(groups):
        P = np.vstack(groups[key])
        n = len(P)
        pi = estimate_shares(P, cfg.estimator, stats)
        shares, fi = _relevant_shares(pi)
        reps_s = np.empty((cfg.bootstrap, 3))
        reps_f = np.empty(cfg.bootstrap)
        for b in range(cfg.bootstrap):
            w = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
            st = stats.resample(rng) if (stats is not None and cfg.estimator in ("acc", "pacc")) else stats
            s_b, f_b = _relevant_shares(estimate_shares(P, cfg.estimator, st, weights=w))
            reps_s[b], reps_f[b] = s_b, f_b
        row: dict[str, Any] = {"period": key[0]}
        for b, k in zip(cfg.by, key[1:], strict=True):
            row[b] = k
        row["n_articles"] = n
        row["n_relevant"] = int((P.argmax(axis=1) != STANCES.index("off_topic")).sum())
        for i, s in enumerate(_REL):
            col = reps_s[:, i][np.isfinite(reps_s[:, i])]
            row[f"share_{s}"] = float(shares[i])
            row[f"share_{s}_lo"] = float(np.quantile(col, alpha)) if len(col) else np.nan
            row[f"share_{s}_hi"] = float(np.quantile(col, 1 - alpha)) if len(col) else np.nan
        fcol = reps_f[np.isfinite(reps_f)]
        row["framing_index"] = fi
        row["framing_index_lo"] = float(np.quantile(fcol, alpha)) if len(fcol) else np.nan
        row["framing_index_hi"] = float(np.quantile(fcol, 1 - alpha)) if len(fcol) else np.nan
        row["estimator"] = cfg.estimator
        res.rows.append(row)
    res.columns = ["period", *cfg.by, *TREND_COLUMNS[1:]]
    return res


def trend_columns(by: Sequence[str]) -> list[str]:
    """CSV column order for the given group columns."""
    return ["period", *by, *TREND_COLUMNS[1:]]
