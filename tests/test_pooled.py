"""Tests for the training-free detectors on pooled log-mel statistics: MelKNN, MelMahalanobis, MelGMM."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from audioad.detectors.gmm import MelGMM
from audioad.detectors.knn import MelKNN, nearest_distances
from audioad.detectors.mahalanobis import MelMahalanobis
from audioad.detectors.pooled import POOLED_STATISTICS, PooledMelDetector, pool

DETECTORS = [
    MelKNN,
    lambda: MelKNN(pooling=("mean", "max", "std"), n_neighbors=2, method="mean"),
    MelMahalanobis,
    lambda: MelMahalanobis(pooling="gwrp", shrinkage=0.5),
    lambda: MelKNN(pooling=("mean", "delta_std")),
    lambda: MelKNN(metric="mahalanobis", reg_covar=0.3),
    MelGMM,
    MelGMM.twfr,
]


@pytest.mark.parametrize("make", DETECTORS)
def test_separates_loud_anomalies(pump, make):
    train, test, labels = pump
    detector = make().fit(train)
    assert detector.decision_scores_.shape == (len(train),)
    assert roc_auc_score(labels, detector.decision_function(test)) >= 0.9
    assert set(np.unique(detector.predict(test))) <= {0, 1}


@pytest.mark.parametrize("make", DETECTORS)
def test_clone_and_params(make):
    detector = make()
    params = detector.get_params()
    assert {"sr", "n_fft", "hop_length", "n_mels", "pooling", "decay"} <= set(params)
    twin = clone(detector)
    assert twin.get_params() == params
    assert twin.set_params(n_mels=32).n_mels == 32


def test_same_random_state_same_scores(pump):
    train, test, _ = pump
    first = MelGMM(n_components=2, random_state=3).fit(train).decision_function(test)
    second = MelGMM(n_components=2, random_state=3).fit(train).decision_function(test)
    np.testing.assert_array_equal(first, second)


def test_knn_training_scores_are_held_out_and_a_twin_is_at_distance_zero():
    rng = np.random.default_rng(0)
    clips = [0.1 * rng.standard_normal(4000) for _ in range(6)]
    detector = MelKNN().fit(clips + clips[:1])
    # Folds [0 0 1 1 2 3 4]: the duplicated clip and its twin sit in different folds and find
    # each other, exactly; the others do not find themselves.
    assert detector.decision_scores_[0] == 0.0 and detector.decision_scores_[6] == 0.0
    assert np.all(detector.decision_scores_[1:6] > 0)


@settings(max_examples=30, deadline=None)
@given(
    n_queries=st.integers(1, 40),
    n_features=st.sampled_from([1, 7, 128, 640]),
    n_neighbors=st.integers(1, 3),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_nearest_distances_are_exact_and_do_not_depend_on_the_batch(
    n_queries, n_features, n_neighbors, scale, seed, data
):
    """Each query's distances are the float64 distances to its true nearest references, bit for bit
    the same alone or in any batch; twins are at distance 0 (issue 13)."""
    rng = np.random.default_rng(seed)
    references = (scale * rng.standard_normal((50, n_features))).astype(np.float32)
    queries = (scale * rng.standard_normal((n_queries, n_features))).astype(np.float32)
    queries[0] = references[3]  # a twin
    together = nearest_distances(queries, references, n_neighbors)
    subset = data.draw(st.lists(st.integers(0, n_queries - 1), min_size=1, max_size=n_queries))
    np.testing.assert_array_equal(nearest_distances(queries[subset], references, n_neighbors), together[subset])
    exact = np.sqrt(((queries[:, None, :].astype(np.float64) - references[None].astype(np.float64)) ** 2).sum(-1))
    np.testing.assert_allclose(together, np.sort(exact, axis=1)[:, :n_neighbors], rtol=1e-12)
    assert together[0, 0] == 0.0


def test_nearest_distances_excludes_own_group():
    points = np.array([[0.0], [0.5], [2.0], [5.0]])
    groups = np.array([0, 0, 1, 1])
    distances = nearest_distances(points, points, 1, groups, groups)
    np.testing.assert_allclose(distances.ravel(), [2.0, 1.5, 1.5, 4.5])


def test_delta_std_hears_fluctuation_the_mean_misses():
    """A tone beating at 15 Hz against the same tone steady: the fluctuation view tells them apart."""
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    steady = [np.sin(2 * np.pi * 500 * t + rng.uniform(0, 6)) + 0.05 * rng.standard_normal(16000) for _ in range(14)]
    beating = [
        np.sqrt(2) * np.abs(np.sin(2 * np.pi * 7.5 * t)) * np.sin(2 * np.pi * 500 * t)
        + 0.05 * rng.standard_normal(16000)
        for _ in range(4)
    ]
    labels = [0] * 4 + [1] * 4
    detector = MelKNN(pooling="delta_std").fit(steady[:10])
    assert roc_auc_score(labels, detector.decision_function(steady[10:] + beating)) == 1.0


def test_mahalanobis_knn_hears_a_new_tone_among_many_speeds(tmp_path):
    """Normal clips at many speeds: their harmonics sweep the bands together. A steady tone between
    harmonics is a change no normal clip shows; the Mahalanobis metric finds it, the Euclidean one less."""
    from audioad.datasets import make_machine_sounds

    table = make_machine_sounds(
        tmp_path,
        machines=("fan",),
        n_sections=1,
        n_train=40,
        n_test_normal=10,
        n_test_anomaly=10,
        duration=1.0,
        anomaly_kinds=("tone", "resonance"),
        speed_spread=0.12,
        random_state=0,
    )
    train, test = table.filter(split="train"), table.filter(split="test")
    euclidean = MelKNN().fit(train.paths).decision_function(test.paths)
    mahalanobis = MelKNN(metric="mahalanobis").fit(train.paths).decision_function(test.paths)
    assert roc_auc_score(test.labels, mahalanobis) > roc_auc_score(test.labels, euclidean)
    assert roc_auc_score(test.labels, mahalanobis) >= 0.9


def test_pool_names_and_one_frame_clips():
    spec = np.array([[0.0, 2.0, 1.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(pool(spec, "delta_std"), [np.std([2.0, -1.0, 2.0]), 0.0])
    np.testing.assert_allclose(pool(spec[:, :1], "delta_std"), [0.0, 0.0])
    assert set(POOLED_STATISTICS) >= {"mean", "max", "std", "gwrp", "delta_std", "delta_gwrp"}


def test_pooled_vector_layout():
    clips = [np.random.default_rng(s).standard_normal(8000) for s in range(4)]
    detector = MelMahalanobis(n_mels=16, pooling=("mean", "max")).fit(clips)
    assert detector.n_features_ == 32
    assert detector.precision_.shape == (32, 32)
    assert 0.0 <= detector.shrinkage_ <= 1.0


def test_unshrunk_covariance_of_few_clips():
    """Fewer clips than values and no shrinkage: a singular covariance still gives scores."""
    clips = [np.random.default_rng(s).standard_normal(8000) for s in range(6)]
    detector = MelMahalanobis(n_mels=16, shrinkage=0.0).fit(clips[:4])
    assert detector.shrinkage_ == 0.0
    assert np.isfinite(detector.decision_function(clips[4:])).all()


def test_short_clips_score():
    """Clips shorter than one FFT frame (the paper machine's) still give finite scores."""
    rng = np.random.default_rng(0)
    clips = [0.1 * rng.standard_normal(400) for _ in range(12)]
    for detector in (MelKNN(), MelMahalanobis(), MelGMM()):
        scores = detector.fit(clips[:8]).decision_function(clips[8:])
        assert np.isfinite(scores).all()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MelKNN(pooling="median"), "pooling"),
        (lambda: MelKNN(pooling=("mean", "mean")), "pooling"),
        (lambda: MelKNN(n_neighbors=0), "n_neighbors"),
        (lambda: MelKNN(method="median"), "method"),
        (lambda: MelKNN(metric="cosine"), "metric"),
        (lambda: MelKNN(metric="mahalanobis", reg_covar=0.0), "reg_covar"),
        (lambda: MelMahalanobis(shrinkage=2.0), "shrinkage"),
        (lambda: MelGMM(covariance_type="circle"), "covariance_type"),
        (lambda: MelGMM(decay=1.5), "decay"),
        (lambda: MelGMM(n_mels=0), "n_mels"),
    ],
)
def test_bad_parameters_fail_at_fit(make, message):
    detector = make()
    with pytest.raises(ValueError, match=message):
        detector.fit([np.zeros(4000), np.ones(4000)])


def test_too_few_clips_say_so():
    with pytest.raises(ValueError, match="at least 2 training clips"):
        MelKNN(n_neighbors=2).fit([np.random.default_rng(0).standard_normal(4000)])


def test_no_frame_scores():
    clips = [np.random.default_rng(s).standard_normal(4000) for s in range(4)]
    with pytest.raises(TypeError, match="no frame scores"):
        MelKNN().fit(clips).frame_scores(clips)


def test_base_is_abstract():
    clips = [np.random.default_rng(s).standard_normal(4000) for s in range(4)]
    with pytest.raises(NotImplementedError):
        PooledMelDetector().fit(clips)


@pytest.mark.parametrize("make", [MelMahalanobis, MelGMM])
def test_training_scores_are_held_out_so_new_normal_clips_pass(pump, make):
    # 20 clips of 384 values: in-sample, a fitted covariance hugs its own clips, and a threshold
    # from their scores flagged every new normal clip.
    train, test, labels = pump
    detector = make().fit(train)
    normal = [clip for clip, label in zip(test, labels) if label == 0]
    assert detector.predict(normal).mean() <= 0.25
    features = detector.features_of(train)
    folds = np.arange(len(train)) * 5 // len(train)
    np.testing.assert_array_equal(detector.decision_scores_, detector.held_out_scores(features, folds))
    in_sample = detector.score_features(features)
    assert np.median(detector.decision_scores_) > np.median(in_sample)
