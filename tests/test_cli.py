"""In-process tests of every command: exit codes, outputs, files written."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediamon.cli import app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_cli_score_exit_1_with_rejects(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    r = run("score", fixtures_dir / "feeds" / "mixed.jsonl", "-o", out, "--model", tiny_model_dir, "--quiet")
    assert r.exit_code == 1, r.output
    assert "scored 4 articles" in r.output and "rejected 3 records" in r.output
    header = out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    for col in ("id", "source", "url", "title", "published_at", "lang", "lang_score", "stance", "p_multi_vector",
                "p_russian_orbit", "p_neutral", "p_off_topic", "topics", "p_topic_diplomacy", "model"):
        assert col in header
    assert (tmp_path / "s.rejects.jsonl").is_file()


def test_cli_score_exit_0_and_2_and_3(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    ok = run("score", fixtures_dir / "feeds" / "feed.atom", "-o", tmp_path / "a.jsonl", "-m", tiny_model_dir)
    assert ok.exit_code == 0, ok.output
    again = run("score", fixtures_dir / "feeds" / "feed.atom", "-o", tmp_path / "a.jsonl", "-m", tiny_model_dir)
    assert again.exit_code == 2 and "--force" in again.output and "Traceback" not in again.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    none = run("score", bad, "-o", tmp_path / "b.jsonl", "-m", tiny_model_dir)
    assert none.exit_code == 3 and "bad.jsonl:1" in none.output
    cfg = run("score", bad, "-o", tmp_path / "c.jsonl", "-m", tiny_model_dir, "--set", "score.nope=1")
    assert cfg.exit_code == 2 and "unknown key 'score.nope'" in cfg.output


def test_cli_train_evaluate_models_info(fixtures_dir: Path, tmp_path: Path) -> None:
    md = tmp_path / "m"
    r = run("train", fixtures_dir / "labelled_tiny.jsonl", "-o", md, "--set", "train.validation_folds=2",
            "--set", "train.max_features=2000", "--quiet")
    assert r.exit_code == 0, r.output
    assert "out-of-fold" in r.output and (md / "meta.json").is_file()
    rep = tmp_path / "rep.json"
    e = run("evaluate", fixtures_dir / "labelled_tiny.jsonl", "-m", md, "-o", rep)
    assert e.exit_code == 0, e.output
    assert "stance macro-F1" in e.output and set(json.loads(rep.read_text())["per_language"]) == {"en", "ru", "kk"}
    t = run("evaluate", fixtures_dir / "labelled_tiny.jsonl", "-m", md, "--transfer-train", fixtures_dir / "labelled_tiny.jsonl",
            "--set", "train.validation_folds=2")
    assert t.exit_code == 0, t.output
    assert "cross-lingual transfer to kk (n=6, tfidf)" in t.output
    info = run("models", "info", md)
    assert info.exit_code == 0 and json.loads(info.output)["kind"] == "tfidf"


def test_cli_trends_and_plot(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path) -> None:
    scored = tmp_path / "s.jsonl"
    run("score", fixtures_dir / "labelled_tiny.jsonl", "-o", scored, "-m", tiny_model_dir)
    out = tmp_path / "t.csv"
    r = run("trends", scored, "-o", out, "--period", "year", "--by", "lang", "--plot", tmp_path / "t.png",
            "--set", "trends.bootstrap=50")
    assert r.exit_code == 0, r.output
    header = out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[:4] == ["period", "lang", "n_articles", "n_relevant"]
    assert {"share_multi_vector_lo", "framing_index_hi", "estimator"} <= set(header)
    assert (tmp_path / "t.png").stat().st_size > 10_000
    acc = run("trends", scored, "-o", tmp_path / "t2.csv", "--estimator", "acc", "-m", tiny_model_dir, "--set", "trends.bootstrap=50")
    assert acc.exit_code == 0, acc.output


def test_cli_langid_json_lines() -> None:
    r = runner.invoke(app, ["langid"], input="Қазақстан мен Қытай сауда келісіміне қол қойды.\nThe weather is fine today in London.\n")
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert [x["lang"] for x in lines] == ["kk", "en"]
    assert set(lines[0]) == {"lang", "score", "script", "mix"}


@pytest.mark.parametrize("cmd", ["score", "train", "evaluate", "trends", "langid", "demo", "models"])
def test_cli_help_has_text(cmd: str) -> None:
    r = run(cmd, "--help")
    assert r.exit_code == 0 and "Usage" in r.output


def test_cli_langid_honours_langid_min_letters() -> None:
    text = "Қазақстан мен Қытай сауда келісіміне қол қойды."
    assert json.loads(run("langid", text).stdout)["lang"] == "kk"
    assert json.loads(run("langid", text, "--set", "langid.min_letters=100").stdout)["lang"] == "und"
