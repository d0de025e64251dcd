"""Typed configuration.

Defaults live in the schema below and, commented key by key, in ``configs/default.yaml``
(a test keeps the two identical).  A user's YAML file is merged over the defaults; unknown
keys and wrong types are :class:`~mediamon.errors.ConfigError` naming the file and the key.
Dotted ``--set section.key=value`` overrides are applied last (values parsed as YAML).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

__all__ = [
    "IngestConfig",
    "LangidConfig",
    "ScoreConfig",
    "TrendsConfig",
    "TrainConfig",
    "Config",
    "load_config",
    "parse_overrides",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class IngestConfig(_Section):
    require_dates: bool = False
    default_timezone: str = "Asia/Almaty"
    min_text_chars: int = Field(default=1, ge=0)
    max_text_chars: int = Field(default=200_000, ge=100)
    source_timezones: dict[str, str] = Field(default_factory=dict)
    charset_min_confidence: float = Field(default=0.6, ge=0.0, le=1.0)


class LangidConfig(_Section):
    min_letters: int = Field(default=3, ge=0)


class ScoreConfig(_Section):
    model: str = "default"
    batch_size: int = Field(default=32, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = Field(default=0, ge=0)
    dedup: bool = True
    near_dup_threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    checkpoint_every: int = Field(default=1000, ge=1)
    workers: int = Field(default=0, ge=0)


class TrendsConfig(_Section):
    period: Literal["day", "week", "month", "quarter", "year"] = "month"
    timezone: str = "Asia/Almaty"
    by: list[Literal["lang", "source", "topic"]] = Field(default_factory=list)
    # pacc: chosen by benchmarks/trend_fidelity.py (see benchmarks/RESULTS.md, "Trend fidelity")
    estimator: Literal["cc", "pcc", "acc", "pacc"] = "pacc"
    level: float = Field(default=0.9, gt=0.0, lt=1.0)
    bootstrap: int = Field(default=500, ge=50)
    seed: int = 0
    smoothing: Literal["none", "rolling", "ewm"] = "none"
    window: int = Field(default=3, ge=1)
    changepoints: bool = True


class TrainConfig(_Section):
    kind: Literal["tfidf", "e5", "static"] = "tfidf"
    seed: int = 0
    name: str = "mediamon-framing"
    version: str = "0.1.0"
    validation_folds: int = Field(default=5, ge=2)
    C: float = Field(default=4.0, gt=0.0)
    class_weight: Literal["balanced", "none"] = "balanced"
    topic_C: float = Field(default=0.0, ge=0.0)
    topic_lexical: bool = False
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    max_features: int = Field(default=200_000, ge=100)
    encoder: str = "multilingual-e5-small"
    max_length: int = Field(default=512, ge=16)
    input_mode: Literal["full", "title_lead"] = "full"
    long_text: Literal["windows", "truncate"] = "windows"
    quantize: Literal["none", "int8"] = "none"
    finetune_epochs: int = Field(default=0, ge=0)
    finetune_lr: float = Field(default=1e-3, gt=0.0)
    finetune_batch_size: int = Field(default=16, ge=1)
    finetune_max_length: int = Field(default=256, ge=16)
    lora_r: int = Field(default=8, ge=1)
    finetune_layers: int = Field(default=4, ge=1)
    validation_share: float = Field(default=0.15, gt=0.0, lt=0.5)


class Config(_Section):
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    langid: LangidConfig = Field(default_factory=LangidConfig)
    score: ScoreConfig = Field(default_factory=ScoreConfig)
    trends: TrendsConfig = Field(default_factory=TrendsConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Turn ``["train.seed=1", "score.batch_size=64"]`` into a nested dict.

    Raises:
        ConfigError: an item has no ``=`` or no section.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or "." not in key:
            raise ConfigError(f"--set {item!r}: expected section.key=value, e.g. train.seed=1")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _raise_validation(err: ValidationError, origin: str) -> None:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        msg = f"{origin}: unknown key '{key}'"
    else:
        msg = f"{origin}: key '{key}': {first['msg']} (got {first.get('input')!r})"
    raise ConfigError(msg) from None


def load_config(
    path: str | Path | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> Config:
    """Load the config: defaults, then ``path`` (YAML), then dotted overrides.

    Args:
        path: A YAML file with any subset of the sections; ``None`` for defaults only.
        overrides: ``section.key=value`` strings or an already nested mapping.

    Raises:
        ConfigError: unreadable file, bad YAML, unknown key or wrong type (file and key named).
    """
    data: dict[str, Any] = {}
    origin = "defaults"
    if path is not None:
        p = Path(path)
        origin = str(p)
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: config file not found") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{p}{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: top level must be a mapping of sections")
        data = loaded
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        _raise_validation(e, origin)
    over = parse_overrides(overrides) if not isinstance(overrides, Mapping) else dict(overrides)
    if over:
        try:
            cfg = Config.model_validate(_merge(cfg.model_dump(), over))
        except ValidationError as e:
            _raise_validation(e, "--set")
    return cfg
