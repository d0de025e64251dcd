"""Precision / recall of mediamon's near-duplicate detector on constructed syndication.

The set: ``--stories`` distinct base articles from ``corpora/framing/train.jsonl``
(ru / kk / en, several per topic, so many pairs are *distinct same-topic* articles), and for
each story 1–4 syndicated variants built the way outlets re-publish wire copy:

* ``retitled``    same body, a different headline, a different URL;
* ``trimmed``     the last 10–30 % of the sentences cut;
* ``boilerplate`` an agency dateline prepended and an outlet footer appended
                  ("Subscribe to our Telegram channel ...", in the article's language);
* ``mixed``       retitled + trimmed + boilerplate together.

Hard negatives: for a fifth of the stories a *follow-up* is added — a different article
on the same topic that reuses the story's lead sentence (news follow-ups quote the lead)
with another same-topic article's body.  It is a distinct story.

Every variant gets a later date than its story.  Ground truth: two articles are duplicates
when they come from the same story.  Reported: pairwise precision and recall (over all
pairs that the detector puts in one cluster), and the share of variants whose
``duplicate_of`` names the original story.

Usage:
    python benchmarks/dedup.py                  # default threshold 0.6, 200 stories
    python benchmarks/dedup.py --threshold 0.5 --stories 300 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

from mediamon.dedup import Deduplicator

ROOT = Path(__file__).resolve().parents[1]
_SENT = re.compile(r"(?<=[.!?»\"])\s+")

DATELINES = {
    "ru": ["АСТАНА, 3 марта. /ТАСС/. ", "АЛМАТЫ. КАЗИНФОРМ — ", "Москва, 12 января — РИА Новости. "],
    "kk": ["АСТАНА. ҚазАқпарат – ", "Алматы, 5 наурыз. Kazinform – "],
    "en": ["ASTANA, March 3 (Kazinform) – ", "MOSCOW, Jan 12 (TASS) - "],
}
FOOTERS = {
    "ru": [
        "Подписывайтесь на наш Telegram-канал, чтобы первыми узнавать главные новости.",
        "При использовании материалов ссылка на источник обязательна. Все права защищены.",
    ],
    "kk": ["Жаңалықтарды бірінші болып білу үшін Telegram-арнамызға жазылыңыз."],
    "en": [
        "Follow us on Telegram for the latest news. All rights reserved.",
        "Read more: our coverage of Central Asia. Share this article.",
    ],
}
NEW_TITLES = ["Срочно: ", "Breaking: ", "Жаңалық: ", "Главное за день: ", "Update: "]


def _load(path: Path) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if len(r.get("text", "").split()) >= 40]


def _variant(rng: random.Random, story: dict, kind: str) -> dict:
    lang = story.get("lang", "en") if story.get("lang") in DATELINES else "en"
    sents = _SENT.split(story["text"])
    title = story.get("title") or ""
    text = story["text"]
    if kind in ("trimmed", "mixed"):
        keep = max(2, round(len(sents) * rng.uniform(0.7, 0.9)))
        text = " ".join(sents[:keep])
    if kind in ("boilerplate", "mixed"):
        text = rng.choice(DATELINES[lang]) + text + "\n\n" + rng.choice(FOOTERS[lang])
    if kind in ("retitled", "mixed"):
        title = rng.choice(NEW_TITLES) + title.lower()
    return {"title": title, "text": text}


def build_set(stories: int, seed: int) -> tuple[list[dict], list[int]]:
    """Articles (input order shuffled) and the story index of each."""
    rng = random.Random(seed)
    base = _load(ROOT / "corpora" / "framing" / "train.jsonl")
    rng.shuffle(base)
    base = base[:stories]
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    pool = _load(ROOT / "corpora" / "framing" / "train.jsonl")
    used = {s["id"] for s in base}
    by_topic: dict[str, list[dict]] = {}
    for r in pool:
        if r["id"] not in used:
            for t in r.get("topics") or ["none"]:
                by_topic.setdefault(t, []).append(r)
    items: list[tuple[dict, int]] = []
    n_follow = 0
    for k, s in enumerate(base):
        when = t0 + timedelta(hours=rng.randrange(0, 24 * 365))
        items.append(({"id": f"s{k}", "title": s.get("title"), "text": s["text"], "when": when, "kind": "original"}, k))
        for j in range(rng.randint(1, 4)):
            kind = rng.choice(["retitled", "trimmed", "boilerplate", "mixed"])
            v = _variant(rng, s, kind)
            v.update(id=f"s{k}v{j}", when=when + timedelta(minutes=rng.randint(5, 3000)), kind=kind)
            items.append((v, k))
        same = by_topic.get((s.get("topics") or ["none"])[0], [])
        if rng.random() < 0.2 and same:
            other = rng.choice(same)
            lead = _SENT.split(s["text"])[0]
            n_follow += 1
            items.append(({"id": f"f{k}", "title": other.get("title"), "text": lead + " " + other["text"],
                           "when": when + timedelta(days=1), "kind": "follow-up"}, stories + k))
    rng.shuffle(items)  # the original is not necessarily first in input order
    return [a for a, _ in items], [k for _, k in items]


def evaluate(threshold: float, stories: int, seed: int, num_perm: int, shingle: int) -> dict:
    arts, truth = build_set(stories, seed)
    d = Deduplicator(threshold=threshold, num_perm=num_perm, shingle_size=shingle)
    t = time.perf_counter()
    for a in arts:
        d.add(a["id"], a["text"], a["when"])
    dup = d.resolve()
    secs = time.perf_counter() - t
    cluster = [dup.get(i, a["id"]) for i, a in enumerate(arts)]
    tp = fp = fn = 0
    for i, j in combinations(range(len(arts)), 2):
        same_pred = cluster[i] == cluster[j]
        same_true = truth[i] == truth[j]
        tp += same_pred and same_true
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    variants = [i for i, a in enumerate(arts) if a["kind"] not in ("original", "follow-up")]
    orig_id = {truth[i]: a["id"] for i, a in enumerate(arts) if a["kind"] == "original"}
    correct = sum(1 for i in variants if dup.get(i) == orig_id[truth[i]])
    originals_marked = sum(1 for i, a in enumerate(arts) if a["kind"] in ("original", "follow-up") and i in dup)
    by_kind: dict[str, list[int]] = {}
    for i in variants:
        by_kind.setdefault(arts[i]["kind"], []).append(int(dup.get(i) == orig_id[truth[i]]))
    return {
        "threshold": threshold,
        "num_perm": num_perm,
        "shingle": shingle,
        "articles": len(arts),
        "stories": stories,
        "variants": len(variants),
        "follow_ups": sum(1 for a in arts if a["kind"] == "follow-up"),
        "pair_precision": tp / (tp + fp) if tp + fp else 1.0,
        "pair_recall": tp / (tp + fn) if tp + fn else 1.0,
        "variants_linked_to_original": correct / len(variants),
        "recall_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(by_kind.items())},
        "distinct_wrongly_marked": originals_marked,
        "articles_per_s": round(len(arts) / secs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, nargs="+", default=[0.6])
    ap.add_argument("--stories", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--num-perm", type=int, default=64)
    ap.add_argument("--shingle", type=int, default=5)
    a = ap.parse_args()
    for t in a.threshold:
        print(json.dumps(evaluate(t, a.stories, a.seed, a.num_perm, a.shingle), ensure_ascii=False))


if __name__ == "__main__":
    main()
