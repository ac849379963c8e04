"""`audioad watch --device`: a sound card, through a stand-in for the optional sounddevice package."""

import _thread
import logging
import signal
import sys
import threading
import time
import types

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import rows
from test_watch import SR, faulty, hum, watcher

from audioad import MelKNN, save
from audioad.audio import AudioInputError
from audioad.sources import SoundCardSource, input_devices


class PortAudioError(Exception):
    pass


def fake_sounddevice(audio=None, rate=48000, then=None, takes=(48000,), inputs=True):
    """A module with sounddevice's calls: two devices (an output, a two-channel USB input) at ``rate``.

    Its InputStream calls back with ``audio`` (frames x channels) a block at a time from a thread,
    as PortAudio does, then calls ``then`` and goes quiet; ``takes`` are the rates the input accepts.
    """
    sd = types.ModuleType("sounddevice")
    sd.PortAudioError = PortAudioError
    devices = [
        {"name": "HDMI", "index": 0, "max_input_channels": 0, "default_samplerate": 48000.0},
        {"name": "USB Audio: mic (hw:1,0)", "index": 1, "max_input_channels": 2 if inputs else 0},
    ]
    devices[1]["default_samplerate"] = float(rate)
    sd.opened = []

    def query_devices(device=None, kind=None):
        if device is None and kind is None:
            return list(devices)
        if device is None:
            if not inputs:
                raise PortAudioError("Error querying device -1")
            device = 1
        found = [d for d in devices if device == d["index"] or str(device).lower() in d["name"].lower()]
        if not found:
            raise ValueError(f"No input device matching {device!r}")
        if kind and found[0][f"max_{kind}_channels"] < 1:
            raise ValueError(f"Not an {kind} device: {found[0]['name']!r}")
        return found[0]

    def check_input_settings(device=None, channels=None, dtype=None, samplerate=None):
        if samplerate not in takes:
            raise PortAudioError("Invalid sample rate")

    class InputStream:
        def __init__(self, samplerate, blocksize, device, channels, dtype, callback):
            assert samplerate in takes and dtype == "float32" and device == 1
            self.samplerate, self.blocksize, self.channels, self.callback = samplerate, blocksize, channels, callback
            self.active = self.closed = False
            sd.opened.append(self)

        def _run(self):
            try:
                for at in range(0, len(audio), self.blocksize):
                    if not self.active:
                        return
                    block = np.asarray(audio[at : at + self.blocksize], dtype=np.float32)
                    self.callback(block, len(block), None, types.SimpleNamespace(input_overflow=at == 0))
                if then is not None:
                    then()
            except BaseException:
                self.active = False  # as PortAudio's stream stops: the watch then says so
                raise

        def __enter__(self):
            self.active = True
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
            return self

        def __exit__(self, *exc):
            self.active = False
            self.thread.join()
            self.closed = True

    sd.query_devices, sd.check_input_settings, sd.InputStream = query_devices, check_input_settings, InputStream
    return sd


def stereo_at(rate, y):
    """``y`` at 16 kHz as a two-channel card at ``rate`` would deliver it (the channels average to ``y``)."""
    import soxr

    y = soxr.resample(y, SR, rate) if rate != SR else y
    return np.column_stack([y * 1.5, y * 0.5]).astype(np.float32)


@pytest.fixture(scope="module")
def detector():
    return MelKNN().fit([np.concatenate([hum(10, seed) for seed in range(4)])], segment="2s")


def test_without_sounddevice_or_portaudio_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(ImportError, match=r"pip install 'audioad\[soundcard\]'"):
        SoundCardSource(SR)
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    monkeypatch.delitem(sys.modules, "sounddevice")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError, match="PortAudio library not found.*libportaudio2"):
        input_devices()


def test_a_missing_input_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(inputs=False))
    with pytest.raises(AudioInputError, match=r"default sound card: no such input.*input_devices\(\) lists them"):
        SoundCardSource(SR)
    assert input_devices() == []
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice())
    with pytest.raises(AudioInputError, match="sound card 'webcam': no such input"):
        SoundCardSource(SR, "webcam")
    with pytest.raises(AudioInputError, match="mic.*has 2 input channel"):
        SoundCardSource(SR, "1", channels=4)
    assert [(d["index"], d["default"]) for d in input_devices()] == [(1, True)]


def test_a_sound_card_is_scored_as_it_records_and_raises_an_alert(monkeypatch, detector, tmp_path):
    y = np.concatenate([hum(6, 1), faulty(6, 2), hum(4.5, 3)])
    # The fake card calls `then` once it has delivered everything: stop, as a caller would.
    sd = fake_sounddevice(stereo_at(SR, y), then=lambda: card.stop(), takes=(SR, 48000))
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    card = SoundCardSource(SR, "usb", channels=2)
    assert (card.index, card.rate) == (1, SR)  # the model's rate, where the card takes it
    w, writer, lines = watcher(detector, tmp_path)
    w.watch_stream(card, name=card.name)
    writer.close()
    table = rows(tmp_path / "rows.csv")
    assert [r["start"] for r in table] == [f"{2.0 * i:.1f}" for i in range(8)] + ["14.5"]
    assert {r["source"] for r in table} == {"USB Audio: mic (hw:1,0)"}
    assert [line.split(", score")[0] for line in lines] == [
        "ALERT raised: USB Audio: mic (hw:1,0) 0:00:08-0:00:10",
        "ALERT cleared: USB Audio: mic (hw:1,0) 0:00:14.5-0:00:16.5",
    ]
    assert sd.opened[0].closed
    assert w.state.stream_seconds == pytest.approx(16.5, abs=1e-3)


@pytest.mark.parametrize("rate", [SR, 48000])
def test_the_scores_are_those_of_the_same_audio_on_a_pipe(rate, monkeypatch, detector, tmp_path):
    import io

    from audioad.sources import PipeSource

    y = stereo_at(rate, np.concatenate([hum(4, 4), faulty(3, 5)]))
    sd = fake_sounddevice(y, rate=rate, takes=(rate,), then=lambda: card.stop())
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    card = SoundCardSource(SR, channels=2)
    assert card.rate == rate  # where the card does not take the model's rate: its own, resampled
    (tmp_path / "card").mkdir()
    w, writer, _ = watcher(detector, tmp_path / "card")
    w.watch_stream(card)
    writer.close()
    (tmp_path / "pipe").mkdir()
    w, writer, _ = watcher(detector, tmp_path / "pipe")
    w.watch_stream(PipeSource(io.BytesIO(y.tobytes()), SR, "f32le", rate, channels=2))
    writer.close()
    card_rows, pipe_rows = rows(tmp_path / "card" / "rows.csv"), rows(tmp_path / "pipe" / "rows.csv")
    assert [(r["start"], r["end"]) for r in card_rows] == [(r["start"], r["end"]) for r in pipe_rows]
    scores = [[float(r["score"]) for r in table] for table in (card_rows, pipe_rows)]
    # The same samples at the model's rate; resampled, the last few samples flush apart (about 1e-6).
    np.testing.assert_allclose(*scores, rtol=0 if rate == SR else 1e-4)


def test_scoring_that_falls_behind_is_logged(monkeypatch, detector, tmp_path, caplog):
    y = hum(3, 6)
    delivered = threading.Event()
    sd = fake_sounddevice(stereo_at(SR, y), rate=SR, takes=(SR,), then=delivered.set)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    card = SoundCardSource(SR, channels=2, queue_seconds=0.25)  # room for one block
    blocks = iter(card)
    with caplog.at_level(logging.WARNING, logger="audioad.watch"):
        first = next(blocks)
        delivered.wait(60)  # while this block is "scored", the card goes on: its blocks find the queue full
        card.stop()
        rest = list(blocks)
    assert len(first) + sum(map(len, rest)) < len(y)
    assert "samples dropped (scoring fell behind by over 0.25 s)" in caplog.text
    assert "1 input overflow(s) (PortAudio lost samples)" in caplog.text


def wait_for(condition, seconds):
    """Whether ``condition()`` came true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def wait(condition, seconds=60):
    assert wait_for(condition, seconds), "timed out"


def test_the_watch_command_records_a_card_until_ctrl_c(monkeypatch, detector, tmp_path):
    from audioad.cli import main

    model = tmp_path / "hum.audioad"
    save(detector, model)
    y = np.concatenate([hum(6, 7), faulty(6, 8)])
    # Ctrl-C once the card has delivered all of it and its rows are written: the watch waits for the next block.
    out = tmp_path / "watch.csv"

    def ctrl_c():
        wait(lambda: out.exists() and len(rows(out)) == 6)
        # Ctrl-C, again every 10 s until the watch closes the card (the stream's __exit__ clears `active`
        # first): a simulated signal has once gone unanswered in a long session; the test must not hang.
        for _ in range(6):
            _thread.interrupt_main()
            if wait_for(lambda: not sd.opened[0].active, 10):
                return
        sd.opened[0].active = False  # the card goes quiet: the watch ends with an error, and the test fails

    sd = fake_sounddevice(stereo_at(SR, y), then=ctrl_c, takes=(SR,))
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    listed = CliRunner().invoke(main, ["watch", "--list-devices"])
    assert listed.exit_code == 0 and listed.output.splitlines() == ["*   1  USB Audio: mic (hw:1,0)  (2 in, 48000 Hz)"]
    sigterm, sigint = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C raises KeyboardInterrupt, whatever ran before
    try:
        args = ["watch", str(model), "--device", "mic", "--channels", "2", "--out", str(out), "--rule", "2/3"]
        run = CliRunner().invoke(main, args)
    finally:
        signal.signal(signal.SIGTERM, sigterm)
        signal.signal(signal.SIGINT, sigint)
    assert run.exit_code == 0, run.output
    assert "watching sound card 1 (USB Audio: mic (hw:1,0)) at 16000 Hz" in run.output
    assert "ALERT raised: USB Audio: mic (hw:1,0) 0:00:08-0:00:10" in run.output
    assert "stopped: 6 rows written" in run.output
    assert len(rows(out)) == 6 and sd.opened[0].closed
    wrong = CliRunner().invoke(main, ["watch", str(model), str(tmp_path), "--device", "mic", "--out", str(out)])
    assert wrong.exit_code == 2 and "one of SOURCE" in wrong.output
    missing = CliRunner().invoke(main, ["watch", str(model), "--device", "webcam", "--out", str(tmp_path / "w.csv")])
    assert missing.exit_code == 2 and "no such input" in missing.output
    assert "audioad watch --list-devices lists them" in missing.output
