"""Training from labelled samples.

``train`` fits a framing model and, before the final fit, runs stratified k-fold
cross-validation on the training data to obtain *out-of-fold* predictions.  Those give the
stance temperature (calibration), the per-topic thresholds and the validation confusion
statistics that the trend estimators use to correct for classifier error.  The out-of-fold
figures are stored as ``meta.validation`` — an estimate on held-out folds of the *training
distribution*; real-world quality is measured separately with ``mediamon evaluate``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.model_selection import StratifiedKFold

from .config import TrainConfig
from .errors import UsageError
from .evaluation import compute_metrics, expected_calibration_error
from .framing.base import FramingModel, encode_labels
from .records import STANCES, TOPICS, Example

__all__ = ["make_model", "train", "fit_temperature", "choose_thresholds", "data_hash", "validation_stats"]


def make_model(config: TrainConfig) -> FramingModel:
    """An unfitted model of the configured kind."""
    if config.kind == "tfidf":
        from .framing.tfidf import TfidfFramingModel

        return TfidfFramingModel(
            name=config.name, version=config.version, C=config.C, class_weight=config.class_weight,
            word_ngrams=config.word_ngrams, char_ngrams=config.char_ngrams,
            max_features=config.max_features, seed=config.seed,
        )
    if config.kind == "e5":
        from .framing.e5 import E5FramingModel

        return E5FramingModel(
            name=config.name, version=config.version, C=config.C, class_weight=config.class_weight,
            encoder=config.encoder, max_length=config.max_length, input_mode=config.input_mode,
            long_text=config.long_text, seed=config.seed, topic_C=config.topic_C,
            topic_lexical=config.topic_lexical, word_ngrams=config.word_ngrams,
            char_ngrams=config.char_ngrams, max_features=config.max_features, quantize=config.quantize,
        )
    if config.kind == "static":
        from .framing.static import StaticFramingModel

        return StaticFramingModel(
            name=config.name, version=config.version, C=config.C, class_weight=config.class_weight,
            encoder=config.encoder, seed=config.seed,
        )
    raise UsageError(f"unknown model kind {config.kind!r}")


def data_hash(examples: Sequence[Example]) -> str:
    """SHA-256 over texts and labels, in order: identifies the training data."""
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.article.full_text, e.stance, list(e.topics)], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logp: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logp / T)."""

    def nll(t: float) -> float:
        p = _softmax(logp / t)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)).mean())

    res = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
    return float(res.x)


def choose_thresholds(p_topics: np.ndarray, y_topics: np.ndarray) -> dict[str, float]:
    """Per-topic threshold maximising F1 on held-out predictions (0.5 if the topic is absent)."""
    out: dict[str, float] = {}
    grid = np.linspace(0.05, 0.95, 91)
    for j, t in enumerate(TOPICS):
        yt = y_topics[:, j]
        if yt.sum() == 0:
            out[t] = 0.5
            continue
        best, best_f = 0.5, -1.0
        for th in grid:
            pr = p_topics[:, j] >= th
            tp = float((pr & (yt == 1)).sum())
            f = 2 * tp / max(pr.sum() + yt.sum(), 1)
            if f > best_f + 1e-9:
                best, best_f = float(th), f
        out[t] = round(best, 3)
    return out


def validation_stats(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Confusion statistics for error-corrected quantification.

    ``confusion`` counts (rows true, columns predicted) and ``mean_probs`` (rows true: the
    mean predicted probability vector of articles of that class).
    """
    k = len(STANCES)
    pred = p.argmax(axis=1)
    cm = np.zeros((k, k), dtype=int)
    mp = np.zeros((k, k))
    for c in range(k):
        m = y == c
        if m.any():
            mp[c] = p[m].mean(axis=0)
        for q in range(k):
            cm[c, q] = int(((y == c) & (pred == q)).sum())
    return {"labels": list(STANCES), "confusion": cm.tolist(), "mean_probs": mp.round(6).tolist(), "n": int(len(y))}


def train(
    examples: Iterable[Example],
    config: TrainConfig | None = None,
    *,
    validation: Iterable[Example] | None = None,
    progress: Callable[[str], None] | None = None,
) -> FramingModel:
    """Fit a framing model with calibration, thresholds and validation statistics.

    Frozen models are calibrated on out-of-fold predictions (k-fold cross-validation on the
    training data).  A fine-tuned encoder has seen every training passage, so its
    calibration uses held-out validation data instead (``validation``, or a stratified
    ``validation_share`` of the examples).

    Args:
        examples: Labelled examples (their ``lang`` is kept for per-language figures).
        config: Training settings; defaults to ``TrainConfig()``.
        validation: Held-out examples for fine-tuning selection and calibration.
        progress: Called with short status lines.

    Raises:
        UsageError: too few examples, or a stance with fewer examples than folds; ``quantize``
            on a model kind other than e5 or with fine-tuning.
    """
    cfg = config or TrainConfig()
    say = progress or (lambda _m: None)
    if cfg.quantize != "none" and (cfg.kind != "e5" or cfg.finetune_epochs > 0):
        raise UsageError("train.quantize is an e5 option, and fine-tuning needs the float32 encoder")
    if cfg.kind == "e5" and cfg.finetune_epochs > 0:
        return _train_finetuned(list(examples), cfg, list(validation) if validation is not None else None, say)
    exs = list(examples)
    if len(exs) < 12:
        raise UsageError(f"need at least 12 labelled examples to train, got {len(exs)}")
    texts = [e.article.full_text for e in exs]
    y, Y = encode_labels([e.stance for e in exs], [e.topics for e in exs])
    counts = np.bincount(y, minlength=len(STANCES))
    folds = min(cfg.validation_folds, int(counts[counts > 0].min()))
    if folds < 2:
        raise UsageError(f"each stance present needs at least 2 examples for validation folds; counts {counts.tolist()}")
    model = make_model(cfg)
    oof_logp = np.zeros((len(exs), len(STANCES)))
    oof_topics = np.zeros((len(exs), len(TOPICS)))
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    for i, (tr, te) in enumerate(skf.split(np.zeros(len(y)), y), 1):
        say(f"fold {i}/{folds}: fitting on {len(tr)}, predicting {len(te)}")
        m = model.clone()
        m._fit([texts[j] for j in tr], y[tr], Y[tr])
        lp, tp = m._raw_scores([texts[j] for j in te])
        oof_logp[te], oof_topics[te] = lp, tp
    temperature = fit_temperature(oof_logp, y)
    thresholds = choose_thresholds(oof_topics, Y)
    p_cal = _softmax(oof_logp / temperature)
    langs = [e.lang or "und" for e in exs]
    oof = compute_metrics(y, p_cal, Y, oof_topics, thresholds=thresholds, langs=langs)
    say(f"final fit on {len(exs)} examples")
    model._fit(texts, y, Y)
    model.temperature_ = temperature
    model.thresholds_ = thresholds
    model.meta_ = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "train": {
            "n_examples": len(exs),
            "data_sha256": data_hash(exs),
            "stance_counts": dict(zip(STANCES, counts.tolist(), strict=True)),
            "config": cfg.model_dump(mode="json"),
        },
        "validation": {
            "method": f"{folds}-fold stratified cross-validation on the training data (out-of-fold)",
            "ece_uncalibrated": expected_calibration_error(_softmax(oof_logp), y),
            "ece_calibrated": expected_calibration_error(p_cal, y),
            "stance": validation_stats(y, p_cal),
            "metrics": oof,
        },
    }
    return model


def _calibrate_on(model: FramingModel, exs: Sequence[Example], method: str) -> dict[str, Any]:
    """Set temperature and thresholds from held-out examples; return the validation block."""
    texts = [e.article.full_text for e in exs]
    y, Y = encode_labels([e.stance for e in exs], [e.topics for e in exs])
    logp, tp = model._raw_scores(texts)
    model.temperature_ = fit_temperature(logp, y)
    model.thresholds_ = choose_thresholds(tp, Y)
    p_cal = _softmax(logp / model.temperature_)
    return {
        "method": method,
        "ece_uncalibrated": expected_calibration_error(_softmax(logp), y),
        "ece_calibrated": expected_calibration_error(p_cal, y),
        "stance": validation_stats(y, p_cal),
        "metrics": compute_metrics(y, p_cal, Y, tp, thresholds=model.thresholds_, langs=[e.lang or "und" for e in exs]),
    }


def _train_finetuned(
    exs: list[Example], cfg: TrainConfig, val: list[Example] | None, say: Callable[[str], None]
) -> FramingModel:
    from .framing.e5 import E5FramingModel
    from .framing.finetune import apply_lora, finetune_lora

    if val is None:
        from collections import Counter

        from sklearn.model_selection import train_test_split

        strata: list[str] | None = [f"{e.lang}/{e.stance}" for e in exs]
        if min(Counter(strata).values()) < 2:
            strata = [e.stance for e in exs]
            if min(Counter(strata).values()) < 2:
                strata = None
        tr_idx, va_idx = train_test_split(
            np.arange(len(exs)), test_size=cfg.validation_share, random_state=cfg.seed, stratify=strata
        )
        val = [exs[i] for i in va_idx]
        exs = [exs[i] for i in tr_idx]
        method = f"held-out {cfg.validation_share:.0%} of the training data (stratified by language and stance)"
    else:
        method = "the validation file given to train"
    if len(exs) < 10 or len(val) < 4:
        raise UsageError(f"fine-tuning needs >= 10 training and >= 4 validation examples, got {len(exs)} / {len(val)}")
    model = make_model(cfg)
    assert isinstance(model, E5FramingModel)
    texts = [e.article.full_text for e in exs]
    y, Y = encode_labels([e.stance for e in exs], [e.topics for e in exs])
    vy, _ = encode_labels([e.stance for e in val], [e.topics for e in val])
    say(f"fine-tuning LoRA adapters on {len(exs)} examples, selecting on {len(val)}")
    weights, lcfg, history = finetune_lora(
        model.embedder, texts, y, Y, val_texts=[e.article.full_text for e in val], val_stance=vy,
        epochs=cfg.finetune_epochs, lr=cfg.finetune_lr, batch_size=cfg.finetune_batch_size,
        max_length=cfg.finetune_max_length, r=cfg.lora_r, train_layers=cfg.finetune_layers, seed=cfg.seed,
        progress=say,
    )
    apply_lora(model.embedder.model, lcfg, weights)  # best epoch's adapters
    model.embedder.model.eval()
    model.lora_, model.lora_config_ = weights, lcfg
    model._cache.clear()
    say("fitting heads on the fine-tuned embeddings")
    model._fit(texts, y, Y)
    validation = _calibrate_on(model, val, method)
    counts = np.bincount(y, minlength=len(STANCES))
    model.meta_ = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "train": {
            "n_examples": len(exs),
            "n_validation": len(val),
            "data_sha256": data_hash(exs),
            "validation_sha256": data_hash(val),
            "stance_counts": dict(zip(STANCES, counts.tolist(), strict=True)),
            "config": cfg.model_dump(mode="json"),
            "finetune_history": history,
        },
        "validation": validation,
    }
    return model
