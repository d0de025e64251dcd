"""The demo feed's recovered quarterly framing index tracks its documented truth."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mediamon.demo import compare_with_truth, demo_dir, run_demo


def test_demo_truth_file_documents_every_quarter() -> None:
    rows = list(csv.DictReader((demo_dir() / "truth_quarterly.csv").open(encoding="utf-8")))
    assert len(rows) == 51 and rows[0]["period"] == "2014-01-01"
    assert sum(int(r["n_articles"]) for r in rows) >= 600
    early = [float(r["true_framing_index"]) for r in rows[:32] if r["true_framing_index"]]
    late = [float(r["true_framing_index"]) for r in rows[36:] if r["true_framing_index"]]
    assert sum(late) / len(late) - sum(early) / len(early) > 0.5  # the documented shift after 2022


def test_demo_recovers_quarterly_framing_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = list(run_demo(tmp_path))
    assert (tmp_path / "scored.jsonl").is_file() and (tmp_path / "trends_quarterly.csv").is_file()
    rows = list(csv.DictReader((tmp_path / "trends_quarterly.csv").open(encoding="utf-8-sig")))
    for r in rows:
        for k in ("share_multi_vector", "share_russian_orbit", "share_neutral", "framing_index"):
            r[k] = float(r[k])  # type: ignore[assignment]
    c = compare_with_truth(rows, demo_dir() / "truth_quarterly.csv")  # type: ignore[arg-type]
    with capsys.disabled():
        print(f"\ndemo: {c['periods']} quarters, framing-index Pearson r {c['pearson_r']:.3f}, share MAE {c['share_mae']:.3f}")
    assert c["periods"] >= 48
    assert c["pearson_r"] >= 0.9
    assert any("Pearson r" in line for line in lines)
