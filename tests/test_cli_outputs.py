"""What `audioad` writes (issue 17, items 1 and 3): never over an input or a file of another kind, whole
or not at all; score rows on disk as soon as scored; --resume that repairs and refuses; exit codes.

Each test reproduces one finding of the issue through the real command, run as a subprocess.
"""

import csv
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows

from audioad import MelKNN
from audioad.persistence import load, save
from audioad.score_csv import SCORE_COLUMNS

pytestmark = pytest.mark.filterwarnings("ignore")
SR = 16000


def one_line_error(result, *names):
    """The run failed with one line on stderr (no traceback) naming each of ``names``."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert str(name) in lines[0], lines[0]
    return lines[0]


def write_clips(folder, n, seconds=1.0, seed=0, tone=None):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    paths = []
    for i in range(n):
        y = rng.normal(0, 0.1, t.size) + (0.3 * np.sin(2 * np.pi * tone * t) if tone else 0)
        path = folder / f"v{i}.wav"
        sf.write(path, y.astype(np.float32), SR)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    return write_clips(tmp_path_factory.mktemp("recordings") / "recordings", 8)


@pytest.fixture(scope="module")
def model(recordings, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "fan.audioad"
    result = audioad("fit", recordings[0].parent, "--detector", "mel-knn", "--out", path, "-q")
    assert result.returncode == 0, result.stderr
    return path


def test_fit_out_glob_does_not_replace_a_recording(tmp_path):
    # `audioad fit -o recordings/*.wav`: the shell hands the first recording to -o.
    recordings = write_clips(tmp_path / "recordings", 6)
    before = recordings[0].read_bytes()
    result = audioad("fit", "--detector", "mel-knn", "-o", *recordings, "-q")
    assert result.returncode == 2
    one_line_error(result, recordings[0])
    assert recordings[0].read_bytes() == before
    assert sf.info(recordings[0]).frames == SR


def test_score_out_wav_does_not_replace_a_recording(model, recordings, tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(recordings[0].read_bytes())
    result = audioad("score", model, recordings[0].parent, "--out", clip, "-q")
    assert result.returncode == 2
    one_line_error(result, clip)
    assert clip.read_bytes() == recordings[0].read_bytes()
    # An audio name is refused even when no such file exists yet, and even with --force.
    fresh = tmp_path / "new.flac"
    assert audioad("score", model, recordings[0].parent, "--out", fresh, "--force", "-q").returncode == 2
    assert not fresh.exists()


def test_outputs_never_replace_an_input_or_a_model(model, tmp_path):
    recordings = write_clips(tmp_path / "recordings", 6)
    # score's --out is its own model file: refused even with --force.
    before = model.read_bytes()
    result = audioad("score", model, recordings[0].parent, "--out", model, "--force", "-q")
    assert result.returncode == 2
    one_line_error(result, model)
    assert model.read_bytes() == before
    # fit's --out is one of its training clips under another name (a hard link): refused even with --force.
    linked = tmp_path / "v2.model"
    os.link(recordings[2], linked)
    before = recordings[2].read_bytes()
    result = audioad("fit", recordings[0].parent, "--detector", "mel-knn", "--out", linked, "--force", "-q")
    assert result.returncode == 2
    assert "one of the inputs" in one_line_error(result, linked)
    assert recordings[2].read_bytes() == before


def test_an_existing_output_needs_force_and_the_same_kind(model, recordings, tmp_path):
    out = tmp_path / "fan.audioad"
    assert audioad("fit", recordings[0].parent, "--detector", "mel-knn", "--out", out, "-q").returncode == 0
    first = out.read_bytes()
    result = audioad("fit", recordings[0].parent, "--detector", "mel-knn", "--out", out, "-q")
    assert result.returncode == 2
    assert "--force" in one_line_error(result, out)
    assert out.read_bytes() == first
    assert audioad("fit", recordings[0].parent, "--detector", "mel-knn", "--out", out, "--force", "-q").returncode == 0
    assert out.read_bytes() != first and load(out).threshold_ > 0
    # A file of another kind is not replaced, --force or not.
    notes = tmp_path / "notes.txt"
    notes.write_text("do not lose me\n")
    result = audioad("fit", recordings[0].parent, "--detector", "mel-knn", "--out", notes, "--force", "-q")
    assert result.returncode == 2
    one_line_error(result, notes)
    assert notes.read_text() == "do not lose me\n"
    result = audioad("score", model, recordings[0].parent, "--out", notes, "--force", "-q")
    assert result.returncode == 2 and notes.read_text() == "do not lose me\n"
    # score: an existing CSV is kept without --force, replaced with it.
    scores = tmp_path / "scores.csv"
    assert audioad("score", model, recordings[0].parent, "--out", scores, "-q").returncode == 0
    result = audioad("score", model, recordings[0].parent, "--out", scores, "-q")
    assert result.returncode == 2
    one_line_error(result, scores)
    assert audioad("score", model, recordings[0].parent, "--out", scores, "--force", "-q").returncode == 0
    assert len(rows(scores)) == len(recordings)


def test_fit_adds_the_model_suffix(recordings, tmp_path):
    result = audioad("fit", recordings[0].parent, "--detector", "mel-knn", "--out", tmp_path / "fan", "-q")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fan.audioad").is_file() and not (tmp_path / "fan").exists()
    assert str(tmp_path / "fan.audioad") in result.stdout
    assert load(tmp_path / "fan.audioad").threshold_ > 0


def test_a_crash_while_saving_leaves_the_old_model_whole(recordings, tmp_path, monkeypatch):
    detector = MelKNN(sr=SR).fit([str(p) for p in recordings])
    path = tmp_path / "fan.audioad"
    save(detector, path)
    before = path.read_bytes()
    calls = []

    def failing_write(*args, **kwargs):
        calls.append(1)
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="disk full"):
        save(detector, path)
    assert calls
    assert path.read_bytes() == before and zipfile.is_zipfile(path)
    assert os.listdir(tmp_path) == ["fan.audioad"]  # no partial file left beside it


def test_evaluate_keeps_earlier_results_without_force(tmp_path):
    from audioad.datasets import make_machine_sounds

    data = tmp_path / "data"
    make_machine_sounds(
        data,
        machines=("fan",),
        n_sections=1,
        n_train=8,
        n_test_normal=6,
        n_test_anomaly=6,
        duration=1.0,
        random_state=1,
    )
    out = tmp_path / "results"
    out.mkdir()
    (out / "results.csv").write_text("an earlier run\n")
    result = audioad("evaluate", data, "--detector", "mel-knn", "--out", out, "-q")
    assert result.returncode == 2
    one_line_error(result, out / "results.csv")
    assert (out / "results.csv").read_text() == "an earlier run\n"
    result = audioad("evaluate", data, "--detector", "mel-knn", "--out", out, "--force", "-q")
    assert result.returncode == 0, result.stderr
    assert rows(out / "results.csv")[0]["machine"] == "fan"
    assert not [p for p in os.listdir(out) if ".part" in p]


def _links(source, folder, n):
    """``n`` hard links to ``source`` in ``folder``: many long clips without the disk they would take."""
    folder.mkdir()
    for i in range(n):
        os.link(source, folder / f"{i:03d}.wav")
    return sorted(str(p) for p in folder.glob("*.wav"))


def _interrupt_when(process, ready, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None and not ready():
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=120)


def _data_lines(path):
    return len(path.read_text().splitlines()) - 1 if path.exists() else 0


def test_rows_are_on_disk_as_soon_as_scored_and_ctrl_c_exits_130(model, tmp_path):
    # Long files, fewer than the 32 clips the old batches held: before, no row reached the file until the end.
    [long] = write_clips(tmp_path / "source", 1, seconds=60.0, seed=3)
    clips = _links(long, tmp_path / "long", 30)
    out = tmp_path / "scores.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "audioad", "score", str(model), str(tmp_path / "long"), "--out", str(out), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, stderr = _interrupt_when(process, lambda: _data_lines(out) >= 2)
    if process.returncode == 0:
        pytest.skip("scoring finished before the interrupt arrived")
    written = rows(out)
    # a recording much longer than the training clips is scored a segment a row
    assert len(written) >= 2 and len({r["path"] for r in written}) < len(clips)
    assert process.returncode == 130, stderr
    assert all(r["score"] and not r["error"] for r in written)
    last = stderr.strip().splitlines()[-1]
    assert last == f"interrupted: {len(written)} rows written to {out}; rerun with --resume to score the rest"
    result = audioad("score", model, tmp_path / "long", "--out", out, "--resume", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted({r["path"] for r in rows(out)}) == clips


def test_ctrl_c_while_fitting_exits_130_and_writes_no_model(tmp_path):
    [long] = write_clips(tmp_path / "source", 1, seconds=60.0, seed=4)
    _links(long, tmp_path / "train", 200)
    out = tmp_path / "fan.audioad"
    process = subprocess.Popen(
        [sys.executable, "-m", "audioad", "fit", str(tmp_path / "train"), "--out", str(out), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once it is reading the clips (past the imports): when it holds one of them open.
    fds = f"/proc/{process.pid}/fd"

    def reading():
        try:
            return any(os.readlink(os.path.join(fds, fd)).startswith(str(tmp_path / "train")) for fd in os.listdir(fds))
        except OSError:
            return False

    _, stderr = _interrupt_when(process, reading)
    if process.returncode == 0:
        pytest.skip("fitting finished before the interrupt arrived")
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted"
    assert sorted(os.listdir(tmp_path)) == ["source", "train"]


def test_resume_repairs_a_torn_last_line(model, recordings, tmp_path):
    out = tmp_path / "scores.csv"
    assert audioad("score", model, recordings[0].parent, "--out", out, "-q").returncode == 0
    complete = {r["path"]: r["score"] for r in rows(out)}
    text = out.read_bytes()
    last = text.rstrip(b"\r\n").rfind(b"\n") + 1
    # A crash in the middle of writing the last row: half of it reached the file.
    out.write_bytes(text[: last + (len(text) - last) // 2])
    result = audioad("score", model, recordings[0].parent, "--out", out, "--resume", "-q")
    assert result.returncode == 0, result.stderr
    assert f"{len(recordings) - 1} already in" in result.stdout
    with open(out, newline="") as f:
        table = list(csv.reader(f))
    assert all(len(row) == len(SCORE_COLUMNS) for row in table)
    assert {r["path"]: r["score"] for r in rows(out)} == complete
    assert len(table) == len(recordings) + 1


def test_resume_refuses_a_csv_written_by_another_model(model, recordings, tmp_path):
    other_clips = write_clips(tmp_path / "pump", 8, seed=7, tone=440.0)
    other = tmp_path / "pump.audioad"
    assert audioad("fit", tmp_path / "pump", "--detector", "mel-knn", "--out", other, "-q").returncode == 0
    out = tmp_path / "scores.csv"
    assert audioad("score", model, *recordings[:4], "--out", out, "-q").returncode == 0
    before = out.read_bytes()
    result = audioad("score", other, *recordings, "--out", out, "--resume", "-q")
    assert result.returncode == 2
    assert "another model" in one_line_error(result, out, model.name)
    assert out.read_bytes() == before
    # The same model resumes.
    result = audioad("score", model, *recordings, *other_clips[:1], "--out", out, "--resume", "-q")
    assert result.returncode == 0, result.stderr
    assert len(rows(out)) == len(recordings) + 1
    # A CSV with rows and no record of its model is not trusted either.
    (tmp_path / "scores.csv.audioad-model").unlink()
    result = audioad("score", model, *recordings, "--out", out, "--resume", "-q")
    assert result.returncode == 2
    one_line_error(result, out)


@pytest.mark.parametrize(
    "name, content",
    [
        ("x.wav", None),
        ("paths.csv", b"file,score\r\na.wav,1.0\r\n"),
        ("garbage.csv", b"path,score,label,peak_time,error,warning\r\n\xff\xfe\x00bad,\x80\x81\r\n"),
    ],
)
def test_resume_gives_one_line_for_a_csv_it_cannot_read(model, recordings, tmp_path, name, content):
    out = tmp_path / name
    if content is None:
        out.write_bytes(recordings[0].read_bytes())
    else:
        out.write_bytes(content)
    before = out.read_bytes()
    result = audioad("score", model, recordings[0].parent, "--out", out, "--resume", "-q")
    assert result.returncode == 2
    one_line_error(result, out)
    assert out.read_bytes() == before


def test_exit_codes(model, recordings, tmp_path):
    # 0 done; 1 some inputs failed; 2 usage error. 130 is tested with a real Ctrl-C above.
    assert audioad("score", model, recordings[0].parent, "--out", tmp_path / "a.csv", "-q").returncode == 0
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00")
    assert audioad("score", model, broken, *recordings[:2], "--out", tmp_path / "b.csv", "-q").returncode == 1
    assert audioad("score", model, recordings[0], "--out", tmp_path / "c.csv", "--resume", "--force").returncode == 2
