"""Speed options of the accurate tier: int8, threads, chunked/prefetched tokenisation, GPU dtype.

Runs on a tiny random XLM-R-shaped checkpoint (built by ``test_static``), so no real
weights are needed.  The CUDA test is skipped without a GPU.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from test_static import WORDS, tiny_encoder  # noqa: E402,F401  (fixture re-exported)

REPO = Path(__file__).resolve().parents[1]


def _sentences(n: int) -> list[str]:
    rng = np.random.default_rng(1)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 12)))) for _ in range(n)]


def test_chunked_prefetch_matches_single_pass(tiny_encoder: Path) -> None:  # noqa: F811
    from mediamon.encoders import E5Embedder

    e = E5Embedder(tiny_encoder, device="cpu")
    texts = _sentences(37)
    a = e.embed(texts, batch_size=4, max_length=32)
    b = e.embed(texts, batch_size=4, max_length=32, chunk_size=5)  # 8 chunks, tokenised ahead
    np.testing.assert_allclose(a, b, atol=1e-5)
    c = np.vstack([e.embed([t], max_length=32) for t in texts[:5]])
    np.testing.assert_allclose(a[:5], c, atol=1e-5)


def test_token_budget_bounds_padded_tokens_per_batch(tiny_encoder: Path) -> None:  # noqa: F811
    """CPU batches hold at most token_budget padded tokens; vectors do not depend on batching."""
    from mediamon.encoders import E5Embedder

    e = E5Embedder(tiny_encoder, device="cpu")
    shapes: list[tuple[int, int]] = []
    forward = e.model.forward

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        shapes.append(tuple(kwargs["input_ids"].shape))
        return forward(*args, **kwargs)

    e.model.forward = spy  # type: ignore[method-assign]
    texts = _sentences(40)
    a = e.embed(texts, batch_size=16, max_length=32, token_budget=24)
    assert shapes and all(b * w <= 24 or b == 1 for b, w in shapes)
    assert max(b for b, _ in shapes) <= 16 and sum(b for b, _ in shapes) == 40
    shapes.clear()
    b = e.embed(texts, batch_size=16, max_length=32, token_budget=None)
    assert max(bb for bb, _ in shapes) == 16  # no budget: batch_size alone
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_int8_quantisation_close_to_fp32(tiny_encoder: Path) -> None:  # noqa: F811
    import torch

    from mediamon.encoders import E5Embedder

    fp = E5Embedder(tiny_encoder, device="cpu")
    q = E5Embedder(tiny_encoder, device="cpu", quantize="int8", threads=torch.get_num_threads())
    assert q.quantize == "int8" and "int8" in repr(q)
    assert any("quantized" in type(m).__module__ for m in q.model.modules())
    texts = _sentences(12)
    a, b = fp.embed(texts, max_length=32), q.embed(texts, max_length=32)
    cos = (a * b).sum(axis=1)
    assert cos.min() > 0.95
    with pytest.raises(ValueError):
        E5Embedder(tiny_encoder, device="cpu", quantize="int4")


def test_e5_model_speed_options(tiny_encoder: Path, tmp_path: Path) -> None:  # noqa: F811
    from mediamon.framing import load_model
    from mediamon.framing.e5 import E5FramingModel
    from mediamon.records import STANCES, TOPICS

    texts = _sentences(24)
    stances = [STANCES[i % 4] for i in range(24)]
    topics = [[TOPICS[i % 2]] for i in range(24)]
    default = E5FramingModel(encoder=str(tiny_encoder), max_length=32)
    assert default.params()["quantize"] == "none" and default.params()["dtype"] == "float32"
    m = E5FramingModel(encoder=str(tiny_encoder), max_length=32, quantize="int8", dtype="auto", threads=1)
    m.set_device("cpu")
    m.fit(texts, stances, topics)
    assert m.embedder.quantize == "int8"
    p = m.predict_proba(texts)
    assert p.stance.shape == (24, 4)
    d = m.save(tmp_path / "e5-int8")
    m2 = load_model(d)
    assert isinstance(m2, E5FramingModel) and m2.quantize == "int8" and m2.dtype == "auto"
    with pytest.raises(ValueError):
        E5FramingModel(quantize="fp8")


@pytest.mark.skipif(
    not __import__("torch").cuda.is_available(), reason="no CUDA device: the GPU path is unmeasured here"
)
def test_gpu_half_precision_close_to_fp32(tiny_encoder: Path) -> None:  # noqa: F811
    from mediamon.encoders import E5Embedder

    texts = _sentences(64)
    a = E5Embedder(tiny_encoder, device="cpu").embed(texts, max_length=32)
    for dt in ("float16", "bfloat16"):
        b = E5Embedder(tiny_encoder, device="cuda", dtype=dt).embed(
            texts, max_length=32, batch_size=256, chunk_size=16
        )
        assert (a * b).sum(axis=1).min() > 0.99


def test_benchmark_data_is_synthetic_and_unique(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import speed
    finally:
        sys.path.pop(0)
    p = speed.make_data(50, tmp_path / "b.jsonl")
    rows = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 50
    assert len({r["id"] for r in rows}) == 50 and len({r["text"] for r in rows}) == 50
    name, opts = speed._parse_config("/x/e5?quantize=int8&score_batch=256")
    assert name == "/x/e5" and opts == {"quantize": "int8", "score_batch": "256"}
