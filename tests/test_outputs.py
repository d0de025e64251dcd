from pathlib import Path

import pytest

from mediamon.outputs import RowWriter, safe_cell, write_rows


def test_outputs_formula_injection_escaped() -> None:
    assert safe_cell("=SUM(A1)") == "'=SUM(A1)"
    assert safe_cell("@x") == "'@x" and safe_cell("+7 700") == "'+7 700"
    assert safe_cell("-0.5") == "-0.5" and safe_cell(["a", "b"]) == "a;b" and safe_cell(None) == ""


def test_outputs_atomic_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    with pytest.raises(RuntimeError):
        with RowWriter(out) as w:
            w.write({"a": 1})
            raise RuntimeError("crash")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_outputs_csv_bom_and_columns(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    write_rows(out, [{"b": 1, "a": "=x"}], columns=["a", "b"])
    assert out.read_text(encoding="utf-8-sig").splitlines() == ["a,b", "'=x,1"]
