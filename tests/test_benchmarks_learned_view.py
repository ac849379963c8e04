"""The learned view of benchmarks/learned_view.py: its synthetic anomalies, and seeds that touch no global generator."""

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import learned_view  # noqa: E402


def spectrograms(n_clips, n_frames, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(-40.0, 3.0, size=(32, n_frames)) for _ in range(n_clips)]


def test_pasted_anomalies_are_a_function_of_the_seed_and_add_sound_or_tilt():
    window = spectrograms(1, 16, 0)[0]
    first = [learned_view.paste_anomaly(window, np.random.default_rng(seed)) for seed in range(40)]
    again = [learned_view.paste_anomaly(window, np.random.default_rng(seed)) for seed in range(40)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(a.shape == window.shape and not np.array_equal(a, window) for a in first)
    # Pasted sound only adds power; a tilt moves half the bands down, with the band average kept.
    tilts = [a for a in first if (a < window - 1e-9).any()]
    assert all(abs((a - window).mean()) < 1.0 for a in tilts)
    assert len(tilts) < len(first)


def test_short_clips_are_repeated_to_fill_one_window():
    spec = np.arange(2 * 3, dtype=float).reshape(2, 3)
    (window,) = learned_view.windows_of(spec, 8, 4)
    assert window.shape == (2, 8)
    np.testing.assert_array_equal(window[:, 3:6], spec)


@pytest.mark.parametrize("score", ["knn", "anomaly"])
def test_fit_is_seeded_locally_and_scores_each_clip_alone(score):
    train, test = spectrograms(8, 40, 1), spectrograms(3, 40, 2)
    state = torch.random.get_rng_state()
    view = learned_view.LearnedEmbedding(n_mels=32, steps=5, score=score, random_state=3)
    scores = view.fit_features(train).score_features(test)
    assert torch.equal(state, torch.random.get_rng_state())  # nothing drawn from torch's global generator
    refitted = learned_view.LearnedEmbedding(n_mels=32, steps=5, score=score, random_state=3).fit_features(train)
    np.testing.assert_array_equal(scores, refitted.score_features(test))
    np.testing.assert_allclose(scores[1:], view.score_features(test[1:]), rtol=1e-5, atol=1e-6)
