"""Where models live and how names resolve.

Bundled models sit in the repository's ``models/`` folder (installed editable) or in the
directory named by ``$MEDIAMON_MODELS``.  ``default`` is whatever ``models/DEFAULT`` names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .base import FramingModel, read_meta

__all__ = ["bundled_models_dir", "resolve_model_path", "load_model", "list_models"]


def bundled_models_dir() -> Path:
    """The folder holding bundled model directories."""
    env = os.environ.get("MEDIAMON_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "models"


def resolve_model_path(name_or_dir: str | Path) -> Path:
    """A model directory for a bundled name or a path.

    Raises:
        ModelError: nothing by that name.
    """
    p = Path(name_or_dir)
    if p.is_dir():
        return p
    root = bundled_models_dir()
    name = str(name_or_dir)
    if name == "default":
        marker = root / "DEFAULT"
        if not marker.is_file():
            raise ModelError(f"{root}: no DEFAULT marker naming the default model")
        name = marker.read_text(encoding="utf-8").strip()
    cand = root / name
    if cand.is_dir():
        return cand
    known = ", ".join(m["id"] for m in list_models()) or "none"
    raise ModelError(f"model '{name_or_dir}' not found: not a directory and not a bundled model (bundled: {known})")


def load_model(name_or_dir: str | Path = "default") -> FramingModel:
    """Load a framing model by bundled name or directory (hash-checked, no pickle)."""
    from . import static, tfidf  # noqa: F401  (registers the kinds)

    try:
        from . import e5  # noqa: F401
    except ImportError:
        pass
    return FramingModel.load(resolve_model_path(name_or_dir))


def list_models() -> list[dict[str, Any]]:
    """Bundled models with their kind, version and headline metrics."""
    root = bundled_models_dir()
    out: list[dict[str, Any]] = []
    if not root.is_dir():
        return out
    default = (root / "DEFAULT").read_text(encoding="utf-8").strip() if (root / "DEFAULT").is_file() else None
    for d in sorted(root.iterdir()):
        if d.is_dir() and (d / "meta.json").is_file():
            try:
                meta = read_meta(d)
            except ModelError:
                continue
            out.append(
                {
                    "id": d.name,
                    "path": str(d),
                    "kind": meta["kind"],
                    "name": meta.get("name"),
                    "version": meta.get("version"),
                    "default": d.name == default,
                }
            )
    return out
