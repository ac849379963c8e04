"""Clip descriptors against librosa, feature by feature, and against PyOD's AudioFeatureEncoder."""

import numpy as np
import pytest

from audioad.audio import AudioInputError
from audioad.features.descriptors import (
    chroma_filterbank,
    clip_descriptors,
    clip_descriptors_many,
    descriptor_names,
)

librosa = pytest.importorskip("librosa")

SIGNALS = ("tone_in_noise", "noise", "chirp", "gap", "short")


def make_signal(kind, sr, seconds=1.0, seed=0):
    """float32 clips: tone in noise, noise, pure chirp, noise with a silent middle, 100 samples."""
    rng = np.random.default_rng(seed)
    n = 100 if kind == "short" else int(seconds * sr)
    t = np.arange(n) / sr
    if kind == "tone_in_noise":
        y = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.01 * rng.standard_normal(n)
    elif kind == "chirp":
        y = 0.3 * np.sin(2 * np.pi * (100.0 * t + 1500.0 * t**2))
    elif kind == "gap":
        y = 0.2 * rng.standard_normal(n)
        y[n // 3 : 2 * n // 3] = 0.0
    else:
        y = 0.1 * rng.standard_normal(n)
    return y.astype(np.float32)


def librosa_groups(y, sr):
    """Each descriptor group as librosa computes it, frame by frame, on PyOD's padded clip."""
    y = np.pad(y, (0, max(0, 2048 - len(y))))
    return {
        "mfcc": librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20),
        "chroma": librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0),
        "cent": librosa.feature.spectral_centroid(y=y, sr=sr),
        "bw": librosa.feature.spectral_bandwidth(y=y, sr=sr),
        "roll": librosa.feature.spectral_rolloff(y=y, sr=sr),
        "zcr": librosa.feature.zero_crossing_rate(y),
        "rms": librosa.feature.rms(y=y),
    }


# Worst errors seen over SIGNALS at both rates, with ~10x headroom: MFCCs within 8e-5 dB,
# chroma (in [0, 1]) within 1.3e-7, centroid and RMS within 1e-6 relative; roll-off and ZCR
# identical. The exception is the bandwidth of the pure chirp, 8e-4 relative (1e-7 for the
# other signals): features.power_spectrogram computes in float32, so its rounding floor lies
# ~140 dB below the peak, whereas librosa multiplies float32 frames by a float64 window and
# so transforms in float64; the bandwidth weighs those far-off bins by (f - centroid)^2, and
# a pure tone has nothing else there.
TOLERANCES = {
    "mfcc": dict(rtol=0.0, atol=1e-3),
    "chroma": dict(rtol=0.0, atol=1e-5),
    "cent": dict(rtol=1e-5, atol=1e-6),
    "bw": dict(rtol=2e-3, atol=1e-6),
    "roll": dict(rtol=0.0, atol=0.0),
    "zcr": dict(rtol=0.0, atol=0.0),
    "rms": dict(rtol=1e-5, atol=1e-9),
}


@pytest.mark.parametrize("sr", [22050, 16000])
@pytest.mark.parametrize("kind", SIGNALS)
def test_each_group_matches_librosa(kind, sr):
    y = make_signal(kind, sr)
    ours = dict(zip(descriptor_names(), clip_descriptors(y, sr=sr)))
    for group, frames in librosa_groups(y, sr).items():
        for stat, reduce in (("mean", np.mean), ("std", np.std)):
            expected = reduce(frames.astype(np.float64), axis=1)
            got = np.array([ours[f"{group}{i}_{stat}"] for i in range(frames.shape[0])])
            np.testing.assert_allclose(got, expected, **TOLERANCES[group], err_msg=f"{kind} {sr} {group} {stat}")


def test_fewer_mfccs_match_librosa():
    sr = 16000
    y = make_signal("tone_in_noise", sr)
    got = clip_descriptors(y, sr=sr, n_mfcc=13)
    assert got.shape == (2 * (13 + 17),)
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13).astype(np.float64)
    np.testing.assert_allclose(got[0:26:2], mfcc.mean(axis=1), atol=1e-3)
    np.testing.assert_allclose(got[1:26:2], mfcc.std(axis=1), atol=1e-3)


@pytest.mark.parametrize("sr", [22050, 16000, 8000])
def test_chroma_filterbank_matches_librosa(sr):
    fb = chroma_filterbank(sr, n_fft=2048)
    expected = librosa.filters.chroma(sr=sr, n_fft=2048, tuning=0.0)
    assert fb.shape == (12, 1025) and fb.dtype == np.float32
    np.testing.assert_allclose(fb, expected, rtol=1e-6, atol=1e-7)
    assert chroma_filterbank(sr, n_fft=2048) is fb
    assert not fb.flags.writeable


def test_descriptor_names_follow_pyod():
    from pyod.utils.encoders.audio import AudioFeatureEncoder

    names = descriptor_names()
    assert names == list(AudioFeatureEncoder()._features_one(np.zeros(100, np.float32)))
    assert len(names) == 74 and names[:4] == ["mfcc0_mean", "mfcc0_std", "mfcc1_mean", "mfcc1_std"]
    assert names[40:42] == ["chroma0_mean", "chroma0_std"]
    spectral = ("cent", "bw", "roll", "zcr", "rms")
    assert names[64:] == [f"{g}0_{s}" for g in spectral for s in ("mean", "std")]
    assert len(descriptor_names(13)) == 60


def test_matches_pyod_audio_feature_encoder():
    from pyod.utils.encoders.audio import AudioFeatureEncoder

    sr = 22050
    clips = [make_signal(kind, sr, seed=i) for i, kind in enumerate(SIGNALS)]
    clips.append(make_signal("noise", sr, seconds=0.5, seed=9))
    expected = AudioFeatureEncoder(sr=sr).encode(clips, show_progress=False)
    got = clip_descriptors_many(clips, sr=sr)
    assert got.shape == expected.shape == (len(clips), 74) and got.dtype == np.float64
    # Spectra agree within 1.5e-7 of their peak; only the pure chirp's bandwidth, which weighs
    # the float32 rounding floor far from the tone, is off by more (8e-4; see TOLERANCES).
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=1e-5)


BATCH_TOLERANCE = dict(rtol=1e-5, atol=1e-6)


def test_batch_equals_clip_by_clip():
    sr = 16000
    batch = np.stack([make_signal(kind, sr, seed=i) for i, kind in enumerate(SIGNALS[:4])])
    got = clip_descriptors(batch, sr=sr)
    assert got.shape == (4, 74)
    # float32 filterbank products are blocked by BLAS according to the batch's size, so a clip's
    # sums round a little differently alone and in a batch (1.4e-6 relative, 3e-8 absolute seen).
    for row, y in zip(got, batch):
        np.testing.assert_allclose(row, clip_descriptors(y, sr=sr), **BATCH_TOLERANCE)


def test_many_gives_each_clip_its_own_descriptors_in_order():
    sr = 16000
    clips = [
        make_signal(kind, sr, seconds=s, seed=i)
        for i, (kind, s) in enumerate(
            [("noise", 0.5), ("tone_in_noise", 1.0), ("short", 0), ("chirp", 0.5), ("gap", 1.0)]
        )
    ]
    expected = np.stack([clip_descriptors(y, sr=sr) for y in clips])
    for workers in (1, 2, None):
        # Bit for bit: a clip's descriptors never depend on the other clips or the threads.
        np.testing.assert_array_equal(clip_descriptors_many(clips, sr=sr, workers=workers), expected)
        np.testing.assert_array_equal(clip_descriptors_many(clips[::-1], sr=sr, workers=workers), expected[::-1])
    assert clip_descriptors_many(clips, sr=sr, n_mfcc=13).shape == (5, 60)
    assert clip_descriptors_many([], sr=sr).shape == (0, 74)


def test_short_clips_are_padded_as_pyod_pads_them():
    y = make_signal("short", 22050)
    got = clip_descriptors(y)
    assert got.shape == (74,) and np.isfinite(got).all()
    np.testing.assert_array_equal(got, clip_descriptors(np.pad(y, (0, 2048 - 100))))


def test_silence_gives_zeros_not_nans():
    got = clip_descriptors(np.zeros((2, 4000)))
    assert np.isfinite(got).all()
    named = dict(zip(descriptor_names(), got[0]))
    for group in ("chroma0", "cent0", "bw0", "roll0", "zcr0", "rms0"):
        assert named[f"{group}_mean"] == 0.0, group
    assert named["mfcc0_mean"] == pytest.approx(-100.0 * np.sqrt(128))


def test_float64_input_is_computed_in_float32():
    y = np.random.default_rng(3).standard_normal(5000)
    np.testing.assert_array_equal(clip_descriptors(y), clip_descriptors(y.astype(np.float32)))


def test_bad_input_names_the_clip():
    batch = np.zeros((3, 3000))
    batch[2, 7] = np.nan
    with pytest.raises(AudioInputError, match="clip 2: 1 sample"):
        clip_descriptors(batch)
    clips = [np.zeros(3000), np.zeros(100), np.full(3000, np.inf)]
    with pytest.raises(AudioInputError, match="clip 2: 3000 sample"):
        clip_descriptors_many(clips, sr=22050)
    with pytest.raises(AudioInputError, match="clip 1: a clip must be a non-empty 1-D"):
        clip_descriptors_many([np.zeros(100), np.zeros((2, 100))], sr=22050)
    with pytest.raises(ValueError, match="n_samples"):
        clip_descriptors(np.zeros((2, 2, 100)))
    with pytest.raises(ValueError, match="no samples"):
        clip_descriptors(np.zeros(0))
    assert clip_descriptors(np.zeros((0, 100))).shape == (0, 74)
