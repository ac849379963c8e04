"""Long files are featurised from blocks as they are decoded, and score as if loaded whole."""

import numpy as np
import pytest
import soundfile as sf

import audioad.audio
from audioad import AudioAE, EmbeddingOD, MelKNN, default_detector
from audioad.audio import AudioInputError, AudioStream, is_long_file, load_audio
from audioad.detectors.streaming import featurised_chunks

SR = 16000


def hum(seconds, sr=SR, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    noise = 0.05 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * np.sin(2 * np.pi * 120 * t) + noise).astype(np.float32)


@pytest.fixture
def recordings(tmp_path):
    """A 9 s recording at 16 kHz, one at 22.05 kHz in stereo, and one with a NaN in its second block."""
    paths = {}
    paths["plain"] = tmp_path / "plain.wav"
    sf.write(paths["plain"], hum(9.0), SR, subtype="FLOAT")
    paths["stereo_22k"] = tmp_path / "stereo_22k.wav"
    sf.write(paths["stereo_22k"], np.column_stack([hum(9.0, 22050), hum(9.0, 22050, seed=1)]), 22050, subtype="FLOAT")
    broken = hum(9.0)
    broken[100_000] = np.nan
    paths["nan"] = tmp_path / "nan.wav"
    sf.write(paths["nan"], broken, SR, subtype="FLOAT")
    return {name: str(path) for name, path in paths.items()}


@pytest.fixture
def small_long_files(monkeypatch):
    """Files above 100 kB count as long, so a few seconds of audio take the streaming path."""
    monkeypatch.setattr(audioad.audio, "LONG_FILE_BYTES", 100_000)


@pytest.mark.parametrize("name", ["plain", "stereo_22k"])
def test_audio_stream_joins_to_load_audio(recordings, name):
    whole, _ = load_audio(recordings[name], sr=SR)
    stream = AudioStream(recordings[name], SR, block_frames=30_000)
    blocks = list(stream)
    assert len(blocks) > 3 and all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    joined = np.concatenate(blocks)
    assert len(joined) == len(whole) and abs(stream.n_samples - len(whole)) <= 2
    assert np.array_equal(np.concatenate(list(stream)), joined)  # iterable again, the same
    # Same samples where no rate changes; the stream resampler rounds a little differently.
    np.testing.assert_allclose(joined, whole, rtol=0, atol=0 if name == "plain" else 1e-3)


def test_audio_stream_names_the_file_and_the_sample(recordings, tmp_path):
    with pytest.raises(AudioInputError, match=r"nan\.wav.*NaN or infinite \(first at sample 100000\)"):
        list(AudioStream(recordings["nan"], SR, block_frames=30_000))
    with pytest.raises(AudioInputError, match="file not found"):
        AudioStream(tmp_path / "missing.wav", SR)
    (tmp_path / "junk.wav").write_bytes(b"RIFF" + bytes(200))
    with pytest.raises(AudioInputError, match="cannot decode"):
        AudioStream(tmp_path / "junk.wav", SR)
    sf.write(tmp_path / "empty.wav", np.zeros(0), SR)
    with pytest.raises(AudioInputError, match="no samples"):
        AudioStream(tmp_path / "empty.wav", SR)
    with pytest.raises(AudioInputError, match="sample rate"):
        AudioStream(recordings["plain"], 0)


def test_long_files_and_runs_of_clips_keep_input_order(recordings, small_long_files):
    clips = [np.zeros(4000)] * 3 + [recordings["plain"]] + [np.zeros(4000)] * 2
    assert is_long_file(recordings["plain"]) and not is_long_file(clips[0])
    chunks = featurised_chunks(MelKNN(), clips)
    assert [where.tolist() for where, _, _ in chunks] == [[0, 1, 2], [3], [4, 5]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: default_detector(),
        lambda: MelKNN(pooling=("mean", "delta_std")),
        lambda: AudioAE(sr=SR, epoch_num=2, random_state=0),
        lambda: EmbeddingOD.for_audio("fast", sr=SR, random_state=0),
    ],
    ids=["default", "MelKNN", "AudioAE", "EmbeddingOD"],
)
def test_streamed_scores_equal_whole_scores(machine, recordings, monkeypatch, make):
    train, _, _ = machine
    detector = make().fit(train)
    clips = [train[0], recordings["plain"], recordings["stereo_22k"], train[1]]
    whole = detector.decision_function(clips)
    monkeypatch.setattr(audioad.audio, "LONG_FILE_BYTES", 100_000)
    streamed = detector.decision_function(clips)
    np.testing.assert_allclose(streamed, whole, rtol=1e-4, atol=1e-4)
    if detector.scores_windows:
        frames = detector.frame_scores(clips[1:2])[0]
        # windows over the whole 9 s recording, streamed
        assert frames.times[-1] + detector.window_hop_seconds > 8.5 and np.isfinite(frames.scores).all()


def test_a_long_file_that_fails_midway_is_reported_in_place(machine, recordings, small_long_files):
    train, test, _ = machine
    detector = MelKNN().fit(train)
    clips = [test[0], recordings["nan"], recordings["plain"], test[1]]
    with pytest.warns(UserWarning, match="1 of 4 clips") as record:
        scores = detector.decision_function(clips, on_error="nan")
    assert np.isnan(scores[1]) and np.isfinite(scores[[0, 2, 3]]).all()
    (error,) = record[0].message.errors
    assert error.index == 1 and "nan.wav" in str(error) and "first at sample 100000" in str(error)
    with pytest.warns(UserWarning):
        skipped = detector.decision_function(clips, on_error="skip")
    np.testing.assert_allclose(skipped, scores[[0, 2, 3]])
    with pytest.raises(AudioInputError, match=r"clip 1 \(.*nan\.wav\)"):
        detector.decision_function(clips)
