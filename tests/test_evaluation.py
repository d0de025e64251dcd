import numpy as np
import pytest

from mediamon.evaluation import compute_metrics, expected_calibration_error, format_report


def test_evaluation_perfect_and_per_language() -> None:
    y = np.array([0, 1, 2, 3, 0, 1])
    p = np.eye(4)[y] * 0.9 + 0.025
    Y = np.zeros((6, 8), dtype=int)
    Y[:, 0] = 1
    r = compute_metrics(y, p, Y, Y.astype(float), langs=["en", "en", "ru", "ru", "kk", "kk"])
    assert r["stance"]["macro_f1"] == 1.0
    assert r["relevance"]["f1_relevant"] == 1.0
    assert r["topics"]["micro_f1"] == 1.0
    assert set(r["per_language"]) == {"en", "ru", "kk"}
    assert r["stance"]["confusion"]["rows_true_cols_pred"][3][3] == 1
    assert "stance macro-F1 1.000" in format_report({**r, "model": "x"})


def test_evaluation_errors_counted() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.eye(4)[[0, 1, 1, 1]]
    r = compute_metrics(y, p, np.zeros((4, 8), int), np.zeros((4, 8)))
    assert r["stance"]["confusion"]["rows_true_cols_pred"][0] == [1, 1, 0, 0]
    assert 0 < r["stance"]["macro_f1"] < 1


def test_evaluation_ece() -> None:
    p = np.array([[0.9, 0.1, 0, 0]] * 10)
    y = np.array([0] * 9 + [1])
    assert abs(expected_calibration_error(p, y)) < 1e-9
    y2 = np.array([0] * 5 + [1] * 5)
    assert abs(expected_calibration_error(p, y2) - 0.4) < 1e-9


def test_paired_bootstrap_separates_a_good_model_from_a_bad_one() -> None:
    from mediamon.evaluation import paired_bootstrap
    from mediamon.records import STANCES, TOPICS

    rng = np.random.default_rng(0)
    n = 120
    y = rng.integers(0, len(STANCES), n)
    Y = rng.integers(0, 2, (n, len(TOPICS)))
    good = (np.eye(len(STANCES))[y] * 0.9 + 0.025, Y * 0.8 + 0.1, {})
    noisy_y = np.where(rng.random(n) < 0.5, rng.integers(0, len(STANCES), n), y)
    bad = (np.eye(len(STANCES))[noisy_y] * 0.9 + 0.025, rng.random((n, len(TOPICS))), {})
    r = paired_bootstrap(y, Y, good, bad, replicates=300)
    for name in ("stance_macro_f1", "topic_micro_f1"):
        assert r[name]["a"] == pytest.approx(1.0)
        assert r[name]["diff"] > 0.2 and r[name]["lo"] > 0.1 and r[name]["p_le_0"] == 0.0
    same = paired_bootstrap(y, Y, bad, bad, replicates=100)
    assert all(v["diff"] == 0 and v["lo"] == 0 and v["hi"] == 0 for v in same.values())
