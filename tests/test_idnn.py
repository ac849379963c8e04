"""Tests for IDNN: the interpolation network that predicts the middle frame of a window."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

torch = pytest.importorskip("torch")

from audioad.detectors.idnn import IDNN  # noqa: E402

# Small and quick: the tests check the contract, not the accuracy of a long training.
QUICK = dict(n_mels=32, epoch_num=8, batch_size=128)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Networks this small train faster on one thread than on threads that wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def fitted(pump):
    return IDNN(**QUICK).fit(pump[0])


def test_separates_loud_anomalies(pump, fitted):
    _, test, labels = pump
    assert len(fitted.loss_history_) == QUICK["epoch_num"]
    assert roc_auc_score(labels, fitted.decision_function(test)) >= 0.8


def test_mahalanobis_score_of_the_prediction_error(pump):
    train, test, labels = pump
    detector = IDNN(score="mahalanobis", **QUICK).fit(train)
    assert detector.residual_precision_.shape == (QUICK["n_mels"], QUICK["n_mels"])
    assert roc_auc_score(labels, detector.decision_function(test)) >= 0.8


def test_network_interpolates_the_middle_frame():
    clips = [np.random.default_rng(s).standard_normal(8000) for s in range(4)]
    detector = IDNN(context=5, epoch_num=1, n_mels=16, hidden_neuron_list=[12, 6]).fit(clips)
    first, last = detector.ae_[0], detector.ae_[-1]
    assert first.in_features == 4 * 16 and last.out_features == 16
    window = torch.arange(5 * 16, dtype=torch.float32)[None, :]
    around, middle = detector._split_window(window)
    assert middle.flatten().tolist() == list(range(32, 48))
    assert around.shape == (1, 64) and 32 not in around.flatten().tolist()


def test_same_random_state_same_scores(pump):
    train, test, _ = pump
    quicker = {**QUICK, "epoch_num": 2}
    first = IDNN(random_state=7, **quicker).fit(train[:6]).decision_function(test)
    second = IDNN(random_state=7, **quicker).fit(train[:6]).decision_function(test)
    np.testing.assert_allclose(first, second, rtol=1e-5)


def test_clone_and_params():
    detector = IDNN(context=7, epoch_num=3)
    twin = clone(detector)
    assert twin.get_params() == detector.get_params()
    assert twin.context == 7 and twin.sr == 16000 and twin.n_mels == 128


def test_frame_scores(pump, fitted):
    test = pump[1][:2]
    frames = fitted.frame_scores(test)
    assert len(frames) == 2
    assert frames[0].times[1] == pytest.approx(fitted.hop_length / fitted.sr)
    np.testing.assert_allclose([f.scores.mean() for f in frames], fitted.decision_function(test))


@pytest.mark.parametrize("context", [4, 1])
def test_context_must_be_odd_and_at_least_three(context):
    with pytest.raises(ValueError, match="odd context"):
        IDNN(context=context, epoch_num=1).fit([np.zeros(4000), np.ones(4000)])


def test_no_baseline_preset():
    with pytest.raises(TypeError, match="AudioAE"):
        IDNN.dcase2020()
