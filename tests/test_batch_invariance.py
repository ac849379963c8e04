"""A clip's score does not depend on its batch (issue 13): every registry detector, bit for bit.

On one machine, a clip's score, its frame scores and its features are the same whether it is
scored alone, in any batch, in any order, with any thread count, or through ``score_in_batches``.
"""

import numpy as np
import pytest
from conftest import REGISTRY, small_detector
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audioad import score_in_batches


@pytest.fixture(scope="module", params=REGISTRY)
def scored_alone(request, machine):
    """A fitted registry detector and each test clip's score (and frame scores) when scored alone."""
    train, test, _ = machine
    detector = small_detector(request.param).fit(train)
    alone = np.array([detector.decision_function([clip])[0] for clip in test])
    frames = [detector.score_clips([clip], frames=True).frames for clip in test]
    return detector, alone, frames


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_clips_score_does_not_depend_on_its_batch(scored_alone, machine, data):
    detector, alone, frames = scored_alone
    _, test, _ = machine
    batch = data.draw(st.lists(st.integers(0, len(test) - 1), min_size=1, max_size=12), label="batch")
    n_jobs = data.draw(st.sampled_from([1, 2, None]), label="n_jobs")
    detector.set_params(n_jobs=n_jobs)
    try:
        result = detector.score_clips([test[i] for i in batch], frames=True)
    finally:
        detector.set_params(n_jobs=None)
    np.testing.assert_array_equal(result.scores, alone[batch])
    np.testing.assert_array_equal(detector.decision_function([test[i] for i in batch]), alone[batch])
    if result.frames is not None:
        for i, clip_frames in zip(batch, result.frames):
            np.testing.assert_array_equal(clip_frames.scores, frames[i][0].scores)
            np.testing.assert_array_equal(clip_frames.times, frames[i][0].times)


@pytest.mark.parametrize("batch_size, n_jobs", [(1, 1), (3, 2), (7, 2)])
def test_score_in_batches_gives_the_scores_of_clips_alone(scored_alone, machine, batch_size, n_jobs):
    detector, alone, _ = scored_alone
    _, test, _ = machine
    scored = {}
    for clips, result in score_in_batches(detector, test, batch_size=batch_size, n_jobs=n_jobs, frames=False):
        scored.update(zip(clips, result.scores))
    np.testing.assert_array_equal([scored[clip] for clip in test], alone)
