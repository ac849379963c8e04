"""`audioad fit/score --segment`: one long recording to fit on, a row a segment, a summary a file."""

import re

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows
from test_segments import FILE_THRESHOLD_GAP, SR, bldc_recordings, noise


@pytest.fixture(scope="module")
def pasted(tmp_path_factory):
    """A normal training recording (WAV), a 4-minute FLAC with a bearing fault at 2:00, and its model."""
    folder = tmp_path_factory.mktemp("pasted")
    train, test = bldc_recordings(minutes=4, fault_at=120)
    sf.write(folder / "normal.wav", train, SR, subtype="PCM_16")
    sf.write(folder / "long.flac", test, SR, subtype="PCM_16")
    fitted = audioad("fit", folder / "normal.wav", "--segment", "10s", "--out", folder / "motor.audioad", "-q")
    assert fitted.returncode == 0, fitted.stderr
    assert "segments of 10 s" in fitted.stdout
    return folder


@pytest.fixture(scope="module")
def scored(pasted):
    """``audioad score`` of the 4-minute file in 10 s segments: the run, its rows and its file summary."""
    out = pasted / "scores.csv"
    run = audioad("score", pasted / "motor.audioad", pasted / "long.flac", "--segment", "10s", "--out", out, "-q")
    assert run.returncode == 0, run.stderr
    [summary] = rows(pasted / "scores.files.csv")
    return run, rows(out), summary


def test_the_pasted_fault_is_found_at_its_minute(scored):
    run, table, summary = scored
    assert len(table) == 24 and list(table[0]) == [
        "path",
        "start",
        "end",
        "score",
        "label",
        "peak_time",
        "error",
        "warning",
    ]
    worst = max(table, key=lambda row: float(row["score"]))
    assert (worst["start"], worst["end"], worst["label"]) == ("120.0", "130.0", "1")
    assert (summary["worst_start"], summary["worst_end"]) == ("120.0", "130.0") and "2" in summary["minutes"].split()
    assert "0:02:00-0:02:10" in run.stdout


def test_an_extrapolated_file_threshold_says_so(scored):
    run, _, summary = scored
    # 0.1 false alarms an hour of 10 s segments: one segment in 3,600, from a few held-out segments.
    assert f"note: alarm level {float(summary['file_threshold']):.3g} is a guess" in run.stderr
    assert re.search(
        r"once in 3,600 segments, extrapolated from \d+ segments \(\d+ min\) of the held-out training audio", run.stderr
    )


@FILE_THRESHOLD_GAP
def test_the_file_with_the_pasted_fault_is_flagged(scored):
    run, _, summary = scored
    assert summary["verdict"] == "alarm" and summary["flagged_at"] == "120.0"
    assert "long.flac: ALARM: from 0:02:00" in run.stdout


def test_a_long_file_is_cut_at_the_training_length_unasked(pasted):
    out = pasted / "auto.csv"
    run = audioad("score", pasted / "motor.audioad", pasted / "long.flac", "--out", out, "-q")
    assert run.returncode == 0, run.stderr
    assert "note: 1 recording(s) much longer than the training clips: scored in 10 s segments" in run.stderr
    assert len(rows(out)) == 24


def test_thresholds_are_set_by_score_or_false_alarm_rate(pasted):
    model = pasted / "motor.audioad"
    low = audioad(
        "score", model, pasted / "long.flac", "--segment", "10s", "--threshold", "-100", "-o", pasted / "a.csv"
    )
    assert low.returncode == 0, low.stderr
    assert {row["label"] for row in rows(pasted / "a.csv")} == {"1"}
    rare = audioad(
        "score", model, pasted / "long.flac", "--segment", "10s", "--false-alarm-rate", "0.001", "-o", pasted / "b.csv"
    )
    assert rare.returncode == 0, rare.stderr
    assert sum(row["label"] == "1" for row in rows(pasted / "b.csv")) <= 1
    both = audioad(
        "score", model, pasted / "long.flac", "--threshold", "1", "--false-alarm-rate", "0.1", "-o", pasted / "c.csv"
    )
    assert both.returncode == 2 and "pass one of them" in both.stderr
    # Two of three consecutive segments: one faulty segment alone does not flag the file.
    strict = audioad("score", model, pasted / "long.flac", "--segment", "10s", "--rule", "2/3", "-o", pasted / "d.csv")
    assert strict.returncode == 0 and rows(pasted / "d.files.csv")[0]["verdict"] in ("normal", "unusual")
    bad = audioad("score", model, pasted / "long.flac", "--segment", "ten", "-o", pasted / "e.csv")
    assert bad.returncode == 2 and "ten" in bad.stderr


def test_a_corrupt_file_gets_its_error_row_and_the_rest_is_scored(pasted, tmp_path):
    corrupt = tmp_path / "torn.wav"
    corrupt.write_bytes(b"RIFF\x00\x00")
    sf.write(tmp_path / "short.wav", noise(25, 4), SR)
    out = tmp_path / "scores.csv"
    run = audioad("score", pasted / "motor.audioad", corrupt, tmp_path / "short.wav", "--segment", "10s", "-o", out)
    assert run.returncode == 1 and "torn.wav" in run.stderr
    table = rows(out)
    assert [row["path"].rsplit("/", 1)[-1] for row in table] == ["torn.wav", "short.wav", "short.wav", "short.wav"]
    assert table[0]["error"] and [row["end"] for row in table[1:]] == ["10.0", "20.0", "25.0"]
    files = rows(tmp_path / "scores.files.csv")
    assert [row["verdict"] for row in files][0] == "not scored" and "decode" in files[0]["error"]
    assert files[1]["segments"] == "3"


def test_fit_on_one_long_recording_without_segment_cuts_it(tmp_path):
    sf.write(tmp_path / "hour.wav", np.concatenate([noise(35, 1), noise(35, 2)]), SR)
    run = audioad("fit", tmp_path / "hour.wav", "--out", tmp_path / "m", "-q")
    assert run.returncode == 0, run.stderr
    assert "note: a training recording lasts 70 s" in run.stderr and "7 segments of 10 s" in run.stdout


def test_fit_on_one_short_recording_says_to_cut_it(tmp_path):
    sf.write(tmp_path / "half-minute.wav", noise(30, 1), SR)
    run = audioad("fit", tmp_path / "half-minute.wav", "--out", tmp_path / "m", "-q")
    assert run.returncode == 1 and "--segment 10s" in run.stderr
    cut = audioad("fit", tmp_path / "half-minute.wav", "--segment", "5s", "--out", tmp_path / "m", "-q")
    assert cut.returncode == 0 and "6 segments of 5 s" in cut.stdout


def test_resume_goes_on_inside_the_file_it_stopped_in(pasted, tmp_path):
    sf.write(tmp_path / "short.wav", noise(25, 4), SR)
    inputs = [pasted / "motor.audioad", pasted / "long.flac", tmp_path / "short.wav", "--segment", "10s", "-q"]
    full = audioad("score", *inputs, "-o", tmp_path / "full.csv")
    assert full.returncode == 0, full.stderr
    # An interrupted run: 10 of long.flac's 24 rows and a torn line, no file summary yet.
    lines = (tmp_path / "full.csv").read_text().splitlines(keepends=True)
    (tmp_path / "cut.csv").write_text("".join(lines[:11]) + lines[11][:15])
    (tmp_path / "full.csv.audioad-model").rename(tmp_path / "cut.csv.audioad-model")
    resumed = audioad("score", *inputs, "-o", tmp_path / "cut.csv", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert rows(tmp_path / "cut.csv") == rows(tmp_path / "full.csv")
    assert rows(tmp_path / "cut.files.csv") == rows(tmp_path / "full.files.csv")
    again = audioad("score", *inputs, "-o", tmp_path / "cut.csv", "--resume")
    assert again.returncode == 0 and "the 2 files are already in" in again.stdout
    assert len(rows(tmp_path / "cut.csv")) == 27


def test_thresholds_from_normal_recordings_the_model_did_not_hear(pasted, tmp_path):
    _, normal = bldc_recordings(minutes=3, fault_at=0)
    sf.write(tmp_path / "normal.wav", normal[10 * SR :], SR, subtype="PCM_16")
    out = tmp_path / "scores.csv"
    args = ["score", pasted / "motor.audioad", pasted / "long.flac", "--segment", "10s", "-o", out]
    run = audioad(*args, "--calibrate", tmp_path / "normal.wav", "--false-alarm-rate", "0.05")
    assert run.returncode == 0, run.stderr
    assert "thresholds from 17 segments of 1 normal recording(s)" in run.stderr
    [summary] = rows(tmp_path / "scores.files.csv")
    assert summary["verdict"] == "alarm" and summary["flagged_at"] == "120.0"
    default = audioad(*args[:-1], tmp_path / "default.csv")
    assert default.returncode == 0, default.stderr
    assert float(summary["file_threshold"]) != float(rows(tmp_path / "default.files.csv")[0]["file_threshold"])


def test_a_fault_below_a_guessed_alarm_level_is_unusual_with_what_to_do(scored):
    """Issue 24, 1: the fault is above every held-out normal segment, the alarm level a guess: "unusual, review it"."""
    run, _, summary = scored
    [line] = [line for line in run.stdout.splitlines() if line.startswith(str(summary["path"]))]
    if summary["verdict"] == "alarm":  # where the alarm level is low enough (the synthetic recording)
        assert "ALARM: from 0:02:00" in line and "listen to 0:02:00-0:02:10 and inspect the machine" in line
        return
    assert summary["verdict"] == "unusual" and ": normal;" not in line
    assert line.startswith(f"{summary['path']}: unusual, review it: 0:02:00-0:02:10 scores ")
    assert "higher than all 14 segments of normal running the model was tested on" in line
    assert "record 20 more minutes of normal running and fit again, or pass --calibrate normal.wav" in line
    assert "unusual" in run.stdout.splitlines()[-1]


def test_python_and_the_command_give_the_same_verdict(pasted, scored):
    from audioad import load

    _, _, summary = scored
    result = load(pasted / "motor.audioad").score_segments([str(pasted / "long.flac")], segment="10s")
    [verdict] = result.verdicts
    assert verdict.state == summary["verdict"]
    assert float(summary["file_threshold"]) == pytest.approx(result.levels.alarm)
    assert verdict.line(summary["path"]).split(" Next: ")[0] in scored[0].stdout


def test_watch_says_when_a_segment_is_unusual(pasted, tmp_path):
    """Issue 24, 1: watch wrote label 1, alert 0 and printed nothing for the fault."""
    folder = tmp_path / "recorder"
    folder.mkdir()
    (folder / "long.flac").write_bytes((pasted / "long.flac").read_bytes())
    out = tmp_path / "watch.csv"
    args = ["--segment", "10s", "--settle", "0.1", "--poll", "0.1", "--idle-exit", "1"]
    run = audioad("watch", pasted / "motor.audioad", folder, "--out", out, *args)
    assert run.returncode == 0, run.stderr
    fault = [row for row in rows(out) if row["start"] == "120.0"]
    assert fault[0]["label"] == "1"
    if fault[0]["alert"] == "0":
        assert "unusual, review it: " in run.stdout and "0:02:00-0:02:10 scores" in run.stdout
    else:
        assert "ALERT raised" in run.stdout and "0:02:00-0:02:10" in run.stdout


def test_after_resume_the_summary_counts_every_file(pasted, tmp_path):
    """Issue 24, 11: after --resume the summary counted only the resumed part."""
    sf.write(tmp_path / "short.wav", noise(25, 4), SR)
    inputs = [pasted / "motor.audioad", pasted / "long.flac", tmp_path / "short.wav", "--segment", "10s", "-q"]
    full = audioad("score", *inputs, "-o", tmp_path / "full.csv")
    assert full.returncode == 0, full.stderr
    # Stopped after long.flac's 24 rows and its summary, one row into short.wav.
    lines = (tmp_path / "full.csv").read_text().splitlines(keepends=True)
    (tmp_path / "cut.csv").write_text("".join(lines[:26]))
    summary = (tmp_path / "full.files.csv").read_text().splitlines(keepends=True)
    (tmp_path / "cut.files.csv").write_text("".join(summary[:2]))
    (tmp_path / "full.csv.audioad-model").rename(tmp_path / "cut.csv.audioad-model")
    resumed = audioad("score", *inputs, "-o", tmp_path / "cut.csv", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    [line] = [line for line in resumed.stdout.splitlines() if line.startswith("scored ")]
    assert "1 already in" in line and "of all 2 files, " in line
    counts = re.search(r"of all 2 files, ([^(]*) \(", line).group(1)
    assert sum(int(part.split()[0]) for part in counts.split(", ")) == 2, line


def test_calibrate_sets_both_thresholds_and_says_so_in_its_own_words(pasted, tmp_path):
    """Issue 23, finding 5: --calibrate alone sets the segment threshold too; its notes suit one who passed it."""
    from audioad import load
    from audioad.scoring import calibration_scores
    from audioad.thresholds import segment_threshold

    _, normal = bldc_recordings(minutes=3, fault_at=0)
    sf.write(tmp_path / "normal.wav", normal[10 * SR :], SR, subtype="PCM_16")
    out = tmp_path / "scores.csv"
    run = audioad(
        "score", pasted / "motor.audioad", pasted / "long.flac", "--segment", "10s", "-o", out,
        "--calibrate", tmp_path / "normal.wav",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    model = load(pasted / "motor.audioad")
    scores = calibration_scores(model, [tmp_path / "normal.wav"], 10.0)
    expected = segment_threshold(scores, "calibration recordings", rule=model.threshold_rule)
    [summary] = rows(tmp_path / "scores.files.csv")
    assert float(summary["threshold"]) == pytest.approx(expected.value)
    assert float(summary["threshold"]) != pytest.approx(model.threshold_)
    used = float(summary["file_threshold"])
    for line in run.stderr.splitlines() + run.stdout.splitlines():
        assert "--calibrate normal.wav" not in line and "or --calibrate" not in line, line
        assert "held-out" not in line, line
        if "alarm level" in line and "is a guess" in line:
            assert f"{used:.3g}" in line and "calibration recordings" in line, line


def test_calibrating_on_too_few_segments_says_the_threshold_will_flag_more(pasted, tmp_path):
    """Issue 22, item 3: 5 calibration segments cannot measure the score 1 in 10 passes, and said nothing.

    Calibrated on a handful of new normal clips, the default passed up to 0.40 of the others on the development
    sets, against 0.1 wanted (benchmarks/false_alarms.py).
    """
    _, normal = bldc_recordings(minutes=3, fault_at=0)
    notes = {}
    for seconds in (50, 170):
        sf.write(tmp_path / f"normal{seconds}.wav", normal[10 * SR : (10 + seconds) * SR], SR, subtype="PCM_16")
        run = audioad(
            "score", pasted / "motor.audioad", pasted / "long.flac", "--segment", "10s",
            "-o", tmp_path / f"scores{seconds}.csv", "--calibrate", tmp_path / f"normal{seconds}.wav",
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        notes[seconds] = [line for line in run.stderr.splitlines() if "segment threshold" in line]
    [note] = notes[50]
    assert "rests on 5 segments of the calibration recordings" in note and "1 in 10 normal segments" in note
    assert "more calibration recordings measure it" in note
    assert notes[170] == []


def test_python_and_the_command_line_give_the_same_verdict(pasted, tmp_path):
    """Issue 23, finding 4: score_segments(...).files and `audioad score` agree with defaults."""
    from audioad import load

    out = tmp_path / "scores.csv"
    run = audioad("score", pasted / "motor.audioad", pasted / "long.flac", "--segment", "10s", "-o", out, "-q")
    assert run.returncode == 0, run.stderr
    [summary] = rows(tmp_path / "scores.files.csv")
    result = load(pasted / "motor.audioad").score_segments([pasted / "long.flac"], segment="10s")
    assert result.verdicts[0].state == summary["verdict"]
    assert result.levels.alarm == pytest.approx(float(summary["file_threshold"]))
    assert result.levels.segment == pytest.approx(float(summary["threshold"]))
    assert [f"{row.score:.6g}" for row in result.rows] == [f"{float(r['score']):.6g}" for r in rows(out)]
