"""Validate the hand-written source files of the synthetic framing corpus.

Usage: python corpora/framing/tools/check_src.py [corpora/framing/src/*.jsonl]
Prints per-file counts, label mixes and any record that breaks the schema.
"""
from __future__ import annotations

import glob
import json
import re
import sys
from collections import Counter

STANCES = {"multi_vector", "russian_orbit", "neutral", "off_topic"}
TOPICS = {"diplomacy", "security", "energy", "mining", "trade", "investment", "transport", "culture"}
GENRES = {"wire", "readout", "analysis", "oped", "tv", "telegram", "headline_lead", "interview", "feature"}
REQUIRED = {"id", "lang", "script", "genre", "source", "year", "title", "text", "stance", "topics", "hard_case", "synthetic"}


def main(paths: list[str]) -> int:
    bad = 0
    ids: set[str] = set()
    stance: Counter[str] = Counter()
    topic: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    n = 0
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    print(f"{path}:{lineno}: bad JSON: {e}")
                    bad += 1
                    continue
                problems = []
                missing = REQUIRED - r.keys()
                if missing:
                    problems.append(f"missing {sorted(missing)}")
                if r.get("id") in ids:
                    problems.append("duplicate id")
                ids.add(r.get("id"))
                if r.get("stance") not in STANCES:
                    problems.append(f"stance {r.get('stance')!r}")
                if not isinstance(r.get("topics"), list) or set(r.get("topics", [])) - TOPICS:
                    problems.append(f"topics {r.get('topics')!r}")
                if r.get("stance") == "off_topic" and r.get("topics"):
                    pass  # allowed: an off-topic sports item can still be about culture
                if r.get("genre") not in GENRES:
                    problems.append(f"genre {r.get('genre')!r}")
                if r.get("lang") not in {"ru", "kk", "en"}:
                    problems.append(f"lang {r.get('lang')!r}")
                if not isinstance(r.get("year"), int) or not 2014 <= r["year"] <= 2026:
                    problems.append(f"year {r.get('year')!r}")
                text = r.get("text", "")
                sents = [s for s in re.split(r"(?<=[.!?…])\s+", text.strip()) if s]
                if not 2 <= len(sents) <= 14:
                    problems.append(f"{len(sents)} sentences")
                if r.get("synthetic") is not True:
                    problems.append("synthetic must be true")
                if problems:
                    bad += 1
                    print(f"{path}:{lineno}: {r.get('id')}: " + "; ".join(problems))
                n += 1
                stance[r.get("stance")] += 1
                langs[r.get("lang")] += 1
                for t in r.get("topics") or []:
                    topic[t] += 1
    print(f"{n} passages, {bad} with problems")
    print("lang:", dict(langs))
    print("stance:", {k: f"{v} ({v / max(n, 1):.0%})" for k, v in stance.items()})
    print("topics:", dict(topic))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or sorted(glob.glob("corpora/framing/src/*.jsonl"))))
