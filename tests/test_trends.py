import numpy as np
import pytest

from mediamon.config import TrendsConfig
from mediamon.records import STANCES
from mediamon.trends import ValidationStats, aggregate_trends, estimate_shares, period_start


def _row(i: int, stance: int, date: str, lang: str = "en", conf: float = 0.7, **kw):  # type: ignore[no-untyped-def]
    p = np.full(4, (1 - conf) / 3)
    p[stance] = conf
    return {"id": f"x{i}", "published_at": date, "lang": lang, **{f"p_{s}": p[k] for k, s in enumerate(STANCES)}, **kw}


def test_trends_periods_in_timezone() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Almaty")
    dt = datetime.fromisoformat("2024-03-31T20:00:00+00:00")  # already April 1st in Almaty
    assert period_start(dt, "month", tz) == "2024-04-01"
    assert period_start(dt, "quarter", tz) == "2024-04-01"
    assert period_start(dt, "week", tz) == "2024-04-01"
    assert period_start(dt, "year", tz) == "2024-01-01"


def test_trends_shares_sum_to_one_and_intervals_bracket() -> None:
    rows = [_row(i, i % 3, "2023-01-15T00:00:00Z") for i in range(30)]
    res = aggregate_trends(rows, TrendsConfig(period="month", bootstrap=100))
    (r,) = res.rows
    tot = r["share_multi_vector"] + r["share_russian_orbit"] + r["share_neutral"]
    assert abs(tot - 1) < 1e-9
    for s in ("multi_vector", "russian_orbit", "neutral"):
        assert r[f"share_{s}_lo"] <= r[f"share_{s}"] <= r[f"share_{s}_hi"]
    assert -1 <= r["framing_index_lo"] <= r["framing_index"] <= r["framing_index_hi"] <= 1
    assert r["n_articles"] == 30 and r["n_relevant"] == 30


def test_trends_undated_and_duplicates_counted_not_used() -> None:
    rows = [_row(1, 0, "2023-01-01T00:00:00Z"), _row(1, 1, "2023-01-01T00:00:00Z"), _row(2, 1, ""),
            _row(3, 1, "2023-01-02T00:00:00Z", duplicate_of="x1")]
    res = aggregate_trends(rows, TrendsConfig(bootstrap=50))
    assert res.n_undated == 1 and res.n_duplicates == 2 and res.rows[0]["n_articles"] == 1


def test_trends_group_by_lang() -> None:
    rows = [_row(i, 0, "2023-01-01T00:00:00Z", lang="kk" if i % 2 else "ru") for i in range(10)]
    res = aggregate_trends(rows, TrendsConfig(by=["lang"], bootstrap=50))
    assert [r["lang"] for r in res.rows] == ["kk", "ru"]
    assert res.columns[:2] == ["period", "lang"]


def test_trends_acc_corrects_known_confusion() -> None:
    # classifier calls 30% of true russian_orbit "neutral"; true mix 50/50 mv/ro
    conf = np.array([[90, 0, 10, 0], [0, 70, 30, 0], [5, 5, 90, 0], [0, 0, 0, 100]], dtype=float)
    stats = ValidationStats(conf, conf / conf.sum(1, keepdims=True))
    rng = np.random.default_rng(1)
    true = np.array([0] * 500 + [1] * 500)
    C = stats.conditional()
    pred = np.array([rng.choice(4, p=C[t]) for t in true])
    probs = np.eye(4)[pred]
    cc = estimate_shares(probs, "cc")
    acc = estimate_shares(probs, "acc", stats)
    assert abs(cc[1] - 0.5) > 0.1
    assert abs(acc[1] - 0.5) < 0.05 and abs(acc[0] - 0.5) < 0.05
    assert abs(acc.sum() - 1) < 1e-9 and (acc >= 0).all()


def test_trends_acc_needs_stats() -> None:
    from mediamon.errors import UsageError

    with pytest.raises(UsageError):
        estimate_shares(np.eye(4), "acc", None)
