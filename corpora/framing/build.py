"""Build the seed corpus from the hand-written source files.

    python corpora/framing/build.py [--e5]

Reads ``src/*.jsonl`` (written for the project, all synthetic), removes near-duplicates
(MinHash Jaccard over word 3-shingles > 0.6, and with ``--e5`` multilingual-e5 cosine > 0.95),
assigns every passage a fixed split by a hash of its id (train 68% / validation 8% /
demo 24%, the demo share never used for training), and writes:

* ``train.jsonl``, ``validation.jsonl``, ``demo_pool.jsonl`` — labelled passages
  (article fields + ``stance``, ``topics``, ``lang`` and provenance fields);
* ``seed300.jsonl`` — the first-corpus baseline: 300 train passages (100 per language,
  stratified by stance), kept to show what the larger corpus adds;
* ``stats.json`` — counts per language / stance / topic / split, the duplicate 5-gram share,
  and the near-duplicates removed.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLITS = (("train", 0.68), ("validation", 0.76), ("demo", 1.00))
_WORD = re.compile(r"\w+", re.UNICODE)


def split_of(pid: str) -> str:
    u = int(hashlib.sha256(pid.encode()).hexdigest()[:12], 16) / 16**12
    for name, upper in SPLITS:
        if u < upper:
            return name
    return "demo"


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def shingles(text: str, k: int) -> set[str]:
    w = words(text)
    return {" ".join(w[i : i + k]) for i in range(max(len(w) - k + 1, 1))}


def near_duplicates_minhash(rows: list[dict], threshold: float = 0.6) -> list[tuple[str, str, float]]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold * 0.8, num_perm=128)
    sh = {}
    pairs = []
    for r in rows:
        s = shingles(r["text"], 3)
        sh[r["id"]] = s
        m = MinHash(num_perm=128, seed=1)
        for x in s:
            m.update(x.encode("utf-8"))
        for other in lsh.query(m):
            inter = len(s & sh[other])
            j = inter / max(len(s | sh[other]), 1)
            if j > threshold:
                pairs.append((other, r["id"], round(j, 3)))
        lsh.insert(r["id"], m)
    return pairs


def near_duplicates_e5(rows: list[dict], threshold: float = 0.95) -> tuple[list[tuple[str, str, float]], float]:
    import numpy as np

    from mediamon.encoders import load_default_embedder

    emb = load_default_embedder(device="cpu")
    X = emb.embed([f"{r.get('title') or ''}\n\n{r['text']}" for r in rows], batch_size=32)
    S = X @ X.T
    np.fill_diagonal(S, -1)
    pairs = []
    for i, j in zip(*np.where(np.triu(S, 1) > threshold), strict=True):
        pairs.append((rows[i]["id"], rows[j]["id"], round(float(S[i, j]), 4)))
    return pairs, float(S.max())


def dup_5gram_share(rows: list[dict]) -> float:
    df: Counter[str] = Counter()
    per = []
    for r in rows:
        g = shingles(r["text"], 5)
        per.append(g)
        df.update(g)
    total = sum(len(g) for g in per)
    dup = sum(1 for g in per for x in g if df[x] > 1)
    return dup / max(total, 1)


def _table(title: str, rows: dict[str, dict], cols: list[str], key: str) -> str:
    lines = [f"**{title}**", "", "| | " + " | ".join(cols) + " | total |", "|---" * (len(cols) + 2) + "|"]
    for name, block in rows.items():
        vals = [block[key].get(c, 0) for c in cols]
        lines.append(f"| {name} | " + " | ".join(str(v) for v in vals) + f" | {sum(vals) if key != 'topics' else block['n']} |")
    return "\n".join(lines) + "\n"


def write_datasheet_stats(stats: dict) -> None:
    """Rewrite the generated statistics section of DATASHEET.md."""
    ds = HERE / "DATASHEET.md"
    text = ds.read_text(encoding="utf-8")
    a, b = "<!-- stats:begin -->", "<!-- stats:end -->"
    if a not in text or b not in text:
        return
    langs = ["ru", "kk", "en"]
    st = ["multi_vector", "russian_orbit", "neutral", "off_topic"]
    tp = ["diplomacy", "security", "energy", "mining", "trade", "investment", "transport", "culture"]
    blocks = {"all": stats["all"], **stats["splits"], "seed300": stats["seed300"]}
    per_lang = {}
    for lang in langs:
        per_lang[lang] = {"n": stats["all"]["lang"].get(lang, 0),
                          "stance": {s: stats["all"]["lang_stance"].get(f"{lang}/{s}", 0) for s in st}}
    n = stats["all"]["n"]
    body = [
        f"- passages written: {stats['written']}; kept after near-duplicate removal: {stats['kept']} "
        f"(MinHash pairs > 0.6: {stats['minhash_pairs_over_0.6']}; e5 cosine pairs > 0.95: {stats['e5_pairs_over_0.95']}; "
        f"highest e5 cosine left: {stats['e5_max_cosine_after']})",
        f"- share of word 5-grams occurring in more than one passage: {stats['duplicate_5gram_share']:.2%}",
        f"- passages with more than one topic: {stats['all']['multi_topic']} of {n}",
        "- stance shares overall: " + ", ".join(f"{s} {stats['all']['stance'].get(s, 0) / n:.1%}" for s in st),
        "",
        _table("Stance by language (all splits)", per_lang, st, "stance"),
        _table("Stance by split", blocks, st, "stance"),
        _table("Language by split", blocks, langs, "lang"),
        _table("Topics by split (passages carrying the topic; total = passages)", blocks, tp, "topics"),
        "**Scripts:** " + ", ".join(f"{k} {v}" for k, v in sorted(stats["all"]["script"].items())),
        "",
        "**Genres:** " + ", ".join(f"{k} {v}" for k, v in sorted(stats["all"]["genre"].items(), key=lambda kv: -kv[1])),
        "",
        "**Hard cases:** " + ", ".join(f"{k} {v}" for k, v in sorted(stats["all"]["hard_case"].items(), key=lambda kv: -kv[1])),
        "",
        "**Years:** " + ", ".join(f"{k}: {v}" for k, v in stats["all"]["year"].items()),
    ]
    new = text[: text.index(a) + len(a)] + "\n" + "\n".join(body) + "\n" + text[text.index(b):]
    ds.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--e5", action="store_true", help="also drop pairs with e5 cosine > 0.95 (needs the encoder)")
    args = ap.parse_args(argv)
    rows: list[dict] = []
    for path in sorted(glob.glob(str(HERE / "src" / "*.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    rows.sort(key=lambda r: r["id"])
    n_written = len(rows)
    removed: dict[str, str] = {}
    mh = near_duplicates_minhash(rows)
    for keep, drop, _ in mh:
        if keep not in removed:
            removed[drop] = f"minhash near-duplicate of {keep}"
    rows = [r for r in rows if r["id"] not in removed]
    e5_pairs: list[tuple[str, str, float]] = []
    max_cos = None
    if args.e5:
        e5_pairs, max_cos = near_duplicates_e5(rows)
        for keep, drop, _ in e5_pairs:
            if keep not in removed:
                removed[drop] = f"e5 cosine near-duplicate of {keep}"
        rows = [r for r in rows if r["id"] not in removed]
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        rec = {
            "id": r["id"], "lang": r["lang"], "script": r["script"], "source": r["source"], "year": r["year"],
            "genre": r["genre"], "title": r["title"], "text": r["text"], "stance": r["stance"],
            "topics": r["topics"], "hard_case": r.get("hard_case"), "synthetic": True,
        }
        out[split_of(r["id"])].append(rec)
    for name in ("train", "validation", "demo"):
        fn = HERE / ("demo_pool.jsonl" if name == "demo" else f"{name}.jsonl")
        fn.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out[name]), encoding="utf-8")
    # First-corpus baseline: 100 per language, stance-stratified, chosen by hash order.
    seed = []
    for lang in ("ru", "kk", "en"):
        pool = sorted((r for r in out["train"] if r["lang"] == lang), key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        by_st: dict[str, list[dict]] = defaultdict(list)
        for r in pool:
            by_st[r["stance"]].append(r)
        k = 0
        while sum(1 for r in seed if r["lang"] == lang) < 100 and any(by_st.values()):
            st = ("multi_vector", "russian_orbit", "neutral", "off_topic")[k % 4]
            if by_st[st]:
                seed.append(by_st[st].pop(0))
            k += 1
    (HERE / "seed300.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in seed), encoding="utf-8")

    def counts(rs: list[dict]) -> dict:
        return {
            "n": len(rs),
            "lang": dict(Counter(r["lang"] for r in rs)),
            "stance": dict(Counter(r["stance"] for r in rs)),
            "lang_stance": {f"{a}/{b}": c for (a, b), c in sorted(Counter((r["lang"], r["stance"]) for r in rs).items())},
            "topics": dict(Counter(t for r in rs for t in r["topics"])),
            "multi_topic": sum(1 for r in rs if len(r["topics"]) > 1),
            "script": dict(Counter(f"{r['lang']}-{r['script']}" for r in rs)),
            "genre": dict(Counter(r["genre"] for r in rs)),
            "hard_case": dict(Counter(r["hard_case"] or "none" for r in rs)),
            "year": dict(sorted(Counter(r["year"] for r in rs).items())),
        }

    stats = {
        "written": n_written,
        "kept": len(rows),
        "removed_near_duplicates": removed,
        "minhash_pairs_over_0.6": len(mh),
        "e5_pairs_over_0.95": len(e5_pairs) if args.e5 else None,
        "e5_max_cosine_after": max_cos,
        "duplicate_5gram_share": round(dup_5gram_share(rows), 4),
        "all": counts(rows),
        "splits": {k: counts(v) for k, v in out.items()},
        "seed300": counts(seed),
    }
    (HERE / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_datasheet_stats(stats)
    print(json.dumps({k: stats[k] for k in ("written", "kept", "duplicate_5gram_share", "minhash_pairs_over_0.6", "e5_pairs_over_0.95")}))
    print("splits:", {k: len(v) for k, v in out.items()}, "seed300:", len(seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
