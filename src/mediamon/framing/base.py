"""The framing-model contract and the model-directory format.

A model directory holds ``meta.json`` (labels, thresholds, temperature, validation
statistics, metrics, library versions, training-data hash, and the SHA-256 of every weight
file) plus weights in ``safetensors`` and vocabularies in JSON.  Nothing is pickled; a file
whose hash differs from ``meta.json`` is refused.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.linear_model import LogisticRegression

from .._hashing import sha256_file
from ..errors import ModelError
from ..records import STANCES, TOPICS

__all__ = [
    "FramingModel",
    "FramingScores",
    "MODEL_FORMAT",
    "sha256_file",
    "read_meta",
    "library_versions",
    "fit_linear_heads",
    "fit_topic_heads",
    "linear_scores",
    "topic_probabilities",
]

MODEL_FORMAT = 1


@dataclass(frozen=True, slots=True)
class FramingScores:
    """Model output for a batch: stance probabilities (n, 4) and topic probabilities (n, 8)."""

    stance: np.ndarray
    topics: np.ndarray


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on, recorded in its metadata."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("mediamon", "numpy", "scikit-learn", "torch", "transformers", "safetensors"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def read_meta(path: Path) -> dict[str, Any]:
    """Read and sanity-check ``meta.json`` of a model directory."""
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        raise ModelError(f"{path}: not a mediamon model directory (no meta.json)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ModelError(f"{meta_path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(meta, dict) or "kind" not in meta or "files" not in meta:
        raise ModelError(f"{meta_path}: missing 'kind' or 'files'")
    if meta.get("format") != MODEL_FORMAT:
        raise ModelError(f"{meta_path}: model format {meta.get('format')!r}, this mediamon reads {MODEL_FORMAT}")
    return meta


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class FramingModel(ABC):
    """Stance (4 classes) + topics (8 binary labels) over article texts.

    Subclasses implement ``_fit``, ``_raw_scores``, ``_save_weights`` and ``_load_weights``.
    The base class adds temperature calibration of the stance probabilities, per-topic
    thresholds and the safe, hash-checked directory format.  Learned state ends in ``_``.
    """

    kind: ClassVar[str] = ""
    #: Whether ``score`` may run this model in worker processes (one per core): true for
    #: models that are cheap per article and single-threaded; false for models whose matrix
    #: products use every core already (a pool would only add copies of the weights).
    process_parallel: ClassVar[bool] = False
    registry: ClassVar[dict[str, type[FramingModel]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            FramingModel.registry[cls.kind] = cls

    def __init__(self, *, name: str = "mediamon-framing", version: str = "0.1.0") -> None:
        self.name = name
        self.version = version
        self.temperature_: float = 1.0
        self.thresholds_: dict[str, float] = {t: 0.5 for t in TOPICS}
        self.meta_: dict[str, Any] = {}

    # -- to implement ---------------------------------------------------------------
    @abstractmethod
    def _fit(self, texts: Sequence[str], y_stance: np.ndarray, y_topics: np.ndarray) -> None:
        """Fit on texts, stance indices (n,) and a topic indicator matrix (n, 8)."""

    @abstractmethod
    def _raw_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return stance log-probabilities (n, 4) and topic probabilities (n, 8)."""

    @abstractmethod
    def _save_weights(self, path: Path) -> list[str]:
        """Write weight files into ``path``; return their names."""

    @abstractmethod
    def _load_weights(self, path: Path, meta: dict[str, Any]) -> None:
        """Read weight files written by ``_save_weights``."""

    def params(self) -> dict[str, Any]:
        """Hyperparameters, recorded in ``meta.json`` and used to rebuild the model."""
        return {}

    def clone(self) -> Self:
        """An unfitted copy with the same hyperparameters."""
        return type(self)(name=self.name, version=self.version, **self.params())

    # -- public API -------------------------------------------------------------------
    @property
    def full_name(self) -> str:
        """``name@version``, written into every scored row."""
        return f"{self.name}@{self.version}"

    def fit(self, texts: Sequence[str], stances: Sequence[str], topics: Sequence[Sequence[str]]) -> Self:
        """Fit the model on labelled texts; returns ``self``."""
        y, Y = encode_labels(stances, topics)
        self._fit(list(texts), y, Y)
        return self

    def predict_proba(self, texts: Sequence[str], *, calibrated: bool = True) -> FramingScores:
        """Stance probabilities (temperature-calibrated) and topic probabilities."""
        if not texts:
            return FramingScores(np.zeros((0, len(STANCES))), np.zeros((0, len(TOPICS))))
        logp, topics = self._raw_scores(list(texts))
        t = self.temperature_ if calibrated else 1.0
        return FramingScores(_softmax(logp / t), topics)

    def save(self, path: str | Path, *, extra_meta: dict[str, Any] | None = None) -> Path:
        """Write the model directory atomically (temp dir, then rename)."""
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            files = self._save_weights(tmp)
            meta = {
                **self.meta_,
                **(extra_meta or {}),
                "format": MODEL_FORMAT,
                "kind": self.kind,
                "name": self.name,
                "version": self.version,
                "params": self.params(),
                "stances": list(STANCES),
                "topics": list(TOPICS),
                "temperature": self.temperature_,
                "thresholds": self.thresholds_,
                "versions": library_versions(),
                "files": {f: sha256_file(tmp / f) for f in sorted(files)},
            }
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; a model directory is meant to be shared
            for f in tmp.iterdir():
                os.chmod(f, 0o644)
            if dest.exists():
                old = dest.with_name(f".{dest.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(dest, old)
                os.replace(tmp, dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, dest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return dest

    @classmethod
    def load(cls, path: str | Path) -> FramingModel:
        """Load any registered model kind from a directory, checking every file's hash."""
        p = Path(path)
        meta = read_meta(p)
        kind = meta["kind"]
        impl = FramingModel.registry.get(kind)
        if impl is None:
            raise ModelError(f"{p}: unknown model kind {kind!r} (known: {', '.join(sorted(FramingModel.registry))})")
        for fname, digest in meta["files"].items():
            fp = p / fname
            if not fp.is_file():
                raise ModelError(f"{fp}: listed in meta.json but missing")
            if sha256_file(fp) != digest:
                raise ModelError(f"{fp}: SHA-256 does not match meta.json; the file was changed — refusing to load")
        if list(meta.get("stances", [])) != list(STANCES) or list(meta.get("topics", [])) != list(TOPICS):
            raise ModelError(f"{p}: label set differs from this mediamon's {STANCES} / {TOPICS}")
        model = impl(name=meta.get("name", p.name), version=meta.get("version", "0"), **meta.get("params", {}))
        model.temperature_ = float(meta.get("temperature", 1.0))
        model.thresholds_ = {t: float(v) for t, v in meta.get("thresholds", {}).items()}
        model.meta_ = {k: v for k, v in meta.items() if k not in ("files", "format")}
        model._load_weights(p, meta)
        return model


def encode_labels(stances: Sequence[str], topics: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Stance indices (n,) and topic indicator matrix (n, 8)."""
    idx = {s: i for i, s in enumerate(STANCES)}
    y = np.array([idx[s] for s in stances], dtype=np.int64)
    Y = np.zeros((len(topics), len(TOPICS)), dtype=np.int8)
    tix = {t: i for i, t in enumerate(TOPICS)}
    for r, ts in enumerate(topics):
        for t in ts:
            Y[r, tix[t]] = 1
    return y, Y


def fit_linear_heads(
    X: np.ndarray,
    y_stance: np.ndarray,
    y_topics: np.ndarray,
    *,
    C: float,
    class_weight: str,
    seed: int,
    topic_C: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Logistic stance head (4 classes) and one logistic head per topic.

    Args:
        X: Features (n, d).
        y_stance: Stance indices (n,).
        y_topics: Topic indicators (n, 8).
        C: Inverse regularisation strength.
        class_weight: ``balanced`` or ``none``.
        seed: Solver seed.
        topic_C: Inverse regularisation of the topic heads (default: ``C``).

    Returns:
        ``(stance_W, stance_b, topic_W, topic_b)`` as float32; absent classes get bias -30,
        constant topics a bias of +-30.
    """
    cw = "balanced" if class_weight == "balanced" else None
    d = X.shape[1]
    clf = LogisticRegression(C=C, class_weight=cw, max_iter=5000, random_state=seed)
    clf.fit(X, y_stance)
    W = np.zeros((len(STANCES), d), dtype=np.float32)
    b = np.full(len(STANCES), -30.0, dtype=np.float32)
    if len(clf.classes_) == 2:  # sklearn returns one row for two classes
        W[clf.classes_[1]], b[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
        W[clf.classes_[0]], b[clf.classes_[0]] = 0.0, 0.0
    else:
        for row, cls in enumerate(clf.classes_):
            W[cls], b[cls] = clf.coef_[row], clf.intercept_[row]
    TW, tb = fit_topic_heads(X, y_topics, C=topic_C or C, class_weight=class_weight, seed=seed)
    return W, b, TW, tb


def fit_topic_heads(
    X: Any, y_topics: np.ndarray, *, C: float, class_weight: str, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """One logistic head per topic on dense or sparse features.

    Returns:
        ``(topic_W (8, d), topic_b (8,))`` as float32; a topic constant in the data gets
        a bias of +-30 and zero weights.
    """
    cw = "balanced" if class_weight == "balanced" else None
    TW = np.zeros((len(TOPICS), X.shape[1]), dtype=np.float32)
    tb = np.full(len(TOPICS), -30.0, dtype=np.float32)
    for j in range(len(TOPICS)):
        col = y_topics[:, j]
        if col.min() == col.max():
            tb[j] = 30.0 if col.max() == 1 else -30.0
            continue
        h = LogisticRegression(C=C, class_weight=cw, max_iter=5000, random_state=seed)
        h.fit(X, col)
        TW[j], tb[j] = h.coef_[0], h.intercept_[0]
    return TW, tb


def topic_probabilities(X: Any, topic_W: np.ndarray, topic_b: np.ndarray) -> np.ndarray:
    """Sigmoid of linear topic heads; ``X`` dense or scipy-sparse."""
    t = np.asarray(X @ topic_W.T) + topic_b
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(t, -60, 60))))


def linear_scores(
    X: Any, stance_W: np.ndarray, stance_b: np.ndarray, topic_W: np.ndarray, topic_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stance log-probabilities (softmax) and topic probabilities (sigmoid) of linear heads.

    ``X`` may be dense or scipy-sparse.
    """
    z = np.asarray(X @ stance_W.T) + stance_b
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return logp, topic_probabilities(X, topic_W, topic_b)
