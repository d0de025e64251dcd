"""Text normalisation helpers shared by the pipeline.

Both functions are pure: they take a string and return a new string, never
touching the caller's copy (so the raw text can always be kept next to the
normalised one).
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["normalize_text", "fix_kazakh_lookalikes"]

# C0/C1 control characters except \t and \n, plus a few invisible format
# characters that only get in the way (zero-width spaces/joiners, BOM, soft
# hyphen, bidi marks).
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# HTML entity remnants: named (&amp;), decimal (&#39;) and hex (&#x27;).
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Horizontal whitespace runs (Unicode spaces included, newline excluded).
_HSPACE_RE = re.compile(r"[^\S\n]+")
_NEWLINES_RE = re.compile(r"\n{3,}")
# Anything the slow path would change besides NFC and the final strip: entities, control
# and format characters, \r, whitespace other than single spaces and newlines, space runs,
# spaces around a newline, three or more newlines.
_NEEDS_WORK_RE = re.compile(
    "[&\x00-\x09\x0b-\x1f\x7f-\xa0\u00ad\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]"
    "|  | \n|\n |\n\n\n"
)
_SPACE_AROUND_NL_RE = re.compile(r" *\n *")


def normalize_text(text: str) -> str:
    """Normalise a text for downstream processing.

    Steps: HTML entity remnants are decoded (``&amp;`` -> ``&``, ``&#39;`` ->
    ``'``), Unicode NFC is applied, control and invisible format characters
    are removed (``\\n`` is kept; ``\\t`` is kept as whitespace and squeezed
    like any other space), ``\\r\\n`` / ``\\r`` become ``\\n``, runs of
    horizontal whitespace become one space, more than two consecutive newlines
    become two, and the result is stripped.

    Args:
        text: Raw input text.

    Returns:
        The normalised text.
    """
    if not text:
        return ""
    if _NEEDS_WORK_RE.search(text) is None:
        # Fast path (most texts, paragraphs included): nothing to decode, remove or squeeze.
        if not unicodedata.is_normalized("NFC", text):
            return normalize_text(unicodedata.normalize("NFC", text))
        return text.strip()
    return _normalize_all_steps(text)


def _normalize_all_steps(text: str) -> str:
    """Every step of :func:`normalize_text`, without its fast path."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        # Decode twice at most: doubly-escaped "&amp;quot;" is common in feeds.
        for _ in range(2):
            if not _ENTITY_RE.search(text):
                break
            text = _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_RE.sub("", text)
    text = _HSPACE_RE.sub(" ", text)
    text = _SPACE_AROUND_NL_RE.sub("\n", text)
    text = _NEWLINES_RE.sub("\n\n", text)
    return text.strip()


# Latin (and a few other) characters that are used in place of Kazakh Cyrillic
# letters, by old "Kazakh fonts", keyboard layouts without Kazakh letters or
# OCR.  Applied only inside words that also contain Cyrillic letters.
_LOOKALIKES: dict[str, str] = {
    # Kazakh-specific letters
    "\u0259": "\u04d9",  # ə -> ә
    "\u018f": "\u04d8",  # Ə -> Ә
    "\u01dd": "\u04d9",  # ǝ -> ә
    "\u00e4": "\u04d9",  # ä -> ә
    "\u00c4": "\u04d8",  # Ä -> Ә
    "i": "\u0456",  # i -> і
    "I": "\u0406",  # I -> І
    "\u0131": "\u044b",  # ı -> ы
    "\u00f6": "\u04e9",  # ö -> ө
    "\u00d6": "\u04e8",  # Ö -> Ө
    "\u0275": "\u04e9",  # ɵ -> ө
    "\u019f": "\u04e8",  # Ɵ -> Ө
    "\u00fc": "\u04af",  # ü -> ү
    "\u00dc": "\u04ae",  # Ü -> Ү
    "\u011f": "\u0493",  # ğ -> ғ
    "\u011e": "\u0492",  # Ğ -> Ғ
    "\u01f5": "\u0493",  # ǵ -> ғ
    "\u01f4": "\u0492",  # Ǵ -> Ғ
    "\u00f1": "\u04a3",  # ñ -> ң
    "\u00d1": "\u04a2",  # Ñ -> Ң
    "\u0144": "\u04a3",  # ń -> ң
    "\u0143": "\u04a2",  # Ń -> Ң
    "\u014b": "\u04a3",  # ŋ -> ң
    "\u014a": "\u04a2",  # Ŋ -> Ң
    "\u016b": "\u04b1",  # ū -> ұ
    "\u016a": "\u04b0",  # Ū -> Ұ
    "h": "\u04bb",  # h -> һ
    "\u0137": "\u049b",  # ķ -> қ
    "\u0136": "\u049a",  # Ķ -> Қ
    "q": "\u049b",  # q -> қ
    "Q": "\u049a",  # Q -> Қ
    # Plain look-alikes shared with Russian
    "a": "\u0430",
    "A": "\u0410",
    "B": "\u0412",
    "c": "\u0441",
    "C": "\u0421",
    "e": "\u0435",
    "E": "\u0415",
    "H": "\u041d",
    "K": "\u041a",
    "k": "\u043a",
    "M": "\u041c",
    "o": "\u043e",
    "O": "\u041e",
    "p": "\u0440",
    "P": "\u0420",
    "T": "\u0422",
    "x": "\u0445",
    "X": "\u0425",
    "y": "\u0443",
    "Y": "\u04ae",  # Y is the capital of ү in Kazakh fonts
    "\u00eb": "\u0451",  # ë -> ё
    "\u00cb": "\u0401",  # Ë -> Ё
}
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019\u02bc-][^\W\d_]+)*")
_CYR_RE = re.compile("[\u0400-\u04ff\u0500-\u052f]")
_LAT_RE = re.compile("[A-Za-z\u00c0-\u024f\u0259\u018f\u0275\u019f]")
# A Cyrillic and a Latin letter inside one word (as ``_WORD_RE`` reads words): somewhere in
# such a word a Latin letter has a Cyrillic one after it, or (reading the text backwards)
# before it, with only letters of neither script and single joiners between them.  Both
# patterns start at a Latin letter, which the regex engine scans for quickly, so Cyrillic
# texts with a few Latin names are checked in microseconds and ``fix_kazakh_lookalikes``
# skips its per-word pass unless a word really mixes the scripts.
_C = "\u0400-\u04ff\u0500-\u052f"
_L = "A-Za-z\u00c0-\u024f\u0259\u018f\u0275\u019f"
_LATIN_THEN_CYR_RE = re.compile(f"[{_L}](?:[^\\W\\d_{_C}{_L}]|['\u2019\u02bc-](?=[^\\W\\d_]))*[{_C}]")
# The same on the reversed text: a joiner follows a letter instead of preceding one.
_LATIN_THEN_CYR_REV_RE = re.compile(f"[{_L}](?:[^\\W\\d_{_C}{_L}]|(?<=[^\\W\\d_])['\u2019\u02bc-])*[{_C}]")


def _has_mixed_word(text: str) -> bool:
    return bool(
        _LAT_RE.search(text)
        and _CYR_RE.search(text)
        and (_LATIN_THEN_CYR_RE.search(text) or _LATIN_THEN_CYR_REV_RE.search(text[::-1]))
    )


def _fix_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if not _LAT_RE.search(word) or not _CYR_RE.search(word):
        return word
    return word.translate(_LOOKALIKE_TABLE)


def fix_kazakh_lookalikes(text: str) -> str:
    """Replace Latin look-alike letters inside Cyrillic words by Cyrillic ones.

    Kazakh text is often typed with Latin stand-ins for letters a keyboard or
    font lacks (``ə`` for ``ә``, ``i`` for ``і``, ``ö`` for ``ө``, ``ü`` for
    ``ү``, ``ğ`` for ``ғ``) or with single Latin letters that look like
    Cyrillic ones (``a``, ``e``, ``o``, ``p``, ``c``, ``x`` ...).  Only words
    that mix both scripts are changed; words written wholly in Latin (names,
    English quotes, Kazakh Latin script) are left alone.

    Args:
        text: Input text.

    Returns:
        The text with mixed-script words mapped to Cyrillic.
    """
    if not text or not _has_mixed_word(text):
        return text
    return _WORD_RE.sub(_fix_word, text)
