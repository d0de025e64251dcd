"""Tests for mediamon.normalize (handmade examples only)."""

from __future__ import annotations

import unicodedata

from mediamon.normalize import fix_kazakh_lookalikes, normalize_text


def test_normalize_empty() -> None:
    assert normalize_text("") == ""
    assert normalize_text("   \t \n ") == ""


def test_normalize_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Ёлка й")
    assert decomposed != "Ёлка й"
    assert normalize_text(decomposed) == "Ёлка й"


def test_normalize_entities() -> None:
    assert normalize_text("Tom &amp; Jerry") == "Tom & Jerry"
    assert normalize_text("it&#39;s &quot;ok&quot;") == 'it\'s "ok"'
    assert normalize_text("&#x41;BC") == "ABC"
    # doubly escaped, as seen in feeds
    assert normalize_text("&amp;quot;x&amp;quot;") == '"x"'
    # a bare ampersand is left alone
    assert normalize_text("R&D") == "R&D"


def test_normalize_controls_and_whitespace() -> None:
    assert normalize_text("a\x00b\x07c") == "abc"
    assert normalize_text("soft\u00adhyphen zero\u200bwidth") == "softhyphen zerowidth"
    assert normalize_text("a  \t b\u00a0\u00a0c") == "a b c"
    assert normalize_text("line1\r\nline2\rline3") == "line1\nline2\nline3"
    assert normalize_text("p1\n\n\n\n\np2") == "p1\n\np2"
    assert normalize_text("  x  \n  y ") == "x\ny"


def test_normalize_is_pure() -> None:
    raw = "Қазақ  &amp; тілі"
    out = normalize_text(raw)
    assert raw == "Қазақ  &amp; тілі"
    assert out == "Қазақ & тілі"


def test_lookalikes_kazakh_letters() -> None:
    # ə, i, ö, ü, ğ typed inside Cyrillic words
    assert fix_kazakh_lookalikes("сəлем") == "сәлем"
    assert fix_kazakh_lookalikes("бiз") == "біз"
    assert fix_kazakh_lookalikes("көмек, öнер") == "көмек, өнер"
    assert fix_kazakh_lookalikes("жөндеу жoбасы") == "жөндеу жобасы"
    assert fix_kazakh_lookalikes("Үкiмет") == "Үкімет"
    assert fix_kazakh_lookalikes("тöрт") == "төрт"
    assert fix_kazakh_lookalikes("күн сүйгiш") == "күн сүйгіш"
    assert fix_kazakh_lookalikes("тüлкі") == "түлкі"
    assert fix_kazakh_lookalikes("таğы") == "тағы"


def test_lookalikes_one_letter_substitutions() -> None:
    # Latin a, e, o, p, c, x inside otherwise Cyrillic words
    assert fix_kazakh_lookalikes("Пpезидент") == "Президент"
    assert fix_kazakh_lookalikes("Aлматы") == "Алматы"
    assert fix_kazakh_lookalikes("мeктeп") == "мектеп"


def test_lookalikes_leave_latin_words_alone() -> None:
    text = "Google және Apple компаниялары, Qazaqstan"
    assert fix_kazakh_lookalikes(text) == text
    assert fix_kazakh_lookalikes("plain English text") == "plain English text"
    assert fix_kazakh_lookalikes("") == ""


def test_lookalikes_pure() -> None:
    raw = "бiз"
    fixed = fix_kazakh_lookalikes(raw)
    assert raw == "б\u0069з"  # the caller's string still holds Latin i
    assert fixed == "б\u0456з"


def test_fast_path_agrees_with_full_normalisation() -> None:
    """The fast path (no entity, control, odd space) must give what the full steps give."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mediamon.normalize import _normalize_all_steps

    alphabet = st.sampled_from(
        list("ab Әә\n\r\t&;#\u00a0\u200b\u00ad\u2028\u3000\u0301e\x85\x1c") + ["&amp;", "&#39;", " \n", "\n\n\n"]
    )

    @settings(max_examples=800, deadline=None)
    @given(st.lists(alphabet, max_size=14).map("".join))
    def check(t: str) -> None:
        assert normalize_text(t) == _normalize_all_steps(t)

    check()


def test_mixed_word_check_agrees_with_the_per_word_pass() -> None:
    """The quick "does any word mix scripts" check may never skip a word the pass would fix:
    joiners, letters of a third script and marks between the scripts included."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mediamon.normalize import _WORD_RE, _fix_word

    alphabet = st.sampled_from(list("абқәaeioqxK-'\u2019\u02bc .1_\u03b1\u0483\u0259\n"))

    @settings(max_examples=1500, deadline=None)
    @given(st.lists(alphabet, max_size=14).map("".join))
    def check(t: str) -> None:
        assert fix_kazakh_lookalikes(t) == _WORD_RE.sub(_fix_word, t)

    check()
