"""Plain verdicts (issue 24, item 1): normal / unusual, review it / alarm, a one-line reason, what to do next."""

import numpy as np

from audioad.segments import summarize
from audioad.verdicts import ALARM, NORMAL, UNUSUAL, alarm_levels, file_verdict, hms

NORMAL_SCORES = np.linspace(-1.0, -0.2, 11)  # 11 held-out normal segments of 10 s


def recording(scores, levels, hop=10.0):
    starts = np.arange(len(scores)) * hop
    return summarize(0, "motor.wav", starts, starts + hop, scores, levels.segment, levels.alarm, levels.rule)


def test_the_three_states():
    levels = alarm_levels(NORMAL_SCORES, segment_threshold=-0.3, hop=10.0)
    assert levels.guessed and levels.alarm > NORMAL_SCORES.max()
    quiet = np.full(90, -0.6)
    assert file_verdict(recording(quiet, levels), levels).state == NORMAL
    fault = quiet.copy()
    fault[42] = (NORMAL_SCORES.max() + levels.alarm) / 2  # above every normal segment, below the alarm level
    verdict = file_verdict(recording(fault, levels), levels)
    assert verdict.state == UNUSUAL and verdict.reason.startswith("0:07:00-0:07:10 scores")
    assert "is a guess from their 2 minutes" in verdict.reason
    assert verdict.advice.startswith("listen to 0:07:00-0:07:10; to settle the alarm level, record 20 more minutes")
    fault[42] = levels.alarm + 1
    verdict = file_verdict(recording(fault, levels), levels)
    assert verdict.state == ALARM and verdict.reason.startswith("from 0:07:00 the sound is far from normal running")
    line = verdict.line("motor.wav")
    assert line.startswith("motor.wav: ALARM: ") and "\n" not in line and line.endswith("inspect the machine.")


def test_a_threshold_that_does_not_fit_the_recording_is_said():
    """An hour with 1,875 of 3,600 segments above the segment threshold is not "normal"."""
    levels = alarm_levels(NORMAL_SCORES, segment_threshold=-0.21, hop=1.0)  # 1 of 11 normal segments above
    scores = np.where(np.arange(3600) < 1875, -0.215 + 0.01, -0.6)
    verdict = file_verdict(recording(scores, levels, hop=1.0), levels)
    assert verdict.state == UNUSUAL
    assert "does not fit this recording: 1875 of 3600 segments (52%) are above it" in verdict.reason
    assert "fit on recordings like it" in verdict.advice


def test_times_read_as_hours_minutes_seconds():
    assert [hms(s) for s in (0, 59.96, 420, 3600 * 2 + 61, 14.5)] == [
        "0:00:00",
        "0:01:00",
        "0:07:00",
        "2:01:01",
        "0:00:14.5",
    ]


def test_an_explanation_without_a_departing_band_says_what_did():
    """Issue 24, 3: a clip flagged by how its sound fluctuates read "no band departs from normal", no more."""
    from audioad.explain import Explanation

    n_mels, n_frames = 8, 200
    edges = np.array([0, 250, 500, 1000, 2000, 4000, 5000, 6000, 8000], dtype=float)
    reference = {"quantiles": [0.01, 0.5, 0.99], "levels": np.array([[-50.0] * 8, [-45.0] * 8, [-40.0] * 8])}
    spectrogram = np.full((n_mels, n_frames), -45.0)
    spectrogram[4] += 9.0 * np.sign(np.sin(np.arange(n_frames)))  # 2-4 kHz swings over 18 dB, normal 10 dB
    deviation = spectrogram - reference["levels"][1][:, None]
    explanation = Explanation("clip 0", [], deviation, spectrogram, np.arange(n_frames) * 0.032, edges, reference)
    assert explanation.summary() == (
        "no band departs from normal; its sound fluctuates unlike normal in 2.0-4.0 kHz (over 18 dB, normal 10 dB)"
    )
    steady = Explanation("clip 1", [], deviation * 0, spectrogram * 0 - 45.0 + 0.1, None, edges, reference)
    assert steady.summary().startswith("no band departs from normal; nearest to departing:")
