"""Tests of audioad.features against librosa and the DCASE baseline's own loops."""

import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from audioad.features import (
    POOLINGS,
    WindowBank,
    context_windows,
    frame,
    hz_to_mel,
    log_mel,
    log_mel_many,
    log_mel_stream,
    mel_filterbank,
    mel_spectrogram,
    mel_to_hz,
    power_spectrogram,
    power_to_db,
    time_pool,
)

librosa = pytest.importorskip("librosa")

DB_TOL = 1e-3


def tones_and_noise(sr, seconds=0.5, seed=0, level=1.0):
    """Three tones over white noise: energy in every mel band, with a real dynamic range."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    y = (
        0.5 * np.sin(2 * np.pi * 440.0 * t)
        + 0.3 * np.sin(2 * np.pi * 3000.0 * t + 1.0)
        + 0.1 * np.sin(2 * np.pi * 0.3 * sr * t)
        + 0.01 * rng.standard_normal(t.size)
    )
    return level * y


def librosa_mel(y, sr, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Empty filters detected" at small n_fft / many mels
        return librosa.feature.melspectrogram(y=y, sr=sr, **kw)


def librosa_log_mel(y, sr, **kw):
    return librosa.power_to_db(librosa_mel(y, sr, **kw))


# ---------------------------------------------------------------------------
# Mel scale and filterbank


FREQS = np.array([0.0, 1.0, 50.0, 440.0, 999.0, 1000.0, 1000.5, 4000.0, 8000.0, 11025.0, 22050.0, 96000.0])


@pytest.mark.parametrize("htk", [False, True])
def test_hz_to_mel_and_back_match_librosa(htk):
    mels = hz_to_mel(FREQS, htk=htk)
    np.testing.assert_allclose(mels, librosa.hz_to_mel(FREQS, htk=htk), rtol=1e-12, atol=1e-12)
    grid = np.linspace(0.0, float(mels.max()), 97)
    np.testing.assert_allclose(mel_to_hz(grid, htk=htk), librosa.mel_to_hz(grid, htk=htk), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(mel_to_hz(mels, htk=htk), FREQS, rtol=1e-12, atol=1e-9)
    for f in (0.0, 440.0, 1000.0, 6000.0):
        assert float(hz_to_mel(f, htk=htk)) == pytest.approx(float(librosa.hz_to_mel(f, htk=htk)), rel=1e-12)
    assert float(hz_to_mel(1000.0)) == pytest.approx(15.0, rel=1e-12)


@pytest.mark.parametrize(
    "sr, n_fft, n_mels, fmin, fmax",
    [
        (16000, 1024, 64, 0.0, None),
        (16000, 512, 40, 50.0, 7000.0),
        (22050, 2048, 128, 0.0, None),
        (22050, 1024, 64, 20.0, 8000.0),
        (44100, 2048, 128, 30.0, 16000.0),
        (44100, 512, 40, 0.0, 22050.0),
        (8000, 256, 32, 100.0, 3900.0),
    ],
)
@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None])
def test_mel_filterbank_matches_librosa(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    ours = mel_filterbank(sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    assert ours.shape == ref.shape == (n_mels, 1 + n_fft // 2)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


def test_mel_filterbank_is_cached_and_read_only():
    a = mel_filterbank(16000, n_fft=1024, n_mels=64)
    b = mel_filterbank(16000, 1024, 64, 0.0, 8000.0, False, "slaney")
    assert a is b
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0, 0] = 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(norm="l2"),
        dict(fmin=8000.0),
        dict(fmin=5000.0, fmax=4000.0),
        dict(fmax=9000.0),
        dict(fmin=-1.0),
    ],
)
def test_mel_filterbank_refuses_bad_settings(kwargs):
    with pytest.raises(ValueError):
        mel_filterbank(16000, n_fft=1024, n_mels=64, **kwargs)


# ---------------------------------------------------------------------------
# Framing and the STFT


@pytest.mark.parametrize(
    "n, frame_length, hop_length", [(1000, 256, 64), (1024, 1024, 512), (4000, 400, 160), (777, 100, 33)]
)
def test_frame_matches_librosa_uncentred(n, frame_length, hop_length):
    y = np.random.default_rng(n).standard_normal(n)
    ours = frame(y, frame_length, hop_length, center=False)
    ref = librosa.util.frame(y, frame_length=frame_length, hop_length=hop_length)
    assert ours.shape == ref.T.shape
    np.testing.assert_array_equal(ours, ref.T)
    assert np.shares_memory(ours, y)
    assert not ours.flags.writeable


def test_frame_batched_and_centred():
    y = np.random.default_rng(1).standard_normal((3, 1000))
    ours = frame(y, 256, 128, center=False)
    for i in range(3):
        np.testing.assert_array_equal(ours[i], frame(y[i], 256, 128, center=False))
    centred = frame(y[0], 256, 128)
    padded = np.pad(y[0], 128)
    np.testing.assert_array_equal(centred, librosa.util.frame(padded, frame_length=256, hop_length=128).T)


@pytest.mark.parametrize("n_fft, hop_length", [(512, 128), (1024, 512), (2048, 256)])
@pytest.mark.parametrize("power", [1.0, 2.0])
def test_power_spectrogram_matches_librosa(n_fft, hop_length, power):
    y = tones_and_noise(16000)
    ours = power_spectrogram(y, n_fft=n_fft, hop_length=hop_length, power=power)
    ref = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** power
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-3, atol=1e-6 * ref.max())


def test_power_spectrogram_batched_equals_per_clip():
    y = np.stack([tones_and_noise(16000, seed=s, level=10.0**-s) for s in range(3)])
    batch = power_spectrogram(y, n_fft=512, hop_length=256)
    for i in range(3):
        np.testing.assert_allclose(batch[i], power_spectrogram(y[i], n_fft=512, hop_length=256), rtol=1e-6)


# ---------------------------------------------------------------------------
# log_mel against librosa

SETTINGS = [
    dict(sr=16000, n_fft=1024, hop_length=512, n_mels=64),
    dict(sr=16000, n_fft=512, hop_length=160, n_mels=40, htk=True),
    dict(sr=16000, n_fft=2048, hop_length=512, n_mels=128, power=1.0),
    dict(sr=16000, n_fft=1024, hop_length=256, n_mels=64, fmin=50.0, fmax=7000.0),
    dict(sr=22050, n_fft=2048, hop_length=512, n_mels=128, fmin=20.0, fmax=8000.0, htk=True),
    dict(sr=22050, n_fft=1024, hop_length=256, n_mels=64, power=1.0),
    dict(sr=22050, n_fft=512, hop_length=128, n_mels=40, fmin=100.0),
    dict(sr=44100, n_fft=2048, hop_length=1024, n_mels=128, fmin=30.0, fmax=16000.0, power=1.0),
    dict(sr=44100, n_fft=1024, hop_length=512, n_mels=64, htk=True, power=1.0),
    dict(sr=44100, n_fft=512, hop_length=256, n_mels=40, fmax=20000.0),
]


def _split(setting):
    kw = dict(setting)
    return kw.pop("sr"), kw


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_log_mel_matches_librosa(setting):
    sr, kw = _split(setting)
    y = tones_and_noise(sr)
    ours = log_mel(y, sr, **kw)
    ref = librosa_log_mel(y, sr, **kw)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    assert ref.max() - ref.min() > 30.0  # a real dynamic range, not just the floor
    np.testing.assert_allclose(ours, ref, rtol=0, atol=DB_TOL)
    mel = mel_spectrogram(y, sr, **kw)
    np.testing.assert_allclose(mel, librosa_mel(y, sr, **kw), rtol=2e-3, atol=1e-6 * mel.max())


@pytest.mark.parametrize("setting", SETTINGS[:6], ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_log_mel_dcase_matches_baseline_formula(setting):
    sr, kw = _split(setting)
    y = tones_and_noise(sr, seed=3)
    power = kw.get("power", 2.0)
    ours = log_mel(y, sr, log="dcase", **kw)
    ref = 20.0 / power * np.log10(librosa_mel(y, sr, **kw) + sys.float_info.epsilon)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=0, atol=DB_TOL)


def test_log_mel_dcase_has_no_floor_and_db_has_one():
    y = np.zeros(4000)
    y[2000] = 1.0
    db = log_mel(y, 16000)
    assert db.max() - db.min() <= 80.0 + 1e-4
    dcase = log_mel(y, 16000, log="dcase")
    assert np.isfinite(dcase).all()
    assert dcase.max() - dcase.min() > 80.0


def test_log_mel_ref_amin_top_db_follow_librosa():
    y = tones_and_noise(16000, seed=4)
    mel = librosa_mel(y, 16000, n_fft=1024, hop_length=512, n_mels=64)
    for ref, amin, top_db in [(1.0, 1e-10, None), (10.0, 1e-5, 60.0), (0.5, 1e-10, 120.0)]:
        ours = log_mel(y, 16000, ref=ref, amin=amin, top_db=top_db)
        expected = librosa.power_to_db(mel, ref=ref, amin=amin, top_db=top_db)
        np.testing.assert_allclose(ours, expected, rtol=0, atol=DB_TOL)


def test_power_to_db_matches_librosa_and_refuses_negative_top_db():
    S = np.abs(np.random.default_rng(0).standard_normal((5, 7))) ** 4
    S[0, 0] = 0.0
    np.testing.assert_allclose(power_to_db(S), librosa.power_to_db(S), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(power_to_db(np.array([1.0, 1e-3, 0.0])), [0.0, -30.0, -80.0])
    with pytest.raises(ValueError):
        power_to_db(S, top_db=-1.0)


def test_log_mel_refuses_unknown_log():
    with pytest.raises(ValueError, match="log"):
        log_mel(np.zeros(1000), 16000, log="ln")


def test_log_mel_is_time_major():
    spec = log_mel(tones_and_noise(16000), 16000, n_mels=64)
    assert spec.shape[0] == 64
    assert np.swapaxes(spec, -1, -2).flags.c_contiguous


@pytest.mark.parametrize("n", [1, 2, 100, 511, 512, 513, 1023])
def test_short_clips_give_one_or_two_frames_like_librosa(n):
    y = np.random.default_rng(n).uniform(-1, 1, n)
    ours = log_mel(y, 16000, n_fft=1024, hop_length=512, n_mels=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = librosa_log_mel(y, 16000, n_fft=1024, hop_length=512, n_mels=64)
    assert ours.shape == ref.shape == (64, 1 + n // 512)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, ref, rtol=0, atol=DB_TOL)


# ---------------------------------------------------------------------------
# Batches


def _clips_of_very_different_levels(sr, n):
    return np.stack(
        [
            tones_and_noise(sr, n / sr, seed=0),
            tones_and_noise(sr, n / sr, seed=1, level=1e-3),
            np.zeros(n),
            tones_and_noise(sr, n / sr, seed=2, level=30.0),
        ]
    )


@pytest.mark.parametrize("setting", [SETTINGS[0], SETTINGS[4], SETTINGS[8]], ids=["16k", "22k", "44k"])
def test_batched_log_mel_equals_per_clip_and_librosa_per_clip(setting):
    sr, kw = _split(setting)
    clips = _clips_of_very_different_levels(sr, sr // 4)
    batch = log_mel(clips, sr, **kw)
    assert batch.shape[0] == len(clips) and batch.dtype == np.float32
    assert np.swapaxes(batch, -1, -2).flags.c_contiguous
    for i, clip in enumerate(clips):
        single = log_mel(clip, sr, **kw)
        np.testing.assert_allclose(batch[i], single, rtol=0, atol=1e-4)
        # top_db is applied per clip: the quiet clip keeps its own 80 dB range.
        np.testing.assert_allclose(batch[i], librosa_log_mel(clip, sr, **kw), rtol=0, atol=DB_TOL)
    # Values a batch-wide floor (80 dB under the loudest clip) would have clipped.
    assert batch[1].min() < batch.max() - 80.0
    assert batch[1].max() - batch[1].min() > 30.0


def test_batched_dcase_log_equals_per_clip():
    clips = _clips_of_very_different_levels(16000, 8000)
    batch = log_mel(clips, 16000, log="dcase")
    for i, clip in enumerate(clips):
        np.testing.assert_allclose(batch[i], log_mel(clip, 16000, log="dcase"), rtol=0, atol=1e-4)


def test_log_mel_many_mixed_lengths_in_input_order():
    rng = np.random.default_rng(5)
    lengths = [3000, 8000, 3000, 100, 8000, 1, 3000]
    clips = [rng.uniform(-1, 1, n) * (i + 1) for i, n in enumerate(lengths)]
    specs = log_mel_many(clips, 16000, n_mels=40, hop_length=256)
    assert len(specs) == len(clips)
    for clip, spec in zip(clips, specs):
        assert spec.shape == (40, 1 + len(clip) // 256)
        np.testing.assert_array_equal(spec, log_mel(clip, 16000, n_mels=40, hop_length=256))
    assert log_mel_many([], 16000) == []


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.sampled_from([1, 300, 1024, 5000, 16000]), min_size=1, max_size=8),
    workers=st.sampled_from([1, 2, 3]),
    data=st.data(),
)
def test_a_clips_log_mel_does_not_depend_on_its_batch(lengths, workers, data):
    """Bit for bit: the same clip alone, in any batch, at any thread count (issue 13)."""
    rng = np.random.default_rng(len(lengths))
    clips = [rng.uniform(-1, 1, n).astype(np.float32) * (i + 1) for i, n in enumerate(lengths)]
    order = data.draw(st.permutations(range(len(clips))))
    specs = log_mel_many([clips[i] for i in order], 16000, workers=workers, n_mels=64)
    for i, spec in zip(order, specs):
        np.testing.assert_array_equal(spec, log_mel(clips[i], 16000, n_mels=64, workers=1))


def test_a_row_of_a_batch_equals_its_clip_alone():
    y = np.stack([tones_and_noise(16000, 2.0, seed=s, level=1.0 + s) for s in range(5)])
    batch = log_mel(y, 16000, n_mels=128)
    for clip, spec in zip(y, batch):
        np.testing.assert_array_equal(spec, log_mel(clip, 16000, n_mels=128))


def test_log_mel_many_passes_settings_through():
    clips = [tones_and_noise(16000, 0.2, seed=s) for s in range(3)]
    specs = log_mel_many(clips, 16000, log="dcase", power=1.0, n_fft=512, hop_length=128)
    for clip, spec in zip(clips, specs):
        np.testing.assert_array_equal(spec, log_mel(clip, 16000, log="dcase", power=1.0, n_fft=512, hop_length=128))


# ---------------------------------------------------------------------------
# Context windows


def dcase_baseline_vectors(spec, context):
    """The loop of the DCASE 2020-2023 autoencoder baselines."""
    n_mels, n_frames = spec.shape
    n_vectors = n_frames - context + 1
    vectors = np.zeros((n_vectors, n_mels * context))
    for t in range(context):
        vectors[:, n_mels * t : n_mels * (t + 1)] = spec[:, t : t + n_vectors].T
    return vectors


@pytest.mark.parametrize(
    "n_mels, n_frames, context",
    [(64, 313, 5), (128, 40, 5), (40, 10, 1), (8, 7, 7), (3, 20, 11), (2, 5, 2), (2, 3, 3)],
)
def test_context_windows_equal_the_dcase_loop(n_mels, n_frames, context):
    spec = np.random.default_rng(n_frames).standard_normal((n_mels, n_frames)).astype(np.float32)
    windows = context_windows(spec, context)
    expected = dcase_baseline_vectors(spec, context)
    assert windows.shape == expected.shape == (n_frames - context + 1, n_mels * context)
    np.testing.assert_array_equal(windows, expected)


def test_context_windows_of_log_mel_are_a_read_only_view():
    spec = log_mel(tones_and_noise(16000), 16000, n_mels=64)
    windows = context_windows(spec, 5)
    assert np.shares_memory(windows, spec)
    base = windows
    while base.base is not None:
        base = base.base
    root = spec
    while root.base is not None:
        root = root.base
    assert base is root  # no copy anywhere in the chain
    assert not windows.flags.writeable
    with pytest.raises(ValueError):
        windows[0, 0] = 0.0
    np.testing.assert_array_equal(windows, dcase_baseline_vectors(spec, 5))


def test_context_windows_batched():
    clips = _clips_of_very_different_levels(16000, 8000)
    specs = log_mel(clips, 16000, n_mels=32)
    windows = context_windows(specs, 4)
    assert windows.shape == (len(clips), specs.shape[-1] - 3, 32 * 4)
    assert np.shares_memory(windows, specs) and not windows.flags.writeable
    for i in range(len(clips)):
        np.testing.assert_array_equal(windows[i], dcase_baseline_vectors(specs[i], 4))
        np.testing.assert_array_equal(windows[i], context_windows(specs[i], 4))


@pytest.mark.parametrize("n_frames, context", [(1, 5), (3, 5), (4, 5), (2, 64)])
def test_short_spectrogram_is_padded_with_its_last_frame(n_frames, context):
    spec = np.arange(6 * n_frames, dtype=np.float32).reshape(6, n_frames)
    windows = context_windows(spec, context)
    assert windows.shape == (1, 6 * context)
    padded = np.concatenate([spec, np.repeat(spec[:, -1:], context - n_frames, axis=1)], axis=1)
    np.testing.assert_array_equal(windows, dcase_baseline_vectors(padded, context))
    batched = context_windows(np.stack([spec, -spec]), context)
    assert batched.shape == (2, 1, 6 * context)
    np.testing.assert_array_equal(batched[1], -windows)


@pytest.mark.parametrize("context", [0, -1, -5])
def test_context_below_one_is_refused(context):
    with pytest.raises(ValueError, match="context"):
        context_windows(np.zeros((4, 10)), context)


@settings(max_examples=60, deadline=None)
@given(
    n_mels=st.integers(2, 8),
    n_frames=st.integers(1, 30),
    context=st.integers(1, 12),
    time_major=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_property_context_windows(n_mels, n_frames, context, time_major, dtype):
    rng = np.random.default_rng(n_mels * 1000 + n_frames)
    spec = rng.standard_normal((n_mels, n_frames)).astype(dtype)
    if time_major:
        spec = np.ascontiguousarray(spec.T).T
    windows = context_windows(spec, context)
    padded = spec if n_frames >= context else np.pad(spec, [(0, 0), (0, context - n_frames)], mode="edge")
    np.testing.assert_array_equal(windows, dcase_baseline_vectors(padded, context))
    if time_major and n_frames >= context:
        assert np.shares_memory(windows, spec)


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 25), min_size=1, max_size=4),
    context=st.integers(1, 6),
    hop=st.integers(1, 4),
)
def test_property_window_bank_holds_every_hop_th_window_of_each_clip(lengths, context, hop):
    rng = np.random.default_rng(sum(lengths) * 100 + context * 10 + hop)
    specs = [rng.standard_normal((3, n)).astype(np.float32) for n in lengths]
    bank = WindowBank(specs, context, hop)
    expected = [context_windows(spec, context)[::hop] for spec in specs]
    assert bank.offsets.tolist() == np.cumsum([0] + [len(w) for w in expected]).tolist()
    np.testing.assert_array_equal(bank.take(np.arange(len(bank))), np.concatenate(expected))
    for clip, windows in enumerate(expected):
        np.testing.assert_array_equal(bank.take(np.arange(bank.offsets[clip], bank.offsets[clip + 1])), windows)


@pytest.mark.parametrize("context, hop", [(0, 1), (2, 0)])
def test_window_bank_refuses_bad_context_or_hop(context, hop):
    with pytest.raises(ValueError, match="context" if context < 1 else "hop"):
        WindowBank([np.zeros((2, 5))], context, hop)


# ---------------------------------------------------------------------------
# Time pooling


def test_mean_max_std_pooling_equal_numpy():
    spec = np.random.default_rng(0).standard_normal((3, 8, 20)).astype(np.float32)
    np.testing.assert_array_equal(time_pool(spec, "mean"), spec.mean(axis=-1))
    np.testing.assert_array_equal(time_pool(spec, "max"), spec.max(axis=-1))
    np.testing.assert_array_equal(time_pool(spec, "std"), spec.std(axis=-1))
    assert time_pool(spec[0], "mean").shape == (8,)
    assert set(POOLINGS) == {"mean", "max", "std", "gwrp"}


def test_gwrp_limits_and_hand_computed_values():
    spec = np.random.default_rng(1).standard_normal((2, 5, 17))
    np.testing.assert_allclose(time_pool(spec, "gwrp", decay=1.0), spec.mean(axis=-1), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(time_pool(spec, "gwrp", decay=0.0), spec.max(axis=-1))
    # Sorted [3, 2, 1], weights [1, 1/2, 1/4] / (7/4): (3 + 1 + 1/4) / (7/4) = 17/7.
    assert time_pool(np.array([[1.0, 3.0, 2.0]]), "gwrp", decay=0.5)[0] == pytest.approx(17 / 7)
    # Sorted [4, 2, 1, 0], weights [1, .5, .25, .125] / 1.875: 5.25 / 1.875 = 2.8.
    two_bands = np.array([[0.0, 4.0, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(time_pool(two_bands, "gwrp", decay=0.5), [2.8, 1.0])
    # One frame: every decay gives that frame.
    np.testing.assert_allclose(time_pool(np.array([[5.0], [-2.0]]), "gwrp", decay=0.3), [5.0, -2.0])


@pytest.mark.parametrize("decay", [-0.1, 1.5, float("nan"), float("inf")])
def test_gwrp_refuses_bad_decay(decay):
    with pytest.raises(ValueError, match="decay"):
        time_pool(np.zeros((2, 3)), "gwrp", decay=decay)


@pytest.mark.parametrize("method", ["median", "", "MEAN", None])
def test_unknown_pooling_is_refused(method):
    with pytest.raises(ValueError, match="pooling"):
        time_pool(np.zeros((2, 3)), method)


# ---------------------------------------------------------------------------
# Property: log_mel of any finite waveform is finite, with librosa's shape


@settings(max_examples=60, deadline=None)
@given(
    y=hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=st.integers(1, 5000),
        elements=st.floats(-1e4, 1e4, width=32),
    ),
    sr=st.integers(8000, 48000),
    n_fft=st.sampled_from([256, 512, 1024]),
    n_mels=st.sampled_from([16, 40, 64]),
    log=st.sampled_from(["db", "dcase"]),
)
def test_property_log_mel_is_finite(y, sr, n_fft, n_mels, log):
    hop_length = n_fft // 2
    spec = log_mel(y, sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, log=log)
    assert spec.shape == (n_mels, 1 + len(y) // hop_length)
    assert spec.dtype == np.float32
    assert np.isfinite(spec).all()
    windows = context_windows(spec, 5)
    assert windows.shape == (max(spec.shape[1], 5) - 4, n_mels * 5)


# ---------------------------------------------------------------------------
# Regression tests of bugs found and fixed


@pytest.mark.parametrize("n_fft", [511, 1023])
def test_odd_n_fft_filterbank_matches_librosa(n_fft):
    ours = mel_filterbank(16000, n_fft=n_fft, n_mels=40)
    ref = librosa.filters.mel(sr=16000, n_fft=n_fft, n_mels=40)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("batched", [False, True])
def test_context_windows_with_one_band(batched):
    spec = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)  # 1 band, 3 frames
    expected = dcase_baseline_vectors(spec, 2)  # [[1, 2], [2, 3]]
    if batched:
        windows = context_windows(np.stack([spec, spec]), 2)[1]
    else:
        windows = context_windows(spec, 2)
    np.testing.assert_array_equal(windows, expected)


@pytest.mark.parametrize("fft_dtype, tolerance", [("float64", DB_TOL), ("float32", 0.05)])
def test_narrow_quiet_bands_near_librosa(fft_dtype, tolerance):
    # Where a float32 FFT's rounding shows first: narrow bands near the top_db floor, in magnitude.
    sr = 44100
    kw = dict(n_fft=1024, hop_length=256, n_mels=128, fmin=50.0, fmax=21050.0, power=1.0)
    y = tones_and_noise(sr, seconds=0.5, seed=0)
    ours = log_mel(y, sr, fft_dtype=fft_dtype, **kw)
    np.testing.assert_allclose(ours, librosa_log_mel(y, sr, **kw), rtol=0, atol=tolerance)


def test_fft_dtype_is_checked_and_samples_near_float32_limit_saturate():
    with pytest.raises(ValueError, match="fft_dtype"):
        log_mel(np.zeros(1000), 16000, fft_dtype="float16")
    y = tones_and_noise(16000, 0.2).astype(np.float32) * np.float32(3e37)
    assert np.isfinite(log_mel(y, 16000)).all()


@pytest.mark.parametrize("n_samples", [1, 511, 1024, 1025, 40_000])
@pytest.mark.parametrize("n_fft, hop_length", [(1024, 512), (2048, 512), (1023, 300)])
@pytest.mark.parametrize("log", ["db", "dcase"])
def test_streamed_log_mel_equals_whole(n_samples, n_fft, hop_length, log):
    y = np.random.default_rng(n_samples).standard_normal(n_samples).astype(np.float32)
    whole = log_mel(y, 16000, n_fft=n_fft, hop_length=hop_length, log=log)
    for n_blocks in {1, min(3, n_samples), min(7, n_samples)}:
        streamed = log_mel_stream(np.array_split(y, n_blocks), 16000, n_fft=n_fft, hop_length=hop_length, log=log)
        assert streamed.shape == whole.shape and streamed.dtype == np.float32
        np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-4)


def test_power_to_db_in_place_equals_new_array():
    S = np.abs(np.random.default_rng(0).standard_normal((4, 64, 30))).astype(np.float32) ** 4
    expected = power_to_db(S)
    assert power_to_db(S, out=S) is S
    np.testing.assert_array_equal(S, expected)


def test_large_finite_amplitude_stays_finite():
    y = tones_and_noise(16000, 0.2) * 1e20
    assert np.isfinite(log_mel(y, 16000)).all()


@pytest.mark.parametrize("seed", range(5))
def test_banded_projection_equals_the_dense_product(seed):
    from audioad.features.stft import banded_product, column_bands

    rng = np.random.default_rng(seed)
    projection = rng.random((200, 37)) * (rng.random((200, 37)) < 0.05)  # sparse, some columns empty
    projection[:, 3] = 0.0
    values = rng.random((50, 200))
    out = np.full((50, 37), np.nan)
    np.testing.assert_allclose(banded_product(values, projection, column_bands(projection), out), values @ projection)


@pytest.mark.parametrize("n_clips, seconds", [(9, 10.0), (1, 70.0)])
def test_blocks_on_every_core_equal_one_core(n_clips, seconds):
    """A batch, or one long clip, cut into several FFT blocks gives the same log-mel whether the
    blocks go through one thread or through a thread each; BLAS gets its threads back after."""
    from threadpoolctl import threadpool_info

    from audioad.features.stft import BLOCK_VALUES

    y = np.stack([tones_and_noise(16000, seconds, seed=s) for s in range(n_clips)])
    blas_before = [pool["num_threads"] for pool in threadpool_info()]
    one, three = (log_mel(y, 16000, n_fft=1024, hop_length=512, n_mels=128, workers=w) for w in (1, 3))
    assert [pool["num_threads"] for pool in threadpool_info()] == blas_before
    assert n_clips * one.shape[-1] > BLOCK_VALUES // 1024  # two blocks or more
    np.testing.assert_array_equal(three, one)


def test_log_mel_many_on_every_core_equals_one_core_and_per_clip():
    lengths = [16000 * 10] * 13 + [8000] * 5 + [123] * 2
    clips = [tones_and_noise(16000, n / 16000, seed=i, level=1.0 + i) for i, n in enumerate(lengths)]
    one, three = (log_mel_many(clips, 16000, n_mels=40, workers=w) for w in (1, 3))
    for clip, a, b in zip(clips, one, three):
        np.testing.assert_array_equal(b, a)
        np.testing.assert_array_equal(a, log_mel(clip, 16000, n_mels=40))


def test_threads_at_once_leave_blas_threads_as_they_were():
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    clips = [tones_and_noise(16000, 10.0, seed=s) for s in range(12)]
    blas_before = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: log_mel_many(clips, 16000, workers=2), range(8)))
    assert [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"] == blas_before
    for result in results[1:]:
        for a, b in zip(result, results[0]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("workers", [0, -2, 1.5])
def test_bad_worker_counts_are_refused(workers):
    with pytest.raises(ValueError, match="workers"):
        log_mel(np.zeros(4000), 16000, workers=workers)


def test_serial_products_do_not_depend_on_blas_threads():
    """BLAS's thread setting is process-wide, so another thread may change it mid-call: products cut
    small enough to stay on the calling thread give the same bits at any setting (issue 13)."""
    from threadpoolctl import threadpool_limits

    from audioad.features import serial_matmul

    rng = np.random.default_rng(0)
    a, b = rng.random((2048, 1025), dtype=np.float32), rng.random((1025, 128), dtype=np.float32)
    with threadpool_limits(1, user_api="blas"):
        one = serial_matmul(a, b)
    with threadpool_limits(2, user_api="blas"):
        two = serial_matmul(a, b)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, a.astype(np.float64) @ b, rtol=1e-5)
    np.testing.assert_array_equal(serial_matmul(a[100:101], b), one[100:101])
