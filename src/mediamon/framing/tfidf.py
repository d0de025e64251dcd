"""The baseline: TF-IDF word + character n-grams with logistic-regression heads.

Kept as the number every other model must beat.  Weights are stored as safetensors and
vocabularies as JSON; prediction re-implements the linear algebra, so loading needs no
pickled scikit-learn objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

from .base import FramingModel, fit_linear_heads, linear_scores

__all__ = ["TfidfFramingModel"]


class TfidfFramingModel(FramingModel):
    """TF-IDF + logistic regression (multinomial stance, one-vs-rest topics).

    Args:
        C: Inverse regularisation strength.
        class_weight: ``"balanced"`` or ``"none"``.
        word_ngrams: Word n-gram range.
        char_ngrams: Character n-gram range (``char_wb``).
        max_features: Vocabulary cap per vectoriser.
        seed: Solver seed.
    """

    kind = "tfidf"

    def __init__(
        self,
        *,
        name: str = "mediamon-tfidf",
        version: str = "0.1.0",
        C: float = 4.0,
        class_weight: str = "balanced",
        word_ngrams: Sequence[int] = (1, 2),
        char_ngrams: Sequence[int] = (2, 5),
        max_features: int = 100_000,
        seed: int = 0,
    ) -> None:
        super().__init__(name=name, version=version)
        self.C = C
        self.class_weight = class_weight
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.max_features = max_features
        self.seed = seed

    def params(self) -> dict[str, Any]:
        return {
            "C": self.C,
            "class_weight": self.class_weight,
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams),
            "max_features": self.max_features,
            "seed": self.seed,
        }

    def _vectorizers(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        word = TfidfVectorizer(
            analyzer="word", ngram_range=self.word_ngrams, sublinear_tf=True, min_df=1,
            max_features=self.max_features, lowercase=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32,
        )
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True, min_df=2,
            max_features=self.max_features, lowercase=True, dtype=np.float32,
        )
        return word, char

    def _features(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.hstack([self.word_.transform(texts), self.char_.transform(texts)], format="csr")

    def _fit(self, texts: Sequence[str], y_stance: np.ndarray, y_topics: np.ndarray) -> None:
        self.word_, self.char_ = self._vectorizers()
        X = sp.hstack([self.word_.fit_transform(texts), self.char_.fit_transform(texts)], format="csr")
        self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_ = fit_linear_heads(
            X, y_stance, y_topics, C=self.C, class_weight=self.class_weight, seed=self.seed
        )

    def _raw_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return linear_scores(self._features(texts), self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_)

    def _save_weights(self, path: Path) -> list[str]:
        save_file(
            {
                "stance_W": self.stance_W_, "stance_b": self.stance_b_,
                "topic_W": self.topic_W_, "topic_b": self.topic_b_,
                "word_idf": self.word_.idf_.astype(np.float32), "char_idf": self.char_.idf_.astype(np.float32),
            },
            str(path / "model.safetensors"),
        )
        vocab = {
            "word": sorted(self.word_.vocabulary_, key=self.word_.vocabulary_.__getitem__),
            "char": sorted(self.char_.vocabulary_, key=self.char_.vocabulary_.__getitem__),
        }
        (path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        return ["model.safetensors", "vocab.json"]

    def _load_weights(self, path: Path, meta: dict[str, Any]) -> None:
        w = load_file(str(path / "model.safetensors"))
        vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        self.word_, self.char_ = self._vectorizers()
        for vec, key in ((self.word_, "word"), (self.char_, "char")):
            vec.set_params(vocabulary={t: i for i, t in enumerate(vocab[key])}, max_features=None)
            vec._validate_vocabulary()
            vec.idf_ = w[f"{key}_idf"]
        self.stance_W_, self.stance_b_ = w["stance_W"], w["stance_b"]
        self.topic_W_, self.topic_b_ = w["topic_W"], w["topic_b"]
