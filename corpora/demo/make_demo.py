"""Generate the demo feed from the held-out demo pool of the seed corpus.

    python corpora/demo/make_demo.py

Every article is one passage of ``corpora/framing/demo_pool.jsonl`` or
``corpora/framing/validation.jsonl`` (never in the training split), each used once, dated inside a quarter from 2014Q1 to 2026Q3 so that the *true* stance
mix follows a documented path: a Russian-orbit-leaning period after 2014, a gradual balance, and a
multi-vector shift after 2022.  All text is synthetic (written for the project).

Writes ``feed.jsonl`` and ``feed.rss`` (the same articles), ``truth.jsonl`` (id → stance),
and ``truth_quarterly.csv`` (target and realised shares and framing index per quarter).
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
# The two splits no bundled model trains on: the demo pool, and the validation split (used only
# to pick the fine-tuning epoch and calibrate the optional LoRA model, never by the default).
POOLS = (HERE.parent / "framing" / "demo_pool.jsonl", HERE.parent / "framing" / "validation.jsonl")
STANCES = ("multi_vector", "russian_orbit", "neutral", "off_topic")


def target_mix(q_index: float) -> dict[str, float]:
    """Shares over all articles for quarter ``q_index`` years since 2014.0.

    2014–2015: Russian-orbit framing dominates (the years after Crimea and the EAEU's launch);
    2016–2021: a slow drift towards balance; 2022: a sharp multi-vector shift after the
    invasion of Ukraine; 2023 on: multi-vector framing dominates.  Off-topic stays at 16%.
    """
    year = 2014 + q_index
    if year < 2016:
        mv, ro = 0.15, 0.55
    elif year < 2022:
        t = (year - 2016) / 6
        mv, ro = 0.15 + 0.15 * t, 0.55 - 0.15 * t
    elif year < 2023:
        t = year - 2022
        mv, ro = 0.30 + 0.28 * t, 0.40 - 0.26 * t
    else:
        mv, ro = 0.58, 0.14
    off = 0.16
    neu = 1.0 - off - mv - ro
    return {"multi_vector": mv, "russian_orbit": ro, "neutral": neu, "off_topic": off}


def quarters() -> list[tuple[int, int]]:
    return [(y, q) for y in range(2014, 2027) for q in range(1, 5) if (y, q) <= (2026, 3)]


def main() -> int:
    rng = random.Random(2014)
    pool = [json.loads(line) for p in POOLS for line in p.open(encoding="utf-8") if line.strip()]
    by_stance: dict[str, list[dict]] = {s: [r for r in pool if r["stance"] == s] for s in STANCES}
    for s in STANCES:
        rng.shuffle(by_stance[s])
    qs = quarters()
    # Every pool passage is used once.  A passage of stance s is placed in quarter q with
    # probability proportional to the target share of s in q, so each stance's articles follow
    # its target path over time (Russian-orbit framing thinning out, multi-vector rising after
    # 2022) while the pool's own stance counts are respected.  The documented truth is the
    # realised label mix of each quarter.
    mixes = [target_mix(qi / 4) for qi in range(len(qs))]
    articles: list[dict] = []
    for s in STANCES:
        w = [m[s] for m in mixes]
        for r in by_stance[s]:
            qi = rng.choices(range(len(qs)), weights=w)[0]
            y, q = qs[qi]
            start = datetime(y, 3 * (q - 1) + 1, 1, tzinfo=UTC)
            end = datetime(y + (q == 4), (3 * q) % 12 + 1, 1, tzinfo=UTC)
            ts = start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
            articles.append({"r": r, "ts": ts, "quarter": f"{y}Q{q}"})
        by_stance[s] = []
    truth_rows = []
    for qi, (y, q) in enumerate(qs):
        picked = [a["r"] for a in articles if a["quarter"] == f"{y}Q{q}"]
        c = Counter(r["stance"] for r in picked)
        rel = c["multi_vector"] + c["russian_orbit"] + c["neutral"]
        mv, ro = c["multi_vector"], c["russian_orbit"]
        start = datetime(y, 3 * (q - 1) + 1, 1, tzinfo=UTC)
        truth_rows.append({
            "quarter": f"{y}Q{q}", "period": start.date().isoformat(), "n_articles": len(picked), "n_relevant": rel,
            **{f"target_{s}": round(mixes[qi][s], 4) for s in STANCES},
            **{f"true_share_{s}": round(c[s] / rel, 4) if rel else "" for s in STANCES[:3]},
            "true_framing_index": round((mv - ro) / (mv + ro), 4) if mv + ro else "",
        })
    articles.sort(key=lambda a: a["ts"])
    feed, truth = [], []
    for a in articles:
        r = a["r"]
        feed.append({
            "id": f"demo-{r['id']}",
            "title": r["title"],
            "text": r["text"],
            "published_at": a["ts"].isoformat().replace("+00:00", "Z"),
            "source": r["source"],
            "url": f"https://demo.mediamon.invalid/{r['lang']}/{r['id']}",
            "synthetic": True,
        })
        truth.append({"id": f"demo-{r['id']}", "stance": r["stance"], "topics": r["topics"], "lang": r["lang"], "quarter": a["quarter"]})
    (HERE / "feed.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in feed), encoding="utf-8")
    (HERE / "truth.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in truth), encoding="utf-8")
    items = "".join(
        f"<item><guid isPermaLink=\"false\">{escape(x['id'])}</guid><title>{escape(x['title'])}</title>"
        f"<link>{escape(x['url'])}</link><pubDate>{format_datetime(datetime.fromisoformat(x['published_at'].replace('Z', '+00:00')))}</pubDate>"
        f"<source url=\"https://demo.mediamon.invalid/\">{escape(x['source'])}</source>"
        f"<description>{escape(x['text'])}</description></item>\n"
        for x in feed
    )
    (HERE / "feed.rss").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>mediamon demo feed (synthetic)</title>'
        "<link>https://demo.mediamon.invalid/</link><description>Synthetic articles written for the mediamon project</description>\n"
        + items + "</channel></rss>\n",
        encoding="utf-8",
    )
    with (HERE / "truth_quarterly.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(truth_rows[0]))
        w.writeheader()
        w.writerows(truth_rows)
    print(f"{len(feed)} articles in {len(qs)} quarters from a pool of {len(pool)}")
    print("languages:", dict(Counter(t["lang"] for t in truth)), "stances:", dict(Counter(t["stance"] for t in truth)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
