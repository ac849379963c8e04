"""Long recordings cut into segments: fit on one recording, one row a segment, file summaries, verdicts."""

import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioad import MelKNN, default_detector, load, save
from audioad.audio import LONG_FILE_BYTES, is_long_file, load_audio
from audioad.segments import (
    FileSummaries,
    Segmenter,
    SegmentNotice,
    cut,
    parse_duration,
    parse_rule,
    summarize,
)
from audioad.thresholds import false_alarm_threshold, file_threshold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from common import DEFAULT_DATA  # noqa: E402
from pasted_fault import pasted_fault_recordings  # noqa: E402

SR = 16000
BLDC = DEFAULT_DATA / "bldc_motor" / "manifest.csv"


def noise(seconds, seed=0, level=0.1):
    return (level * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def test_durations_parse_and_bad_ones_say_what_to_write():
    assert [parse_duration(v) for v in ("10s", "2.5s", "1min", "500ms", "1h", 3, "4")] == [
        10.0,
        2.5,
        60.0,
        0.5,
        3600.0,
        3.0,
        4.0,
    ]
    for bad in ("ten seconds", "-1s", 0, "3 parsecs", None, float("nan")):
        with pytest.raises(ValueError, match="segment"):
            parse_duration(bad, "segment")


@pytest.mark.parametrize("segment,hop", [(10, 10), (10, 4), (10, 13), (7, 7)])
def test_segments_do_not_depend_on_block_sizes(segment, hop):
    y = np.arange(101, dtype=np.float32)
    whole = Segmenter(segment, hop)
    expected = whole.push(y) + whole.finish()
    for size in (1, 3, 9, 50):
        cutter = Segmenter(segment, hop)
        got = [s for i in range(0, len(y), size) for s in cutter.push(y[i : i + size])] + cutter.finish()
        assert [(start, wave.tolist()) for start, wave in got] == [(start, wave.tolist()) for start, wave in expected]
    for start, wave in expected:
        assert wave.tolist() == y[start : start + segment].tolist()
    # The last sample is always in a segment.
    assert expected[-1][0] + len(expected[-1][1]) == len(y)


def test_a_recording_shorter_than_a_segment_is_one_segment():
    cutter = Segmenter(100, 100)
    assert cutter.push(np.ones(30)) == []
    [(start, wave)] = cutter.finish()
    assert start == 0 and len(wave) == 30


def test_a_file_is_cut_as_it_streams_into_the_samples_of_the_whole_file(tmp_path):
    # 40 s: the stream decodes it in three blocks, and segments straddle them.
    path = tmp_path / "long.wav"
    sf.write(path, np.column_stack([noise(40, 1), noise(40, 2)]), SR, subtype="PCM_16")
    y = load_audio(path, sr=SR)[0]
    segments = list(cut(path, SR, "3s", "2s"))
    assert [s.start for s in segments][:3] == [0.0, 2.0, 4.0] and segments[-1].end == 40.0
    for s in segments:
        np.testing.assert_array_equal(s.wave, y[round(s.start * SR) : round(s.end * SR)])


@pytest.mark.parametrize("make", [MelKNN, default_detector])
def test_a_segment_scores_as_the_same_audio_scored_alone(tmp_path, make):
    path = tmp_path / "recording.wav"
    sf.write(path, noise(40, 3), SR, subtype="PCM_16")
    detector = make().fit([noise(30, 4)], segment="2s")
    y = load_audio(path, sr=SR)[0]
    rows = detector.score_segments([str(path)], segment="2.5s", hop="1s").rows
    alone = detector.decision_function([y[round(r.start * SR) : round(r.end * SR)] for r in rows])
    np.testing.assert_array_equal([r.score for r in rows], alone)
    assert [r.label for r in rows] == [int(s > detector.threshold_) for s in alone]


def test_fit_on_one_long_recording_works_and_says_it_cut_it():
    recording = noise(70, 5)
    with pytest.warns(SegmentNotice, match="10 s segments"):
        detector = default_detector().fit([recording])
    assert len(detector.decision_scores_) == 7 and detector.segment_seconds_ == 10.0
    explicit = default_detector().fit([recording], segment="10s", hop="5s")
    assert len(explicit.decision_scores_) == 13 and explicit.segment_hop_seconds_ == 5.0


def test_clips_are_used_whole_as_before():
    clips = [noise(1, seed) for seed in range(6)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentNotice)
        detector = MelKNN().fit(clips)
        result = detector.score_segments(clips[:3])
    assert detector.segment_seconds_ is None and len(detector.decision_scores_) == 6
    np.testing.assert_array_equal([r.score for r in result.rows], detector.decision_function(clips[:3]))
    assert [(r.start, r.end) for r in result.rows] == [(0.0, 1.0)] * 3


def test_a_recording_much_longer_than_the_training_clips_is_cut_at_their_length():
    detector = MelKNN().fit([noise(2, seed) for seed in range(6)])
    with pytest.warns(SegmentNotice, match="1 recording"):
        result = detector.score_segments([noise(2, 9), noise(9, 10)])
    assert [(r.clip, r.start, r.end) for r in result.rows] == [(0, 0.0, 2.0)] + [
        (1, s, min(s + 2.0, 9.0)) if s < 8 else (1, 7.0, 9.0) for s in (0.0, 2.0, 4.0, 6.0, 8.0)
    ]


def test_a_bad_recording_gets_an_error_row_and_the_others_are_scored(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really")
    detector = MelKNN().fit([noise(10, 1)], segment="1s")
    result = detector.score_segments([noise(3, 2), str(bad), noise(2, 3)], segment="1s")
    assert [r.clip for r in result.rows] == [0, 0, 0, 1, 2, 2]
    error = result.rows[3]
    assert error.path == str(bad) and "cannot decode" in error.error and math.isnan(error.score)
    assert [f.n_segments for f in result.files] == [3, 0, 2] and "cannot decode" in result.files[1].error


def test_rules_and_summaries():
    assert parse_rule("3/5").first_hold([1, 0, 1, 0, 0, 1, 1, 0]) == 6
    assert parse_rule("any").first_hold([0, 0, 1]) == 2
    assert parse_rule("2 of 2").first_hold([1, 0, 1, 0]) == -1
    for bad in ("3/2", "0/3", "most", (2, 1)):
        with pytest.raises(ValueError, match="rule"):
            parse_rule(bad)
    starts = np.arange(0, 300, 10.0)
    scores = np.zeros(30)
    scores[[7, 13, 14]] = [1.5, 3.0, 1.2]
    summary = summarize(4, "x.wav", starts, starts + 10, scores, threshold=1.0, file_threshold=2.0)
    assert (summary.n_above, summary.minutes, summary.worst_start, summary.flagged, summary.flagged_at) == (
        3,
        (1, 2),
        130.0,
        True,
        130.0,
    )
    assert not summarize(4, "x.wav", starts, starts + 10, scores, 1.0, 2.0, rule="2/3").flagged
    files = FileSummaries(1.0, 2.0)
    assert files.add(0, "a", 0, 1, 0.5) == [] and files.add(0, "a", 1, 2, 2.5) == []
    [first] = files.add(1, "b", 0, 1, 0.1)
    assert first.flagged and first.n_segments == 2 and [s.path for s in files.close()] == ["b"]


def test_false_alarm_thresholds():
    scores = np.random.default_rng(0).standard_normal(200)
    assert false_alarm_threshold(scores, 0.1) == pytest.approx(np.quantile(scores, 0.9))
    assert false_alarm_threshold(scores, 1e-4) >= scores.max()
    # A longer hop means fewer segments an hour, so each may alarm more often.
    assert file_threshold(scores, 0.1, 10) > file_threshold(scores, 0.1, 60) > false_alarm_threshold(scores, 0.1)
    with pytest.raises(ValueError, match="false-alarm rate"):
        false_alarm_threshold(scores, 1.5)


def test_segment_model_files_keep_the_segment_length(tmp_path):
    detector = MelKNN().fit([noise(12, 1)], segment="3s", hop="1.5s")
    save(detector, tmp_path / "m.audioad")
    loaded = load(tmp_path / "m.audioad")
    assert (loaded.segment_seconds_, loaded.segment_hop_seconds_) == (3.0, 1.5)


# A known gap, measured where the BLDC recordings are (without them the synthetic stand-in passes).
FILE_THRESHOLD_GAP = pytest.mark.xfail(
    BLDC.exists(),
    strict=True,
    reason=(
        "issue 15: the pasted fault is the worst segment at its minute (3.75 in 35 minutes), but the file "
        "threshold for 0.1 false alarms an hour, extrapolated from the 14 held-out segments of 2 minutes of "
        "training audio (unseen motor speeds, up to 2.84), is 5.51: the fault is flagged from about 3 an hour"
    ),
)


def bldc_recordings(minutes, fault_at):
    """Issue 15's recordings (benchmarks/pasted_fault.py): the BLDC motors' where they are, else a synthetic fan's."""
    return pasted_fault_recordings(minutes, fault_at, "bldc_motor" if BLDC.exists() else "synthetic")


@pytest.fixture(scope="module")
def pasted_fault():
    """The default detector fitted on the normal recording, and its segments of 35 minutes with a fault at 20:00."""
    train, test = bldc_recordings(minutes=35, fault_at=20 * 60)
    detector = default_detector().fit([train], segment="10s")
    level = file_threshold(detector.decision_scores_, per_hour=0.1, hop_seconds=10)
    return detector.score_segments([test], segment="10s", file_threshold=level)


def test_a_ten_second_fault_at_twenty_minutes_of_thirty_five_is_the_worst_segment(pasted_fault):
    [summary] = pasted_fault.files
    assert (summary.n_segments, summary.worst_start, summary.worst_end) == (210, 1200.0, 1210.0)
    assert 20 in summary.minutes
    normal = [row.score for row in pasted_fault.rows if row.start != 1200.0]
    assert summary.worst_score > max(normal)


@FILE_THRESHOLD_GAP
def test_a_ten_second_fault_at_twenty_minutes_of_thirty_five_flags_the_file(pasted_fault):
    [summary] = pasted_fault.files
    assert summary.flagged and summary.flagged_at == 1200.0


def test_long_files_are_long_by_duration_in_every_format(tmp_path):
    # Ten minutes: 38 MB of float32 samples, a few MB of FLAC or OGG (which the old size test took for short).
    quiet = noise(600, 7, level=1e-3)
    for suffix in ("flac", "ogg"):
        # A minute a write: libsndfile's Vorbis encoder crashes on one very large write.
        with sf.SoundFile(tmp_path / f"long.{suffix}", "w", samplerate=SR, channels=1) as f:
            for start in range(0, len(quiet), 60 * SR):
                f.write(quiet[start : start + 60 * SR])
        sf.write(tmp_path / f"short.{suffix}", quiet[: 10 * SR], SR)
        assert os.path.getsize(tmp_path / f"long.{suffix}") < LONG_FILE_BYTES / 2
        assert is_long_file(tmp_path / f"long.{suffix}") and not is_long_file(tmp_path / f"short.{suffix}")
    (tmp_path / "text.wav").write_text("not audio")
    assert not is_long_file(tmp_path / "text.wav")
