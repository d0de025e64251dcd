"""Field aliases, stable ids and the raw-record → :class:`Article` step."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..config import IngestConfig
from ..normalize import normalize_text
from ..records import Article, Reject, frozen_meta
from .dates import DateParseError, flag_date, parse_date

__all__ = ["ALIASES", "RawRecord", "build_article", "stable_id", "canonical_url"]

#: Contract field → accepted input names, first match wins (ARCHITECTURE.md, "Records").
ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content", "description"),
    "title": ("title",),
    "published_at": ("published_at", "date", "published", "pubDate", "datetime"),
    "source": ("source", "outlet", "domain"),
    "url": ("url", "link"),
    "id": ("id",),
}


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A record as a reader found it: the fields plus where it came from."""

    file: str
    line: int
    fields: Mapping[str, Any]
    encoding: str | None = None
    raw: str | None = None


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment and a trailing slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def stable_id(*, url: str | None, title: str | None, text: str) -> str:
    """A content-derived id: from the URL when there is one, else from title + text."""
    if url:
        basis = "u\0" + canonical_url(url)
        prefix = "u"
    else:
        basis = "t\0" + " ".join((title or "").casefold().split()) + "\0" + " ".join(text.casefold().split())
        prefix = "t"
    return prefix + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


def _pick(fields: Mapping[str, Any], names: tuple[str, ...], lower: Mapping[str, str]) -> tuple[str | None, Any]:
    """The first alias present with a value: ``(key, value)``; ``lower`` maps lower-cased
    keys to keys (computed once per record by the caller)."""
    for n in names:
        key = lower.get(n.lower())
        if key is not None:
            v = fields[key]
            if v is not None and not (isinstance(v, str) and not v.strip()):
                return key, v
    return None, None


_HTML_TAG = re.compile(
    r"<(?:p|div|br|span|a|html|body|head|article|section|h[1-6]|li|ul|ol|table|td|tr|img|strong|em|b|i|script|style)\b[^>]*>",
    re.IGNORECASE,
)
_HTML_PAGE = re.compile(r"<(?:html|body)\b", re.IGNORECASE)


def html_body(text: str) -> tuple[str, str | None] | None:
    """``(body, title)`` when ``text`` is HTML markup, else ``None``.

    A whole page (``<html>`` / ``<body>``) goes through the article extractor
    (trafilatura: boilerplate, menus and scripts out); a fragment through the HTML parser.
    """
    if "<" not in text or not _HTML_TAG.search(text):
        return None
    from .html import extract_article, html_to_text

    if _HTML_PAGE.search(text):
        fields = extract_article(text)
        if fields is None:
            return "", None
        return str(fields.get("text", "")), fields.get("title")
    return html_to_text(text), None


def _as_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def build_article(rec: RawRecord, config: IngestConfig) -> Article | Reject:
    """Map aliases, normalise text, parse the date and derive the id.

    Returns a :class:`Reject` (never raises) when the record cannot be used.
    """
    f = rec.fields
    raw = rec.raw if rec.raw is not None else None

    def reject(code: str, reason: str, field: str | None) -> Reject:
        return Reject(rec.file, rec.line, code, reason, field, (raw or "")[:500] or None)

    lower = {k.lower(): k for k in f}
    text_key, text_v = _pick(f, ALIASES["text"], lower)
    if text_key is None:
        present = [k for k in f if k.lower() in {a.lower() for a in ALIASES["text"]}]
        if present:
            return reject("empty_text", "text is empty", present[0])
        return reject("missing_text", "no text (looked for text, body, content, description)", "text")
    if not isinstance(text_v, str):
        return reject("bad_type", f"text must be a string, got {type(text_v).__name__}", text_key)
    page_title = None
    if (as_html := html_body(text_v)) is not None:
        text_v, page_title = as_html
    text = normalize_text(text_v)
    if len(text) > config.max_text_chars:
        text = text[: config.max_text_chars]
    if len(text.strip()) < max(config.min_text_chars, 1):
        return reject("empty_text", "text is empty after normalisation", text_key)
    title_key, title_v = _pick(f, ALIASES["title"], lower)
    if title_v is None:
        title_v = page_title
    title = None
    if title_v is not None:
        title_s = _as_text(title_v)
        if (t_html := html_body(title_s)) is not None:
            title_s = t_html[0]
        title = normalize_text(title_s).replace("\n", " ").strip() or None
    url_key, url_v = _pick(f, ALIASES["url"], lower)
    url = _as_text(url_v).strip() if url_v is not None else None
    src_key, src_v = _pick(f, ALIASES["source"], lower)
    source = _as_text(src_v).strip() if src_v is not None else None
    if not source and url:
        source = urlsplit(url).netloc.lower() or None

    published_at = None
    date_flag = None
    date_key, date_v = _pick(f, ALIASES["published_at"], lower)
    published_raw = _as_text(date_v) if date_v is not None else None
    if published_raw is not None:
        tz = config.source_timezones.get(source or "", config.default_timezone)
        try:
            published_at = parse_date(published_raw, default_tz=tz)
        except DateParseError as e:
            if config.require_dates:
                return reject("bad_date", str(e), date_key)
            date_flag = "unparsed"
        else:
            date_flag = flag_date(published_at)
    elif config.require_dates:
        return reject("missing_date", "no date (looked for published_at, date, published, pubDate, datetime)", "published_at")

    id_key, id_v = _pick(f, ALIASES["id"], lower)
    art_id = _as_text(id_v).strip() if id_v is not None else stable_id(url=url, title=title, text=text)
    used = {k for k in (text_key, date_key, title_key, url_key, src_key, id_key) if k}
    meta = {k: v for k, v in f.items() if k not in used}
    return Article(
        id=art_id,
        text=text,
        title=title,
        published_at=published_at,
        published_raw=published_raw,
        source=source,
        url=url,
        meta=frozen_meta(meta),
        origin=f"{rec.file}:{rec.line}",
        encoding=rec.encoding,
        date_flag=date_flag,
    )
