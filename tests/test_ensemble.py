"""Tests for Ensemble (members standardised on held-out folds) and default_detector."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from audioad.datasets import make_machine_sounds
from audioad.detectors.ensemble import Ensemble, default_detector, far_out_fence
from audioad.detectors.folds import clips_of
from audioad.detectors.knn import MelKNN
from audioad.detectors.mahalanobis import MelMahalanobis
from audioad.detectors.window_knn import WindowKNN


@pytest.fixture(scope="module")
def fitted_default(pump):
    return default_detector().fit(pump[0])


def test_default_separates_loud_anomalies(pump, fitted_default):
    _, test, labels = pump
    assert roc_auc_score(labels, fitted_default.decision_function(test)) >= 0.95
    assert [(m.pooling, m.metric) for m in fitted_default.members_[:2]] == [
        ("mean", "mahalanobis"),
        ("delta_std", "mahalanobis"),
    ]
    assert type(fitted_default.members_[2]).__name__ == "EventKNN"
    assert type(fitted_default.frame_detector_).__name__ == "WindowKNN"


def test_default_needs_no_torch():
    assert all(type(m).__module__.split(".")[-1] != "idnn" for m in default_detector().members)
    assert not any(hasattr(m, "epoch_num") for m in default_detector().members)


def test_default_scores_are_the_larger_standardised_member_score(pump, fitted_default):
    _, test, _ = pump
    raw = np.column_stack([m.decision_function(test) for m in fitted_default.members_])
    standardised = (raw - fitted_default.member_centers_) / fitted_default.member_scales_
    expected = standardised[:, fitted_default.member_informative_].max(axis=1)
    np.testing.assert_allclose(fitted_default.decision_function(test), expected)


def test_held_out_scores_standardise_each_member(fitted_default):
    held_out = fitted_default.held_out_scores_
    assert held_out.shape == (20, 3)
    np.testing.assert_allclose(fitted_default.member_centers_, np.median(held_out, axis=0))
    standardised = (held_out - fitted_default.member_centers_) / fitted_default.member_scales_
    informative = fitted_default.member_informative_
    np.testing.assert_allclose(fitted_default.decision_scores_, standardised[:, informative].max(axis=1))


def test_the_frame_detector_says_when_and_has_no_say_in_the_score(pump, fitted_default):
    _, test, _ = pump
    scored = fitted_default.score_clips(test[:3], frames=True)
    np.testing.assert_array_equal(scored.scores, fitted_default.decision_function(test[:3]))
    alone = fitted_default.frame_detector_.frame_scores(test[:3])
    for frames, expected in zip(scored.frames, alone):
        np.testing.assert_array_equal(frames.scores, expected.scores)
        np.testing.assert_allclose(frames.times, expected.times)
    assert fitted_default.window_hop_seconds == pytest.approx(2 * 512 / 16000)
    without = Ensemble(fitted_default.members).fit(pump[0][:6])
    assert not without.scores_windows
    with pytest.raises(TypeError, match="scores whole clips"):
        without.frame_scores(test[:1])


def test_the_window_threshold_is_exceeded_by_few_held_out_normal_windows(pump, fitted_default):
    train, test, labels = pump
    assert fitted_default.window_false_alarm_rate_ == 0.01
    normal = [clip for clip, label in zip(test, labels) if label == 0]
    windows = np.concatenate([f.scores for f in fitted_default.frame_scores(normal)])
    # 1 % of held-out training windows; new normal clips of the same machine stay near it
    assert np.mean(windows > fitted_default.window_threshold_) < 0.05
    # The training clips' last fold is the target domain, heard in no other fold: its clips score far
    # above the rest and their windows are left out, so that windows of loud faults stand above the
    # threshold rather than under it.
    odd = [clip for clip, label in zip(test, labels) if label == 1]
    odd_windows = np.concatenate([f.scores for f in fitted_default.frame_scores(odd)])
    assert np.mean(odd_windows > fitted_default.window_threshold_) > 0.5


def test_a_condition_heard_in_one_fold_only_does_not_set_the_clip_threshold(tmp_path):
    # A fifth of the training clips in the target domain, listed together: one held-out fold holds them all.
    table = make_machine_sounds(
        tmp_path, machines=("fan",), n_sections=1, n_train=30, n_test_normal=10, n_test_anomaly=10,
        duration=1.0, target_fraction=0.2, anomaly_strength=2.0, random_state=0,
    )  # fmt: skip
    detector = default_detector().fit(table.filter(split="train").paths)
    held_out = detector.decision_scores_
    fence = far_out_fence(held_out)
    assert np.percentile(held_out, 90) > fence  # PyOD's quantile would lie among the target clips' scores
    assert detector.threshold_ == fence and np.mean(detector.labels_) > 0.1
    test = table.filter(split="test")
    flagged = detector.predict(test.paths)
    labels = np.asarray(test.labels)
    assert np.mean(flagged[labels == 0]) <= 0.2 and np.mean(flagged[labels == 1]) >= 0.8


def test_a_member_whose_held_out_scores_do_not_vary_has_no_say():
    rng = np.random.default_rng(0)
    # one frame each (shorter than two hops): no frame-to-frame change to pool, every delta_std vector is 0
    clips = [(0.1 * rng.standard_normal(480), 16000) for _ in range(12)]
    detector = default_detector().set_params(frame_detector=None).fit(clips[:9])
    assert detector.member_informative_.tolist() == [True, False, False]
    raw = detector.members_[0].decision_function(clips[9:])
    expected = (raw - detector.member_centers_[0]) / detector.member_scales_[0]
    np.testing.assert_allclose(detector.decision_function(clips[9:]), expected)


def test_frame_detector_parameters_are_nested_and_shared_settings_reach_it():
    detector = default_detector(frame_detector__top_fraction=0.2, hop_length=256)
    params = detector.get_params()
    assert params["frame_detector__top_fraction"] == 0.2
    assert params["frame_detector__hop_length"] == params["mel_knn_1__hop_length"] == 256
    with pytest.raises(ValueError, match="frame_detector must be a detector that scores windows"):
        Ensemble([MelKNN()], frame_detector=MelKNN()).fit([np.zeros(4000)] * 4)
    with pytest.raises(ValueError, match="one sr"):
        Ensemble([MelKNN()], frame_detector=WindowKNN(sr=8000)).fit([np.zeros(4000)] * 4)


@pytest.mark.parametrize("template", [MelKNN(), WindowKNN(context=3, max_windows=10**6), MelMahalanobis(n_mels=32)])
def test_held_out_scores_come_from_models_that_never_saw_the_fold(pump, template):
    """Each fold scored by a member fitted, standardisation included, on the other folds alone."""
    train = pump[0]
    ensemble = Ensemble([template], n_folds=4).fit(train)
    column = [clip[0] for clip in ensemble.features_of(train)]
    column = np.stack(column) if column[0].ndim == 1 else column
    folds = np.arange(len(train)) * 4 // len(train)
    for fold in range(4):
        inside = np.flatnonzero(folds != fold)
        alone = clone(template).fit_features(clips_of(column, inside))
        expected = alone.score_features(clips_of(column, np.flatnonzero(folds == fold)))
        np.testing.assert_array_equal(ensemble.held_out_scores_[folds == fold, 0], expected)


def test_max_and_zscore(pump):
    train, test, labels = pump
    members = [MelKNN(), MelMahalanobis(n_mels=32)]
    detector = Ensemble(members, combine="max", normalize="zscore", n_folds=4).fit(train)
    np.testing.assert_allclose(detector.member_centers_, detector.held_out_scores_.mean(axis=0))
    raw = np.column_stack([m.decision_function(test) for m in detector.members_])
    expected = ((raw - detector.member_centers_) / detector.member_scales_).max(axis=1)
    np.testing.assert_allclose(detector.decision_function(test), expected)
    assert roc_auc_score(labels, expected) >= 0.9


def test_clone_get_params_and_kwargs():
    detector = default_detector(contamination=0.05, n_folds=3)
    params = detector.get_params()
    assert params["contamination"] == 0.05 and params["n_folds"] == 3
    twin = clone(detector)
    assert [type(m) for m in twin.members] == [type(m) for m in detector.members]
    assert twin.members[0] is not detector.members[0]
    assert twin.sr == 16000


def test_same_inputs_same_scores(pump):
    train, test, _ = pump

    def scores():
        members = [MelKNN(), WindowKNN(max_windows=200, random_state=3)]
        return Ensemble(members).fit(train).decision_function(test)

    np.testing.assert_array_equal(scores(), scores())


def test_members_are_left_unfitted(pump):
    members = [MelKNN(), MelMahalanobis(n_mels=32)]
    Ensemble(members).fit(pump[0])
    assert not any(hasattr(m, "decision_scores_") for m in members)


def test_short_clips_score():
    """Clips shorter than one FFT frame (the paper machine's) are scored, not refused."""
    rng = np.random.default_rng(0)
    clips = [0.1 * rng.standard_normal(400) for _ in range(16)]
    scores = default_detector().fit(clips[:10]).decision_function(clips[10:])
    assert scores.shape == (6,) and np.isfinite(scores).all()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Ensemble([]), "members"),
        (lambda: Ensemble([MelKNN(), object()]), "members"),
        (lambda: Ensemble([MelKNN(sr=16000), MelMahalanobis(sr=22050)]), "one sr"),
        (lambda: Ensemble([MelKNN()], combine="median"), "combine"),
        (lambda: Ensemble([MelKNN()], normalize="minmax"), "normalize"),
        (lambda: Ensemble([MelKNN()], n_folds=1), "n_folds"),
        (lambda: Ensemble([MelKNN(n_neighbors=0)]), "n_neighbors"),
    ],
)
def test_bad_parameters_fail_at_fit(make, message):
    clips = [np.random.default_rng(s).standard_normal(4000) for s in range(6)]
    with pytest.raises(ValueError, match=message):
        make().fit(clips)


def test_too_few_clips_say_so():
    clips = [np.random.default_rng(s).standard_normal(4000) for s in range(2)]
    with pytest.raises(ValueError, match="at least 3 training clips"):
        default_detector().fit(clips)


def test_members_with_the_same_log_mel_settings_share_one_spectrogram(pump, monkeypatch):
    import audioad.detectors.frontend as frontend_module

    calls, log_mel_many = [], frontend_module.log_mel_many

    def counting_log_mel_many(waves, **settings):
        calls.append(settings["n_mels"])
        return log_mel_many(waves, **settings)

    monkeypatch.setattr(frontend_module, "log_mel_many", counting_log_mel_many)
    members = [MelKNN(pooling="mean"), MelKNN(pooling="delta_std"), WindowKNN(context=3), MelKNN(n_mels=32)]
    shared = Ensemble(members, n_folds=4).fit(pump[0])
    assert calls == [128, 32]  # one chunk of clips, two distinct front ends
    # The same features each member would compute alone.
    alone = [clone(m).fit(pump[0]).decision_function(pump[1]) for m in members]
    for member, expected in zip(shared.members_, alone):
        np.testing.assert_array_equal(member.decision_function(pump[1]), expected)


def test_fitting_leaves_the_callers_members_untouched(pump):
    from audioad import EmbeddingOD

    members = [MelKNN(), WindowKNN(context=3), EmbeddingOD.for_audio("balanced", sr=16000)]
    before = [dict(vars(member)) for member in members]
    detector = Ensemble(members, n_folds=4).fit(pump[0])
    assert [dict(vars(member)) for member in members] == before
    assert all(fitted is not member for fitted, member in zip(detector.members_, members))


def test_the_ensembles_n_jobs_bounds_its_members_threads():
    assert {frontend.workers for frontend in default_detector(n_jobs=1).frontend.frontends} == {1}
    assert {frontend.workers for frontend in default_detector().frontend.frontends} == {None}
