"""RSS 2.0 / RSS 1.0 / Atom through feedparser.

feedparser never resolves external entities and sanitises HTML; we additionally refuse
documents with a DOCTYPE that declares entities (billion-laughs) before parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..records import Reject
from .fields import RawRecord

__all__ = ["iter_feed_entries"]

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _entry_fields(e: Any) -> dict[str, Any]:
    from .html import html_to_text

    content = ""
    if e.get("content"):
        content = " ".join(c.get("value", "") for c in e["content"])
    body = content or e.get("summary") or e.get("description") or ""
    fields: dict[str, Any] = {
        "id": e.get("id") or None,
        "title": html_to_text(e.get("title", "")) or None,
        "text": html_to_text(body),
        "published_at": e.get("published") or e.get("updated") or e.get("dc_date") or None,
        "url": e.get("link") or None,
    }
    src = e.get("source", {}).get("title") if isinstance(e.get("source"), dict) else None
    if src:
        fields["source"] = src
    if e.get("author"):
        fields["author"] = e.get("author")
    tags = [t.get("term") for t in e.get("tags", []) if t.get("term")]
    if tags:
        fields["tags"] = tags
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def iter_feed_entries(name: str, data: bytes) -> Iterator[RawRecord | Reject]:
    """Yield one raw record per feed entry; ``line`` is the entry's 1-based position."""
    import feedparser

    if _ENTITY_DECL.search(data[:65536]):
        yield Reject(name, 0, "unsafe_xml", "feed declares XML entities (possible entity bomb); refused", None, None)
        return
    parsed = feedparser.parse(data)
    if parsed.get("bozo") and not parsed.entries:
        exc = parsed.get("bozo_exception")
        yield Reject(name, 0, "bad_feed", f"not a readable RSS/Atom feed ({exc})", None, data[:200].decode("utf-8", "replace"))
        return
    enc = parsed.get("encoding")
    feed_title = parsed.feed.get("title") if parsed.get("feed") else None
    for i, entry in enumerate(parsed.entries, 1):
        fields = _entry_fields(entry)
        if feed_title and "source" not in fields:
            fields["source"] = feed_title
        yield RawRecord(name, i, fields, enc, (fields.get("title") or "")[:500] or None)
