from pathlib import Path

import pytest
import yaml

from mediamon.config import Config, load_config, parse_overrides
from mediamon.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_config_default_yaml_matches_schema_defaults() -> None:
    from_file = load_config(REPO / "configs" / "default.yaml")
    assert from_file == Config()


def test_config_every_default_key_is_commented() -> None:
    lines = (REPO / "configs" / "default.yaml").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  ") and ":" in line and not line.strip().startswith("#") and not line.startswith("    "):
            assert lines[i - 1].strip().startswith("#"), f"key without comment: {line!r}"


def test_config_training_configs_load() -> None:
    for p in (REPO / "configs").glob("train-*.yaml"):
        load_config(p)


def test_config_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("score:\n  batchsize: 3\n")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown key 'score.batchsize'"):
        load_config(p)


def test_config_wrong_type_names_key(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"trends": {"level": "high"}}))
    with pytest.raises(ConfigError, match=r"key 'trends.level'"):
        load_config(p)


def test_config_overrides_apply_and_validate() -> None:
    cfg = load_config(None, ["score.batch_size=7", "trends.by=[lang,source]"])
    assert cfg.score.batch_size == 7
    assert cfg.trends.by == ["lang", "source"]
    with pytest.raises(ConfigError, match="--set"):
        load_config(None, ["score.batch_size=zero"])
    with pytest.raises(ConfigError):
        parse_overrides(["nodot=1"])


def test_config_bad_yaml_reports_line(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("score:\n  batch_size: [1,\n")
    with pytest.raises(ConfigError, match=r"c.yaml:\d+: not valid YAML"):
        load_config(p)
