"""Ingest throughput: articles per second for JSONL, CSV, RSS and HTML input, and for the
dedup index (MinHash signatures + LSH) that ``score`` builds in its first pass.

Synthetic inputs are generated from ``corpora/framing/train.jsonl`` (ru / kk / en news-like
texts, ~100–250 words each) into a temporary folder: one JSONL file, one CSV file, RSS feeds
of 200 items each, and one HTML page per article (with navigation, header and footer
boilerplate for the extractor to remove).  Each format is read with
``mediamon.ingest.iter_articles`` (decode, parse, HTML extraction, normalisation, dates,
ids); timings are the best of ``--repeat`` runs, after one warm-up read.

Usage:
    python benchmarks/ingest.py                    # 5000 articles (HTML: 1000 pages)
    python benchmarks/ingest.py --n 20000 --html 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from mediamon.dedup import Deduplicator
from mediamon.ingest import iter_articles
from mediamon.records import Article

ROOT = Path(__file__).resolve().parents[1]


def _base() -> list[dict]:
    rows = [json.loads(x) for x in (ROOT / "corpora/framing/train.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if r.get("text")]


def _articles(n: int) -> list[dict]:
    base = _base()
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        b = base[i % len(base)]
        when = t0 + timedelta(minutes=37 * i)
        out.append({
            "id": f"b{i}",
            "title": b.get("title") or "",
            "text": f"{b['text']} ({i})",
            "date": when.isoformat(),
            "rfc822": format_datetime(when),
            "source": b.get("source") or "outlet",
            "url": f"https://news.example.invalid/{i}",
        })
    return out


def _write_inputs(folder: Path, n: int, n_html: int) -> dict[str, list[Path]]:
    arts = _articles(n)
    files: dict[str, list[Path]] = {}
    p = folder / "a.jsonl"
    with p.open("w", encoding="utf-8") as fh:
        for a in arts:
            fh.write(json.dumps({k: a[k] for k in ("id", "title", "text", "date", "source", "url")}, ensure_ascii=False) + "\n")
    files["jsonl"] = [p]
    p = folder / "a.csv"
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "text", "date", "source", "url"])
        for a in arts:
            w.writerow([a["id"], a["title"], a["text"], a["date"], a["source"], a["url"]])
    files["csv"] = [p]
    files["rss"] = []
    for k in range(0, n, 200):
        p = folder / f"feed{k // 200:04d}.rss"
        items = "".join(
            f"<item><guid>{a['id']}</guid><title>{escape(a['title'])}</title><link>{a['url']}</link>"
            f"<pubDate>{a['rfc822']}</pubDate><description>{escape('<p>' + a['text'] + '</p>')}</description></item>"
            for a in arts[k : k + 200]
        )
        p.write_text(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>',
                     encoding="utf-8")
        files["rss"].append(p)
    hdir = folder / "html"
    hdir.mkdir()
    files["html"] = []
    for a in arts[:n_html]:
        paras = "".join(f"<p>{escape(s)}.</p>" for s in a["text"].split(". "))
        page = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(a["title"])} | Outlet</title></head><body>'
            '<header><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav></header>'
            f'<main><article><h1>{escape(a["title"])}</h1><time datetime="{a["date"]}">{a["date"]}</time>{paras}</article></main>'
            '<aside>Most read: other stories</aside><footer>© Outlet. Subscribe to our channel.</footer></body></html>'
        )
        p = hdir / f"{a['id']}.html"
        p.write_text(page, encoding="utf-8")
        files["html"].append(p)
    return files


def _time_read(paths: list[Path], repeat: int) -> tuple[float, float, int, list[Article]]:
    """Best wall-clock and best CPU seconds over ``repeat`` reads, the count and the articles."""
    list(iter_articles(paths[:1]))  # warm-up: imports, extractor initialisation
    best = best_cpu = float("inf")
    arts: list[Article] = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        items = list(iter_articles(paths))
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
        arts = [i for i in items if isinstance(i, Article)]
    return best, best_cpu, len(arts), arts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="articles for JSONL, CSV and RSS")
    ap.add_argument("--html", type=int, default=1000, help="HTML pages")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_inputs(Path(tmp), a.n, a.html)
        print("| input | articles | MB | wall s | articles/s (wall) | articles/s (CPU) |")
        print("|---|---:|---:|---:|---:|---:|")
        arts: list[Article] = []
        for fmt in ("jsonl", "csv", "rss", "html"):
            secs, cpu, n, got = _time_read(files[fmt], a.repeat)
            mb = sum(p.stat().st_size for p in files[fmt]) / 1e6
            print(f"| {fmt.upper()} | {n} | {mb:.1f} | {secs:.2f} | {n / secs:,.0f} | {n / cpu:,.0f} |")
            if fmt == "jsonl":
                arts = got
        t, c = time.perf_counter(), time.process_time()
        d = Deduplicator()
        for x in arts:
            d.add(x.id, x.text, x.published_at)
        d.resolve()
        secs, cpu = time.perf_counter() - t, time.process_time() - c
        print(f"| dedup index (MinHash+LSH), on the JSONL articles | {len(arts)} | – | {secs:.2f} | "
              f"{len(arts) / secs:,.0f} | {len(arts) / cpu:,.0f} |")


if __name__ == "__main__":
    main()
