"""PyOD's detector contract on lists of clips, for every detector of PyOD's audio API."""

import pickle
import warnings

import numpy as np
import pytest
import soundfile as sf
from conftest import REGISTRY, SR, small_detector
from sklearn.base import clone

from audioad import AudioAE, AudioInputError, AudioInputWarning, EmbeddingOD, Ensemble, auc
from audioad.detectors.ensemble import far_out_fence


@pytest.fixture(scope="module", params=REGISTRY)
def fitted(request, machine):
    train, _, _ = machine
    return small_detector(request.param).fit(train)


def as_forms(paths):
    """The same clips as paths, 1-D arrays, int16 stereo arrays and (waveform, rate) tuples."""
    waves = [sf.read(p, dtype="float32")[0] for p in paths]
    stereo_pcm = [np.round(np.stack([w, w]) * 32767).astype(np.int16) for w in waves]
    return {
        "paths": list(paths),
        "arrays": waves,
        "int16 stereo": stereo_pcm,
        "tuples at 8 kHz": [(w[::2], SR // 2) for w in waves],
    }


def test_fit_sets_pyod_attributes(fitted, machine):
    train, _, _ = machine
    assert fitted.decision_scores_.shape == (len(train),)
    assert np.isfinite(fitted.decision_scores_).all()
    assert fitted.labels_.shape == (len(train),)
    assert set(np.unique(fitted.labels_)) <= {0, 1}
    # PyOD's rule: the contamination quantile of the training scores (an ensemble's at most their far-out fence).
    expected = np.percentile(fitted.decision_scores_, 90)
    if isinstance(fitted, Ensemble):
        expected = min(expected, far_out_fence(fitted.decision_scores_))
    assert fitted.threshold_ == pytest.approx(expected)


def test_separates_anomalies(fitted, machine):
    _, test, labels = machine
    if type(fitted).__name__ == "EventKNN":
        # It hears what happens for a moment against the rest of the clip, by design not a fault the
        # whole clip holds (a steady tone, a resonance): judged on the clicks, against normal clips.
        kept = [i for i, (path, label) in enumerate(zip(test, labels)) if label == 0 or "clicks" in str(path)]
        test, labels = [test[i] for i in kept], [labels[i] for i in kept]
    assert auc(labels, fitted.decision_function(test)) > 0.8


@pytest.mark.parametrize("form", ["paths", "arrays", "int16 stereo", "tuples at 8 kHz"])
def test_every_method_on_every_form(fitted, machine, form):
    _, test, _ = machine
    clips = as_forms(test[:4])[form]
    scores = fitted.decision_function(clips)
    assert scores.shape == (4,) and np.isfinite(scores).all()
    labels = fitted.predict(clips)
    np.testing.assert_array_equal(labels, (scores > fitted.threshold_).astype(int))
    labels2, confidence = fitted.predict(clips, return_confidence=True)
    np.testing.assert_array_equal(labels, labels2)
    assert ((confidence >= 0) & (confidence <= 1)).all()
    for method in ("linear", "unify"):
        proba = fitted.predict_proba(clips, method=method)
        assert proba.shape == (4, 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert ((proba >= 0) & (proba <= 1)).all()
    proba, confidence2 = fitted.predict_proba(clips, return_confidence=True)
    np.testing.assert_allclose(confidence, confidence2)
    np.testing.assert_allclose(fitted.predict_confidence(clips), confidence)


def test_forms_agree_where_the_waveform_is_the_same(fitted, machine):
    _, test, _ = machine
    forms = as_forms(test[:3])
    np.testing.assert_allclose(
        fitted.decision_function(forms["paths"]), fitted.decision_function(forms["arrays"]), rtol=1e-5
    )


def test_linear_probability_matches_pyod_rule(fitted, machine):
    _, test, _ = machine
    scores = fitted.decision_function(test)
    low, high = fitted.decision_scores_.min(), fitted.decision_scores_.max()
    expected = np.clip((scores - low) / (high - low), 0, 1)
    np.testing.assert_allclose(fitted.predict_proba(test)[:, 1], expected)


def test_confidence_matches_pyod(fitted, machine):
    """Same ExCeeD confidence as PyOD's BaseDetector, which calls decision_function again."""
    from pyod.models.base import BaseDetector

    _, test, _ = machine
    expected = BaseDetector.predict_confidence(fitted, test)
    np.testing.assert_allclose(fitted.predict_confidence(test), expected)


def test_fit_predict_returns_training_labels(machine):
    train, _, _ = machine
    detector = EmbeddingOD.for_audio("balanced", sr=SR)
    np.testing.assert_array_equal(detector.fit_predict(train), detector.labels_)


@pytest.mark.parametrize("name", REGISTRY)
def test_clone_and_params_round_trip(name):
    detector = small_detector(name)
    params = detector.get_params(deep=False)
    copy = clone(detector)
    assert copy.get_params(deep=False).keys() == params.keys()
    assert copy is not detector
    copy.set_params(contamination=0.2)
    assert copy.contamination == 0.2 and detector.contamination == 0.1


def test_same_random_state_same_scores(machine):
    pytest.importorskip("torch")
    train, test, _ = machine
    for make in (
        lambda: AudioAE(sr=SR, epoch_num=2, batch_size=256, random_state=7),
        lambda: EmbeddingOD.for_audio("fast", sr=SR, random_state=7),
    ):
        np.testing.assert_array_equal(
            make().fit(train).decision_function(test), make().fit(train).decision_function(test)
        )


def test_fitted_detector_pickles(fitted, machine):
    _, test, _ = machine
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(copy.decision_function(test[:3]), fitted.decision_function(test[:3]))


def test_frame_scores_of_window_detectors(machine):
    pytest.importorskip("torch")
    train, test, _ = machine
    detector = AudioAE(sr=SR, epoch_num=2, batch_size=256).fit(train)
    frames = detector.frame_scores(test[:3])
    scores = detector.decision_function(test[:3])
    assert len(frames) == 3
    for clip_frames, clip_score in zip(frames, scores):
        assert clip_frames.times[0] == 0 and np.all(np.diff(clip_frames.times) == pytest.approx(512 / SR))
        # The clip score is the mean of its window scores.
        assert clip_frames.scores.mean() == pytest.approx(clip_score)


def test_frame_scores_refused_by_clip_detectors(machine):
    train, test, _ = machine
    detector = EmbeddingOD.for_audio("balanced", sr=SR).fit(train)
    with pytest.raises(TypeError, match="whole clips"):
        detector.frame_scores(test[:1])


@pytest.mark.parametrize("on_error", ["raise", "skip", "nan"])
def test_on_error(fitted, machine, tmp_path, on_error):
    _, test, _ = machine
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    clips = [test[0], str(broken), test[1], np.array([np.nan, 1.0])]
    if on_error == "raise":
        with pytest.raises(AudioInputError, match=r"clip 1 \(.*broken.wav\)"):
            fitted.decision_function(clips, on_error=on_error)
        return
    state_before = dict(vars(fitted))
    with pytest.warns(AudioInputWarning, match="2 of 4 clips") as record:
        scores = fitted.decision_function(clips, on_error=on_error)
    errors = record[0].message.errors
    assert [e.index for e in errors] == [1, 3]
    assert "NaN" in errors[1].cause
    assert vars(fitted).keys() == state_before.keys()  # scoring writes nothing on the detector
    good = fitted.decision_function([test[0], test[1]])
    if on_error == "skip":
        np.testing.assert_allclose(scores, good)
    else:
        np.testing.assert_allclose(scores[[0, 2]], good)
        assert np.isnan(scores[[1, 3]]).all()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioInputWarning)
            assert fitted.predict(clips, on_error="nan").tolist()[1] == -1


def test_lone_clip_is_refused(fitted, machine):
    _, test, _ = machine
    with pytest.raises(TypeError, match="list of clips"):
        fitted.decision_function(test[0])
    with pytest.raises(ValueError, match="no clips"):
        fitted.decision_function([])


def test_bad_parameters_fail_at_fit(machine):
    pytest.importorskip("torch")
    train, _, _ = machine
    with pytest.raises(ValueError, match="score"):
        AudioAE(score="cosine").fit(train)
    with pytest.raises(ValueError, match="threshold_rule"):
        EmbeddingOD(threshold_rule="otsu").fit(train)
    with pytest.raises(ValueError, match="encoder"):
        EmbeddingOD(encoder="all-MiniLM-L6-v2").fit(train)


def test_gamma_threshold_rule(machine):
    from audioad.thresholds import gamma_threshold

    train, _, _ = machine
    detector = EmbeddingOD.for_audio("balanced", sr=SR, threshold_rule="gamma").fit(train)
    assert detector.threshold_ == pytest.approx(gamma_threshold(detector.decision_scores_))


def test_callable_encoder(machine):
    train, test, _ = machine
    detector = EmbeddingOD(encoder=lambda waves: np.array([[w.std(), np.abs(w).max()] for w in waves]), detector="KNN")
    assert detector.fit(train).decision_function(test).shape == (len(test),)


@pytest.mark.parametrize("name", REGISTRY)
def test_fitting_and_scoring_leave_the_global_generators_alone(name, machine):
    """No process-wide side effects: numpy's and torch's global generators are as they were."""
    train, test, _ = machine
    detector = small_detector(name)
    numpy_state = np.random.get_state()
    torch = pytest.importorskip("torch") if "epoch_num" in detector.get_params() else None
    torch_state = torch.get_rng_state() if torch else None
    detector.fit(train).decision_function(test[:2])
    after = np.random.get_state()
    assert numpy_state[0] == after[0] and np.array_equal(numpy_state[1], after[1]) and numpy_state[2:] == after[2:]
    if torch:
        assert torch.equal(torch.get_rng_state(), torch_state)
