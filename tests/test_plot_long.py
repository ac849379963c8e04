"""`plot` of a long recording: segment scores over the whole of it, and the minute around the worst in detail."""

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad

from audioad import MelKNN, default_detector
from audioad.audio import AudioInputError, load_audio
from audioad.datasets import make_machine_sounds
from audioad.plotting import DETAIL_SECONDS, plot_recording

SR = 16000
FAULT_AT = 150  # seconds: a 10 s fault at 2:30 of a 4-minute recording


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Two minutes of a machine's normal sound (WAV), 4 minutes of it with a fault at 2:30 (FLAC), and 30 s of it."""
    folder = tmp_path_factory.mktemp("recordings")
    clips = make_machine_sounds(
        folder / "clips", machines=("fan",), n_sections=1, n_train=12, n_test_normal=6, n_test_anomaly=1,
        duration=10.0, anomaly_strength=3.0, anomaly_kinds=("tone",), target_fraction=0.0, random_state=0,
    )  # fmt: skip
    waves = {c.path: load_audio(c.path, sr=SR)[0] for c in clips}
    train = np.concatenate([waves[c.path] for c in clips if c.split == "train"])
    normal = [waves[c.path] for c in clips if c.split == "test" and c.label == "normal"]
    fault = next(waves[c.path] for c in clips if c.label == "anomaly")
    test = np.concatenate([normal[i % len(normal)] for i in range(24)])
    test[FAULT_AT * SR : (FAULT_AT + 10) * SR] = fault
    sf.write(folder / "normal.wav", train, SR, subtype="PCM_16")
    sf.write(folder / "long.flac", test, SR, subtype="PCM_16")
    sf.write(folder / "short.wav", test[: 30 * SR], SR, subtype="PCM_16")
    return folder


@pytest.fixture(scope="module")
def knn(recordings):
    return MelKNN(n_mels=64).fit([recordings / "normal.wav"], segment="10s")


def overview_of(fig):
    ax = next(ax for ax in fig.axes if ax.get_label() == "overview")
    lines = {line.get_gid(): line for line in ax.lines if line.get_gid()}
    window = next(patch for patch in ax.patches if patch.get_gid() == "detail-window")
    return ax, lines, window.get_x(), window.get_x() + window.get_width()


def test_the_overview_has_a_point_a_segment_and_marks_the_fault_and_the_detail_is_its_minute(knn, recordings):
    fig = plot_recording(knn, recordings / "long.flac")
    ax, lines, first, last = overview_of(fig)
    assert len(lines["segment-scores"].get_xdata()) == 24
    assert lines["worst-segment"].get_xdata().tolist() == [FAULT_AT + 5.0]
    assert FAULT_AT + 5.0 in lines["above-threshold"].get_xdata()
    # The minute around the worst segment, on the recording's clock.
    assert (first, last) == (FAULT_AT + 5 - DETAIL_SECONDS / 2, FAULT_AT + 5 + DETAIL_SECONDS / 2)
    spectrogram = next(ax for ax in fig.axes if ax.get_label() == "spectrogram")
    assert spectrogram.get_xlim() == pytest.approx((0.0, DETAIL_SECONDS), abs=0.05)
    assert spectrogram.xaxis.get_major_formatter()(0.0) == "0:02:05"
    shown = [ax.xaxis.get_major_formatter()(t) for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1]]
    assert shown == ["0:00:00", "0:00:30", "0:01:00", "0:01:30", "0:02:00", "0:02:30", "0:03:00", "0:03:30", "0:04:00"]
    findings = next(ax for ax in fig.axes if ax.get_label() == "findings").texts[0].get_text()
    assert "0:02:3" in findings  # the first finding lies in the fault, at 2:30-2:40


def test_the_detail_is_read_alone_and_clipped_to_the_recording(knn, recordings, monkeypatch):
    reads = []
    original = sf.read

    def read(*args, **kwargs):
        reads.append((kwargs.get("start", 0), kwargs.get("frames", -1)))
        return original(*args, **kwargs)

    monkeypatch.setattr(sf, "read", read)
    plot_recording(knn, recordings / "long.flac")
    # The scores came from the stream (no whole read); the minute was read from its first sample on.
    assert reads == [(int((FAULT_AT + 5 - DETAIL_SECONDS / 2) * SR), int(DETAIL_SECONDS * SR))]
    # A worst segment near the end: the minute is the recording's last.
    y = load_audio(recordings / "long.flac", sr=SR)[0].copy()
    y[230 * SR :] += np.sin(np.arange(10 * SR) * 0.7).astype(np.float32)
    _, lines, first, last = overview_of(plot_recording(knn, (y, SR)))
    assert lines["worst-segment"].get_xdata().tolist() == [235.0]
    assert (first, last) == (240 - DETAIL_SECONDS, 240)


def test_segment_hop_and_thresholds_are_drawn_as_given(knn, recordings):
    fig = plot_recording(knn, recordings / "long.flac", segment="20s", hop="10s", threshold=1e9, file_threshold=2e9)
    ax, lines, _, _ = overview_of(fig)
    assert len(lines["segment-scores"].get_xdata()) == 23
    assert len(lines["above-threshold"].get_xdata()) == 0
    levels = sorted(line.get_ydata()[0] for line in ax.lines if line.get_linestyle() in ("--", ":"))
    assert levels == [1e9, 2e9]
    assert "normal; 0 of 23 segments" in ax.get_title()


def test_a_file_that_is_not_audio_is_named(knn, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not a recording")
    with pytest.raises(AudioInputError, match="notes.wav"):
        plot_recording(knn, bad)


def test_the_default_detector_shows_its_window_scores_in_the_worst_minute(recordings):
    detector = default_detector().fit([recordings / "normal.wav"], segment="10s")
    fig = plot_recording(detector, recordings / "long.flac")
    _, lines, first, last = overview_of(fig)
    assert lines["worst-segment"].get_xdata().tolist() == [FAULT_AT + 5.0]
    scores = next(ax for ax in fig.axes if ax.get_label() == "scores")
    assert any("window threshold" in text.get_text() for text in scores.get_legend().get_texts())


@pytest.fixture(scope="module")
def model(recordings):
    path = recordings / "fan.audioad"
    fitted = audioad("fit", recordings / "normal.wav", "--detector", "mel-knn", "--segment", "10s", "--out", path, "-q")
    assert fitted.returncode == 0, fitted.stderr
    return path


def test_the_command_draws_a_long_file_as_a_recording_and_a_short_one_as_a_clip(model, recordings, tmp_path):
    run = audioad("plot", model, recordings / "long.flac", "--out", tmp_path / "long.png")
    assert run.returncode == 0, run.stderr
    assert "much longer than the training clips: scored in 10 s segments" in run.stderr
    assert "wrote" in run.stdout and "the recording view" in run.stdout
    assert "0:02:30-0:02:40" in run.stdout
    assert (tmp_path / "long.png").read_bytes()[:4] == b"\x89PNG"
    # 30 s is not much longer than 10 s: a clip, as before, unless --segment asks for segments.
    clip = audioad("plot", model, recordings / "short.wav", "--out", tmp_path / "short.png")
    assert clip.returncode == 0 and clip.stdout.strip() == f"wrote {tmp_path / 'short.png'}"
    cut = audioad("plot", model, recordings / "short.wav", "--segment", "5s", "--out", tmp_path / "cut.png")
    assert cut.returncode == 0 and "the recording view (5 s segments" in cut.stdout and "of 6 segments" in cut.stdout
    refused = audioad("plot", model, recordings / "short.wav", "--threshold", "3", "--out", tmp_path / "x.png")
    assert refused.returncode == 2 and "--threshold" in refused.stderr and "--segment" in refused.stderr


def test_the_command_names_a_file_that_is_not_audio(model, tmp_path):
    bad = tmp_path / "notes.flac"
    bad.write_text("not a recording")
    for extra in ([], ["--segment", "10s"]):
        run = audioad("plot", model, bad, *extra, "--out", tmp_path / "x.png")
        assert run.returncode == 1 and "notes.flac" in run.stderr and "Traceback" not in run.stderr
