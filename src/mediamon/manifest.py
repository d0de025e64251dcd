"""Run manifests: what a ``score`` run read, with which config and model, and what it wrote.

A manifest is a JSON file beside the output (``OUT.manifest.json``).  Its
``fingerprint`` is a SHA-256 over everything that determines the output bytes: every
input file's path, size and SHA-256, the ``ingest``, ``langid`` and ``score`` config
sections, the model (name, version and the hash of its ``meta.json``, which itself lists
the SHA-256 of every weight file), the output format and the mediamon version.  Two runs
with the same fingerprint write the same bytes; ``score --resume`` uses it to refuse
resuming a run whose inputs, config or model changed, and to say "up to date" for a
finished one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._hashing import sha256_file
from .outputs import atomic_path

__all__ = [
    "MANIFEST_FORMAT",
    "input_entries",
    "model_entry",
    "fingerprint",
    "manifest_path",
    "read_json",
    "write_json_atomic",
    "sha256_file",
    "versions",
]

MANIFEST_FORMAT = 1


def input_entries(inputs: Sequence[str | Path]) -> list[dict[str, Any]]:
    """One entry per input file (directories expanded in reading order).

    Stdin (``-``) has no hash; a run reading it cannot be resumed or found up to date.
    """
    from .ingest import iter_files

    out: list[dict[str, Any]] = []
    for inp in inputs:
        if str(inp) == "-":
            out.append({"path": "-", "size": None, "sha256": None})
            continue
        for p in iter_files(Path(inp)):
            out.append({"path": str(p), "size": p.stat().st_size, "sha256": sha256_file(p)})
    return out


def model_entry(model: Any, model_dir: str | Path | None = None) -> dict[str, Any]:
    """Name, version, kind and a content hash of the model.

    Args:
        model: A loaded :class:`~mediamon.framing.base.FramingModel`.
        model_dir: Its directory, if known: the hash is then that of ``meta.json``, which lists
            the SHA-256 of every weight file (checked when the model was loaded).
    """
    meta_file = Path(model_dir) / "meta.json" if model_dir is not None else None
    if meta_file is not None and meta_file.is_file():
        digest = sha256_file(meta_file)
    else:
        blob = json.dumps(getattr(model, "meta_", {}), sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256((model.full_name + "\0" + blob).encode("utf-8")).hexdigest()
    return {
        "name": model.full_name,
        "kind": getattr(model, "kind", ""),
        "path": str(model_dir) if model_dir is not None else None,
        "meta_sha256": digest,
    }


def versions() -> dict[str, str]:
    """Versions of mediamon and the libraries that shape its output."""
    from importlib.metadata import PackageNotFoundError, version
    from platform import python_version

    out = {"python": python_version()}
    for pkg in ("mediamon", "numpy", "scikit-learn", "datasketch", "trafilatura", "feedparser", "charset-normalizer"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def fingerprint(
    inputs: Sequence[Mapping[str, Any]], config: Mapping[str, Any], model: Mapping[str, Any], output_format: str
) -> str:
    """SHA-256 over what determines the output bytes (see the module docstring)."""
    basis = {
        "format": MANIFEST_FORMAT,
        "inputs": [[i["path"], i["size"], i["sha256"]] for i in inputs],
        "config": config,
        "model": [model["name"], model["meta_sha256"]],
        "output_format": output_format,
        "mediamon": versions().get("mediamon"),
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def manifest_path(output: Path) -> Path:
    """``OUT.manifest.json`` beside the output."""
    return output.with_name(output.name + ".manifest.json")


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or ``None`` when missing or unreadable."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def write_json_atomic(path: Path, obj: Mapping[str, Any]) -> None:
    """Write ``obj`` as indented JSON: temp file, fsync, rename, fsync of the directory."""
    with atomic_path(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def now_utc() -> str:
    """The current time, ISO 8601 UTC, seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
