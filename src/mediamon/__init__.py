"""mediamon: media monitoring for Russian, Kazakh and English news.

Stages (one module each): :mod:`mediamon.ingest` → :mod:`mediamon.langid` →
:mod:`mediamon.framing` → :mod:`mediamon.pipeline` → :mod:`mediamon.trends`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, load_config
from .errors import ConfigError, InputError, MediamonError, ModelError, UsageError
from .records import STANCES, TOPICS, Article, Example, Reject, ScoredArticle

__all__ = [
    "__version__",
    "STANCES",
    "TOPICS",
    "Article",
    "Config",
    "ConfigError",
    "Example",
    "InputError",
    "MediamonError",
    "ModelError",
    "Reject",
    "ScoredArticle",
    "UsageError",
    "load_config",
]
