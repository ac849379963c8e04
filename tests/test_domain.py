"""Out-of-domain warnings (issue 17, item 4): odd clips get their score and a warning that says why."""

import numpy as np
import pytest
import soundfile as sf
from conftest import SR, audioad, rows

from audioad import MelKNN, default_detector, load, save
from audioad.audio import load_audio


@pytest.fixture(scope="module")
def odd_clips(machine, tmp_path_factory):
    """A normal clip, and one of each kind a user really has that is unlike the training clips."""
    folder = tmp_path_factory.mktemp("odd")
    _, test, labels = machine
    normal = load_audio(test[list(labels).index(0)], sr=SR)[0]
    clips = {"normal": test[list(labels).index(0)]}
    clips["10 ms"] = (normal[: SR // 100], SR)
    sf.write(folder / "silent.wav", np.zeros(SR, np.float32), SR, subtype="PCM_16")
    clips["silent"] = str(folder / "silent.wav")
    sf.write(folder / "8k.wav", normal[::2], SR // 2, subtype="PCM_16")
    clips["8 kHz"] = str(folder / "8k.wav")
    sf.write(folder / "long.wav", np.tile(normal, 4), SR, subtype="PCM_16")
    clips["4 s"] = str(folder / "long.wav")
    sf.write(folder / "clipped.wav", np.clip(normal * 40.0, -1.0, 1.0), SR, subtype="PCM_16")
    clips["clipped"] = str(folder / "clipped.wav")
    sf.write(folder / "copy.flac", normal, SR, format="FLAC")
    clips["flac"] = str(folder / "copy.flac")
    sf.write(folder / "copy.ogg", normal, SR, format="OGG", subtype="VORBIS")
    clips["ogg"] = str(folder / "copy.ogg")
    clips["1 sample"] = (normal[:1], SR)
    return clips


EXPECTED = {
    "normal": [],
    "10 ms": [
        "too short: 10 ms, less than one analysis window (64 ms)",
        "duration: 0.01 s, the training clips 1.00-1.00 s",
    ],
    "silent": ["silent: digital silence"],
    "8 kHz": ["low rate: recorded at 8000 Hz, below the model's 16000 Hz: nothing above 4000 Hz"],
    "4 s": ["duration: 4.00 s, the training clips 1.00-1.00 s"],
    "flac": [],  # a lossless copy scores as the original: nothing to warn of (issue 24, 11)
    "ogg": ["codec: OGG VORBIS, the training files WAV PCM_16"],
    "1 sample": [
        "too short: 0 ms, less than one analysis window (64 ms)",
        "duration: 0.00 s, the training clips 1.00-1.00 s",
    ],
}


@pytest.mark.parametrize("make", [MelKNN, default_detector], ids=["mel-knn", "default"])
def test_each_odd_clip_is_scored_and_says_why(machine, odd_clips, make, tmp_path):
    train, _, _ = machine
    detector = make().fit(train)
    names = list(odd_clips)
    result = detector.score_clips([odd_clips[name] for name in names])
    assert np.isfinite(result.scores).all() and not result.errors
    warnings = dict(zip(names, result.warnings))
    for name, expected in EXPECTED.items():
        assert warnings[name] == expected, name
    assert len(warnings["clipped"]) == 1 and warnings["clipped"][0].startswith("clipped: ")
    # A model file keeps what the checks compare with.
    loaded = load(save(detector, tmp_path / "model.audioad"))
    assert loaded.score_clips([odd_clips[name] for name in names]).warnings == result.warnings


def test_score_writes_each_clips_warnings_and_counts_them(machine, odd_clips, tmp_path):
    train, _, _ = machine
    model = tmp_path / "model.audioad"
    save(MelKNN().fit(train), model)
    files = [odd_clips[name] for name in ("normal", "silent", "8 kHz", "ogg")]
    out = tmp_path / "scores.csv"
    result = audioad("score", model, *files, "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    warnings = {row["path"]: row["warning"] for row in rows(out)}
    assert warnings[files[0]] == ""
    assert warnings[files[1]] == "silent: digital silence"
    assert warnings[files[2]].startswith("low rate: recorded at 8000 Hz")
    assert warnings[files[3]] == "codec: OGG VORBIS, the training files WAV PCM_16"
    assert "(1 silent, 1 low rate, 1 codec)" in result.stderr
