"""Ingest: feeds and dumps → :class:`~mediamon.records.Article` (or :class:`~mediamon.records.Reject`).

Example:
    >>> from mediamon.ingest import iter_articles
    >>> for item in iter_articles(["feed.jsonl"]):  # doctest: +SKIP
    ...     print(item)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..config import IngestConfig
from ..records import STANCES, TOPICS, Article, Example, Reject
from .dates import DateParseError, flag_date, parse_date
from .decode import DecodeError, decode_bytes
from .fields import ALIASES, RawRecord, build_article, canonical_url, stable_id
from .readers import FORMATS, format_of, iter_files, iter_raw

__all__ = [
    "ALIASES",
    "FORMATS",
    "DateParseError",
    "DecodeError",
    "RawRecord",
    "build_article",
    "canonical_url",
    "decode_bytes",
    "flag_date",
    "format_of",
    "iter_articles",
    "iter_examples",
    "iter_files",
    "iter_raw",
    "parse_date",
    "parse_labels",
    "stable_id",
]


def iter_articles(
    paths: Iterable[str | Path], *, config: IngestConfig | None = None
) -> Iterator[Article | Reject]:
    """Read every input path in order and yield articles and rejects, in input order.

    Args:
        paths: Files, directories or ``-`` (stdin JSONL).
        config: Ingest settings (dates, timezones, text bounds).
    """
    cfg = config or IngestConfig()
    for path in paths:
        for item in iter_raw(path, min_confidence=cfg.charset_min_confidence):
            yield item if isinstance(item, Reject) else build_article(item, cfg)


def parse_labels(stance: object, topics: object) -> tuple[str, tuple[str, ...]]:
    """Validate a stance and a topic list (list or ``;``-joined string).

    Raises:
        ValueError: with the offending field name as ``args[1]``.
    """
    if not isinstance(stance, str) or stance.strip() not in STANCES:
        raise ValueError(f"stance must be one of {', '.join(STANCES)}, got {stance!r}", "stance")
    if topics is None or topics == "":
        tl: list[str] = []
    elif isinstance(topics, str):
        tl = [t.strip() for t in topics.split(";") if t.strip()]
    elif isinstance(topics, list) and all(isinstance(t, str) for t in topics):
        tl = [t.strip() for t in topics]
    else:
        raise ValueError(f"topics must be a list or ';'-joined string, got {topics!r}", "topics")
    bad = [t for t in tl if t not in TOPICS]
    if bad:
        raise ValueError(f"unknown topic(s) {bad}; known: {', '.join(TOPICS)}", "topics")
    return stance.strip(), tuple(t for t in TOPICS if t in tl)


def iter_examples(
    paths: Iterable[str | Path], *, config: IngestConfig | None = None
) -> Iterator[Example | Reject]:
    """Read labelled data: the article fields plus ``stance`` and ``topics``."""
    for item in iter_articles(paths, config=config):
        if isinstance(item, Reject):
            yield item
            continue
        meta = dict(item.meta)
        file, _, line = item.origin.rpartition(":")
        try:
            stance, topics = parse_labels(meta.pop("stance", None), meta.pop("topics", None))
        except ValueError as e:
            yield Reject(file, int(line or 0), "bad_label", str(e.args[0]), str(e.args[1]), None)
            continue
        lang = meta.get("lang") if isinstance(meta.get("lang"), str) else None
        yield Example(article=item, stance=stance, topics=topics, lang=lang)
