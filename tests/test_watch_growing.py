"""`audioad watch --growing`: WAV files scored as a recorder writes them, as each recorder writes its header."""

import json
import os
import struct
import threading
import time
import wave
from contextlib import contextmanager

import numpy as np
import pytest
import soundfile as sf
from conftest import rows
from test_watch import SR, faulty, hum, watcher

from audioad import MelKNN, load_audio, save
from audioad.audio import AudioInputError
from audioad.sources import FolderSource, GrowingWav


class HandWav:
    """A recorder that writes its own WAV header and 16-bit samples in blocks that split frames.

    ``placeholder`` is the data size it writes until it closes the file: arecord and sox write a
    huge one, ffmpeg 0xFFFFFFFF; on closing it writes the real sizes (and ``trailer``, a chunk
    some recorders add after the samples).
    """

    def __init__(self, path, channels=1, placeholder=0x7FFFF000, trailer=b""):
        self.file, self.channels, self.trailer = open(path, "wb"), channels, trailer
        fmt = struct.pack("<HHIIHH", 1, channels, SR, SR * 2 * channels, 2 * channels, 16)
        riff = min(placeholder + 36, 0xFFFFFFFF)
        self.file.write(b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " + struct.pack("<I", 16) + fmt)
        self.file.write(b"data" + struct.pack("<I", placeholder))
        self.file.flush()
        self.size = 0

    def write(self, samples):
        data = (np.asarray(samples).reshape(-1, self.channels) * 2**15).astype("<i2").tobytes()
        for at in range(0, len(data), 3001):  # an odd count of bytes: frames land split
            self.file.write(data[at : at + 3001])
            self.file.flush()
        self.size += len(data)

    def close(self):
        self.file.write(self.trailer)
        self.file.seek(4)
        self.file.write(struct.pack("<I", 36 + self.size + len(self.trailer)))
        self.file.seek(40)
        self.file.write(struct.pack("<I", self.size))
        self.file.close()


class SoundFileWav:
    """libsndfile kept open and flushed: its header says 0 bytes of samples until it is closed."""

    def __init__(self, path, channels=1, subtype="PCM_16"):
        self.file = sf.SoundFile(path, "w", samplerate=SR, channels=channels, subtype=subtype)

    def write(self, samples):
        self.file.write(samples)
        self.file.flush()

    def close(self):
        self.file.close()


class WaveModuleWav:
    """Python's wave module: the header's sizes are rewritten after every block."""

    def __init__(self, path, channels=1):
        self.file = wave.open(str(path), "wb")
        self.file.setnchannels(channels)
        self.file.setsampwidth(2)
        self.file.setframerate(SR)

    def write(self, samples):
        self.file.writeframes((np.asarray(samples) * 2**15).astype("<i2").tobytes())

    def close(self):
        self.file.close()


LIST = b"LIST" + struct.pack("<I", 12) + b"INFOISFT" + struct.pack("<I", 0)
RECORDERS = {
    "arecord": lambda path, channels=1: HandWav(path, channels),
    "ffmpeg": lambda path, channels=1: HandWav(path, channels, placeholder=0xFFFFFFFF, trailer=LIST),
    "libsndfile": lambda path, channels=1: SoundFileWav(path, channels),
    "wave": lambda path, channels=1: WaveModuleWav(path, channels),
}


@pytest.fixture(scope="module")
def detector():
    return MelKNN().fit([np.concatenate([hum(10, seed) for seed in range(4)])], segment="2s")


@pytest.mark.parametrize("recorder", sorted(RECORDERS))
def test_a_growing_wav_gives_the_samples_of_the_finished_file(recorder, tmp_path):
    path, y = tmp_path / "pump.wav", np.column_stack([hum(3, 1), hum(3, 2) / 2])
    writing = RECORDERS[recorder](path, channels=2)
    wav, blocks = None, []
    for piece in np.array_split(y, 7):
        writing.write(piece)
        wav = wav or GrowingWav.open(path, SR)
        blocks += list(wav.landed())
    writing.close()
    blocks += list(wav.landed(last=True))
    np.testing.assert_array_equal(np.concatenate(blocks), load_audio(path, sr=SR)[0])


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_every_pcm_and_float_wav_grows_bit_for_bit_and_resampled_to_its_rounding(subtype, tmp_path):
    path, y = tmp_path / "pump.wav", np.column_stack([hum(2, 3), -hum(2, 4)]) / 2
    writing = SoundFileWav(path, channels=2, subtype=subtype)
    wav, resampled, blocks, slow = None, None, [], []
    for piece in np.array_split(y, 5):
        writing.write(piece)
        wav, resampled = wav or GrowingWav.open(path, SR), resampled or GrowingWav.open(path, 8000)
        blocks += list(wav.landed())
        slow += list(resampled.landed())
    writing.close()
    blocks += list(wav.landed(last=True))
    slow += list(resampled.landed(last=True))
    np.testing.assert_array_equal(np.concatenate(blocks), load_audio(path, sr=SR)[0])
    whole = load_audio(path, sr=8000)[0]
    assert len(np.concatenate(slow)) == len(whole)
    np.testing.assert_allclose(np.concatenate(slow), whole, atol=1e-5)


def test_what_is_not_a_growing_pcm_wav_waits_and_a_rewritten_file_is_refused(tmp_path):
    (tmp_path / "short.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")  # the header is still being written
    sf.write(tmp_path / "pump.flac", hum(1), SR)
    sf.write(tmp_path / "adpcm.wav", hum(1), SR, subtype="IMA_ADPCM")
    assert [GrowingWav.open(tmp_path / name, SR) for name in ("short.wav", "pump.flac", "adpcm.wav")] == [None] * 3
    writing = HandWav(tmp_path / "pump.wav")
    writing.write(hum(1))
    wav = GrowingWav.open(tmp_path / "pump.wav", SR)
    assert len(np.concatenate(list(wav.landed()))) == SR
    HandWav(tmp_path / "pump.wav").write(hum(0.5))  # the recorder started the file again
    with pytest.raises(AudioInputError, match=r"pump\.wav.*got shorter"):
        list(wav.landed())


def test_rf64_grows_as_its_ds64_chunk_says(tmp_path):
    path, y = tmp_path / "pump.wav", hum(2, 5)
    writing = sf.SoundFile(path, "w", samplerate=SR, channels=1, format="RF64", subtype="PCM_16")
    writing.write(y[:SR])
    writing.flush()
    wav = GrowingWav.open(path, SR)
    blocks = list(wav.landed())
    writing.write(y[SR:])
    writing.close()
    blocks += list(wav.landed(last=True))
    assert wav.header.ds64_offset is not None
    np.testing.assert_array_equal(np.concatenate(blocks), load_audio(path, sr=SR)[0])


def test_only_files_in_progress_are_followed_the_folder_s_old_files_wait_to_settle(tmp_path):
    sf.write(tmp_path / "old.wav", hum(1), SR)
    os.utime(tmp_path / "old.wav", (time.time() - 3600, time.time() - 3600))
    writing = HandWav(tmp_path / "new.wav")
    writing.write(hum(1))
    source = FolderSource(tmp_path, settle=1.0, growing=True)
    old, new = str(tmp_path / "old.wav"), str(tmp_path / "new.wav")
    assert source.scan(done={}) == ([], [new])
    writing.write(hum(0.1))
    os.utime(new, (time.time() - 1800, time.time() - 1800))  # a clock that disagrees: still followed
    assert source.scan(done={}) == ([], [new])
    time.sleep(1.1)
    assert source.scan(done={}) == ([old, new], [])
    writing.close()


def rows_of(path):
    return [(r["source"], r["start"], r["end"], r["score"], r["label"]) for r in rows(path)]


def whole_file_rows(detector, tmp_path, path):
    """The rows of the finished file scored whole, as a watch without --growing scores it."""
    (tmp_path / "whole").mkdir()
    w, writer, _ = watcher(detector, tmp_path / "whole")
    w.score_file(path)
    writer.close()
    return rows_of(tmp_path / "whole" / "rows.csv")


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@contextmanager
def following(w, folder):
    """``w`` watching ``folder`` with --growing in a thread, stopped on the way out.

    A file is complete once its size has held for 3 s: longer than the recorders here pause,
    on a machine busy with other work too.
    """
    stop = threading.Event()
    source = FolderSource(folder, settle=3.0, growing=True)
    thread = threading.Thread(target=w.watch_folder, args=(source,), kwargs={"poll": 0.05, "stop": stop})
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("recorder", ["arecord", "libsndfile"])
def test_a_file_being_recorded_is_scored_as_it_grows_the_same_as_when_finished(recorder, detector, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    path = folder / "pump.wav"
    # 11.3 s in 2 s segments: 5 as they land, and one ending at the last sample once the file is done.
    y = np.concatenate([hum(6, 1), faulty(5.3, 2)])
    w, writer, lines = watcher(detector, tmp_path)
    with following(w, folder):
        writing = RECORDERS[recorder](path)
        for piece in np.array_split(y[: 6 * SR], 12):
            writing.write(piece)
            time.sleep(0.01)
        # The first 3 segments' rows come while the file is still being written, and the state says so.
        state = tmp_path / "state.json"
        wait_for(lambda: state.exists() and json.loads(state.read_text())["partial"] == {str(path): 3})
        assert w.state.rows == 3 and not w.state.done
        for piece in np.array_split(y[6 * SR :], 10):
            writing.write(piece)
            time.sleep(0.01)
        wait_for(lambda: w.state.rows == 5)
        writing.close()
        wait_for(lambda: str(path) in w.state.done)
    writer.close()
    table = rows_of(tmp_path / "rows.csv")
    assert [(start, end) for _, start, end, _, _ in table][-2:] == [("8.0", "10.0"), ("9.3", "11.3")]
    assert table == whole_file_rows(detector, tmp_path, path)  # bit for bit: the same samples
    assert any(line.startswith("ALERT raised") for line in lines)


def test_a_watch_restarted_in_a_file_being_recorded_goes_on_from_its_last_row(detector, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    path = folder / "pump.wav"
    y = np.concatenate([hum(5, 4), faulty(4, 5), hum(3.5, 6)])
    writing = SoundFileWav(path)
    w, writer, _ = watcher(detector, tmp_path)
    with following(w, folder):
        writing.write(y[: 5 * SR])
        wait_for(lambda: w.state.rows == 2)  # stopped with the file half written: 0-2 and 2-4 scored
    writer.close()
    w, writer, _ = watcher(detector, tmp_path)
    with following(w, folder):
        writing.write(y[5 * SR : 9 * SR])
        wait_for(lambda: w.state.rows == 4)  # 4-6 and 6-8, while the file still grows
        writing.write(y[9 * SR :])
        writing.close()
        wait_for(lambda: str(path) in w.state.done)
    writer.close()
    table = rows_of(tmp_path / "rows.csv")
    assert [start for _, start, _, _, _ in table] == ["0.0", "2.0", "4.0", "6.0", "8.0", "10.0", "10.5"]
    assert table == whole_file_rows(detector, tmp_path, path)


def test_a_flac_being_written_waits_until_it_is_complete(detector, tmp_path):
    folder = tmp_path / "recorder"
    folder.mkdir()
    writing = sf.SoundFile(folder / "pump.flac", "w", samplerate=SR, channels=1)
    writing.write(hum(5, 7))
    writing.flush()
    w, writer, _ = watcher(detector, tmp_path)
    with following(w, folder):
        for _ in range(6):
            time.sleep(0.05)
            writing.write(hum(0.1, 8))  # still growing: never settles
            writing.flush()
        assert w.state.rows == 0
        writing.close()
        wait_for(lambda: w.state.done)
    writer.close()
    assert [r["start"] for r in rows(tmp_path / "rows.csv")] == ["0.0", "2.0", "3.6"]
    assert os.path.basename(rows(tmp_path / "rows.csv")[0]["source"]) == "pump.flac"


def test_the_watch_command_scores_a_growing_file(detector, tmp_path):
    import subprocess
    import sys

    folder, model, out = tmp_path / "recorder", tmp_path / "hum.audioad", tmp_path / "watch.csv"
    folder.mkdir()
    save(detector, model)
    args = ["watch", model, folder, "--growing", "--out", out, "--settle", "3", "--poll", "0.1", "--idle-exit", "1"]
    watch = subprocess.Popen(
        [sys.executable, "-m", "audioad", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        started = next(line for line in watch.stderr if line.startswith("watching"))  # the model is loaded
        writing = RECORDERS["arecord"](folder / "pump.wav")
        writing.write(hum(6, 9))
        wait_for(lambda: out.exists() and len(rows(out)) == 3, seconds=120)  # before the file is finished
        writing.write(hum(1, 10))
        writing.close()
        stdout, stderr = watch.communicate(timeout=120)
    finally:
        watch.kill()
    assert watch.returncode == 0, stderr
    assert "WAV files scored as they grow" in started and "stopped: 4 rows written" in stderr
    assert [r["start"] for r in rows(out)] == ["0.0", "2.0", "4.0", "5.0"]
