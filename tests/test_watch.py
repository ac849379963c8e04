"""`audioad watch`: a simulated recorder writing files, a simulated stream into a pipe, restarts, corrupt files."""

import io
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import rows
from hum_machine import SR, faulty, hum, save_hum_model

from audioad.score_csv import RowWriter
from audioad.sources import FolderSource, PipeSource
from audioad.watch import WATCH_COLUMNS, AlertRule, Watcher, WatchState


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_hum_model(tmp_path_factory.mktemp("model") / "hum.audioad")


@pytest.fixture(scope="module")
def detector(model):
    from audioad import load

    return load(model)


def watcher(detector, tmp_path, rule="2/3", on_alert=None):
    state = WatchState(tmp_path / "state.json")
    writer = RowWriter(tmp_path / "rows.csv", WATCH_COLUMNS, append=True)
    alert = AlertRule(rule, 0, state.flags, state.active)
    lines = []
    w = Watcher(detector, writer, state, 2.0, 2.0, detector.threshold_, 100.0, alert, on_alert, lines.append)
    return w, writer, lines


def test_alerts_need_k_of_n_and_clear_with_hysteresis():
    alert = AlertRule("3/5", clear=1)
    flags = [1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
    changes = [alert.update(f) for f in flags]
    assert changes.index("raised") == 3 and changes.index("cleared") == 10
    assert AlertRule("3/5", flags=[1, 1], active=False).update(True) == "raised"
    with pytest.raises(ValueError, match="clear"):
        AlertRule("2/3", clear=2)


def test_a_pipe_of_raw_pcm_or_wav_gives_the_samples(tmp_path):
    y = hum(3)
    pcm = (y * 2**15).astype("<i2")
    blocks = list(PipeSource(io.BytesIO(pcm.tobytes()), SR, "s16le", SR))
    np.testing.assert_array_equal(np.concatenate(blocks), pcm / 2**15)
    stereo = io.BytesIO()
    sf.write(stereo, np.column_stack([y, -y / 2]), SR, format="WAV", subtype="PCM_16")
    stream = io.BufferedReader(io.BytesIO(stereo.getvalue()))  # read as a pipe: no seeking back
    expected = sf.read(io.BytesIO(stereo.getvalue()), dtype="float64")[0].mean(axis=1)
    np.testing.assert_allclose(np.concatenate(list(PipeSource(stream, SR, "wav"))), expected, atol=1e-6)
    resampled = np.concatenate(list(PipeSource(io.BytesIO(pcm.tobytes()), 8000, "s16le", SR)))
    assert abs(len(resampled) - len(y) // 2) <= 2
    with pytest.raises(Exception, match="WAV header"):
        list(PipeSource(io.BytesIO(b"not a wav at all"), SR, "wav"))


def record(folder, names_and_waves, pause=0.05, pieces=4):
    """A simulated recorder: each file written in pieces with pauses, as a recorder would, one after another."""
    for name, wave in names_and_waves:
        path = folder / name
        if wave is None:
            path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")
            continue
        with sf.SoundFile(path, "w", samplerate=SR, channels=1, subtype="PCM_16") as f:
            for piece in np.array_split(wave, pieces):
                f.write(piece)
                f.flush()
                time.sleep(pause)


def test_a_folder_a_recorder_writes_into_is_scored_file_by_file_and_survives_a_restart(detector, tmp_path, monkeypatch):
    folder = tmp_path / "recorder"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    first = [("a.wav", hum(6, 1)), ("b.wav", None), ("c.wav", np.concatenate([hum(4, 2), faulty(6, 3)]))]
    recorder = threading.Thread(target=record, args=(folder, first))
    recorder.start()
    w, writer, lines = watcher(detector, tmp_path)
    stop = threading.Event()
    watching = threading.Thread(
        target=w.watch_folder, args=(FolderSource(folder, settle=0.5),), kwargs={"poll": 0.1, "stop": stop}
    )
    watching.start()
    recorder.join()
    deadline = time.monotonic() + 60
    while len(w.state.done) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    watching.join()
    writer.close()
    table = rows(tmp_path / "rows.csv")
    names = [os.path.basename(r["source"]) for r in table]
    # Each file once, whole: its rows were not written before the recorder finished it.
    assert names == ["a.wav"] * 3 + ["b.wav"] + ["c.wav"] * 5
    assert table[3]["error"] and table[3]["score"] == ""
    assert any("skipped" in line and "b.wav" in line for line in lines)
    assert [r["alert"] for r in table[4:]] == ["0", "0", "0", "1", "1"]
    assert any(line.startswith("ALERT raised: ") and "c.wav 0:00:06-0:00:08" in line for line in lines)
    # Rows name files by their resolved paths; a line for a person, from the folder they are in.
    assert os.path.isabs(table[4]["source"])
    assert any(line.startswith(f"ALERT raised: {os.path.join('recorder', 'c.wav')} 0:00:06") for line in lines)

    # Restart: a new watcher on the same state scores only the new file and goes on with the alert.
    record(folder, [("d.wav", hum(6, 4))], pause=0)
    w, writer, lines = watcher(detector, tmp_path)
    assert w.alert.active
    w.watch_folder(FolderSource(folder, settle=0), poll=0.05, idle_exit=0.3)
    writer.close()
    table = rows(tmp_path / "rows.csv")
    assert [os.path.basename(r["source"]) for r in table][9:] == ["d.wav"] * 3
    assert any(line.startswith("ALERT cleared") for line in lines), (table[9:], lines)
    state = json.loads((tmp_path / "state.json").read_text())
    assert len(state["done"]) == 4 and state["rows"] == 12 and state["partial"] == {}


def test_a_file_half_scored_when_stopped_gets_only_its_remaining_rows(detector, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, hum(20, 5), SR)
    w, writer, _ = watcher(detector, tmp_path)
    w.state.partial = {str(path): 6}
    w.score_file(path)
    writer.close()
    assert [r["start"] for r in rows(tmp_path / "rows.csv")] == ["12.0", "14.0", "16.0", "18.0"]


def audioad_with_input(args, data, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "audioad", *map(str, args)], input=data, capture_output=True, timeout=timeout
    )


def test_a_stream_on_stdin_raises_an_alert_runs_the_command_and_restarts(model, tmp_path):
    wav = io.BytesIO()
    sf.write(wav, np.concatenate([hum(8, 6), faulty(6, 7), hum(8, 8)]), SR, format="WAV", subtype="PCM_16")
    out, alerts = tmp_path / "watch.csv", tmp_path / "alerts.txt"
    command = f'echo "$AUDIOAD_EVENT $AUDIOAD_SOURCE $AUDIOAD_START $AUDIOAD_RULE" >> {alerts}'
    args = ["watch", model, "-", "--format", "wav", "--out", out, "--rule", "2/3", "--on-alert", command]
    args += ["--log", tmp_path / "watch.log"]
    run = audioad_with_input(args, wav.getvalue())
    assert run.returncode == 0, run.stderr.decode()
    # The source is named as a person would say it, not "-".
    assert "ALERT raised: standard input 0:00:10-0:00:12" in run.stdout.decode()
    assert alerts.read_text().splitlines() == ["raised standard input 10.000 2/3", "cleared standard input 18.000 2/3"]
    assert "ALERT raised" in (tmp_path / "watch.log").read_text()
    assert len(rows(out)) == 11
    # Restarted on a new stream: its times go on from where the last one ended; rows are appended.
    pcm = (hum(4, 9) * 2**15).astype("<i2").tobytes()
    again = audioad_with_input(["watch", model, "-", "--out", out, "--rate", SR], pcm)
    assert again.returncode == 0, again.stderr.decode()
    assert [r["start"] for r in rows(out)][11:] == ["22.0", "24.0"]


def test_the_watch_command_on_a_folder_with_a_corrupt_file(model, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    out = tmp_path / "watch.csv"
    args = ["watch", model, folder, "--out", out, "--settle", "0.5", "--poll", "0.1", "--idle-exit", "4"]
    watch = subprocess.Popen(
        [sys.executable, "-m", "audioad", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    record(folder, [("1.wav", hum(4, 1)), ("2.wav", None), ("3.wav", hum(4, 3))], pause=0.2)
    stdout, stderr = watch.communicate(timeout=120)
    assert watch.returncode == 0, stderr
    assert [os.path.basename(r["source"]) for r in rows(out)] == ["1.wav", "1.wav", "2.wav", "3.wav", "3.wav"]
    assert "skipped" in stdout and "2.wav" in stdout


def test_the_state_stays_small_where_the_recorder_keeps_every_file(detector, tmp_path, monkeypatch):
    import audioad.watch

    monkeypatch.setattr(audioad.watch, "MAX_DONE", 2)
    folder = tmp_path / "recorder"
    folder.mkdir()
    for i in range(4):
        sf.write(folder / f"{i}.wav", hum(2, i), SR)
        os.utime(folder / f"{i}.wav", (1000.0 + i, 1000.0 + i))
    w, writer, _ = watcher(detector, tmp_path)
    w.watch_folder(FolderSource(folder, settle=0), poll=0.05, idle_exit=0.2)
    writer.close()
    state = json.loads((tmp_path / "state.json").read_text())
    assert sorted(os.path.basename(p) for p in state["done"]) == ["2.wav", "3.wav"] and state["scored_before"] == 1001.0
    sf.write(folder / "4.wav", hum(2, 4), SR)
    w, writer, _ = watcher(detector, tmp_path)
    w.watch_folder(FolderSource(folder, settle=0), poll=0.05, idle_exit=0.2)
    writer.close()
    assert [os.path.basename(r["source"]) for r in rows(tmp_path / "rows.csv")] == [f"{i}.wav" for i in range(5)]
