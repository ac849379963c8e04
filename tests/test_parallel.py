"""audioad.parallel: batches scored on threads or on a Dask cluster give what one local pass gives."""

import builtins
import copy
import csv
import re
import sys
import time
from types import SimpleNamespace

import joblib
import numpy as np
import pytest
from conftest import audioad

from audioad import parallel
from audioad.datasets import make_machine_sounds
from audioad.detectors.registry import make_detector
from audioad.parallel import ClusterError, SchedulerAddressError, score_in_batches, score_on_dask


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Train and test folders of a small machine, and test clips with two that cannot be read."""
    root = tmp_path_factory.mktemp("parallel")
    table = make_machine_sounds(
        root,
        machines=("fan",),
        n_sections=1,
        n_train=8,
        n_test_normal=3,
        n_test_anomaly=3,
        duration=1.0,
        anomaly_strength=3.0,
        random_state=0,
    )
    bad = root / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00")
    test = list(table.filter(split="test").paths)
    clips = test[:2] + [str(bad)] + test[2:5] + [str(root / "missing.wav")] + test[5:]
    return {"train": root / "fan" / "train", "test": root / "fan" / "test", "bad": bad, "clips": clips}


@pytest.fixture(scope="module")
def fitted(data):
    train = sorted(str(p) for p in data["train"].glob("*.wav"))
    return {name: make_detector(name).fit(train) for name in ("mel-knn", "window-knn")}


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import dask

    # Dask's active memory manager drops the replicas of a key no task needs any more, every 2 s: it
    # would make the count of the model's copies on the workers depend on timing.
    with (
        dask.config.set({"distributed.scheduler.active-memory-manager.start": False}),
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
    ):
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    from distributed import Client

    with Client(cluster) as client:
        yield client


def by_clip(batches):
    """{clip: (score, frames, error cause)} from (batch, ClipScores) pairs, checking each batch's shape."""
    seen = {}
    for batch, result in batches:
        assert len(result.scores) == len(batch)
        errors = {e.index: e for e in result.errors}
        assert set(errors) <= set(range(len(batch)))
        for i, clip in enumerate(batch):
            assert clip not in seen
            error = errors.get(i)
            if error is not None:
                assert error.path == clip
            frames = None if result.frames is None else result.frames[i]
            seen[clip] = (result.scores[i], frames, None if error is None else error.cause)
    return seen


def assert_same(got, want):
    assert got.keys() == want.keys()
    for clip, (score, frames, error) in want.items():
        got_score, got_frames, got_error = got[clip]
        assert got_error == error, clip
        # Bit for bit: a clip's score depends on that clip alone, in any batch, thread or worker process.
        np.testing.assert_array_equal(got_score, score, err_msg=clip)
        if frames is None:
            assert got_frames is None
        else:
            np.testing.assert_array_equal(got_frames.times, frames.times)
            np.testing.assert_array_equal(got_frames.scores, frames.scores, err_msg=clip)


def one_pass(detector, clips):
    return by_clip([(clips, detector.score_clips(clips, frames=True))])


@pytest.mark.parametrize("name", ["mel-knn", "window-knn"])
@pytest.mark.parametrize("n_jobs", [1, 3])
def test_local_batches_give_one_pass_scores(fitted, data, name, n_jobs):
    detector, clips = fitted[name], data["clips"]
    state_before = dict(vars(detector))
    batches = list(score_in_batches(detector, clips, batch_size=3, n_jobs=n_jobs))
    # Scoring writes nothing on the detector: threads never share a call's state.
    assert vars(detector).keys() == state_before.keys()
    assert all(vars(detector)[key] is value for key, value in state_before.items())
    assert sorted(len(batch) for batch, _ in batches) == [2, 3, 3]
    if n_jobs == 1:
        assert [clip for batch, _ in batches for clip in batch] == clips
    got = by_clip(batches)
    assert_same(got, one_pass(detector, clips))
    assert "cannot decode" in got[str(data["bad"])][2] and "not found" in got[clips[6]][2]
    assert (got[clips[0]][1] is None) == (name == "mel-knn")


def test_batch_size_must_be_a_positive_count(fitted, data):
    with pytest.raises(ValueError, match="batch_size"):
        score_in_batches(fitted["mel-knn"], data["clips"], batch_size=0)


def test_dask_sends_the_model_once_and_gives_local_scores(fitted, data, client, cluster, monkeypatch):
    from distributed import Future

    detector, clips = fitted["window-knn"], data["clips"]
    scattered, submitted = [], []
    scatter, submit = client.scatter, client.submit

    def counting_scatter(value, **kwargs):
        scattered.append((value, kwargs))
        return scatter(value, **kwargs)

    def counting_submit(function, *args, **kwargs):
        submitted.append(args)
        return submit(function, *args, **kwargs)

    monkeypatch.setattr(client, "scatter", counting_scatter)
    monkeypatch.setattr(client, "submit", counting_submit)
    got = by_clip(score_on_dask(detector, clips, client, batch_size=3))
    assert_same(got, one_pass(detector, clips))

    assert len(scattered) == 1 and scattered[0][0] is detector and scattered[0][1]["broadcast"]
    assert len(submitted) == 3 and all(isinstance(args[0], Future) for args in submitted)
    model = submitted[0][0]
    assert all(args[0] is model for args in submitted)
    assert len(client.who_has([model])[model.key]) == len(cluster.workers) == 2
    # A client it was given stays open.
    assert client.submit(sum, [1, 2]).result() == 3


def test_dask_by_address_closes_its_client(fitted, data, cluster):
    detector, clips = fitted["mel-knn"], data["clips"]
    before = set(cluster.scheduler.clients)
    results = score_on_dask(detector, clips, cluster.scheduler_address, batch_size=4)
    assert len(set(cluster.scheduler.clients) - before) == 1
    assert_same(by_clip(results), one_pass(detector, clips))
    # The scheduler hears of the close a moment later.
    deadline = time.monotonic() + 5
    while set(cluster.scheduler.clients) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(cluster.scheduler.clients) == before


def test_dask_task_error_is_raised_as_a_local_run_raises_it(fitted, data, client):
    # Window features of another size than the model learnt: every task raises on its worker.
    broken = copy.deepcopy(fitted["window-knn"]).set_params(n_mels=16)
    with pytest.raises(Exception) as local:
        list(score_in_batches(broken, data["clips"], batch_size=3))
    with pytest.raises(type(local.value)) as remote:
        list(score_on_dask(broken, data["clips"], client, batch_size=3))
    # The detector's own error, not relabelled as the cluster's (the shapes in it are of whichever batch failed first).
    assert type(remote.value) is type(local.value) and not isinstance(remote.value, ClusterError)
    assert re.sub(r"\d+", "N", str(remote.value)) == re.sub(r"\d+", "N", str(local.value))


class _FakeFuture:
    def __init__(self, error):
        self.error = error

    def result(self):
        raise self.error


def _fake_cluster(error):
    """A stand-in for dask.distributed whose tasks all fail with ``error``; and the list its client's close adds to."""
    distributed = pytest.importorskip("distributed")
    closed = []

    class Client:
        loop = None

        def __init__(self, address, set_as_default=True):
            pass

        def scatter(self, value, **kwargs):
            return "model"

        def submit(self, *args, **kwargs):
            return _FakeFuture(error)

        def close(self):
            closed.append(True)

    fake = SimpleNamespace(
        Client=Client,
        comm=distributed.comm,
        KilledWorker=distributed.KilledWorker,
        as_completed=lambda futures, loop: iter(futures),
    )
    return fake, closed


@pytest.mark.parametrize("error", ["killed", "cancelled", "comm-closed"])
def test_dask_cluster_failure_names_its_batch(fitted, data, monkeypatch, error):
    distributed = pytest.importorskip("distributed")
    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError

    error = {
        "killed": distributed.KilledWorker("_score_batch-1", SimpleNamespace(address="tcp://10.0.0.7:40000"), 3),
        "cancelled": FutureCancelledError("_score_batch-1", reason="scheduler-connection-lost"),
        "comm-closed": CommClosedError("in <TCP (closed)>: Stream is closed"),
    }[error]
    fake, closed = _fake_cluster(error)
    monkeypatch.setattr(parallel, "_import_distributed", lambda: fake)
    clips = data["clips"]
    with pytest.raises(ClusterError, match=r"batch of 3 clips starting at clip 0 \(.+\.wav\): \w+") as info:
        list(score_on_dask(fitted["mel-knn"], clips, "tcp://10.0.0.5:8786", batch_size=3))
    assert info.value.__cause__ is error
    assert closed == [True]


def test_dask_task_bug_is_not_a_cluster_failure(fitted, data, monkeypatch):
    bug = TypeError("unsupported operand type(s) for -: 'NoneType' and 'float'")
    fake, closed = _fake_cluster(bug)
    monkeypatch.setattr(parallel, "_import_distributed", lambda: fake)
    with pytest.raises(TypeError) as info:
        list(score_on_dask(fitted["mel-knn"], data["clips"], "tcp://10.0.0.5:8786", batch_size=3))
    assert info.value is bug and closed == [True]


def test_dask_refuses_a_malformed_address(fitted, data):
    pytest.importorskip("distributed")
    with pytest.raises(SchedulerAddressError, match="not a Dask scheduler address") as info:
        score_on_dask(fitted["mel-knn"], data["clips"], "no-port-here")
    assert isinstance(info.value, ValueError) and isinstance(info.value.__cause__, ValueError)


def test_dask_missing_says_what_to_install(fitted, data, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install audioad\[dask\]") as info:
        score_on_dask(fitted["mel-knn"], data["clips"], "tcp://127.0.0.1:8786")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_a_broken_dask_installation_speaks_for_itself(fitted, data, monkeypatch):
    real_import = builtins.__import__
    broken = ImportError("cannot import name 'istask' from 'dask.core'")

    def importing(name, *args, **kwargs):
        if name == "distributed":
            raise broken
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", importing)
    with pytest.raises(ImportError) as info:
        score_on_dask(fitted["mel-knn"], data["clips"], "tcp://127.0.0.1:8786")
    assert info.value is broken


class _RecordingParallel(joblib.Parallel):
    outputs = []

    def __call__(self, iterable):
        output = super().__call__(iterable)
        _RecordingParallel.outputs.append(output)
        return output


@pytest.mark.filterwarnings("ignore:.*tasks:UserWarning")
def test_local_batches_left_early_release_joblib(fitted, data, monkeypatch):
    monkeypatch.setattr(parallel.joblib, "Parallel", _RecordingParallel)
    _RecordingParallel.outputs = []
    batches = score_in_batches(fitted["mel-knn"], data["clips"], batch_size=1, n_jobs=2)
    next(batches)
    batches.close()
    # joblib's generator is closed with ours: its workers stopped, not left to the garbage collector.
    [output] = _RecordingParallel.outputs
    assert output.gi_frame is None
    with pytest.raises(StopIteration):
        next(output)


def test_joblib_dask_backend_runs_the_batches_on_the_cluster(fitted, data, client):
    from distributed import get_task_stream

    detector, clips = fitted["window-knn"], data["clips"]
    with get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
        got = by_clip(score_in_batches(detector, clips, batch_size=2, n_jobs=2))
    assert stream.data, "no task ran on the cluster"
    assert_same(got, one_pass(detector, clips))


def sorted_rows(path):
    with open(path, newline="") as f:
        return sorted(csv.DictReader(f), key=lambda row: row["path"])


def failure_line(result):
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def test_cli_dask_writes_the_rows_of_a_local_run(data, cluster, tmp_path):
    model = tmp_path / "m.audioad"
    fit = audioad("fit", data["train"], "--detector", "mel-knn", "--out", model, "-q")
    assert fit.returncode == 0, fit.stderr
    inputs = [model, data["test"], data["bad"]]
    local = audioad("score", *inputs, "--out", tmp_path / "local.csv", "-q")
    dask = audioad("score", *inputs, "--dask", cluster.scheduler_address, "--out", tmp_path / "dask.csv", "-q")
    assert local.returncode == dask.returncode == 1, (local.stderr, dask.stderr)
    assert failure_line(dask) == failure_line(local)
    assert failure_line(local)[0].startswith("Error: 1 of 7 files failed:") and "bad.wav" in failure_line(local)[0]
    local_rows, dask_rows = sorted_rows(tmp_path / "local.csv"), sorted_rows(tmp_path / "dask.csv")
    assert len(local_rows) == 7
    # Workers run BLAS on one thread (Dask's default), which may round a score's last digits otherwise.
    for mine, theirs in zip(dask_rows, local_rows):
        assert {k: v for k, v in mine.items() if k != "score"} == {k: v for k, v in theirs.items() if k != "score"}
        assert (mine["score"] == theirs["score"] == "") or float(mine["score"]) == pytest.approx(
            float(theirs["score"]), rel=1e-6
        )
