"""The `audioad` command: end to end, each command run as a subprocess; what it catches and closes, in process."""

import csv
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import click
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import audioad, rows
from tqdm.auto import tqdm

from audioad import cli
from audioad.cli import score_clips as cli_score_clips
from audioad.cli.errors import Failure
from audioad.cli.models import build_detector
from audioad.datasets import make_machine_sounds
from audioad.detectors.registry import DETECTORS, make_detector
from audioad.detectors.window_knn import WindowKNN
from audioad.folders import resolved
from audioad.parallel import ClusterError

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("dcase")
    make_machine_sounds(
        root,
        machines=("fan",),
        n_sections=2,
        n_train=16,
        n_test_normal=6,
        n_test_anomaly=6,
        duration=1.0,
        anomaly_strength=3.0,
        random_state=1,
    )
    return root


@pytest.fixture(scope="module")
def model(dataset, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "fan.audioad"
    result = audioad("fit", dataset / "fan" / "train", "--detector", "window-knn", "--out", path, "-q")
    assert result.returncode == 0, result.stderr
    assert "fitted window-knn" in result.stdout and path.exists()
    return path


def test_info_describes_the_model(model):
    result = audioad("info", model)
    assert result.returncode == 0, result.stderr
    assert "WindowKNN" in result.stdout and "threshold" in result.stdout and "n_mels = 128" in result.stdout


def test_info_lists_detectors():
    result = audioad("info", "--detectors")
    assert result.returncode == 0 and "default" in result.stdout and "audio-ae" in result.stdout


def test_score_writes_rows_frames_and_reports_bad_files(model, dataset, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00")
    out, frames = tmp_path / "scores.csv", tmp_path / "frames.csv"
    result = audioad("score", model, dataset / "fan" / "test", broken, "--out", out, "--frames", frames, "-q")
    assert result.returncode == 1
    assert "1 of 25 files failed" in result.stderr and "broken.wav" in result.stderr
    table = rows(out)
    assert len(table) == 25
    bad = [r for r in table if r["path"].endswith("broken.wav")]
    assert bad[0]["score"] == "" and "decode" in bad[0]["error"]
    good = [r for r in table if not r["error"]]
    assert all(float(r["score"]) >= 0 and r["label"] in ("0", "1") and float(r["peak_time"]) >= 0 for r in good)
    windows = rows(frames)
    assert {r["path"] for r in windows} == {r["path"] for r in good}


def test_score_resume_skips_done_clips(model, dataset, tmp_path):
    out = tmp_path / "scores.csv"
    assert audioad("score", model, dataset / "fan" / "test", "--out", out, "-q").returncode == 0
    complete = rows(out)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(complete[0]))
        writer.writeheader()
        writer.writerows(complete[:5])
    result = audioad("score", model, dataset / "fan" / "test", "--out", out, "--resume", "-q")
    assert result.returncode == 0, result.stderr
    assert "5 already in" in result.stdout
    resumed = rows(out)
    assert sorted(r["path"] for r in resumed) == sorted(r["path"] for r in complete)
    assert {r["path"]: r["score"] for r in resumed} == {r["path"]: r["score"] for r in complete}


def test_ctrl_c_keeps_rows_and_resume_finishes(model, dataset, tmp_path):
    # Enough clips (hard links, so no copies) that the interrupt lands mid-run even on a fast machine.
    many = tmp_path / "many"
    many.mkdir()
    for copy in range(300):
        for clip in (dataset / "fan" / "test").glob("*.wav"):
            os.link(clip, many / f"{copy:03d}_{clip.name}")
    clips = sorted(str(p) for p in many.glob("*.wav"))
    out = tmp_path / "scores.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "audioad", "score", str(model), str(many), "--out", str(out), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    # Interrupt as soon as the first batch (32 rows and the header) is on disk.
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 33):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    written = rows(out)
    if process.returncode == 0:
        pytest.skip("scoring finished before the interrupt arrived")
    assert process.returncode != 0 and "--resume" in stderr
    assert 32 <= len(written) < len(clips)
    assert all(r["score"] for r in written)
    result = audioad("score", model, many, "--out", out, "--resume", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(r["path"] for r in rows(out)) == clips


def test_evaluate_prints_the_table_and_writes_results(dataset, tmp_path):
    result = audioad("evaluate", dataset, "--detector", "mel-knn", "--out", tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    assert "AUC-source" in result.stdout and "official score" in result.stdout
    for section in ("00", "01"):
        scores = rows_without_header(tmp_path / f"anomaly_score_fan_section_{section}_test.csv")
        assert len(scores) == 12 and all(float(score) for _, score in scores)
        decisions = rows_without_header(tmp_path / f"decision_result_fan_section_{section}_test.csv")
        assert {d for _, d in decisions} <= {"0", "1"}
    assert (tmp_path / "roc_fan.png").stat().st_size > 10_000
    assert (tmp_path / "histogram_fan.png").stat().st_size > 10_000
    assert len(rows(tmp_path / "results.csv")) == 24


def rows_without_header(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_evaluate_a_manifest(tmp_path):
    from audioad.datasets import ClipInfo, ClipTable

    table = make_machine_sounds(
        tmp_path / "data", machines=("pump",), n_sections=1, n_train=10, n_test_normal=6, n_test_anomaly=6, duration=0.5
    )
    manifest = ClipTable(ClipInfo(c.path, "pump", label=c.label) for c in table).to_csv(tmp_path / "manifest.csv")
    result = audioad("evaluate", manifest, "--detector", "mel-mahalanobis", "-q")
    assert result.returncode == 0, result.stderr
    assert "hmean(AUC, pAUC)" in result.stdout


def test_plot_writes_a_png(model, dataset, tmp_path):
    clip = sorted((dataset / "fan" / "test").glob("*anomaly*.wav"))[0]
    result = audioad("plot", model, clip, "--out", tmp_path / "clip.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "clip.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_runs_end_to_end(tmp_path):
    result = audioad("demo", "--out", tmp_path / "demo", "-q")
    assert result.returncode == 0, result.stderr
    assert "official score" in result.stdout
    for name in ("scores.csv", "clip.png", "evaluation/results.csv", "evaluation/roc_fan.png", "report.html"):
        assert (tmp_path / "demo" / name).exists(), name
    assert len(rows(tmp_path / "demo" / "scores.csv")) == 20
    assert all(row["explanation"] for row in rows(tmp_path / "demo" / "scores.csv"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "x.wav", "--detector", "nope", "--out", "m.audioad"], "Invalid value for '--detector'"),
        (["fit", ".", "--set", "n_mels", "--out", "m.audioad"], "key=value"),
        (["score", "missing.audioad", "x.wav", "--out", "s.csv"], "no such model file"),
        (["evaluate", "missing-folder"], "does not exist"),
        (["info", "README.md"], "not an audioad model file"),
    ],
)
def test_usage_errors_exit_2(args, message, tmp_path):
    (tmp_path / "README.md").write_text("not a model")
    result = audioad(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_unknown_parameter_is_a_usage_error(dataset, tmp_path):
    result = audioad(
        "fit", dataset / "fan" / "train", "--detector", "mel-knn", "--set", "n_melz=3", "--out", tmp_path / "m"
    )
    assert result.returncode == 2 and "n_melz" in result.stderr


@pytest.mark.parametrize("command", ["fit", "score", "evaluate", "plot", "demo", "info"])
def test_every_command_has_help_with_an_example(command):
    result = audioad(command, "--help")
    assert result.returncode == 0
    assert "Usage: " in result.stdout
    if command != "demo":
        assert "Example" in result.stdout


@pytest.mark.parametrize("on_error, n_rows, code", [("skip", 24, 1), ("raise", None, 1)])
def test_score_on_error(model, dataset, tmp_path, on_error, n_rows, code):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00")
    out = tmp_path / "scores.csv"
    test = sorted((dataset / "fan" / "test").glob("*.wav"))
    result = audioad("score", model, *test[:3], broken, *test[3:], "--out", out, "--on-error", on_error, "-q")
    assert result.returncode == code
    assert "broken.wav" in result.stderr
    written = rows(out)
    assert all(not r["error"] for r in written)
    if on_error == "skip":
        assert len(written) == n_rows
    else:
        # Stopped at the bad file: what was scored before it is kept.
        assert [r["path"] for r in written] == [str(p) for p in test[:3]]


# -- in-process: what is caught, what is not, and what is closed however a run ends ----------------


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def test_a_bug_making_the_detector_is_not_a_usage_error(monkeypatch, tmp_path):
    def buggy_factory(**params):
        raise TypeError("MelKNN.__init__() got an unexpected keyword argument 'pooling_'")

    monkeypatch.setitem(DETECTORS, "mel-knn", (buggy_factory, DETECTORS["mel-knn"][1]))
    result = invoke("fit", tmp_path / "x.wav", "--detector", "mel-knn", "--out", tmp_path / "m.audioad")
    # Raised as it is (a traceback to report), not exit code 2 with a usage message blaming the user.
    assert isinstance(result.exception, TypeError) and "pooling_" in str(result.exception)
    assert result.exit_code == 1 and "Usage:" not in result.output


def test_an_unknown_setting_is_a_usage_error_listing_the_parameters(tmp_path):
    result = invoke(
        "fit", tmp_path / "x.wav", "--detector", "mel-knn", "--set", "n_melz=3", "--out", tmp_path / "m.audioad"
    )
    assert result.exit_code == 2
    assert "no parameter 'n_melz'" in result.output and "n_mels" in result.output


@pytest.mark.parametrize(
    "name, settings, params",
    [
        ("mel-knn", ["n_mels=64", "pooling=delta_std"], {"n_mels": 64, "pooling": "delta_std"}),
        ("twfr-gmm", ["n_components=3"], {"n_components": 3}),
        ("dcase2023-ae", ["epoch_num=2", "log=db"], {"epoch_num": 2, "log": "db"}),
        ("embedding-fast", ["reduce_dim=null"], {"reduce_dim": None}),
        ("default", ["n_folds=3"], {"n_folds": 3}),
    ],
)
def test_settings_make_what_make_detector_makes(name, settings, params):
    made = build_detector(name, settings)
    expected = make_detector(name, **params)
    assert type(made) is type(expected)
    assert repr(made.get_params(deep=False)) == repr(expected.get_params(deep=False))


class RecordingBar:
    """tqdm, recording every bar made and whether it was closed."""

    made = []

    def __init__(self, *args, **kwargs):
        self.bar, self.n, self.closed = tqdm(*args, **kwargs), 0, False
        RecordingBar.made.append(self)

    def update(self, n):
        self.n += n
        self.bar.update(n)

    def close(self):
        self.closed = True
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def failing_second_batch(monkeypatch):
    """Batches of at most 4 clips, the first of one clip; the second raises the exception the test passes in."""
    RecordingBar.made = []
    monkeypatch.setattr("tqdm.auto.tqdm", RecordingBar)
    monkeypatch.setattr(cli_score_clips, "SCORE_BATCH", 4)
    score_clips = WindowKNN.score_clips
    calls = []

    def arm(exception):
        def score(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise exception
            return score_clips(self, *args, **kwargs)

        monkeypatch.setattr(WindowKNN, "score_clips", score)

    return arm


@pytest.mark.parametrize("bug", [TypeError("unsupported operand type(s)"), RuntimeError("mat1 and mat2 shapes")])
def test_a_bug_while_scoring_is_raised_as_it_is_with_the_bar_closed(
    model, dataset, tmp_path, failing_second_batch, bug
):
    failing_second_batch(bug)
    out = tmp_path / "scores.csv"
    result = invoke("score", model, dataset / "fan" / "test", "--out", out)
    assert result.exception is bug
    assert result.exit_code == 1 and "Usage:" not in result.output and "--resume" not in result.output
    # The first batch (one clip) reached the file before the failure; the bar was closed on the way out.
    assert len(rows(out)) == 1
    [bar] = RecordingBar.made
    assert bar.closed and bar.n == 1


def test_ctrl_c_closes_the_bar_and_says_how_to_resume(model, dataset, tmp_path, failing_second_batch):
    failing_second_batch(KeyboardInterrupt())
    out = tmp_path / "scores.csv"
    result = invoke("score", model, dataset / "fan" / "test", "--out", out)
    assert result.exit_code == 130 and "interrupted: 1 rows written" in result.output and "--resume" in result.output
    assert len(rows(out)) == 1
    [bar] = RecordingBar.made
    assert bar.closed


def _batches(n_batches, fail_at=None, error=None, closed=None):
    """Batches of 2 clips with ClipScores-like results; ``error`` raised at batch ``fail_at``.

    ``closed`` is appended to when the generator is closed or finishes.
    """
    try:
        for b in range(n_batches):
            if b == fail_at:
                raise error
            clips = [f"b{b}_0.wav", f"b{b}_1.wav"]
            yield clips, SimpleNamespace(scores=np.array([0.5, 2.0]), frames=None, errors=[], warnings=[[], []])
    finally:
        if closed is not None:
            closed.append(True)


def test_a_cluster_failure_says_how_to_resume(tmp_path, monkeypatch):
    RecordingBar.made = []
    monkeypatch.setattr("tqdm.auto.tqdm", RecordingBar)
    closed, out = [], tmp_path / "scores.csv"
    batches = _batches(3, fail_at=1, error=ClusterError("KilledWorker: 3 workers died"), closed=closed)
    with pytest.raises(click.ClickException) as info:
        cli_score_clips.write_scores(1.0, batches, out, None, False, 6, True)
    assert "KilledWorker" in info.value.message and "rerun with --resume" in info.value.message
    assert isinstance(info.value.__cause__, ClusterError)
    assert len(rows(out)) == 2 and RecordingBar.made[0].closed and closed == [True]


def test_a_stop_on_a_bad_clip_closes_the_batches_and_the_bar(tmp_path, monkeypatch):
    RecordingBar.made = []
    monkeypatch.setattr("tqdm.auto.tqdm", RecordingBar)
    closed = []

    def batches():
        with_error = SimpleNamespace(
            scores=np.array([0.5, np.nan]),
            frames=None,
            errors=[SimpleNamespace(index=1, cause="cannot decode it")],
            warnings=[[], []],
        )
        try:
            yield ["a.wav", "bad.wav"], with_error
            yield ["c.wav", "d.wav"], with_error
        finally:
            closed.append(True)

    out, pending = tmp_path / "scores.csv", batches()  # held here, as the score command holds it
    with pytest.raises(Failure, match="bad.wav: cannot decode it"):
        cli_score_clips.write_scores(1.0, pending, out, None, False, 4, True, "raise")
    # Stopped mid-way: the scoring still to come is cancelled, not left running.
    assert closed == [True] and RecordingBar.made[0].closed
    assert [r["path"] for r in rows(out)] == [resolved("a.wav")]


def test_a_bug_setting_up_dask_is_not_a_usage_error(model, dataset, tmp_path, monkeypatch):
    def buggy_score_on_dask(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr("audioad.parallel.score_on_dask", buggy_score_on_dask)
    result = invoke("score", model, dataset / "fan" / "test", "--dask", "tcp://127.0.0.1:8786", "--out", tmp_path / "s")
    assert isinstance(result.exception, ValueError) and result.exit_code == 1 and "Usage:" not in result.output


def test_a_malformed_dask_address_is_a_usage_error(model, dataset, tmp_path):
    pytest.importorskip("distributed")
    result = invoke("score", model, dataset / "fan" / "test", "--dask", "no-port-here", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "not a Dask scheduler address" in result.output


def test_a_data_error_in_fit_exits_1_like_a_bad_input_in_score(dataset, tmp_path):
    """One exit code and one style per kind of failure: the data's fault is 1, with no usage banner."""
    clips = sorted((dataset / "fan" / "train").glob("*.wav"))[:2]
    result = audioad("fit", *clips, "--out", tmp_path / "m.audioad")
    assert result.returncode == 1
    assert "cannot fit on these clips" in result.stderr and "at least 3 training clips" in result.stderr
    assert "Usage:" not in result.stderr and not (tmp_path / "m.audioad").exists()
    result = audioad("score", tmp_path / "m.audioad", tmp_path / "missing.wav", "--out", tmp_path / "s.csv")
    assert result.returncode == 2  # no model file: the command itself cannot run
    assert "Usage:" in result.stderr
