"""Language identification for mediamon: Kazakh, Russian, English and their neighbours.

``detect_language(text)`` returns a :class:`LanguageResult` with the language
code (ISO 639-1, or 639-3 for ``bxr``/``sah``, or ``"und"``), a confidence, the
script (``cyrl``/``latn``/``mixed``/``und``) and the per-sentence language mix
of the text.  See :mod:`mediamon.langid.detector` for the design and
``benchmarks/langid.py`` for the evaluation.
"""

from mediamon.langid.detector import LanguageResult, detect_language, iter_detect_languages

__all__ = ["LanguageResult", "detect_language", "iter_detect_languages"]
