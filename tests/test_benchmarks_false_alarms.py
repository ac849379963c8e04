"""benchmarks/false_alarms.py: its "as built" rows are the library's default, and its variants change what they say."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import false_alarms  # noqa: E402

from audioad.audio import load_audio  # noqa: E402
from audioad.datasets import make_machine_sounds  # noqa: E402
from audioad.detectors.ensemble import combined_scores, far_out_fence, member_standardisation  # noqa: E402
from audioad.detectors.knn import MelKNN  # noqa: E402


def test_as_built_standardisation_and_threshold_are_the_ensembles():
    rng = np.random.default_rng(0)
    held, test = rng.gamma(2.0, size=(30, 3)), rng.gamma(2.0, size=(12, 3))
    h, t = false_alarms.combined(held, test)
    standardised = member_standardisation(held)
    np.testing.assert_allclose(h, combined_scores(held, *standardised, "max"))
    np.testing.assert_allclose(t, combined_scores(test, *standardised, "max"))
    assert false_alarms.THRESHOLDS["as built (contamination quantile, capped at Q3 + 3 IQR)"] is false_alarms.as_built
    # PyOD's percentile of 100 (1 - contamination) and the 0.9 quantile: equal but for the last bit
    assert false_alarms.as_built(h) == pytest.approx(min(float(np.quantile(h, 0.9)), far_out_fence(h)), rel=1e-12)


def test_rates_count_each_domain_apart():
    y = np.array([0, 0, 0, 1, 1])
    domains = np.array(["source", "source", "target", "source", "target"])
    auc, far, detection, source, target = false_alarms.rates(np.array([0.0, 2.0, 2.0, 3.0, 0.0]), y, domains, 1.0)
    assert (far, detection, source, target) == (pytest.approx(2 / 3), 0.5, 0.5, 1.0)
    assert np.isnan(false_alarms.rates(np.zeros(2), np.array([0, 1]), np.array(["source"] * 2), 1.0)[4])


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """One section recorded in two sessions: the second one louder and tilted."""
    table = make_machine_sounds(
        tmp_path_factory.mktemp("sessions"),
        machines=("fan",),
        n_sections=1,
        n_train=20,
        n_test_normal=6,
        n_test_anomaly=2,
        duration=1.0,
        sessions=2,
        random_state=3,
    )
    first = [c.path for c in table if c.split == "train" and c.attributes["session"] == "1"]
    second = [c.path for c in table if c.split == "test" and c.label == "normal" and c.attributes["session"] == "2"]
    return first, second


def test_forgiving_gain_and_tilt_lowers_the_scores_of_a_louder_session(sessions):
    first, second = sessions
    plain = MelKNN(pooling="mean", metric="mahalanobis").fit(first)
    forgiving = false_alarms._nuisance_knn()(pooling="mean", metric="mahalanobis").fit(first)
    louder = [(load_audio(path, sr=16000)[0] * 10 ** (6 / 20), 16000) for path in second]
    assert np.all(forgiving.decision_function(louder) < plain.decision_function(louder))


def test_the_floor_only_raises_band_spreads(sessions):
    first, _ = sessions
    plain = MelKNN(pooling="mean", metric="mahalanobis").fit(first)
    floored = false_alarms._floored_knn()(pooling="mean", metric="mahalanobis").fit(first)
    np.testing.assert_array_equal(floored.feature_scale_, np.maximum(plain.feature_scale_, false_alarms.FLOOR_DB))


def test_calibration_takes_the_first_half_of_the_normal_clips_and_tests_the_rest():
    y = np.array([1, 0, 0, 1, 0, 0, 0])
    calibration, rest = false_alarms.calibration_split(y)
    assert calibration.tolist() == [1, 2]
    assert rest.tolist() == [0, 3, 4, 5, 6]


def test_relative_distance_measures_a_sparse_condition_by_its_own_spacing():
    dense = np.column_stack([np.linspace(0.0, 1.0, 11), np.zeros(11)])  # clips 0.1 apart
    sparse = np.array([[100.0, 0.0], [100.0, 10.0]])  # two clips of a rare condition, 10 apart
    knn = false_alarms._relative_knn()(metric="euclidean")
    knn.fit_vectors(np.vstack([dense, sparse]))
    near_sparse, near_dense = knn.score_vectors(np.array([[105.0, 0.0], [0.5, 0.5]]))
    assert near_sparse == pytest.approx(0.5)  # 5 from the rare clip, half its spacing
    assert near_dense == pytest.approx(5.0)  # 0.5 from the nearest, five times the dense spacing
    knn.fit_vectors(np.zeros((3, 2)))
    assert np.all(knn.spacing_ == 1.0)  # no division by zero where training clips are identical
