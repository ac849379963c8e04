"""The in-band level of run.py's injected events (benchmarks/injections.py) means what its docstring says."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import injections  # noqa: E402


@pytest.mark.parametrize("kind", injections.EVENTS)
@pytest.mark.parametrize("sr", [16000, 48000])
def test_injected_event_has_the_level_asked_for_in_its_band(kind, sr):
    clip = (np.random.default_rng(1).standard_normal(3 * sr) * 0.05).astype(np.float32)
    band = injections.event_band(kind)
    span = injections.event_span(len(clip), sr)
    assert span.stop - span.start == 2 * sr and span.start == sr // 2
    for level in (-10.0, 0.0, 20.0):
        injected = injections.inject(clip, sr, kind, level)
        added = injected.astype(np.float64) - clip
        assert injections.in_band_level(added[span], clip[span], sr, band) == pytest.approx(level, abs=0.05)
        assert not added[: span.start].any() and not added[span.stop :].any()
        # the event's energy lies in its band: the level is not measured on a sliver of it
        everything = injections.band_energy(added[span], sr, (0.0, sr / 2))
        assert injections.band_energy(added[span], sr, band) > 0.85 * everything


def test_level_is_relative_to_the_clip_in_the_band_not_overall():
    sr = 16000
    t = np.arange(sr) / sr
    # a clip with all its energy at 500 Hz and a little noise: a 3 kHz tone at 0 dB in-band is quiet overall
    clip = (np.sin(2 * np.pi * 500 * t) + 0.001 * np.random.default_rng(0).standard_normal(sr)).astype(np.float32)
    injected = injections.inject(clip, sr, "tone", 0.0)
    added = injected.astype(np.float64) - clip
    band = injections.event_band("tone")
    assert injections.band_energy(added, sr, band) == pytest.approx(injections.band_energy(clip, sr, band), rel=0.02)
    assert np.sum(added**2) < 1e-3 * np.sum(clip.astype(np.float64) ** 2)


def test_short_clip_gets_the_event_over_its_whole_length():
    assert injections.event_span(400, 16000) == slice(0, 400)
    low, high = injections.event_band("tone")
    assert 2800 < low < 3000 < high < 3200
