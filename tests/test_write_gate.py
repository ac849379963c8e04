"""Every write goes through one gate (issue 26, attacks 5-7 and the smaller findings).

Each test builds what an attacker would leave in a shared folder (a manifest with a hostile machine name,
a planted symbolic or hard link, a file named to forge a log line or run a spreadsheet formula) and checks
that audioad refuses it: nothing is written outside the output, no recording is overwritten.
"""

import csv
import os
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows

from audioad import MelKNN, save
from audioad.folders import resolved
from audioad.outputs import (
    OutputFileError,
    atomic_path,
    check_output,
    csv_cell,
    csv_text,
    one_line,
    open_output,
    safe_component,
)
from audioad.watch import log, log_to

pytestmark = pytest.mark.filterwarnings("ignore")
SR = 16000


def write_clip(path, seed=0, seconds=1.0, tone=None):
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    y = rng.normal(0, 0.1, t.size) + (0.4 * np.sin(2 * np.pi * tone * t) if tone else 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y.astype(np.float32), SR)
    return path


def one_line_error(result, *names):
    """The run was refused (exit 2) with one error line, its last, naming each of ``names``; no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    assert errors == lines[-1:] and "Traceback" not in result.stderr, result.stderr
    for name in names:
        assert str(name) in errors[0], errors[0]
    return errors[0]


def snapshot(folder):
    """Every file under ``folder`` (links not followed): its bytes, or where it links to."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            path = os.path.join(root, name)
            found[path] = ("link", os.readlink(path)) if os.path.islink(path) else open(path, "rb").read()
    return found


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    return [write_clip(folder / f"v{i}.wav", seed=i) for i in range(6)]


@pytest.fixture(scope="module")
def model(recordings, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "fan.audioad"
    save(MelKNN(n_mels=32).fit([str(p) for p in recordings]), path)
    return path


# The gate itself.


@pytest.mark.parametrize(
    "name",
    ["m/../../../TRAVERSED", "..", ".", "", ".hidden", "a\\..\\b", "x\0y", "line\nbreak", "\x1b]0;t\x07", "ü" * 200,
     "/etc/passwd", "C:\\Windows"],
)  # fmt: skip
def test_a_name_from_data_becomes_one_safe_file_name(name, tmp_path):
    clean = safe_component(name)
    assert clean and not clean.startswith(".") and ".." not in clean
    assert not set(clean) & {"/", "\\", "\0"} and clean.isprintable()
    assert len(clean.encode()) <= 100
    (tmp_path / f"roc_{clean}.png").write_bytes(b"x")  # one file, in the folder
    assert os.listdir(tmp_path) == [f"roc_{clean}.png"]
    assert safe_component(name) == clean and safe_component(name + "x") != clean


def test_links_hard_links_and_fifos_are_refused_before_and_while_writing(recordings, tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(recordings[0].read_bytes())
    before = clip.read_bytes()
    planted = {
        "symlink.csv": lambda p: os.symlink(clip, p),
        "dangling.csv": lambda p: os.symlink(tmp_path / "nowhere" / "new.csv", p),
        "hardlink.png": lambda p: os.link(clip, p),
        "renamed.csv": lambda p: p.write_bytes(before),  # a recording under another name
        "fifo.csv": lambda p: os.mkfifo(p),
    }
    for name, plant in planted.items():
        path = tmp_path / name
        plant(path)
        with pytest.raises(OutputFileError, match=name):
            check_output(path, "score CSV", force=True)
        with pytest.raises(OutputFileError, match=name), atomic_path(path) as part:
            part.write_text("never")
        with pytest.raises(OutputFileError, match=name):
            open_output(path, append=True)
    assert clip.read_bytes() == before
    assert not (tmp_path / "nowhere").exists()
    assert not [p for p in os.listdir(tmp_path) if ".part" in p]


def test_a_link_planted_while_writing_is_refused_at_the_rename(recordings, tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(recordings[0].read_bytes())
    target = tmp_path / "report.html"
    with pytest.raises(OutputFileError, match="symbolic link"), atomic_path(target) as part:
        part.write_text("<html>")
        os.symlink(clip, target)  # planted after the check, before the rename
    assert clip.read_bytes() == recordings[0].read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["clip.wav", "report.html"] and target.is_symlink()


def test_csv_cells_are_never_formulas_and_numbers_stay_numbers():
    for text in ("=cmd|' /C calc'!A0", "+1+cmd", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "'quoted"):
        assert csv_cell(text).startswith("'") and csv_text(csv_cell(text)) == text
    for number in ("-1.25", "+3", "-1e-05", "0.5", "-inf", "12"):
        assert csv_cell(number) == number
    assert csv_cell("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert one_line("\u202efdp.wav") == "\\u202efdp.wav"


def test_a_newline_in_a_file_name_does_not_forge_a_log_line(tmp_path):
    path = tmp_path / "watch.log"
    handler = log_to(path)
    try:
        log.error("skipped %s: %s", "pump\n2026-01-01 00:00:00,000 WARNING ALERT cleared: pump.wav", "bad header")
    finally:
        log.removeHandler(handler)
        handler.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and "pump\\n2026-01-01" in lines[0]


# Attack 5: evaluate writes outside --out.


def test_evaluate_keeps_machine_and_section_names_inside_out(tmp_path):
    data = tmp_path / "data"
    hostile_machine, hostile_section = "m/../../../TRAVERSED", "../../00"
    lines = [("path", "machine", "section", "split", "label")]
    for i in range(6):
        lines.append((write_clip(data / f"train_{i}.wav", seed=i).name, hostile_machine, hostile_section, "train",
                      "normal"))  # fmt: skip
    for i in range(3):
        lines.append((write_clip(data / f"normal_{i}.wav", seed=10 + i).name, hostile_machine, hostile_section,
                      "test", "normal"))  # fmt: skip
        lines.append((write_clip(data / f"anomaly_{i}.wav", seed=20 + i, tone=1000).name, hostile_machine,
                      hostile_section, "test", "anomaly"))  # fmt: skip
    with open(data / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(lines)
    out = tmp_path / "a" / "b" / "c" / "out"
    out.mkdir(parents=True)
    # What the traversal wrote over before: files of the same names in every folder above --out.
    for folder in (tmp_path, tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        for name in ("TRAVERSED.png", "TRAVERSED_section_00_test.csv", "00_test.csv"):
            (folder / name).write_text("keep me\n")
    before = snapshot(tmp_path)
    result = audioad("evaluate", data / "manifest.csv", "--detector", "mel-knn", "--out", out, "-q")
    assert result.returncode == 0, result.stderr
    after = snapshot(tmp_path)
    assert {p: after[p] for p in before} == before
    new = [p for p in after if p not in before]
    assert new and all(os.path.dirname(p) == str(out) for p in new), new
    machine = safe_component(hostile_machine)
    assert os.path.exists(out / f"roc_{machine}.png")
    assert os.path.exists(out / f"anomaly_score_{machine}_section_{safe_component(hostile_section)}_test.csv")


def test_evaluate_refuses_a_link_planted_in_out(tmp_path, recordings):
    from audioad.datasets import make_machine_sounds

    data = tmp_path / "data"
    make_machine_sounds(data, machines=("fan",), n_sections=1, n_train=6, n_test_normal=3, n_test_anomaly=3,
                        duration=1.0, random_state=1)  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    clip = tmp_path / "clip.wav"
    clip.write_bytes(recordings[0].read_bytes())
    os.symlink(clip, out / "roc_fan.png")
    result = audioad("evaluate", data, "--detector", "mel-knn", "--out", out, "--force", "-q")
    assert result.returncode == 2
    one_line_error(result, out / "roc_fan.png", "symbolic link")
    assert clip.read_bytes() == recordings[0].read_bytes()


# Attack 6: a planted symlink overwrites a recording.


def test_score_refuses_a_link_planted_as_its_sidecar_or_given_as_out(model, recordings, tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(recordings[0].read_bytes())
    out = tmp_path / "scores.csv"
    os.symlink(clip, tmp_path / "scores.csv.audioad-model")
    result = audioad("score", model, recordings[0].parent, "--out", out, "-q")
    assert result.returncode == 2
    one_line_error(result, "scores.csv.audioad-model", "symbolic link")
    assert clip.read_bytes() == recordings[0].read_bytes() and not out.exists()
    # A dangling link as --out: followed, it would create a file where the link points.
    dangling = tmp_path / "dangling.csv"
    os.symlink(tmp_path / "elsewhere" / "made.csv", dangling)
    result = audioad("score", model, recordings[0].parent, "--out", dangling, "-q")
    assert result.returncode == 2
    assert "does not exist" in one_line_error(result, dangling)
    assert not (tmp_path / "elsewhere").exists()
    # --segment writes the same sidecar, and a per-file summary beside --out.
    os.link(recordings[1], tmp_path / "segments.files.csv")
    result = audioad("score", model, clip, "--segment", "0.5s", "--out", tmp_path / "segments.csv", "-q")
    assert result.returncode == 2
    assert "hard link" in one_line_error(result, "segments.files.csv")
    assert clip.read_bytes() == recordings[0].read_bytes() and sf.info(recordings[1]).frames == SR


def test_watch_never_writes_through_a_planted_link_and_logs_a_line_a_record(model, recordings, tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(recordings[0].read_bytes())
    folder = tmp_path / "recorder"
    folder.mkdir()
    out, log_file = tmp_path / "watch.csv", tmp_path / "watch.log"
    state = tmp_path / "watch.csv.state.json"
    # Where the old state writer put its temporary file: a link there was followed.
    os.symlink(clip, tmp_path / "watch.csv.state.json.partial")
    write_clip(folder / "1.wav", seed=1)
    forged = "bad\n2026-01-01 00:00:00,000 WARNING ALERT cleared: pump.wav"
    (folder / forged).write_bytes(b"RIFF not a wav")
    args = ["watch", model, folder, "--out", out, "--log", log_file, "--segment", "1s", "--settle", "0.2",
            "--poll", "0.1", "--idle-exit", "2"]  # fmt: skip
    result = audioad(*args)
    assert result.returncode == 0, result.stderr
    assert clip.read_bytes() == recordings[0].read_bytes()
    assert state.is_file() and not state.is_symlink()
    logged = log_file.read_text().splitlines()
    assert len(logged) == 1 and "skipped" in logged[0] and "bad\\n2026" in logged[0], logged
    assert "bad\\n2026" in result.stdout and "\nbad" not in result.stdout
    assert sorted(os.path.basename(r["source"]) for r in rows(out)) == ["1.wav", one_line(forged)]
    # The state file itself, --log and the CSV, each a link to the recording or a hard link to it: refused.
    for option, name, plant in (
        ("--state", "state.json", os.symlink),
        ("--log", "pump.log", os.link),
        ("--log", "link.log", os.symlink),
        ("--out", "other.csv", os.symlink),
    ):
        target = tmp_path / name
        plant(clip, target)
        given = {"--state": ("--state", target), "--log": ("--log", target), "--out": ()}[option]
        run_out = target if option == "--out" else tmp_path / f"out-{name}.csv"
        result = audioad("watch", model, folder, "--out", run_out, *given, "--segment", "1s", "--idle-exit", "1")
        assert result.returncode == 2, (option, result.stderr)
        one_line_error(result, name)
        assert clip.read_bytes() == recordings[0].read_bytes()
    # --log naming a recording: refused by its name, and by its bytes under another name.
    renamed = tmp_path / "renamed.log"
    renamed.write_bytes(recordings[1].read_bytes())
    for target in (recordings[1], renamed):
        result = audioad("watch", model, folder, "--out", tmp_path / "w2.csv", "--log", target, "--segment", "1s",
                         "--idle-exit", "1")  # fmt: skip
        assert result.returncode == 2
        one_line_error(result, target)
    assert renamed.read_bytes() == recordings[1].read_bytes()


# Attack 7: plot --out had no checks.


def test_plot_refuses_links_to_a_recording_and_needs_force(model, recordings, tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(recordings[0].read_bytes())
    os.symlink(clip, tmp_path / "symlink.png")
    os.link(clip, tmp_path / "hardlink.png")
    for name in ("symlink.png", "hardlink.png"):
        result = audioad("plot", model, clip, "--out", tmp_path / name)
        assert "one of the inputs" in one_line_error(result, name)
    # A hard link to a recording that is not the clip drawn.
    os.link(recordings[1], tmp_path / "other.png")
    result = audioad("plot", model, clip, "--out", tmp_path / "other.png", "--force")
    assert result.returncode == 2
    assert "hard link" in one_line_error(result, "other.png")
    assert clip.read_bytes() == recordings[0].read_bytes()
    # An existing image is replaced only with --force; a file of another kind never.
    figure = tmp_path / "clip.png"
    assert audioad("plot", model, clip, "--out", figure).returncode == 0
    drawn = figure.read_bytes()
    result = audioad("plot", model, clip, "--out", figure)
    assert result.returncode == 2 and "--force" in one_line_error(result, figure)
    assert figure.read_bytes() == drawn
    assert audioad("plot", model, clip, "--out", figure, "--force").returncode == 0
    notes = tmp_path / "notes.png"
    notes.write_text("not an image\n")
    result = audioad("plot", model, clip, "--out", notes, "--force")
    assert result.returncode == 2 and notes.read_text() == "not an image\n"


# CSV formula injection.


def test_a_clip_named_as_a_formula_is_text_in_the_csv_and_resume_still_knows_it(model, recordings, tmp_path):
    name = "=cmd|' -C calc'!A0.wav"
    (tmp_path / name).write_bytes(recordings[0].read_bytes())
    (tmp_path / "ok.wav").write_bytes(recordings[1].read_bytes())
    result = audioad("score", model, name, "ok.wav", "--out", "scores.csv", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "scores.csv", newline="") as f:
        cells = list(csv.reader(f))[1:]
    # A row names its clip by its absolute path, which no spreadsheet takes for a formula.
    assert [row[0] for row in cells] == [resolved(tmp_path / name), resolved(tmp_path / "ok.wav")]
    assert all(float(row[1]) >= 0 for row in cells)  # scores stay numbers
    result = audioad("score", model, name, "ok.wav", "--out", "scores.csv", "--resume", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 already in" in result.stdout
    assert len(rows(tmp_path / "scores.csv")) == 2


def test_no_write_leaves_a_temporary_file_after_a_refusal(model, recordings, tmp_path):
    # The refusals above stop before writing: nothing half-made is left beside the outputs.
    os.symlink(recordings[0], tmp_path / "report.html")
    result = audioad("report", model, recordings[0], "--out", tmp_path / "report.html", "--force", "-q")
    assert result.returncode == 2
    assert sorted(os.listdir(tmp_path)) == ["report.html"]


def test_fifo_as_an_output_is_refused_at_once(model, recordings, tmp_path):
    fifo = tmp_path / "scores.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = audioad("score", model, recordings[0], "--out", fifo, "--force", "-q")
    assert result.returncode == 2 and time.monotonic() - started < 120
    assert "not a regular file" in one_line_error(result, fifo)


def test_a_report_of_hostile_names_escapes_them(model, tmp_path):
    # What held in issue 26, kept so: a name is text in the page, never markup, even read back from a CSV.
    from audioad.persistence import load
    from audioad.report import report_from_scores
    from audioad.score_csv import SCORE_COLUMNS, RowWriter

    hostile = "=<img src=x onerror=alert(1)>\n<script>alert(2)</script>.wav"
    scores = tmp_path / "scores.csv"
    with RowWriter(scores, SCORE_COLUMNS) as out:
        out.write((hostile, "1.5", "1", "", "<b>bad</b>", ""))
    page = report_from_scores(load(model), scores, top=0)
    assert "<img src=x" not in page and "<script>alert" not in page and "<b>bad" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
