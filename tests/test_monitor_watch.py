"""`audioad watch --db`: rows, alerts and state in a store; kill -9 and restart; watches side by side; export."""

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from conftest import audioad, rows
from monitor_servers import fresh_database, postgres_cluster
from test_watch import SR, faulty, hum

from audioad import MelKNN, save
from audioad.cli import main
from audioad.monitor.backends import open_store


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "hum.audioad"
    save(MelKNN().fit([np.concatenate([hum(10, seed) for seed in range(4)])], segment="2s"), path)
    return path


def recorder_folder(folder, files, seconds, fault_at=()):
    """A folder as a recorder leaves it: ``files`` WAV files of ``seconds``; those in ``fault_at`` faulty."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        sf.write(folder / f"{i:03d}.wav", (faulty if i in fault_at else hum)(seconds, seed=10 + i), SR)
        os.utime(folder / f"{i:03d}.wav", (1e9 + i, 1e9 + i))
    return folder


def watch_command(model, folder, db, name, *more):
    return [sys.executable, "-m", "audioad", "watch", str(model), str(folder), "--db", str(db), "--name", name,
            "--settle", "0", "--poll", "0.1", "--idle-exit", "1", "--rule", "2/3", *map(str, more)]  # fmt: skip


def committed_rows(db):
    """Rows in the store now, read as the dashboard would, without the writer's lock that opening a store takes."""
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
            return connection.execute("SELECT count(*) FROM segments").fetchone()[0]
    except sqlite3.Error:  # not made yet, or its tables not yet
        return 0


def segment_keys(db, name):
    with open_store(db) as store:
        return [(r["file"], r["start"]) for r in store.segments(name)]


def test_kill_9_loses_no_committed_row_and_the_restart_goes_on_where_the_store_says(model, tmp_path):
    folder = recorder_folder(tmp_path / "press3", files=6, seconds=40, fault_at=(3,))
    db = tmp_path / "plant.sqlite"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    watch = subprocess.Popen(watch_command(model, folder, db, "press3"), env=env, stderr=subprocess.DEVNULL)
    seen = 0
    deadline = time.monotonic() + 120
    while seen == 0 and time.monotonic() < deadline and watch.poll() is None:
        time.sleep(0.01)
        seen = committed_rows(db)
    watch.send_signal(signal.SIGKILL)
    watch.wait()
    killed_with = len(segment_keys(db, "press3"))
    assert 0 < killed_with < 6 * 20, "the watch was to be killed part way through"
    done = subprocess.run(watch_command(model, folder, db, "press3"), capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    keys = segment_keys(db, "press3")
    assert len(keys) == len(set(keys)) == 6 * 20
    assert sorted(keys) == sorted((str(folder / f"{i:03d}.wav"), 2.0 * k) for i in range(6) for k in range(20))
    with open_store(db) as store:
        (source,) = store.sources()
        assert source["segments"] == 120 and source["model_path"] == str(model)
        # The alert rule saw each segment once: one alert, raised in the faulty file and cleared after it.
        (alert,) = store.alerts()
        assert alert["file"].endswith("003.wav") and alert["cleared_at"] is not None


def test_two_watches_write_one_store_at_once_and_the_history_exports_one(model, tmp_path):
    db = tmp_path / "plant.sqlite"
    out = tmp_path / "pump.csv"
    press = recorder_folder(tmp_path / "press3", files=3, seconds=20, fault_at=(1,))
    pump = recorder_folder(tmp_path / "pump1", files=3, seconds=20)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    commands = [watch_command(model, press, db, "press3"), watch_command(model, pump, db, "pump1", "--out", out)]
    watches = [subprocess.Popen(c, env=env, stderr=subprocess.PIPE, text=True) for c in commands]
    for watch in watches:
        assert watch.wait(timeout=300) == 0, watch.stderr.read()
    with open_store(db) as store:
        assert {s["name"]: (s["segments"], s["state"]) for s in store.sources()} == {
            "press3": (30, "normal"),
            "pump1": (30, "normal"),
        }
    # --out still gets its CSV, row for row the store's.
    assert [(r["source"], float(r["start"])) for r in rows(out)] == segment_keys(db, "pump1")
    exported = audioad("history", db, "--source", "press3", "--since", "7d", "--csv")
    assert exported.returncode == 0, exported.stderr
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(table) == 30 and {r["source"] for r in table} == {"press3"}
    above = sum(int(r["label"]) for r in table)
    assert above >= 10 and table[0]["scored_at"].endswith("+00:00")  # the faulty file's 10 segments at least
    assert audioad("history", db, "--since", "1ms", "--csv").stdout.count("\n") == 1  # the header alone
    summary = audioad("history", db).stdout.splitlines()
    assert len(summary) == 2 and summary[0].startswith("press3 (model ") and f"30 segments, {above} above" in summary[0]
    assert "1 alerts" in summary[0] and summary[0].endswith("normal")


def invoke(*args):
    """Run the command in this process (it is refused before a watch starts); exit code and output."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output.strip()


def test_a_store_it_cannot_use_is_refused_in_one_line(model, tmp_path):
    folder = recorder_folder(tmp_path / "press3", files=1, seconds=2)
    for db, message in ((model, "not a SQLite database"), (tmp_path / "none.sqlite", "no such history store")):
        code, output = invoke("history", db)
        assert code == 2 and message in output and len(output.splitlines()) == 1
    assert not (tmp_path / "none.sqlite").exists()
    code, output = invoke("watch", model, folder, "--db", model, "--idle-exit", "0.1")
    assert code == 2 and output.endswith("hum.audioad: not a SQLite database; name a new file or an audioad history")
    code, output = invoke("watch", model, folder)
    assert code == 2 and "pass --out (a CSV), --db (a history store) or both" in output
    code, output = invoke("watch", model, folder, "--db", tmp_path / "a.sqlite", "--state", tmp_path / "s.json")
    assert code == 2 and "with --db the store keeps the state" in output


def test_the_dashboard_without_its_extra_says_how_to_install_it_in_one_line(tmp_path, monkeypatch):
    db = tmp_path / "plant.sqlite"
    open_store(db).close()
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    assert invoke("dashboard", db) == (
        2,
        "Error: audioad dashboard needs prometheus_client: pip install 'audioad[dashboard]'",
    )


def test_watches_write_into_postgresql(model, tmp_path):
    with postgres_cluster() as cluster:
        url = fresh_database(cluster)
        folder = recorder_folder(tmp_path / "press3", files=2, seconds=20, fault_at=(1,))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        for _ in range(2):  # the second run finds everything scored
            done = subprocess.run(watch_command(model, folder, url, "press3"), capture_output=True, text=True, env=env)
            assert done.returncode == 0, done.stderr
        with open_store(url) as store:
            (source,) = store.sources()
            assert source["segments"] == 20 and len(store.alerts()) == 1
        exported = audioad("history", url, "--csv")
        assert exported.returncode == 0 and exported.stdout.count("\n") == 21
