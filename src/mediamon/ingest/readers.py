"""Format readers: each turns one file into :class:`RawRecord` s or :class:`Reject` s.

Readers never raise for a bad record, and never drop one silently: every record is either
a :class:`RawRecord` or a :class:`~mediamon.records.Reject` with a reason.  A file whose
bytes cannot be decoded becomes one ``bad_encoding`` reject (line 0); in a JSONL file that
is UTF-8 except for some lines, only those lines are rejected.  A path that does not exist
or cannot be opened raises :class:`~mediamon.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..records import Reject
from .decode import DecodeError, decode_bytes
from .fields import RawRecord

__all__ = ["FORMATS", "format_of", "iter_raw", "iter_files"]

FORMATS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".html": "html",
    ".htm": "html",
}

Item = RawRecord | Reject


def format_of(path: Path) -> str:
    """The reader for ``path``, by extension (``.gz`` not supported)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise UsageError(f"{path}: unknown input format '{path.suffix}' (known: {known})")
    return fmt


def iter_files(path: Path) -> Iterator[Path]:
    """``path`` itself, or the readable files below a directory in sorted order."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p.suffix.lower() in FORMATS and not p.name.startswith("."):
                yield p
    elif path.exists():
        yield path
    else:
        raise InputError(f"{path}: no such file or directory")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def _decode_file(name: str, data: bytes, min_confidence: float) -> tuple[str, str] | Reject:
    try:
        return decode_bytes(data, min_confidence=min_confidence)
    except DecodeError as e:
        return Reject(name, 0, "bad_encoding", f"cannot decode the file: {e}", None, None)


def _lines(text: str) -> Iterator[str]:
    """Lines split at ``\n`` only (JSON strings may hold U+2028, U+0085 ... unescaped)."""
    for ln in text.split("\n"):
        yield ln[:-1] if ln.endswith("\r") else ln


def _iter_jsonl_bytes(name: str, data: bytes, min_confidence: float) -> Iterator[Item]:
    """JSONL from bytes: whole-file decoding, except a UTF-8 file with a few broken lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        lines = data.split(b"\n")
        utf8_multibyte = 0
        for ln in lines:
            if max(ln, default=0) >= 0x80:
                try:
                    ln.decode("utf-8")
                    utf8_multibyte += 1
                except UnicodeDecodeError:
                    pass
        if utf8_multibyte == 0 or b"\x00" in data[:4096]:  # legacy single-byte or UTF-16/32: whole file
            dec = _decode_file(name, data, min_confidence)
            if isinstance(dec, Reject):
                yield dec
                return
            yield from _iter_jsonl_lines(name, _lines(dec[0]), dec[1])
            return
        yield from _iter_jsonl_byte_lines(name, iter(lines))
        return
    yield from _iter_jsonl_lines(name, _lines(text), "utf-8")


def _iter_jsonl_byte_lines(name: str, lines: Iterator[bytes]) -> Iterator[Item]:
    """UTF-8 JSONL line by line: a line that is not UTF-8 is rejected, the others kept."""
    for lineno, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8").removesuffix("\r")
        except UnicodeDecodeError as e:
            yield Reject(
                name, lineno, "bad_encoding", f"line is not UTF-8 like the rest of the file ({e.reason} at byte {e.start})",
                None, raw[:500].decode("utf-8", "replace"),
            )
            continue
        yield from _iter_jsonl_lines(name, iter([line]), "utf-8", start=lineno)


def _iter_jsonl_lines(name: str, lines: Iterator[str], encoding: str | None, start: int = 1) -> Iterator[Item]:
    for lineno, line in enumerate(lines, start):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield Reject(name, lineno, "bad_json", f"not valid JSON ({e.msg} at column {e.colno})", None, line[:500])
            continue
        except RecursionError:
            yield Reject(name, lineno, "bad_json", "JSON nested too deeply", None, line[:500])
            continue
        if not isinstance(obj, dict):
            yield Reject(name, lineno, "not_object", f"expected a JSON object, got {type(obj).__name__}", None, line[:500])
            continue
        yield RawRecord(name, lineno, obj, encoding, line[:500])


def _iter_json(name: str, text: str, encoding: str) -> Iterator[Item]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        yield Reject(name, e.lineno, "bad_json", f"not valid JSON ({e.msg} at column {e.colno})", None, None)
        return
    except RecursionError:
        yield Reject(name, 0, "bad_json", "JSON nested too deeply", None, None)
        return
    items: Any = obj.get("items", obj.get("articles")) if isinstance(obj, dict) else obj
    if not isinstance(items, list):
        yield Reject(name, 1, "not_array", "expected a JSON array of objects (or {'items': [...]})", None, None)
        return
    for i, it in enumerate(items, 1):
        if isinstance(it, dict):
            yield RawRecord(name, i, it, encoding, json.dumps(it, ensure_ascii=False)[:500])
        else:
            yield Reject(name, i, "not_object", f"item {i} is not a JSON object", None, None)


def _iter_csv(name: str, text: str, encoding: str, delimiter: str) -> Iterator[Item]:
    csv.field_size_limit(sys.maxsize)
    # strict: a stray or unclosed quote is an error (a reject), not a cell that silently
    # swallows the following rows.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        yield Reject(name, 1, "bad_csv", f"header not readable ({e})", None, None)
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield Reject(name, start, "bad_csv", f"row not readable ({e}; rows up to line {reader.line_num} are part of it)", None, None)
            if "unexpected end of data" in str(e):
                return
            continue
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            yield Reject(
                name, start, "bad_csv", f"{len(row)} cells for {len(header)} columns", None, delimiter.join(row)[:500]
            )
            continue
        fields = {h: (v if v != "" else None) for h, v in zip(header, row, strict=True)}
        yield RawRecord(name, start, fields, encoding, delimiter.join(row)[:500])


def _iter_feed(name: str, data: bytes, min_confidence: float) -> Iterator[Item]:
    from .feeds import iter_feed_entries

    yield from iter_feed_entries(name, data, min_confidence=min_confidence)


def _iter_html(name: str, text: str, encoding: str) -> Iterator[Item]:
    from .html import extract_article

    fields = extract_article(text)
    if fields is None:
        yield Reject(name, 0, "no_article", "no article text found in the HTML", "text", text[:500])
    else:
        yield RawRecord(name, 1, fields, encoding, None)


def iter_raw(path: Path | str, *, min_confidence: float = 0.6) -> Iterator[Item]:
    """Yield raw records and rejects from one input path (file, directory or ``-``)."""
    if str(path) == "-":
        lines = (ln.rstrip(b"\r\n") for ln in iter(sys.stdin.buffer.readline, b""))
        yield from _iter_jsonl_byte_lines("-", lines)
        return
    for p in iter_files(Path(path)):
        fmt = format_of(p)
        name = str(p)
        data = _read_bytes(p)
        if fmt == "feed":
            yield from _iter_feed(name, data, min_confidence)
            continue
        if fmt == "jsonl":
            yield from _iter_jsonl_bytes(name, data, min_confidence)
            continue
        dec = _decode_file(name, data, min_confidence)
        if isinstance(dec, Reject):
            yield dec
            continue
        text, enc = dec
        if fmt == "json":
            yield from _iter_json(name, text, enc)
        elif fmt in ("csv", "tsv"):
            yield from _iter_csv(name, text, enc, "," if fmt == "csv" else "\t")
        elif fmt == "html":
            yield from _iter_html(name, text, enc)
