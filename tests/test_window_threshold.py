"""Window scores against their own threshold: normal windows rarely above it, an event's windows above it."""

import numpy as np
import pytest
import soundfile as sf

from audioad import EmbeddingOD, WindowKNN, load, save
from audioad.datasets import make_machine_sounds
from audioad.window_threshold import calibrate_window_threshold, held_out_window_threshold

SR = 16000


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    table = make_machine_sounds(tmp_path_factory.mktemp("machine"), machines=("pump",), n_sections=1, n_train=15,
                                n_test_normal=8, n_test_anomaly=0, duration=2.0, target_fraction=0.0)  # fmt: skip
    train = [c.path for c in table.filter(split="train")]
    test = [c.path for c in table.filter(split="test")]
    return WindowKNN(context=3, max_windows=1000).fit(train), train, test


def test_normal_windows_rarely_cross_the_held_out_threshold_and_a_tone_does(machine, tmp_path):
    detector, train, test = machine
    threshold = held_out_window_threshold(detector, train, false_alarm_rate=0.02)
    frames = detector.frame_scores(test)
    above = np.mean(np.concatenate([f.scores for f in frames]) > threshold)
    assert above < 0.1, above  # 2 % asked, measured on held-out clips of the same recordings
    # The clip threshold is for pooled scores: most windows of normal clips sit on one side of it.
    assert threshold != pytest.approx(detector.threshold_)
    y, _ = sf.read(test[0], dtype="float32")
    t = np.arange(int(0.5 * SR)) / SR
    y[SR : SR + t.size] += 3 * np.sqrt(np.mean(y**2)) * np.sin(2 * np.pi * 3100 * t)
    (tone,) = detector.frame_scores([(y, SR)])
    inside = (tone.times > 1.05) & (tone.times < 1.35)
    assert np.all(tone.scores[inside] > threshold)
    loaded = load(save(detector, tmp_path / "m.audioad"))
    assert loaded.window_threshold_ == threshold and loaded.window_false_alarm_rate_ == 0.02


def test_calibration_refuses_what_it_cannot_do(machine):
    detector, train, test = machine
    with pytest.raises(ValueError, match="at least 5"):
        held_out_window_threshold(detector, train[:4])
    embedding = EmbeddingOD.for_audio("fast", sr=SR).fit(train)
    with pytest.raises(TypeError, match="scores whole clips"):
        calibrate_window_threshold(embedding, test)


def test_fit_sets_a_window_threshold_that_plot_draws(machine, tmp_path):
    from conftest import audioad

    _, train, test = machine
    model = tmp_path / "m.audioad"
    result = audioad("fit", *train, "--detector", "window-knn", "--set", "max_windows=500",
                     "--window-false-alarm-rate", "0.02", "--out", model, "-q")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "window threshold" in result.stdout and "0.02 of held-out normal windows above" in result.stdout
    assert load(model).window_threshold_ > 0
    result = audioad("plot", model, test[0], "--out", tmp_path / "clip.png")
    assert result.returncode == 0 and (tmp_path / "clip.png").read_bytes()[:4] == b"\x89PNG"
    refused = audioad("fit", *train, "--detector", "mel-knn", "--window-false-alarm-rate", "0.02", "-o", model)
    assert refused.returncode == 2 and "scores whole clips" in refused.stderr
