import json
from pathlib import Path

import pytest

from mediamon.errors import NothingProcessedError, UsageError
from mediamon.framing import load_model
from mediamon.pipeline import SCORED_COLUMNS, run_score, score_articles
from mediamon.records import STANCES, Article


def test_pipeline_score_keeps_order_and_contract(tiny_model_dir: Path) -> None:
    m = load_model(tiny_model_dir)
    arts = [Article(id=f"i{i}", text=t) for i, t in enumerate(["Kazakhstan and China.", "Қазақстан мен Ресей.", "Марафон."] * 5)]
    out = list(score_articles(arts, m, batch_size=4))
    assert [s.article.id for s in out] == [a.id for a in arts]
    row = out[0].to_row()
    assert list(row) == SCORED_COLUMNS
    assert abs(sum(row[f"p_{s}"] for s in STANCES) - 1) < 1e-4
    assert row["stance"] in STANCES and row["model"] == m.full_name


def test_pipeline_run_score_writes_rows_and_rejects(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    m = load_model(tiny_model_dir)
    out = tmp_path / "o.jsonl"
    s = run_score([fixtures_dir / "feeds" / "mixed.jsonl"], out, model=m)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == s.n_scored == 4 and s.n_rejected == 3 and s.exit_code == 1
    rej = [json.loads(x) for x in s.rejects_path.read_text().splitlines()]
    assert {r["code"] for r in rej} == {"empty_text", "bad_json", "not_object"}
    with pytest.raises(UsageError, match="exists"):
        run_score([fixtures_dir / "feeds" / "mixed.jsonl"], out, model=m)


def test_pipeline_duplicate_ids_rejected_once(tiny_model_dir: Path, tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    p.write_text('{"id": "1", "text": "a b c"}\n{"id": "1", "text": "d e f"}\n')
    s = run_score([p], tmp_path / "o.csv", model=load_model(tiny_model_dir))
    assert s.n_scored == 1 and s.reject_codes == {"duplicate_id": 1}
    assert (tmp_path / "o.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_pipeline_nothing_processed(tiny_model_dir: Path, tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text("nope\n")
    with pytest.raises(NothingProcessedError):
        run_score([p], tmp_path / "o.jsonl", model=load_model(tiny_model_dir))
    assert not (tmp_path / "o.jsonl").exists()


def test_pipeline_parquet_output(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "o.parquet"
    run_score([fixtures_dir / "feeds" / "dump.csv"], out, model=load_model(tiny_model_dir))
    t = pq.read_table(out)
    assert t.num_rows == 2 and t.column_names == SCORED_COLUMNS


def test_pipeline_manifest_records_inputs_config_model_counts(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    from mediamon.manifest import sha256_file as sha256_path

    out = tmp_path / "o.jsonl"
    inp = fixtures_dir / "feeds" / "mixed.jsonl"
    s = run_score([inp], out, model=load_model(tiny_model_dir), model_dir=tiny_model_dir)
    man = json.loads((tmp_path / "o.jsonl.manifest.json").read_text())
    assert s.manifest == tmp_path / "o.jsonl.manifest.json"
    assert man["status"] == "complete" and len(man["fingerprint"]) == 64
    assert man["inputs"] == [{"path": str(inp), "size": inp.stat().st_size, "sha256": sha256_path(inp)}]
    assert man["config"]["score"]["near_dup_threshold"] == 0.6 and "ingest" in man["config"]
    assert man["model"]["meta_sha256"] == sha256_path(tiny_model_dir / "meta.json")
    assert "mediamon" in man["versions"] and "datasketch" in man["versions"]
    assert man["counts"]["scored"] == 4 and man["counts"]["rejected"] == 3
    assert man["rejects"]["codes"] == {"bad_json": 1, "empty_text": 1, "not_object": 1}
    assert man["output"]["sha256"] == sha256_path(out)
    assert not list(tmp_path.glob(".*"))  # no work directory or temp file left behind


def test_pipeline_output_order_is_input_order_across_checkpoints(tiny_model_dir: Path, tmp_path: Path) -> None:
    from mediamon.config import Config, ScoreConfig

    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps({"id": f"x{i}", "text": f"Article number {i} about trade {i * 7}."}) + "\n" for i in range(23)))
    outs = []
    for every in (1, 5, 1000):
        o = tmp_path / f"o{every}.jsonl"
        run_score([p], o, model=load_model(tiny_model_dir), config=Config(score=ScoreConfig(checkpoint_every=every, batch_size=4)))
        outs.append(o.read_bytes())
        assert [json.loads(x)["id"] for x in o.read_text().splitlines()] == [f"x{i}" for i in range(23)]
    assert outs[0] == outs[1] == outs[2]


def test_pipeline_uses_langid_min_letters(tiny_model_dir: Path, tmp_path: Path) -> None:
    from mediamon.config import Config, LangidConfig

    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"id": "a", "text": "Қазақстан мен Қытай сауда келісіміне қол қойды."}, ensure_ascii=False) + "\n")
    for min_letters, lang in ((3, "kk"), (100, "und")):
        o = tmp_path / f"o{min_letters}.jsonl"
        run_score([p], o, model=load_model(tiny_model_dir), config=Config(langid=LangidConfig(min_letters=min_letters)))
        assert json.loads(o.read_text())["lang"] == lang


def test_pipeline_workers_and_formats_give_the_same_rows(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Forked scoring workers change nothing: the same bytes as in-process, duplicates filled
    in at assembly (also when the representative comes later, and for a meta key that is
    itself called duplicate_of), in JSONL and CSV alike."""
    import csv

    from mediamon.config import Config, ScoreConfig
    from mediamon.pipeline import resolve_workers

    story = "Kazakhstan and China signed a rail transit agreement at Khorgos on Monday, officials said today."
    recs = []
    for i in range(40):
        text = f"Article {i} on trade number {i * 13} with partners in the region and beyond, said the ministry."
        if i in (7, 30):
            text = story  # 30 is dated earlier, so it represents the cluster
        recs.append({"id": f"x{i}", "text": text, "date": f"2024-01-{10 - (i == 30) * 5:02d}", "duplicate_of": None})
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    m = load_model(tiny_model_dir)
    assert resolve_workers(0, m) >= 1 and resolve_workers(3, m) in (1, 3)
    outs = {}
    for workers in (1, 2):
        for ext in ("jsonl", "csv"):
            o = tmp_path / f"o{workers}.{ext}"
            cfg = Config(score=ScoreConfig(checkpoint_every=6, batch_size=4, workers=workers))
            s = run_score([p], o, model=m, config=cfg)
            assert s.n_scored == 40 and s.n_duplicates == 1
            outs[workers, ext] = o.read_bytes()
    assert outs[1, "jsonl"] == outs[2, "jsonl"] and outs[1, "csv"] == outs[2, "csv"]
    rows = [json.loads(x) for x in outs[1, "jsonl"].decode().splitlines()]
    assert rows[7]["duplicate_of"] == "x30" and rows[30]["duplicate_of"] is None
    assert rows[7]["meta"] == {"duplicate_of": None} and sum(r["duplicate_of"] is not None for r in rows) == 1
    with (tmp_path / "o1.csv").open(encoding="utf-8-sig") as fh:
        crows = list(csv.DictReader(fh))
    assert crows[7]["duplicate_of"] == "x30" and crows[8]["duplicate_of"] == ""


def _die_rows(articles: list, batch_size: int, min_letters: int) -> list:  # a worker that dies
    import os

    os._exit(1)


def test_pipeline_dead_worker_is_a_clear_resumable_error(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediamon import pipeline
    from mediamon.config import Config, ScoreConfig
    from mediamon.errors import ScoringWorkerError
    from mediamon.pipeline import work_dir_for

    if pipeline.resolve_workers(2, load_model(tiny_model_dir)) < 2:
        pytest.skip("no forked workers on this platform")
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps({"id": f"x{i}", "text": f"Article {i} about trade, number {i * 7}."}) + "\n" for i in range(30)))
    cfg = Config(score=ScoreConfig(checkpoint_every=10, batch_size=4, workers=2))
    out = tmp_path / "o.jsonl"
    monkeypatch.setattr(pipeline, "_worker_rows", _die_rows)  # the forked workers inherit it
    with pytest.raises(ScoringWorkerError, match="worker process died.*--resume"):
        run_score([p], out, model=load_model(tiny_model_dir), config=cfg)
    assert not out.exists() and json.loads((work_dir_for(out) / "checkpoint.json").read_text())["rows"] == 10
    monkeypatch.undo()
    s = run_score([p], out, model=load_model(tiny_model_dir), config=cfg, resume=True)
    clean = tmp_path / "clean.jsonl"
    run_score([p], clean, model=load_model(tiny_model_dir), config=Config(score=ScoreConfig(checkpoint_every=10, batch_size=4, workers=1)))
    assert s.resumed_from == 10 and out.read_bytes() == clean.read_bytes()
