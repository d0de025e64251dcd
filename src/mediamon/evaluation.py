"""Quality reports: per-class and per-language F1, confusion matrices, calibration.

``evaluate`` scores labelled examples with a model; ``compute_metrics`` is the pure function
behind it, also used on out-of-fold predictions during training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from .records import STANCES, TOPICS, Example

__all__ = [
    "HEADLINE_METRICS",
    "compute_metrics",
    "paired_bootstrap",
    "predict_examples",
    "expected_calibration_error",
    "evaluate",
    "format_report",
]


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, *, bins: int = 15) -> float:
    """Top-label expected calibration error with equal-width confidence bins."""
    if len(y) == 0:
        return float("nan")
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    correct = (pred == y).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def _stance_macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over the stances present in the gold labels ``y`` (NaN when empty)."""
    if not len(y):
        return float("nan")
    return float(f1_score(y, pred, labels=sorted(set(y.tolist())), average="macro", zero_division=0))


def _topic_predictions(p_topics: np.ndarray, thresholds: Mapping[str, float] | None) -> np.ndarray:
    """0/1 topic decisions at the per-topic thresholds (0.5 where a topic has none)."""
    th = np.array([(thresholds or {}).get(t, 0.5) for t in TOPICS])
    return (p_topics >= th).astype(int)


def _stance_block(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    labels = list(range(len(STANCES)))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    cm = np.zeros((len(STANCES), len(STANCES)), dtype=int)
    for t, q in zip(y, pred, strict=True):
        cm[t, q] += 1
    return {
        "n": int(len(y)),
        "accuracy": float((y == pred).mean()) if len(y) else float("nan"),
        # macro over the classes present in the gold labels of this slice
        "macro_f1": _stance_macro_f1(y, pred),
        "per_class": {
            STANCES[i]: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i in labels
        },
        "confusion": {"labels": list(STANCES), "rows_true_cols_pred": cm.tolist()},
    }


def compute_metrics(
    y_stance: np.ndarray,
    p_stance: np.ndarray,
    y_topics: np.ndarray,
    p_topics: np.ndarray,
    *,
    thresholds: Mapping[str, float] | None = None,
    langs: Sequence[str] | None = None,
) -> dict[str, Any]:
    """All quality figures for one set of predictions.

    Args:
        y_stance: Gold stance indices (n,).
        p_stance: Stance probabilities (n, 4).
        y_topics: Gold topic indicators (n, 8).
        p_topics: Topic probabilities (n, 8).
        thresholds: Per-topic decision thresholds (0.5 when missing).
        langs: Language of each example, for per-language figures.
    """
    pred = p_stance.argmax(axis=1)
    topic_pred = _topic_predictions(p_topics, thresholds)
    off = STANCES.index("off_topic")
    rel_true = (y_stance != off).astype(int)
    rel_pred = (pred != off).astype(int)
    out: dict[str, Any] = {"stance": _stance_block(y_stance, pred)}
    out["relevance"] = {
        "f1_relevant": float(f1_score(rel_true, rel_pred, pos_label=1, zero_division=0)),
        "f1_off_topic": float(f1_score(rel_true, rel_pred, pos_label=0, zero_division=0)),
        "macro_f1": float(f1_score(rel_true, rel_pred, average="macro", zero_division=0)),
    }
    tp, tr, tf, ts = precision_recall_fscore_support(y_topics, topic_pred, labels=list(range(len(TOPICS))), zero_division=0)
    out["topics"] = {
        "micro_f1": float(f1_score(y_topics, topic_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_topics, topic_pred, average="macro", zero_division=0)),
        "per_topic": {
            TOPICS[i]: {"precision": float(tp[i]), "recall": float(tr[i]), "f1": float(tf[i]), "support": int(ts[i])}
            for i in range(len(TOPICS))
        },
    }
    out["calibration"] = {
        "ece": expected_calibration_error(p_stance, y_stance),
        "brier": float(((p_stance - np.eye(len(STANCES))[y_stance]) ** 2).sum(axis=1).mean()) if len(y_stance) else float("nan"),
    }
    if langs is not None:
        la = np.array(list(langs), dtype=object)
        per: dict[str, Any] = {}
        for lang in sorted(set(la.tolist())):
            m = la == lang
            blk = _stance_block(y_stance[m], pred[m])
            _, rel_f1, topic_f1 = _headline(y_stance[m], y_topics[m], pred[m], topic_pred[m])
            per[lang] = {
                "n": blk["n"],
                "stance_macro_f1": blk["macro_f1"],
                "stance_accuracy": blk["accuracy"],
                "relevance_f1": float(rel_f1),
                "topic_micro_f1": float(topic_f1),
                "confusion": blk["confusion"]["rows_true_cols_pred"],
            }
        out["per_language"] = per
    return out


def predict_examples(
    model: Any, examples: Sequence[Example], *, batch_size: int = 32
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Stance probabilities (n, 4), topic probabilities (n, 8) and languages of labelled examples.

    The language of each example is its ``lang`` label when given, else detected.
    """
    from .langid import detect_language

    texts = [e.article.full_text for e in examples]
    langs = [e.lang or detect_language(e.article.full_text).lang for e in examples]
    ps, pt = [], []
    for i in range(0, len(texts), batch_size):
        sc = model.predict_proba(texts[i : i + batch_size])
        ps.append(sc.stance)
        pt.append(sc.topics)
    p_stance = np.vstack(ps) if ps else np.zeros((0, len(STANCES)))
    p_topics = np.vstack(pt) if pt else np.zeros((0, len(TOPICS)))
    return p_stance, p_topics, langs


def evaluate(
    model: Any,
    examples: Iterable[Example],
    *,
    batch_size: int = 32,
    predictions: tuple[np.ndarray, np.ndarray, list[str]] | None = None,
) -> dict[str, Any]:
    """Score labelled examples with ``model`` and compute the report.

    The language of each example is its ``lang`` label when given, else detected.
    ``predictions``: what :func:`predict_examples` returned for these examples, when the
    caller needs them too (nothing is scored twice).
    """
    from .framing.base import encode_labels

    exs = list(examples)
    p_stance, p_topics, langs = predictions or predict_examples(model, exs, batch_size=batch_size)
    y, Y = encode_labels([e.stance for e in exs], [e.topics for e in exs])
    report = compute_metrics(y, p_stance, Y, p_topics, thresholds=model.thresholds_, langs=langs)
    report["model"] = model.full_name
    report["n_examples"] = len(exs)
    return report


def _headline(y: np.ndarray, Y: np.ndarray, pred: np.ndarray, tpred: np.ndarray) -> np.ndarray:
    """The :data:`HEADLINE_METRICS`, defined as in :func:`compute_metrics`."""
    off = STANCES.index("off_topic")
    return np.array([
        _stance_macro_f1(y, pred),
        f1_score((y != off).astype(int), (pred != off).astype(int), zero_division=0),
        f1_score(Y, tpred, average="micro", zero_division=0),
    ])


#: The figures :func:`paired_bootstrap` compares.
HEADLINE_METRICS = ("stance_macro_f1", "relevance_f1", "topic_micro_f1")


def paired_bootstrap(
    y_stance: np.ndarray,
    y_topics: np.ndarray,
    a: tuple[np.ndarray, np.ndarray, Mapping[str, float]],
    b: tuple[np.ndarray, np.ndarray, Mapping[str, float]],
    *,
    replicates: int = 2000,
    level: float = 0.9,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Is model A better than model B on the same examples?  A paired bootstrap.

    Examples are resampled with replacement (the same draw for both models) and the
    headline figures recomputed; the interval of A − B says whether the difference is
    larger than what the choice of test examples alone produces.

    Args:
        y_stance: Gold stance indices (n,).
        y_topics: Gold topic indicators (n, 8).
        a: Model A's ``(stance probabilities, topic probabilities, topic thresholds)``.
        b: Model B's, the same.
        replicates: Bootstrap replicates.
        level: Interval level.
        seed: Random seed.

    Returns:
        Per metric in :data:`HEADLINE_METRICS`: ``a``, ``b``, ``diff`` (A − B), ``lo``, ``hi``
        (percentile interval of the difference) and ``p_le_0`` (share of replicates where A is
        not better).
    """
    def preds(m: tuple[np.ndarray, np.ndarray, Mapping[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        return m[0].argmax(axis=1), _topic_predictions(m[1], m[2])

    (pa, ta), (pb, tb) = preds(a), preds(b)
    fa, fb = _headline(y_stance, y_topics, pa, ta), _headline(y_stance, y_topics, pb, tb)
    rng = np.random.default_rng(seed)
    n = len(y_stance)
    diffs = np.empty((replicates, len(HEADLINE_METRICS)))
    for r in range(replicates):
        i = rng.integers(0, n, n)
        diffs[r] = _headline(y_stance[i], y_topics[i], pa[i], ta[i]) - _headline(y_stance[i], y_topics[i], pb[i], tb[i])
    alpha = (1 - level) / 2
    out: dict[str, dict[str, float]] = {}
    for k, name in enumerate(HEADLINE_METRICS):
        out[name] = {
            "a": float(fa[k]), "b": float(fb[k]), "diff": float(fa[k] - fb[k]),
            "lo": float(np.quantile(diffs[:, k], alpha)), "hi": float(np.quantile(diffs[:, k], 1 - alpha)),
            "p_le_0": float((diffs[:, k] <= 0).mean()),
        }
    return out


def format_report(report: Mapping[str, Any]) -> str:
    """A compact plain-text table of the headline figures."""
    st = report["stance"]
    lines = [
        f"model {report.get('model', '?')}  n={report.get('n_examples', st['n'])}",
        f"stance macro-F1 {st['macro_f1']:.3f}  accuracy {st['accuracy']:.3f}  "
        f"relevance F1 {report['relevance']['f1_relevant']:.3f}  topic micro-F1 {report['topics']['micro_f1']:.3f}  "
        f"ECE {report['calibration']['ece']:.3f}",
        "per class: " + "  ".join(f"{k} {v['f1']:.2f} (n={v['support']})" for k, v in st["per_class"].items()),
    ]
    for lang, v in report.get("per_language", {}).items():
        lines.append(
            f"  {lang}: n={v['n']:<4} stance macro-F1 {v['stance_macro_f1']:.3f}  acc {v['stance_accuracy']:.3f}  "
            f"relevance F1 {v['relevance_f1']:.3f}  topic micro-F1 {v['topic_micro_f1']:.3f}"
        )
    cm = st["confusion"]["rows_true_cols_pred"]
    lines.append("confusion (rows true, cols predicted): " + " ".join(s[:4] for s in STANCES))
    for s, row in zip(STANCES, cm, strict=True):
        lines.append(f"  {s:<14}" + " ".join(f"{c:>4}" for c in row))
    return "\n".join(lines)


def cross_lingual_transfer(
    train_examples: Sequence[Example],
    test_examples: Sequence[Example],
    config: Any,
    *,
    lang: str = "kk",
) -> dict[str, Any]:
    """Train without ``lang``, test on ``lang``; compare with training on everything.

    Args:
        train_examples: Labelled training data (with ``lang`` set).
        test_examples: Labelled test data; only its ``lang`` examples are used.
        config: A :class:`~mediamon.config.TrainConfig` (the model kind to test).
        lang: The held-out language.

    Returns:
        ``{"without": report, "with": report, "n_test": int, "lang": lang}``, each report as
        from :func:`evaluate` on the held-out language's test examples.
    """
    from .training import train

    test = [e for e in test_examples if e.lang == lang]
    if not test:
        return {"lang": lang, "n_test": 0}
    without = train([e for e in train_examples if e.lang != lang], config)
    with_all = train(list(train_examples), config)
    return {"lang": lang, "n_test": len(test), "without": evaluate(without, test), "with": evaluate(with_all, test)}
