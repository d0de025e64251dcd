"""Tests for mediamon.langid, on small handmade examples only.

The evaluation set under shared/ is never read here (see benchmarks/langid.py).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from mediamon.langid import LanguageResult, detect_language, iter_detect_languages
from mediamon.langid import detector as det

KK = [
    "Қазақстан Республикасының Президенті бүгін Үкімет отырысын өткізді.",
    "Бүгін ауа райы жақсы болады деп күтілуде.",
    "Алматыда жаңа мектеп ашылды",
    "Ұлттық банк базалық мөлшерлемені өзгеріссіз қалдырды.",
    "Біз ертең ауылға барамыз.",
]
RU = [
    "Президент провёл совещание по вопросам экономики.",
    "В Алматы открылась новая школа",
    "Сегодня в городе ожидается сильный ветер и дождь.",
    "Это было очень интересно, но мы устали.",
]
EN = [
    "The president held a meeting on economic issues today.",
    "New school opens in Almaty",
    "We were tired, but it was really interesting.",
]


def _check_result(res: LanguageResult) -> None:
    assert 0.0 <= res.score <= 1.0
    assert res.script in {"cyrl", "latn", "mixed", "und"}
    if res.lang == "und":
        assert res.mix == {}
    else:
        assert math.isclose(sum(res.mix.values()), 1.0, abs_tol=1e-6)
        assert res.lang in res.mix


@pytest.mark.parametrize("text", KK)
def test_kazakh_cyrillic(text: str) -> None:
    res = detect_language(text)
    _check_result(res)
    assert res.lang == "kk"
    assert res.script == "cyrl"
    assert res.mix == {"kk": 1.0}


@pytest.mark.parametrize("text", RU)
def test_russian(text: str) -> None:
    res = detect_language(text)
    _check_result(res)
    assert res.lang == "ru"
    assert res.script == "cyrl"


@pytest.mark.parametrize("text", EN)
def test_english(text: str) -> None:
    res = detect_language(text)
    _check_result(res)
    assert res.lang == "en"
    assert res.script == "latn"


@pytest.mark.parametrize(
    "text",
    [
        # 2018 acute alphabet
        "Qazaqstan Respýblıkasynyń Prezıdenti búgin Úkimet otyrysyn ótkizdi.",
        # 2021 umlaut alphabet
        "Qazaqstan Respublikasynyñ Prezidenti bügin Ükimet otyrysyn ötkizdi.",
        # informal web spelling
        "Almaty qalasynda jana mektep ashyldy, bul turaly qalalyq akimdik habarlady.",
        "Men seni jaqsy koremin, qalaisyn?",
    ],
)
def test_kazakh_latin(text: str) -> None:
    res = detect_language(text)
    _check_result(res)
    assert res.lang == "kk"
    assert res.script == "latn"


@pytest.mark.parametrize(
    "text",
    [
        "Okula gittim ve orada arkadaşlarımı gördüm.",  # Turkish
        "Men maktabga bordim va u yerda do'stlarimni ko'rdim.",  # Uzbek
        "Quality and service come first here.",  # English with q
    ],
)
def test_latin_turkic_and_english_are_not_kazakh(text: str) -> None:
    assert detect_language(text).lang != "kk"


def test_lookalike_normalisation_before_detection() -> None:
    raw = "Қазақстан Республикасының Президентi бүгiн Yкiмет отырысын өткiздi."
    copy = str(raw)
    res = detect_language(raw)
    assert res.lang == "kk"
    assert res.script == "cyrl"
    assert raw == copy  # raw text is kept as it was
    # Kazakh typed with ə/i/ö/ü/ğ and no real Kazakh letter at all
    res2 = detect_language("Бiз бүгiн сəлем бердiк, тöрт кiтап алдық, таğы келемiз.")
    assert res2.lang == "kk"
    assert res2.script == "cyrl"


def test_mixed_document_kazakh_quoting_russian() -> None:
    text = (
        "Бүгін Астанада үлкен жиын өтті. Оған елдің барлық өңірінен өкілдер қатысты. "
        "Жиында сөйлеген министр жаңа бағдарламаның маңызын атап өтті. "
        "Ол: «Мы должны работать быстрее». "
        "Жиын соңында қатысушылар ортақ мәлімдеме қабылдады."
    )
    res = detect_language(text)
    _check_result(res)
    assert res.lang == "kk"
    assert set(res.mix) == {"kk", "ru"}
    assert res.mix["kk"] > res.mix["ru"] > 0.0


def test_mixed_document_russian_with_kazakh_paragraph() -> None:
    text = (
        "Президент провёл встречу с министрами в Астане. Глава государства отметил "
        "важность реформ и поручил ускорить работу над новыми законами.\n\n"
        "Бұл кездесу Ақордада өтті.\n\n"
        "По итогам совещания правительство подготовит подробный план."
    )
    res = detect_language(text)
    _check_result(res)
    assert res.lang == "ru"
    assert res.mix["ru"] > res.mix["kk"] > 0.0


def test_kazakh_names_in_russian_sentence() -> None:
    res = detect_language("Президент Қасым-Жомарт Тоқаев провёл встречу с министрами в Астане.")
    assert res.lang == "ru"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Бул жыл абдан жакшы болду, биз көп иштерди аткардык жана жаңы мектеп курдук.", "ky"),
        ("Бу елда безнең шәһәрдә яңа мәктәп ачылды һәм анда җиде йөз бала укый.", "tt"),
        ("Был йылда беҙҙең ҡалала яңы мәктәп асылды.", "ba"),
        ("Мы пішлі ў школу разам з сябрамі.", "be"),
        ("Ми пішли до школи разом із друзями, це було чудово.", "uk"),
        ("Тя отиде на училище заедно с приятелите си и това беше чудесно.", "bg"),
        ("Таа отиде на училиште заедно со пријателите и тоа беше одлично.", "mk"),
        ("Мин оскуолаҕа бардым уонна доҕотторбун көрдүм.", "sah"),
        ("Би һургуули руу ошоод нүхэдөө харааб.", "bxr"),
        ("Okula gittim ve orada arkadaşlarımı gördüm.", "tr"),
        ("Men maktabga bordim va u yerda do'stlarimni ko'rdim.", "uz"),
    ],
)
def test_distractors_get_their_own_code(text: str, lang: str) -> None:
    res = detect_language(text)
    _check_result(res)
    assert res.lang == lang


@pytest.mark.parametrize("text", ["", "   ", "12345 !!! ...", "ab", "Ok", "😀😀😀", "—", "\n\n"])
def test_undetermined(text: str) -> None:
    res = detect_language(text)
    assert res.lang == "und"
    assert res.score == 0.0
    assert res.mix == {}


def test_result_is_frozen_dataclass() -> None:
    res = detect_language("Сәлеметсіз бе, қымбатты достар!")
    assert dataclasses.is_dataclass(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.lang = "ru"  # type: ignore[misc]


def test_iter_detect_languages_is_lazy_and_ordered() -> None:
    texts = iter([KK[0], RU[0], EN[0], ""])
    out = iter_detect_languages(texts)
    assert not isinstance(out, list)
    assert [r.lang for r in out] == ["kk", "ru", "en", "und"]


def test_script_field() -> None:
    assert detect_language(KK[0]).script == "cyrl"
    assert detect_language(EN[0]).script == "latn"
    mixed = detect_language("Жаңа iPhone смартфоны Apple компаниясы Kazakhstan")
    assert mixed.script in {"mixed", "cyrl"}
    assert det._script_of(50, 50, 100) == "mixed"
    assert det._script_of(0, 0, 0) == "und"


def test_urls_and_mentions_do_not_decide() -> None:
    res = detect_language("Толығырақ сайтта оқыңыз: https://example.com/news/world/article @user #tag")
    assert res.lang == "kk"


def test_sentence_splitter_keeps_initials() -> None:
    parts = det._split_sentences("Жиынға А. Иванов пен Б. Сейітов қатысты. Бұл маңызды.")
    assert parts == ["Жиынға А. Иванов пен Б. Сейітов қатысты.", "Бұл маңызды."]


def test_isolated_marker_letter_is_not_evidence() -> None:
    # A Ukrainian letter named inside a Russian sentence.
    assert detect_language("Буква Ї встречается только в украинском алфавите, сказал он.").lang == "ru"


def test_works_without_fasttext(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(det, "fasttext_scores", lambda text, k=12: {})
    assert detect_language(KK[0]).lang == "kk"
    assert detect_language(RU[0]).lang == "ru"
    assert detect_language(EN[0]).lang == "en"


def test_to_dict_is_json_ready() -> None:
    import json

    res = detect_language("Бүгін ауа райы жақсы болады деп күтілуде.")
    line = json.dumps(res.to_dict(), ensure_ascii=False)
    assert json.loads(line) == {"lang": "kk", "score": res.score, "script": "cyrl", "mix": {"kk": 1.0}}


def test_min_letters_threshold_is_configurable() -> None:
    text = "Қазақстан мен Қытай сауда келісіміне қол қойды."
    assert detect_language(text).lang == "kk"
    assert detect_language(text, min_letters=200).lang == "und"
    doc = "Астана мен Бейжің келісті. Бұл маңызды қадам.\n\nОтандық сарапшылар қолдады."
    assert detect_language(doc).lang == "kk"
    r = detect_language(doc, min_letters=20)  # the 14-letter middle sentence drops out
    assert r.lang == "kk" and r.mix == {"kk": 1.0}
    assert detect_language(doc, min_letters=500).lang == "und"


def test_abbreviation_check_on_the_tail_agrees_with_the_whole_piece() -> None:
    """_split_sentences reads only a piece's last 12 characters for the abbreviation pattern."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mediamon.langid.detector import _ABBREV_END_RE

    alphabet = st.sampled_from(list("абгАБ abtDrsMPof.( \u0442\u0431"))

    @settings(max_examples=1500, deadline=None)
    @given(st.lists(alphabet, min_size=1, max_size=24).map(lambda c: "".join(c).strip() or "x"))
    def check(part: str) -> None:
        whole = bool(_ABBREV_END_RE.search(part))
        assert whole == (part[-1] == "." and bool(_ABBREV_END_RE.search(part[-12:])))

    check()
