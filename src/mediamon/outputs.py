"""Writing rows: JSONL, CSV (UTF-8 with BOM, formula-injection-safe) and Parquet, atomically.

Writers stream into a temporary file in the destination's directory and ``os.replace`` it
into place on success, so no half-written output ever survives a crash.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import UsageError

__all__ = ["OUTPUT_FORMATS", "output_format", "atomic_path", "write_rows", "safe_cell", "RowWriter"]

OUTPUT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def output_format(path: Path) -> str:
    """Format of an output path by extension."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: unknown output format '{path.suffix}' (use .jsonl, .csv or .parquet)")
    return fmt


def safe_cell(value: Any) -> str:
    """A CSV cell: lists joined with ';', dicts as JSON, formula-like strings quoted with '."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6)) if value == value else ""
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, Mapping):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    s = str(value)
    if s.startswith(_FORMULA_START) and not _is_number(s):
        return "'" + s
    return s


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


@contextmanager
def atomic_path(path: Path, *, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; rename it over ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    ok = False
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8", newline="" if "b" not in mode else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        ok = True
    finally:
        if not ok and os.path.exists(tmp):
            os.unlink(tmp)


class RowWriter:
    """Incremental writer for one output file; call ``write`` per row, ``close`` to commit.

    JSONL and CSV stream; Parquet buffers row groups of ``chunk`` rows.
    """

    def __init__(self, path: Path, *, columns: Sequence[str] | None = None, chunk: int = 10_000) -> None:
        self.path = Path(path)
        self.fmt = output_format(self.path)
        self.columns = list(columns) if columns else None
        self.chunk = chunk
        self._cm = atomic_path(self.path, mode="wb" if self.fmt == "parquet" else "w")
        self._fh = self._cm.__enter__()
        self._csv: Any = None
        self._buf: list[dict[str, Any]] = []
        self._pq: Any = None
        self.count = 0
        if self.fmt == "csv":
            self._fh.write("\ufeff")

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row."""
        if self.columns is None:
            self.columns = list(row)
        if self.fmt == "jsonl":
            self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        elif self.fmt == "csv":
            if self._csv is None:
                self._csv = csv.writer(self._fh, lineterminator="\n")
                self._csv.writerow(self.columns)
            self._csv.writerow([safe_cell(row.get(c)) for c in self.columns])
        else:
            self._buf.append(dict(row))
            if len(self._buf) >= self.chunk:
                self._flush_parquet()
        self.count += 1

    def write_line(self, line: str) -> None:
        """Append one JSONL row given as its JSON text (JSONL only; ``\\n`` added if missing)."""
        if self.fmt != "jsonl":
            raise ValueError(f"write_line needs a JSONL output, not {self.fmt}")
        self._fh.write(line if line.endswith("\n") else line + "\n")
        self.count += 1

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._buf:
            return
        cols = self.columns or list(self._buf[0])
        data = {c: [_parquet_value(r.get(c)) for r in self._buf] for c in cols}
        table = pa.table(data)
        if self._pq is None:
            self._pq = pq.ParquetWriter(self._fh, table.schema)
        self._pq.write_table(table.cast(self._pq.schema))
        self._buf = []

    def close(self) -> None:
        """Commit the file (atomic rename)."""
        if self.fmt == "csv" and self._csv is None and self.columns:
            csv.writer(self._fh, lineterminator="\n").writerow(self.columns)
        if self.fmt == "parquet":
            self._flush_parquet()
            if self._pq is not None:
                self._pq.close()
        self._cm.__exit__(None, None, None)

    def abort(self) -> None:
        """Discard the temp file; the destination is untouched."""
        try:
            self._cm.__exit__(RuntimeError, RuntimeError("aborted"), None)
        except RuntimeError:
            pass

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is None:
            self.close()
        else:
            self.abort()


def _parquet_value(v: Any) -> Any:
    if isinstance(v, Mapping):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return v


def write_rows(path: Path, rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str] | None = None) -> int:
    """Write all rows to ``path`` atomically; returns the count."""
    with RowWriter(path, columns=columns) as w:
        for r in rows:
            w.write(r)
    return w.count
