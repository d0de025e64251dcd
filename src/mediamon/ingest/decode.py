"""Bytes to text: BOM → declared charset → strict UTF-8 → detectors with a confidence floor.

The encoding used is returned with the text so it can be kept on every record.

A declared legacy charset (``<meta charset="windows-1251">``) is overridden only when the
bytes are valid UTF-8 with multi-byte sequences: a stale declaration, since cp1251 or
KOI8-R text is practically never valid UTF-8.

Two detectors run after strict UTF-8 fails:

1. a **Cyrillic single-byte** detector for the legacy encodings Kazakh and Russian outlets
   still serve (``cp1251``, ``koi8-r``, ``kz1048`` — Kazakh letters cp1251 cannot encode —
   and ``cp866``).  General detectors confuse them on short texts (KOI8-R read as
   Shift-JIS, KZ-1048 read as cp1251 with ``Ќ`` for ``Қ``).  Each candidate decoding is
   scored on letter plausibility: lowercase Russian/Kazakh letters count, capitals count
   a little (a wrong Cyrillic code page swaps case), Serbian/Macedonian letters and box
   drawing count against.  It only runs when the non-ASCII bytes come in word-like runs
   (a Cyrillic text), not as isolated accents in a Latin text.
2. ``charset-normalizer`` for everything else, accepted only above ``min_confidence``
   (``1 - chaos``).

Nothing trustworthy → :class:`DecodeError` with the reason (readers turn it into a
``bad_encoding`` reject).
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_bytes", "DecodeError", "detect_cyrillic_single_byte"]


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


_UTF = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-8-sig"}


def _is_utf8_multibyte(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
    for decl in (declared, _declared(data)):
        if decl:
            try:
                name = codecs.lookup(decl).name
                if name not in _UTF and _is_utf8_multibyte(data):
                    # Bytes that are valid UTF-8 *with* multi-byte sequences are practically never
                    # cp1251/KOI8-R text: the declaration is stale (a common CMS fault).
                    return data.decode("utf-8"), "utf-8"
                return data.decode(decl), name
            except (UnicodeDecodeError, LookupError):
                pass  # a wrong declaration is common; fall through to the next step
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    cyr = detect_cyrillic_single_byte(data)
    if cyr is not None:
        text, enc, conf = cyr
        if conf >= min_confidence:
            return text, enc
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


_CYR_CANDIDATES: tuple[str, ...] = ("cp1251", "koi8-r", "kz1048", "cp866")
_FREQUENT = set("оеаинтсрвлкмдпуы")  # the most frequent letters of Russian and Kazakh
_INFREQUENT = set("ъфщэюёцшжх")
_LETTERS = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі")
_PUNCT = set("«»—–№…“”„‘’•·°€\u00a0")
# Letters of other Cyrillic languages and symbols a wrong code page produces in ru/kk text.
_RARE = set("ђѓќћџљњјѕўЂЃЌЋЏЉЊЈЅЎґҐєЄїЇ") | {chr(c) for c in range(0x2500, 0x2600)}


def _plausibility(text: str) -> float:
    """Score in [-1.7, 1]: how much the non-ASCII characters look like ru/kk text.

    Frequent letters score higher than rare ones (separates code pages on all-caps text)
    and lowercase scores higher than capitals (a wrong code page swaps case).
    """
    n = score = 0.0
    for ch in text:
        if ch < "\x80":
            continue
        n += 1
        low = ch.lower()
        if low in _LETTERS:
            score += (1.0 if low in _FREQUENT else 0.2 if low in _INFREQUENT else 0.5) + (0.1 if ch == low else 0.0)
        elif ch in _PUNCT:
            score += 1.0
        elif ch in _RARE:
            score -= 2.0
        else:
            score -= 1.0
    return score / (1.1 * n) if n else 0.0


def detect_cyrillic_single_byte(data: bytes) -> tuple[str, str, float] | None:
    """Best Cyrillic single-byte decoding of ``data`` as ``(text, encoding, confidence)``.

    Returns ``None`` when the bytes do not look like a Cyrillic text in a single-byte code
    page (too few non-ASCII bytes, or non-ASCII bytes isolated between ASCII letters).
    """
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if len(high) < 4:
        return None
    hs = set(high)
    runs = sum(1 for i in high if (i - 1) in hs or (i + 1) in hs)
    if runs / len(high) < 0.6:
        return None
    best: tuple[float, str, str] | None = None
    for enc in _CYR_CANDIDATES:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        sc = _plausibility(text)
        if best is None or sc > best[0] + 1e-9:
            best = (sc, text, enc)
    if best is None:
        return None
    sc, text, enc = best
    return text, codecs.lookup(enc).name, max(0.0, min(1.0, sc))
