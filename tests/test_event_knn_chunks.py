"""EventKNN on long clips (chunks of time bound its memory and do not change its scores) and the
variants benchmarks/event_variants.py measures, as parameters (issue 22)."""

import tracemalloc

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d
from scipy.stats import norm

from audioad.detectors import event_knn
from audioad.detectors.event_knn import EventKNN, frame_residuals

N_MELS = 128


def machine_spec(rng, n_frames, speed):
    """A log-mel spectrogram in dB: harmonics of ``speed`` (a band index) and flickering noise."""
    bands = np.arange(N_MELS)[:, None]
    harmonics = sum(12.0 * np.exp(-0.5 * ((bands - k * speed) / 1.5) ** 2) for k in range(1, 6))
    return (harmonics - 60.0 + 2.0 * rng.standard_normal((N_MELS, n_frames))).astype(np.float32)


@pytest.fixture(scope="module")
def fitted():
    return EventKNN().fit_features(fitted_specs())


@pytest.fixture(scope="module")
def long_spec():
    """Two minutes of frames, a 2 s event in one band near the end."""
    spec = machine_spec(np.random.default_rng(4), 3750, 10.3)
    spec[70, 3000:3060] += 6.0
    return spec


def whole_clip_series(detector, spec):
    """The per-frame scores computed on the whole clip at once: every frame searched, every stretch in one array."""
    frames = detector._frames(spec)
    keys = (detector._keys(frames), detector._reference_keys)
    residuals = frame_residuals(frames, detector.reference_frames_, keys, detector.n_neighbors).astype(np.float64)
    residuals -= np.median(residuals, axis=0)
    residuals -= np.median(residuals, axis=1, keepdims=True)
    z = residuals.T / detector.residual_scale_[:, None]
    quantile = event_knn.FLICKER_QUANTILE
    flicker = np.quantile(np.abs(np.diff(z, axis=1)), quantile, axis=1) / (np.sqrt(2.0) * norm.ppf(0.5 + quantile / 2))
    offset = (spec.shape[1] - len(frames)) // 2
    series = np.zeros(spec.shape[1])
    for j, (bands, length) in enumerate(detector.scales):
        running = np.concatenate([np.zeros((len(z), 1)), np.cumsum(z, axis=1)], axis=1)
        means = (running[:, length:] - running[:, :-length]) / length
        means = uniform_filter1d(means, bands, axis=0, mode="nearest")
        banded = np.sqrt(uniform_filter1d(flicker**2, bands, mode="nearest") / bands)
        spread = np.maximum(detector.stretch_scale_[j], detector.flicker_ratio_[j] * banded)
        start = offset + length // 2
        view = series[start : start + means.shape[1]]
        np.maximum(view, np.abs(means / spread[:, None]).max(axis=0), out=view)
    return series


def test_a_long_clip_scores_as_computed_on_the_whole_clip_at_once(fitted, long_spec, monkeypatch):
    monkeypatch.setattr(event_knn, "_CHUNK_FRAMES", 500)
    series = fitted.window_scores([long_spec])[0]
    assert np.argmax(series) == pytest.approx(3030, abs=30)
    np.testing.assert_allclose(series, whole_clip_series(fitted, long_spec), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("chunk, block, bands", [(1, 7, 1), (97, 500, 3), (1000, 2048, 128)])
def test_scores_do_not_depend_on_the_chunk_sizes(fitted, long_spec, monkeypatch, chunk, block, bands):
    reference = fitted.window_scores([long_spec])[0]
    residuals, spreads, band_offsets = fitted.departures(long_spec)
    monkeypatch.setattr(event_knn, "_CHUNK_FRAMES", chunk)
    monkeypatch.setattr(event_knn, "_FRAME_BLOCK", block)
    monkeypatch.setattr(event_knn, "_BAND_BLOCK", bands)
    np.testing.assert_allclose(fitted.window_scores([long_spec])[0], reference, rtol=1e-9, atol=1e-12)
    chunked = fitted.departures(long_spec)
    np.testing.assert_array_equal(chunked[0], residuals)
    np.testing.assert_allclose(chunked[1], spreads, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(chunked.band_offsets, band_offsets)


def peak_bytes(call):
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_scoring_a_long_clip_holds_little_more_than_its_residuals(fitted):
    spec = machine_spec(np.random.default_rng(5), 40_000, 10.0)  # 21 minutes at the default hop
    peak = peak_bytes(lambda: fitted.window_scores([spec]))
    # One float32 residual array of the clip's size, and chunks of a few megabytes.
    assert peak < 1.5 * spec.nbytes + 20e6, peak / spec.nbytes


def test_fitting_does_not_copy_every_training_frame():
    rng = np.random.default_rng(6)
    specs = [machine_spec(rng, 160, speed) for speed in np.linspace(8, 12, 1000)]
    peak = peak_bytes(lambda: EventKNN().fit_features(specs))
    # The 64 calibration clips' residuals and stretch means are kept (about half the frames' size
    # here); the 1,000 clips' frames are read where they are, not copied (three times their size before).
    assert peak < sum(spec.nbytes for spec in specs), peak / sum(spec.nbytes for spec in specs)


def test_a_gain_step_is_taken_off_unless_frame_medians_is_false(fitted):
    spec = machine_spec(np.random.default_rng(8), 320, 10.0)
    spec[:, 150:200] += 6.0  # every band 6 dB louder for 1.6 s: a change of gain, not an event
    gain_kept = EventKNN(frame_medians=False).fit_features(fitted_specs())
    # Measured: 10.8 spreads with the gain term, 42 without (a clean clip of this machine scores 4.8).
    assert fitted.score_features([spec])[0] < 0.5 * gain_kept.score_features([spec])[0]


def fitted_specs():
    rng = np.random.default_rng(3)
    return [machine_spec(rng, 320, speed) for speed in np.linspace(8, 12, 20)]


def test_variants_survive_a_model_file(tmp_path):
    from audioad import load, save

    variant = EventKNN(max_frames=256, search_band_group=1, band_medians=False, frame_medians=False)
    waves = [np.random.default_rng(k).standard_normal(16000 * 4).astype(np.float32) * 0.1 for k in range(4)]
    variant.fit([(w, 16000) for w in waves])
    save(variant, tmp_path / "variant.audioad")
    loaded = load(tmp_path / "variant.audioad")
    assert loaded.get_params() == variant.get_params()
    np.testing.assert_array_equal(
        loaded.decision_function([(waves[0], 16000)]), variant.decision_function([(waves[0], 16000)])
    )


@pytest.mark.parametrize("name, value", [("search_band_group", 0), ("band_medians", "yes"), ("frame_medians", 1)])
def test_a_bad_variant_setting_is_refused_naming_it(name, value):
    with pytest.raises(ValueError, match=name):
        EventKNN(**{name: value}).fit([np.zeros(16000), np.ones(16000)])
