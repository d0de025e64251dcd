"""Bytes to text: BOM → declared charset → strict UTF-8 → detector with a confidence floor.

The encoding used is returned with the text so it can be kept on every record.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_bytes", "DecodeError"]


class DecodeError(ValueError):
    """The bytes could not be decoded with any trustworthy encoding."""


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._-]+)""", re.IGNORECASE)


def _declared(data: bytes) -> str | None:
    head = data[:4096]
    m = _XML_DECL.match(head) or _META_CHARSET.search(head)
    if not m:
        return None
    name = m.group(1).decode("ascii", "ignore")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(
    data: bytes, *, declared: str | None = None, min_confidence: float = 0.6
) -> tuple[str, str]:
    """Decode ``data`` and say which encoding was used.

    Args:
        data: Raw file bytes.
        declared: A charset declared outside the bytes (HTTP header, CLI option).
        min_confidence: Lowest detector confidence (charset-normalizer's ``1 - chaos``) accepted.

    Returns:
        ``(text, encoding_name)``.

    Raises:
        DecodeError: nothing decodes the bytes with enough confidence.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc.replace("-sig", "")
            except UnicodeDecodeError as e:
                raise DecodeError(f"byte order mark says {enc} but bytes do not decode: {e}") from None
    for enc in (declared, _declared(data)):
        if enc:
            try:
                return data.decode(enc), codecs.lookup(enc).name
            except (UnicodeDecodeError, LookupError):
                pass  # a wrong declaration is common; fall through to the next step
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=None).best()
    if best is None:
        raise DecodeError("not UTF-8 and no character encoding fits the bytes")
    confidence = 1.0 - float(best.chaos)
    if confidence < min_confidence:
        raise DecodeError(
            f"not UTF-8; best guess {best.encoding} has confidence {confidence:.2f} < {min_confidence}"
        )
    return str(best), codecs.lookup(best.encoding).name
