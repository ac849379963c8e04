"""audioad report on long recordings, segment CSVs and files that fail: it reports what audioad score scored."""

import csv
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows

from audioad import MelKNN
from audioad.report import run_report, run_report_of_scores
from audioad.watch import WATCH_COLUMNS

SR = 16000
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _machine(n, seed):
    """A machine's hum in noise: what it sounds like running normally."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    return (0.05 * rng.standard_normal(n) + 0.1 * np.sin(2 * np.pi * 120 * t)).astype(np.float32)


def _recording():
    """40 s of normal running with a 3 kHz tone at 0:30-0:31: a fault a 1 s segment catches and the whole file hides."""
    y = _machine(40 * SR, 99)
    y[30 * SR : 31 * SR] += 0.3 * np.sin(2 * np.pi * 3000 * np.arange(SR) / SR)
    return y


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """A model fitted on 1 s clips, a 40 s recording with a fault, and audioad score's segment CSV of it."""
    root = tmp_path_factory.mktemp("long")
    (root / "train").mkdir()
    for i in range(12):
        sf.write(root / "train" / f"{i}.wav", _machine(SR, i), SR)
    sf.write(root / "motor.wav", _recording(), SR)
    model = root / "motor.audioad"
    assert audioad("fit", root / "train", "--detector", "mel-knn", "--out", model, "-q").returncode == 0
    scores = root / "scores.csv"
    result = audioad("score", model, root / "motor.wav", "--out", scores, "-q")
    assert result.returncode == 0, result.stderr
    return root, model, scores


def _data(page):
    return json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page).group(1))


def _table_scores(page):
    """Each row's score in the clip table, and each row's time cell."""
    body = re.search(r'<table id="clips">.*?</table>', page, re.S).group(0)
    scores = [float(v) for v in re.findall(r'<td class="num" data-value="([^"]+)">[-\d.]+</td><td class="num"', body)]
    times = re.findall(r"<td class=\"num\" data-value=\"[^\"]+\">(\d:\d\d:\d\d-\d:\d\d:\d\d)</td>", body)
    return scores, times


def test_a_long_recording_is_reported_in_segments_with_the_verdict_score_gave(long_run):
    root, model, scores = long_run
    out = root / "report.html"
    result = audioad("report", model, root / "motor.wav", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    written = rows(scores)
    (summary,) = rows(root / "scores.files.csv")
    assert summary["verdict"] == "alarm" and summary["worst_start"] == "30.0"
    # The same segments, scores and verdict as audioad score wrote; the verdict line as it printed it.
    table, times = _table_scores(page)
    assert len(table) == len(written) == 40 and "0:00:30-0:00:31" in times
    assert sorted(table) == pytest.approx(sorted(float(r["score"]) for r in written), rel=1e-9)
    assert _data(page)["recordings"] == [{"path": str(root / "motor.wav"), "verdict": "alarm"}]
    assert re.search(r"motor\.wav: ALARM: from 0:00:30 .*worst 0:00:30-0:00:31", result.stdout)
    # The recording view, and the flagged segment with its explanation and sound.
    view = re.search(r'<div class="recording".*?</div></div>', page, re.S).group(0)
    assert 'data-verdict="alarm"' in view and view.count("data:image/png;base64,iVBOR") >= 2
    assert re.search(r"motor\.wav 0:00:30-0:00:31 <small>score [\d.]+ · flagged", view)
    assert re.search(r"\+\d+ dB at 2\.9-3\.1 kHz, 30\.\d\d-3\d\.\d\d s", view)
    assert "data:audio/wav;base64,UklGR" in view
    assert "1 shown in full" in result.stdout


def test_python_reports_the_segments_scores_and_verdict_of_score_segments():
    detector = MelKNN(n_mels=32).fit([_machine(SR, i) for i in range(12)])
    recording = (_recording(), SR)
    with pytest.warns(UserWarning, match="much longer than the training clips"):
        expected = detector.score_segments([recording])
    with pytest.warns(UserWarning, match="much longer than the training clips"):
        run = run_report(detector, [recording], top=1)
    assert [verdict for _, verdict in run.verdicts] == expected.verdicts
    assert run.shown == 1 and run.failures == []
    table, _ = _table_scores(run.page)
    assert sorted(table) == pytest.approx(sorted(row.score for row in expected.rows), rel=1e-9)
    assert f"Alarm level</th><td>{expected.levels.alarm:.4g}" in run.page


def test_a_segment_csv_is_read_as_one_and_its_labels_are_not_ground_truth(long_run):
    root, model, scores = long_run
    out = root / "from-csv.html"
    result = audioad("report", model, scores, "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    assert "duplicate" not in result.stderr
    page = out.read_text()
    table, _ = _table_scores(page)
    assert sorted(table) == pytest.approx(sorted(float(r["score"]) for r in rows(scores)), rel=1e-9)
    assert _data(page)["recordings"][0]["verdict"] == "alarm"
    data = _data(page)
    # The CSV's label is audioad's prediction: it flags segments, and gives no false-alarm or detection rate.
    assert data["flagged"] == sum(r["label"] == "1" for r in rows(scores)) >= 1
    assert "normal" not in data and "detection_rate" not in data and "ROC curve" not in page


def test_a_watch_csv_is_read_as_segments(long_run, tmp_path):
    root, model, scores = long_run
    from audioad.persistence import load

    watch = tmp_path / "watch.csv"
    with open(watch, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(WATCH_COLUMNS)
        for r in rows(scores):
            writer.writerow((r["path"], r["start"], r["end"], r["score"], r["label"], "", "2026-01-01T00:00:00", ""))
    run = run_report_of_scores(load(model), watch, top=1)
    (summary,) = rows(root / "scores.files.csv")
    assert [(name, verdict.state) for name, verdict in run.verdicts] == [(summary["path"], summary["verdict"])]
    assert run.shown == 1 and run.failures == []


def test_a_score_csv_given_with_other_inputs_is_refused(long_run):
    root, model, scores = long_run
    result = audioad("report", model, scores, root / "motor.wav", "--out", root / "mixed.html")
    assert result.returncode == 2 and "scores.csv: a score CSV is reported alone" in result.stderr


def test_a_missing_file_is_named_on_the_page_and_fails_the_run(long_run):
    root, model, _ = long_run
    out = root / "missing.html"
    result = audioad("report", model, root / "train" / "0.wav", root / "gone.wav", "--out", out, "-q")
    assert result.returncode == 1
    assert re.search(r"Error: 1 not scored or not shown \(named in .*missing\.html\): .*gone\.wav: file not found",
                     result.stderr)  # fmt: skip
    assert "1 shown in full" in result.stdout
    page = out.read_text()  # the clip that scored is still reported
    assert re.search(r'<ul id="failures"><li>.*gone\.wav: file not found', page)
    assert _data(page)["scored"] == 1 and len(_data(page)["failures"]) == 1


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: scripts/test installs Debian chromium where it can")
def test_the_long_recording_report_renders_in_a_browser(long_run, tmp_path):
    root, model, _ = long_run
    out = root / "report.html"
    if not out.exists():
        assert audioad("report", model, root / "motor.wav", "--out", out, "-q").returncode == 0
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--enable-logging=stderr",
         "--v=0", "--hide-scrollbars", "--dump-dom", f"--screenshot={shot}", "--window-size=1300,3000",
         out.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert [line for line in result.stderr.splitlines() if "CONSOLE" in line] == []
    assert 'data-ready="1"' in result.stdout and '<pre id="js-errors"></pre>' in result.stdout


def test_clips_scored_whole_get_no_word_on_an_alarm_level_they_are_not_read_against(long_run, tmp_path):
    """A clip CSV, or short clips, have no file verdicts: `score` and `report` say nothing of an alarm level."""
    root, model, _ = long_run
    clips = audioad("score", model, root / "train", "--out", tmp_path / "clips.csv", "-q")
    report = audioad("report", model, tmp_path / "clips.csv", "--out", tmp_path / "clips.html", "-q")
    audio = audioad("report", model, root / "train", "--out", tmp_path / "audio.html", "-q")
    for run in (clips, report, audio):
        assert run.returncode == 0, run.stderr
        assert "alarm level" not in run.stderr, run.stderr


def test_the_training_clips_length_is_said_once_where_they_are_all_alike(long_run, tmp_path):
    root, model, _ = long_run
    run = audioad("report", model, root / "train", "--out", tmp_path / "r.html", "-q")
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "r.html").read_text()
    assert "12 normal clips, 1.0 s each" in page and "1.0-1.0 s" not in page
