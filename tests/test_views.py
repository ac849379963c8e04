"""A flagged clip is explained by the view that flagged it, never as "no band departs from normal" (issue 24, 3).

The default flags a clip by its most alarmed view. A clip whose one band fluctuates (the same
spectrum, amplitude-modulated) or that holds a short tone departs from normal in a way its band
levels may not show; what `audioad score --explain` writes must say what did.
"""

import re

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from audioad import load
from audioad.datasets import make_machine_sounds

SR = 16000
MEAN, FLUCTUATION, EVENT = 0, 1, 2  # the default's members


def _modulated(y, low_hz, high_hz, depth=0.5, hz=6.0):
    """``y`` with one band amplitude-modulated, its power kept: the same spectrum, fluctuating."""
    band = signal.sosfiltfilt(signal.butter(6, [low_hz, high_hz], btype="bandpass", fs=SR, output="sos"), y)
    envelope = (1 + depth * np.sin(2 * np.pi * hz * np.arange(len(y)) / SR)) / np.sqrt(1 + depth**2 / 2)
    return (y - band + band * envelope).astype(np.float32)


def _with_tone(y, hz, start, end, gain=0.3):
    y = y.copy()
    first, last = int(start * SR), int(end * SR)
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    y[first:last] += gain * rms * np.sqrt(2) * np.sin(2 * np.pi * hz * np.arange(last - first) / SR)
    return y


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The default fitted on 4 s clips of a machine, and the rows `score --explain` wrote for three test clips."""
    from conftest import audioad, rows

    folder = tmp_path_factory.mktemp("views")
    table = make_machine_sounds(
        folder / "data", machines=("fan",), n_sections=1, n_train=20, n_test_normal=2, n_test_anomaly=0,
        duration=4.0, target_fraction=0.0,
    )  # fmt: skip
    train = [c.path for c in table.filter(split="train")]
    normal = [sf.read(c.path, dtype="float32")[0] for c in table.filter(split="test")]
    clips = {
        "normal.wav": normal[0],
        "fluctuating.wav": _modulated(normal[0], 2000, 4000),
        "tone.wav": _with_tone(normal[1], 3000, 2.0, 2.5),
    }
    for name, y in clips.items():
        sf.write(folder / name, y, SR)
    model = folder / "fan.audioad"
    assert audioad("fit", *train, "--out", model, "-q").returncode == 0
    result = audioad("score", model, *(folder / n for n in clips), "--explain", "-o", folder / "s.csv", "-q")
    assert result.returncode == 0, result.stderr
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows(folder / "s.csv")}
    return load(model), {name: (y, by_name[name]) for name, y in clips.items()}


def _standardised(detector, y):
    raw = np.array([member.decision_function([y])[0] for member in detector.members_])
    return (raw - detector.member_centers_) / detector.member_scales_


def _band(text):
    low, high = re.search(r"in (\d+\.\d+)-(\d+\.\d+) kHz", text).groups()
    return float(low) * 1000, float(high) * 1000


def test_a_clip_flagged_by_its_fluctuation_alone_says_where_it_fluctuates(scored):
    detector, clips = scored
    y, row = clips["fluctuating.wav"]
    above = _standardised(detector, y) > detector.threshold_
    assert above.tolist() == [False, True, False], "the clip must be flagged by the fluctuation view alone"
    assert row["label"] == "1"
    explanation = row["explanation"]
    assert explanation.startswith("its sound fluctuates unlike normal in "), explanation
    assert "no band departs" not in explanation
    low, high = _band(explanation)
    assert 1800 <= low and high <= 4200 and high - low >= 500, explanation


def test_a_clip_flagged_by_a_short_event_alone_says_when_and_where(scored):
    detector, clips = scored
    y, row = clips["tone.wav"]
    above = _standardised(detector, y) > detector.threshold_
    assert above.tolist() == [False, False, True], "the clip must be flagged by the event view alone"
    assert row["label"] == "1"
    explanation = row["explanation"]
    assert "no band departs" not in explanation
    start, end = map(float, re.match(r"a short event at (\d+\.\d)-(\d+\.\d) s in ", explanation).groups())
    assert 1.8 <= start <= 2.1 and 2.4 <= end <= 2.7, explanation
    low, high = _band(explanation)
    assert low <= 3000 <= high and high - low < 1000, explanation


def test_a_clip_not_flagged_keeps_its_wording(scored):
    _, clips = scored
    _, row = clips["normal.wav"]
    assert row["label"] == "0"
    assert row["explanation"].startswith("no band departs from normal; ")
