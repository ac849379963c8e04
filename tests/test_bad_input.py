"""Bad input, on_error and determinism for every detector of the registry (issue #7, parts 1, 2 and 5).

Every detector gets every clip of a corpus of broken and awkward inputs, built at test time. A
clip either scores finite (and, where it has a plain mono float equivalent, scores as that does)
or raises :class:`AudioInputError` naming the clip and the cause: never an exception from numpy,
torch or soundfile, never a silent NaN.
"""

import json
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import REGISTRY, SR, small_detector

import audioad
from audioad import AudioInputError, load_audio, save
from audioad.detectors.base import AudioInputWarning
from audioad.persistence import ModelFileError, read_header

NAMES = REGISTRY

# The clips that can never be scored, and a word their error's cause must hold.
MUST_FAIL = {
    "missing-file": "not found",
    "directory": "directory",
    "zero-byte-file": "empty",
    "truncated-header": "decode",
    "random-bytes": "decode",
    "no-frames": "no samples",
    "headerless-raw": "raw",
    "nan-samples": "nan",
    "inf-samples": "infinite",
    "3d-array": "3-d",
    "rate-0": "positive",
    "rate-minus-1": "positive",
    "rate-1e9": "above",
}

# The clips that must score finite.
MUST_WORK = [
    "shorter-than-fft",
    "one-sample",
    "one-sample-file",
    "all-zero",
    "int16",
    "int32",
    "uint8",
    "float64",
    "8-channels-first",
    "8-channels-last",
]

# (test, detector) or (test, detector, clip) -> diagnosis of a known failure: each is marked
# xfail(strict=True), so that its fix shows.
KNOWN_FAILURES = {}


# The fast training-free detectors, which are the ones worth running on an hour of audio.
LONG_CLIP_DETECTORS = ["mel-knn", "mel-mahalanobis", "default"]


def fit_small(name, train):
    return small_detector(name).fit(train)


def cases(test, names, clips=None):
    """Parameters (detector, or detector and clip) of ``test``, each known failure a strict xfail."""
    params = []
    for name in names:
        for clip in [None] if clips is None else clips:
            key = (test, name) if clip is None else (test, name, clip)
            reason = KNOWN_FAILURES.get(key)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            values = (name,) if clip is None else (name, clip)
            params.append(pytest.param(*values, marks=marks, id="-".join(key[1:])))
    return params


@pytest.fixture(scope="module")
def fitted(machine):
    """Detector by name, fitted once per module on the machine's training clips."""
    train, _, _ = machine
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = fit_small(name, train)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def good(machine):
    """Two normal test clips as float32 waveforms at 16 kHz."""
    _, test, labels = machine
    normal = [path for path, label in zip(test, labels) if label == 0]
    return load_audio(normal[0], sr=SR)[0], load_audio(normal[1], sr=SR)[0]


@pytest.fixture(scope="module")
def corpus(good, tmp_path_factory):
    """Clip name -> (clip, the plain mono float32 clip it must score as, or None)."""
    folder = tmp_path_factory.mktemp("bad-input")
    rng = np.random.default_rng(0)
    # A peak of 0.5 keeps the PCM conversions below clear of clipping.
    wave = good[0] * np.float32(0.5 / np.abs(good[0]).max())

    sf.write(folder / "real.wav", wave, SR, subtype="PCM_16")
    (folder / "zero-byte.wav").write_bytes(b"")
    (folder / "truncated.wav").write_bytes((folder / "real.wav").read_bytes()[:20])
    (folder / "random.wav").write_bytes(rng.bytes(4096))
    sf.write(folder / "no-frames.wav", np.zeros(0, dtype=np.float32), SR, subtype="PCM_16")
    sf.write(folder / "one-sample.wav", wave[:1], SR, subtype="PCM_16")
    (folder / "a-directory.wav").mkdir()
    (folder / "headerless.raw").write_bytes((wave * 2**15).astype(np.int16).tobytes())

    def pcm(dtype, offset, scale):
        samples = np.round(wave.astype(np.float64) * scale + offset).astype(dtype)
        return samples, ((samples.astype(np.float64) - offset) / scale).astype(np.float32)

    channels = np.stack([wave * np.float32(0.4 + 0.2 * k) for k in range(8)])
    mix = channels.mean(axis=0, dtype=np.float64).astype(np.float32)
    with_nan, with_inf = wave.copy(), wave.copy()
    with_nan[100] = np.nan
    with_inf[200] = np.inf
    return {
        "missing-file": (folder / "missing.wav", None),
        "directory": (folder / "a-directory.wav", None),
        "zero-byte-file": (folder / "zero-byte.wav", None),
        "truncated-header": (folder / "truncated.wav", None),
        "random-bytes": (folder / "random.wav", None),
        "no-frames": (folder / "no-frames.wav", None),
        "headerless-raw": (folder / "headerless.raw", None),
        "nan-samples": (with_nan, None),
        "inf-samples": (with_inf, None),
        "3d-array": (wave.reshape(4, 2, -1), None),
        "rate-0": ((wave, 0), None),
        "rate-minus-1": ((wave, -1), None),
        "rate-1e9": ((wave, 10**9), None),
        "shorter-than-fft": (wave[:500], None),
        "one-sample": (wave[:1], None),
        "one-sample-file": (str(folder / "one-sample.wav"), None),
        "all-zero": (np.zeros(SR, dtype=np.float32), None),
        "int16": pcm(np.int16, 0.0, 2.0**15),
        "int32": pcm(np.int32, 0.0, 2.0**31),
        "uint8": pcm(np.uint8, 128.0, 2.0**7),
        "float64": (wave.astype(np.float64), wave),
        "8-channels-first": (channels, mix),
        "8-channels-last": (np.ascontiguousarray(channels.T), mix),
    }


def is_path(clip):
    return isinstance(clip, (str, Path))


# -- part 1: every detector, every bad clip -------------------------------------------------------


@pytest.mark.parametrize(("name", "clip"), cases("unusable", NAMES, MUST_FAIL))
def test_unusable_clip_raises_audio_input_error_naming_it(name, clip, fitted, good, corpus):
    detector = fitted(name)
    item, _ = corpus[clip]
    with pytest.raises(AudioInputError) as info:
        detector.decision_function([good[0], item])
    error = info.value
    assert error.index == 1
    assert str(error).startswith("clip 1")
    assert MUST_FAIL[clip] in error.cause.lower(), error.cause
    if is_path(item):
        assert error.path == str(item)
        assert str(item) in str(error)
    else:
        assert error.path is None


@pytest.mark.parametrize(("name", "clip"), cases("awkward", NAMES, MUST_WORK))
def test_awkward_clip_scores_finite(name, clip, fitted, good, corpus):
    detector = fitted(name)
    item, equivalent = corpus[clip]
    scores = detector.decision_function([good[0], item])
    assert scores.shape == (2,)
    assert np.isfinite(scores).all(), scores
    if equivalent is not None:
        expected = detector.decision_function([good[0], equivalent])
        np.testing.assert_allclose(scores, expected, rtol=1e-5)


@pytest.fixture(scope="module")
def one_hour_file(good, tmp_path_factory):
    """A 16 kHz mono 16-bit WAV of 3600 s (115 MB), written a minute at a time."""
    path = tmp_path_factory.mktemp("long") / "one-hour.wav"
    minute = np.tile(good[0], 60)
    with sf.SoundFile(path, "w", samplerate=SR, channels=1, subtype="PCM_16") as out:
        for _ in range(60):
            out.write(minute)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", LONG_CLIP_DETECTORS)
def test_one_hour_file_scores_as_its_content(name, fitted, good, one_hour_file):
    detector = fitted(name)
    scores = detector.decision_function([good[0], one_hour_file])
    assert np.isfinite(scores).all(), scores
    # The hour is one normal clip over and over, so it sounds as that clip does: same label.
    # (The ensemble's standardised scores sit near zero, so a relative tolerance means nothing.)
    assert (scores[1] > detector.threshold_) == (scores[0] > detector.threshold_), scores


# -- part 2: on_error -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch(good, corpus):
    """good, missing file, good: the failure in the middle, with a path to name."""
    return [good[0], corpus["missing-file"][0], good[1]]


@pytest.mark.parametrize("name", NAMES)
def test_on_error_raise_is_the_default(name, fitted, batch):
    with pytest.raises(AudioInputError, match="^clip 1 "):
        fitted(name).decision_function(batch)


@pytest.mark.parametrize("name", NAMES)
def test_on_error_nan_keeps_good_scores_aligned(name, fitted, good, batch):
    detector = fitted(name)
    alone = detector.decision_function(list(good))
    with pytest.warns(AudioInputWarning, match="1 of 3 clips") as record:
        scores = detector.decision_function(batch, on_error="nan")
    assert scores.shape == (3,)
    assert np.isnan(scores[1])
    np.testing.assert_array_equal(scores[[0, 2]], alone)
    [error] = record[0].message.errors
    assert isinstance(error, AudioInputError)
    assert (error.index, error.path) == (1, str(batch[1]))
    assert "not found" in error.cause


@pytest.mark.parametrize("name", NAMES)
def test_on_error_skip_leaves_the_bad_clip_out(name, fitted, good, batch):
    detector = fitted(name)
    alone = detector.decision_function(list(good))
    with pytest.warns(AudioInputWarning) as record:
        scores = detector.decision_function(batch, on_error="skip")
    np.testing.assert_array_equal(scores, alone)
    assert [error.index for error in record[0].message.errors] == [1]


@pytest.mark.parametrize("name", NAMES)
def test_predict_on_error_nan_labels_the_failure_minus_one(name, fitted, good, batch):
    detector = fitted(name)
    alone = detector.predict(list(good))
    with pytest.warns(AudioInputWarning):
        labels = detector.predict(batch, on_error="nan")
    np.testing.assert_array_equal(labels, [alone[0], -1, alone[1]])


@pytest.mark.parametrize("name", NAMES)
def test_score_clips_reports_each_failure_with_its_cause(name, fitted, good, corpus):
    detector = fitted(name)
    clips = [good[0], corpus["nan-samples"][0], good[1], corpus["truncated-header"][0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioInputWarning)
        result = detector.score_clips(clips, frames=True)
    assert result.scores.shape == (4,)
    assert np.isfinite(result.scores[[0, 2]]).all() and np.isnan(result.scores[[1, 3]]).all()
    assert [(error.index, error.path) for error in result.errors] == [(1, None), (3, str(clips[3]))]
    assert "nan" in result.errors[0].cause.lower()
    assert "decode" in result.errors[1].cause
    if detector.scores_windows:
        assert [len(frames.scores) > 0 for frames in result.frames] == [True, False, True, False]
    else:
        assert result.frames is None
    np.testing.assert_array_equal(detector.score_clips(clips).scores[[0, 2]], detector.decision_function(list(good)))


@pytest.mark.parametrize("name", cases("score_clips-frames", NAMES))
def test_score_clips_with_frames_gives_the_decision_function_scores(name, fitted, good):
    detector = fitted(name)
    result = detector.score_clips(list(good), frames=True)
    np.testing.assert_array_equal(result.scores, detector.decision_function(list(good)))


# -- part 5: determinism ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def probe(machine):
    _, test, _ = machine
    return test[::4]


@pytest.mark.parametrize("name", NAMES)
def test_same_data_and_random_state_give_identical_scores(name, fitted, machine, probe):
    train, _, _ = machine
    first, second = fitted(name), fit_small(name, train)
    np.testing.assert_array_equal(second.decision_scores_, first.decision_scores_)
    np.testing.assert_array_equal(second.decision_function(probe), first.decision_function(probe))
    assert second.threshold_ == first.threshold_


@pytest.mark.parametrize("name", cases("save-load", NAMES))
def test_save_and_load_give_identical_scores(name, fitted, probe, tmp_path):
    detector = fitted(name)
    loaded = audioad.load(save(detector, tmp_path / f"{name}.audioad"))
    assert type(loaded) is type(detector)
    np.testing.assert_array_equal(loaded.decision_function(probe), detector.decision_function(probe))
    assert loaded.threshold_ == detector.threshold_


# -- a model file that is not one -------------------------------------------------------------------


def _model_file_with_header(path, corrupt):
    """A zip whose model description entry is stored deflated, then corrupted by ``corrupt(bytes, info)``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("audioad-model.json", json.dumps({"format": "audioad-model", "pad": list(range(200))}))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("audioad-model.json")
    data = bytearray(path.read_bytes())
    corrupt(data, info)
    path.write_bytes(bytes(data))
    return path


def _garbage_deflate(data, info):
    # The entry's compressed bytes, after its 30-byte local header and its name, made undecodable.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + info.compress_size] = b"\xff" * info.compress_size


def _marked_encrypted(data, info):
    # Bit 0 of the general purpose flags, in the local header and in the central directory.
    data[info.header_offset + 6] |= 1
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1


@pytest.mark.parametrize(
    "corrupt, cause",
    [(_garbage_deflate, zlib.error), (_marked_encrypted, RuntimeError)],
    ids=["broken-deflate-stream", "marked-encrypted"],
)
def test_a_corrupt_model_description_is_a_model_file_error(tmp_path, corrupt, cause):
    path = _model_file_with_header(tmp_path / "fan.audioad", corrupt)
    for read in (audioad.load, read_header):
        with pytest.raises(ModelFileError, match=r"fan\.audioad: corrupt model description") as info:
            read(path)
        assert isinstance(info.value.__cause__, cause)
