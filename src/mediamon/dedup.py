"""Duplicate detection: exact (normalised-text hash) and near-duplicates (MinHash + LSH).

Syndicated stories (the same TASS or Kazinform item under twenty URLs, retitled, trimmed,
with an outlet's boilerplate added) must count once in trends.  :class:`Deduplicator`
takes articles one at a time, in input order, keeps only a small signature per article
(a ``num_perm``-value MinHash as ``uint32``, the article id, its date and an 8-byte text
hash), and at the end resolves clusters:

* two articles are **exact** duplicates when their normalised bodies are equal
  (case-folded, punctuation and whitespace collapsed);
* two articles are **near** duplicates when the estimated Jaccard similarity of their
  word-shingle sets is at least ``threshold`` (candidates come from MinHash LSH, every
  candidate is then verified on the signatures);
* clusters are the connected components of those pairs; each cluster's representative
  is its **earliest** article (by ``published_at``; undated articles count as latest;
  ties by input order) and every other member gets ``duplicate_of = representative id``.

Only the body text is compared, never the title, so a retitled copy is still found.
Bodies shorter than ``min_tokens`` words are matched exactly only (a few shared words
say nothing about two short texts).

Example:
    >>> d = Deduplicator(threshold=0.6)
    >>> body = "Kazakhstan and China opened a new rail crossing at Khorgos on Monday, officials said."
    >>> d.add("a", body, None)
    >>> d.add("b", body + " Subscribe to our channel.", None)
    >>> d.resolve()
    {1: 'a'}
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .records import Article

__all__ = [
    "Deduplicator",
    "DedupStats",
    "dedup_tokens",
    "text_fingerprint",
    "shingles",
    "find_duplicates",
]

_WORD = re.compile(r"\w+", re.UNICODE)
_INF = float("inf")


def dedup_tokens(text: str) -> list[str]:
    """Case-folded NFKC word tokens of ``text`` (punctuation and spacing ignored)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def text_fingerprint(text: str) -> bytes:
    """8-byte hash of the normalised text: equal for texts that differ only in case,
    punctuation, spacing or Unicode composition."""
    return hashlib.blake2b(" ".join(dedup_tokens(text)).encode("utf-8"), digest_size=8).digest()


def shingles(tokens: list[str], k: int) -> list[str]:
    """Word ``k``-grams (the whole token list when it is shorter than ``k``)."""
    if len(tokens) <= k:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on ``uint64`` (wrapping arithmetic): a strong,
    seedable 64-bit mixer, so every MinHash "permutation" spreads even small inputs."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        return x ^ (x >> np.uint64(31))


def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows for the threshold, weighting false negatives 9:1 over false positives."""
    try:
        from datasketch.lsh import _optimal_param

        b, r = _optimal_param(threshold, num_perm, 0.1, 0.9)
        return int(b), int(r)
    except Exception:  # datasketch missing or its private helper changed: integrate ourselves
        best = (float("inf"), 1, num_perm)
        xs = [x / 200 for x in range(201)]
        for r in range(1, num_perm + 1):
            b = num_perm // r
            fp = sum(1 - (1 - x**r) ** b for x in xs if x < threshold) / 200
            fn = sum((1 - x**r) ** b for x in xs if x >= threshold) / 200
            err = 0.1 * fp + 0.9 * fn
            if err < best[0]:
                best = (err, b, r)
        return best[1], best[2]


@dataclass
class DedupStats:
    """What :meth:`Deduplicator.resolve` found.

    Attributes:
        n_articles: Articles added.
        n_duplicates: Articles marked as a duplicate of another one.
        n_exact: Of those, exact copies (after normalisation) of an earlier article.
        n_clusters: Clusters with more than one article.
    """

    n_articles: int = 0
    n_duplicates: int = 0
    n_exact: int = 0
    n_clusters: int = 0


class Deduplicator:
    """Streaming exact + near-duplicate detector with bounded per-article state.

    Args:
        threshold: Lowest estimated Jaccard similarity of shingle sets for a near-duplicate.
        num_perm: MinHash permutations (signature length); 64 gives a standard error of
            about 0.06 on the Jaccard estimate.
        shingle_size: Words per shingle.
        min_tokens: Bodies with fewer words are matched exactly only.
        seed: Seed of the MinHash permutations (fixed so runs are reproducible).
        near_identical: A copy at least this similar to an indexed article joins its cluster
            but is not indexed itself (the 20th copy of a wire story adds nothing; this keeps
            the index and the candidate lists small).
    """

    def __init__(
        self,
        *,
        threshold: float = 0.6,
        num_perm: int = 64,
        shingle_size: int = 5,
        min_tokens: int = 12,
        seed: int = 1,
        near_identical: float = 0.9,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.min_tokens = min_tokens
        self.near_identical = near_identical
        rng = np.random.RandomState(seed)
        # One seeded 64-bit mixer (splitmix64's finaliser) per permutation.
        self._seeds = rng.randint(0, 2**63, size=num_perm, dtype=np.int64).astype(np.uint64)
        self._mix = rng.randint(1, 2**62, size=shingle_size, dtype=np.int64).astype(np.uint64) | np.uint64(1)
        # LSH bands: recall-leaning (a missed candidate is a missed duplicate, a spurious one
        # only costs a signature comparison).  datasketch's optimiser picks bands x rows.
        self.bands, self.rows = _lsh_params(threshold, num_perm)
        self._index: list[dict[bytes, list[int]]] = [{} for _ in range(self.bands)]
        self._ids: list[str] = []
        self._dates: list[float] = []
        self._sigs: list[np.ndarray | None] = []
        self._exact: dict[bytes, int] = {}
        self._parent: list[int] = []
        self._is_exact: list[bool] = []

    # -- union-find ---------------------------------------------------------------------
    def _find(self, i: int) -> int:
        p = self._parent
        while p[i] != i:
            p[i] = p[p[i]]
            i = p[i]
        return i

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self._parent[hi] = lo

    # -- public API -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def signature(self, text: str) -> tuple[bytes, np.ndarray | None]:
        """The exact fingerprint and (for long enough texts) the MinHash signature of a body."""
        toks = dedup_tokens(text)
        fp = hashlib.blake2b(" ".join(toks).encode("utf-8"), digest_size=8).digest()
        if len(toks) < self.min_tokens:
            return fp, None
        th = _splitmix(np.fromiter((zlib.crc32(t.encode("utf-8")) for t in toks), dtype=np.uint64, count=len(toks)))
        k = min(self.shingle_size, len(toks))
        n = len(toks) - k + 1
        sh = np.zeros(n, dtype=np.uint64)
        for j in range(k):  # shingle hash: a fixed mix of its k token hashes (wrapping uint64)
            sh += th[j : j + n] * self._mix[j]
        phv = _splitmix(sh[:, None] ^ self._seeds[None, :])
        return fp, (phv.min(axis=0) >> np.uint64(32)).astype(np.uint32)

    def _band_keys(self, sig: np.ndarray) -> list[bytes]:
        r = self.rows
        return [sig[k * r : (k + 1) * r].tobytes() for k in range(self.bands)]

    def add(self, article_id: str, text: str, published_at: datetime | None) -> None:
        """Add the next article (input order); clusters grow as it goes."""
        i = len(self._ids)
        self._ids.append(article_id)
        self._dates.append(published_at.timestamp() if published_at is not None else _INF)
        self._parent.append(i)
        fp, sig = self.signature(text)
        self._sigs.append(sig)
        first = self._exact.get(fp)
        self._is_exact.append(first is not None)
        if first is not None:
            self._union(first, i)
            self._sigs[i] = None
            return  # an exact copy adds nothing the first copy's signature does not
        self._exact[fp] = i
        if sig is None:
            return
        keys = self._band_keys(sig)
        cands: set[int] = set()
        for band, key in zip(self._index, keys, strict=True):
            hit = band.get(key)
            if hit:
                cands.update(hit)
        need = self.threshold * self.num_perm
        best = 0
        for j in sorted(cands):
            if self._find(j) == self._find(i):
                continue  # already in this cluster: nothing to verify
            other = self._sigs[j]
            if other is None:
                continue
            same = int(np.count_nonzero(other == sig))
            if same >= need:
                self._union(j, i)
                best = max(best, same)
        if best >= self.near_identical * self.num_perm:
            self._sigs[i] = None  # a near-identical copy adds nothing to the index
            return
        for band, key in zip(self._index, keys, strict=True):
            band.setdefault(key, []).append(i)

    def resolve(self) -> dict[int, str]:
        """Map each duplicate's input position to the id of its cluster's earliest article.

        Representatives (and articles with no duplicate) are absent from the map.
        """
        n = len(self._ids)
        best: dict[int, int] = {}
        for i in range(n):
            r = self._find(i)
            b = best.get(r)
            if b is None or (self._dates[i], i) < (self._dates[b], b):
                best[r] = i
        out: dict[int, str] = {}
        sizes: dict[int, int] = {}
        for i in range(n):
            r = self._find(i)
            sizes[r] = sizes.get(r, 0) + 1
            rep = best[r]
            if rep != i:
                out[i] = self._ids[rep]
        self.stats = DedupStats(
            n_articles=n,
            n_duplicates=len(out),
            n_exact=sum(1 for i in out if self._is_exact[i]),
            n_clusters=sum(1 for s in sizes.values() if s > 1),
        )
        return out

    stats: DedupStats = DedupStats()


def find_duplicates(
    articles: Iterable[Article], *, threshold: float = 0.6, **kwargs: int
) -> tuple[list[str | None], DedupStats]:
    """``duplicate_of`` for each article (``None`` for representatives), in input order.

    Args:
        articles: Articles in input order (not modified).
        threshold: Near-duplicate Jaccard threshold.
        **kwargs: Passed to :class:`Deduplicator` (``num_perm``, ``shingle_size``, ``min_tokens``).
    """
    d = Deduplicator(threshold=threshold, **kwargs)
    for a in articles:
        d.add(a.id, a.text, a.published_at)
    dup = d.resolve()
    return [dup.get(i) for i in range(len(d))], d.stats
