"""One scoring path (issue 23): the same long recording through score, watch, plot, report and Python.

Each of ``audioad score --segment``, ``audioad watch`` (a folder, and ``--growing``), ``audioad plot
--segment``, ``audioad report`` and :meth:`~audioad.detectors.base.ClipDetector.score_segments` must
give the same segment scores, the same segment and file thresholds, and the same verdict. Where a
command prints a number rounded (watch and plot print thresholds to 3 digits, the report page to 4),
it is compared as printed, and its labels and alerts, row by row, show on which side of the
thresholds each score fell.
"""

import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows
from test_watch_growing import RECORDERS, wait_for

from audioad import load

SR = 16000
SEGMENT = "10s"
MINUTES = 3


def _machine(seconds, seed):
    """A machine's hum in noise: what it sounds like running normally."""
    rng = np.random.default_rng(seed)
    t = np.arange(seconds * SR) / SR
    return (0.05 * rng.standard_normal(t.size) + 0.1 * np.sin(2 * np.pi * 120 * t)).astype(np.float32)


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """A model fitted in 10 s segments on 3 minutes of normal running; 3 minutes with a 3 kHz fault at 1:30-1:40."""
    root = tmp_path_factory.mktemp("one-path")
    sf.write(root / "normal.wav", _machine(MINUTES * 60, 1), SR, subtype="PCM_16")
    recording = _machine(MINUTES * 60, 2)
    recording[90 * SR : 100 * SR] += 0.3 * np.sin(2 * np.pi * 3000 * np.arange(10 * SR) / SR)
    (root / "recorder").mkdir()
    path = root / "recorder" / "motor.wav"
    sf.write(path, recording, SR, subtype="PCM_16")
    model = root / "motor.audioad"
    fitted = audioad("fit", root / "normal.wav", "--detector", "mel-knn", "--segment", SEGMENT, "--out", model, "-q")
    assert fitted.returncode == 0, fitted.stderr
    expected = load(model).score_segments([str(path)], segment=SEGMENT)
    return root, model, path, expected


def _verdict_line(expected, path):
    return expected.verdicts[0].line(str(path))


def test_score_gives_python_s_segments_thresholds_and_verdict(long_run):
    root, model, path, expected = long_run
    out = root / "scores.csv"
    result = audioad("score", model, path, "--segment", SEGMENT, "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    written = rows(out)
    assert [(float(r["start"]), float(r["end"])) for r in written] == [(r.start, r.end) for r in expected.rows]
    # Scores are written as their repr: read back bit for bit.
    assert [float(r["score"]) for r in written] == [r.score for r in expected.rows]
    assert [int(r["label"]) for r in written] == [r.label for r in expected.rows]
    [summary] = rows(root / "scores.files.csv")
    levels = expected.levels
    assert (float(summary["threshold"]), float(summary["file_threshold"])) == (levels.segment, levels.alarm)
    assert summary["rule"] == str(levels.rule) and summary["verdict"] == expected.verdicts[0].state
    assert expected.verdicts[0].state == "alarm" and expected.files[0].worst_start == 90.0
    assert _verdict_line(expected, path) in result.stdout.splitlines()


def _watch(model, folder, out, *more):
    args = ["watch", model, folder, "--segment", SEGMENT, "--out", out, "--poll", "0.1", *more]
    return subprocess.Popen(
        [sys.executable, "-m", "audioad", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _same_as_python(out, stderr, expected):
    """A watch CSV and its stderr against Python's run: segments, scores, labels, thresholds, alarm."""
    written = rows(out)
    assert [(float(r["start"]), float(r["end"])) for r in written] == [(r.start, r.end) for r in expected.rows]
    assert [float(r["score"]) for r in written] == pytest.approx([r.score for r in expected.rows], rel=1e-9)
    assert [int(r["label"]) for r in written] == [r.label for r in expected.rows]
    levels = expected.levels
    assert f"segment threshold {levels.segment:.3g}; alarm when any segment is above {levels.alarm:.3g}" in stderr
    # Rule "any", no --clear: the alert is up from the first segment above the alarm level, as the verdict has it.
    alerted = [float(r["start"]) for r in written if r["alert"] == "1"]
    assert alerted[:1] == [expected.files[0].flagged_at]
    assert [r.start for r in expected.rows if r.score > levels.alarm] == alerted


def test_watch_on_a_folder_gives_python_s_segments_thresholds_and_alarm(long_run, tmp_path):
    root, model, path, expected = long_run
    out = tmp_path / "watch.csv"
    watch = _watch(model, path.parent, out, "--settle", "0.5", "--idle-exit", "2")
    try:
        _, stderr = watch.communicate(timeout=300)
    finally:
        watch.kill()
    assert watch.returncode == 0, stderr
    _same_as_python(out, stderr, expected)


def test_watch_growing_gives_python_s_segments_thresholds_and_alarm(long_run, tmp_path):
    root, model, path, expected = long_run
    folder, out = tmp_path / "recorder", tmp_path / "watch.csv"
    folder.mkdir()
    watch = _watch(model, folder, out, "--growing", "--settle", "3", "--idle-exit", "1")
    try:
        started = next(line for line in watch.stderr if line.startswith("watching"))  # the model is loaded
        writing = RECORDERS["arecord"](folder / "motor.wav")
        pcm = sf.read(path, dtype="int16")[0] / 2**15  # the samples of the file the other commands read
        for piece in np.array_split(pcm, 6):
            writing.write(piece)
        wait_for(lambda: out.exists() and len(rows(out)) >= 6, seconds=120)  # before the file is finished
        writing.close()
        _, stderr = watch.communicate(timeout=300)
    finally:
        watch.kill()
    assert watch.returncode == 0, stderr
    assert "WAV files scored as they grow" in started
    _same_as_python(out, started + stderr, expected)


def test_plot_gives_python_s_verdict(long_run, tmp_path):
    root, model, path, expected = long_run
    result = audioad("plot", model, path, "--segment", SEGMENT, "--out", tmp_path / "plot.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("; " + _verdict_line(expected, path))


def _page_scores(page):
    """The clip table's scores, sorted: each cell's data-value is the score's repr."""
    body = re.search(r'<table id="clips">.*?</table>', page, re.S).group(0)
    scores = re.findall(r'<td class="num" data-value="([^"]+)">[-\d.]+</td><td class="num"', body)
    return sorted(float(v) for v in scores)


@pytest.mark.parametrize("given", ["audio", "segment CSV"])
def test_report_gives_python_s_segments_thresholds_and_verdict(long_run, tmp_path, given):
    root, model, path, expected = long_run
    scores = tmp_path / "scores.csv"
    if given == "audio":
        inputs = [path, "--segment", SEGMENT]
    else:
        written = audioad("score", model, path, "--segment", SEGMENT, "--out", scores, "-q")
        assert written.returncode == 0, written.stderr
        inputs = [scores]
    out = tmp_path / "report.html"
    result = audioad("report", model, *inputs, "--out", out, "--top", "1", "-q")
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert _page_scores(page) == sorted(r.score for r in expected.rows)
    levels = expected.levels
    assert f"Alarm level</th><td>{levels.alarm:.4g} (rule any" in page
    assert f"Segment threshold</th><td>{levels.segment:.4g} " in page
    assert _verdict_line(expected, path) in result.stdout.splitlines()


def test_report_takes_score_s_threshold_options(long_run, tmp_path):
    """The same --threshold and --file-false-alarm-rate give report the thresholds and verdict they give score."""
    root, model, path, expected = long_run
    options = ["--segment", SEGMENT, "--false-alarm-rate", "0.2", "--file-false-alarm-rate", "20"]
    scored = audioad("score", model, path, *options, "--out", tmp_path / "scores.csv", "-q")
    assert scored.returncode == 0, scored.stderr
    [summary] = rows(tmp_path / "scores.files.csv")
    assert float(summary["threshold"]) != expected.levels.segment  # the options change the thresholds
    result = audioad("report", model, path, *options, "--out", tmp_path / "report.html", "--top", "0", "-q")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report.html").read_text()
    assert f"Segment threshold</th><td>{float(summary['threshold']):.4g} " in page
    assert f"Alarm level</th><td>{float(summary['file_threshold']):.4g} " in page
    verdicts = [line for line in scored.stdout.splitlines() if line.startswith(str(path))]
    assert verdicts and all(line in result.stdout.splitlines() for line in verdicts)
