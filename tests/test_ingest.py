from datetime import UTC, datetime
from pathlib import Path

import pytest

from mediamon.config import IngestConfig
from mediamon.errors import InputError, UsageError
from mediamon.ingest import decode_bytes, iter_articles, iter_examples, parse_date, stable_id
from mediamon.records import Article, Example, Reject


def _split(items):  # type: ignore[no-untyped-def]
    arts = [i for i in items if isinstance(i, Article)]
    rej = [i for i in items if isinstance(i, Reject)]
    return arts, rej


def test_ingest_jsonl_aliases_ids_and_rejects(fixtures_dir: Path) -> None:
    arts, rej = _split(list(iter_articles([fixtures_dir / "feeds" / "mixed.jsonl"])))
    assert [a.id for a in arts][0] == "a1"
    a1 = arts[0]
    assert a1.source == "Steppe Wire" and a1.url == "https://example.invalid/a1"
    assert a1.published_at == datetime(2023, 5, 2, 4, 0, tzinfo=UTC)
    assert a1.published_raw == "2023-05-02T10:00:00+06:00"
    assert dict(a1.meta) == {"section": "world"}
    # no id -> stable id from the URL
    assert arts[1].id == stable_id(url="https://example.invalid/ru/2", title=None, text="")
    assert arts[1].published_at == datetime(2021, 9, 6, 13, 45, tzinfo=UTC)
    codes = {(r.line, r.code) for r in rej}
    assert (3, "empty_text") in codes and (4, "bad_json") in codes and (6, "not_object") in codes
    # unparseable date is kept (dates not required) and flagged
    a7 = [a for a in arts if a.id == "a7"][0]
    assert a7.published_at is None and a7.date_flag == "unparsed"
    assert len(arts) + len(rej) == 7


def test_ingest_require_dates_rejects_bad_date(fixtures_dir: Path) -> None:
    arts, rej = _split(list(iter_articles([fixtures_dir / "feeds" / "mixed.jsonl"], config=IngestConfig(require_dates=True))))
    bad = [r for r in rej if r.code == "bad_date"]
    assert len(bad) == 1 and bad[0].line == 7 and bad[0].field == "published_at"
    assert "mixed.jsonl:7: field 'published_at'" in bad[0].message()


def test_ingest_csv_tsv(fixtures_dir: Path) -> None:
    arts, rej = _split(list(iter_articles([fixtures_dir / "feeds" / "dump.csv", fixtures_dir / "feeds" / "dump.tsv"])))
    assert [a.id for a in arts] == ["c1", "c2", "t1"]
    assert arts[0].published_at == datetime(2025, 3, 11, 19, 0, tzinfo=UTC)
    assert len(rej) == 1 and rej[0].code == "bad_csv" and rej[0].line == 4


def test_ingest_rss_atom_html(fixtures_dir: Path) -> None:
    arts, rej = _split(list(iter_articles([fixtures_dir / "feeds" / f for f in ("feed.rss", "feed.atom", "page.html")])))
    ids = [a.id for a in arts]
    assert ids[:2] == ["r1", "urn:e1"]
    r1 = arts[0]
    assert r1.title == "Kazakhstan & China"
    assert "rail crossing" in r1.text and "<p>" not in r1.text and "Second paragraph." in r1.text
    assert r1.source == "Test Feed"
    html = arts[2]
    assert "Middle Corridor" in html.text and "Home | World" not in html.text
    assert [r.code for r in rej] == ["missing_text"]


def test_ingest_directory_reads_known_files_sorted(fixtures_dir: Path) -> None:
    items = list(iter_articles([fixtures_dir / "feeds"]))
    files = [Path(i.origin.rsplit(":", 1)[0]).name if isinstance(i, Article) else Path(i.file).name for i in items]
    assert files == sorted(files)


def test_ingest_unknown_format_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(UsageError, match="unknown input format"):
        list(iter_articles([tmp_path / "x.docx"]))
    with pytest.raises(InputError, match="no such file"):
        list(iter_articles([tmp_path / "missing.jsonl"]))


@pytest.mark.parametrize("enc", ["cp1251", "koi8_r", "utf-16", "utf-8-sig"])
def test_ingest_decoding_russian_encodings(tmp_path: Path, enc: str) -> None:
    text = '{"id": "x", "text": "Казахстан и Россия подписали меморандум о транзите грузов через Актау и Хоргос."}\n'
    p = tmp_path / "f.jsonl"
    p.write_bytes(text.encode(enc))
    arts, rej = _split(list(iter_articles([p])))
    assert not rej and arts[0].text.startswith("Казахстан и Россия")
    assert arts[0].encoding in {"cp1251", "koi8-r", "utf-16", "utf-8"}


def test_ingest_kazakh_bytes_decode_utf8() -> None:
    t = "Қазақстан Республикасының Президенті Әкімшілігі хабарлады."
    assert decode_bytes(t.encode("utf-8")) == (t, "utf-8")


@pytest.mark.parametrize(
    "raw,iso",
    [
        ("1 января 2024, 14:05", "2024-01-01T08:05:00+00:00"),
        ("12.03.2025", "2025-03-11T19:00:00+00:00"),
        ("2024 жылғы 3 наурыз", "2024-03-02T19:00:00+00:00"),
        ("March 3, 2024", "2024-03-02T19:00:00+00:00"),
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00+00:00"),
        ("Mon, 06 Sep 2021 16:45:00 +0300", "2021-09-06T13:45:00+00:00"),
    ],
)
def test_ingest_parse_date_forms(raw: str, iso: str) -> None:
    assert parse_date(raw).isoformat() == iso


def test_ingest_examples_validate_labels(tmp_path: Path) -> None:
    p = tmp_path / "l.jsonl"
    p.write_text(
        '{"text": "a", "stance": "neutral", "topics": "trade;energy"}\n'
        '{"text": "b", "stance": "pro_russia", "topics": []}\n'
        '{"text": "c", "stance": "neutral", "topics": ["sport"]}\n',
        encoding="utf-8",
    )
    items = list(iter_examples([p]))
    assert isinstance(items[0], Example) and items[0].topics == ("energy", "trade")
    assert [(i.code, i.field, i.line) for i in items[1:]] == [("bad_label", "stance", 2), ("bad_label", "topics", 3)]


def test_ingest_kazakh_legacy_kz1048_and_utf16(tmp_path: Path) -> None:
    t = "Қазақстан Республикасының Үкіметі жаңа бағдарламаны бекітті."
    with pytest.raises(UnicodeEncodeError):
        t.encode("cp1251")  # why Kazakh outlets used KZ-1048 or UTF-16
    assert decode_bytes(t.encode("kz1048")) == (t, "kz1048")
    assert decode_bytes(t.encode("utf-16")) == (t, "utf-16")


def test_ingest_undecodable_file_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(bytes(range(128, 256)) * 30)
    arts, rej = _split(list(iter_articles([p], config=IngestConfig(charset_min_confidence=0.95))))
    assert not arts and [(r.line, r.code) for r in rej] == [(0, "bad_encoding")] and "decode" in rej[0].reason
