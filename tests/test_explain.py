"""explain: anomalies whose band and time are known are found at the right band and moment."""

import re

import numpy as np
import pytest
import soundfile as sf

from audioad import EmbeddingOD, MelKNN, WindowKNN, default_detector, load, save
from audioad.datasets import make_machine_sounds
from audioad.explain import explain, normal_reference

SR = 16000


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    """A fitted detector on one synthetic machine, and normal test clips to add anomalies to."""
    table = make_machine_sounds(
        tmp_path_factory.mktemp("machine"),
        machines=("fan",),
        n_sections=1,
        n_train=16,
        n_test_normal=6,
        n_test_anomaly=0,
        duration=2.0,
        target_fraction=0.0,
    )
    train = [c.path for c in table.filter(split="train")]
    normal = [sf.read(c.path, dtype="float32")[0] for c in table.filter(split="test")]
    detector = WindowKNN(context=3, max_windows=500, n_mels=128).fit(train)
    return detector, train, normal


def _rms(y):
    return float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))


def _with_tone(y, hz, start, end, gain=1.0):
    y = y.copy()
    first, last = int(start * SR), int(end * SR)
    t = np.arange(last - first) / SR
    y[first:last] += gain * _rms(y) * np.sqrt(2) * np.sin(2 * np.pi * hz * t)
    return y


def _with_clicks(y, times):
    y = y.copy()
    rng = np.random.default_rng(3)
    for at in times:
        i = int(at * SR)
        y[i : i + 40] += 8 * _rms(y) * rng.standard_normal(40) * np.exp(-np.arange(40) / 8)
    return y


def _with_burst(y, low_hz, high_hz, start, end):
    from scipy import signal

    y = y.copy()
    first, last = int(start * SR), int(end * SR)
    sos = signal.butter(4, [low_hz, high_hz], btype="bandpass", fs=SR, output="sos")
    noise = signal.sosfilt(sos, np.random.default_rng(4).standard_normal(last - first))
    y[first:last] += 2 * _rms(y) * noise / _rms(noise)
    return y


def _overlaps(a, b, c, d):
    return a < d and c < b


def test_a_tone_is_found_at_its_frequency_and_time(machine):
    detector, _, normal = machine
    explanation = explain(detector, [_with_tone(normal[0], 2450.0, 0.8, 1.3)])[0]
    top = explanation.findings[0]
    assert top.low_hz <= 2450.0 <= top.high_hz and top.high_hz - top.low_hz < 400
    assert abs(top.start - 0.8) < 0.08 and abs(top.end - 1.3) < 0.08
    assert top.change_db > 10 and top.share > 0.5
    assert str(top).startswith("+") and " kHz, 0." in str(top)


def test_clicks_are_found_when_they_happen(machine):
    detector, _, normal = machine
    times = np.arange(1.2, 1.6, 0.05)
    explanation = explain(detector, [_with_clicks(normal[1], times)])[0]
    top = explanation.findings[0]
    assert 1.1 < top.start <= 1.21 and 1.55 < top.end < 1.7, top
    assert top.change_db > 6
    # A click is broadband: the finding reaches up into the kilohertz.
    assert top.high_hz - top.low_hz > 1000


def test_a_noise_burst_is_found_in_its_band_and_time(machine):
    detector, _, normal = machine
    explanation = explain(detector, [_with_burst(normal[2], 5000.0, 6500.0, 0.3, 0.7)])[0]
    top = explanation.findings[0]
    assert _overlaps(top.low_hz, top.high_hz, 5000.0, 6500.0)
    assert 4000 < top.low_hz and top.high_hz < 7800
    assert abs(top.start - 0.3) < 0.08 and abs(top.end - 0.7) < 0.08


def test_normal_clips_have_little_to_explain(machine):
    detector, _, normal = machine
    for explanation in explain(detector, normal[3:]):
        big = [f for f in explanation.findings if (f.end - f.start) * (f.high_hz - f.low_hz) > 0.2 * 500]
        assert not big, explanation.summary()


def test_the_deviation_map_is_the_clip_minus_the_normal_median(machine):
    detector, _, normal = machine
    explanation = explain(detector, [normal[0]])[0]
    reference = detector.band_levels_
    median = reference["levels"][list(reference["quantiles"]).index(0.5)]
    assert explanation.deviation.shape == explanation.spectrogram.shape == (128, 63)
    np.testing.assert_allclose(explanation.deviation, explanation.spectrogram - median[:, None])
    assert explanation.band_edges[0] == 0.0 and explanation.band_edges[-1] == SR / 2
    np.testing.assert_allclose(explanation.times[:2], [0.0, 512 / SR])
    assert abs(float(np.median(explanation.deviation))) < 3.0


def test_the_default_detector_explains_and_its_reference_survives_a_model_file(machine, tmp_path):
    _, train, normal = machine
    detector = default_detector(n_folds=2).fit(train)
    clip = _with_tone(normal[0], 2450.0, 0.8, 1.3)
    top = explain(detector, [clip])[0].findings[0]
    assert top.low_hz <= 2450.0 <= top.high_hz
    loaded = load(save(detector, tmp_path / "m.audioad"))
    assert explain(loaded, [clip])[0].findings == explain(detector, [clip])[0].findings


def test_a_reference_from_other_clips_and_a_detector_without_one(machine):
    detector, train, normal = machine
    reference = normal_reference(detector, train)
    np.testing.assert_array_equal(reference["levels"], detector.band_levels_["levels"])
    older = MelKNN().fit(train[:4])
    del older.band_levels_
    with pytest.raises(ValueError, match="normal_reference"):
        explain(older, [normal[0]])
    assert explain(older, [normal[0]], reference=reference)[0].deviation.shape[0] == 128


def test_errors_name_the_clip_and_cause(machine, tmp_path):
    detector, _, normal = machine
    missing = tmp_path / "gone.wav"
    with pytest.raises(Exception, match=r"clip 1 \(.*gone.wav\)"):
        explain(detector, [normal[0], str(missing)])
    embedding = EmbeddingOD.for_audio("fast", sr=SR).fit([np.asarray(n) for n in normal])
    with pytest.raises(TypeError, match="no log-mel front end"):
        explain(embedding, [normal[0]])


def test_score_explain_adds_an_explanation_column(machine, tmp_path):
    from conftest import audioad, rows

    _, train, normal = machine
    tone = tmp_path / "tone.wav"
    sf.write(tone, _with_tone(normal[0], 2450.0, 0.8, 1.3), SR)
    sf.write(tmp_path / "normal.wav", normal[3], SR)
    model = tmp_path / "m.audioad"
    assert audioad("fit", *train, "--detector", "mel-knn", "--out", model, "-q").returncode == 0
    result = audioad("score", model, tone, tmp_path / "normal.wav", tmp_path / "gone.wav", "--explain", "-o",
                     tmp_path / "s.csv", "-q")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert re.search(
        r"^flagged [012] of 2 clips scored \(\d+%\): score above the model's threshold", result.stdout, re.M
    )
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows(tmp_path / "s.csv")}
    # Flagged: first what the detector heard, then where the levels depart.
    tone_explanation = by_name["tone.wav"]["explanation"]
    assert tone_explanation.startswith("its overall spectrum is unlike any normal recording, most in 2.4-2.5 kHz")
    assert re.search(r"; \+\d+ dB at 2\.4-2\.5 kHz, 0\.7", tone_explanation)
    # A normal clip says what sets it apart; flagged (a false alarm), what the detector heard.
    normal_explanation = by_name["normal.wav"]["explanation"]
    if by_name["normal.wav"]["label"] == "1":
        assert normal_explanation.startswith("its ") and "no band departs" not in normal_explanation
    else:
        assert normal_explanation.startswith("no band departs from normal; ")
    assert by_name["gone.wav"]["explanation"] == "" and by_name["gone.wav"]["error"]


def test_score_warns_that_a_whole_clip_detector_has_no_frames(machine, tmp_path):
    from conftest import audioad

    _, train, _ = machine
    model = tmp_path / "m.audioad"
    assert audioad("fit", *train[:6], "--detector", "mel-knn", "--out", model, "-q").returncode == 0
    result = audioad("score", model, train[0], "-o", tmp_path / "s.csv", "--frames", tmp_path / "f.csv", "-q")
    assert result.returncode == 0 and "MelKNN scores whole clips" in result.stderr and "no window rows" in result.stderr
