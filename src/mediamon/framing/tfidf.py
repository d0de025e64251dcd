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

__all__ = ["LexicalFeatures", "TfidfFramingModel"]


class LexicalFeatures:
    """TF-IDF word n-grams + character n-grams (``char_wb``), stored without pickling.

    Used by the TF-IDF baseline and, for topics, beside the encoder in the e5 model.

    Args:
        word_ngrams: Word n-gram range.
        char_ngrams: Character n-gram range.
        max_features: Vocabulary cap per vectoriser.
    """

    def __init__(
        self, word_ngrams: Sequence[int] = (1, 2), char_ngrams: Sequence[int] = (2, 5), max_features: int = 100_000
    ) -> None:
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.max_features = max_features
        self.word, self.char = self._vectorizers()

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

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn both vocabularies and IDF weights; return the features of ``texts``."""
        self.word, self.char = self._vectorizers()
        return sp.hstack([self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr")

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sparse features (n, word vocabulary + char vocabulary)."""
        return sp.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")

    def tensors(self) -> dict[str, np.ndarray]:
        """The IDF weights, for a safetensors file."""
        return {"word_idf": self.word.idf_.astype(np.float32), "char_idf": self.char.idf_.astype(np.float32)}

    def vocabulary_json(self) -> str:
        """Both vocabularies as JSON (terms in column order)."""
        return json.dumps(
            {
                "word": sorted(self.word.vocabulary_, key=self.word.vocabulary_.__getitem__),
                "char": sorted(self.char.vocabulary_, key=self.char.vocabulary_.__getitem__),
            },
            ensure_ascii=False,
        )

    def load(self, tensors: dict[str, np.ndarray], vocabulary_json: str) -> None:
        """Restore from :meth:`tensors` and :meth:`vocabulary_json` output."""
        vocab = json.loads(vocabulary_json)
        self.word, self.char = self._vectorizers()
        for vec, key in ((self.word, "word"), (self.char, "char")):
            vec.set_params(vocabulary={t: i for i, t in enumerate(vocab[key])}, max_features=None)
            vec._validate_vocabulary()
            vec.idf_ = tensors[f"{key}_idf"]


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
    process_parallel = True  # cheap, single-threaded: scored in worker processes

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

    def _fit(self, texts: Sequence[str], y_stance: np.ndarray, y_topics: np.ndarray) -> None:
        self.lexical_ = LexicalFeatures(self.word_ngrams, self.char_ngrams, self.max_features)
        X = self.lexical_.fit_transform(texts)
        self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_ = fit_linear_heads(
            X, y_stance, y_topics, C=self.C, class_weight=self.class_weight, seed=self.seed
        )

    def _raw_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        X = self.lexical_.transform(texts)
        return linear_scores(X, self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_)

    def _save_weights(self, path: Path) -> list[str]:
        save_file(
            {
                "stance_W": self.stance_W_, "stance_b": self.stance_b_,
                "topic_W": self.topic_W_, "topic_b": self.topic_b_,
                **self.lexical_.tensors(),
            },
            str(path / "model.safetensors"),
        )
        (path / "vocab.json").write_text(self.lexical_.vocabulary_json(), encoding="utf-8")
        return ["model.safetensors", "vocab.json"]

    def _load_weights(self, path: Path, meta: dict[str, Any]) -> None:
        w = load_file(str(path / "model.safetensors"))
        self.lexical_ = LexicalFeatures(self.word_ngrams, self.char_ngrams, self.max_features)
        self.lexical_.load(w, (path / "vocab.json").read_text(encoding="utf-8"))
        self.stance_W_, self.stance_b_ = w["stance_W"], w["stance_b"]
        self.topic_W_, self.topic_b_ = w["topic_W"], w["topic_b"]
