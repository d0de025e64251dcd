"""HTML to text with a real extractor (trafilatura), not regexes."""

from __future__ import annotations

from typing import Any

__all__ = ["extract_article", "html_to_text"]


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (feed summaries): paragraphs kept as blank lines."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    import lxml.html

    try:
        doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return fragment
    for bad in doc.xpath("//script|//style"):
        bad.drop_tree()
    for br in doc.xpath("//br"):
        br.tail = "\n" + (br.tail or "")
    for block in doc.xpath("//p|//div|//li|//h1|//h2|//h3|//h4|//blockquote"):
        block.tail = "\n\n" + (block.tail or "")
    text = doc.text_content()
    lines = [" ".join(ln.split()) for ln in text.split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip().replace("\n\n\n", "\n\n")


def _has_content(html: str) -> bool:
    """Whether the page has any text outside navigation, headers, footers and scripts."""
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return True  # let the extractor decide
    for bad in doc.xpath("//script|//style|//nav|//header|//footer|//aside|//menu|//form|//noscript|//head"):
        bad.drop_tree()
    return bool(doc.text_content().strip())


def extract_article(html: str) -> dict[str, Any] | None:
    """Title, body, date and URL of an article page, or ``None`` when no body is found.

    The body comes from trafilatura (boilerplate, menus, comments and tables out).  A page
    whose only text sits in navigation, header, footer or script elements has no article
    (trafilatura's fallback would otherwise return the menu).
    """
    import trafilatura

    if not _has_content(html):
        return None
    doc = trafilatura.bare_extraction(
        html,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        # no "extensive" date search: it loads dateparser (seconds per process) and guesses
        # dates from free text; explicit metadata (<time>, meta tags, JSON-LD) is enough.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        return None
    d: dict[str, Any] = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = d.get("text") or ""
    if not text.strip():
        return None
    fields: dict[str, Any] = {"text": text}
    for src, dst in (("title", "title"), ("date", "published_at"), ("url", "url"), ("sitename", "source")):
        if d.get(src):
            fields[dst] = d[src]
    return fields
