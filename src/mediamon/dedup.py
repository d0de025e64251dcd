"""Duplicate detection: exact (normalised-text hash) and near-duplicates (MinHash + LSH).

Syndicated stories (the same TASS or Kazinform item under twenty URLs, retitled, trimmed,
with an outlet's boilerplate added) must count once in trends.  :class:`Deduplicator`
takes articles in input order (one at a time, or in batches whose MinHash signatures are
computed together, several times cheaper), keeps only a small signature per article
(a ``num_perm``-value MinHash as ``uint32``, the article id, its date and an 8-byte text
hash), and at the end resolves clusters.  All per-article state lives in flat arrays
(``array``/``numpy``, ids as one UTF-8 buffer, LSH bands as sorted (band, ``uint32`` hash) keys
checked against the stored signatures), not in Python objects: about 40 bytes per article
plus about 500 per *indexed* (distinct, long enough) article, ~55 MB for 100 000 distinct
articles.

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
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

import numpy as np

from .records import Article

__all__ = [
    "ADD_BATCH",
    "Deduplicator",
    "DedupStats",
    "dedup_tokens",
    "text_fingerprint",
    "shingles",
    "find_duplicates",
    "IdSet",
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


_SIG_BLOCK = 4096  # signatures per storage block
#: Articles whose signatures :meth:`Deduplicator.add_many` computes together (~60 µs per
#: article at 256, ~220 µs one by one).
ADD_BATCH = 256

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


# Token hashes: a polynomial hash of each token's UTF-8 bytes (wrapping uint64, odd base),
# computed for all tokens of many texts at once from one prefix sum (the hash of bytes
# ``s:e`` is ``(H[e] - H[s]) * base**-s``), then mixed by splitmix64.
_POLY_BASE = 0xD6E8FEB86659FD93  # odd, so it has an inverse modulo 2**64
_POLY_INV = pow(_POLY_BASE, -1, 1 << 64)
_POWERS: dict[str, np.ndarray] = {}
_POWERS_CACHED = 1 << 18  # bytes per hashing segment: 4 MB of cached powers at most


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``base**i`` and ``base**-i`` (mod 2**64) for ``i < n`` (cached up to ``_POWERS_CACHED``)."""
    have = _POWERS.get("fwd")
    if have is not None and len(have) >= n:
        return have, _POWERS["inv"]
    size = _POWERS_CACHED if n <= _POWERS_CACHED else n
    out = []
    for b in (_POLY_BASE, _POLY_INV):
        a = np.full(size, np.uint64(b), dtype=np.uint64)
        a[0] = 1
        with np.errstate(over="ignore"):
            out.append(np.cumprod(a, dtype=np.uint64))
    if size == _POWERS_CACHED:
        _POWERS["fwd"], _POWERS["inv"] = out
    return out[0], out[1]


def _token_hashes(data: bytes) -> np.ndarray:
    """A 64-bit hash per space-separated token of ``data`` (no empty tokens), in order."""
    b = np.frombuffer(data, dtype=np.uint8)
    m = len(b)
    fwd, inv = _powers(m + 1)
    spaces = np.flatnonzero(b == 32)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [m]))
    with np.errstate(over="ignore"):
        pre = np.zeros(m + 1, dtype=np.uint64)
        np.cumsum((b.astype(np.uint64) + np.uint64(1)) * fwd[:m], out=pre[1:])
        return _splitmix((pre[ends] - pre[starts]) * inv[starts])


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



_FILTER_MULT = 0x9E3779B97F4A7C15  # odd 64-bit constant (golden ratio): multiplicative hashing
_MASK64 = (1 << 64) - 1


class _KeyIndex:
    """Compact multimap ``key -> values`` over ``ncols`` independent columns of keys.

    Entries are ``(column, key)`` pairs packed into ``uint64`` (keys of a multi-column index
    must fit 32 bits) with an ``int32`` value, ~12 bytes each, in three tiers: a small
    unsorted buffer of recent rows (scanned), a small sorted array that absorbs the buffer
    when it fills, and a large sorted array that absorbs the small one when that reaches
    ``_SMALL`` entries — so a merge moves a large array only every few thousand rows, and
    a lookup is a vectorised search in two arrays plus a scan of at most ``buffer`` rows.
    A bit filter over the pairs (~8 bits per entry, doubled as entries grow) answers most
    lookups of absent keys without touching the arrays; a set bit only means "maybe", so
    answers stay exact.
    """

    _SMALL = 1 << 16

    def __init__(self, ncols: int, dtype: type[np.unsignedinteger] = np.uint64, buffer: int = 256) -> None:
        self.ncols = ncols
        self.dtype = np.dtype(dtype)
        if ncols > 1 and self.dtype.itemsize > 4:
            raise ValueError("keys of a multi-column index must fit 32 bits")
        self._cap = buffer
        self._bkeys = np.zeros((buffer, ncols), dtype=self.dtype)
        self._bvals = np.zeros(buffer, dtype=np.int32)
        self._nb = 0
        empty_k, empty_v = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32)
        self._levels: list[tuple[np.ndarray, np.ndarray]] = [(empty_k, empty_v), (empty_k, empty_v)]
        self._cols = np.arange(ncols, dtype=np.uint64) << np.uint64(32)
        self._set_filter(16)

    def _pack(self, keys: np.ndarray) -> np.ndarray:
        """Packed ``(column, key)`` of one row of keys (one per column)."""
        k = keys.astype(np.uint64)
        return k if self.ncols == 1 else k | self._cols

    # -- filter ---------------------------------------------------------------------------
    def _set_filter(self, log2: int) -> None:
        self._log2 = log2
        self._shift = 64 - log2
        self._filter = bytearray(1 << (log2 - 3))  # one bit per slot
        self._fview = np.frombuffer(self._filter, dtype=np.uint8)

    def _slots(self, packed: np.ndarray) -> np.ndarray:
        # uint64 array arithmetic wraps silently (no errstate needed, unlike NumPy scalars)
        return ((packed ^ (packed >> np.uint64(29))) * np.uint64(_FILTER_MULT)) >> np.uint64(self._shift)

    def _slot(self, packed: int) -> int:
        return (((packed ^ (packed >> 29)) * _FILTER_MULT) & _MASK64) >> self._shift

    def _n_entries(self) -> int:
        return sum(len(k) for k, _ in self._levels) + self._nb * self.ncols

    # -- entries ------------------------------------------------------------------------
    def add(self, keys: np.ndarray, value: int) -> None:
        if self._nb == self._cap:
            self._merge()
        self._bkeys[self._nb] = keys
        self._bvals[self._nb] = value
        self._nb += 1
        if self._n_entries() > len(self._filter):  # more than ~8 bits per entry: double
            self._merge()
            self._set_filter(self._log2 + 1)
            for ks, _ in self._levels:
                slots = self._slots(ks)
                np.bitwise_or.at(self._fview, slots >> np.uint64(3), (1 << (slots & np.uint64(7))).astype(np.uint8))
            return
        f = self._filter
        if self.ncols == 1:
            one = self._slot(int(keys[0]))
            f[one >> 3] |= 1 << (one & 7)
        else:
            for one in self._slots(self._pack(self._bkeys[self._nb - 1])).tolist():
                f[one >> 3] |= 1 << (one & 7)

    def _merge(self) -> None:
        nb = self._nb
        if not nb:
            return
        b = self._bkeys[:nb].astype(np.uint64)
        new = (b if self.ncols == 1 else b | self._cols[None, :]).T.ravel()  # column-major
        vals = np.tile(self._bvals[:nb], self.ncols)
        order = np.argsort(new, kind="stable")
        self._levels[1] = _merge_sorted(self._levels[1], new[order], vals[order])
        if len(self._levels[1][0]) >= self._SMALL:
            self._levels[0] = _merge_sorted(self._levels[0], *self._levels[1])
            self._levels[1] = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32))
        self._nb = 0

    def values(self, keys: np.ndarray) -> np.ndarray:
        """Every value stored under ``keys[c]`` in column ``c``, for all columns (unordered,
        with repeats when a value sits under several of the keys)."""
        keys = keys.astype(self.dtype, copy=False)
        q = self._pack(keys)
        sl = self._slots(q)
        hit_cols = np.flatnonzero((self._fview[sl >> np.uint64(3)] >> (sl & np.uint64(7)).astype(np.uint8)) & 1)
        if not len(hit_cols):
            return np.zeros(0, dtype=np.int32)
        q = q[hit_cols]
        out: list[np.ndarray] = []
        for ks, vs in self._levels:
            n = len(ks)
            if n:
                lo = ks.searchsorted(q)
                found = ks[np.minimum(lo, n - 1)] == q
                if found.any():
                    lo, qf = lo[found], q[found]
                    hi = ks.searchsorted(qf, side="right")
                    if (hi - lo == 1).all():  # the usual case: one value per key
                        out.append(vs[lo])
                    else:
                        out.extend(vs[a:z] for a, z in zip(lo.tolist(), hi.tolist(), strict=True))
        if self._nb:
            rows = np.nonzero(self._bkeys[: self._nb, hit_cols] == keys[hit_cols])[0]
            if len(rows):
                out.append(self._bvals[rows])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int32)

    def lookup(self, col: int, key: int | np.unsignedinteger) -> Iterator[int]:
        """Values stored under ``key`` in column ``col`` (any order)."""
        q = int(key) | (col << 32) if self.ncols > 1 else int(key)
        sl = self._slot(q)
        if not (self._filter[sl >> 3] >> (sl & 7)) & 1:
            return  # the common case, answered in pure Python
        for ks, vs in self._levels:
            if len(ks):
                lo = int(np.searchsorted(ks, np.uint64(q), side="left"))
                if lo < len(ks) and ks[lo] == q:
                    hi = int(np.searchsorted(ks, np.uint64(q), side="right"))
                    yield from vs[lo:hi].tolist()
        if self._nb:
            k = self.dtype.type(key)
            yield from self._bvals[np.flatnonzero(self._bkeys[: self._nb, col] == k)].tolist()


def _merge_sorted(
    a: tuple[np.ndarray, np.ndarray], keys: np.ndarray, vals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``a`` with sorted ``keys``/``vals`` merged in (after equal keys: order kept)."""
    at = np.searchsorted(a[0], keys, side="right")
    return np.insert(a[0], at, keys), np.insert(a[1], at, vals)


class _Strings:
    """Append-only list of strings as one UTF-8 buffer and offsets (~``len + 8`` bytes each)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._ends = array("q")

    def __len__(self) -> int:
        return len(self._ends)

    def append(self, s: str) -> None:
        self._buf += s.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._buf))

    def __getitem__(self, i: int) -> str:
        start = self._ends[i - 1] if i else 0
        return self._buf[start : self._ends[i]].decode("utf-8", "surrogatepass")


def _hash64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class IdSet:
    """Exact set of strings (article ids) in ~30 bytes per member instead of a ``set``'s ~100.

    Members are kept as UTF-8 and found by a 64-bit hash; a hash match is checked against
    the stored string, so the answer is exact.

    Example:
        >>> s = IdSet()
        >>> s.add("a"), s.add("a")
        (True, False)
        >>> "a" in s, "b" in s
        (True, False)
    """

    def __init__(self) -> None:
        self._strings = _Strings()
        self._index = _KeyIndex(1)

    def __len__(self) -> int:
        return len(self._strings)

    def _has(self, s: str, h: int) -> bool:
        return any(self._strings[j] == s for j in self._index.lookup(0, h))

    def __contains__(self, s: object) -> bool:
        return isinstance(s, str) and self._has(s, _hash64(s))

    def add(self, s: str) -> bool:
        """Add ``s``; ``False`` (and no effect) when it is a member already."""
        h = _hash64(s)
        if self._has(s, h):
            return False
        self._index.add(np.array([h], dtype=np.uint64), len(self._strings))
        self._strings.append(s)
        return True


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
        # One permutation per signature value: x -> a*x + b (mod 2**32, a odd: a bijection of
        # the 32-bit values) of the shingle's splitmix-mixed 32-bit hash; its minimum is kept.
        self._perm_a = (rng.randint(0, 2**31, size=num_perm, dtype=np.int64) * 2 + 1).astype(np.uint32)
        self._perm_b = rng.randint(0, 2**32, size=num_perm, dtype=np.int64).astype(np.uint32)
        self._mix = rng.randint(1, 2**62, size=shingle_size, dtype=np.int64).astype(np.uint64) | np.uint64(1)
        # LSH bands: recall-leaning (a missed candidate is a missed duplicate, a spurious one
        # only costs a signature comparison).  datasketch's optimiser picks bands x rows.
        self.bands, self.rows = _lsh_params(threshold, num_perm)
        # Flat per-article state (see the module docstring for the sizes).
        self._ids = _Strings()
        self._dates = array("d")
        self._parent = array("q")
        self._is_exact = bytearray()
        self._exact = _KeyIndex(1)  # text fingerprint -> first article with it
        # Signatures of the indexed articles, in blocks; _sig_of[i] is article i's row or -1.
        self._sig_blocks: list[np.ndarray] = []
        self._n_sigs = 0
        self._sig_of = array("q")
        # LSH bands: a uint32 hash of each band of an indexed signature -> its article; every
        # article found under one of a new article's band hashes is verified on the whole
        # signature.
        self._bands = _KeyIndex(self.bands, np.uint32)
        self._band_mix = rng.randint(1, 2**62, size=self.rows, dtype=np.int64).astype(np.uint64) | np.uint64(1)

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
        fps, sigs, has = self.signatures([text])
        return fps[0], (sigs[0] if has[0] else None)

    def signatures(self, texts: list[str]) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """:meth:`signature` of many bodies at once (the NumPy work done once per batch).

        Returns:
            The fingerprints, a ``(len(texts), num_perm)`` ``uint32`` array of signatures and
            a boolean array saying which rows hold one (bodies of ``min_tokens`` words or more).
        """
        fps: list[bytes] = []
        datas: list[bytes] = []
        counts: list[int] = []
        rows: list[int] = []
        for i, text in enumerate(texts):
            toks = dedup_tokens(text)
            data = " ".join(toks).encode("utf-8")
            fps.append(hashlib.blake2b(data, digest_size=8).digest())
            if len(toks) >= self.min_tokens and toks:
                datas.append(data)
                counts.append(len(toks))
                rows.append(i)
        sigs = np.zeros((len(texts), self.num_perm), dtype=np.uint32)
        has = np.zeros(len(texts), dtype=bool)
        if not rows:
            return fps, sigs, has
        # one hash per token, texts back to back, hashed in segments of <= _POWERS_CACHED bytes
        segs: list[np.ndarray] = []
        lo = size = 0
        for j, d in enumerate(datas):
            if size and size + len(d) + 1 > _POWERS_CACHED:
                segs.append(_token_hashes(b" ".join(datas[lo:j])))
                lo, size = j, 0
            size += len(d) + 1
        segs.append(_token_hashes(b" ".join(datas[lo:])))
        th = np.concatenate(segs)
        cnt = np.array(counts, dtype=np.int64)
        first = np.concatenate(([0], np.cumsum(cnt)[:-1]))
        k = np.minimum(self.shingle_size, cnt)  # shingles of k words (the whole text if shorter)
        n_sh = cnt - k + 1
        # shingle j of text t starts at token first[t] + j and spans k[t] tokens
        t_of = np.repeat(np.arange(len(cnt)), n_sh)
        start = np.repeat(first, n_sh) + (np.arange(n_sh.sum()) - np.repeat(np.cumsum(n_sh) - n_sh, n_sh))
        kk = k[t_of]
        with np.errstate(over="ignore"):
            sh = np.zeros(len(start), dtype=np.uint64)
            for j in range(int(k.max())):  # a fixed mix of the shingle's token hashes
                use = kk > j
                sh[use] += th[start[use] + j] * self._mix[j]
            x = (_splitmix(sh) >> np.uint64(32)).astype(np.uint32)
            seg = np.cumsum(n_sh) - n_sh  # first shingle of each text
            block = max(1, (1 << 20) // self.num_perm)  # shingles per block: <= 4 MB of temporaries
            mins = np.full((len(cnt), self.num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
            for a in range(0, len(x), block):
                b = min(len(x), a + block)
                pieces = np.concatenate(([a], seg[(seg > a) & (seg < b)])) - a  # one piece per text
                phv = x[a:b, None] * self._perm_a[None, :] + self._perm_b[None, :]
                tid = t_of[pieces + a]
                mins[tid] = np.minimum(mins[tid], np.minimum.reduceat(phv, pieces, axis=0))
        sigs[rows] = mins
        has[rows] = True
        return fps, sigs, has

    def _band_hashes(self, sigs: np.ndarray) -> np.ndarray:
        """A ``uint32`` hash of each band (``rows`` consecutive values) of each signature
        (``sigs``: ``(n, num_perm)`` → ``(n, bands)``)."""
        n = len(sigs)
        b = sigs[:, : self.bands * self.rows].reshape(n, self.bands, self.rows).astype(np.uint64)
        h = (b * self._band_mix).sum(axis=2, dtype=np.uint64)
        return (_splitmix(h) >> np.uint64(32)).astype(np.uint32)

    def _sig_row(self, i: int) -> np.ndarray:
        """The stored signature of an indexed article."""
        row = self._sig_of[i]
        return self._sig_blocks[row // _SIG_BLOCK][row % _SIG_BLOCK]

    def _store_sig(self, i: int, sig: np.ndarray) -> None:
        row = self._n_sigs
        if row % _SIG_BLOCK == 0:
            self._sig_blocks.append(np.zeros((_SIG_BLOCK, self.num_perm), dtype=np.uint32))
        self._sig_blocks[-1][row % _SIG_BLOCK] = sig
        self._sig_of[i] = row
        self._n_sigs += 1

    def add(self, article_id: str, text: str, published_at: datetime | None) -> None:
        """Add the next article (input order); clusters grow as it goes."""
        self.add_many([(article_id, text, published_at)])

    def add_many(self, articles: Iterable[tuple[str, str, datetime | None]]) -> None:
        """Add the next articles, ``(id, body, published_at)`` each, in input order.

        Same result as :meth:`add` one by one; signatures are computed ``ADD_BATCH``
        articles at a time, which is several times cheaper per article.
        """
        it = iter(articles)
        while batch := list(islice(it, ADD_BATCH)):
            fps, sigs, has = self.signatures([t for _, t, _ in batch])
            bands = self._band_hashes(sigs)
            for k, ((article_id, _, published_at), fp) in enumerate(zip(batch, fps, strict=True)):
                self._add_signed(article_id, published_at, fp, sigs[k] if has[k] else None, bands[k])

    def _add_signed(
        self, article_id: str, published_at: datetime | None, fp: bytes, sig: np.ndarray | None, hashes: np.ndarray
    ) -> None:
        i = len(self._ids)
        self._ids.append(article_id)
        self._dates.append(published_at.timestamp() if published_at is not None else _INF)
        self._parent.append(i)
        self._sig_of.append(-1)
        fpk = int.from_bytes(fp, "little")
        first = next(iter(self._exact.lookup(0, fpk)), None)
        self._is_exact.append(first is not None)
        if first is not None:
            self._union(first, i)
            return  # an exact copy adds nothing the first copy's signature does not
        self._exact.add(np.array([fpk], dtype=np.uint64), i)
        if sig is None:
            return
        # Candidates: indexed articles sharing a band hash with this one, each verified on
        # the whole signature (one vectorised comparison for all of them).
        cands = np.unique(self._bands.values(hashes))
        need = self.threshold * self.num_perm
        best = 0
        if len(cands):
            js = cands.tolist()
            same_all = (np.stack([self._sig_row(j) for j in js]) == sig).sum(axis=1).tolist()
            for j, same in zip(js, same_all, strict=True):
                if self._find(j) == self._find(i):
                    continue  # already in this cluster: nothing to add
                if same >= need:
                    self._union(j, i)
                    best = max(best, same)
        if best >= self.near_identical * self.num_perm:
            return  # a near-identical copy adds nothing to the index
        self._store_sig(i, sig)
        self._bands.add(hashes, i)

    def resolve_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Duplicates as arrays: input positions (ascending) and their representatives' positions.

        Same result as :meth:`resolve`, without a Python object per article; sets :attr:`stats`.
        """
        n = len(self._ids)
        roots = np.fromiter((self._find(i) for i in range(n)), dtype=np.int64, count=n)
        dates = np.frombuffer(self._dates, dtype=np.float64) if n else np.zeros(0)
        pos = np.arange(n, dtype=np.int64)
        order = np.lexsort((pos, dates, roots))  # by cluster, then date, then input order
        sr = roots[order]
        first = np.ones(n, dtype=bool)
        first[1:] = sr[1:] != sr[:-1]
        rep = np.empty(n, dtype=np.int64)
        rep[order] = order[first][np.cumsum(first) - 1]
        dup = np.flatnonzero(rep != pos)
        sizes = np.diff(np.append(np.flatnonzero(first), n))
        is_exact = np.frombuffer(bytes(self._is_exact), dtype=np.uint8) if n else np.zeros(0, dtype=np.uint8)
        self.stats = DedupStats(
            n_articles=n,
            n_duplicates=len(dup),
            n_exact=int(is_exact[dup].sum()),
            n_clusters=int((sizes > 1).sum()),
        )
        return dup, rep[dup]

    def id_at(self, i: int) -> str:
        """The id of the article added ``i``-th (from 0)."""
        return self._ids[i]

    def resolve(self) -> dict[int, str]:
        """Map each duplicate's input position to the id of its cluster's earliest article.

        Representatives (and articles with no duplicate) are absent from the map.
        """
        dup, rep = self.resolve_positions()
        names: dict[int, str] = {}
        out: dict[int, str] = {}
        for i, r in zip(dup.tolist(), rep.tolist(), strict=True):
            name = names.get(r)
            if name is None:
                name = names[r] = self._ids[r]
            out[i] = name
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
    d.add_many((a.id, a.text, a.published_at) for a in articles)
    dup = d.resolve()
    return [dup.get(i) for i in range(len(d))], d.stats
