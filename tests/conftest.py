"""Shared fixtures.  Heavy tests carry ``@pytest.mark.slow`` and run only with ``--runslow``."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_examples():  # type: ignore[no-untyped-def]
    from mediamon.ingest import iter_examples
    from mediamon.records import Example

    exs = [e for e in iter_examples([FIXTURES / "labelled_tiny.jsonl"]) if isinstance(e, Example)]
    assert len(exs) == 24
    return exs


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_examples) -> Path:  # type: ignore[no-untyped-def]
    """A TF-IDF model trained on the 24 handmade examples (seconds)."""
    from mediamon.config import TrainConfig
    from mediamon.training import train

    cfg = TrainConfig(validation_folds=2, max_features=5000, char_ngrams=(2, 4))
    model = train(tiny_examples, cfg)
    return model.save(tmp_path_factory.mktemp("models") / "tiny")
