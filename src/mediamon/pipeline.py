"""The ``score`` orchestration: ingest → dedup → language → framing model → rows.

``score_articles`` is the pure stage (iterator in, iterator out, order kept);
``run_score`` adds files, in **one pass** over the inputs:

* every record is ingested once; rejects (and repeated ids) go to the rejects file;
* every accepted article's body is fed to the :class:`~mediamon.dedup.Deduplicator`
  (MinHash signatures computed a batch at a time; per article a signature, the id and
  the date in flat arrays, no texts);
* accepted articles are scored in chunks of ``score.checkpoint_every``: language ID, the
  framing model and the output row, in this process or — for models that are cheap per
  article and single-threaded (``fast``, TF-IDF) — in ``score.workers`` worker processes
  while this one ingests and deduplicates the next chunks.  Each chunk becomes a part
  file in a work directory (``.OUT.parts/``) written atomically and fsynced, then a
  checkpoint naming the parts and their SHA-256 is replaced atomically.

Whether an article duplicates another is only known once every article is in (a cluster's
representative is its *earliest* article, which may come later in the input), so the
parts hold ``duplicate_of: null`` and the final assembly fills it in from the duplicate
map (arrays of positions and representatives, a few bytes per duplicate).  The output is
assembled with an atomic rename, the rejects are moved beside it and a manifest
(``OUT.manifest.json``: inputs with hashes, config, model, versions, counts, rejects) is
written.  ``resume=True`` continues an interrupted run with the same fingerprint: the
inputs are read (and deduplicated) again, committed chunks are not scored again, and the
output is byte-identical to an uninterrupted run; a finished run with an unchanged
fingerprint is reported as up to date.  Memory does not grow with the input beyond the
dedup state: readers stream JSONL and CSV, and at most ``2 × workers`` chunks are in
flight.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .errors import InputError, NothingProcessedError, ScoringWorkerError, UsageError
from .framing.base import FramingModel
from .ingest import iter_articles
from .langid import detect_language
from .langid.detector import MIN_LETTERS
from .manifest import (
    fingerprint,
    fsync_dir,
    input_entries,
    manifest_path,
    model_entry,
    now_utc,
    read_json,
    sha256_file,
    versions,
    write_json_atomic,
)
from .outputs import RowWriter, atomic_path, output_format
from .records import STANCES, TOPICS, Article, Reject, ScoredArticle

__all__ = [
    "score_articles",
    "run_score",
    "resolve_workers",
    "ScoreSummary",
    "SCORED_COLUMNS",
    "work_dir_for",
    "default_rejects_path",
]

#: Stable column order of scored output (CSV header, Parquet schema).
SCORED_COLUMNS: list[str] = [
    "id", "source", "url", "title", "published_at", "lang", "lang_score", "script", "lang_mix", "stance",
    *(f"p_{s}" for s in STANCES), "topics", *(f"p_topic_{t}" for t in TOPICS),
    "model", "duplicate_of", "published_raw", "date_flag", "encoding", "meta",
]


def _batched(it: Iterable[Any], n: int) -> Iterator[list[Any]]:
    itr = iter(it)
    while batch := list(islice(itr, n)):
        yield batch


def score_articles(
    articles: Iterable[Article],
    model: FramingModel,
    *,
    batch_size: int = 32,
    detect: Callable[[str], Any] = detect_language,
) -> Iterator[ScoredArticle]:
    """Score articles in batches; yields one :class:`ScoredArticle` per article, in order.

    Args:
        articles: Ingested articles.
        model: A fitted framing model.
        batch_size: Articles per model call.
        detect: Language detector returning an object with ``lang``, ``score``, ``script``, ``mix``.
    """
    for batch in _batched(articles, batch_size):
        texts = [a.full_text for a in batch]
        langs = [detect(t) for t in texts]
        sc = model.predict_proba(texts)
        for i, a in enumerate(batch):
            ps = {s: float(sc.stance[i, k]) for k, s in enumerate(STANCES)}
            pt = {t: float(sc.topics[i, k]) for k, t in enumerate(TOPICS)}
            stance = max(ps, key=ps.__getitem__)
            topics = tuple(t for t in TOPICS if pt[t] >= model.thresholds_.get(t, 0.5))
            li = langs[i]
            yield ScoredArticle(
                article=a, lang=li.lang, lang_score=li.score, script=li.script, lang_mix=dict(li.mix),
                stance=stance, stance_probs=ps, topics=topics, topic_probs=pt, model=model.full_name,
            )


@dataclass
class ScoreSummary:
    """What a ``score`` run did.

    Attributes:
        output: The scored file.
        rejects_path: The rejects JSONL file.
        n_scored: Rows in the output.
        n_rejected: Records rejected (with a reason) in ``rejects_path``.
        reject_codes: Rejects per code.
        first_rejects: The first five reject messages.
        n_duplicates: Rows marked ``duplicate_of`` another article.
        n_exact_duplicates: Of those, exact copies (normalised text).
        n_duplicate_clusters: Clusters of more than one article.
        up_to_date: ``resume`` found a finished run with the same fingerprint; nothing was done.
        resumed_from: Rows taken over from an interrupted run (0 for a fresh run).
        manifest: The manifest path.
    """

    output: Path
    rejects_path: Path
    n_scored: int = 0
    n_rejected: int = 0
    reject_codes: dict[str, int] = field(default_factory=dict)
    first_rejects: list[str] = field(default_factory=list)
    n_duplicates: int = 0
    n_exact_duplicates: int = 0
    n_duplicate_clusters: int = 0
    up_to_date: bool = False
    resumed_from: int = 0
    manifest: Path | None = None

    @property
    def exit_code(self) -> int:
        """0 all good (or up to date), 1 some rejected (ARCHITECTURE.md exit codes)."""
        if self.up_to_date:
            return 0
        return 1 if self.n_rejected else 0


def default_rejects_path(output: Path) -> Path:
    """``OUT.rejects.jsonl`` beside the output."""
    return output.with_name(output.stem + ".rejects.jsonl")


def work_dir_for(output: Path) -> Path:
    """The hidden work directory of an in-progress run: ``.OUT.parts/`` beside the output."""
    return output.with_name(f".{output.name}.parts")


def _accepted(
    inputs: Sequence[str | Path], cfg: Config, on_reject: Callable[[Reject], None]
) -> Iterator[Article]:
    """Accepted articles in input order; rejects (and repeated ids) go to ``on_reject``."""
    from .dedup import IdSet

    seen = IdSet()  # ~30 bytes per id, exact
    for item in iter_articles(inputs, config=cfg.ingest):
        if isinstance(item, Article) and not seen.add(item.id):
            file, _, line = item.origin.rpartition(":")
            item = Reject(file, int(line or 0), "duplicate_id", f"id '{item.id}' already seen in this run", "id")
        if isinstance(item, Reject):
            on_reject(item)
            continue
        yield item


def _row_json(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, default=str)


def _detector(min_letters: int) -> Callable[[str], Any]:
    if min_letters == MIN_LETTERS:
        return detect_language
    return functools.partial(detect_language, min_letters=min_letters)


def _rows(articles: list[Article], model: FramingModel, batch_size: int, min_letters: int) -> list[str]:
    """Output rows (JSON text, ``duplicate_of`` null) of a chunk of articles."""
    detect = _detector(min_letters)
    return [_row_json(s.to_row()) for s in score_articles(articles, model, batch_size=batch_size, detect=detect)]


# The model of forked scoring workers: set just before the pool forks, inherited by the
# workers (copy-on-write, nothing pickled), cleared after.
_WORKER_MODEL: list[FramingModel] = []


def _worker_rows(articles: list[Article], batch_size: int, min_letters: int) -> list[str]:
    return _rows(articles, _WORKER_MODEL[0], batch_size, min_letters)


def resolve_workers(requested: int, model: FramingModel) -> int:
    """Worker processes for scoring: ``requested``, or (0) one per core, up to 8, for models
    that are cheap per article and single-threaded; 1 (this process) for the others and
    where processes cannot be forked (not Linux)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or not sys.platform.startswith("linux"):
        return 1
    if requested:
        return requested
    if not getattr(model, "process_parallel", False):
        return 1
    return max(1, min(8, len(os.sched_getaffinity(0))))


class _ChunkScorer:
    """Scores chunks in order, in this process (``workers == 1``) or in a process pool that
    starts with the second chunk (so small inputs never pay for it)."""

    def __init__(self, model: FramingModel, cfg: Config, workers: int) -> None:
        self.model = model
        self.batch_size = cfg.score.batch_size
        self.min_letters = cfg.langid.min_letters
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[Future[list[str]] | list[str]] = deque()
        self._chunks = 0

    def submit(self, skip: int, articles: list[Article]) -> None:
        """Queue a chunk; its first ``skip`` articles are committed already (not scored)."""
        todo = articles[skip:]
        self._chunks += 1
        if self.workers > 1 and self._chunks > 1 and todo:
            if self._pool is None:
                self._pool = self._fork_pool()
            self._pending.append(self._pool.submit(_worker_rows, todo, self.batch_size, self.min_letters))
        else:
            self._pending.append(_rows(todo, self.model, self.batch_size, self.min_letters) if todo else [])

    def full(self) -> bool:
        return len(self._pending) >= 2 * max(1, self.workers)

    def _fork_pool(self) -> ProcessPoolExecutor:
        """A pool of forked workers that inherit the model.  ``fork``, not ``spawn``: a spawned
        worker re-imports the caller's main module, which breaks scripts without a
        ``__main__`` guard; the models that run in workers hold no threads that matter
        (HF tokenizers is told not to use its thread pool in the workers)."""
        import multiprocessing

        _WORKER_MODEL[:] = [self.model]
        old = os.environ.get("TOKENIZERS_PARALLELISM")
        os.environ["TOKENIZERS_PARALLELISM"] = "false"  # set at fork time: no warning, no threads
        try:
            pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
            for f in [pool.submit(int) for _ in range(self.workers)]:
                f.result()  # all workers forked now, while the environment is set
        finally:
            _WORKER_MODEL.clear()
            if old is None:
                os.environ.pop("TOKENIZERS_PARALLELISM", None)
            else:
                os.environ["TOKENIZERS_PARALLELISM"] = old
        return pool

    def ready(self) -> bool:
        """Whether the oldest queued chunk is finished (to commit it without waiting)."""
        if not self._pending:
            return False
        res = self._pending[0]
        return isinstance(res, list) or res.done()

    def pop(self) -> list[str]:
        """The oldest chunk's rows (waits for them).

        Raises:
            ScoringWorkerError: a worker process died (killed, out of memory); the parts
                committed so far stay valid for ``--resume``.
        """
        from concurrent.futures.process import BrokenProcessPool

        res = self._pending.popleft()
        if isinstance(res, list):
            return res
        try:
            return res.result()
        except BrokenProcessPool as e:
            raise ScoringWorkerError(
                f"a scoring worker process died ({e}); run again with --resume to continue from the last "
                "checkpoint, with --set score.workers=1 to score in one process"
            ) from None

    def __len__(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class _DupMap:
    """``duplicate_of`` by accepted position, as arrays: sorted positions, an index into the
    list of representative ids for each (a few bytes per duplicate, ids stored once)."""

    def __init__(self, pos: np.ndarray, rep: np.ndarray, ids: list[str]) -> None:
        self.pos = np.asarray(pos, dtype=np.int64)
        self.rep = np.asarray(rep, dtype=np.int32)
        self.ids = ids

    @classmethod
    def empty(cls) -> _DupMap:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), [])

    def __len__(self) -> int:
        return len(self.pos)


def _write_part(path: Path, rows: list[str]) -> str:
    with atomic_path(path) as fh:
        for r in rows:
            fh.write(r + "\n")
    fsync_dir(path.parent)
    return sha256_file(path)


def _valid_parts(work: Path, run_fp: str) -> list[dict[str, Any]]:
    """The committed parts of an interrupted run with this fingerprint that are intact on
    disk, in order (the first damaged one ends the list)."""
    ckpt = read_json(work / "checkpoint.json") or {}
    parts: list[dict[str, Any]] = list(ckpt.get("parts", [])) if ckpt.get("fingerprint") == run_fp else []
    good: list[dict[str, Any]] = []
    for p in parts:
        f = work / p["name"]
        if not f.is_file() or sha256_file(f) != p["sha256"]:
            break
        good.append(p)
    return good


def _score_pass(
    inputs: Sequence[str | Path],
    cfg: Config,
    model: FramingModel,
    work: Path,
    run_fp: str,
    on_progress: Callable[[int], None] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Ingest, deduplicate and score in one pass; returns the parts and the run's index
    (counts, rejects, the duplicate map, the rows taken over from an interrupted run)."""
    from .dedup import Deduplicator

    parts = _valid_parts(work, run_fp)
    start = sum(p["rows"] for p in parts)
    ckpt_path = work / "checkpoint.json"
    every = cfg.score.checkpoint_every
    dd = Deduplicator(threshold=cfg.score.near_dup_threshold) if cfg.score.dedup else None
    codes: dict[str, int] = {}
    first: list[str] = []
    n_acc = 0
    done = start
    if on_progress is not None and start:
        on_progress(start)
    scorer = _ChunkScorer(model, cfg, resolve_workers(cfg.score.workers, model))

    def commit(rows: list[str]) -> None:
        nonlocal done
        if not rows:
            return
        for _ in rows:
            done += 1
            if on_progress is not None:
                on_progress(done)
        name = f"part-{len(parts):06d}.jsonl"
        digest = _write_part(work / name, rows)
        parts.append({"name": name, "rows": len(rows), "sha256": digest})
        write_json_atomic(ckpt_path, {"fingerprint": run_fp, "rows": done, "parts": parts})

    try:
        with RowWriter(work / "rejects.jsonl") as rw:  # rewritten from the start on resume

            def on_reject(r: Reject) -> None:
                codes[r.code] = codes.get(r.code, 0) + 1
                if len(first) < 5:
                    first.append(r.message())
                rw.write(r.to_row())

            for chunk in _batched(_accepted(inputs, cfg, on_reject), every):
                if dd is not None:
                    dd.add_many((a.id, a.text, a.published_at) for a in chunk)
                skip = min(len(chunk), max(0, start - n_acc))
                n_acc += len(chunk)
                if skip == len(chunk):
                    continue  # committed by the interrupted run
                scorer.submit(skip, chunk)
                while scorer.full() or scorer.ready():
                    commit(scorer.pop())
            while len(scorer):
                commit(scorer.pop())
    finally:
        scorer.close()
    if n_acc < start:
        raise InputError(f"inputs changed during the run: expected at least {start} records, found {n_acc}")
    if dd is not None:
        pos, rep = dd.resolve_positions()
        rep_ids, rep_idx = np.unique(rep, return_inverse=True)
        dupmap = _DupMap(pos, rep_idx.astype(np.int32), [dd.id_at(int(r)) for r in rep_ids])
        stats = dd.stats
    else:
        dupmap, stats = _DupMap.empty(), None
    index: dict[str, Any] = {
        "n_accepted": n_acc,
        "n_rejected": sum(codes.values()),
        "reject_codes": dict(sorted(codes.items())),
        "first_rejects": first,
        "n_duplicates": len(dupmap),
        "n_exact_duplicates": stats.n_exact if stats else 0,
        "n_duplicate_clusters": stats.n_clusters if stats else 0,
        "duplicates": dupmap,
        "resumed_from": start,
    }
    return parts, index


_NULL_DUP = '"duplicate_of": null'


def _assemble(out: Path, work: Path, parts: list[dict[str, Any]], dups: _DupMap) -> int:
    """Concatenate the parts into ``out``, filling in ``duplicate_of``.

    JSONL rows are copied as they are (the first ``"duplicate_of": null`` of a row is its
    own key: ``meta`` comes after it and keys inside strings have escaped quotes); other
    formats are re-read row by row.
    """
    fmt = output_format(out)
    pos, rep, ids = dups.pos.tolist(), dups.rep.tolist(), dups.ids
    k = 0
    n = 0
    with RowWriter(out, columns=SCORED_COLUMNS) as w:
        for p in parts:
            f = work / p["name"]
            if sha256_file(f) != p["sha256"]:
                raise InputError(f"{f}: part file changed on disk; run again with --force")
            with f.open(encoding="utf-8") as fh:
                for line in fh:
                    dup = None
                    if k < len(pos) and pos[k] == n:
                        dup = ids[rep[k]]
                        k += 1
                    n += 1
                    if fmt == "jsonl" and (dup is None or _NULL_DUP in line):
                        if dup is not None:
                            line = line.replace(_NULL_DUP, '"duplicate_of": ' + _row_json(dup), 1)
                        w.write_line(line)
                    else:
                        row = json.loads(line)
                        row["duplicate_of"] = dup
                        w.write(row)
    return n


def _summary_from(index: dict[str, Any], out: Path, rej: Path, n_scored: int) -> ScoreSummary:
    return ScoreSummary(
        output=out,
        rejects_path=rej,
        n_scored=n_scored,
        n_rejected=int(index["n_rejected"]),
        reject_codes=dict(index["reject_codes"]),
        first_rejects=list(index["first_rejects"]),
        n_duplicates=int(index["n_duplicates"]),
        n_exact_duplicates=int(index.get("n_exact_duplicates", 0)),
        n_duplicate_clusters=int(index.get("n_duplicate_clusters", 0)),
        manifest=manifest_path(out),
    )


def _move_file(src: Path, dst: Path) -> None:
    try:
        src.replace(dst)
    except OSError:  # other filesystem: copy atomically instead
        with atomic_path(dst, mode="wb") as fh, src.open("rb") as s:
            shutil.copyfileobj(s, fh)
        src.unlink()
    fsync_dir(dst.parent)


def run_score(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    model: FramingModel,
    config: Config | None = None,
    rejects: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    model_dir: str | Path | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score input files into ``output`` (JSONL, CSV or Parquet) and write rejects and a manifest.

    Args:
        inputs: Files, folders or ``-`` (stdin JSONL; not resumable).
        output: Output path; its extension picks the format.
        model: A loaded framing model.
        config: Settings (``ingest``, ``score.dedup``, ``score.near_dup_threshold``,
            ``score.checkpoint_every`` ...).
        rejects: Rejects JSONL path (default ``OUT.rejects.jsonl``).
        force: Start over, overwriting an existing output and discarding an interrupted run.
        resume: Continue an interrupted run with the same fingerprint; a finished one with the
            same fingerprint is reported as up to date and left untouched.
        model_dir: The model's directory, to fingerprint it by its hash-checked ``meta.json``.
        on_progress: Called with the number of rows scored so far.

    Raises:
        UsageError: output exists without ``force``/``resume``; ``resume`` against changed
            inputs, config or model; unknown format.
        NothingProcessedError: no record could be used.
    """
    cfg = config or Config()
    out = Path(output)
    fmt = output_format(out)
    rej_path = Path(rejects) if rejects else default_rejects_path(out)
    work = work_dir_for(out)
    man_path = manifest_path(out)
    if out.exists() and not force and not resume:
        raise UsageError(
            f"{out}: output exists; pass --force to overwrite, or --resume to finish an interrupted run "
            "(a finished one with unchanged inputs is left as is)"
        )
    entries = input_entries(inputs)
    cfg_part = {k: cfg.model_dump(mode="json")[k] for k in ("ingest", "langid", "score")}
    cfg_part["score"] = {k: v for k, v in cfg_part["score"].items() if k not in ("device", "threads", "workers")}
    model_info = model_entry(model, model_dir)
    run_fp = fingerprint(entries, cfg_part, model_info, fmt)
    if resume and any(e["sha256"] is None for e in entries):
        raise UsageError("--resume needs input files: stdin (-) cannot be checked for changes")

    if resume and not force:
        old = read_json(man_path)
        if (
            out.exists()
            and old is not None
            and old.get("status") == "complete"
            and old.get("fingerprint") == run_fp
            and old.get("output", {}).get("sha256") == sha256_file(out)
        ):
            s = ScoreSummary(output=out, rejects_path=Path(old.get("rejects", {}).get("path") or rej_path))
            c = old.get("counts", {})
            s.n_scored = int(c.get("scored", 0))
            s.n_rejected = int(c.get("rejected", 0))
            s.reject_codes = dict(old.get("rejects", {}).get("codes", {}))
            s.n_duplicates = int(c.get("duplicates", 0))
            s.up_to_date = True
            s.manifest = man_path
            return s
        run_info = read_json(work / "run.json")
        if run_info is not None and run_info.get("fingerprint") != run_fp:
            raise UsageError(
                f"{work}: the interrupted run used other inputs, config or model; pass --force to start over"
            )
        if out.exists() and run_info is None:
            raise UsageError(
                f"{out}: exists but its manifest does not match these inputs, config and model "
                "(or it has none); pass --force to overwrite"
            )
    else:
        run_info = None
    if run_info is None and work.exists():
        shutil.rmtree(work)
    for stale in out.parent.glob(f".{out.name}.*.tmp"):  # temp outputs of a run killed mid-rename
        stale.unlink(missing_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    started = now_utc()
    if run_info is None:
        run_info = {"fingerprint": run_fp, "started_at": started}
        write_json_atomic(work / "run.json", run_info)

    parts, index = _score_pass(inputs, cfg, model, work, run_fp, on_progress)
    summary = _summary_from(index, out, rej_path, 0)
    if index["n_accepted"] == 0:
        if (work / "rejects.jsonl").exists():
            _move_file(work / "rejects.jsonl", rej_path)
        shutil.rmtree(work, ignore_errors=True)
        raise NothingProcessedError(
            f"no record could be used ({summary.n_rejected} rejected; see {rej_path})"
            + (f": first: {summary.first_rejects[0]}" if summary.first_rejects else "")
        )
    summary.resumed_from = index["resumed_from"]
    summary.n_scored = _assemble(out, work, parts, index["duplicates"])
    if (work / "rejects.jsonl").exists():
        _move_file(work / "rejects.jsonl", rej_path)
    manifest = {
        "format": 1,
        "status": "complete",
        "fingerprint": run_fp,
        "started_at": run_info.get("started_at", started),
        "finished_at": now_utc(),
        "inputs": entries,
        "config": cfg_part,
        "model": model_info,
        "versions": versions(),
        "output": {"path": str(out), "format": fmt, "rows": summary.n_scored, "sha256": sha256_file(out)},
        "rejects": {
            "path": str(rej_path),
            "count": summary.n_rejected,
            "codes": summary.reject_codes,
            "sha256": sha256_file(rej_path) if rej_path.exists() else None,
        },
        "counts": {
            "accepted": int(index["n_accepted"]),
            "scored": summary.n_scored,
            "rejected": summary.n_rejected,
            "duplicates": summary.n_duplicates,
            "exact_duplicates": summary.n_exact_duplicates,
            "duplicate_clusters": summary.n_duplicate_clusters,
        },
        "resumed_from": summary.resumed_from,
    }
    write_json_atomic(man_path, manifest)
    shutil.rmtree(work, ignore_errors=True)
    return summary
