"""The fast tier: static embeddings distilled from an encoder + linear heads.

Everything runs on a tiny random XLM-R-shaped encoder with a tiny sentencepiece-style
Unigram tokenizer built here, so no real weights are needed (seconds).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mediamon.errors import ModelError

WORDS = [
    "президент",
    "заявил",
    "Токаев",
    "Казахстан",
    "Россия",
    "нефть",
    "газ",
    "выборы",
    "Қазақстан",
    "мемлекет",
    "president",
    "said",
    "sanctions",
    "oil",
    "pipeline",
    "election",
    "Astana",
    "Moscow",
    "the",
    "and",
    "of",
    "в",
    "и",
    "на",
]


def tiny_tokenizer_json() -> dict:
    """A Unigram tokenizer (XLM-R layout: <s> <pad> </s> <unk> first) over a tiny vocabulary."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram

    letters = sorted({c for w in WORDS for c in w} | set("abcdefghijklmnopqrstuvwxyz"))
    vocab: list[tuple[str, float]] = [
        ("<s>", 0.0),
        ("<pad>", 0.0),
        ("</s>", 0.0),
        ("<unk>", 0.0),
        ("▁", -2.0),
    ]
    vocab += [(f"▁{w}", -5.0 - 0.1 * i) for i, w in enumerate(WORDS)]
    vocab += [(c, -9.0) for c in letters] + [(".", -4.0), (",", -4.0)]
    vocab += [("▁中文", -6.0), ("中", -10.0)]  # a piece outside the kept scripts
    tk = Tokenizer(Unigram(vocab, unk_id=3, byte_fallback=False))
    tk.normalizer = normalizers.NFKC()
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    return json.loads(tk.to_str())


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 1-layer XLM-R encoder + tokenizer saved as a local HF checkpoint."""
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    d = tmp_path_factory.mktemp("tiny-encoder")
    tj = tiny_tokenizer_json()
    torch.manual_seed(0)
    cfg = XLMRobertaConfig(
        vocab_size=len(tj["model"]["vocab"]),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=80,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    XLMRobertaModel(cfg).eval().save_pretrained(d)
    tk = Tokenizer.from_str(json.dumps(tj))
    from tokenizers.processors import TemplateProcessing

    tk.post_processor = TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=64,
    ).save_pretrained(d)
    return d


def _texts(n: int, seed: int = 0) -> tuple[list[str], list[str], list[list[str]]]:
    from mediamon.records import STANCES, TOPICS

    rng = np.random.default_rng(seed)
    texts, stances, topics = [], [], []
    for i in range(n):
        s = STANCES[i % len(STANCES)]
        # the stance leaves a lexical trace the static model can pick up
        cue = {0: "sanctions pipeline", 1: "Россия Moscow", 2: "president said", 3: "нефть газ"}[i % 4]
        body = " ".join(rng.choice(WORDS, size=8))
        texts.append(f"{cue} {body} {cue}.")
        stances.append(s)
        topics.append([TOPICS[i % 3]])
    return texts, stances, topics


def test_vocabulary_and_restricted_tokenizer() -> None:
    from tokenizers import Tokenizer

    from mediamon.framing.static import _restricted_tokenizer, select_vocabulary

    full = tiny_tokenizer_json()
    vocab = [p for p, _ in full["model"]["vocab"]]
    keep = select_vocabulary(full, ["Токаев заявил"], top_pieces=3)
    kept = {vocab[i] for i in keep}
    assert {"<s>", "<pad>", "</s>", "<unk>", "▁Токаев", "▁заявил", "▁президент"} <= kept
    assert "▁中文" not in kept and "▁election" not in kept
    tk = Tokenizer.from_str(_restricted_tokenizer(full, keep))
    assert tk.get_vocab_size() == len(keep)
    # a dropped word is spelt with kept pieces instead of being lost
    pieces = tk.encode("election", add_special_tokens=False).tokens
    assert "".join(pieces).replace("▁", "") == "election" and len(pieces) > 1


def test_distill_static_from_local_checkpoint(tiny_encoder: Path) -> None:
    from mediamon.framing.static import StaticEmbedding, distill_static

    se = distill_static(tiny_encoder, ["Токаев заявил"], top_pieces=10, dims=8, batch_size=7)
    assert isinstance(se, StaticEmbedding)
    assert se.table.shape[1] == 8 and se.table.dtype == np.float32
    assert se.table.shape[0] == se.tokenizer.get_vocab_size()
    assert np.array_equal(se.table, se.table.astype(np.float16).astype(np.float32))  # stored losslessly
    X = se.embed(["Токаев заявил", "", "中中中"])
    assert X.shape == (3, 8)
    assert abs(np.linalg.norm(X[0]) - 1.0) < 1e-5
    assert np.all(X[1] == 0)  # no tokens: zero vector, no NaN
    assert np.all(np.isfinite(X))


def test_embed_cache_and_truncation() -> None:
    from mediamon.framing.static import StaticEmbedding, _restricted_tokenizer

    full = tiny_tokenizer_json()
    keep = list(range(len(full["model"]["vocab"])))
    rng = np.random.default_rng(0)
    table = rng.normal(size=(len(keep), 6)).astype(np.float32)
    se = StaticEmbedding(_restricted_tokenizer(full, keep), table, cache_size=5)
    texts = [" ".join(WORDS[i : i + 4]) for i in range(0, 20, 2)]
    for t in texts:
        se.embed([t])
        assert len(se._words) <= 5 + 4  # cleared when full: memory stays bounded
    a = se.embed(texts)
    b = se.embed(texts)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    # order kept, batch-independent
    np.testing.assert_allclose(np.vstack([se.embed([t]) for t in texts]), a, rtol=1e-6, atol=1e-6)
    se.max_tokens = 1
    ids = se.token_ids(["президент заявил"])
    assert len(ids[0]) == 1
    with pytest.raises(ModelError):
        StaticEmbedding(_restricted_tokenizer(full, keep), table[:-1])


def test_static_model_fit_save_load(tiny_encoder: Path, tmp_path: Path) -> None:
    from mediamon.framing import load_model
    from mediamon.framing.static import StaticFramingModel

    texts, stances, topics = _texts(40)
    m = StaticFramingModel(encoder=str(tiny_encoder), top_pieces=20, dims=8).fit(texts, stances, topics)
    p = m.predict_proba(texts)
    assert p.stance.shape == (40, 4) and p.topics.shape == (40, 8)
    np.testing.assert_allclose(p.stance.sum(axis=1), 1.0, atol=1e-6)
    d = m.save(tmp_path / "fast")
    assert {"model.safetensors", "static.safetensors", "tokenizer.json", "meta.json"} <= {
        f.name for f in d.iterdir()
    }
    assert json.loads((d / "meta.json").read_text())["kind"] == "static"
    m2 = load_model(d)
    assert isinstance(m2, StaticFramingModel)
    np.testing.assert_allclose(m2.predict_proba(texts).stance, p.stance, atol=1e-5)
    # heads retrained on a saved table: no new distillation, same vectors
    m3 = StaticFramingModel(encoder=str(d), C=16.0).fit(texts, stances, topics)
    np.testing.assert_allclose(m3.embed(texts), m2.embed(texts), atol=1e-6)
    # tampering is refused
    (d / "static.safetensors").write_bytes((d / "static.safetensors").read_bytes()[:-1] + b"\x00")
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(d)


def test_unfitted_static_model_errors(tmp_path: Path) -> None:
    from mediamon.framing.static import StaticFramingModel

    m = StaticFramingModel()
    with pytest.raises(ModelError):
        m.embed(["x"])
    with pytest.raises(ModelError):
        m.save(tmp_path / "x")


def test_train_static_kind(tiny_encoder: Path, tiny_examples) -> None:  # type: ignore[no-untyped-def]
    from mediamon.config import TrainConfig
    from mediamon.framing.static import StaticFramingModel
    from mediamon.training import train

    cfg = TrainConfig(kind="static", encoder=str(tiny_encoder), validation_folds=2)
    model = train(tiny_examples, cfg)
    assert isinstance(model, StaticFramingModel)
    assert model.meta_["validation"]["stance"]["n"] == len(tiny_examples)


def test_train_static_config_file_is_valid() -> None:
    from mediamon.config import load_config

    repo = Path(__file__).resolve().parents[1]
    cfg = load_config(repo / "configs" / "train-static.yaml")
    assert cfg.train.kind == "static"


def test_bundled_fast_model_if_present() -> None:
    from mediamon.framing import load_model
    from mediamon.framing.registry import bundled_models_dir

    d = bundled_models_dir() / "fast"
    if not (d / "meta.json").is_file():
        pytest.skip("models/fast not built")
    size = sum(f.stat().st_size for f in d.iterdir())
    assert size < 30 * 2**20
    m = load_model("fast")
    p = m.predict_proba(["Токаев заявил, что Казахстан не признает.", "Oil prices rose on Monday."])
    assert p.stance.shape == (2, 4)


def test_learn_table_reduces_regression_loss() -> None:
    """The tokenlearn-style step fits the table to teacher vectors of mean-pooled samples."""
    pytest.importorskip("torch")
    from mediamon.framing.static import (
        StaticEmbedding,
        _restricted_tokenizer,
        distillation_samples,
        learn_table,
        regression_loss,
    )

    full = tiny_tokenizer_json()
    keep = list(range(len(full["model"]["vocab"])))
    rng = np.random.default_rng(0)
    init = StaticEmbedding(_restricted_tokenizer(full, keep), rng.normal(size=(len(keep), 6)).astype(np.float32))
    texts = [" ".join(rng.choice(WORDS, size=6)) + ". " + " ".join(rng.choice(WORDS, size=6)) for _ in range(60)]
    samples, groups = distillation_samples(texts, min_chars=5)
    assert len(samples) > len(texts) and len(groups) == len(samples) and groups[0] == 0
    # a teacher the initial table cannot express: each word has its own random 12-dim vector
    word_vec = {w: rng.normal(size=12) for w in WORDS}
    targets = np.stack(
        [np.mean([word_vec[w.strip(".")] for w in s.split() if w.strip(".")], axis=0) for s in samples]
    ).astype(np.float32)
    before = regression_loss(init, samples, targets)
    learned, report = learn_table(init, samples, targets, groups=groups, epochs=40, lr=0.02, batch_size=32)
    after = regression_loss(learned, samples, targets)
    assert learned.table.shape == init.table.shape
    assert np.array_equal(learned.table, learned.table.astype(np.float16).astype(np.float32))
    assert report["epoch"] > 0 and report["held_out_loss"][report["epoch"]] < report["held_out_loss"][0]
    assert after < 0.7 * before
    # no epochs: the table is kept
    same, rep0 = learn_table(init, samples, targets, epochs=0)
    assert rep0["epoch"] == 0
    np.testing.assert_array_equal(same.table, init.table)
