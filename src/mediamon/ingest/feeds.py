"""RSS 2.0 / RSS 1.0 / Atom through feedparser.

Safety: the feed's bytes are first decoded by :func:`~mediamon.ingest.decode.decode_bytes`
(BOM → declared charset → UTF-8 → detectors), so a UTF-16 feed cannot hide an entity
declaration from the check below; the text is handed to feedparser as a UTF-8 *file object*
(feedparser opens a ``str`` or ``bytes`` document that looks like a path or URL).  Any ``<!ENTITY`` declaration (the
billion-laughs and quadratic-blowup bombs, and external entities such as ``file:///etc/passwd``)
makes the whole feed a ``unsafe_xml`` reject before parsing; feedparser itself never fetches
external DTDs or entities and sanitises entry HTML.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from typing import Any

from ..records import Reject
from .fields import RawRecord

__all__ = ["iter_feed_entries"]

_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_XML_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""")
#: Feeds larger than this are refused (a monitoring feed is kilobytes to a few megabytes).
MAX_FEED_BYTES = 256 * 1024 * 1024


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


def iter_feed_entries(name: str, data: bytes, *, min_confidence: float = 0.6) -> Iterator[RawRecord | Reject]:
    """Yield one raw record per feed entry; ``line`` is the entry's 1-based position.

    Whole-feed problems are one reject with ``line`` 0: ``bad_encoding``, ``unsafe_xml``,
    ``too_large``, ``bad_feed`` or ``no_entries``.
    """
    import feedparser

    from .decode import DecodeError, decode_bytes

    if len(data) > MAX_FEED_BYTES:
        yield Reject(name, 0, "too_large", f"feed is larger than {MAX_FEED_BYTES} bytes; refused", None, None)
        return
    try:
        text, enc = decode_bytes(data, min_confidence=min_confidence)
    except DecodeError as e:
        yield Reject(name, 0, "bad_encoding", f"cannot decode the feed: {e}", None, None)
        return
    utf8 = _XML_ENCODING.sub(r"\1utf-8\2", text.lstrip("\ufeff"), count=1).encode("utf-8")
    if _ENTITY_DECL.search(utf8):
        yield Reject(name, 0, "unsafe_xml", "feed declares XML entities (possible entity bomb or external entity); refused", None, None)
        return
    # A file object: feedparser opens *bytes or str* that look like a path or URL.
    parsed = feedparser.parse(io.BytesIO(utf8))
    if parsed.get("bozo") and not parsed.entries:
        exc = parsed.get("bozo_exception")
        yield Reject(name, 0, "bad_feed", f"not a readable RSS/Atom feed ({exc})", None, text[:200])
        return
    if not parsed.entries:
        yield Reject(name, 0, "no_entries", "no RSS/Atom entries in the file", None, text[:200])
        return
    try:
        enc = codecs.lookup(enc).name
    except LookupError:
        pass
    feed_title = parsed.feed.get("title") if parsed.get("feed") else None
    for i, entry in enumerate(parsed.entries, 1):
        fields = _entry_fields(entry)
        if feed_title and "source" not in fields:
            fields["source"] = feed_title
        yield RawRecord(name, i, fields, enc, (fields.get("title") or "")[:500] or None)
