import csv
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mediamon.cli import app
from mediamon.config import TrendsConfig
from mediamon.errors import UsageError
from mediamon.records import STANCES
from mediamon.trends import (
    ValidationStats,
    aggregate_trends,
    bootstrap_shares,
    detect_changepoints,
    estimate_shares,
    period_start,
    simplex_lstsq,
    trend_columns,
)

REPO = Path(__file__).resolve().parents[1]
CONF = np.array([[90, 0, 10, 0], [0, 70, 30, 0], [5, 5, 90, 0], [0, 0, 0, 100]], dtype=float)
STATS = ValidationStats(CONF, CONF / CONF.sum(1, keepdims=True))


def _row(i: int, stance: int, date: str, lang: str = "en", conf: float = 0.7, **kw):  # type: ignore[no-untyped-def]
    p = np.full(4, (1 - conf) / 3)
    p[stance] = conf
    return {"id": f"x{i}", "published_at": date, "lang": lang, **{f"p_{s}": p[k] for k, s in enumerate(STANCES)}, **kw}


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("trend_fidelity", REPO / "benchmarks" / "trend_fidelity.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["trend_fidelity"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_trends_periods_in_timezone() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Almaty")
    dt = datetime.fromisoformat("2024-03-31T20:00:00+00:00")  # already April 1st in Almaty
    assert period_start(dt, "month", tz) == "2024-04-01"
    assert period_start(dt, "quarter", tz) == "2024-04-01"
    assert period_start(dt, "week", tz) == "2024-04-01"
    assert period_start(dt, "year", tz) == "2024-01-01"
    assert period_start(dt, "day", ZoneInfo("UTC")) == "2024-03-31"
    assert period_start(datetime(2024, 3, 31, 20), "day", tz) == "2024-04-01"  # naive = UTC


@pytest.mark.parametrize("estimator", ["cc", "pcc", "acc", "pacc"])
def test_trends_shares_sum_to_one_and_intervals_bracket(estimator: str) -> None:
    rows = [_row(i, i % 4, "2023-01-15T00:00:00Z") for i in range(40)]
    res = aggregate_trends(rows, TrendsConfig(period="month", bootstrap=100, estimator=estimator), stats=STATS)  # type: ignore[arg-type]
    (r,) = res.rows
    assert list(r) == res.columns == trend_columns([])
    tot = r["share_multi_vector"] + r["share_russian_orbit"] + r["share_neutral"]
    assert abs(tot - 1) < 1e-9
    for s in ("multi_vector", "russian_orbit", "neutral", "off_topic"):
        assert 0 <= r[f"share_{s}_lo"] <= r[f"share_{s}"] <= r[f"share_{s}_hi"] <= 1
    assert -1 <= r["framing_index_lo"] <= r["framing_index"] <= r["framing_index_hi"] <= 1
    assert r["n_articles"] == 40 and r["n_relevant"] == 30 and r["estimator"] == estimator and r["level"] == 0.9


def test_trends_undated_and_duplicates_counted_not_used() -> None:
    rows = [_row(1, 0, "2023-01-01T00:00:00Z"), _row(1, 1, "2023-01-01T00:00:00Z"), _row(2, 1, ""),
            _row(3, 1, "2023-01-02T00:00:00Z", duplicate_of="x1"), _row(4, 1, "not a date"),
            {**_row(5, 2, "2023-01-03T00:00:00Z"), "id": None}, {**_row(6, 2, "2023-01-03T00:00:00Z"), "id": None},
            {**_row(7, 2, "2023-01-03T00:00:00Z"), "p_neutral": "x"}]
    res = aggregate_trends(rows, TrendsConfig(bootstrap=50, estimator="pcc", changepoints=False))
    assert (res.n_input, res.n_undated, res.n_duplicates, res.n_near_duplicates, res.n_bad) == (8, 2, 1, 1, 1)
    assert res.rows[0]["n_articles"] == 3  # x1 once + two id-less articles (not merged)


def test_trends_group_by_lang_and_topic() -> None:
    rows = [_row(i, 0, "2023-01-01T00:00:00Z", lang="kk" if i % 2 else "ru", topics=["energy", "trade"] if i < 4 else [])
            for i in range(10)]
    res = aggregate_trends(rows, TrendsConfig(by=["lang", "topic"], bootstrap=50, estimator="cc"))
    assert res.columns[:3] == ["period", "lang", "topic"]
    got = {(r["lang"], r["topic"]): r["n_articles"] for r in res.rows}
    assert got == {("kk", "(none)"): 3, ("kk", "energy"): 2, ("kk", "trade"): 2,
                   ("ru", "(none)"): 3, ("ru", "energy"): 2, ("ru", "trade"): 2}
    assert res.lang_counts[("2023-01-01", "kk", "energy")] == {"kk": 2}


def test_trends_acc_and_pacc_correct_known_confusion() -> None:
    # classifier calls 30% of true russian_orbit "neutral"; true mix 50/50 mv/ro
    rng = np.random.default_rng(1)
    true = np.array([0] * 500 + [1] * 500)
    C = STATS.conditional()
    pred = np.array([rng.choice(4, p=C[t]) for t in true])
    probs = np.eye(4)[pred]
    cc = estimate_shares(probs, "cc")
    assert abs(cc[1] - 0.5) > 0.1
    for est in ("acc", "pacc"):
        pi = estimate_shares(probs, est, STATS)
        assert abs(pi[1] - 0.5) < 0.05 and abs(pi[0] - 0.5) < 0.05
        assert abs(pi.sum() - 1) < 1e-9 and (pi >= 0).all()


def test_trends_acc_needs_stats() -> None:
    with pytest.raises(UsageError):
        estimate_shares(np.eye(4), "acc", None)
    with pytest.raises(UsageError):
        aggregate_trends([], TrendsConfig(estimator="pacc"))
    with pytest.raises(UsageError):
        ValidationStats.from_meta({"validation": {}})


def test_simplex_lstsq_matches_reference_solver() -> None:
    from scipy.optimize import nnls

    rng = np.random.default_rng(3)
    A = 0.6 * np.eye(4) + 0.4 * rng.dirichlet(np.ones(4), size=4)
    Q = rng.dirichlet(np.full(4, 0.3), size=300)  # many solutions on the boundary
    got = simplex_lstsq(A, Q)
    for q, pi in zip(Q, got, strict=True):
        ref, _ = nnls(np.vstack([A.T, 1e4 * np.ones((1, 4))]), np.r_[q, 1e4])
        assert np.abs(ref / ref.sum() - pi).max() < 1e-6
    assert (got >= 0).all() and np.allclose(got.sum(axis=1), 1)


def test_bootstrap_many_groups_is_fast_and_valid() -> None:
    rng = np.random.default_rng(0)
    G, n = 3000, 8
    P = rng.dirichlet(np.ones(4), size=G * n)
    t = time.perf_counter()
    point, reps = bootstrap_shares(P, np.repeat(np.arange(G), n), G, "pacc", STATS, replicates=100, rng=rng)
    assert time.perf_counter() - t < 10
    assert reps.shape == (100, G, 4) and np.allclose(reps.sum(axis=2), 1) and (reps >= 0).all()
    assert np.allclose(point.sum(axis=1), 1)


def test_validation_uncertainty_widens_corrected_intervals() -> None:
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(4), size=2000)
    g = np.zeros(2000, dtype=int)
    small = ValidationStats(CONF / 10, STATS.mean_probs)  # the same matrix from 10x fewer articles
    w = {}
    for name, st in (("big", STATS), ("small", small)):
        _, reps = bootstrap_shares(probs, g, 1, "acc", st, replicates=300, rng=np.random.default_rng(0))
        w[name] = np.quantile(reps[:, 0, 1], 0.95) - np.quantile(reps[:, 0, 1], 0.05)
    assert w["small"] > 1.3 * w["big"]


def test_simulation_meets_the_bar() -> None:
    """Known shares through an imperfect classifier: pacc covers and beats counting."""
    tf = _bench()
    clf = next(c for c in tf.classifiers() if c.name == "imperfect")
    res = tf.run(reps=3, periods=5, bootstrap=200, n_val=1000, seed=7, sizes=(30, 300), clfs=[clf],
                 estimators=("cc", "pacc"))
    cell = {(r["estimator"], r["size"]): r for r in res}
    for n in (30, 300):
        assert cell[("pacc", n)]["coverage"] >= 0.85, cell[("pacc", n)]
    assert cell[("pacc", 300)]["mae"] < cell[("cc", 300)]["mae"]
    assert cell[("cc", 300)]["coverage"] < 0.75  # counting's intervals miss: bias, not noise


def test_changepoints_find_a_jump_and_not_noise() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for t in range(16):
        fi = (0.5 if t >= 9 else -0.3) + rng.normal(0, 0.05)
        rows.append({"period": f"2023-{1 + t // 4:02d}-{1 + 7 * (t % 4):02d}", "lang": "ru", "framing_index": fi,
                     "framing_index_lo": fi - 0.1, "framing_index_hi": fi + 0.1})
        flat = rng.normal(0.1, 0.06)
        rows.append({"period": rows[-1]["period"], "lang": "kk", "framing_index": flat,
                     "framing_index_lo": flat - 0.1, "framing_index_hi": flat + 0.1})
    cps = detect_changepoints(rows, ["lang"])
    assert [c["lang"] for c in cps] == ["ru"]
    (c,) = cps
    assert c["period"] == rows[18]["period"] and c["direction"] == "up" and abs(c["size"] - 0.8) < 0.1
    assert c["p_adjusted"] < 1e-6 and c["p_value"] <= c["p_adjusted"]


def test_smoothing_columns_weighted_rolling() -> None:
    rows = [_row(i, 0 if i < 10 else 1, f"2023-0{1 + i // 10}-05T00:00:00Z") for i in range(30)]
    res = aggregate_trends(rows, TrendsConfig(bootstrap=50, estimator="cc", smoothing="rolling", window=2))
    assert res.columns[-1] == "framing_index_smooth"
    r1, r2, r3 = res.rows
    assert r1["framing_index_smooth"] == r1["framing_index"] == 1.0
    assert abs(r2["framing_index_smooth"] - 0.0) < 1e-9  # mean of +1 and -1, equal weights
    assert r3["framing_index_smooth"] == -1.0
    ewm = aggregate_trends(rows, TrendsConfig(bootstrap=50, estimator="cc", smoothing="ewm", window=3))
    assert -1 < ewm.rows[2]["framing_index_smooth"] < ewm.rows[1]["framing_index_smooth"] < 1


def test_cli_trends_writes_safe_csvs_and_plot(tmp_path: Path) -> None:
    scored = tmp_path / "s.jsonl"
    rows = [_row(i, i % 4 if i < 60 else (0 if i % 2 else 3), f"2023-{1 + i // 10:02d}-10T00:00:00Z",
                 lang="kk" if i % 3 else "ru", source="=HYPERLINK(1)" if i % 2 else "tengri", topics=["energy"])
            for i in range(120)]
    rows.append(_row(999, 0, None))  # type: ignore[arg-type]
    scored.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    mdir = tmp_path / "model"
    mdir.mkdir()
    (mdir / "meta.json").write_text(json.dumps({
        "format": _model_format(), "kind": "tfidf", "files": {}, "name": "m", "version": "1",
        "validation": {"stance": {"confusion": CONF.tolist(), "mean_probs": STATS.mean_probs.tolist()}}}))
    out = tmp_path / "t.csv"
    r = CliRunner().invoke(app, ["trends", str(scored), "-o", str(out), "--by", "source", "-m", str(mdir),
                                 "--plot", str(tmp_path / "t.png"), "--smoothing", "ewm", "--set", "trends.bootstrap=60"])
    assert r.exit_code == 0, r.output
    assert "1 undated" in r.output and "corrected with m@1" in r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert list(table[0])[:4] == ["period", "source", "n_articles", "n_relevant"]
    assert list(table[0])[-1] == "framing_index_smooth" and table[0]["estimator"] == "pacc"
    assert {t["source"] for t in table} == {"'=HYPERLINK(1)", "tengri"}
    cp = tmp_path / "t.changepoints.csv"
    assert cp.read_text(encoding="utf-8-sig").splitlines()[0].startswith("period,source,direction,size")
    assert (tmp_path / "t.png").stat().st_size > 20_000
    again = CliRunner().invoke(app, ["trends", str(scored), "-o", str(out), "-m", str(mdir)])
    assert again.exit_code == 2 and "exists" in again.output


def _model_format() -> object:
    from mediamon.framing import base

    return base.MODEL_FORMAT
