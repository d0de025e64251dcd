"""The fast tier: static token embeddings distilled from the e5 encoder + linear heads.

Model2vec-style distillation, done here without extra dependencies:

1. **Vocabulary.**  The encoder's sentencepiece vocabulary (250k pieces, 100 languages) is
   restricted to what Russian, Kazakh and English news need: the ``top_pieces`` most
   probable pieces written in Latin or Cyrillic letters or digits (ranked by the unigram
   log-probability stored in ``tokenizer.json``), every piece that occurs in the training
   texts, every single character piece of those scripts (so any word can still be spelt
   out) and the special tokens.
2. **Token vectors.**  Each kept piece is run through the encoder alone
   (``<s> piece </s>``) and mean-pooled exactly like the e5 recipe.
3. **Compression.**  PCA to ``dims`` dimensions, then SIF weighting ``a / (a + p(piece))``
   with ``p`` from the unigram log-probabilities, so frequent function pieces count little.
   The table is stored as float16 safetensors.
4. **Tokenizer.**  A Unigram tokenizer with the restricted vocabulary (same normaliser and
   pre-tokeniser as the encoder) is written beside the table; words whose pieces were
   dropped are re-segmented into kept, shorter pieces rather than lost.
5. **Learning (tokenlearn-style).**  The table is then fitted so that the mean of a text's
   token vectors, through an affine map, reproduces the encoder's ``"query: "`` embedding
   of that text (cosine loss, Adam, best epoch on held-out texts): the training texts, their
   sentences and 3-sentence chunks, all unlabelled (:func:`distillation_samples`,
   :func:`learn_table`).  The map is folded into the table and the table rotated back to
   ``dims`` columns, so scoring is unchanged: a lookup and a mean.

An article vector is the mean of its token vectors, L2-normalised; the heads are logistic
regressions as in :mod:`mediamon.framing.e5`.  Tokenisation goes word by word through a
bounded cache (news vocabularies are Zipfian), and the pooling is one sparse
matrix product, so scoring costs microseconds per article and memory stays flat.

Nothing is downloaded: distillation reads the local encoder checkpoint (see
:func:`mediamon.encoders.resolve_encoder`); a saved model needs neither torch nor the encoder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from ..errors import ModelError
from .base import FramingModel, fit_linear_heads, linear_scores

__all__ = [
    "StaticEmbedding", "StaticFramingModel", "distill_static", "distillation_samples", "learn_table",
    "regression_loss",
]

#: Letters of the scripts mediamon handles (Latin, Cyrillic incl. Kazakh letters), digits.
_KEEP_PIECE = re.compile(r"^▁?[A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІіЎўЈј0-9'’\-]+$")
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
#: Defaults of the table-learning step (chosen on corpora/framing/validation.jsonl).
LEARN_EPOCHS = 8
LEARN_LR = 1e-3


class StaticEmbedding:
    """A static token-embedding table with its (restricted) tokenizer.

    Args:
        tokenizer_json: The ``tokenizer.json`` text of a ``tokenizers`` tokenizer whose ids
            index the rows of ``table``.
        table: Token vectors (vocab, dim); rows are already weighted.
        max_tokens: Tokens per article (0: no limit).  The first ``max_tokens`` count.
        cache_size: Words kept in the word → ids cache before it is cleared (bounds memory).
    """

    def __init__(
        self, tokenizer_json: str, table: np.ndarray, *, max_tokens: int = 0, cache_size: int = 300_000
    ):
        from tokenizers import Tokenizer

        self.tokenizer_json = tokenizer_json
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        if self.table.ndim != 2 or self.table.shape[0] != self.tokenizer.get_vocab_size(
            with_added_tokens=True
        ):
            raise ModelError(
                f"static table shape {self.table.shape} does not match the tokenizer's "
                f"{self.tokenizer.get_vocab_size(with_added_tokens=True)} pieces"
            )
        self.dim = int(self.table.shape[1])
        self.max_tokens = int(max_tokens)
        self.cache_size = int(cache_size)
        self._words: dict[str, list[int]] = {}
        self._skip = {self.tokenizer.token_to_id(t) for t in _SPECIALS} - {None}

    def _word_ids(self, words: Sequence[str]) -> None:
        """Tokenise words missing from the cache (one batched call)."""
        uniq = set(words)
        missing = [w for w in uniq if w not in self._words]
        if not missing:
            return
        if len(self._words) + len(missing) > self.cache_size:
            self._words.clear()  # bounded memory; this call's words are all re-tokenised
            missing = list(uniq)
        enc = self.tokenizer.encode_batch(missing, add_special_tokens=False)
        skip = self._skip
        for w, e in zip(missing, enc, strict=True):
            self._words[w] = [i for i in e.ids if i not in skip]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (words cached; special and unknown pieces dropped)."""
        split = [t.split() for t in texts]
        self._word_ids([w for ws in split for w in ws])
        cache = self._words
        out: list[list[int]] = []
        for ws in split:
            ids = [i for w in ws for i in cache[w]] if ws else []
            if self.max_tokens and len(ids) > self.max_tokens:
                ids = ids[: self.max_tokens]
            out.append(ids)
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Article vectors (n, dim): mean of token vectors, L2-normalised, float32."""
        from scipy.sparse import csr_matrix

        n = len(texts)
        if n == 0:
            return np.zeros((0, self.dim), np.float32)
        ids = self.token_ids(texts)
        lens = np.fromiter((len(r) for r in ids), dtype=np.int64, count=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        cols = np.fromiter((i for r in ids for i in r), dtype=np.int64, count=int(indptr[-1]))
        C = csr_matrix((np.ones(len(cols), np.float32), cols, indptr), shape=(n, self.table.shape[0]))
        X = np.asarray(C @ self.table, dtype=np.float32)
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        return X / np.maximum(norms, 1e-12)


def _restricted_tokenizer(full: dict[str, Any], keep: list[int]) -> str:
    """``tokenizer.json`` text of a Unigram tokenizer keeping only the ``keep`` ids, in that order."""
    vocab = full["model"]["vocab"]
    new_vocab = [[vocab[i][0], float(vocab[i][1])] for i in keep]
    unk = full["model"].get("unk_id")
    unk_new = keep.index(unk) if unk is not None and unk in keep else None
    idmap = {old: new for new, old in enumerate(keep)}
    added = []
    for a in full.get("added_tokens", []):
        if a["id"] in idmap:
            added.append({**a, "id": idmap[a["id"]]})
    out = {
        "version": full.get("version", "1.0"),
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": full.get("normalizer"),
        "pre_tokenizer": full.get("pre_tokenizer"),
        "post_processor": None,
        "decoder": full.get("decoder"),
        "model": {"type": "Unigram", "unk_id": unk_new, "vocab": new_vocab, "byte_fallback": False},
    }
    return json.dumps(out, ensure_ascii=False)


def select_vocabulary(full: dict[str, Any], texts: Iterable[str], *, top_pieces: int) -> list[int]:
    """Ids of the encoder's pieces to keep (sorted).

    Args:
        full: The encoder's ``tokenizer.json`` as a dict (Unigram model).
        texts: Reference texts; every piece they use is kept.
        top_pieces: How many of the most probable Latin/Cyrillic/digit pieces to keep.
    """
    from tokenizers import Tokenizer

    if full.get("model", {}).get("type") != "Unigram":
        raise ModelError("static distillation needs a sentencepiece Unigram tokenizer (XLM-R / e5 family)")
    vocab = full["model"]["vocab"]
    keep: set[int] = {i for i, (p, _s) in enumerate(vocab) if p in _SPECIALS}
    script = [(s, i) for i, (p, s) in enumerate(vocab) if _KEEP_PIECE.match(p)]
    keep.update(i for _s, i in sorted(script, reverse=True)[:top_pieces])
    keep.update(
        i for i, (p, _s) in enumerate(vocab) if len(p.removeprefix("▁")) == 1 and _KEEP_PIECE.match(p)
    )
    keep.update(i for i, (p, _s) in enumerate(vocab) if len(p) == 1 and not p.isalnum())  # punctuation, ▁
    tk = Tokenizer.from_str(json.dumps(full))
    tk.no_truncation()
    tk.no_padding()
    batch: list[str] = []
    for t in texts:
        batch.append(t)
        if len(batch) >= 256:
            for e in tk.encode_batch(batch, add_special_tokens=False):
                keep.update(e.ids)
            batch = []
    if batch:
        for e in tk.encode_batch(batch, add_special_tokens=False):
            keep.update(e.ids)
    return sorted(keep)


def distill_static(
    encoder_dir: str | Path,
    texts: Iterable[str] = (),
    *,
    top_pieces: int = 24_000,
    dims: int = 256,
    sif_a: float = 1e-4,
    batch_size: int = 512,
    progress: Any = None,
) -> StaticEmbedding:
    """Distil a static embedding table from a local HF encoder checkpoint (no download).

    Args:
        encoder_dir: Directory with ``tokenizer.json`` (sentencepiece Unigram) and weights
            loadable by ``transformers.AutoModel``.
        texts: Reference texts whose pieces are always kept (e.g. the training texts).
        top_pieces: Most probable Latin/Cyrillic/digit pieces kept in addition.
        dims: PCA dimensions (clamped to the encoder width and vocabulary size).
        sif_a: SIF weight parameter; 0 disables the weighting.
        batch_size: Pieces per encoder forward pass.
        progress: Optional callable taking a status line.

    Returns:
        The distilled :class:`StaticEmbedding` (float32 table).
    """
    import torch
    from transformers import AutoModel

    say = progress or (lambda _m: None)
    enc_dir = Path(encoder_dir)
    full = json.loads((enc_dir / "tokenizer.json").read_text(encoding="utf-8"))
    keep = select_vocabulary(full, texts, top_pieces=top_pieces)
    vocab = full["model"]["vocab"]
    ids_of = {p: i for i, (p, _s) in enumerate(vocab)}
    bos, eos = ids_of.get("<s>", 0), ids_of.get("</s>", 2)
    say(f"distilling {len(keep)} pieces from {enc_dir.name}")
    model = AutoModel.from_pretrained(str(enc_dir), local_files_only=True).eval()
    vecs = np.zeros((len(keep), int(model.config.hidden_size)), dtype=np.float32)
    with torch.inference_mode():
        for b0 in range(0, len(keep), batch_size):
            chunk = keep[b0 : b0 + batch_size]
            inp = torch.tensor([[bos, i, eos] for i in chunk], dtype=torch.long)
            h = model(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state
            vecs[b0 : b0 + len(chunk)] = h.mean(dim=1).float().numpy()
    # PCA (centred SVD) to `dims`
    k = max(1, min(dims, vecs.shape[1], vecs.shape[0]))
    mu = vecs.mean(axis=0, keepdims=True)
    _u, _s, vt = np.linalg.svd(vecs - mu, full_matrices=False)
    table = (vecs - mu) @ vt[:k].T
    if sif_a > 0:
        logp = np.array([float(vocab[i][1]) for i in keep])
        p = np.exp(np.minimum(logp, 0.0))
        w = sif_a / (sif_a + p)
        table *= w[:, None]
    for s in _SPECIALS:  # special tokens carry no content
        if s in ids_of and ids_of[s] in keep:
            table[keep.index(ids_of[s])] = 0.0
    # rounded to float16 now so that a saved and reloaded model scores exactly as trained
    return StaticEmbedding(_restricted_tokenizer(full, keep), table.astype(np.float16).astype(np.float32))


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…»])\s+|\n\n")


def distillation_samples(texts: Iterable[str], *, min_chars: int = 21) -> tuple[list[str], list[int]]:
    """Unlabelled regression samples from texts: each text, its sentences, 3-sentence chunks.

    Sentences are split at ``. ! ? … »`` and paragraph breaks; pieces shorter than
    ``min_chars`` (default: 20 characters or fewer) are dropped; chunks of three consecutive
    sentences advance by two.

    Returns:
        ``(samples, groups)``: the samples and, for each, the index of the text it came from
        (so that a held-out split keeps the pieces of one text together).
    """
    samples: list[str] = []
    groups: list[int] = []
    for g, text in enumerate(texts):
        samples.append(text)
        groups.append(g)
        sents = [s for s in _SENTENCE_SPLIT.split(text) if len(s.strip()) >= min_chars]
        pieces = sents + [" ".join(sents[j : j + 3]) for j in range(0, max(len(sents) - 2, 0), 2)]
        samples.extend(pieces)
        groups.extend([g] * len(pieces))
    return samples, groups


def _bag(ids: Sequence[Sequence[int]]) -> tuple[Any, Any]:
    """Flat token ids and offsets of an ``EmbeddingBag`` call."""
    import torch

    lens = [len(r) for r in ids]
    flat = torch.tensor([i for r in ids for i in r], dtype=torch.long)
    offsets = torch.tensor(np.concatenate([[0], np.cumsum(lens[:-1])]) if lens else [], dtype=torch.long)
    return flat, offsets


def _affine_map(M: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares affine map ``M @ W + b ≈ targets``; returns ``(W, b)``."""
    A = np.hstack([M, np.ones((len(M), 1), M.dtype)]).astype(np.float64)
    sol = np.linalg.lstsq(A, targets.astype(np.float64), rcond=None)[0]
    return sol[:-1].astype(np.float32), sol[-1].astype(np.float32)


def _mean_vectors(static: StaticEmbedding, ids: Sequence[Sequence[int]]) -> np.ndarray:
    """Unnormalised mean token vectors of token-id lists (zero rows for empty lists)."""
    out = np.zeros((len(ids), static.dim), np.float32)
    for k, r in enumerate(ids):
        if r:
            out[k] = static.table[list(r)].mean(axis=0)
    return out


def regression_loss(static: StaticEmbedding, samples: Sequence[str], targets: np.ndarray) -> float:
    """Mean cosine distance between teacher vectors and the best affine map of the static means.

    The map is fitted by least squares on the same samples, so the figure measures how much
    of the teacher embeddings the table's mean-pooled vectors can express linearly.
    """
    ids = static.token_ids(samples)
    keep = [k for k, r in enumerate(ids) if r]
    M = _mean_vectors(static, [ids[k] for k in keep])
    W, b = _affine_map(M, targets[keep])
    P = M @ W + b
    P /= np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)
    T = targets[keep] / np.maximum(np.linalg.norm(targets[keep], axis=1, keepdims=True), 1e-12)
    return float(1.0 - (P * T).sum(axis=1).mean())


def learn_table(
    static: StaticEmbedding,
    samples: Sequence[str],
    targets: np.ndarray,
    *,
    groups: Sequence[int] | None = None,
    epochs: int = LEARN_EPOCHS,
    lr: float = LEARN_LR,
    batch_size: int = 256,
    holdout: float = 0.1,
    seed: int = 0,
    progress: Any = None,
) -> tuple[StaticEmbedding, dict[str, Any]]:
    """Tokenlearn-style refinement: fit the token table so mean pooling reproduces a teacher.

    The student vector of a sample is ``mean(table[ids]) @ W + b``; ``W, b`` start at the
    least-squares map and, with the table (initialised from ``static``), are trained with
    Adam to minimise the cosine distance to the teacher embedding of the sample (e.g. e5's
    sentence embeddings).  A held-out share of the groups picks the best epoch.  The affine
    map is then folded into the table (the bias is shared by every token, so it passes
    through the mean) and the table rotated back to its width by an SVD — a rotation, so
    article vectors keep their norms and the logistic heads are unaffected by it.

    Args:
        static: The initial table and its tokenizer (e.g. from :func:`distill_static`).
        samples: Unlabelled texts (e.g. from :func:`distillation_samples`).
        targets: Teacher embeddings of ``samples`` (n, teacher_dim).
        groups: Source-text index per sample for the held-out split (default: each its own).
        epochs: Passes over the training samples (0: return a copy of ``static``).
        lr: Adam learning rate.
        batch_size: Samples per step.
        holdout: Share of the groups held out to choose the epoch.
        seed: Seed of the split, the initial order and torch.
        progress: Optional callable taking a status line.

    Returns:
        ``(learned, report)``: the new :class:`StaticEmbedding` (float16-rounded table, same
        tokenizer and width) and a report with the held-out loss per epoch and the chosen epoch.
    """
    import torch

    say = progress or (lambda _m: None)
    if len(samples) != len(targets):
        raise ModelError(f"{len(samples)} samples but {len(targets)} teacher vectors")
    if epochs <= 0:
        kept = StaticEmbedding(static.tokenizer_json, static.table, max_tokens=static.max_tokens,
                               cache_size=static.cache_size)
        return kept, {"held_out_loss": [], "epoch": 0, "n_train": 0, "n_held_out": 0}
    ids = static.token_ids(samples)
    rng = np.random.default_rng(seed)
    g = np.asarray(groups if groups is not None else range(len(samples)))
    uniq = np.unique(g)
    n_hold = int(round(holdout * len(uniq))) if len(uniq) > 1 else 0
    hold_groups = set(rng.choice(uniq, size=n_hold, replace=False).tolist()) if n_hold else set()
    usable = np.array([len(r) > 0 for r in ids])
    in_hold = np.array([x in hold_groups for x in g], dtype=bool)
    train_idx = np.where(usable & ~in_hold)[0]
    hold_idx = np.where(usable & in_hold)[0]
    if len(train_idx) == 0:
        raise ModelError("no samples with known tokens to learn the static table from")
    if len(hold_idx) == 0:
        hold_idx = train_idx
    torch.manual_seed(seed)
    V, d = static.table.shape
    emb = torch.nn.EmbeddingBag(V, d, mode="mean")
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(static.table))
    tn = targets.astype(np.float32)
    T = torch.from_numpy(tn / np.maximum(np.linalg.norm(tn, axis=1, keepdims=True), 1e-12))
    W0, b0 = _affine_map(_mean_vectors(static, [ids[k] for k in train_idx]), targets[train_idx])
    lin = torch.nn.Linear(d, T.shape[1])
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(W0.T.copy()))
        lin.bias.copy_(torch.from_numpy(b0))
    opt = torch.optim.Adam([emb.weight, *lin.parameters()], lr=lr)

    def loss_of(idx: np.ndarray) -> Any:
        flat, offs = _bag([ids[k] for k in idx])
        pred = torch.nn.functional.normalize(lin(emb(flat, offs)), dim=1)
        return (1.0 - (pred * T[torch.from_numpy(idx)]).sum(dim=1)).mean()

    def held_out() -> float:
        with torch.no_grad():
            return float(loss_of(hold_idx))

    def snapshot() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (emb.weight.detach().numpy().copy(), lin.weight.detach().numpy().T.copy(),
                lin.bias.detach().numpy().copy())

    losses = [held_out()]
    best_epoch, best = 0, snapshot()
    say(f"learning the static table: {len(train_idx)} samples, held-out loss {losses[0]:.4f}")
    for epoch in range(1, epochs + 1):
        order = rng.permutation(train_idx)
        for b in range(0, len(order), batch_size):
            loss = loss_of(order[b : b + batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append(held_out())
        say(f"  epoch {epoch}: held-out loss {losses[-1]:.4f}")
        if losses[-1] < losses[best_epoch]:
            best_epoch, best = epoch, snapshot()
    E, W, bias = best
    folded = E.astype(np.float64) @ W.astype(np.float64) + bias.astype(np.float64)
    _u, _s, vt = np.linalg.svd(folded, full_matrices=False)
    table = folded @ vt[:d].T
    for s in _SPECIALS:  # special tokens carry no content
        i = static.tokenizer.token_to_id(s)
        if i is not None:
            table[i] = 0.0
    learned = StaticEmbedding(
        static.tokenizer_json, table.astype(np.float16).astype(np.float32),
        max_tokens=static.max_tokens, cache_size=static.cache_size,
    )
    report = {"held_out_loss": [round(x, 6) for x in losses], "epoch": best_epoch,
              "n_train": int(len(train_idx)), "n_held_out": int(len(hold_idx))}
    return learned, report


class StaticFramingModel(FramingModel):
    """Static (distilled) token embeddings + logistic heads: the fast tier.

    Args:
        encoder: Encoder to distil from (built-in name or local checkpoint directory).
        max_length: Tokens per article that count (0: all).
        top_pieces: Most probable Latin/Cyrillic pieces kept besides those of the training texts.
        dims: PCA dimensions of the table.
        sif_a: SIF weighting parameter (0: plain mean).
        learn_epochs: Epochs of :func:`learn_table` after distillation (0: keep the distilled
            table): the table is fitted so that mean pooling reproduces the teacher's
            embeddings of the training texts, their sentences and 3-sentence chunks.
        learn_lr: Adam learning rate of that step.
        teacher: Encoder whose ``"query: "`` embeddings the table learns to reproduce; empty:
            ``encoder`` when it is an encoder, ``multilingual-e5-small`` when ``encoder``
            names a saved static model whose table was not learned yet.
        C: Inverse regularisation of the heads.
        class_weight: ``balanced`` or ``none``.
        seed: Solver seed.
    """

    kind = "static"
    process_parallel = True  # cheap, single-threaded: scored in worker processes

    def __init__(
        self,
        *,
        name: str = "mediamon-static",
        version: str = "0.1.0",
        encoder: str = "multilingual-e5-small",
        max_length: int = 0,
        top_pieces: int = 24_000,
        dims: int = 256,
        sif_a: float = 1e-4,
        learn_epochs: int = LEARN_EPOCHS,
        learn_lr: float = LEARN_LR,
        teacher: str = "",
        C: float = 4.0,
        class_weight: str = "balanced",
        seed: int = 0,
    ) -> None:
        super().__init__(name=name, version=version)
        self.encoder = encoder
        self.max_length = max_length
        self.top_pieces = top_pieces
        self.dims = dims
        self.sif_a = sif_a
        self.learn_epochs = learn_epochs
        self.learn_lr = learn_lr
        self.teacher = teacher
        self.C = C
        self.class_weight = class_weight
        self.seed = seed
        # one holder shared with clones: cross-validation folds reuse the table distilled first
        self._shared: dict[str, StaticEmbedding | None] = {"table": None}
        self.learn_report_: dict[str, Any] | None = None

    def params(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder,
            "max_length": self.max_length,
            "top_pieces": self.top_pieces,
            "dims": self.dims,
            "sif_a": self.sif_a,
            "learn_epochs": self.learn_epochs,
            "learn_lr": self.learn_lr,
            "teacher": self.teacher,
            "C": self.C,
            "class_weight": self.class_weight,
            "seed": self.seed,
        }

    @property
    def static_(self) -> StaticEmbedding | None:
        """The static embedding table with its tokenizer (``None`` before distillation)."""
        return self._shared["table"]

    @static_.setter
    def static_(self, value: StaticEmbedding | None) -> None:
        self._shared["table"] = value

    def clone(self) -> StaticFramingModel:
        c = type(self)(name=self.name, version=self.version, **self.params())
        c._shared = self._shared  # share the distilled table across CV folds and the final fit
        return c

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Article vectors (n, dims); distils the table on first use if there is none."""
        if self.static_ is None:
            raise ModelError("static model has no embedding table: fit it (or call distill) first")
        return self.static_.embed(texts)

    def distill(self, texts: Iterable[str] = ()) -> StaticEmbedding:
        """Distil the table from the configured encoder (local files only).

        If ``encoder`` names a saved static model (a directory, or a bundled model name such as
        ``fast``), its table and tokenizer are reused instead (hash-checked), so heads can be
        retrained without distilling again; a table that was not learned yet (its model has
        no ``learn_epochs``) goes through :func:`learn_table` first when ``learn_epochs > 0``.
        A freshly distilled table always does then, on ``texts``.
        """
        from ..encoders import resolve_encoder
        from .registry import bundled_models_dir

        texts = list(texts)
        for cand in (Path(self.encoder), bundled_models_dir() / self.encoder):
            meta = cand / "meta.json"
            if meta.is_file() and json.loads(meta.read_text(encoding="utf-8")).get("kind") == self.kind:
                src = FramingModel.load(cand)
                assert isinstance(src, StaticFramingModel) and src.static_ is not None
                self.static_ = StaticEmbedding(src.static_.tokenizer_json, src.static_.table)
                learned = src.meta_.get("params", {}).get("learn_epochs", 0)  # absent: an older table
                if self.learn_epochs > 0 and not learned and texts:
                    self.static_ = self._learn(self.static_, texts, self.teacher or "multilingual-e5-small")
                self.static_.max_tokens = self.max_length
                return self.static_
        self.static_ = distill_static(
            resolve_encoder(self.encoder), texts, top_pieces=self.top_pieces, dims=self.dims, sif_a=self.sif_a
        )
        if self.learn_epochs > 0 and texts:
            self.static_ = self._learn(self.static_, texts, self.teacher or self.encoder)
        self.static_.max_tokens = self.max_length
        return self.static_

    def _learn(self, static: StaticEmbedding, texts: Sequence[str], teacher: str) -> StaticEmbedding:
        """:func:`learn_table` on ``texts`` and their pieces, embedded by ``teacher`` (e5 recipe)."""
        from ..encoders import E5Embedder, resolve_encoder

        samples, groups = distillation_samples(texts)
        targets = E5Embedder(resolve_encoder(teacher), device="auto").embed(samples, prefix="query: ")
        learned, self.learn_report_ = learn_table(
            static, samples, targets, groups=groups, epochs=self.learn_epochs, lr=self.learn_lr, seed=self.seed
        )
        return learned

    def _fit(self, texts: Sequence[str], y_stance: np.ndarray, y_topics: np.ndarray) -> None:
        if self.static_ is None:
            self.distill(texts)
        X = self.embed(texts)
        self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_ = fit_linear_heads(
            X, y_stance, y_topics, C=self.C, class_weight=self.class_weight, seed=self.seed
        )

    def _raw_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return linear_scores(self.embed(texts), self.stance_W_, self.stance_b_, self.topic_W_, self.topic_b_)

    def _save_weights(self, path: Path) -> list[str]:
        if self.static_ is None:
            raise ModelError("nothing to save: the static model is not fitted")
        save_file(
            {
                "stance_W": self.stance_W_,
                "stance_b": self.stance_b_,
                "topic_W": self.topic_W_,
                "topic_b": self.topic_b_,
            },
            str(path / "model.safetensors"),
        )
        save_file({"table": self.static_.table.astype(np.float16)}, str(path / "static.safetensors"))
        (path / "tokenizer.json").write_text(self.static_.tokenizer_json, encoding="utf-8")
        return ["model.safetensors", "static.safetensors", "tokenizer.json"]

    def _load_weights(self, path: Path, meta: dict[str, Any]) -> None:
        w = load_file(str(path / "model.safetensors"))
        self.stance_W_, self.stance_b_ = w["stance_W"], w["stance_b"]
        self.topic_W_, self.topic_b_ = w["topic_W"], w["topic_b"]
        table = load_file(str(path / "static.safetensors"))["table"]
        self.static_ = StaticEmbedding(
            (path / "tokenizer.json").read_text(encoding="utf-8"), table, max_tokens=self.max_length
        )
