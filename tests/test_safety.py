"""Safety: XML bombs and external entities do nothing harmful; models load only safe,
hash-checked files and a tampered file is refused with a clear error."""

from __future__ import annotations

import json
import pickle
import shutil
import time
from pathlib import Path

import pytest

from mediamon.errors import ModelError
from mediamon.framing import load_model
from mediamon.ingest import iter_articles
from mediamon.records import Article, Reject

RSS_HEAD = '<rss version="2.0"><channel><title>T</title>'


def _read(path: Path) -> tuple[list[Article], list[Reject]]:
    items = list(iter_articles([path]))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Reject)]


def test_billion_laughs_is_refused_fast(tmp_path: Path) -> None:
    ents = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10 if i else "lol"}">' for i in range(12))
    p = tmp_path / "bomb.rss"
    p.write_text(f'<?xml version="1.0"?><!DOCTYPE rss [{ents}]>{RSS_HEAD}<item><title>&l11;</title>'
                 "<description>&l11;</description></item></channel></rss>")
    t = time.perf_counter()
    arts, rej = _read(p)
    assert time.perf_counter() - t < 5
    assert not arts and [r.code for r in rej] == ["unsafe_xml"]


@pytest.mark.parametrize("enc", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
def test_external_entity_does_not_leak_local_file(tmp_path: Path, enc: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    doc = (f'<?xml version="1.0" encoding="{enc.replace("-be", "")}"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
           f"{RSS_HEAD}<item><title>t</title><description>before &xxe; after</description></item></channel></rss>")
    p = tmp_path / "xxe.rss"
    p.write_bytes(doc.encode(enc if enc != "utf-16" else "utf-16") if enc != "utf-16-be" else b"\xfe\xff" + doc.encode("utf-16-be"))
    arts, rej = _read(p)
    assert not arts and [r.code for r in rej] == ["unsafe_xml"]
    assert all("TOP-SECRET" not in (r.raw or "") + r.reason for r in rej)


def test_external_dtd_is_not_fetched_or_read(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "TOP-SECRET-TOKEN">')
    p = tmp_path / "f.rss"
    p.write_text(f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file://{dtd}">{RSS_HEAD}'
                 "<item><guid>1</guid><title>t</title><description>text &leak; end</description></item></channel></rss>")
    arts, rej = _read(p)
    assert all("TOP-SECRET" not in a.text for a in arts)
    assert len(arts) + len(rej) == 1


def test_feed_path_strings_are_never_opened(tmp_path: Path) -> None:
    """A feed whose whole content is a path or URL is parsed as text, not fetched or opened."""
    secret = tmp_path / "secret.xml"
    secret.write_text(f"{RSS_HEAD}<item><title>TOP-SECRET-TOKEN</title><description>x y</description></item></channel></rss>")
    p = tmp_path / "f.rss"
    p.write_text(str(secret))
    arts, rej = _read(p)
    assert not arts and all("TOP-SECRET" not in (r.raw or "") for r in rej)


# -- model directories ------------------------------------------------------------------------
def test_model_loads_without_unpickling(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no(*a: object, **k: object) -> None:
        raise AssertionError("pickle used while loading a model")

    monkeypatch.setattr(pickle, "load", no)
    monkeypatch.setattr(pickle, "loads", no)
    monkeypatch.setattr(pickle, "Unpickler", no)
    m = load_model(tiny_model_dir)
    assert m.predict_proba(["Kazakhstan"]).stance.shape == (1, 4)
    files = json.loads((tiny_model_dir / "meta.json").read_text())["files"]
    assert set(files) == {p.name for p in tiny_model_dir.iterdir()} - {"meta.json"}
    assert all(Path(f).suffix in (".safetensors", ".json") for f in files)


@pytest.mark.parametrize("victim", ["model.safetensors", "vocab.json"])
def test_tampered_model_file_is_refused(tiny_model_dir: Path, tmp_path: Path, victim: str) -> None:
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    data = bytearray((d / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (d / victim).write_bytes(bytes(data))
    with pytest.raises(ModelError, match=f"{victim}: SHA-256 does not match meta.json"):
        load_model(d)


def test_model_missing_file_and_unlisted_pickle(tiny_model_dir: Path, tmp_path: Path) -> None:
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    (d / "evil.pkl").write_bytes(pickle.dumps({"x": 1}))  # never read: not listed, not a safe format
    load_model(d)
    (d / "vocab.json").unlink()
    with pytest.raises(ModelError, match="listed in meta.json but missing"):
        load_model(d)


def test_cli_score_refuses_tampered_model(tiny_model_dir: Path, tmp_path: Path, fixtures_dir: Path) -> None:
    from typer.testing import CliRunner

    from mediamon.cli import app

    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    with (d / "model.safetensors").open("ab") as fh:
        fh.write(b"\0")
    r = CliRunner().invoke(app, ["score", str(fixtures_dir / "feeds" / "dump.csv"), "-o", str(tmp_path / "o.jsonl"), "--model", str(d)])
    assert r.exit_code == 2 and "SHA-256 does not match" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o.jsonl").exists()
