"""Throughput, memory and scaling of mediamon's scoring paths, next to a peer pipeline.

Every configuration runs in a fresh subprocess (clean peak memory, no shared caches) and,
with ``--repeat 2`` (default), twice; the better run is reported, as the machine may be
shared.  Inputs are synthetic: the passages of ``corpora/framing/*.jsonl`` replicated with
fresh ids, each with a unique reference line appended (so no cache can serve a repeat).

Configurations (``--configs``, comma-separated):

* ``peer`` — what a user would otherwise write: ``json`` lines in, ``langdetect``,
  ``transformers.pipeline("feature-extraction")`` on the e5 checkpoint with batch size 1
  (``"query: "`` prefix, truncation at 512 tokens, mean pooling), a scikit-learn logistic
  head per article, JSON lines out.
* ``mm:DIR[?key=value&...]`` — ``mediamon.pipeline.run_score`` end to end (ingest,
  language ID, model, JSONL output) with the model directory ``DIR`` (or a bundled name);
  keys set model attributes (``quantize=int8``, ``threads=2``, ``long_text=truncate``,
  ``max_length=256``), the scoring batch (``score_batch=512``) or the scoring worker
  processes (``workers=1``: in-process; default 0: one per core for ``fast``/TF-IDF).
  "peak MB" is the run's own peak RSS; with workers, "workers MB" is the largest worker's.

Commands::

    python benchmarks/speed.py compare --n 300 --configs peer,mm:/tmp/e5,mm:/tmp/e5?quantize=int8
    python benchmarks/speed.py stages --n 2000 --model fast
    python benchmarks/speed.py scaling --sizes 1000,10000,100000 --configs mm:fast,mm:/tmp/tfidf
    python benchmarks/speed.py variant SRC_DIR DEST_DIR quantize=int8 long_text=truncate max_length=256
    python benchmarks/speed.py budget --n 192 --budgets none,256,512,1024,2048
    python benchmarks/speed.py cores --procs 1,2

``cores`` says what the cores are worth right now: a pure-Python loop in 1, 2, ... concurrent
processes, and their total throughput against one (on a shared virtual machine this varies
from run to run; run it next to any multi-process figure).

``compare`` prints articles/s, peak RSS and the ratio of every configuration to the first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / "corpora" / "framing"
_SOURCES = ("train.jsonl", "validation.jsonl", "seed300.jsonl", "demo_pool.jsonl")


# -- data ------------------------------------------------------------------------------
def _passages() -> list[dict[str, Any]]:
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for name in _SOURCES:
        p = CORPORA / name
        if not p.is_file():
            continue
        for line in p.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            text = r.get("text") or ""
            if not text or text in seen:
                continue
            seen.add(text)
            out.append({"title": r.get("title") or "", "text": text, "source": r.get("source") or "bench"})
    if not out:
        raise SystemExit(f"no passages found in {CORPORA}")
    return out


def make_data(n: int, path: Path) -> Path:
    """Write ``n`` synthetic articles (corpora passages, fresh ids, unique tail line)."""
    src = _passages()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            r = src[i % len(src)]
            rec = {
                "id": f"bench-{i:07d}",
                "source": r["source"],
                "title": r["title"],
                "text": f"{r['text']}\n\nRef. {i}-{i // len(src)}.",
                "published": "2024-01-01",
            }
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


# -- one configuration, in this process ------------------------------------------------
def _parse_config(spec: str) -> tuple[str, dict[str, str]]:
    name, _, q = spec.partition("?")
    opts = dict(kv.split("=", 1) for kv in q.split("&") if kv) if q else {}
    return name, opts


def _coerce(v: str) -> Any:
    for f in (int, float):
        try:
            return f(v)
        except ValueError:
            pass
    return v


def _load_mm(model: str, opts: dict[str, str]) -> Any:
    from mediamon.framing import load_model

    m = load_model(model)
    for k, v in opts.items():
        if k not in ("score_batch", "workers"):
            if not hasattr(m, k):
                raise SystemExit(f"model has no attribute {k!r}")
            setattr(m, k, _coerce(v))
    if hasattr(m, "set_device"):
        m.set_device("cpu")
    return m


def run_mm(data: Path, spec: str) -> dict[str, Any]:
    """mediamon end to end: ``run_score`` on the JSONL file."""
    from mediamon.config import Config
    from mediamon.pipeline import run_score

    model, opts = _parse_config(spec.removeprefix("mm:"))
    m = _load_mm(model, opts)
    score = {"batch_size": int(opts.get("score_batch", 512)), "workers": int(opts.get("workers", 0))}
    cfg = Config.model_validate({"score": score})
    # warm-up outside the timing: first use loads the encoder / tokenizer
    m.predict_proba(["Warm-up text, not timed. Тексеру. Проверка."])
    rss0 = _rss_mb()
    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "scored.jsonl"
        t0 = time.perf_counter()
        s = run_score([str(data)], out, model=m, config=cfg, force=True)
        dt = time.perf_counter() - t0
    return {"n": s.n_scored, "seconds": dt, "rss_after_load_mb": rss0}


def run_peer(data: Path, spec: str) -> dict[str, Any]:
    """The peer pipeline: langdetect + transformers.pipeline (batch 1) + sklearn head."""
    import langdetect
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import pipeline

    from mediamon.encoders import resolve_encoder

    enc = str(resolve_encoder("multilingual-e5-small"))
    pipe = pipeline("feature-extraction", model=enc, tokenizer=enc, device=-1, framework="pt")
    langdetect.DetectorFactory.seed = 0

    def embed(text: str) -> np.ndarray:
        with torch.inference_mode():
            h = pipe("query: " + text, truncation=True, max_length=512, return_tensors=True)
        v = h[0].mean(dim=0).numpy()
        return v / max(float(np.linalg.norm(v)), 1e-12)

    # head fitted on a few labelled passages (not timed)
    lab = [
        json.loads(x)
        for x in (CORPORA / "train.jsonl").read_text(encoding="utf-8").splitlines()[:16]
        if x.strip()
    ]
    head = LogisticRegression(max_iter=2000).fit(
        np.stack([embed(r["text"]) for r in lab]), [r["stance"] for r in lab]
    )
    rss0 = _rss_mb()
    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "scored.jsonl"
        t0 = time.perf_counter()
        n = 0
        with data.open(encoding="utf-8") as fin, out.open("w", encoding="utf-8") as fout:
            for line in fin:
                r = json.loads(line)
                text = f"{r['title']}\n\n{r['text']}"
                try:
                    lang = langdetect.detect(text)
                except langdetect.LangDetectException:
                    lang = "und"
                p = head.predict_proba(embed(text)[None, :])[0]
                row = {
                    "id": r["id"],
                    "lang": lang,
                    **{f"p_{c}": float(x) for c, x in zip(head.classes_, p, strict=True)},
                }
                fout.write(json.dumps(row) + "\n")
                n += 1
        dt = time.perf_counter() - t0
    return {"n": n, "seconds": dt, "rss_after_load_mb": rss0}


def run_stages(data: Path, spec: str) -> dict[str, Any]:
    """Per-stage throughput of mediamon on the same articles (each stage timed alone)."""
    from mediamon.ingest import iter_articles
    from mediamon.langid import detect_language

    model, opts = _parse_config(spec.removeprefix("mm:"))
    m = _load_mm(model, opts)
    m.predict_proba(["Warm-up text, not timed."])
    res: dict[str, Any] = {}
    t0 = time.perf_counter()
    arts = list(iter_articles([str(data)]))
    res["ingest"] = time.perf_counter() - t0
    texts = [a.full_text for a in arts]
    t0 = time.perf_counter()
    for t in texts:
        detect_language(t)
    res["langid"] = time.perf_counter() - t0
    from mediamon.dedup import Deduplicator  # what run_score feeds every article to

    dd = Deduplicator()
    t0 = time.perf_counter()
    dd.add_many((a.id, a.text, a.published_at) for a in arts)
    res["dedup"] = time.perf_counter() - t0
    del dd
    if hasattr(m, "static_") and m.static_ is not None:
        t0 = time.perf_counter()
        m.static_.token_ids(texts)
        res["tokenize_cold_cache"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        m.static_.token_ids(texts)
        res["tokenize_warm_cache"] = time.perf_counter() - t0
        m.static_._words.clear()
    elif hasattr(m, "embedder"):
        tok = m.embedder.tokenizer
        t0 = time.perf_counter()
        tok([m.prefix + t for t in texts], truncation=True, max_length=m.max_length)
        res["tokenize"] = time.perf_counter() - t0
    if hasattr(m, "embed"):
        t0 = time.perf_counter()
        X = m.embed(texts)
        res["embed (incl. tokenize)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        _ = X @ m.stance_W_.T, X @ m.topic_W_.T
        res["heads"] = time.perf_counter() - t0
    n = len(texts)
    return {
        "n": n,
        "stages_articles_per_s": {k: (n / v if v else None) for k, v in res.items()},
        "seconds": sum(v for v in res.values() if v),
    }


def run_budget(n: int, budgets: str) -> int:
    """Raw encoder throughput (``E5Embedder.embed``, ``"query: "``, length-sorted, at most 32
    texts a batch) for each padded-token budget, on the first ``n`` validation passages; the
    cosine column compares each run's vectors with the first run's."""
    from mediamon.encoders import load_default_embedder

    texts = [json.loads(ln)["text"] for ln in (ROOT / "corpora" / "framing" / "validation.jsonl").open(encoding="utf-8")][:n]
    emb = load_default_embedder()
    emb.embed(texts[:4], prefix="query: ")  # warm-up
    print(f"# budget — {len(texts)} passages, {_load()}")
    ref = None
    for b in budgets.split(","):
        tb = None if b == "none" else int(b)
        t0 = time.perf_counter()
        E = emb.embed(texts, prefix="query: ", batch_size=32, max_length=512, token_budget=tb)
        dt = time.perf_counter() - t0
        ref = E if ref is None else ref
        print(f"token_budget={b:>5}  {len(texts) / dt:6.1f} texts/s  min cosine to first run {float((E * ref).sum(1).min()):.7f}")
    return 0


_SPIN = "import time\nt = time.perf_counter(); x = 0\nfor i in range({n}): x += i\nprint(time.perf_counter() - t)"


def run_cores(procs: list[int], loops: int) -> int:
    """k copies of a pure-Python loop at once: seconds each, and throughput against one."""
    print(f"# cores — {_load()}; os.cpu_count() = {os.cpu_count()}")
    alone = None
    for k in procs:
        ps = [subprocess.Popen([sys.executable, "-c", _SPIN.format(n=loops)], stdout=subprocess.PIPE, text=True) for _ in range(k)]
        secs = [float(p.communicate()[0]) for p in ps]
        mean = sum(secs) / len(secs)
        alone = alone or mean
        print(f"{k} process(es): {mean:6.2f} s each; total throughput {k * alone / mean:4.2f}x one process")
    return 0


# -- orchestration ---------------------------------------------------------------------
def _child(kind: str, data: Path, spec: str, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "_child", kind, str(data), spec, "--threads", str(threads)]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "true", "TRANSFORMERS_VERBOSITY": "error"}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout).strip().splitlines()[-3:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _best(kind: str, data: Path, spec: str, repeat: int, threads: int) -> dict[str, Any]:
    runs = [_child(kind, data, spec, threads) for _ in range(repeat)]
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    best = min(ok, key=lambda r: r["seconds"])
    best["runs_seconds"] = [round(r["seconds"], 3) for r in ok]
    return best


def _load() -> str:
    la = os.getloadavg()
    return f"load average {la[0]:.1f} {la[1]:.1f} {la[2]:.1f} on {os.cpu_count()} cores"


def _rows(results: list[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    base = next((r for _s, r in results if "error" not in r), None)
    yield f"{'configuration':58s} {'articles':>8s} {'seconds':>8s} {'art/s':>9s} {'peak MB':>8s} {'workers MB':>10s} {'ratio':>7s}"
    for spec, r in results:
        if "error" in r:
            yield f"{spec:58s} ERROR {r['error']}"
            continue
        aps = r["n"] / r["seconds"]
        ratio = aps / (base["n"] / base["seconds"]) if base else float("nan")
        wmb = r.get("workers_peak_rss_mb") or 0
        yield f"{spec:58s} {r['n']:8d} {r['seconds']:8.2f} {aps:9.1f} {r['peak_rss_mb']:8.0f} {wmb:10.0f} {ratio:7.2f}x"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare", help="configurations side by side on the same data")
    c.add_argument("--n", type=int, default=300)
    c.add_argument("--configs", default="peer,mm:default")
    s = sub.add_parser("stages", help="per-stage throughput of one mediamon model")
    s.add_argument("--n", type=int, default=2000)
    s.add_argument("--model", default="fast")
    sc = sub.add_parser("scaling", help="time and memory as the input grows")
    sc.add_argument("--sizes", default="1000,10000,100000")
    sc.add_argument("--configs", default="mm:fast")
    for p in (c, s, sc):
        p.add_argument("--repeat", type=int, default=2)
        p.add_argument("--threads", type=int, default=0, help="torch threads in the children (0: default)")
        p.add_argument("--json", type=Path, help="also write the results here")
    bu = sub.add_parser("budget", help="raw encoder texts/s by padded tokens per CPU forward pass")
    bu.add_argument("--n", type=int, default=192, help="passages of corpora/framing/validation.jsonl")
    bu.add_argument("--budgets", default="none,256,512,1024,2048", help="token budgets; none: batches of 32")
    co = sub.add_parser("cores", help="total throughput of k concurrent CPU-bound processes against one")
    co.add_argument("--procs", default="1,2")
    co.add_argument("--loops", type=int, default=20_000_000)
    v = sub.add_parser("variant", help="copy a model dir with changed parameters (heads unchanged)")
    v.add_argument("src")
    v.add_argument("dest")
    v.add_argument("sets", nargs="*")
    ch = sub.add_parser("_child")
    ch.add_argument("kind")
    ch.add_argument("data", type=Path)
    ch.add_argument("spec")
    ch.add_argument("--threads", type=int, default=0)
    a = ap.parse_args(argv)

    if a.cmd == "_child":
        if a.threads:
            import torch

            torch.set_num_threads(a.threads)
        fn = {"mm": run_mm, "peer": run_peer, "stages": run_stages}[a.kind]
        r = fn(a.data, a.spec)
        r["peak_rss_mb"] = _peak_rss_mb()
        r["workers_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        print(json.dumps(r))
        return 0
    if a.cmd == "budget":
        return run_budget(a.n, a.budgets)
    if a.cmd == "cores":
        return run_cores([int(x) for x in a.procs.split(",")], a.loops)
    if a.cmd == "variant":
        from mediamon.framing import load_model

        m = load_model(a.src)
        for kv in a.sets:
            k, _, val = kv.partition("=")
            setattr(m, k, _coerce(val))
        m.save(a.dest)
        print(f"{a.dest}: {m.params()}")
        return 0

    print(f"# {a.cmd} — {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, {_load()}", flush=True)
    out: dict[str, Any] = {"cmd": a.cmd, "load_before": _load()}
    with tempfile.TemporaryDirectory() as td:
        if a.cmd == "compare":
            data = make_data(a.n, Path(td) / "bench.jsonl")
            results = []
            for spec in a.configs.split(","):
                kind = "peer" if spec == "peer" else "mm"
                results.append((spec, _best(kind, data, spec, a.repeat, a.threads)))
                print(f"  done {spec}", flush=True)
            for line in _rows(results):
                print(line)
            out["results"] = dict(results)
        elif a.cmd == "stages":
            data = make_data(a.n, Path(td) / "bench.jsonl")
            r = _best("stages", data, f"mm:{a.model}", a.repeat, a.threads)
            print(f"{a.model}: {a.n} articles, peak RSS {r.get('peak_rss_mb', float('nan')):.0f} MB")
            for k, val in r.get("stages_articles_per_s", {}).items():
                if val:
                    print(f"  {k:28s} {val:10.0f} articles/s")
            out["results"] = r
        elif a.cmd == "scaling":
            sizes = [int(x) for x in a.sizes.split(",")]
            out["results"] = {}
            print(
                f"{'configuration':40s} {'articles':>8s} {'seconds':>8s} {'art/s':>8s} {'peak MB':>8s} {'MB after load':>13s}"
                f" {'workers MB':>10s}"
            )
            for spec in a.configs.split(","):
                for n in sizes:
                    data = make_data(n, Path(td) / f"bench-{n}.jsonl")
                    r = _best("mm", data, spec, a.repeat, a.threads)
                    out["results"][f"{spec}@{n}"] = r
                    if "error" in r:
                        print(f"{spec:40s} {n:8d} ERROR {r['error']}", flush=True)
                        continue
                    print(
                        f"{spec:40s} {n:8d} {r['seconds']:8.2f} {n / r['seconds']:8.1f} {r['peak_rss_mb']:8.0f} "
                        f"{r['rss_after_load_mb']:13.0f} {r.get('workers_peak_rss_mb') or 0:10.0f}",
                        flush=True,
                    )
                    data.unlink()
    out["load_after"] = _load()
    print(f"# {_load()}")
    if a.json:
        a.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
