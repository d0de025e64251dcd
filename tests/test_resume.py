"""Resumable, idempotent scoring: interrupt (even SIGKILL) and --resume give the same bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediamon.config import Config, ScoreConfig
from mediamon.errors import UsageError
from mediamon.framing import load_model
from mediamon.pipeline import run_score, work_dir_for

FIX = Path(__file__).parent / "fixtures"


def _corpus(path: Path, n: int) -> Path:
    """``n`` articles built from the tiny labelled set; every 7th is a syndicated copy."""
    base = [json.loads(x) for x in (FIX / "labelled_tiny.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            b = base[i % len(base)]
            if i % 7 == 6:
                text = b["text"] + " Подписывайтесь на наш канал."
            else:
                text = f"Сообщение {i}. " + b["text"] + f" Номер {i * 31 % 997}."
            fh.write(json.dumps({"id": f"n{i}", "text": text, "date": f"2024-01-{1 + i % 28:02d}"}, ensure_ascii=False) + "\n")
        fh.write("not json\n")
    return path


def _cfg(every: int) -> Config:
    return Config(score=ScoreConfig(checkpoint_every=every, batch_size=8))


def test_resume_after_interrupt_is_byte_identical(tiny_model_dir: Path, tmp_path: Path) -> None:
    m = load_model(tiny_model_dir)
    inp = _corpus(tmp_path / "in.jsonl", 120)
    clean = tmp_path / "clean.jsonl"
    s0 = run_score([inp], clean, model=m, config=_cfg(25))
    assert s0.n_scored == 120 and s0.n_rejected == 1

    out = tmp_path / "out.jsonl"

    def boom(n: int) -> None:
        if n == 60:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_score([inp], out, model=m, config=_cfg(25), on_progress=boom)
    assert not out.exists() and work_dir_for(out).is_dir()
    ckpt = json.loads((work_dir_for(out) / "checkpoint.json").read_text())
    assert ckpt["rows"] == 50  # two whole parts survive
    seen: list[int] = []
    s = run_score([inp], out, model=m, config=_cfg(25), resume=True, on_progress=seen.append)
    assert s.resumed_from == 50 and seen[0] == 50 and seen[-1] == 120
    assert out.read_bytes() == clean.read_bytes()
    assert s.rejects_path.read_bytes() == s0.rejects_path.read_bytes()
    assert not work_dir_for(out).exists()
    man = json.loads((tmp_path / "out.jsonl.manifest.json").read_text())
    assert man["resumed_from"] == 50 and man["counts"]["scored"] == 120 and man["counts"]["rejected"] == 1


def test_resume_refuses_changed_inputs_and_run_twice_is_up_to_date(tiny_model_dir: Path, tmp_path: Path) -> None:
    m = load_model(tiny_model_dir)
    inp = _corpus(tmp_path / "in.jsonl", 40)
    out = tmp_path / "o.csv"
    run_score([inp], out, model=m, config=_cfg(10))
    before = (out.stat().st_mtime_ns, out.read_bytes())
    man_before = (tmp_path / "o.csv.manifest.json").read_bytes()
    s = run_score([inp], out, model=m, config=_cfg(10), resume=True)
    assert s.up_to_date and s.exit_code == 0 and s.n_scored == 40
    assert (out.stat().st_mtime_ns, out.read_bytes()) == before
    assert (tmp_path / "o.csv.manifest.json").read_bytes() == man_before
    with pytest.raises(UsageError, match="exists"):  # plain re-run without --resume/--force
        run_score([inp], out, model=m, config=_cfg(10))
    # a different config is not "up to date"
    with pytest.raises(UsageError, match="manifest does not match"):
        run_score([inp], out, model=m, config=Config(score=ScoreConfig(checkpoint_every=10, near_dup_threshold=0.9)), resume=True)
    # an interrupted run refuses to resume on changed inputs
    out2 = tmp_path / "p.jsonl"

    def boom(n: int) -> None:
        if n == 15:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_score([inp], out2, model=m, config=_cfg(10), on_progress=boom)
    with inp.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "late", "text": "A late addition to the input file."}\n')
    with pytest.raises(UsageError, match="other inputs"):
        run_score([inp], out2, model=m, config=_cfg(10), resume=True)
    s2 = run_score([inp], out2, model=m, config=_cfg(10), force=True)
    assert s2.n_scored == 41 and s2.resumed_from == 0


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mediamon.cli", "score", *args]


def test_resume_after_sigkill_matches_clean_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    from mediamon.config import load_config

    n = 1500
    inp = _corpus(tmp_path / "in.jsonl", n)
    sets = [f"score.model={tiny_model_dir}", "score.checkpoint_every=50"]
    cfg = load_config(None, sets)
    m = load_model(tiny_model_dir)
    clean = tmp_path / "clean.jsonl"
    run_score([inp], clean, model=m, config=cfg, model_dir=tiny_model_dir)  # same code path as the CLI
    common = [x for s in sets for x in ("--set", s)] + ["--quiet"]
    out = tmp_path / "out.jsonl"
    ckpt = work_dir_for(out) / "checkpoint.json"
    proc = subprocess.Popen(_cli(str(inp), "-o", str(out), *common), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists(), "the run finished before it could be killed"
    rows_done = json.loads(ckpt.read_text())["rows"]
    assert 0 < rows_done < n
    r = subprocess.run(_cli(str(inp), "-o", str(out), "--resume", *common), capture_output=True, text=True, timeout=180)
    assert r.returncode == 1, r.stderr  # 1: one record rejected
    assert "resumed after" in r.stdout
    assert out.read_bytes() == clean.read_bytes()
    ids = [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == n and ids[:3] == ["n0", "n1", "n2"]
    # run twice: finished and unchanged -> "up to date", nothing rewritten
    mtime = out.stat().st_mtime_ns
    s = run_score([inp], out, model=m, config=cfg, model_dir=tiny_model_dir, resume=True)
    assert s.up_to_date and out.stat().st_mtime_ns == mtime


def test_resume_cli_up_to_date_message(tiny_model_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mediamon.cli import app

    inp = _corpus(tmp_path / "in.jsonl", 30)
    out = tmp_path / "o.jsonl"
    args = ["score", str(inp), "-o", str(out), "--model", str(tiny_model_dir), "--quiet"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1 and "scored 30" in r.output
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "exists" in r.output
    r = CliRunner().invoke(app, [*args, "--resume"])
    assert r.exit_code == 0 and "up to date" in r.output
    r = CliRunner().invoke(app, [*args, "--force"])
    assert r.exit_code == 1 and "scored 30" in r.output
