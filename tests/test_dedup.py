"""Exact and near-duplicate detection: clusters, earliest representative, trends count once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediamon.config import Config, ScoreConfig
from mediamon.dedup import Deduplicator, dedup_tokens, find_duplicates, text_fingerprint
from mediamon.framing import load_model
from mediamon.pipeline import run_score
from mediamon.records import Article

STORY = (
    "Президент Казахстана Касым-Жомарт Токаев провёл переговоры с председателем КНР Си Цзиньпином в Астане. "
    "Стороны обсудили строительство второго железнодорожного пути через Достык и расширение транзита грузов "
    "по Транскаспийскому маршруту. По итогам встречи подписаны соглашения в сфере энергетики и сельского хозяйства, "
    "а также меморандум о сотрудничестве в области критических минералов."
)
OTHER = (
    "Министр энергетики Казахстана заявил, что страна увеличит добычу нефти на Кашагане в следующем году. "
    "По его словам, консорциум завершит ремонт установки комплексной подготовки газа к концу весны, "
    "а экспорт по Каспийскому трубопроводному консорциуму останется на прежнем уровне. Эксперты ожидают роста цен."
)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _art(i: str, text: str, hours: float | None, title: str | None = None) -> Article:
    return Article(id=i, text=text, title=title, published_at=None if hours is None else T0 + timedelta(hours=hours))


def test_dedup_exact_near_and_distinct() -> None:
    arts = [
        _art("a", STORY, 5),
        _art("b", STORY.upper().replace(".", " . "), 6),  # exact after normalisation
        _art("c", "АСТАНА. КАЗИНФОРМ — " + STORY + " Подписывайтесь на наш Telegram-канал.", 7, title="Другой заголовок"),
        _art("d", STORY.rsplit(",", 1)[0] + ".", 8),  # trimmed (last clause cut)
        _art("e", OTHER, 1),  # same topic area, different story
    ]
    dup, stats = find_duplicates(arts, threshold=0.6)
    assert dup == [None, "a", "a", "a", None]
    assert stats.n_duplicates == 3 and stats.n_exact == 1 and stats.n_clusters == 1
    assert arts[0].text == STORY  # records are not mutated


def test_dedup_representative_is_earliest_even_if_later_in_input() -> None:
    arts = [_art("late", STORY + " Источник: ТАСС.", 10), _art("early", STORY, 2), _art("undated", STORY + " Фото.", None)]
    dup, _ = find_duplicates(arts)
    assert dup == ["early", None, "early"]
    # ties by input order; undated counts as latest
    dup, _ = find_duplicates([_art("x", STORY, None), _art("y", STORY + " Фото.", None)])
    assert dup == [None, "x"]
    dup, _ = find_duplicates([_art("x", STORY, 3), _art("y", STORY + " Фото.", 3)])
    assert dup == [None, "x"]


def test_dedup_short_texts_only_exact() -> None:
    dup, _ = find_duplicates([_art("1", "Марафон в Алматы.", 1), _art("2", "Марафон в Астане.", 2), _art("3", "марафон в алматы", 3)])
    assert dup == [None, None, "1"]


def test_dedup_fingerprint_normalisation() -> None:
    assert text_fingerprint("Hello,   World!") == text_fingerprint("hello world")
    assert dedup_tokens("Қазақстан—Ресей") == ["қазақстан", "ресей"]


def test_dedup_is_deterministic_across_instances() -> None:
    a = Deduplicator().signature(STORY)[1]
    b = Deduplicator().signature(STORY)[1]
    assert a is not None and b is not None and (a == b).all()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([STORY, OTHER, STORY + " Фото: Акорда.", "Короткий текст."]), max_size=12))
def test_prop_dedup_clusters_point_to_non_duplicates(texts: list[str]) -> None:
    arts = [_art(f"i{k}", t, k) for k, t in enumerate(texts)]
    dup, stats = find_duplicates(arts)
    ids = {a.id for a in arts}
    reps = {d for d in dup if d is not None}
    assert reps <= ids
    for k, d in enumerate(dup):
        if d is not None:
            assert dup[[a.id for a in arts].index(d)] is None  # a representative is never itself a duplicate
            assert arts[k].id != d
    assert stats.n_duplicates == sum(d is not None for d in dup)


def test_dedup_in_score_and_trends_count_cluster_once(tiny_model_dir: Path, tmp_path: Path) -> None:
    from mediamon.config import TrendsConfig
    from mediamon.trends import aggregate_trends, read_scored

    p = tmp_path / "in.jsonl"
    rows = [
        {"id": "syn2", "text": "МОСКВА, 2 янв. /ТАСС/. " + STORY, "date": "2024-01-02T10:00:00Z", "url": "https://a.kz/2"},
        {"id": "orig", "text": STORY, "date": "2024-01-02T08:00:00Z", "url": "https://tass.ru/1"},
        {"id": "syn3", "text": STORY + " Читайте также.", "date": "2024-01-03T08:00:00Z", "url": "https://b.kz/3"},
        {"id": "other", "text": OTHER, "date": "2024-01-02T09:00:00Z"},
    ]
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    s = run_score([p], out, model=load_model(tiny_model_dir))
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in got] == ["syn2", "orig", "syn3", "other"]  # input order kept
    assert [r["duplicate_of"] for r in got] == ["orig", None, "orig", None]
    assert s.n_duplicates == 2 and s.n_duplicate_clusters == 1
    res = aggregate_trends(read_scored([out]), TrendsConfig(period="year", bootstrap=50, estimator="pcc"))
    assert sum(r["n_articles"] for r in res.rows) == 2
    # dedup off: no duplicate_of
    out2 = tmp_path / "o2.jsonl"
    run_score([p], out2, model=load_model(tiny_model_dir), config=Config(score=ScoreConfig(dedup=False)))
    assert all(json.loads(x)["duplicate_of"] is None for x in out2.read_text(encoding="utf-8").splitlines())


# -- compact per-article state -----------------------------------------------------------------
def test_idset_is_exact_even_when_hashes_collide(monkeypatch: pytest.MonkeyPatch) -> None:
    from mediamon import dedup

    ids = [f"id-{i}" for i in range(5000)] + ["Қазақ", "", "\U0001f600"]
    s = dedup.IdSet()
    for x in ids:
        s.add(x)
    s.add("id-7")  # already there
    assert len(s) == len(ids)  # crosses several buffer merges
    assert all(x in s for x in ids) and "id-5000" not in s and "id" not in s and 5 not in s
    monkeypatch.setattr(dedup, "_hash64", lambda _s: 42)  # every id collides: answers still exact
    c = dedup.IdSet()
    for x in ("a", "b", "c"):
        c.add(x)
    assert "b" in c and "d" not in c and len(c) == 3


def test_dedup_state_is_compact_and_matches_across_index_merges() -> None:
    """5 000 articles (the band index merges its buffer twice): every edited copy is found,
    and the state costs well under 1 KB per distinct article."""
    import random
    import tracemalloc

    rng = random.Random(11)
    vocab = [f"слово{i}" for i in range(3000)]
    originals: dict[int, str] = {}
    expected: dict[int, str] = {}
    items: list[tuple[str, str]] = [("warm", STORY)]
    for i in range(1, 5000):
        if i % 5 == 0 and i > 2500:
            k = rng.choice(sorted(originals))
            words = originals[k].split()
            words[rng.randrange(len(words))] = "правка"  # one word changed: a near-duplicate
            items.append((f"copy{i}", " ".join(words)))
            expected[i] = f"a{k}"
        else:
            originals[i] = " ".join(rng.choice(vocab) for _ in range(60))
            items.append((f"a{i}", originals[i]))
    d = Deduplicator(threshold=0.6)
    d.add(*items[0], None)  # imports and caches outside the measurement
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for a_id, text in items[1:]:
        d.add(a_id, text, None)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    got = d.resolve()
    assert got == expected
    assert grown / len(originals) < 1000, grown


def _edited_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    import random

    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(4000)]
    pairs = []
    for _ in range(n):
        words = [rng.choice(vocab) for _ in range(rng.randint(40, 120))]
        copy = words[: int(len(words) * rng.uniform(0.5, 1.0))]
        for _ in range(rng.randint(0, 5)):
            copy[rng.randrange(len(copy))] = rng.choice(vocab)
        pairs.append((" ".join(words), " ".join(copy)))
    return pairs


def test_signature_agreement_estimates_shingle_jaccard_without_bias() -> None:
    """The share of equal signature values estimates the Jaccard similarity of the 5-shingle
    sets: no bias, and the spread of a 64-value MinHash (sd sqrt(J(1-J)/64) <= 0.0625)."""
    import numpy as np

    from mediamon.dedup import shingles

    errs = []
    for seed in (1, 2):
        d = Deduplicator(seed=seed)
        pairs = _edited_pairs(150, seed)
        _, sigs, has = d.signatures([t for p in pairs for t in p])
        assert has.all()
        for k, (a, b) in enumerate(pairs):
            sa, sb = (set(shingles(dedup_tokens(t), 5)) for t in (a, b))
            errs.append(float((sigs[2 * k] == sigs[2 * k + 1]).mean()) - len(sa & sb) / len(sa | sb))
    e = np.array(errs)
    assert abs(e.mean()) < 0.012, e.mean()
    assert 0.03 < e.std() < 0.07, e.std()


def test_add_many_matches_add_one_by_one_across_hashing_segments() -> None:
    """Batched signatures equal one-at-a-time ones, texts far past one hashing segment
    (and a single text longer than one) included; clusters agree."""
    import numpy as np

    from mediamon import dedup

    pairs = _edited_pairs(40, 3)
    texts = [t for p in pairs for t in p]
    texts += ["short text", "", texts[0] * 700]  # under min_tokens, empty, > one segment alone
    assert len(texts[-1]) > dedup._POWERS_CACHED
    one, many = Deduplicator(), Deduplicator()
    fps, sigs, has = many.signatures(texts * 3)  # ~3 segments of back-to-back texts
    for k, t in enumerate(texts * 3):
        fp, sig = one.signature(t)
        assert fp == fps[k] and (sig is None) == (not has[k])
        if sig is not None:
            assert np.array_equal(sig, sigs[k])
    for i, t in enumerate(texts):
        one.add(f"a{i}", t, None)
    many.add_many([(f"a{i}", t, None) for i, t in enumerate(texts)])
    assert one.resolve() == many.resolve() and one.resolve()
