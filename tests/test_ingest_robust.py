"""Messy real-world input: encodings, malformed files, HTML, dates; property tests that
readers never crash and never lose a record (accepted + rejected = input)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediamon.config import IngestConfig
from mediamon.ingest import DateParseError, DecodeError, decode_bytes, iter_articles, parse_date
from mediamon.ingest.fields import RawRecord, build_article
from mediamon.normalize import normalize_text
from mediamon.records import Article, Reject

FIX = Path(__file__).parent / "fixtures"
MALFORMED = FIX / "malformed"
ENCODINGS = FIX / "encodings"
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _split(items):  # type: ignore[no-untyped-def]
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Reject)]


# -- malformed inputs, each stating what it expects ------------------------------------------
_EXPECTED = yaml.safe_load((MALFORMED / "EXPECTED.yaml").read_text(encoding="utf-8"))


def test_every_malformed_input_states_its_expectation() -> None:
    files = {p.name for p in MALFORMED.iterdir() if p.suffix not in (".py", ".yaml")}
    assert files == set(_EXPECTED)


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_malformed_input(name: str) -> None:
    exp = _EXPECTED[name]
    arts, rej = _split(list(iter_articles([MALFORMED / name])))
    assert len(arts) == exp["accepted"], exp["why"]
    assert [[r.line, r.code] for r in rej] == exp["rejects"], exp["why"]
    for r in rej:
        assert r.reason and name in r.message()
    for a in arts:
        assert a.text and unicodedata.is_normalized("NFC", a.text)
        assert "<" not in a.text or "<p>" not in a.text
        assert "root:" not in a.text and "lol" not in a.text  # no file contents, no entity expansion


def test_malformed_specifics() -> None:
    arts, _ = _split(list(iter_articles([MALFORMED / "control_chars.jsonl"])))
    t = arts[0].text
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in t if c != "\n")
    assert arts[0].title == "Zákon" and "\u0301" not in arts[0].title  # NFD combined to NFC
    arts, _ = _split(list(iter_articles([MALFORMED / "html_in_text.jsonl"])))
    assert "<" not in arts[0].text and "alert" not in arts[0].text and "Второй абзац." in arts[0].text
    assert "Home | World" not in arts[1].text and "two million tonnes" in arts[1].text
    assert "Subscribe" not in arts[1].text and arts[1].title
    arts, _ = _split(list(iter_articles([MALFORMED / "odd_dates.jsonl"])))
    assert [(a.date_flag, a.published_raw) for a in arts][:3] == [
        ("unparsed", "31.02.2024"), ("future", "2099-01-01"), ("ancient", "5 мая 1985 г.")]
    assert arts[3].date_flag is None and arts[3].published_at == datetime(2024, 1, 1, 8, 5, tzinfo=UTC)


def test_malformed_folder_as_one_input_is_read_in_order() -> None:
    items = list(iter_articles([MALFORMED]))
    total = sum(e["accepted"] + len(e["rejects"]) for e in _EXPECTED.values())
    assert len(items) == total


# -- encodings -------------------------------------------------------------------------------
_ENC = yaml.safe_load((ENCODINGS / "EXPECTED.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(_ENC))
def test_encoding_fixture(name: str) -> None:
    enc, lang = _ENC[name]
    arts, rej = _split(list(iter_articles([ENCODINGS / name])))
    assert not rej and len(arts) == 1
    a = arts[0]
    assert a.encoding == enc
    if lang == "kk":
        assert "Қазақстан мен Қытай Қорғос" in a.text and "Ќ" not in a.text
    else:
        assert "Казахстан и Россия подписали меморандум" in a.text


def test_encoding_fixture_dates() -> None:
    arts, _ = _split(list(iter_articles([ENCODINGS / "ru_koi8r.csv", ENCODINGS / "ru_cp1251.jsonl"])))
    assert arts[0].published_raw == "12.03.2025" and arts[0].published_at == datetime(2025, 3, 11, 19, 0, tzinfo=UTC)
    assert arts[1].published_raw == "1 января 2024, 14:05"


def test_decode_rejects_with_reason() -> None:
    with pytest.raises(DecodeError, match="confidence|no character encoding"):
        decode_bytes(bytes(range(128, 256)) * 20, min_confidence=0.9)


def test_kazakh_cannot_be_cp1251() -> None:
    with pytest.raises(UnicodeEncodeError):
        "Қазақстан".encode("cp1251")


# -- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw,iso",
    [
        ("1 января 2024, 14:05", "2024-01-01T08:05:00+00:00"),
        ("1 января 2024 г. в 14:05 MSK", "2024-01-01T11:05:00+00:00"),
        ("1 января 2024, 14:05 (UTC+3)", "2024-01-01T11:05:00+00:00"),
        ("понедельник, 3 марта 2025", "2025-03-02T19:00:00+00:00"),
        ("12.03.2025", "2025-03-11T19:00:00+00:00"),
        ("12.03.25 10:00", "2025-03-12T05:00:00+00:00"),
        ("2025/03/12", "2025-03-11T19:00:00+00:00"),
        ("3 наурыз 2024 ж. 10:00", "2024-03-03T05:00:00+00:00"),
        ("2024 жылғы 1 қаңтар", "2023-12-31T18:00:00+00:00"),
        ("Jan 5, 2024 10:00 PM", "2024-01-05T16:00:00+00:00"),
        ("5 January 2024 at 9:30 a.m.", "2024-01-05T03:30:00+00:00"),
        ("Tue, 02 Jan 2024 09:00:00 GMT", "2024-01-02T09:00:00+00:00"),
        ("2024-03-01T10:00:00+0500", "2024-03-01T05:00:00+00:00"),
    ],
)
def test_dates_forms(raw: str, iso: str) -> None:
    assert parse_date(raw).isoformat() == iso


def test_dates_source_timezone(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"text": "x y z", "source": "tass.ru", "date": "1 января 2024, 14:05"}, ensure_ascii=False) + "\n")
    cfg = IngestConfig(source_timezones={"tass.ru": "Europe/Moscow"})
    a = next(iter(iter_articles([p], config=cfg)))
    assert isinstance(a, Article) and a.published_at == datetime(2024, 1, 1, 11, 5, tzinfo=UTC)
    assert a.published_raw == "1 января 2024, 14:05"


@PROPS
@given(st.text(max_size=60))
def test_prop_parse_date_never_crashes(raw: str) -> None:
    try:
        dt = parse_date(raw)
    except DateParseError:
        return
    assert dt.tzinfo is not None and dt.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


# -- normalisation ---------------------------------------------------------------------------
@PROPS
@given(st.text(max_size=300))
def test_prop_normalize_idempotent_nfc_clean(text: str) -> None:
    out = normalize_text(text)
    assert normalize_text(out) == out
    assert unicodedata.is_normalized("NFC", out)
    assert not any(unicodedata.category(c) == "Cc" for c in out if c != "\n")


_field_values = st.one_of(st.none(), st.text(max_size=80), st.integers(), st.floats(allow_nan=True),
                          st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@PROPS
@given(st.dictionaries(st.sampled_from(["id", "text", "body", "title", "date", "url", "source", "x", "pubDate"]), _field_values))
def test_prop_build_article_never_raises(fields: dict) -> None:  # type: ignore[type-arg]
    out = build_article(RawRecord("f", 1, fields, "utf-8", None), IngestConfig())
    assert isinstance(out, (Article, Reject))
    if isinstance(out, Article):
        assert out.text.strip() and (out.published_at is None or out.published_at.tzinfo is not None)


# -- readers: never crash, never lose a record -----------------------------------------------
_json_line = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=60)}, optional={"id": st.text(max_size=8), "date": st.text(max_size=20),
                                                                     "title": st.text(max_size=20)}).map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s),
)


@PROPS
@given(st.lists(_json_line, max_size=15))
def test_prop_jsonl_accepted_plus_rejected_is_input(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    p = tmp_path_factory.mktemp("j") / "f.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    arts, rej = _split(list(iter_articles([p])))
    assert len(arts) + len(rej) == sum(1 for ln in lines if ln.strip())


@PROPS
@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=10))
def test_prop_jsonl_random_bytes_never_crash(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]) -> None:
    p = tmp_path_factory.mktemp("b") / "f.jsonl"
    p.write_bytes(b"\n".join(lines))
    arts, rej = _split(list(iter_articles([p])))
    if not rej or all(r.line > 0 for r in rej):  # no whole-file reject: every non-blank line is accounted for
        assert len(arts) + len(rej) <= len(lines)


_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@PROPS
@given(st.lists(st.tuples(_cell, _cell, _cell), max_size=12))
def test_prop_csv_accepted_plus_rejected_is_input(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)  # quotes cells holding \r or \n
    w.writerow(["id", "text", "date"])
    w.writerows(rows)
    p = tmp_path_factory.mktemp("c") / "f.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    arts, rej = _split(list(iter_articles([p])))
    assert len(arts) + len(rej) == sum(1 for r in rows if any(c.strip() for c in r))


@PROPS
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=80)), min_size=1, max_size=8))
def test_prop_rss_accepted_plus_rejected_is_entries(tmp_path_factory: pytest.TempPathFactory, items: list[tuple[str, str]]) -> None:
    from xml.sax.saxutils import escape

    def x(s: str) -> str:  # XML 1.0 cannot carry most control characters at all
        return escape("".join(c for c in s if c in "\t\n" or (c >= " " and c not in "\ufffe\uffff" and not "\ud800" <= c <= "\udfff")))

    body = "".join(f"<item><title>{x(t)}</title><description>{x(d)}</description></item>" for t, d in items)
    p = tmp_path_factory.mktemp("r") / "f.rss"
    p.write_text(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>{body}</channel></rss>',
                 encoding="utf-8")
    arts, rej = _split(list(iter_articles([p])))
    assert len(arts) + len(rej) == len(items)


@PROPS
@given(st.binary(max_size=300))
def test_prop_decode_bytes_never_crashes(data: bytes) -> None:
    try:
        text, enc = decode_bytes(data)
    except DecodeError:
        return
    assert isinstance(text, str) and enc


def test_jsonl_keeps_unicode_line_separators(tmp_path: Path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_text(json.dumps({"id": "1", "text": "a\u2028b\u0085c\x1cd"}, ensure_ascii=False) + "\n", encoding="utf-8")
    arts, rej = _split(list(iter_articles([p])))
    assert len(arts) == 1 and not rej


def test_stdin_bad_line_is_a_reject(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    data = (json.dumps({"id": "1", "text": "Қазақстан"}, ensure_ascii=False) + "\n").encode() + b'{"id": "2", "text": "\xcf\xf0"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    arts, rej = _split(list(iter_articles(["-"])))
    assert [a.id for a in arts] == ["1"] and [(r.line, r.code) for r in rej] == [(2, "bad_encoding")]


# -- streaming readers (JSONL, CSV/TSV): same records as a whole-file read, bounded memory ----
def _whole_file_reference(p: Path) -> list[object]:
    """What the readers gave before they streamed: the whole file decoded at once."""
    from mediamon.ingest import readers

    data, name = p.read_bytes(), str(p)
    if readers.format_of(p) == "jsonl":
        return list(readers._iter_jsonl_bytes(name, data, 0.6))
    dec = readers._decode_file(name, data, 0.6)
    if isinstance(dec, Reject):
        return [dec]
    return list(readers._iter_csv(name, io.StringIO(dec[0], newline=""), dec[1], "," if p.suffix == ".csv" else "\t"))


@pytest.mark.parametrize("sample", [None, 64])
def test_streaming_readers_match_whole_file_on_fixtures(fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch, sample: int | None) -> None:
    from mediamon.ingest import iter_raw, readers

    files = sorted(p for p in fixtures_dir.rglob("*") if p.suffix in (".jsonl", ".csv", ".tsv"))
    assert len(files) >= 15
    if sample is not None:  # a sample far smaller than the file: only UTF-8 files decide the same way
        monkeypatch.setattr(readers, "SAMPLE_BYTES", sample)
        files = [p for p in files if p.parent.name != "encodings" or "utf8" in p.name]
    for p in files:
        got = list(iter_raw(p))
        assert got == _whole_file_reference(p), p.name
        assert all(getattr(x, "line", 0) >= 0 for x in got)


def test_streaming_jsonl_bad_encoding_line_far_from_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mediamon.ingest import iter_raw, readers

    monkeypatch.setattr(readers, "SAMPLE_BYTES", 4096)  # the bad line lies far beyond the sample
    lines = [json.dumps({"id": f"a{i}", "text": f"Қазақстан жаңалықтары, нөмір {i}."}, ensure_ascii=False).encode() for i in range(1, 3001)]
    lines[1499] = '{"id": "a1500", "text": "Новости дня"}'.encode("cp1251")  # line 1500: cp1251 in a UTF-8 file
    p = tmp_path / "big.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    assert p.stat().st_size > 40 * readers.SAMPLE_BYTES
    items = list(iter_raw(p))
    rej = [x for x in items if isinstance(x, Reject)]
    recs = [x for x in items if isinstance(x, RawRecord)]
    assert [(r.file, r.line, r.code) for r in rej] == [(str(p), 1500, "bad_encoding")]
    assert f"{p}:1500:" in rej[0].message() and "not UTF-8" in rej[0].reason
    assert len(recs) == 2999 and len({r.fields["id"] for r in recs}) == 2999
    assert [r.line for r in recs] == [i for i in range(1, 3001) if i != 1500]
    assert {r.line: r.fields["id"] for r in recs}[1499] == "a1499" and {r.line: r.fields["id"] for r in recs}[1501] == "a1501"
    assert all(r.encoding == "utf-8" for r in recs)


def test_streaming_csv_multiline_quoted_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mediamon.ingest import iter_raw, readers

    monkeypatch.setattr(readers, "SAMPLE_BYTES", 32)
    rows = [["id", "text", "date"], ["1", "Бірінші жол\nекінші жол", "2024-01-01"], ["2", 'он сказал: "да",\r\nи ушёл', ""],
            ["3", "a\rb", "2024-01-02"], ["4", "plain", "2024-01-03"]]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    p = tmp_path / "m.csv"
    p.write_text(buf.getvalue(), encoding="utf-8", newline="")
    got = list(iter_raw(p))
    assert got == _whole_file_reference(p)
    assert [(r.line, r.fields["id"], r.fields["text"]) for r in got if isinstance(r, RawRecord)] == [
        (2, "1", "Бірінші жол\nекінші жол"), (4, "2", 'он сказал: "да",\r\nи ушёл'), (6, "3", "a\rb"), (8, "4", "plain")]


def test_streaming_csv_bad_encoding_line_rejects_its_record_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mediamon.ingest import iter_raw, readers

    monkeypatch.setattr(readers, "SAMPLE_BYTES", 64)
    body = ["id,text"] + [f'{i},"Мәтін {i}\nекінші жол"' for i in range(1, 201)]
    data = "\n".join(body).encode() + b"\n"
    bad = '150,"Текст 150\n'.encode("cp1251")
    data = data.replace('150,"Мәтін 150\n'.encode(), bad)
    p = tmp_path / "b.csv"
    p.write_bytes(data)
    items = list(iter_raw(p))
    rej = [x for x in items if isinstance(x, Reject)]
    recs = [x for x in items if isinstance(x, RawRecord)]
    assert [(r.line, r.code) for r in rej] == [(300, "bad_encoding")]
    assert len(recs) == 199 and "150" not in {r.fields["id"] for r in recs}
    assert [r.line for r in recs][148:150] == [298, 302]


def test_streaming_jsonl_yields_before_the_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first record comes out after reading a few KB of a multi-MB file, not all of it."""
    from mediamon.ingest import iter_raw, readers

    class Counting(io.RawIOBase):
        def __init__(self, path: Path) -> None:
            self.f = path.open("rb", buffering=0)
            self.read_total = 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def seek(self, pos: int, whence: int = 0) -> int:
            return self.f.seek(pos, whence)

        def tell(self) -> int:
            return self.f.tell()

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            n = self.f.readinto(b)
            self.read_total += n or 0
            return n or 0

        def close(self) -> None:
            self.f.close()
            super().close()

    opened: list[Counting] = []

    def open_counting(path: Path) -> io.BufferedReader:
        c = Counting(path)
        opened.append(c)
        return io.BufferedReader(c, buffer_size=8192)

    monkeypatch.setattr(readers, "_open_binary", open_counting)
    monkeypatch.setattr(readers, "SAMPLE_BYTES", 16384)
    p = tmp_path / "big.jsonl"
    with p.open("w", encoding="utf-8") as fh:
        for i in range(20000):
            fh.write(json.dumps({"id": str(i), "text": f"Жаңалық {i} " + "x" * 80}, ensure_ascii=False) + "\n")
    size = p.stat().st_size
    gen = iter_raw(p)
    first = next(gen)
    assert isinstance(first, RawRecord) and first.line == 1
    assert opened and opened[0].read_total < size // 20, (opened[0].read_total, size)
    assert sum(1 for _ in gen) == 19999
    assert opened[0].read_total >= size


_nasty_cell = st.text(alphabet=st.sampled_from(list('ab,"\r\n\tжә ')), max_size=12)


@PROPS
@given(st.lists(st.tuples(_nasty_cell, _nasty_cell), max_size=10), st.sampled_from(["\n", "\r\n", "\r"]))
def test_prop_streaming_csv_matches_whole_file(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str]], eol: str) -> None:
    from mediamon.ingest import iter_raw

    buf = io.StringIO()
    csv.writer(buf, lineterminator=eol).writerows([("id", "text"), *rows])
    p = tmp_path_factory.mktemp("s") / "f.csv"
    p.write_text(buf.getvalue(), encoding="utf-8", newline="")
    assert list(iter_raw(p)) == _whole_file_reference(p)


@PROPS
@given(st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=10))
def test_prop_streaming_jsonl_matches_whole_file(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]) -> None:
    from mediamon.ingest import iter_raw

    data = b"\n".join(lines)
    p = tmp_path_factory.mktemp("sj") / "f.jsonl"
    p.write_bytes(data)
    got = list(iter_raw(p))
    if data.startswith(b"\xef\xbb\xbf"):  # a BOM is now dropped on line 1 even when other lines are broken
        return
    assert got == _whole_file_reference(p)
