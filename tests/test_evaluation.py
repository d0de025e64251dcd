import numpy as np

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
