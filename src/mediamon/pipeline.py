"""The streaming ``score`` orchestration: ingest → language → framing model → rows.

``score_articles`` is the pure stage (iterator in, iterator out, order kept);
``run_score`` adds files: outputs written atomically, rejects, counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .config import Config
from .errors import NothingProcessedError, UsageError
from .framing.base import FramingModel
from .ingest import iter_articles
from .langid import detect_language
from .outputs import RowWriter, output_format
from .records import STANCES, TOPICS, Article, Reject, ScoredArticle

__all__ = ["score_articles", "run_score", "ScoreSummary", "SCORED_COLUMNS"]

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
    """What a ``score`` run did."""

    output: Path
    rejects_path: Path
    n_scored: int = 0
    n_rejected: int = 0
    reject_codes: dict[str, int] = field(default_factory=dict)
    first_rejects: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 all good, 1 some rejected (ARCHITECTURE.md exit codes)."""
        return 1 if self.n_rejected else 0


def default_rejects_path(output: Path) -> Path:
    """``OUT.rejects.jsonl`` beside the output."""
    return output.with_name(output.stem + ".rejects.jsonl")


def run_score(
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    model: FramingModel,
    config: Config | None = None,
    rejects: str | Path | None = None,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score input files into ``output`` (JSONL, CSV or Parquet) and write rejects.

    Raises:
        UsageError: output exists and ``force`` is false, or unknown format.
        NothingProcessedError: no record could be used.
    """
    cfg = config or Config()
    out = Path(output)
    output_format(out)
    if out.exists() and not force:
        raise UsageError(f"{out}: output exists; pass --force to overwrite")
    rej_path = Path(rejects) if rejects else default_rejects_path(out)
    summary = ScoreSummary(output=out, rejects_path=rej_path)
    seen: set[str] = set()
    rej_writer = RowWriter(rej_path)

    def accepted() -> Iterator[Article]:
        for item in iter_articles(inputs, config=cfg.ingest):
            if isinstance(item, Article) and item.id in seen:
                file, _, line = item.origin.rpartition(":")
                item = Reject(file, int(line or 0), "duplicate_id", f"id '{item.id}' already seen in this run", "id")
            if isinstance(item, Reject):
                summary.n_rejected += 1
                summary.reject_codes[item.code] = summary.reject_codes.get(item.code, 0) + 1
                if len(summary.first_rejects) < 5:
                    summary.first_rejects.append(item.message())
                rej_writer.write(item.to_row())
                continue
            seen.add(item.id)
            yield item

    try:
        with RowWriter(out, columns=SCORED_COLUMNS) as w:
            for s in score_articles(accepted(), model, batch_size=cfg.score.batch_size):
                w.write(s.to_row())
                summary.n_scored += 1
                if on_progress is not None:
                    on_progress(summary.n_scored)
            if summary.n_scored == 0:
                raise NothingProcessedError(
                    f"no record could be used ({summary.n_rejected} rejected; see {rej_path})"
                    + (f": first: {summary.first_rejects[0]}" if summary.first_rejects else "")
                )
    finally:
        rej_writer.close()
    return summary
