"""EventKNN (short events against the nearest normal frames), explain's conditional reference,
folds by recording and the ensemble's coverage (issue 22, items 3 and 4)."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from audioad import save
from audioad.detectors.ensemble import COVERAGE_LIMIT, CoverageWarning, Ensemble
from audioad.detectors.event_knn import EventKNN
from audioad.detectors.folds import group_folds, training_folds
from audioad.detectors.knn import MelKNN
from audioad.explain import explain

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import injections  # noqa: E402

SR = 16000
SECONDS = 6.0
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def machine_clip(rng, speed):
    """A machine at ``speed`` Hz: decaying harmonics whose speed wanders a little, and coloured noise."""
    n = int(SECONDS * SR)
    wander = 1.0 + 0.005 * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * np.arange(n) / SR + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(speed * wander) / SR
    clip = sum(0.3 / k * np.sin(k * phase + rng.uniform(0, 6)) for k in range(1, 25))
    noise = np.convolve(rng.standard_normal(n), np.ones(3) / 3, mode="same")
    return (0.2 * clip + 0.05 * noise).astype(np.float32)


@pytest.fixture(scope="module")
def motor():
    """Training clips at eight speeds, and new clips at speeds between them (another recording)."""
    rng = np.random.default_rng(7)
    train = [machine_clip(rng, speed) for speed in np.repeat(np.linspace(100, 135, 8), 2)]
    test = [machine_clip(rng, speed) for speed in np.linspace(102, 133, 10)]
    return train, test


@pytest.fixture(scope="module")
def fitted(motor):
    return EventKNN().fit([(clip, SR) for clip in motor[0]])


@pytest.mark.parametrize("kind", injections.EVENTS)
def test_a_2_s_event_at_10_db_in_band_is_flagged_in_new_recordings(fitted, motor, kind):
    _, test = motor
    clean = fitted.decision_function([(clip, SR) for clip in test])
    assert np.mean(clean > fitted.threshold_) <= 2 * fitted.contamination
    injected = [(injections.inject(clip, SR, kind, 10.0, seed=k), SR) for k, clip in enumerate(test)]
    assert np.mean(fitted.decision_function(injected) > fitted.threshold_) >= 0.9


def test_the_window_scores_say_when(fitted, motor):
    clip = injections.inject(motor[1][0], SR, "noise", 10.0)
    frames = fitted.frame_scores([(clip, SR)])[0]
    assert 2.0 <= frames.times[np.argmax(frames.scores)] <= 4.0
    assert fitted.decision_function([(clip, SR)])[0] == pytest.approx(frames.scores.max())


def test_clips_shorter_than_twice_the_longest_stretch_score_zero(fitted, motor):
    short = motor[1][0][: int(2.0 * SR)]
    assert fitted.min_clip_frames == 96
    assert fitted.decision_function([(short, SR)]).tolist() == [0.0]
    assert fitted.frame_scores([(short, SR)])[0].scores.max() > 0


@pytest.mark.parametrize("kind", injections.EVENTS)
def test_explain_finds_the_event_first_against_the_nearest_normal_frames(fitted, motor, kind):
    _, test = motor
    low, high = injections.event_band(kind)
    for k, clip in enumerate(test[:4]):
        injected = injections.inject(clip, SR, kind, 10.0, seed=k)
        first = explain(fitted, [(injected, SR)])[0].findings[0]
        assert first.change_db > 0
        assert first.start < 4.0 and first.end > 2.0, first
        assert first.low_hz < high and first.high_hz > low, first


def test_explain_gives_a_new_normal_recording_no_finding_above_10_db(fitted, motor):
    for explanation in explain(fitted, [(clip, SR) for clip in motor[1]]):
        assert all(finding.change_db <= 10.0 for finding in explanation.findings), explanation.summary()


def test_explain_gives_another_motor_lacking_a_harmonic_no_finding_above_10_db_and_still_finds_a_tone():
    """The training motor whines at 4 kHz at its low speed and not at its high one; another motor of
    its kind does not whine, and runs at the high speed for 2 s. Against its nearest normal frames
    the new motor lacks the whine most of the clip, so its 4 kHz band's median residual is low; taking
    it off read the 2 s at the high speed, where the nearest frames lack the whine too, as +13 dB."""
    rng = np.random.default_rng(7)
    n = int(SECONDS * SR)
    whine = (0.1 * np.sin(2 * np.pi * 4000 * np.arange(n) / SR)).astype(np.float32)
    train = [machine_clip(rng, 100) + whine for _ in range(6)] + [machine_clip(rng, 125) for _ in range(6)]
    detector = EventKNN().fit([(clip, SR) for clip in train])
    high = slice(int(2.5 * SR), int(4.5 * SR))
    test = []
    for _ in range(3):
        clip = machine_clip(rng, 100)
        clip[high] = machine_clip(rng, 125)[high]
        test.append(clip)
    for explanation in explain(detector, [(clip, SR) for clip in test]):
        assert all(finding.change_db <= 10.0 for finding in explanation.findings), explanation.summary()
    low, high = injections.event_band("tone")
    toned = [(injections.inject(clip, SR, "tone", 10.0, seed=k), SR) for k, clip in enumerate(test)]
    for explanation in explain(detector, toned):
        first = explanation.findings[0]
        assert first.change_db > 0 and first.low_hz < high and first.high_hz > low, explanation.summary()
        assert first.start < 4.0 and first.end > 2.0, explanation.summary()


def test_explain_of_the_default_uses_its_event_view(motor):
    from audioad.detectors.ensemble import default_detector
    from audioad.explain import event_view

    detector = default_detector().fit([(clip, SR) for clip in motor[0]])
    assert event_view(detector) is detector.members_[2]
    injected = injections.inject(motor[1][0], SR, "tone", 15.0)
    first = explain(detector, [(injected, SR)])[0].findings[0]
    assert 2.8e3 < first.high_hz and first.low_hz < 3.2e3 and first.start < 4.0 < first.end
    marginal = explain(detector, [(injected, SR)], conditional=False)[0]
    assert marginal.findings  # the marginal reference is still there when asked for


def test_the_deviation_map_says_which_reference_it_is_against(motor):
    """The map's colour bar read "dB from normal median" where it was dB from the nearest normal frames."""
    from audioad.plotting import plot_explanation

    detector = EventKNN().fit([(clip, SR) for clip in motor[0]])
    labels = {}
    for conditional in (True, False):
        [explanation] = explain(detector, [(motor[1][0], SR)], conditional=conditional)
        assert explanation.nearest == conditional
        figure = plot_explanation(explanation, sr=SR)
        labels[conditional] = {ax.get_ylabel() for ax in figure.axes}
    assert "dB from the nearest normal frames" in labels[True] and "dB from normal median" not in labels[True]
    assert "dB from normal median" in labels[False]


def test_a_twin_of_the_frame_detector_is_fitted_once_and_scores_from_its_windows(motor):
    clips = [(clip, SR) for clip in motor[0]]
    ensemble = Ensemble([MelKNN(), EventKNN()], combine="max", frame_detector=EventKNN()).fit(clips)
    assert ensemble.frame_twin_ == 1 and ensemble.members_[1] is ensemble.frame_detector_
    test = [(injections.inject(clip, SR, "clicks", 10.0), SR) for clip in motor[1][:3]]
    scored = ensemble.score_clips(test, frames=True)
    np.testing.assert_allclose(scored.scores, ensemble.decision_function(test))
    np.testing.assert_allclose(ensemble.held_out_scores_[:, 1], ensemble.frame_detector_.decision_scores_)


def test_event_knn_and_a_twin_ensemble_survive_a_model_file(motor, tmp_path):
    from audioad import load

    clips = [(clip, SR) for clip in motor[0]]
    test = [(injections.inject(clip, SR, "tone", 10.0), SR) for clip in motor[1][:3]]
    for detector in (EventKNN(), Ensemble([MelKNN(), EventKNN()], combine="max", frame_detector=EventKNN())):
        detector.fit(clips)
        path = save(detector, tmp_path / f"{type(detector).__name__}.audioad")
        loaded = load(path)
        np.testing.assert_array_equal(loaded.decision_function(test), detector.decision_function(test))
        assert [f.summary() for f in explain(loaded, test)] == [f.summary() for f in explain(detector, test)]


def test_folds_by_group_keep_each_recording_on_one_side():
    groups = ["r2", "r1", "r2", "r3", "r3", "r1", "r4", "r4"]
    folds = group_folds(groups, 2)
    for group in set(groups):
        assert len({fold for fold, g in zip(folds, groups) if g == group}) == 1
    assert training_folds(8, 2, ["one"] * 8).tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="groups must name"):
        training_folds(8, 2, ["a", "b"])


def test_fit_with_groups_holds_out_whole_recordings(motor):
    clips = [(clip, SR) for clip in motor[0]]
    groups = [f"speed {k % 8}" for k in range(len(clips))]  # each speed's two clips, far apart in the list
    detector = MelKNN().fit(clips, groups=groups)
    features = detector.features_of(clips)
    expected = MelKNN().held_out_scores(features, group_folds(groups, 5))
    np.testing.assert_allclose(detector.decision_scores_, expected)
    assert not hasattr(detector, "_fit_groups")
    with pytest.raises(ValueError, match="segment"):
        MelKNN().fit([motor[0][0]], segment="1s", groups=["a"])


def test_coverage_warns_where_held_out_recordings_lie_far_from_the_others():
    rng = np.random.default_rng(3)
    t = np.arange(SR // 2) / SR
    # Five steady recordings, each one tone, far apart: a recording's clips are alike, and a
    # recording held out is like none of the others.
    clips = [
        ((0.3 * np.sin(2 * np.pi * tone * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32), SR)
        for tone in (300, 700, 1500, 3000, 6000)
        for _ in range(8)
    ]
    with pytest.warns(CoverageWarning, match="do not cover each other"):
        separate = Ensemble([MelKNN()]).fit(clips)
    assert separate.coverage_ > COVERAGE_LIMIT and "calibration recordings" in separate.coverage_message_
    mixed = [clips[i] for i in np.argsort(np.arange(len(clips)) % 8, kind="stable")]  # recordings interleaved
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoverageWarning)
        covered = Ensemble([MelKNN()]).fit(mixed)
    assert covered.coverage_ < COVERAGE_LIMIT and covered.coverage_message_ == ""


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not found")
def test_on_the_shared_recordings_split_in_time():
    from local_events import real_split

    for name in ("bldc_motor", "fan"):
        train, test = real_split(SHARED_DATA / name, name)
        detector = EventKNN().fit([(w, SR) for w in train])
        clean = detector.decision_function([(w, SR) for w in test]) > detector.threshold_
        assert clean.mean() <= 0.3, name
        kinds = injections.EVENTS if name == "fan" else ("noise",)
        for kind in kinds:
            injected = [(injections.inject(w, SR, kind, 10.0, seed=k), SR) for k, w in enumerate(test)]
            assert np.mean(detector.decision_function(injected) > detector.threshold_) >= 0.9, (name, kind)
            n = len(test[0]) / SR
            firsts = [e.findings[0] for e in explain(detector, injected)]
            low, high = injections.event_band(kind)
            on_event = [
                f.start < n / 2 + 1 and f.end > n / 2 - 1 and f.low_hz < high and f.high_hz > low for f in firsts
            ]
            assert np.mean(on_event) >= 0.9, (name, kind)
