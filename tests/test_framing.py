import json
from pathlib import Path

import numpy as np
import pytest

from mediamon.errors import ModelError
from mediamon.framing import FramingModel, TfidfFramingModel, load_model
from mediamon.records import STANCES, TOPICS

TEXTS = ["Kazakhstan signs deals with China and the EU.", "Қазақстан мен Ресей – бауырлас халықтар.", "Марафон в Алматы."]


@pytest.mark.parametrize("cls", [TfidfFramingModel])
def test_framing_contract_fit_predict_save_load(cls: type[FramingModel], tiny_examples, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    m = cls(max_features=3000) if cls is TfidfFramingModel else cls()
    assert m.fit([e.article.full_text for e in tiny_examples], [e.stance for e in tiny_examples],
                 [e.topics for e in tiny_examples]) is m
    sc = m.predict_proba(TEXTS)
    assert sc.stance.shape == (3, len(STANCES)) and sc.topics.shape == (3, len(TOPICS))
    np.testing.assert_allclose(sc.stance.sum(axis=1), 1.0, rtol=1e-6)
    assert ((sc.topics >= 0) & (sc.topics <= 1)).all()
    d = m.save(tmp_path / "m")
    assert not list(d.glob("*.pkl")) and (d / "model.safetensors").is_file()
    m2 = load_model(d)
    np.testing.assert_allclose(m2.predict_proba(TEXTS).stance, sc.stance, rtol=1e-5, atol=1e-6)
    assert m2.predict_proba([]).stance.shape == (0, 4)


def test_framing_learns_something(tiny_model_dir: Path, tiny_examples) -> None:  # type: ignore[no-untyped-def]
    m = load_model(tiny_model_dir)
    sc = m.predict_proba([e.article.full_text for e in tiny_examples])
    acc = (sc.stance.argmax(1) == np.array([STANCES.index(e.stance) for e in tiny_examples])).mean()
    assert acc > 0.8  # fits its own training data: a sanity check, not a quality claim


def test_framing_tampered_file_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    d = tmp_path / "t"
    shutil.copytree(tiny_model_dir, d)
    with (d / "vocab.json").open("a") as fh:
        fh.write(" ")
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        load_model(d)


def test_framing_meta_records_what_users_need(tiny_model_dir: Path) -> None:
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    for key in ("kind", "stances", "topics", "thresholds", "temperature", "versions", "files", "train", "validation"):
        assert key in meta
    assert len(meta["train"]["data_sha256"]) == 64
    v = meta["validation"]["stance"]
    assert np.array(v["confusion"]).sum() == 24


def test_framing_unknown_model_name() -> None:
    with pytest.raises(ModelError, match="not found"):
        load_model("no-such-model-xyz")
