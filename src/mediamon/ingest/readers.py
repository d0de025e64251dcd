"""Format readers: each turns one file into :class:`RawRecord` s or :class:`Reject` s.

Readers never raise for a bad record, and never drop one silently: every record is either
a :class:`RawRecord` or a :class:`~mediamon.records.Reject` with a reason.  A file whose
bytes cannot be decoded becomes one ``bad_encoding`` reject (line 0); in a JSONL file that
is UTF-8 except for some lines, only those lines are rejected.  A path that does not exist
or cannot be opened raises :class:`~mediamon.errors.InputError`.

**Streaming.**  JSONL and CSV/TSV files are read line by line in binary and decoded one line
at a time, so memory does not grow with the size of a file.  The encoding is decided once
per file from a *sample*: the first :data:`SAMPLE_BYTES` (4 MiB) cut at a line end, plus,
when those are plain ASCII, up to :data:`SAMPLE_BYTES` of the first non-ASCII lines after
them (the file is scanned for them without keeping anything else).  A file no larger than
the sample is therefore decided exactly as a whole-file read would.  A later line that does
not decode under the chosen encoding becomes a ``bad_encoding`` reject naming the file and
the line (for CSV, the line's record), and its neighbours are read as usual.

Still read whole (they need the whole document, or cannot be split at a ``\n`` byte):
RSS/Atom (feedparser), ``.json`` (one JSON array), HTML pages, and JSONL/CSV files in
UTF-16/UTF-32 (a BOM or NUL bytes in the first 4 KB) or in an encoding where ``\n`` is not
the byte ``0x0A`` of an ASCII-compatible code (UTF-7, ISO-2022-*, HZ).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import InputError, UsageError
from ..records import Reject
from .decode import DecodeError, decode_bytes
from .fields import RawRecord

__all__ = ["FORMATS", "SAMPLE_BYTES", "format_of", "iter_raw", "iter_files"]

#: Bytes from the start of a JSONL/CSV file that its encoding is decided from (see above).
SAMPLE_BYTES = 4 << 20

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


def _open_binary(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def _sample(fh: BinaryIO) -> tuple[bytes, bool]:
    """The bytes a file's encoding is decided from, and whether they are the whole file.

    Whole lines from the start up to :data:`SAMPLE_BYTES`; when those are plain ASCII and
    the file goes on, the first non-ASCII lines after them (up to :data:`SAMPLE_BYTES`
    more) are added, found by scanning the rest of the file without keeping it.
    """
    parts: list[bytes] = []
    size = 0
    for ln in fh:
        parts.append(ln)
        size += len(ln)
        if size >= SAMPLE_BYTES:
            break
    else:
        return b"".join(parts), True
    if all(p.isascii() for p in parts):
        extra = 0
        for ln in fh:
            if not ln.isascii():
                parts.append(ln if ln.endswith(b"\n") else ln + b"\n")
                extra += len(ln)
                if extra >= SAMPLE_BYTES:
                    break
    return b"".join(parts), False


_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _wide(sample: bytes) -> bool:
    """UTF-16/32 (by BOM or NUL bytes near the start): ``\\n`` is not one byte, read whole."""
    return sample.startswith(_WIDE_BOMS) or b"\x00" in sample[:4096]


def _line_safe(encoding: str) -> bool:
    """Whether ``encoding`` can be decoded line by line after splitting the bytes at ``0x0A``."""
    name = codecs.lookup(encoding).name
    if name.startswith(("utf-16", "utf-32", "utf-7", "iso2022", "hz")):
        return False
    try:
        return "\n".encode(name) == b"\n"
    except UnicodeError:
        return False


def _decode_line(raw: bytes, lineno: int, encoding: str) -> str:
    """One line (without its ``\\n``) in the file's encoding; a UTF-8 BOM is dropped on line 1."""
    return raw.decode("utf-8-sig" if lineno == 1 and encoding == "utf-8" else encoding)


def _encoding_reject(name: str, lineno: int, raw: bytes, encoding: str, e: UnicodeDecodeError, what: str = "line") -> Reject:
    label = "UTF-8" if encoding == "utf-8" else encoding
    return Reject(
        name, lineno, "bad_encoding", f"{what} is not {label} like the rest of the file ({e.reason} at byte {e.start})",
        None, raw[:500].decode(encoding, "replace"),
    )


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
        if not _has_utf8_line(lines) or b"\x00" in data[:4096]:  # legacy single-byte or UTF-16/32: whole file
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


def _jsonl_item(name: str, lineno: int, line: str, encoding: str | None) -> Item | None:
    """One JSONL line as a record or a reject; ``None`` for a blank line."""
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return Reject(name, lineno, "bad_json", f"not valid JSON ({e.msg} at column {e.colno})", None, line[:500])
    except RecursionError:
        return Reject(name, lineno, "bad_json", "JSON nested too deeply", None, line[:500])
    if not isinstance(obj, dict):
        return Reject(name, lineno, "not_object", f"expected a JSON object, got {type(obj).__name__}", None, line[:500])
    return RawRecord(name, lineno, obj, encoding, line[:500])


def _iter_jsonl_lines(name: str, lines: Iterator[str], encoding: str | None, start: int = 1) -> Iterator[Item]:
    for lineno, line in enumerate(lines, start):
        item = _jsonl_item(name, lineno, line, encoding)
        if item is not None:
            yield item


def _jsonl_encoding(sample: bytes) -> str | None:
    """UTF-8 when the sample is UTF-8 or has a UTF-8 line with multi-byte sequences (the
    rule a whole-file read applies: a UTF-8 file with a few broken lines stays UTF-8);
    ``None``: let the detectors decide."""
    try:
        sample.decode("utf-8-sig")
        return "utf-8"
    except UnicodeDecodeError:
        return "utf-8" if _has_utf8_line(sample.split(b"\n")) else None


def _has_utf8_line(lines: list[bytes]) -> bool:
    """Whether some line has non-ASCII bytes that decode as UTF-8 (a UTF-8 file with broken
    lines, not a legacy single-byte one)."""
    for ln in lines:
        if not ln.isascii():
            try:
                ln.decode("utf-8")
                return True
            except UnicodeDecodeError:
                pass
    return False


def _iter_jsonl_file(name: str, fh: BinaryIO, min_confidence: float) -> Iterator[Item]:
    """A JSONL file, streamed: encoding from a sample, then decoded and parsed line by line."""
    sample, whole = _sample(fh)
    if _wide(sample):
        if not whole:
            fh.seek(0)
            sample = fh.read()
        yield from _iter_jsonl_bytes(name, sample, min_confidence)
        return
    enc = _jsonl_encoding(sample)
    if enc is None:
        dec = _decode_file(name, sample, min_confidence)
        if isinstance(dec, Reject):
            yield dec
            return
        enc = dec[1]
        if not _line_safe(enc):
            fh.seek(0)
            yield from _iter_jsonl_lines(name, _lines(codecs.decode(fh.read(), enc)), enc)
            return
    del sample
    fh.seek(0)
    for lineno, raw in enumerate(fh, 1):
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        try:
            line = _decode_line(raw, lineno, enc)
        except UnicodeDecodeError as e:
            yield _encoding_reject(name, lineno, raw, enc, e)
            continue
        item = _jsonl_item(name, lineno, line[:-1] if line.endswith("\r") else line, enc)
        if item is not None:
            yield item


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


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _csv_lines(fh: BinaryIO, encoding: str, bad: dict[int, Reject], name: str) -> Iterator[str]:
    """Decoded lines for the csv module, split like ``io.StringIO(text, newline="")`` would
    (at ``\\n``, ``\\r\\n`` and a lone ``\\r``, endings kept).  A line that does not decode is
    passed on with replacement characters (so quoting stays in step) and its line number
    goes into ``bad`` with the reject its record becomes."""
    n = 0
    for i, raw in enumerate(fh, 1):
        rej: Reject | None = None
        try:
            s = _decode_line(raw, i, encoding)
        except UnicodeDecodeError as e:
            rej = _encoding_reject(name, n + 1, raw.rstrip(b"\r\n"), encoding, e)
            s = raw.decode(encoding, "replace")
        pieces = [p for p in _LONE_CR.split(s) if p] if "\r" in s else [s]
        for p in pieces:
            n += 1
            if rej is not None:
                bad[n] = rej
            yield p


def _iter_csv_file(name: str, fh: BinaryIO, min_confidence: float, delimiter: str) -> Iterator[Item]:
    """A CSV/TSV file, streamed: encoding from a sample, then decoded line by line."""
    sample, whole = _sample(fh)
    if not _wide(sample):
        dec = _decode_file(name, sample, min_confidence)
        if isinstance(dec, Reject):
            yield dec
            return
        enc = dec[1]
        del dec
        if _line_safe(enc):
            del sample
            fh.seek(0)
            bad: dict[int, Reject] = {}
            yield from _iter_csv(name, _csv_lines(fh, enc, bad, name), enc, delimiter, bad)
            return
    if not whole:
        fh.seek(0)
        sample = fh.read()
    dec = _decode_file(name, sample, min_confidence)
    if isinstance(dec, Reject):
        yield dec
        return
    yield from _iter_csv(name, io.StringIO(dec[0], newline=""), dec[1], delimiter)


def _iter_csv(
    name: str, lines: Iterator[str], encoding: str, delimiter: str, bad: dict[int, Reject] | None = None
) -> Iterator[Item]:
    """Rows of decoded ``lines``; a record spanning a line listed in ``bad`` (line number →
    ``bad_encoding`` reject, filled in while ``lines`` is read) becomes that reject."""
    csv.field_size_limit(sys.maxsize)
    bad = {} if bad is None else bad

    def bad_in_span(end: int) -> list[Reject]:
        hits = sorted(k for k in bad if k <= end)
        out: list[Reject] = []
        for k in hits:
            r = bad.pop(k)
            if not any(r is o for o in out):
                out.append(r)
        return out

    # strict: a stray or unclosed quote is an error (a reject), not a cell that silently
    # swallows the following rows.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        yield Reject(name, 1, "bad_csv", f"header not readable ({e})", None, None)
        return
    hdr_bad = bad_in_span(reader.line_num)
    if hdr_bad:
        r = hdr_bad[0]
        yield Reject(name, r.line, r.code, r.reason.replace("line is", "header line is", 1), None, r.raw)
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            bad_in_span(reader.line_num)  # the record is rejected whole already
            yield Reject(name, start, "bad_csv", f"row not readable ({e}; rows up to line {reader.line_num} are part of it)", None, None)
            if "unexpected end of data" in str(e):
                return
            continue
        row_bad = bad_in_span(reader.line_num)
        if row_bad:
            for r in row_bad:
                if r.line != start:
                    r = Reject(name, r.line, r.code, f"{r.reason}; the record from line {start} is rejected", None, r.raw)
                yield r
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
        if fmt in ("jsonl", "csv", "tsv"):  # streamed: memory does not grow with the file
            with _open_binary(p) as fh:
                if fmt == "jsonl":
                    yield from _iter_jsonl_file(name, fh, min_confidence)
                else:
                    yield from _iter_csv_file(name, fh, min_confidence, "," if fmt == "csv" else "\t")
            continue
        data = _read_bytes(p)  # the formats below need the whole document
        if fmt == "feed":
            yield from _iter_feed(name, data, min_confidence)
            continue
        dec = _decode_file(name, data, min_confidence)
        del data
        if isinstance(dec, Reject):
            yield dec
            continue
        text, enc = dec
        if fmt == "json":
            yield from _iter_json(name, text, enc)
        elif fmt == "html":
            yield from _iter_html(name, text, enc)
