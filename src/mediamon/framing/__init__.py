"""Framing models: stance + topics with calibrated probabilities.

``load_model`` resolves a bundled name (``default``, ``tfidf``) or a directory.
"""

from __future__ import annotations

from .base import FramingModel, FramingScores, read_meta, sha256_file
from .registry import bundled_models_dir, list_models, load_model, resolve_model_path
from .tfidf import TfidfFramingModel

__all__ = [
    "FramingModel",
    "FramingScores",
    "TfidfFramingModel",
    "bundled_models_dir",
    "list_models",
    "load_model",
    "read_meta",
    "resolve_model_path",
    "sha256_file",
]
