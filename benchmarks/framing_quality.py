"""Real-world quality of framing models on ../shared/data/framing/real_dev.jsonl.

    python benchmarks/framing_quality.py                      # bundled models
    python benchmarks/framing_quality.py --models models/a models/b
    python benchmarks/framing_quality.py --transfer            # + cross-lingual transfer (trains models)

real_dev.jsonl holds 44 real news passages (ru/kk/en) labelled by the guide; it is evaluation
only — never trained on — and read from ../shared (the script skips with a message when it is
absent).  ``--transfer`` trains each model kind on the training split *without* Kazakh and
tests on the Kazakh passages (the synthetic Kazakh validation split and real_dev's kk).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_DEV = REPO.parent / "shared" / "data" / "framing" / "real_dev.jsonl"


def _row(name: str, r: dict) -> str:
    pl = r.get("per_language", {})
    f = lambda lang: f"{pl[lang]['stance_macro_f1']:.3f} ({pl[lang]['n']})" if lang in pl else "–"  # noqa: E731
    return (
        f"| {name} | {r['stance']['macro_f1']:.3f} | {f('ru')} | {f('kk')} | {f('en')} | "
        f"{r['relevance']['f1_relevant']:.3f} | {r['topics']['micro_f1']:.3f} | {r['calibration']['ece']:.3f} |"
    )


HEADER = (
    "| model | stance macro-F1 | ru (n) | kk (n) | en (n) | relevant-vs-off_topic F1 | topic micro-F1 | ECE |\n"
    "|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", help="model names or directories (default: every bundled model)")
    ap.add_argument("--data", type=Path, default=REAL_DEV)
    ap.add_argument("--transfer", action="store_true", help="also run the train-without-kk transfer experiment")
    ap.add_argument("--json", type=Path, help="write all reports here")
    ap.add_argument("--baseline", default="tfidf-baseline", help="model the others are compared with (paired bootstrap)")
    args = ap.parse_args(argv)
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (evaluation data lives in ../shared, outside the repository)")
        return 0
    from mediamon.evaluation import (
        HEADLINE_METRICS,
        evaluate,
        format_report,
        paired_bootstrap,
        predict_examples,
    )
    from mediamon.framing import list_models, load_model
    from mediamon.framing.base import encode_labels
    from mediamon.ingest import iter_examples
    from mediamon.records import Example

    dev = [e for e in iter_examples([args.data]) if isinstance(e, Example)]
    names = args.models or [m["id"] for m in list_models()]
    reports = {}
    print(f"real_dev: {len(dev)} passages")
    print(HEADER)
    preds = {}
    for name in names:
        m = load_model(name)
        t0 = time.perf_counter()
        ps, pt, langs = predict_examples(m, dev)
        r = evaluate(m, dev, predictions=(ps, pt, langs))
        r["seconds"] = time.perf_counter() - t0
        reports[name] = r
        preds[name] = (ps, pt, dict(m.thresholds_))
        print(_row(f"{name} ({m.full_name})", r), flush=True)
    if args.baseline in preds:
        y, Y = encode_labels([e.stance for e in dev], [e.topics for e in dev])
        print(f"\nPaired bootstrap over the {len(dev)} passages (2,000 resamples): model − {args.baseline}, "
              "90% interval, share of resamples where the model is not better\n")
        print("| model | stance macro-F1 Δ [90% CI] | p(Δ≤0) | relevance F1 Δ [90% CI] | p(Δ≤0) | topic micro-F1 Δ [90% CI] | p(Δ≤0) |")
        print("|---|---|---|---|---|---|---|")
        for name in names:
            if name == args.baseline:
                continue
            pb = paired_bootstrap(y, Y, preds[name], preds[args.baseline])
            reports[name]["vs_baseline"] = pb
            cells = " | ".join(
                f"{pb[k]['diff']:+.3f} [{pb[k]['lo']:+.3f}, {pb[k]['hi']:+.3f}] | {pb[k]['p_le_0']:.3f}"
                for k in HEADLINE_METRICS
            )
            print(f"| {name} | {cells} |", flush=True)
    for name in names:
        print(f"\n### {name}\n" + format_report(reports[name]))
    if args.transfer:
        from mediamon.config import TrainConfig
        from mediamon.training import train

        tr = [e for e in iter_examples([REPO / "corpora" / "framing" / "train.jsonl"]) if isinstance(e, Example)]
        va = [e for e in iter_examples([REPO / "corpora" / "framing" / "validation.jsonl"]) if isinstance(e, Example)]
        print("\n## Cross-lingual transfer: trained without Kazakh, tested on Kazakh\n")
        print("| model kind | trained on | kk synthetic validation macro-F1 (n) | kk real_dev macro-F1 (n) |\n|---|---|---|---|")
        for kind in ("tfidf", "e5"):
            for label, data in (("ru+en", [e for e in tr if e.lang != "kk"]), ("ru+en+kk", tr)):
                cfg = TrainConfig(kind=kind, validation_folds=3, max_features=60000)  # type: ignore[arg-type]
                m = train(data, cfg)
                kv = [e for e in va if e.lang == "kk"]
                kd = [e for e in dev if e.lang == "kk"]
                rv, rd = evaluate(m, kv), evaluate(m, kd)
                reports[f"transfer-{kind}-{label}"] = {"kk_validation": rv, "kk_real_dev": rd}
                print(f"| {kind} | {label} | {rv['stance']['macro_f1']:.3f} ({len(kv)}) | {rd['stance']['macro_f1']:.3f} ({len(kd)}) |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
