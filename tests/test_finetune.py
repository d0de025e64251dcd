"""The e5 model kind and LoRA fine-tuning, on a tiny random BERT built in a fixture (seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory, tiny_examples) -> Path:  # type: ignore[no-untyped-def]
    """A 2-layer, 32-dim BERT with a word-level tokenizer over the tiny corpus."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    d = tmp_path_factory.mktemp("tiny-encoder")
    words = sorted({w for e in tiny_examples for w in e.article.full_text.lower().split()} | {"passage:", "query:"})
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, **{w: i + 4 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>")
    fast.save_pretrained(d)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, pad_token_id=1)
    BertModel(cfg).save_pretrained(d, safe_serialization=True)
    return d


def test_finetune_e5_kind_frozen_roundtrip(tiny_encoder_dir: Path, tiny_examples, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mediamon.config import TrainConfig
    from mediamon.framing import load_model
    from mediamon.training import train

    cfg = TrainConfig(kind="e5", encoder=str(tiny_encoder_dir), validation_folds=2, max_length=64)
    m = train(tiny_examples, cfg)
    d = m.save(tmp_path / "e5tiny")
    m2 = load_model(d)
    texts = [e.article.full_text for e in tiny_examples[:5]]
    np.testing.assert_allclose(m2.predict_proba(texts).stance, m.predict_proba(texts).stance, atol=1e-5)


def test_e5_lexical_topic_heads_roundtrip(tiny_encoder_dir: Path, tiny_examples, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """topic_lexical: topic probabilities are the mean of the encoder's and the TF-IDF head's."""
    from mediamon.config import TrainConfig
    from mediamon.framing import load_model
    from mediamon.framing.base import linear_scores, topic_probabilities
    from mediamon.training import train

    cfg = TrainConfig(kind="e5", encoder=str(tiny_encoder_dir), validation_folds=2, max_length=64,
                      topic_lexical=True, topic_C=8.0)
    m = train(tiny_examples, cfg)
    assert m.lexical_ is not None and m.topic_C == 8.0
    d = m.save(tmp_path / "e5lex")
    assert {"lexical.safetensors", "lexical_vocab.json"} <= set(m.meta_.get("files", {})) | {
        p.name for p in d.iterdir()
    }
    m2 = load_model(d)
    texts = [e.article.full_text for e in tiny_examples[:6]]
    p1, p2 = m.predict_proba(texts), m2.predict_proba(texts)
    np.testing.assert_allclose(p2.topics, p1.topics, atol=1e-6)
    np.testing.assert_allclose(p2.stance, p1.stance, atol=1e-5)
    enc = linear_scores(m.embed(texts), m.stance_W_, m.stance_b_, m.topic_W_, m.topic_b_)[1]
    lex = topic_probabilities(m.lexical_.transform(texts), m.lex_topic_W_, m.lex_topic_b_)
    np.testing.assert_allclose(p1.topics, (enc + lex) / 2, atol=1e-6)
    assert not np.allclose(enc, lex)  # two different heads, not one counted twice


def test_finetune_lora_trains_saves_and_reloads(tiny_encoder_dir: Path, tiny_examples, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from mediamon.config import TrainConfig
    from mediamon.framing import load_model
    from mediamon.training import train

    cfg = TrainConfig(kind="e5", encoder=str(tiny_encoder_dir), max_length=64, finetune_epochs=2,
                      finetune_batch_size=4, finetune_max_length=64, lora_r=2, finetune_layers=1, validation_share=0.34)
    m = train(tiny_examples, cfg)
    meta = m.meta_
    assert len(meta["train"]["finetune_history"]) == 2
    assert meta["validation"]["method"].startswith("held-out")
    assert m.lora_ is not None and all(k.startswith("encoder.layer.1.") for k in m.lora_)  # only the top layer
    assert any(np.abs(v).sum() > 0 for k, v in m.lora_.items() if "lora_B" in k)  # adapters moved from zero init
    d = m.save(tmp_path / "lora")
    assert (d / "lora.safetensors").is_file() and json.loads((d / "lora.json").read_text())["r"] == 2
    m2 = load_model(d)
    texts = [e.article.full_text for e in tiny_examples[:6]]
    np.testing.assert_allclose(m2.predict_proba(texts).stance, m.predict_proba(texts).stance, atol=1e-4)


def test_finetune_cached_top_layers_equal_full_forward(tiny_encoder_dir: Path) -> None:
    from mediamon.encoders import E5Embedder
    from mediamon.framing.finetune import _cache_states, _run_top

    emb = E5Embedder(tiny_encoder_dir, device="cpu")
    texts = ["kazakhstan and china", "марафон в алматы прошёл", "a"]
    ref = emb.embed(texts, prefix="passage: ", max_length=64)
    st = _cache_states(emb.model, emb.tokenizer, texts, upto=1, max_length=64, batch_size=2, device="cpu")
    with torch.no_grad():
        v = _run_top(emb.model, st, 1, "cpu").numpy()
    np.testing.assert_allclose((ref * v).sum(1), 1.0, atol=1e-3)
