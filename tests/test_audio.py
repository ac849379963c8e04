"""Tests of audioad.audio: every accepted clip form, every refused one, and load_many."""

import pickle
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from audioad import audio
from audioad.audio import MAX_SAMPLE_RATE, AudioInputError, clip_name, load_audio, load_many

SR = 16000


def tone(n=1600, sr=SR, freq=440.0, amp=0.5, phase=0.0):
    t = np.arange(n) / sr
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def stereo(n=1600, sr=SR):
    """(samples, 2): two different channels, so that averaging them is visible."""
    return np.stack([tone(n, sr, 440.0), tone(n, sr, 1000.0, amp=0.25)], axis=1)


def raises_clip_error(match_cause, path=None, index=None):
    """Context manager: an AudioInputError whose message names the clip and the cause."""
    return _ClipErrorCheck(match_cause, path, index)


class _ClipErrorCheck:
    def __init__(self, cause, path, index):
        self.cause, self.path, self.index = cause, path, index
        self._raises = pytest.raises(AudioInputError)

    def __enter__(self):
        self.info = self._raises.__enter__()
        return self.info

    def __exit__(self, *exc):
        if not self._raises.__exit__(*exc):
            return False  # another exception: let it through
        err = self.info.value
        message = str(err)
        assert re.search(self.cause, message, re.IGNORECASE), message
        assert re.search(self.cause, err.cause, re.IGNORECASE), err.cause
        if self.path is not None:
            assert err.path == str(self.path)
            assert str(self.path) in message
        if self.index is not None:
            assert err.index == self.index
            assert f"clip {self.index}" in message
        return True


# ---------------------------------------------------------------------------
# Files


@pytest.mark.parametrize(
    "ext, fmt, subtype, lossy",
    [
        ("wav", "WAV", "PCM_16", False),
        ("wav", "WAV", "FLOAT", False),
        ("flac", "FLAC", "PCM_24", False),
        ("ogg", "OGG", "VORBIS", True),
    ],
)
@pytest.mark.parametrize("as_path", [False, True])
def test_load_file_str_and_path(tmp_path, ext, fmt, subtype, lossy, as_path):
    data = stereo()
    path = tmp_path / f"clip.{ext}"
    sf.write(path, data, SR, format=fmt, subtype=subtype)
    item = path if as_path else str(path)

    y, sr = load_audio(item)
    assert sr == SR and isinstance(sr, int)
    assert y.dtype == np.float32 and y.ndim == 1 and y.shape == (len(data),)
    both, _ = load_audio(item, mono=False)
    assert both.shape == (2, len(data)) and both.dtype == np.float32
    np.testing.assert_allclose(y, both.mean(axis=0), atol=1e-6)
    if lossy:
        assert np.corrcoef(both[0], data[:, 0])[0, 1] > 0.99
        assert np.corrcoef(both[1], data[:, 1])[0, 1] > 0.99
    else:
        np.testing.assert_allclose(both, data.T, atol=1e-4)
        np.testing.assert_allclose(y, data.mean(axis=1), atol=1e-4)


def _mp3_writable(tmp_path):
    if "MP3" not in sf.available_formats():
        return False
    try:
        sf.write(tmp_path / "probe.mp3", tone(1152 * 4), SR, format="MP3")
        sf.read(tmp_path / "probe.mp3")
    except Exception:
        return False
    return True


def test_load_mp3(tmp_path):
    if not _mp3_writable(tmp_path):
        pytest.skip("this libsndfile cannot write and read MP3")
    data = tone(SR, freq=440.0)
    path = tmp_path / "clip.mp3"
    sf.write(path, data, SR, format="MP3")
    y, sr = load_audio(path)
    assert sr == SR and y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - len(data)) <= 2 * 1152  # encoder padding
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * sr / len(y) - 440.0) < 5.0


def test_file_resampled_to_target_rate(tmp_path):
    data = tone(22050, sr=22050, freq=440.0)
    path = tmp_path / "c.wav"
    sf.write(path, data, 22050, subtype="FLOAT")
    y, sr = load_audio(path, sr=SR)
    assert sr == SR and y.dtype == np.float32
    assert abs(len(y) - SR) <= 1
    np.testing.assert_allclose(y, soxr.resample(data, 22050, SR, quality="HQ"), atol=1e-6)
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * SR / len(y) - 440.0) < 2.0


def test_file_same_rate_is_not_resampled(tmp_path, monkeypatch):
    data = tone()
    path = tmp_path / "c.wav"
    sf.write(path, data, SR, subtype="FLOAT")

    def boom(*args, **kwargs):
        raise AssertionError("soxr.resample called although the rates are equal")

    monkeypatch.setattr(audio.soxr, "resample", boom)
    y, sr = load_audio(path, sr=SR)
    assert sr == SR
    np.testing.assert_array_equal(y, data)


def test_file_channel_selection(tmp_path):
    data = stereo()
    path = tmp_path / "c.flac"
    sf.write(path, data, SR, subtype="PCM_24")
    for channel, column in [(0, 0), (1, 1), (-2, 0)]:
        y, _ = load_audio(path, channel=channel)
        assert y.shape == (len(data),)
        np.testing.assert_allclose(y, data[:, column], atol=1e-5)
    y, _ = load_audio(path, channel=1, sr=8000)
    np.testing.assert_allclose(y, soxr.resample(data[:, 1].copy(), SR, 8000, quality="HQ"), atol=1e-4)


def test_mono_file_with_mono_false_is_channels_by_samples(tmp_path):
    path = tmp_path / "c.wav"
    sf.write(path, tone(), SR)
    y, _ = load_audio(path, mono=False)
    assert y.shape == (1, 1600)


def test_one_sample_file(tmp_path):
    path = tmp_path / "one.wav"
    sf.write(path, np.array([0.25], dtype=np.float32), SR, subtype="FLOAT")
    y, sr = load_audio(path)
    assert sr == SR and y.shape == (1,) and y[0] == np.float32(0.25)


# ---------------------------------------------------------------------------
# Arrays


def test_1d_array_at_target_rate_is_unchanged():
    x = tone()
    y, sr = load_audio(x, sr=SR)
    assert sr == SR and y.dtype == np.float32
    np.testing.assert_array_equal(y, x)


def test_list_is_accepted():
    y, sr = load_audio([0.0, 0.5, -0.5], sr=SR)
    np.testing.assert_array_equal(y, np.array([0.0, 0.5, -0.5], dtype=np.float32))


def test_float64_becomes_float32():
    x = np.random.default_rng(0).uniform(-1, 1, 1000)
    y, _ = load_audio(x, sr=SR)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, x.astype(np.float32))


@pytest.mark.parametrize(
    "samples, expected",
    [
        (np.array([0, 16384, -16384, -32768, 32767], dtype=np.int16), [0.0, 0.5, -0.5, -1.0, 32767 / 32768]),
        (np.array([0, 2**30, -(2**31), 2**31 - 1], dtype=np.int32), [0.0, 0.5, -1.0, (2**31 - 1) / 2**31]),
        (np.array([0, 64, 128, 192, 255], dtype=np.uint8), [-1.0, -0.5, 0.0, 0.5, 127 / 128]),
        (np.array([-128, 64, 127], dtype=np.int8), [-1.0, 0.5, 127 / 128]),
    ],
)
def test_integer_pcm_is_scaled(samples, expected):
    y, _ = load_audio(samples, sr=SR)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-7)
    assert np.all(np.abs(y) <= 1.0)


def test_int16_array_matches_int16_wav(tmp_path):
    pcm = (tone() * 32767).astype(np.int16)
    path = tmp_path / "c.wav"
    sf.write(path, pcm, SR, subtype="PCM_16")
    from_file, _ = load_audio(path)
    from_array, _ = load_audio(pcm, sr=SR)
    np.testing.assert_array_equal(from_array, from_file)


@pytest.mark.parametrize("n_channels", [2, 3, 8])
def test_channels_on_the_smaller_axis(n_channels):
    rng = np.random.default_rng(n_channels)
    samples_by_channels = rng.uniform(-1, 1, (1000, n_channels)).astype(np.float32)
    expected = samples_by_channels.mean(axis=1)
    for wave in (samples_by_channels, samples_by_channels.T, np.ascontiguousarray(samples_by_channels.T)):
        y, _ = load_audio(wave, sr=SR)
        assert y.shape == (1000,)
        np.testing.assert_allclose(y, expected, atol=1e-6)
        both, _ = load_audio(wave, sr=SR, mono=False)
        assert both.shape == (n_channels, 1000)
        np.testing.assert_array_equal(both, samples_by_channels.T)
        assert both.flags.c_contiguous


def test_channel_selection_on_array():
    wave = stereo().T  # (2, samples)
    for channel in (0, 1, -2):
        y, _ = load_audio(wave, sr=SR, channel=channel)
        np.testing.assert_array_equal(y, wave[channel])
    y, _ = load_audio(wave, sr=SR, channel=1, mono=False)
    np.testing.assert_array_equal(y, wave[1])


@pytest.mark.parametrize("channel", [2, -3, 100])
def test_channel_out_of_range(channel):
    with raises_clip_error("channel"):
        load_audio(stereo().T, sr=SR, channel=channel)


def test_one_sample_and_shorter_than_a_frame():
    y, sr = load_audio(np.array([0.5]), sr=SR)
    assert y.shape == (1,) and y.dtype == np.float32 and sr == SR
    y, _ = load_audio(tone(100), sr=SR)
    assert y.shape == (100,)
    y, _ = load_audio((np.array([0.5]), SR), sr=SR)
    assert y.shape == (1,)


# ---------------------------------------------------------------------------
# (waveform, sample_rate) tuples and resampling


def test_tuple_same_rate_is_exactly_the_input(monkeypatch):
    x = tone()

    def boom(*args, **kwargs):
        raise AssertionError("soxr.resample called although the rates are equal")

    monkeypatch.setattr(audio.soxr, "resample", boom)
    y, sr = load_audio((x, SR), sr=SR)
    assert sr == SR
    np.testing.assert_array_equal(y, x)
    y, sr = load_audio((x, SR))  # sr=None keeps the clip's rate
    assert sr == SR
    np.testing.assert_array_equal(y, x)
    y, sr = load_audio((x, np.int64(SR)), sr=float(SR))
    assert sr == SR and type(sr) is int
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("rate, target", [(8000, 16000), (44100, 16000), (22050, 16000), (16000, 48000)])
def test_tuple_is_resampled_with_soxr(rate, target):
    x = tone(rate // 2, sr=rate, freq=440.0)
    y, sr = load_audio((x, rate), sr=target)
    assert sr == target and y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - len(x) * target / rate) <= 1
    np.testing.assert_allclose(y, soxr.resample(x, rate, target, quality="HQ"), atol=1e-6)
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * target / len(y) - 440.0) < 3.0


def test_resampling_multichannel_keeps_channels():
    wave = stereo(n=800, sr=8000).T
    both, sr = load_audio((wave, 8000), sr=SR, mono=False)
    assert sr == SR and both.shape == (2, 1600) and both.dtype == np.float32
    for c in range(2):
        np.testing.assert_allclose(both[c], soxr.resample(wave[c], 8000, SR, quality="HQ"), atol=1e-5)
    y, _ = load_audio((wave, 8000), sr=SR)
    np.testing.assert_allclose(y, both.mean(axis=0), atol=1e-5)


def test_bare_array_without_rate_is_refused():
    with raises_clip_error("sample rate"):
        load_audio(tone())


# ---------------------------------------------------------------------------
# Refusals


def _write_missing(tmp_path):
    return tmp_path / "missing.wav"


def _write_dir(tmp_path):
    d = tmp_path / "folder.wav"
    d.mkdir()
    return d


def _write_empty(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    return p


def _write_truncated_header(tmp_path):
    full = tmp_path / "full.wav"
    sf.write(full, tone(), SR, subtype="PCM_16")
    p = tmp_path / "truncated.wav"
    p.write_bytes(full.read_bytes()[:20])
    return p


def _write_random(tmp_path):
    p = tmp_path / "noise.wav"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    return p


def _write_no_frames(tmp_path):
    p = tmp_path / "noframes.wav"
    sf.write(p, np.zeros((0, 1), dtype=np.float32), SR)
    assert p.stat().st_size > 0
    return p


def _write_raw(tmp_path):
    p = tmp_path / "headerless.RAW"
    p.write_bytes(tone().tobytes())
    return p


@pytest.mark.parametrize(
    "make, cause",
    [
        (_write_missing, "not found"),
        (_write_dir, "directory"),
        (_write_empty, "empty|0 bytes"),
        (_write_truncated_header, "decode"),
        (_write_random, "decode"),
        (_write_no_frames, "no samples"),
        (_write_raw, "RAW.*no sample rate"),
    ],
)
@pytest.mark.parametrize("as_path", [False, True])
def test_bad_files(tmp_path, make, cause, as_path):
    path = make(tmp_path)
    item = path if as_path else str(path)
    with raises_clip_error(cause, path=str(path)):
        load_audio(item, sr=SR)
    with raises_clip_error(cause, path=str(path), index=2):
        load_many([tone(), tone(), item, tone()], sr=SR, n_jobs=1)


@pytest.mark.parametrize(
    "item, cause",
    [
        (np.array([], dtype=np.float32), "no samples"),
        (np.zeros((2, 0), dtype=np.float32), "no samples"),
        (np.zeros((0, 3), dtype=np.float32), "no samples"),
        (np.array([0.0, np.nan, 0.1]), "NaN"),
        (np.array([0.0, np.inf, 0.1]), "infinite"),
        (np.array([[0.0, 0.1, -np.inf], [0.0, 0.0, 0.0]]), "infinite"),
        (np.zeros((2, 3, 100)), "3-D"),
        (np.float64(0.5), "0-D|1-D"),
        (np.array([1 + 1j, 0j]), "real"),
        (np.array([0.1, "a", None], dtype=object), "real"),
        (np.array([0.1, 0.2], dtype=object), "real"),
        (np.array(["a", "b"]), "real"),
        ([[0.1, 0.2], [0.3]], "array"),
        ({"y": [0.0]}, "unsupported"),
        (None, "unsupported"),
        (3, "unsupported"),
        (b"clip.wav", "unsupported"),
        ((tone(),), "tuple"),
        ((tone(), SR, "extra"), "tuple"),
        ((tone(), 0), "sample rate"),
        ((tone(), -1), "sample rate"),
        ((tone(), 10**9), "sample rate"),
        ((tone(), 1.5), "sample rate"),
        ((tone(), "abc"), "sample rate"),
        ((tone(), None), "sample rate"),
        ((tone(), float("nan")), "sample rate"),
        ((tone(), float("inf")), "sample rate"),
        ((tone(), True), "sample rate"),
    ],
    ids=lambda v: None if isinstance(v, str) else type(v).__name__,
)
def test_bad_arrays_and_types(item, cause):
    with raises_clip_error(cause):
        load_audio(item, sr=SR)
    with raises_clip_error(cause, index=1):
        load_many([tone(), item], sr=SR, n_jobs=1)


@pytest.mark.parametrize("sr", [0, -1, 10**9, MAX_SAMPLE_RATE + 1, 1.5, "abc", float("nan"), [16000]])
def test_bad_target_rate(sr, tmp_path):
    with raises_clip_error("sample rate"):
        load_audio(tone(), sr=sr)
    path = tmp_path / "c.wav"
    sf.write(path, tone(), SR)
    with raises_clip_error("sample rate", path=str(path)):
        load_audio(path, sr=sr)


def test_rate_limits_accepted():
    y, sr = load_audio((tone(8), MAX_SAMPLE_RATE), sr=MAX_SAMPLE_RATE)
    assert sr == MAX_SAMPLE_RATE and y.shape == (8,)
    y, sr = load_audio((tone(8), 16000.0), sr=np.float32(16000))
    assert sr == 16000 and type(sr) is int


def test_above_max_rate_message_says_what_to_do():
    with pytest.raises(AudioInputError, match="sample_rate"):
        load_audio((tone(), 10**9), sr=SR)


# ---------------------------------------------------------------------------
# The error itself


def test_error_message_and_fields():
    err = AudioInputError("file not found", index=3, path=Path("pump") / "a.wav")
    assert err.index == 3 and err.path == str(Path("pump") / "a.wav") and err.cause == "file not found"
    assert str(err) == f"clip 3 ({Path('pump') / 'a.wav'}): file not found"
    assert isinstance(err, ValueError)
    assert clip_name() == "clip" and clip_name(0) == "clip 0" and clip_name(path="x.wav") == "x.wav"


@pytest.mark.parametrize("index, path", [(3, "a.wav"), (None, "a.wav"), (7, None), (None, None)])
def test_error_survives_pickling(index, path):
    err = AudioInputError("cannot decode it", index=index, path=path)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is AudioInputError
    assert (back.cause, back.index, back.path, str(back)) == (err.cause, index, path, str(err))


def test_error_from_load_many_survives_pickling(tmp_path):
    missing = tmp_path / "gone.wav"
    with pytest.raises(AudioInputError) as info:
        load_many([tone(), missing], sr=SR, n_jobs=2)
    back = pickle.loads(pickle.dumps(info.value))
    assert (back.index, back.path, back.cause) == (1, str(missing), info.value.cause)


# ---------------------------------------------------------------------------
# load_many


def _mixed_items(tmp_path):
    items = []
    for i in range(7):
        n = 400 + 137 * i
        if i % 3 == 0:
            path = tmp_path / f"c{i}.wav"
            sf.write(path, tone(n, sr=8000, freq=300.0 + 50 * i), 8000, subtype="FLOAT")
            items.append(path if i % 2 else str(path))
        elif i % 3 == 1:
            items.append((tone(n, sr=8000, freq=300.0 + 50 * i), 8000))
        else:
            items.append(tone(2 * n, sr=SR, freq=300.0 + 50 * i))
    return items


def test_load_many_keeps_order_and_matches_load_audio(tmp_path):
    items = _mixed_items(tmp_path)
    serial = load_many(items, sr=SR, n_jobs=1)
    threaded = load_many(items, sr=SR, n_jobs=2)
    every_core = load_many(items, sr=SR)
    assert len(serial) == len(items)
    for i, item in enumerate(items):
        expected, _ = load_audio(item, sr=SR)
        assert len(expected) == 2 * (400 + 137 * i)
        for got in (serial[i], threaded[i], every_core[i]):
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, expected)


def test_load_many_empty_and_generator():
    assert load_many([], sr=SR) == []
    out = load_many((tone(10 * (i + 1)) for i in range(3)), sr=SR, n_jobs=2)
    assert [len(y) for y in out] == [10, 20, 30]


def test_load_many_mono_false_and_channel():
    wave = stereo().T
    out = load_many([wave, (wave, 8000)], sr=8000, mono=False, n_jobs=2)
    assert out[0].shape == (2, 1600) and out[1].shape == (2, 1600)
    out = load_many([wave, wave], sr=SR, channel=1, n_jobs=2)
    np.testing.assert_array_equal(out[0], wave[1])


@pytest.mark.parametrize("n_jobs", [1, 2, None, -1])
def test_load_many_names_the_failing_clip(tmp_path, n_jobs):
    items = _mixed_items(tmp_path)
    missing = tmp_path / "gone.wav"
    items[4] = missing
    with raises_clip_error("not found", path=str(missing), index=4):
        load_many(items, sr=SR, n_jobs=n_jobs)


def test_an_error_that_is_not_the_file_s_is_not_blamed_on_the_clip(tmp_path, monkeypatch):
    # Only soundfile's errors and the OS's are the file's fault; a TypeError from the call is a bug.
    path = tmp_path / "fine.wav"
    sf.write(path, tone(), SR)

    def broken_read(*args, **kwargs):
        raise TypeError("read() got an unexpected keyword argument 'always_2d'")

    monkeypatch.setattr(sf, "read", broken_read)
    with pytest.raises(TypeError, match="unexpected keyword") as info:
        load_many([tone(), path], sr=SR, n_jobs=1)
    assert not isinstance(info.value, AudioInputError)


def test_a_decoding_error_keeps_its_cause(tmp_path):
    path = _write_random(tmp_path)
    with raises_clip_error("decode") as info:
        load_audio(path, sr=SR)
    assert isinstance(info.value.__cause__, sf.LibsndfileError)


class _RecordingPool(ThreadPoolExecutor):
    made = []

    def __init__(self, max_workers=None, **kwargs):
        super().__init__(max_workers=max_workers, **kwargs)
        self.max_workers = max_workers
        _RecordingPool.made.append(self)


@pytest.mark.parametrize("n_jobs, threads", [(None, 3), (-1, 3), (2, 2), (0, None), (1, None)])
def test_load_many_threads_are_bounded_by_joblib_cpu_count(monkeypatch, n_jobs, threads):
    # joblib.cpu_count honours CPU affinity and cgroup quotas; os.cpu_count() sees every core of the machine.
    monkeypatch.setattr(audio.joblib, "cpu_count", lambda: 3)
    monkeypatch.setattr(audio.os, "cpu_count", lambda: 64)
    monkeypatch.setattr(audio, "ThreadPoolExecutor", _RecordingPool)
    _RecordingPool.made = []
    out = load_many([tone(100 + i) for i in range(8)], sr=SR, n_jobs=n_jobs)
    assert [len(y) for y in out] == [100 + i for i in range(8)]
    if threads is None:
        assert _RecordingPool.made == []
    else:
        # One pool for the call, shut down before it returns.
        [pool] = _RecordingPool.made
        assert pool.max_workers == threads and pool._shutdown


def test_load_many_pool_is_shut_down_when_a_clip_fails(monkeypatch):
    monkeypatch.setattr(audio, "ThreadPoolExecutor", _RecordingPool)
    _RecordingPool.made = []
    with raises_clip_error("NaN", index=1):
        load_many([tone(), np.array([np.nan]), tone()], sr=SR, n_jobs=2)
    [pool] = _RecordingPool.made
    assert pool._shutdown


def test_is_long_file(tmp_path, monkeypatch):
    long = tmp_path / "long.wav"
    with open(long, "wb") as f:
        f.truncate(audio.LONG_FILE_BYTES + 1)  # sparse: no disk space taken
    short = tmp_path / "short.wav"
    sf.write(short, tone(), SR)
    assert audio.is_long_file(long) and audio.is_long_file(str(long))
    assert not audio.is_long_file(short)
    assert not audio.is_long_file(tmp_path)
    assert not audio.is_long_file(tmp_path / "missing.wav")
    assert not audio.is_long_file("bad\0name.wav")
    assert not audio.is_long_file(np.zeros(10))

    # Removed between the check and the size: loading it will report it.
    def gone(path):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(audio.os.path, "getsize", gone)
    assert not audio.is_long_file(long)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_load_many_reports_the_first_failure_in_input_order(n_jobs):
    items = [tone(), tone(), np.array([np.nan]), tone(), np.zeros((2, 2, 2))]
    with raises_clip_error("NaN", index=2) as info:
        load_many(items, sr=SR, n_jobs=n_jobs)
    assert info.value.path is None


# ---------------------------------------------------------------------------
# Property: anything either loads as a finite 1-D float32 waveform or raises AudioInputError

_DTYPES = [
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.complex64,
    np.complex128,
    np.bool_,
]


@st.composite
def any_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    if dtype.kind == "f" and dtype.itemsize >= 4:
        # Magnitudes near float32's limit: see the regression tests below.
        elements = st.one_of(
            hnp.from_dtype(dtype, min_value=-(2.0**100), max_value=2.0**100),
            st.sampled_from([np.nan, np.inf, -np.inf]),
        )
    else:
        elements = hnp.from_dtype(dtype)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    return draw(hnp.arrays(dtype, shape, elements=elements))


any_rate = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=1, max_value=200_000),
    st.sampled_from([8000, 16000, 22050, 44100, 48000, MAX_SAMPLE_RATE]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1.0, max_value=100_000.0).map(round).map(float),
)


def _check_loaded_or_refused(item):
    try:
        y, sr = load_audio(item, sr=SR)
    except AudioInputError as err:
        assert str(err) and err.cause
        return
    assert sr == SR
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.ndim == 1
    assert np.isfinite(y).all()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wave=any_arrays(), rate=any_rate)
def test_property_tuple_loads_or_refuses(wave, rate):
    _check_loaded_or_refused((wave, rate))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wave=any_arrays())
def test_property_bare_array_loads_or_refuses(wave):
    _check_loaded_or_refused(wave)


# ---------------------------------------------------------------------------
# Regression tests of bugs found and fixed


@pytest.mark.parametrize("rate", [2**64, -(2**70), 10**400], ids=["2**64", "-2**70", "10**400"])
def test_huge_integer_rate_is_refused(rate):
    with pytest.raises(AudioInputError, match="sample rate"):
        load_audio((tone(), rate), sr=SR)


def test_huge_integer_target_rate_is_refused():
    with pytest.raises(AudioInputError, match="sample rate"):
        load_audio(tone(), sr=2**64)


def test_channel_mean_near_float32_limit_stays_finite():
    wave = np.full((2, 100), 3e38, dtype=np.float32)
    _check_loaded_or_refused(wave)


def test_resampling_near_float32_limit_is_finite_or_refused():
    wave = np.full(100, 3e38, dtype=np.float32)
    wave[::2] *= -1
    _check_loaded_or_refused((wave, 8000))


def test_resampling_a_short_clip_to_nothing_is_refused():
    try:
        y, _ = load_audio((np.ones(5, dtype=np.float32), MAX_SAMPLE_RATE), sr=SR)
    except AudioInputError:
        return
    assert y.size >= 1


@pytest.mark.parametrize("dtype", [">i2", ">i4", ">u2"])
def test_big_endian_pcm_is_scaled(dtype):
    native = np.array([0, 100, 200, 300], dtype=np.dtype(dtype).newbyteorder("="))
    expected, _ = load_audio(native, sr=SR)
    y, _ = load_audio(native.astype(dtype), sr=SR)
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("n_channels", [2, 3])
def test_channel_minus_one_is_the_last(tmp_path, n_channels):
    wave = np.random.default_rng(0).uniform(-1, 1, (n_channels, 500)).astype(np.float32)
    y, _ = load_audio(wave, sr=SR, channel=-1)
    np.testing.assert_array_equal(y, wave[-1])


def test_overlong_file_name_is_an_audio_input_error(tmp_path):
    path = tmp_path / ("x" * 300 + ".wav")
    with raises_clip_error("not found|name", path=str(path), index=1):
        load_many([tone(), path], sr=SR, n_jobs=1)
