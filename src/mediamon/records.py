"""The record shapes that cross stages: :class:`Article`, :class:`ScoredArticle`, :class:`Reject`.

They are frozen dataclasses; stages never mutate them but build new ones
(``dataclasses.replace``).  ``to_row`` gives the flat output contract of ARCHITECTURE.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

__all__ = [
    "STANCES",
    "TOPICS",
    "Article",
    "Example",
    "ScoredArticle",
    "Reject",
    "frozen_meta",
]

#: Stance labels in their fixed output order (LABELS.md).
STANCES: tuple[str, ...] = ("multi_vector", "russian_orbit", "neutral", "off_topic")
#: Topic labels in their fixed output order (LABELS.md).
TOPICS: tuple[str, ...] = (
    "diplomacy",
    "security",
    "energy",
    "mining",
    "trade",
    "investment",
    "transport",
    "culture",
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen_meta(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Return a read-only view of ``meta`` (an empty one for ``None``)."""
    if not meta:
        return _EMPTY
    return MappingProxyType(dict(meta))


@dataclass(frozen=True, slots=True)
class Article:
    """One input article after ingest.

    Attributes:
        id: Stable identifier: the input's ``id``, else derived from the URL, else from the
            normalised title and text.
        text: Body text (normalised: NFC, no control characters).
        title: Headline, if any.
        published_at: Publication time, timezone-aware UTC, or ``None``.
        published_raw: The date string exactly as it came in.
        source: Outlet or domain.
        url: Link to the article.
        meta: Extra input fields, carried through unchanged.
        origin: ``file:line`` (or ``file#entry``) the record came from.
        encoding: The character encoding the bytes were decoded with.
        date_flag: ``None`` or why the date is suspicious (``future``, ``ancient``).
    """

    id: str
    text: str
    title: str | None = None
    published_at: datetime | None = None
    published_raw: str | None = None
    source: str | None = None
    url: str | None = None
    meta: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    origin: str = ""
    encoding: str | None = None
    date_flag: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled (to scoring worker processes) with ``meta`` as a plain dict, frozen again
        return _article_from_fields, (
            self.id, self.text, self.title, self.published_at, self.published_raw, self.source, self.url,
            dict(self.meta), self.origin, self.encoding, self.date_flag,
        )

    @property
    def full_text(self) -> str:
        """Title and body joined the way models read them."""
        if self.title and not self.text.startswith(self.title):
            return f"{self.title}\n\n{self.text}"
        return self.text


def _article_from_fields(*fields: Any) -> Article:
    a = Article(*fields)
    object.__setattr__(a, "meta", frozen_meta(a.meta))
    return a


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled article for training or evaluation."""

    article: Article
    stance: str
    topics: tuple[str, ...]
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class ScoredArticle:
    """One scored output row (see ARCHITECTURE.md, "Scored output")."""

    article: Article
    lang: str
    lang_score: float
    stance: str
    stance_probs: Mapping[str, float]
    topics: tuple[str, ...]
    topic_probs: Mapping[str, float]
    model: str
    script: str = "und"
    lang_mix: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    duplicate_of: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Flatten to the output contract; stable key order."""
        a = self.article
        row: dict[str, Any] = {
            "id": a.id,
            "source": a.source,
            "url": a.url,
            "title": a.title,
            "published_at": a.published_at.isoformat().replace("+00:00", "Z") if a.published_at else None,
            "lang": self.lang,
            "lang_score": round(float(self.lang_score), 4),
            "script": self.script,
            "lang_mix": dict(self.lang_mix),
            "stance": self.stance,
        }
        for s in STANCES:
            row[f"p_{s}"] = round(float(self.stance_probs.get(s, 0.0)), 6)
        row["topics"] = list(self.topics)
        for t in sorted(self.topic_probs, key=lambda t: TOPICS.index(t) if t in TOPICS else len(TOPICS)):
            row[f"p_topic_{t}"] = round(float(self.topic_probs[t]), 6)
        row["model"] = self.model
        row["duplicate_of"] = self.duplicate_of
        row["published_raw"] = a.published_raw
        row["date_flag"] = a.date_flag
        row["encoding"] = a.encoding
        row["meta"] = dict(a.meta)
        return row


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that could not be used, with where it came from and why.

    Attributes:
        file: Input path (or ``-`` for stdin).
        line: 1-based line number, or entry number for feeds, or 0 for whole-file problems.
        code: Stable machine-readable reason (``bad_json``, ``missing_text``, ``bad_date`` ...).
        reason: One human-readable sentence.
        field: The offending field, if one.
        raw: The start of the raw record (at most 500 characters), for debugging.
    """

    file: str
    line: int
    code: str
    reason: str
    field: str | None = None
    raw: str | None = None

    def message(self) -> str:
        """One-line message naming file, line and field."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        fld = f" field '{self.field}'" if self.field else ""
        return f"{where}:{fld} {self.reason} [{self.code}]"

    def to_row(self) -> dict[str, Any]:
        """Flatten for the rejects JSONL file."""
        return {
            "file": self.file,
            "line": self.line,
            "code": self.code,
            "field": self.field,
            "reason": self.reason,
            "raw": self.raw,
        }

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(self.to_row(), ensure_ascii=False)
