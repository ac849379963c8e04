"""A watch and a resumed score that know their inputs however they are named, lose no audio, and watch only what
a user means (issue 23, findings 2, 3 and 6; issue 24, item 6)."""

import io
import os
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import audioad, rows
from hum_machine import SR, faulty, hum, save_hum_model

from audioad import MelKNN, load, save
from audioad.audio import AudioInputError
from audioad.folders import resolved
from audioad.score_csv import RowWriter, model_fingerprint
from audioad.sources import FolderSource, PipeSource
from audioad.watch import WATCH_COLUMNS, AlertRule, Watcher, WatchState


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_hum_model(tmp_path_factory.mktemp("model") / "hum.audioad")


@pytest.fixture(scope="module")
def detector(model):
    return load(model)


def watcher(detector, where, alert_threshold=100.0, rule="any", **options):
    """A watcher writing to ``where``/rows.csv with its state in ``where``/state.json; its writer and console lines."""
    state = WatchState(where / "state.json")
    writer = RowWriter(where / "rows.csv", WATCH_COLUMNS, append=True)
    alert = AlertRule(rule, 0, state.flags, state.active)
    lines = []
    w = Watcher(detector, writer, state, 2.0, 2.0, detector.threshold_, alert_threshold, alert, echo=lines.append,
                **options)  # fmt: skip
    return w, writer, lines


def watch_once(detector, where, folder, **options):
    """Score what ``folder`` holds, then stop; the rows written and the lines printed."""
    w, writer, lines = watcher(detector, where, **options)
    w.watch_folder(FolderSource(folder, settle=0), poll=0.05, idle_exit=0.3)
    writer.close()
    return rows(where / "rows.csv"), lines


# Finding 2: an input is known by its resolved path.


def test_score_resume_knows_a_clip_by_any_spelling(model, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, seed in (("a.wav", 1), ("b.wav", 2)):
        sf.write(clips / name, hum(2, seed), SR)
    (tmp_path / "linked").symlink_to(clips, target_is_directory=True)
    first = audioad("score", model, "clips/a.wav", "clips/b.wav", "--out", "rr.csv", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # ./x, absolute, through a linked folder: the same two clips.
    for a, b in (("./clips/a.wav", clips / "b.wav"), ("linked/a.wav", tmp_path / "linked" / "b.wav")):
        again = audioad("score", model, a, b, "--out", "rr.csv", "--resume", "-q", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "2 already in" in again.stdout
    assert len(rows(tmp_path / "rr.csv")) == 2


def test_score_resume_of_segments_knows_a_file_by_any_spelling(model, tmp_path):
    sf.write(tmp_path / "long.wav", hum(6, 3), SR)
    first = audioad("score", model, "long.wav", "--segment", "2s", "--out", "cut.csv", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = audioad(
        "score", model, tmp_path / "long.wav", "--segment", "2s", "--out", "cut.csv", "--resume", "-q", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert len(rows(tmp_path / "cut.csv")) == 3 and "nothing to score" in again.stdout


def _clips_and_another_folder(tmp_path):
    """``tmp_path``/clips with a.wav, b.wav (2 s) and long.wav (6 s); ``tmp_path``/elsewhere to run from."""
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, seconds, seed in (("a.wav", 2, 1), ("b.wav", 2, 2), ("long.wav", 6, 3)):
        sf.write(clips / name, hum(seconds, seed), SR)
    (tmp_path / "elsewhere").mkdir()
    return clips, tmp_path / "elsewhere"


def test_score_resumed_from_another_folder_scores_nothing_again(model, tmp_path):
    clips, elsewhere = _clips_and_another_folder(tmp_path)
    first = audioad("score", model, "clips/a.wav", "clips/b.wav", "--out", "rr.csv", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = rows(tmp_path / "rr.csv")
    assert [r["path"] for r in written] == [resolved(clips / "a.wav"), resolved(clips / "b.wav")]
    again = audioad("score", model, "../clips/a.wav", clips / "b.wav", "--out", "../rr.csv", "--resume", cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    assert "2 already in" in again.stdout
    assert rows(tmp_path / "rr.csv") == written


def test_score_segments_resumed_from_another_folder_go_on_where_they_stopped(model, tmp_path):
    clips, elsewhere = _clips_and_another_folder(tmp_path)
    first = audioad("score", model, "clips/a.wav", "clips/long.wav", "--segment", "2s", "-o", "cut.csv", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    segments, files = (tmp_path / "cut.csv").read_text(), (tmp_path / "cut.files.csv").read_text()
    named = {resolved(clips / "a.wav"), resolved(clips / "long.wav")}
    assert {r["path"] for r in rows(tmp_path / "cut.csv")} == {r["path"] for r in rows(tmp_path / "cut.files.csv")}
    assert {r["path"] for r in rows(tmp_path / "cut.csv")} == named
    # Stopped inside long.wav: its last segment and its summary not written.
    (tmp_path / "cut.csv").write_text("".join(segments.splitlines(keepends=True)[:-1]))
    (tmp_path / "cut.files.csv").write_text("".join(files.splitlines(keepends=True)[:-1]))
    inputs = ("../clips/a.wav", "../clips/long.wav", "--segment", "2s", "--out", "../cut.csv", "--resume")
    resumed = audioad("score", model, *inputs, cwd=elsewhere)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 already in" in resumed.stdout
    assert (tmp_path / "cut.csv").read_text() == segments and (tmp_path / "cut.files.csv").read_text() == files
    again = audioad("score", model, *inputs, cwd=elsewhere)
    assert again.returncode == 0 and "nothing to score" in again.stdout
    assert (tmp_path / "cut.csv").read_text() == segments


def test_a_csv_of_typed_relative_paths_is_resumed_only_from_where_they_lead(model, tmp_path):
    """An older audioad wrote paths as typed: from another folder they name nothing, and resuming would score
    every clip again; it is refused, and resumed from the folder it was written from."""
    clips, elsewhere = _clips_and_another_folder(tmp_path)
    first = audioad("score", model, "clips/a.wav", "--out", "old.csv", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    old = (tmp_path / "old.csv").read_text().replace(resolved(clips / "a.wav"), "clips/a.wav")
    (tmp_path / "old.csv").write_text(old)
    refused = audioad("score", model, "../clips/a.wav", "../clips/b.wav", "-o", "../old.csv", "--resume", cwd=elsewhere)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "old.csv names its clips by paths relative to the folder it was written from" in refused.stderr
    assert f"clips/a.wav is not found from {elsewhere}" in refused.stderr
    assert (tmp_path / "old.csv").read_text() == old
    resumed = audioad("score", model, "clips/a.wav", "clips/b.wav", "--out", "old.csv", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0 and "1 already in" in resumed.stdout, resumed.stderr
    assert [r["path"] for r in rows(tmp_path / "old.csv")] == ["clips/a.wav", resolved(clips / "b.wav")]


@pytest.mark.parametrize("segment", [(), ("--segment", "2s")], ids=["clips", "segments"])
def test_report_of_a_score_csv_from_another_folder_finds_its_files(model, tmp_path, segment):
    clips, elsewhere = _clips_and_another_folder(tmp_path)
    first = audioad("score", model, "clips/a.wav", "clips/long.wav", *segment, "--out", "s.csv", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = audioad("report", model, "../s.csv", "--out", "r.html", "-q", cwd=elsewhere)
    assert report.returncode == 0, report.stderr
    assert "2 shown in full" in report.stdout or "the 2 highest-scoring shown in full" in report.stdout, report.stdout


def test_a_watch_restarted_from_another_folder_scores_nothing_again(detector, tmp_path, monkeypatch):
    folder = tmp_path / "recorder"
    folder.mkdir()
    sf.write(folder / "1.wav", hum(4, 1), SR)
    sf.write(folder / "2.wav", faulty(4, 2), SR)
    (tmp_path / "linked").symlink_to(folder, target_is_directory=True)
    watch_dir = tmp_path / "watch"
    watch_dir.mkdir()
    monkeypatch.chdir(tmp_path)
    table, lines = watch_once(detector, watch_dir, "recorder", alert_threshold=detector.threshold_)
    assert len(table) == 4 and any(line.startswith("ALERT raised") for line in lines)
    assert all(os.path.isabs(r["source"]) for r in table)
    # Restarted elsewhere, on the folder named through a link: nothing is scored or raised again.
    monkeypatch.chdir(folder)
    for spelling in (".", tmp_path / "linked", "../linked"):
        table, lines = watch_once(detector, watch_dir, spelling, alert_threshold=detector.threshold_)
        assert len(table) == 4 and not any("ALERT" in line for line in lines), (spelling, lines)


def test_a_watch_state_of_another_model_is_refused(tmp_path):
    WatchState(tmp_path / "state.json", model="aa" * 32).save()
    with pytest.raises(ValueError, match="another model"):
        WatchState(tmp_path / "state.json", model="bb" * 32)


# Finding 3: no audio lost.


@pytest.mark.parametrize("growing", [False, True])
def test_a_copy_that_pauses_longer_than_settle_is_scored_whole(detector, tmp_path, growing):
    folder = tmp_path / "recorder"
    folder.mkdir()
    wav = io.BytesIO()
    sf.write(wav, hum(6, 4), SR, format="WAV", subtype="PCM_16")
    data = wav.getvalue()
    w, writer, lines = watcher(detector, tmp_path)
    stop = threading.Event()
    watching = threading.Thread(
        target=w.watch_folder,
        args=(FolderSource(folder, settle=0.3, growing=growing),),
        kwargs={"poll": 0.05, "stop": stop},
    )
    watching.start()
    # A copy of a finished recording, its header already declaring 6 s, written a third at a time.
    with open(folder / "copy.wav", "wb") as f:
        for third in np.array_split(np.frombuffer(data, dtype=np.uint8), 3):
            f.write(third.tobytes())
            f.flush()
            time.sleep(1.0)
    deadline = time.monotonic() + 30
    while not w.state.done and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    stop.set()
    watching.join()
    writer.close()
    table = rows(tmp_path / "rows.csv")
    assert [(r["start"], r["end"]) for r in table] == [("0.0", "2.0"), ("2.0", "4.0"), ("4.0", "6.0")], lines
    assert not any(r["warning"] for r in table)


def test_a_file_that_grows_after_it_was_scored_has_its_new_audio_scored(detector, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    y = hum(9, 5)
    sf.write(folder / "take.wav", y[: 5 * SR], SR)
    table, _ = watch_once(detector, tmp_path, folder)
    assert [(r["start"], r["end"]) for r in table] == [("0.0", "2.0"), ("2.0", "4.0"), ("3.0", "5.0")]
    sf.write(folder / "take.wav", y, SR)
    table, lines = watch_once(detector, tmp_path, folder)
    # The segments its new audio completes, none of those it had again.
    assert [(r["start"], r["end"]) for r in table][3:] == [("4.0", "6.0"), ("6.0", "8.0"), ("7.0", "9.0")]
    assert any("changed size after it was scored" in line for line in lines)


def test_a_truncated_wav_is_scored_once_it_stays_so_with_a_warning(detector, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    sf.write(folder / "cut.wav", hum(6, 6), SR, subtype="PCM_16")
    with open(folder / "cut.wav", "r+b") as f:
        f.truncate(44 + 4 * SR * 2)
    w, writer, lines = watcher(detector, tmp_path)
    source = FolderSource(folder, settle=0, truncated_after=0.5)
    assert source.ready(done={}) == []  # incomplete: waited for, whatever settle says
    w.watch_folder(source, poll=0.05, idle_exit=1.0)
    writer.close()
    table = rows(tmp_path / "rows.csv")
    assert len(table) == 2 and all(r["warning"].startswith("truncated: its header declares 6.0 s") for r in table)
    assert sum("truncated" in line for line in lines) == 1


# Finding 6: the watch's own inputs.


def test_hidden_files_and_sidecars_are_not_watched(detector, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    for name in ("rec_05.wav", ".rec_06.wav", "._rec_05.wav"):
        sf.write(folder / name, hum(2, 7), SR)
    table, _ = watch_once(detector, tmp_path, folder)
    assert [os.path.basename(r["source"]) for r in table] == ["rec_05.wav"]


def test_watch_refuses_to_append_to_another_models_csv(model, tmp_path):
    other = tmp_path / "other.audioad"
    save(MelKNN(n_mels=32).fit([hum(8, 8)], segment="2s"), other)
    folder = tmp_path / "recorder"
    folder.mkdir()
    out = tmp_path / "watch.csv"
    with RowWriter(out, WATCH_COLUMNS, fingerprint=model_fingerprint(other)) as writer:
        writer.write(("a.wav", "0.0", "2.0", "0.1", 0, 0, "2026-01-01T00:00:00.000+00:00", "", ""))
    run = audioad("watch", model, folder, "--out", out, "--idle-exit", "0.1")
    assert run.returncode == 2 and "written by another model" in run.stderr, run.stderr
    assert len(rows(out)) == 1


def test_a_wav_stream_on_stdin_is_detected_or_refused_when_raw_was_asked_for():
    y = hum(2, 9)
    wav = io.BytesIO()
    sf.write(wav, np.column_stack([y, y / 2]), SR, format="WAV", subtype="PCM_16")
    expected = np.concatenate(list(PipeSource(io.BytesIO(wav.getvalue()), SR, "wav")))
    detected = np.concatenate(list(PipeSource(io.BufferedReader(io.BytesIO(wav.getvalue())), SR)))
    np.testing.assert_array_equal(detected, expected)
    assert len(detected) == len(y)
    with pytest.raises(AudioInputError, match="starts with a WAV header, but raw s16le"):
        list(PipeSource(io.BytesIO(wav.getvalue()), SR, "s16le", name="standard input"))
    # Raw PCM is still raw by default.
    pcm = (y * 2**15).astype("<i2").tobytes()
    assert len(np.concatenate(list(PipeSource(io.BytesIO(pcm), SR)))) == len(y)


@pytest.mark.parametrize(
    "command, timeout, failure",
    [
        ("sleep 2; exit 3", 10, "alert command exited with status 3: sleep 2; exit 3"),
        ("no-such-alert-command-here", 10, "exited with status 127: command not found"),
        ("sleep 30", 1, "alert command ran over 1 s and was stopped: sleep 30"),
    ],
)
def test_alert_commands_run_in_the_background_and_their_failures_are_logged(
    detector, tmp_path, command, timeout, failure
):
    w, writer, lines = watcher(
        detector, tmp_path, alert_threshold=detector.threshold_, on_alert=command, hook_timeout=timeout
    )
    latency = []
    blocks = np.array_split(np.concatenate([faulty(2, 1), hum(6, 2)]), 40)
    began = time.monotonic()
    w.watch_stream(blocks, name="pump", latency=latency)
    writer.close()
    assert any(line.startswith("ALERT raised") for line in lines)
    # Scoring went on while the command ran: no segment waited for it.
    assert max(latency) < 1.0, latency
    assert time.monotonic() - began < 10
    assert any(failure in line for line in lines), lines


def test_a_watch_row_says_the_channels_cancel_and_a_channel_alone_is_clean(detector, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    y = hum(4, 10)
    sf.write(folder / "stereo.wav", np.column_stack([y, -y]), SR, subtype="PCM_16")
    advice = {"silent": "pick one channel"}
    (tmp_path / "mixed").mkdir()
    mixed, lines = watch_once(detector, tmp_path / "mixed", folder, advice=advice)
    assert all("channels cancel when mixed" in r["warning"] for r in mixed)
    assert sum("channels cancel" in line and line.endswith("; pick one channel") for line in lines) == 1
    (tmp_path / "one").mkdir()
    alone, lines = watch_once(detector, tmp_path / "one", folder, channel=1, advice=advice)
    assert len(alone) == 2 and not any(r["warning"] for r in alone) and not lines


def test_the_watch_command_offers_and_takes_a_channel(model, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    y = hum(4, 11)
    sf.write(folder / "stereo.wav", np.column_stack([y, -y]), SR, subtype="PCM_16")
    mixed = audioad("watch", model, folder, "--out", tmp_path / "mixed.csv", "--settle", "0", "--idle-exit", "0.5")
    assert mixed.returncode == 0, mixed.stderr
    assert "channels cancel when mixed" in mixed.stdout and "--channel N" in mixed.stdout
    alone = audioad(
        "watch", model, folder, "--out", tmp_path / "one.csv", "--settle", "0", "--idle-exit", "0.5", "--channel", "0"
    )
    assert alone.returncode == 0, alone.stderr
    assert [r["warning"] for r in rows(tmp_path / "one.csv")] == ["", ""]
