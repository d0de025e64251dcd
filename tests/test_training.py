import numpy as np

from mediamon.training import choose_thresholds, fit_temperature


def test_training_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 4000)
    true_logits = rng.normal(size=(4000, 4))
    true_logits[np.arange(4000), y] += 1.0
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    # sample labels from p so p is calibrated, then sharpen by 3
    y = np.array([rng.choice(4, p=row) for row in p])
    logp = np.log(p) * 3.0
    t = fit_temperature(logp, y)
    assert 2.5 < t < 3.5


def test_training_thresholds_maximise_f1() -> None:
    p = np.zeros((10, 8))
    y = np.zeros((10, 8), dtype=int)
    p[:5, 0] = 0.3
    y[:5, 0] = 1
    p[5:, 0] = 0.1
    th = choose_thresholds(p, y)
    assert 0.1 < th["diplomacy"] <= 0.3
    assert th["security"] == 0.5  # absent topic keeps the default


def test_training_quantize_is_an_e5_option_without_finetuning() -> None:
    import pytest

    from mediamon.config import TrainConfig
    from mediamon.errors import UsageError
    from mediamon.framing.e5 import E5FramingModel
    from mediamon.training import make_model, train

    for cfg in (TrainConfig(kind="tfidf", quantize="int8"), TrainConfig(kind="e5", quantize="int8", finetune_epochs=1)):
        with pytest.raises(UsageError, match="quantize"):
            train([], cfg)
    m = make_model(TrainConfig(kind="e5", quantize="int8"))
    assert isinstance(m, E5FramingModel) and m.quantize == "int8"
