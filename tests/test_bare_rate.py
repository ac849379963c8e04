"""A bare array is taken at the model's rate; one whose spectrum looks recorded at another is warned of (issue 24, 7).

A 48 kHz recording passed bare to a 16 kHz model is heard three times slower: its spectrum is the
training clips' squeezed into the lowest third of the band. The warning reads the spectrum, not
the duration: a 16 kHz array three times as long as the training clips is not warned of.
"""

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from audioad import MelKNN, load, save
from audioad.datasets import make_machine_sounds

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SR = 16000


def _normal_clips(name, n):
    rows = list(csv.DictReader(open(DATA / name / "manifest.csv")))
    paths = [DATA / name / r["path"] for r in rows if r["label"] == "normal" and r["sample_rate"] == str(SR)]
    clips = []
    for path in paths[:n]:
        y, _ = sf.read(path, dtype="float32")
        clips.append(y.mean(axis=1) if y.ndim > 1 else y)
    return clips


def _synthetic_clips(folder, n):
    table = make_machine_sounds(
        folder, machines=("pump",), n_sections=1, n_train=n, n_test_normal=0, n_test_anomaly=0, duration=2.0,
        target_fraction=0.0,
    )  # fmt: skip
    return [sf.read(c.path, dtype="float32")[0] for c in table]


@pytest.fixture(scope="module", params=["fan", "bldc_motor", "synthetic"])
def machine(request, tmp_path_factory):
    """Normal 16 kHz clips of varied lengths (so no rule by duration applies), a model of most, two held out."""
    if request.param == "synthetic":
        clips = _synthetic_clips(tmp_path_factory.mktemp("pump"), 14)
    elif not (DATA / request.param / "manifest.csv").exists():
        pytest.skip(f"the shared recordings are not in {DATA} (a checkout without them)")
    else:
        clips = _normal_clips(request.param, 14)
    clips = [y[: int(len(y) * (0.6 + 0.4 * i / len(clips)))] for i, y in enumerate(clips)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector = MelKNN(n_mels=64).fit(clips[:-2])
    return detector, clips


def _rate_warnings(detector, clips):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = detector.decision_function(clips)
    said = [str(w.message) for w in caught if "bare array" in str(w.message)]
    return scores, said, detector.score_clips(clips).warnings


def test_a_48khz_array_passed_bare_is_warned_of_by_its_spectrum(machine):
    detector, clips = machine
    held_out = clips[-2:]
    recorded_48k = resample_poly(held_out[0], 3, 1).astype(np.float32)
    scores, said, per_clip = _rate_warnings(detector, [held_out[1], recorded_48k])
    assert len(said) == 1 and said[0].startswith("clip 1: a bare array is taken at the model's 16000 Hz, but its")
    assert "spectrum looks recorded at" in said[0] and "pass (waveform, " in said[0]
    assert not any(w.startswith("rate:") for w in per_clip[0])
    assert any(w.startswith("rate:") for w in per_clip[1])
    rate = int(said[0].split("pass (waveform, ")[1].split(")")[0])
    assert rate in (44100, 48000, 88200)
    # Passed with its rate, it scores as the clip it is, and is not warned of.
    with_rate, said_then, _ = _rate_warnings(detector, [(recorded_48k, 48000)])
    assert said_then == [] and with_rate[0] < scores[1]


def test_a_16khz_array_three_times_as_long_is_not_taken_for_48khz(machine):
    """Training clips of one length: three times as long is what a 48 kHz one lasts, but the spectrum says 16 kHz."""
    _, clips = machine
    shortest = min(len(y) for y in clips)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector = MelKNN(n_mels=64).fit([y[:shortest] for y in clips[:-2]])
    held_out = clips[-2:]
    long_16k = np.tile(held_out[0], 4)[: 3 * shortest]
    _, said, per_clip = _rate_warnings(detector, [held_out[0], long_16k])
    assert said == [] and not any(w.startswith("rate:") for clip in per_clip for w in clip)


def test_the_training_spectrum_survives_a_model_file(machine, tmp_path):
    detector, clips = machine
    held_out = clips[-2:]
    save(detector, tmp_path / "m.audioad")
    loaded = load(tmp_path / "m.audioad")
    assert loaded.training_audio_["spectrum"] == detector.training_audio_["spectrum"]
    _, said, _ = _rate_warnings(loaded, [resample_poly(held_out[0], 3, 1).astype(np.float32)])
    assert len(said) == 1
