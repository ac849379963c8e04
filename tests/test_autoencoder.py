"""Tests for AudioAE's network: its seeded dropout layer and the reproducibility of a fit."""

import copy
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from audioad import AudioAE  # noqa: E402
from audioad.detectors.layers import SeededDropout  # noqa: E402


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_dropout_drops_p_of_the_values_and_scales_the_rest(p):
    layer = SeededDropout(p, rng=0).train()
    x = torch.ones(1000, 500, requires_grad=True)
    y = layer(x)
    dropped = (y == 0).float().mean().item()
    # 500,000 values: the dropped share is within 5 standard errors of p.
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / y.numel())
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - p)))
    # The gradient goes through the kept values only, with the same scale.
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())


def test_dropout_is_the_identity_in_eval_mode():
    layer = SeededDropout(0.5, rng=0).eval()
    x = torch.randn(64, 32)
    assert layer(x) is x


def test_dropout_masks_follow_the_seed():
    x = torch.ones(256, 64)
    first, again, other = (SeededDropout(0.3, rng=seed) for seed in (1, 1, 2))
    assert torch.equal(first(x), again(x))
    assert not torch.equal(first(x), other(x))


def test_dropout_extremes():
    x = torch.randn(32, 16)
    assert torch.equal(SeededDropout(0.0, rng=0)(x), x)
    assert torch.equal(SeededDropout(1.0, rng=0)(x), torch.zeros_like(x))
    with pytest.raises(ValueError, match="between 0 and 1"):
        SeededDropout(1.5)


def test_dropout_holds_no_state_and_copies():
    layer = SeededDropout(0.2, rng=0)
    assert layer.state_dict() == {}
    x = torch.ones(128, 16)
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        # A copy carries the generator's state: it draws the masks the original draws next.
        assert twin.p == layer.p
        assert torch.equal(twin(x), copy.deepcopy(layer)(x))


def test_network_loads_weights_saved_with_torch_dropout():
    """Model files written when the network held torch.nn.Dropout still load: the keys are the same."""
    detector = AudioAE(random_state=0)
    detector.n_features_ = 320
    network = detector._network(torch)
    with_torch_dropout = torch.nn.Sequential(
        *(torch.nn.Dropout(layer.p) if isinstance(layer, SeededDropout) else layer for layer in network)
    )
    assert sum(isinstance(layer, SeededDropout) for layer in network) == 5
    network.load_state_dict(with_torch_dropout.state_dict())


@pytest.mark.slow
def test_same_random_state_same_scores(pump):
    train, test, _ = pump
    settings = dict(sr=16000, epoch_num=2, batch_size=256)
    first = AudioAE(random_state=3, **settings).fit(train[:8])
    second = AudioAE(random_state=3, **settings).fit(train[:8])
    assert first.loss_history_ == second.loss_history_
    np.testing.assert_array_equal(first.decision_function(test), second.decision_function(test))
    other = AudioAE(random_state=4, **settings).fit(train[:8])
    assert other.loss_history_ != first.loss_history_
