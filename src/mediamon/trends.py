"""Time-bucketed framing shares with error-corrected estimates, intervals and change points.

Estimators (per period and group, over the group's articles):

* ``cc``   — classify and count: shares of hard labels (argmax of the probabilities).
* ``pcc``  — probabilistic classify and count: mean of calibrated probabilities.
* ``acc``  — adjusted classify and count: finds the true prevalence ``π`` on the simplex
  minimising ``‖Cᵀπ − q‖²``, where ``q`` are the hard-label shares and
  ``C[i, j] = P(predicted j | true i)`` comes from the model's out-of-fold validation
  confusion matrix (``meta.json → validation.stance.confusion``).
* ``pacc`` — probabilistic ACC: the same with ``M[i] = E[p | true i]``
  (``validation.stance.mean_probs``) and the mean probability vector ``q``.

``acc`` / ``pacc`` are unbiased under *prior shift* (the mix of stances changes, what an
article of a given stance looks like does not); ``cc`` / ``pcc`` are pulled towards the
classifier's errors and towards the validation-set prevalence.

Shares of multi_vector / russian_orbit / neutral are reported over *relevant* articles
(``π_s / (1 − π_off_topic)``).  Intervals are percentile intervals of a Bayesian bootstrap
over articles (Dirichlet article weights, vectorised as Gamma draws, plus a Jeffreys
pseudo-count of ½ article per class so that small periods do not get zero-width
intervals); for ``acc`` / ``pacc`` every replicate also redraws the validation statistics
(Dirichlet posterior of each confusion row / mean-probability row), so the interval carries
the classifier's own estimation error.  See ``docs/trends.md``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from scipy.stats import norm

from .config import TrendsConfig
from .errors import InputError, UsageError
from .records import STANCES

__all__ = [
    "CHANGEPOINT_COLUMNS",
    "ESTIMATORS",
    "TREND_COLUMNS",
    "TrendResult",
    "ValidationStats",
    "aggregate_trends",
    "bootstrap_shares",
    "changepoint_columns",
    "detect_changepoints",
    "estimate_shares",
    "period_start",
    "read_scored",
    "simplex_lstsq",
    "smooth_rows",
    "summarise",
    "trend_columns",
]

ESTIMATORS = ("cc", "pcc", "acc", "pacc")
_K = len(STANCES)
_OFF = STANCES.index("off_topic")
_P = [f"p_{s}" for s in STANCES]
_REL = ("multi_vector", "russian_orbit", "neutral")
TREND_COLUMNS = [
    "period", "n_articles", "n_relevant",
    *(c for s in _REL for c in (f"share_{s}", f"share_{s}_lo", f"share_{s}_hi")),
    "framing_index", "framing_index_lo", "framing_index_hi", "estimator",
]
#: Columns appended after the contract columns (always present, in this order).
EXTRA_COLUMNS = ["share_off_topic", "share_off_topic_lo", "share_off_topic_hi", "level"]
#: Columns appended when smoothing is configured.
SMOOTH_COLUMNS = [*(f"share_{s}_smooth" for s in _REL), "framing_index_smooth"]
CHANGEPOINT_COLUMNS = ["period", "direction", "size", "before", "after", "z", "p_value", "p_adjusted", "method"]
_JEFFREYS = 0.5
_BLOCK = 400_000  # replicate × group cells per vectorised block
_CHUNK = 2_000_000  # replicate × article cells per weight matrix


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class ValidationStats:
    """A model's held-out confusion statistics (rows true, columns predicted).

    Attributes:
        confusion: Counts, ``confusion[i, j]`` = validation articles of true class ``i``
            predicted as ``j``.
        mean_probs: ``mean_probs[i]`` = mean probability vector of validation articles of
            true class ``i``.
    """

    confusion: np.ndarray
    mean_probs: np.ndarray

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> ValidationStats:
        """Read ``validation.stance`` from a model's ``meta.json`` contents.

        Raises:
            UsageError: the metadata has no (or malformed) validation statistics.
        """
        try:
            v = meta["validation"]["stance"]
            st = cls(np.asarray(v["confusion"], dtype=float), np.asarray(v["mean_probs"], dtype=float))
        except (KeyError, TypeError, ValueError) as e:
            raise UsageError(f"model metadata has no validation.stance statistics ({e}); retrain the model") from None
        if st.confusion.shape != (_K, _K) or st.mean_probs.shape != (_K, _K):
            raise UsageError(f"model validation statistics must be {_K}x{_K} (labels {', '.join(STANCES)})")
        return st

    @classmethod
    def from_predictions(cls, y: np.ndarray, probs: np.ndarray) -> ValidationStats:
        """Statistics from held-out true labels ``y`` (n,) and probabilities (n, 4)."""
        pred = probs.argmax(axis=1)
        conf = np.zeros((_K, _K))
        np.add.at(conf, (y, pred), 1.0)
        mp = np.zeros((_K, _K))
        for c in range(_K):
            m = y == c
            mp[c] = probs[m].mean(axis=0) if m.any() else np.eye(_K)[c]
        return cls(conf, mp)

    @property
    def row_counts(self) -> np.ndarray:
        """Validation articles per true class."""
        return np.asarray(self.confusion.sum(axis=1))

    def conditional(self) -> np.ndarray:
        """Row-normalised confusion: ``P(pred j | true i)`` (identity rows for unseen classes)."""
        rows = self.confusion.sum(axis=1, keepdims=True)
        return np.divide(self.confusion, rows, out=np.eye(len(rows)), where=rows > 0)

    def matrix(self, estimator: str) -> np.ndarray:
        """The misclassification matrix the estimator corrects with (``acc``: C, ``pacc``: M)."""
        if estimator == "acc":
            return self.conditional()
        n = self.row_counts[:, None]
        return np.where(n > 0, self.mean_probs, np.eye(_K))

    def resample(self, rng: np.random.Generator) -> ValidationStats:
        """One posterior draw of both matrices (see :meth:`draw_matrices`)."""
        c = self.draw_matrices("acc", 1, rng)[0] * self.row_counts[:, None]
        m = self.draw_matrices("pacc", 1, rng)[0]
        return ValidationStats(c, m)

    def draw_matrices(self, estimator: str, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` draws of the correction matrix reflecting the validation-set size.

        ``acc``: each confusion row ~ Dirichlet(counts + ½) (Jeffreys posterior of a
        multinomial row).  ``pacc``: each mean-probability row ~ Dirichlet(n_i · m_i + ½);
        its variance ``m(1 − m)/(n_i + …)`` is the largest a mean of ``n_i`` probability
        vectors can have, so this errs on the wide side.  Classes absent from validation
        keep an identity row.

        Returns:
            Array (size, 4, 4).
        """
        n = self.row_counts
        base = self.matrix(estimator)
        out = np.broadcast_to(base, (size, _K, _K)).copy()
        for i in range(_K):
            if n[i] <= 0:
                continue
            alpha = self.confusion[i] + _JEFFREYS if estimator == "acc" else base[i] * n[i] + _JEFFREYS
            g = rng.standard_gamma(alpha, size=(size, _K))
            out[:, i, :] = g / g.sum(axis=1, keepdims=True)
        return out


def _supports(k: int) -> list[np.ndarray]:
    return [np.isin(np.arange(k), c) for r in range(1, k + 1) for c in combinations(range(k), r)]


def _kkt_inverse(H: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Rows of the inverse KKT matrix giving π on one face of the simplex (R, k, k+1).

    For ``min πᵀHπ − 2πᵀc`` with ``Σπ = 1`` and ``π_j = 0`` off the support, ``π`` is these
    rows times ``[2c; 1]``.
    """
    R, k, _ = H.shape
    sf = support.astype(float)
    M = np.zeros((R, k + 1, k + 1))
    M[:, :k, :k] = 2 * H * np.outer(sf, sf) + np.diag(1.0 - sf)
    M[:, :k, k] = sf
    M[:, k, :k] = sf
    try:
        Minv = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        Minv = np.linalg.pinv(M)
    # zeroing the right-hand side of excluded coordinates == zeroing those columns
    return np.asarray(Minv[:, :k, :] * np.r_[sf, 1.0])


def simplex_lstsq(A: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Vectorised ``argmin_π ‖Aᵀπ − q‖²`` subject to ``π ≥ 0, Σπ = 1``.

    Exact for small ``k`` (four stances): the optimum of the convex problem is the best
    feasible solution among the equality-constrained least-squares solutions on each of
    the ``2^k − 1`` faces of the simplex (each a closed-form KKT solve).

    Args:
        A: Correction matrices (R, k, k), or one (k, k) for all.
        Q: Observed (mean) prediction vectors (R, G, k) — or (G, k) with a single ``A``.

    Returns:
        Prevalence estimates with the shape of ``Q``.
    """
    single = A.ndim == 2
    if single:
        A = A[None]
        Q = Q[None]
    R, G, k = Q.shape
    H = A @ np.swapaxes(A, 1, 2) + 1e-10 * np.eye(k)  # (R, k, k)
    c = Q @ np.swapaxes(A, 1, 2)  # rows (A q)ᵀ: (R, G, k)
    rhs = np.concatenate([2 * c, np.ones((R, G, 1))], axis=2)
    sups = _supports(k)
    minvs = [_kkt_inverse(H, s) for s in sups]
    # the full support first: most cells are interior and need nothing else
    best = rhs @ np.swapaxes(minvs[-1], 1, 2)
    bad_r, bad_g = np.nonzero((best < -1e-9).any(axis=2))
    if len(bad_r):
        cb, rb, qb = c[bad_r, bad_g], rhs[bad_r, bad_g], Q[bad_r, bad_g]
        Hb = H[bad_r]
        qq = (qb * qb).sum(axis=1)
        sol = np.zeros_like(qb)
        sol_f = np.full(len(qb), np.inf)
        for Minv in minvs[:-1]:
            pi = np.einsum("mij,mj->mi", Minv[bad_r], rb)
            ok = (pi >= -1e-9).all(axis=1)
            f = np.einsum("mi,mij,mj->m", pi, Hb, pi) - 2 * (pi * cb).sum(axis=1) + qq
            better = ok & (f < sol_f - 1e-12)
            sol[better] = pi[better]
            sol_f[better] = f[better]
        best[bad_r, bad_g] = sol
    best = np.clip(best, 0.0, None)
    best /= best.sum(axis=2, keepdims=True)
    return best[0] if single else best


def estimate_shares(
    probs: np.ndarray, estimator: str, stats: ValidationStats | None = None, *, weights: np.ndarray | None = None
) -> np.ndarray:
    """Four-class prevalence of one group of articles.

    Args:
        probs: Calibrated stance probabilities (n, 4).
        estimator: ``cc``, ``pcc``, ``acc`` or ``pacc``.
        stats: Validation statistics (needed for ``acc`` / ``pacc``).
        weights: Optional article weights.

    Returns:
        Prevalence vector (4,), non-negative, summing to 1 (NaN for an empty group).

    Raises:
        UsageError: unknown estimator, or ``acc`` / ``pacc`` without statistics.
    """
    _check_estimator(estimator, stats)
    n = probs.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    tot = w.sum()
    if tot <= 0:
        return np.full(_K, np.nan)
    q = (w @ _features(probs, estimator)) / tot
    if estimator in ("cc", "pcc"):
        return np.asarray(q)
    assert stats is not None
    return simplex_lstsq(stats.matrix(estimator), q[None])[0]


def _check_estimator(estimator: str, stats: ValidationStats | None) -> None:
    if estimator not in ESTIMATORS:
        raise UsageError(f"unknown estimator {estimator!r} ({', '.join(ESTIMATORS)})")
    if estimator in ("acc", "pacc") and stats is None:
        raise UsageError(f"estimator {estimator} needs the model's validation statistics (--model)")


def _features(probs: np.ndarray, estimator: str) -> np.ndarray:
    """What is averaged: one-hot argmax labels (cc/acc) or the probabilities (pcc/pacc)."""
    if estimator in ("cc", "acc"):
        return np.eye(probs.shape[1])[probs.argmax(axis=1)]
    return probs


def _relevant(pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares over relevant articles (..., 3) and the framing index (...) from prevalences (..., 4)."""
    rel = pi[..., :3]
    s = rel.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(s > 1e-12, rel / np.where(s > 0, s, 1.0), np.nan)
        mv, ro = shares[..., 0], shares[..., 1]
        d = mv + ro
        fi = np.where(d > 1e-12, (mv - ro) / np.where(d > 0, d, 1.0), np.nan)
    return shares, fi


def bootstrap_shares(
    probs: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    estimator: str,
    stats: ValidationStats | None = None,
    *,
    replicates: int = 500,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimates and bootstrap replicates of the prevalence of many groups at once.

    Args:
        probs: Probabilities (M, 4), rows sorted by ``group``.
        group: Group index of each row (M,), non-decreasing, in ``[0, n_groups)``.
        n_groups: Number of groups.
        estimator: ``cc``, ``pcc``, ``acc`` or ``pacc``.
        stats: Validation statistics (``acc`` / ``pacc``).
        replicates: Bootstrap replicates ``B``.
        rng: Random generator.

    Returns:
        ``(point, reps)``: prevalences (G, 4) and replicates (B, G, 4), computed in blocks;
        for very many groups prefer :func:`_iter_blocks` via :func:`aggregate_trends`.
    """
    point = np.empty((n_groups, _K))
    reps = np.empty((replicates, n_groups, _K))
    for g0, g1, pt, rp in _iter_blocks(probs, group, n_groups, estimator, stats, replicates, rng or np.random.default_rng()):
        point[g0:g1], reps[:, g0:g1] = pt, rp
    return point, reps


def _iter_blocks(
    probs: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    estimator: str,
    stats: ValidationStats | None,
    B: int,
    rng: np.random.Generator,
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Yield ``(g0, g1, point (g, 4), replicates (B, g, 4))`` for consecutive group blocks."""
    _check_estimator(estimator, stats)
    X = _features(probs, estimator)
    bounds = np.searchsorted(group, np.arange(n_groups + 1))
    sums = np.add.reduceat(X, bounds[:-1], axis=0) if len(X) else np.zeros((0, _K))
    counts = np.diff(bounds).astype(float)
    sums[counts == 0] = 0.0
    q_point = sums / np.maximum(counts, 1)[:, None]
    mats = None
    if estimator in ("acc", "pacc"):
        assert stats is not None
        mats = stats.draw_matrices(estimator, B, rng)
    hard = estimator in ("cc", "acc")
    gblock = max(1, _BLOCK // B)
    for g0 in range(0, n_groups, gblock):
        g1 = min(n_groups, g0 + gblock)
        g = g1 - g0
        if hard:
            # Σ of Gamma(1) weights over the n_c articles of class c is Gamma(n_c): exact and O(B·G·k)
            S = rng.standard_gamma(sums[g0:g1][None] + _JEFFREYS, size=(B, g, _K))
            tot = S.sum(axis=2, keepdims=True)
        else:
            # Jeffreys pseudo-articles: ½ article of each class, Gamma(½) weights
            S = rng.standard_gamma(_JEFFREYS, size=(B, g, _K))
            tot = S.sum(axis=2, keepdims=True)
            a0, a1 = bounds[g0], bounds[g1]
            step = max(1, _CHUNK // B)
            for s0 in range(a0, a1, step):
                s1 = min(a1, s0 + step)
                W = rng.standard_exponential(size=(B, s1 - s0))  # Gamma(1) article weights
                gid = group[s0:s1] - g0
                starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
                seg = gid[starts]
                if len(starts) <= 64:  # few large groups: one matrix product each
                    for a, b, gg in zip(starts, [*starts[1:], s1 - s0], seg, strict=True):
                        S[:, gg, :] += W[:, a:b] @ X[s0 + a:s0 + b]
                        tot[:, gg, 0] += W[:, a:b].sum(axis=1)
                else:  # many small groups: segment sums
                    S[:, seg, :] += np.add.reduceat(W[:, :, None] * X[None, s0:s1], starts, axis=1)
                    tot[:, seg, 0] += np.add.reduceat(W, starts, axis=1)
        Qb = S / tot
        if mats is None:
            yield g0, g1, q_point[g0:g1], Qb
        else:
            reps = simplex_lstsq(mats, Qb)
            # bagged point estimate: the mean of the replicates smooths the simplex clipping
            # and the sampling noise that the correction amplifies in small periods
            yield g0, g1, reps.mean(axis=0), reps


def summarise(point: np.ndarray, reps: np.ndarray, level: float = 0.9) -> dict[str, np.ndarray]:
    """Relevant shares, framing index and off-topic share with percentile intervals.

    Args:
        point: Prevalence estimates (G, 4).
        reps: Bootstrap replicates (B, G, 4).
        level: Interval level.

    Returns:
        ``shares``/``shares_lo``/``shares_hi`` (G, 3), ``fi``/``fi_lo``/``fi_hi`` (G,),
        ``off``/``off_lo``/``off_hi`` (G,).  Replicates where a quantity is undefined
        (no relevant article, or mv + ro = 0) are left out of its interval.
    """
    alpha = (1 - level) / 2
    sh, fi = _relevant(point)
    sh_b, fi_b = _relevant(reps)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {"shares": sh, "fi": fi, "off": point[:, _OFF]}
        for name, est, rep in (("shares", sh, sh_b), ("fi", fi, fi_b), ("off", point[:, _OFF], reps[..., _OFF])):
            # the interval always contains the point estimate (fmin/fmax ignore NaN)
            out[f"{name}_lo"] = np.fmin(np.nanquantile(rep, alpha, axis=0), est)
            out[f"{name}_hi"] = np.fmax(np.nanquantile(rep, 1 - alpha, axis=0), est)
        return out


# --------------------------------------------------------------------------- periods and input


def period_start(dt: datetime, period: str, tz: ZoneInfo) -> str:
    """ISO date of the start of the period containing ``dt`` in timezone ``tz``.

    Weeks start on Monday (ISO weeks).  A naive ``dt`` is taken as UTC (scored rows carry
    UTC times).
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
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
        raise UsageError(f"unknown period {period!r} (day, week, month, quarter, year)")
    return s.isoformat()


def read_scored(paths: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """Rows of scored files (JSONL, CSV from ``mediamon score``, or Parquet).

    Raises:
        InputError: a missing file or a line that is not JSON.
        UsageError: an unsupported extension.
    """
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
    """Trend rows plus what was left out and why.

    Attributes:
        rows: One dict per period × group, keys in ``columns`` order.
        n_input: Scored rows read.
        n_undated: Rows without a (parseable) date: counted here, not in any period.
        n_duplicates: Rows whose ``id`` was seen before (counted once).
        n_near_duplicates: Rows marked ``duplicate_of`` another article by ``score``.
        n_bad: Rows without usable stance probabilities.
        columns: CSV column order.
        changepoints: Change-point rows (see :func:`detect_changepoints`).
        changepoint_columns: Their column order.
        lang_counts: ``(period, *group) → {lang: articles}`` for the plot.
    """

    rows: list[dict[str, Any]]
    n_input: int = 0
    n_undated: int = 0
    n_duplicates: int = 0
    n_near_duplicates: int = 0
    n_bad: int = 0
    columns: list[str] = field(default_factory=list)
    changepoints: list[dict[str, Any]] = field(default_factory=list)
    changepoint_columns: list[str] = field(default_factory=list)
    lang_counts: dict[tuple[str, ...], dict[str, int]] = field(default_factory=dict)


def _row_probs(r: Mapping[str, Any]) -> np.ndarray | None:
    try:
        v = np.array([float(r[c]) for c in _P])
    except (KeyError, TypeError, ValueError):
        return None
    if not np.isfinite(v).all() or (v < 0).any() or v.sum() <= 0:
        return None
    return np.asarray(v / v.sum())


def _parse_dt(ts: Any) -> datetime | None:
    if isinstance(ts, datetime):
        return ts
    if not ts:
        return None
    try:
        return datetime.fromisoformat(str(ts).strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def trend_columns(by: Sequence[str], smoothing: str = "none") -> list[str]:
    """CSV column order for the given group columns (and smoothing setting)."""
    cols = ["period", *by, *TREND_COLUMNS[1:], *EXTRA_COLUMNS]
    return cols + (SMOOTH_COLUMNS if smoothing != "none" else [])


def changepoint_columns(by: Sequence[str]) -> list[str]:
    """Change-point CSV column order for the given group columns."""
    return ["period", *by, *CHANGEPOINT_COLUMNS[1:]]


def aggregate_trends(
    rows: Iterable[Mapping[str, Any]],
    config: TrendsConfig | None = None,
    *,
    stats: ValidationStats | None = None,
) -> TrendResult:
    """Aggregate scored rows into tidy trend rows (one per period × group).

    Rows without a date are counted in ``n_undated``; a row whose ``id`` was seen before is
    counted once (``n_duplicates``) and rows marked ``duplicate_of`` by ``score`` are left
    out (``n_near_duplicates``).  With ``--by topic`` an article counts in each of its
    topics (``(none)`` when it has none).

    Args:
        rows: Scored rows (``id``, ``published_at``, ``p_*``, group fields).
        config: Trend settings (period, timezone, by, estimator, level, bootstrap, seed,
            smoothing, window, changepoints).
        stats: The model's validation statistics (required by ``acc`` / ``pacc``).

    Raises:
        UsageError: unknown timezone, or ``acc`` / ``pacc`` without statistics.
    """
    cfg = config or TrendsConfig()
    _check_estimator(cfg.estimator, stats)
    try:
        tz = ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"trends.timezone: unknown timezone {cfg.timezone!r}") from None
    res = TrendResult(rows=[])
    seen: set[str] = set()
    keys: dict[tuple[str, ...], int] = {}
    gids: list[int] = []
    plist: list[np.ndarray] = []
    langs: list[str] = []
    for r in rows:
        res.n_input += 1
        rid = r.get("id")
        if rid not in (None, ""):
            if str(rid) in seen:
                res.n_duplicates += 1
                continue
            seen.add(str(rid))
        if r.get("duplicate_of"):
            res.n_near_duplicates += 1
            continue
        p = _row_probs(r)
        if p is None:
            res.n_bad += 1
            continue
        dt = _parse_dt(r.get("published_at"))
        if dt is None:
            res.n_undated += 1
            continue
        combos: list[tuple[str, ...]] = [(period_start(dt, cfg.period, tz),)]
        for b in cfg.by:
            if b == "topic":
                tl = r.get("topics") or []
                if isinstance(tl, str):
                    tl = [t for t in tl.replace(",", ";").split(";") if t.strip()] if not tl.startswith("[") else json.loads(tl)
                ks = sorted({str(t).strip() for t in tl}) or ["(none)"]
            else:
                ks = [str(r.get(b) or "und")]
            combos = [c + (k,) for c in combos for k in ks]
        lang = str(r.get("lang") or "und")
        for c in combos:
            gids.append(keys.setdefault(c, len(keys)))
            plist.append(p)
            langs.append(lang)
    ordered = sorted(keys)
    remap = np.empty(len(keys), dtype=int)
    for new, k in enumerate(ordered):
        remap[keys[k]] = new
    gid = remap[np.asarray(gids, dtype=int)] if gids else np.zeros(0, dtype=int)
    order = np.argsort(gid, kind="stable")
    gid = gid[order]
    P = np.vstack(plist)[order] if plist else np.zeros((0, _K))
    lang_arr = np.asarray(langs, dtype=object)[order] if langs else np.zeros(0, dtype=object)
    G = len(ordered)
    bounds = np.searchsorted(gid, np.arange(G + 1))
    rng = np.random.default_rng(cfg.seed)
    for g0, g1, point, reps in _iter_blocks(P, gid, G, cfg.estimator, stats, cfg.bootstrap, rng):
        sm = summarise(point, reps, cfg.level)
        sh, lo_s, hi_s = sm["shares"], sm["shares_lo"], sm["shares_hi"]
        fi, lo_f, hi_f = sm["fi"], sm["fi_lo"], sm["fi_hi"]
        lo_o, hi_o = sm["off_lo"], sm["off_hi"]
        for j in range(g1 - g0):
            gi = g0 + j
            key = ordered[gi]
            a, b = bounds[gi], bounds[gi + 1]
            row: dict[str, Any] = {"period": key[0]}
            for col, kv in zip(cfg.by, key[1:], strict=True):
                row[col] = kv
            row["n_articles"] = int(b - a)
            row["n_relevant"] = int((P[a:b].argmax(axis=1) != _OFF).sum())
            for i, s in enumerate(_REL):
                row[f"share_{s}"], row[f"share_{s}_lo"], row[f"share_{s}_hi"] = _bracket(
                    sh[j, i], lo_s[j, i], hi_s[j, i])
            row["framing_index"], row["framing_index_lo"], row["framing_index_hi"] = _bracket(fi[j], lo_f[j], hi_f[j])
            row["estimator"] = cfg.estimator
            row["share_off_topic"], row["share_off_topic_lo"], row["share_off_topic_hi"] = _bracket(
                point[j, _OFF], lo_o[j], hi_o[j])
            row["level"] = cfg.level
            res.rows.append(row)
            ls: dict[str, int] = {}
            for lg in lang_arr[a:b]:
                ls[lg] = ls.get(lg, 0) + 1
            res.lang_counts[key] = dict(sorted(ls.items()))
    if cfg.smoothing != "none":
        smooth_rows(res.rows, cfg.by, method=cfg.smoothing, window=cfg.window)
    res.columns = trend_columns(cfg.by, cfg.smoothing)
    res.changepoint_columns = changepoint_columns(cfg.by)
    if cfg.changepoints:
        res.changepoints = detect_changepoints(res.rows, cfg.by, level=cfg.level)
    return res


def _bracket(est: float, lo: float, hi: float) -> tuple[float, float, float]:
    """(estimate, lo, hi) as floats with ``lo ≤ estimate ≤ hi`` (NaN stays NaN)."""
    e, lo_, hi_ = float(est), float(lo), float(hi)
    if math.isfinite(e):
        lo_ = min(lo_, e) if math.isfinite(lo_) else e
        hi_ = max(hi_, e) if math.isfinite(hi_) else e
    return e, lo_, hi_


# --------------------------------------------------------------------------- smoothing


def _by_group(rows: Sequence[dict[str, Any]], by: Sequence[str]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(tuple(str(r.get(b)) for b in by), []).append(r)
    for rs in out.values():
        rs.sort(key=lambda r: str(r["period"]))
    return out


def smooth_rows(rows: Sequence[dict[str, Any]], by: Sequence[str], *, method: str = "rolling", window: int = 3) -> None:
    """Add ``*_smooth`` columns in place: trailing smoothing per group, weighted by ``n_relevant``.

    ``rolling``: weighted mean of the last ``window`` periods that have articles.
    ``ewm``: exponentially weighted mean with span ``window`` (decay ``1 − 2/(window+1)``
    per period row).  Weights are ``n_relevant`` so a 12-article month moves the curve
    less than a 1,200-article one.  Smoothed values have no interval of their own.
    """
    if method not in ("rolling", "ewm"):
        raise UsageError(f"unknown smoothing {method!r} (none, rolling, ewm)")
    cols = [*(f"share_{s}" for s in _REL), "framing_index"]
    lam = 1 - 2 / (window + 1)
    for rs in _by_group(rows, by).values():
        Y = np.array([[float(r[c]) for c in cols] for r in rs])
        w = np.array([max(float(r["n_relevant"]), 0.5) for r in rs])
        ok = np.isfinite(Y)
        Yz = np.where(ok, Y, 0.0)
        for t, r in enumerate(rs):
            if method == "rolling":
                lo = max(0, t - window + 1)
                ww = np.broadcast_to(w[lo:t + 1, None], (t + 1 - lo, len(cols))) * ok[lo:t + 1]
                num, den = (ww * Yz[lo:t + 1]).sum(0), ww.sum(0)
            else:
                d = lam ** (t - np.arange(t + 1))
                ww = (d * w[: t + 1])[:, None] * ok[: t + 1]
                num, den = (ww * Yz[: t + 1]).sum(0), ww.sum(0)
            for c, nu, de in zip(cols, num, den, strict=True):
                r[f"{c}_smooth"] = float(nu / de) if de > 0 else float("nan")


# --------------------------------------------------------------------------- change points


def detect_changepoints(
    rows: Sequence[Mapping[str, Any]],
    by: Sequence[str],
    *,
    level: float = 0.9,
    penalty: float | None = None,
    min_size: int = 2,
) -> list[dict[str, Any]]:
    """Mean shifts in the framing index per group (PELT with a precision-weighted cost).

    Each period's framing index ``y_t`` gets a variance ``s_t²`` from its interval
    (``s_t = (hi − lo) / (2 z)``), inflated by an overdispersion factor
    ``φ = max(1, (MAD of the standardised successive differences / 0.6745)²)`` so that
    ordinary period-to-period variation beyond sampling noise is not reported as change.
    The cost of a segment is ``Σ (y_t − ȳ_w)² / (φ s_t²)`` (a χ² in units of the noise) and
    ``ruptures.Pelt`` minimises cost + penalty × changes, with the BIC-like penalty
    ``2 · ln T`` by default (at least 2 periods per segment).

    Every reported change gets ``z`` = difference of the weighted means of the adjacent
    segments over its standard error, a two-sided ``p_value`` and ``p_adjusted`` =
    ``min(1, p · (T − 1))`` (Bonferroni over the candidate positions, since the location
    was chosen by search: the nominal ``p_value`` is optimistic).

    Args:
        rows: Trend rows with ``period``, the ``by`` columns and framing-index columns.
        by: Group columns.
        level: Level of the rows' intervals.
        penalty: PELT penalty (default ``2 ln T``).
        min_size: Minimum periods per segment.

    Returns:
        Rows with :func:`changepoint_columns` keys, ``period`` = first period after the change.
    """
    import ruptures as rpt

    z_lvl = float(norm.ppf(0.5 + level / 2))
    out: list[dict[str, Any]] = []
    for key, rs in _by_group(list(map(dict, rows)), by).items():
        pts = [(str(r["period"]), float(r["framing_index"]),
                (float(r["framing_index_hi"]) - float(r["framing_index_lo"])) / (2 * z_lvl)) for r in rs]
        pts = [p for p in pts if math.isfinite(p[1]) and math.isfinite(p[2])]
        T = len(pts)
        if T < 2 * min_size:
            continue
        y = np.array([p[1] for p in pts])
        s = np.maximum(np.array([p[2] for p in pts]), 0.01)
        d = np.diff(y) / np.sqrt(s[1:] ** 2 + s[:-1] ** 2)
        mad = float(np.median(np.abs(d - np.median(d)))) / 0.6745 if len(d) >= 3 else 1.0
        phi = max(1.0, mad**2)
        w = 1.0 / (phi * s**2)
        pen = 2.0 * math.log(T) if penalty is None else penalty
        algo = rpt.Pelt(custom_cost=_weighted_cost(), min_size=min_size, jump=1).fit(np.column_stack([y, w]))
        bkps = algo.predict(pen=pen)
        edges = [0, *bkps]
        for i in range(1, len(edges) - 1):
            a, m, b = edges[i - 1], edges[i], edges[i + 1]
            w1, w2 = w[a:m].sum(), w[m:b].sum()
            m1, m2 = float((w[a:m] * y[a:m]).sum() / w1), float((w[m:b] * y[m:b]).sum() / w2)
            zz = (m2 - m1) / math.sqrt(1 / w1 + 1 / w2)
            p = float(2 * norm.sf(abs(zz)))
            row: dict[str, Any] = {"period": pts[m][0]}
            for col, k in zip(by, key, strict=True):
                row[col] = k
            row.update(direction="up" if m2 > m1 else "down", size=m2 - m1, before=m1, after=m2, z=zz,
                       p_value=p, p_adjusted=min(1.0, p * (T - 1)), method=f"pelt-weighted-l2 pen={pen:.2f} phi={phi:.2f}")
            out.append(row)
    return out


def _weighted_cost() -> Any:
    """A ruptures cost: precision-weighted squared deviation from the segment mean.

    The signal has two columns: value ``y`` and weight ``w`` (inverse variance).
    """
    from ruptures.base import BaseCost

    class WeightedMeanCost(BaseCost):  # type: ignore[misc]
        model = "weighted_l2"
        min_size = 2

        def fit(self, signal: np.ndarray) -> WeightedMeanCost:
            self.signal = signal
            y, w = signal[:, 0], signal[:, 1]
            self._cw = np.r_[0.0, np.cumsum(w)]
            self._cwy = np.r_[0.0, np.cumsum(w * y)]
            self._cwy2 = np.r_[0.0, np.cumsum(w * y * y)]
            return self

        def error(self, start: int, end: int) -> float:
            sw = self._cw[end] - self._cw[start]
            swy = self._cwy[end] - self._cwy[start]
            return float(self._cwy2[end] - self._cwy2[start] - swy * swy / sw) if sw > 0 else 0.0

    return WeightedMeanCost()
