"""Tests for WindowKNN: k-NN distance of log-mel context windows, clip scored by its worst windows."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from audioad.detectors.window_knn import WindowKNN

SR = 16000


def clicked(clip, at, rng):
    """The clip with a burst of noise 0.1 s long starting at sample ``at``."""
    clip = clip.copy()
    clip[at : at + SR // 10] += 2.0 * rng.standard_normal(SR // 10)
    return clip


@pytest.mark.parametrize("context", [1, 5])
def test_separates_loud_anomalies(pump, context):
    train, test, labels = pump
    detector = WindowKNN(context=context).fit(train)
    assert roc_auc_score(labels, detector.decision_function(test)) >= 0.9


def test_clone_and_params():
    detector = WindowKNN(context=3, top_fraction=0.2)
    twin = clone(detector)
    assert twin.get_params() == detector.get_params()
    assert twin.get_params()["context"] == 3 and twin.top_fraction == 0.2


def test_same_random_state_same_scores(pump):
    train, test, _ = pump
    first = WindowKNN(max_windows=300, random_state=4).fit(train).decision_function(test)
    second = WindowKNN(max_windows=300, random_state=4).fit(train).decision_function(test)
    np.testing.assert_array_equal(first, second)
    other = WindowKNN(max_windows=300, random_state=5).fit(train).decision_function(test)
    assert not np.array_equal(first, other)


def test_frame_scores_point_at_the_event():
    rng = np.random.default_rng(0)
    normal = [0.1 * rng.standard_normal(SR) for _ in range(10)]
    detector = WindowKNN(context=1).fit(normal)
    frames = detector.frame_scores([clicked(normal[0], SR // 2, rng)])[0]
    hop = detector.hop_length / SR
    assert frames.times[1] == pytest.approx(hop)
    assert len(frames.times) == len(frames.scores) == 1 + SR // detector.hop_length
    assert 0.45 <= frames.times[np.argmax(frames.scores)] <= 0.6


def test_window_hop_scores_every_hop_th_window():
    rng = np.random.default_rng(5)
    normal = [0.1 * rng.standard_normal(SR) for _ in range(10)]
    test = [clicked(normal[0], SR // 2, rng)]
    every = WindowKNN(context=5).fit(normal[1:]).frame_scores(test)[0]
    detector = WindowKNN(context=5, window_hop=2).fit(normal[1:])
    assert len(detector.reference_windows_) == sum((1 + SR // 512 - 5) // 2 + 1 for _ in normal[1:])
    frames = detector.frame_scores(test)[0]
    np.testing.assert_allclose(frames.times, every.times[::2])
    assert 0.45 <= frames.times[np.argmax(frames.scores)] <= 0.6
    assert detector.decision_function(test)[0] > detector.decision_function(normal[:1])[0]


def test_clip_score_is_mean_of_worst_windows():
    rng = np.random.default_rng(1)
    normal = [0.1 * rng.standard_normal(SR) for _ in range(8)]
    test = [clicked(normal[0], SR // 4, rng), normal[1]]
    for fraction in (0.1, 1.0):
        detector = WindowKNN(top_fraction=fraction).fit(normal[2:])
        frames = detector.frame_scores(test)
        expected = [np.sort(f.scores)[-max(1, int(np.ceil(fraction * len(f.scores)))) :].mean() for f in frames]
        np.testing.assert_allclose(detector.decision_function(test), expected)
        both = detector.score_clips(test, frames=True)
        np.testing.assert_allclose(both.scores, expected)
        np.testing.assert_allclose(both.frames[0].scores, frames[0].scores)


def test_training_scores_leave_each_clip_out():
    rng = np.random.default_rng(2)
    clips = [0.1 * rng.standard_normal(SR // 2) for _ in range(6)]
    detector = WindowKNN().fit(clips)
    assert np.all(detector.decision_scores_ > 0)
    # Scored as new clips, the training clips find their own windows (up to float32 rounding).
    assert np.all(detector.decision_function(clips) < 0.01 * detector.decision_scores_)


def test_reference_subsample_is_bounded():
    rng = np.random.default_rng(3)
    clips = [0.1 * rng.standard_normal(SR) for _ in range(6)]
    detector = WindowKNN(context=5, max_windows=50).fit(clips)
    assert detector.reference_windows_.shape == (50, 5 * detector.n_mels)
    assert detector.reference_windows_.dtype == np.float32


def test_short_clips_score():
    """Clips shorter than one window (the paper machine's) are padded, not refused."""
    rng = np.random.default_rng(4)
    clips = [0.1 * rng.standard_normal(400) for _ in range(10)]
    scores = WindowKNN(context=5).fit(clips[:6]).decision_function(clips[6:])
    assert scores.shape == (4,) and np.isfinite(scores).all()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"context": 0}, "context"),
        ({"window_hop": 0}, "window_hop"),
        ({"top_fraction": 0.0}, "top_fraction"),
        ({"max_windows": -1}, "max_windows"),
        ({"log": "ln"}, "log"),
    ],
)
def test_bad_parameters_fail_at_fit(params, message):
    with pytest.raises(ValueError, match=message):
        WindowKNN(**params).fit([np.zeros(4000), np.ones(4000)])


def test_one_clip_is_not_enough():
    with pytest.raises(ValueError, match="at least 2 training clips"):
        WindowKNN().fit([0.1 * np.random.default_rng(0).standard_normal(4000)])
