import warnings

import numpy as np
import pytest
from scipy import stats

from audioad.thresholds import (
    ThresholdFallbackWarning,
    check_scores,
    contamination_threshold,
    gamma_threshold,
    threshold,
)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("contamination", [0.01, 0.1, 0.25, 0.5])
def test_contamination_threshold_is_numpy_percentile(seed, contamination):
    scores = np.random.default_rng(seed).normal(size=37 + seed)
    expected = np.percentile(scores, 100 * (1 - contamination))
    assert contamination_threshold(scores, contamination=contamination) == expected


def test_contamination_threshold_matches_pyod_threshold():
    from pyod.models.knn import KNN

    X = np.random.default_rng(0).normal(size=(60, 3))
    detector = KNN(contamination=0.15).fit(X)
    assert contamination_threshold(detector.decision_scores_, contamination=0.15) == detector.threshold_


@pytest.mark.parametrize("contamination", [0.0, -0.1, 0.6])
def test_contamination_out_of_range_is_refused(contamination):
    with pytest.raises(ValueError, match=r"contamination must be in \(0, 0.5\]"):
        contamination_threshold([1.0, 2.0], contamination=contamination)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("quantile", [0.5, 0.9, 0.99])
def test_gamma_threshold_is_the_dcase_baseline_fit(seed, quantile):
    scores = np.random.default_rng(seed).gamma(shape=2.0 + seed, scale=1.5, size=200)
    expected = stats.gamma.ppf(quantile, *stats.gamma.fit(scores))
    assert gamma_threshold(scores, quantile=quantile) == pytest.approx(expected, rel=1e-12)


def test_gamma_threshold_takes_negative_scores_through_the_fitted_location():
    scores = np.random.default_rng(1).gamma(shape=3.0, size=300) - 10.0
    expected = stats.gamma.ppf(0.9, *stats.gamma.fit(scores))
    assert gamma_threshold(scores) == pytest.approx(expected, rel=1e-12)
    assert scores.min() < gamma_threshold(scores) < scores.max()


@pytest.mark.parametrize("scores", [[4.0], [4.0, 4.0, 4.0], [-2.0] * 10, [0.0] * 5])
def test_gamma_threshold_of_equal_scores_is_that_score(scores):
    assert gamma_threshold(scores) == scores[0]


def test_gamma_threshold_falls_back_to_empirical_quantile_when_fit_fails(monkeypatch):
    scores = np.arange(1.0, 11.0)

    def failing_fit(data):
        raise stats.FitError("optimizer did not converge")

    monkeypatch.setattr(stats.gamma, "fit", failing_fit)
    with pytest.warns(
        ThresholdFallbackWarning, match=r"gamma fit failed \(optimizer did not converge\).*0\.9 quantile"
    ):
        assert gamma_threshold(scores, quantile=0.9) == np.quantile(scores, 0.9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's overflows on the way to its FitError
def test_gamma_threshold_falls_back_on_real_scores_scipy_cannot_fit():
    # Scores near float64's limit: scipy's optimiser leaves the distribution's range (FitError).
    scores = np.array([1e300, 2e300, 3e300])
    with pytest.raises(stats.FitError):
        stats.gamma.fit(scores)
    with pytest.warns(ThresholdFallbackWarning, match="gamma fit failed"):
        assert gamma_threshold(scores) == np.quantile(scores, 0.9)


def test_gamma_threshold_falls_back_when_fitted_support_misses_training_scores(monkeypatch):
    scores = np.arange(1.0, 11.0)
    monkeypatch.setattr(stats.gamma, "fit", lambda data: (2.0, 5.0, 1.0))
    with pytest.warns(
        ThresholdFallbackWarning, match=r"support starts at 5, at or above the lowest training score 1\b"
    ):
        assert gamma_threshold(scores, quantile=0.8) == np.quantile(scores, 0.8)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in scipy's support bounds
def test_gamma_threshold_falls_back_when_the_fit_gives_no_finite_threshold(monkeypatch):
    scores = np.arange(1.0, 11.0)
    monkeypatch.setattr(stats.gamma, "fit", lambda data: (2.0, 0.0, np.inf))
    with pytest.warns(ThresholdFallbackWarning, match="gives inf"):
        assert gamma_threshold(scores, quantile=0.8) == np.quantile(scores, 0.8)


def test_gamma_threshold_fallback_warning_points_at_the_caller(monkeypatch):
    monkeypatch.setattr(stats.gamma, "fit", lambda data: (2.0, 5.0, 1.0))
    with pytest.warns(ThresholdFallbackWarning) as record:
        gamma_threshold(np.arange(1.0, 11.0))
    assert record[0].filename == __file__


def test_gamma_threshold_of_well_fitted_scores_does_not_warn():
    scores = np.random.default_rng(3).gamma(shape=2.0, size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gamma_threshold(scores)
        gamma_threshold([5.0, 5.0])


def test_gamma_threshold_does_not_hide_an_error_that_is_not_a_failed_fit(monkeypatch):
    # Only scipy's FitError means "no gamma fits these scores"; anything else is a bug to see.
    def broken_fit(data):
        raise TypeError("fit() got an unexpected keyword argument")

    monkeypatch.setattr(stats.gamma, "fit", broken_fit)
    with pytest.raises(TypeError, match="unexpected keyword"):
        gamma_threshold(np.arange(1.0, 11.0))


@pytest.mark.parametrize("quantile", [0.0, 1.0, 1.5])
def test_gamma_quantile_out_of_range_is_refused(quantile):
    with pytest.raises(ValueError, match=r"quantile must be in \(0, 1\)"):
        gamma_threshold([1.0, 2.0], quantile=quantile)


@pytest.mark.parametrize("rule", ["contamination", "gamma"])
def test_empty_and_non_finite_scores_are_refused(rule):
    with pytest.raises(ValueError, match="train_scores is empty"):
        threshold([], rule=rule)
    with pytest.raises(ValueError, match=r"2 of 4 train_scores are not finite \(NaN or inf\), at clips \[1, 3\]"):
        threshold([1.0, np.nan, 2.0, np.inf], rule=rule)


def test_check_scores_refuses_two_dimensional_scores():
    with pytest.raises(ValueError, match=r"must be 1-D .* shape \(2, 2\)"):
        check_scores(np.ones((2, 2)))


def test_check_scores_lists_at_most_ten_clips():
    with pytest.raises(ValueError, match=r"12 of 12 scores .*\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, \.\.\.\]"):
        check_scores([np.nan] * 12)


def test_threshold_dispatches_to_each_rule():
    scores = np.random.default_rng(2).gamma(shape=2.0, size=100)
    assert threshold(scores, rule="contamination", contamination=0.2) == contamination_threshold(scores, 0.2)
    assert threshold(scores, rule="gamma", quantile=0.95) == gamma_threshold(scores, 0.95)
    assert threshold(scores) == contamination_threshold(scores, 0.1)


def test_unknown_rule_names_the_known_rules():
    with pytest.raises(ValueError, match="unknown threshold rule 'otsu'; use one of 'contamination', 'gamma'"):
        threshold([1.0, 2.0], rule="otsu")


def test_a_threshold_measured_on_fewer_scores_than_its_rate_needs_is_too_few():
    """Issue 22, item 3: the contamination rule on a handful of calibration scores passed up to 0.40 of new clips."""
    from audioad.thresholds import CALIBRATION, segment_threshold

    assert segment_threshold(np.arange(5.0), CALIBRATION).too_few
    assert not segment_threshold(np.arange(10.0), CALIBRATION).too_few
    assert segment_threshold(np.arange(10.0), CALIBRATION, contamination=0.05).too_few
    assert not segment_threshold(np.arange(5.0), CALIBRATION, false_alarm_rate=0.1).too_few  # extrapolated
    assert not segment_threshold(np.arange(5.0), CALIBRATION, given=2.0).too_few
    assert not segment_threshold(np.arange(5.0), CALIBRATION, rule="gamma").too_few
