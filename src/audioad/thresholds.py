"""Decision thresholds learned from the anomaly scores of normal training clips.

A detector scores its own training clips after fitting; a threshold turns later scores into
normal/anomalous decisions. Two rules are in use in the field:

- ``'contamination'``: PyOD's rule. The top ``contamination`` fraction of training scores lies above
  the threshold (``BaseDetector._process_decision_scores``).
- ``'gamma'``: the DCASE task 2 baselines' rule (2020-2025). Fit a gamma distribution to the
  training scores and take its ``quantile`` (0.9 in every baseline) as the threshold.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy import stats

RULES = ("contamination", "gamma")


class ThresholdFallbackWarning(UserWarning):
    """A threshold rule could not be applied as asked and another one was used; the message says which and why."""


def check_scores(scores, *, name: str = "scores") -> np.ndarray:
    """Return anomaly scores as a 1-D float array, refusing empty or non-finite input.

    Parameters
    ----------
    scores : array-like of shape (n_clips,)
        One anomaly score per clip.
    name : str, default 'scores'
        What the scores are called in error messages.

    Returns
    -------
    scores : ndarray of shape (n_clips,), float64

    Raises
    ------
    ValueError
        If there are no scores, they are not 1-D, or some are NaN or infinite (the message
        names how many and at which clip indices).

    Examples
    --------
    >>> check_scores([0.5, 1, 2.5])
    array([0.5, 1. , 2.5])
    >>> check_scores([0.5, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: 1 of 2 scores are not finite (NaN or inf), at clips [1]; ...
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one score per clip); got shape {scores.shape}")
    if scores.size == 0:
        raise ValueError(f"{name} is empty; score at least one clip first")
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        shown = ", ".join(map(str, bad[:10])) + (", ..." if bad.size > 10 else "")
        raise ValueError(
            f"{bad.size} of {scores.size} {name} are not finite (NaN or inf), at clips [{shown}]; "
            "a silent or too-short clip is the usual cause: drop those clips or check their features"
        )
    return scores


def contamination_threshold(train_scores, contamination: float = 0.1) -> float:
    """Threshold above which the top ``contamination`` fraction of training scores lies (PyOD's rule).

    Equal to ``np.percentile(train_scores, 100 * (1 - contamination))``, the threshold that
    ``pyod.models.base.BaseDetector`` sets as ``threshold_``.

    Parameters
    ----------
    train_scores : array-like of shape (n_clips,)
        Anomaly scores of the (normal) training clips; higher = more abnormal.
    contamination : float, default 0.1
        Expected fraction of anomalous clips, in (0, 0.5] as PyOD requires.

    Returns
    -------
    threshold : float

    Examples
    --------
    >>> contamination_threshold([1.0, 2.0, 3.0, 4.0, 5.0], contamination=0.25)
    4.0
    """
    scores = check_scores(train_scores, name="train_scores")
    if not 0.0 < contamination <= 0.5:
        raise ValueError(
            f"contamination must be in (0, 0.5] (the expected fraction of anomalous clips); got {contamination!r}"
        )
    return float(np.percentile(scores, 100 * (1 - contamination)))


def gamma_threshold(train_scores, quantile: float = 0.9) -> float:
    """Threshold at a quantile of a gamma distribution fitted to training scores (DCASE baselines' rule).

    Equal to ``scipy.stats.gamma.ppf(quantile, *scipy.stats.gamma.fit(train_scores))``: shape,
    location and scale are all fitted, exactly as the DCASE 2020-2025 task 2 baselines do. Because
    the location is fitted, scores that are zero or negative (log-likelihoods, say) need no shift.

    All scores equal give that score, silently: every quantile of a point mass is the point, as it
    is the limit of a gamma whose scale shrinks to nothing. Where no gamma describes the scores the
    rule falls back instead of returning nonsense, and says so with a
    :class:`ThresholdFallbackWarning`: when the fit fails (``scipy.stats.FitError``), gives a
    non-finite threshold, or puts its support above some training scores (an optimiser that
    stopped early), the threshold is the empirical ``quantile`` of the scores,
    ``np.quantile(train_scores, quantile)``.

    Parameters
    ----------
    train_scores : array-like of shape (n_clips,)
        Anomaly scores of the (normal) training clips; higher = more abnormal.
    quantile : float, default 0.9
        Quantile of the fitted distribution, in (0, 1); the DCASE baselines use 0.9.

    Returns
    -------
    threshold : float

    Warns
    -----
    ThresholdFallbackWarning
        When the empirical quantile stands in for the gamma fit; the message says why.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.random.default_rng(0).gamma(shape=2.0, scale=1.0, size=500)
    >>> round(gamma_threshold(scores, quantile=0.9), 2)
    3.62
    >>> gamma_threshold([3.0, 3.0, 3.0])
    3.0
    """
    scores = check_scores(train_scores, name="train_scores")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), e.g. 0.9 as the DCASE baselines use; got {quantile!r}")
    if np.ptp(scores) == 0:
        return float(scores[0])
    try:
        shape, loc, scale = stats.gamma.fit(scores)
    except stats.FitError as exc:
        return _empirical_fallback(scores, quantile, f"the gamma fit failed ({exc})")
    threshold = stats.gamma.ppf(quantile, shape, loc=loc, scale=scale)
    if not np.isfinite(threshold):
        return _empirical_fallback(
            scores,
            quantile,
            f"the fitted gamma (shape {shape:.4g}, loc {loc:.4g}, scale {scale:.4g}) gives {threshold}",
        )
    if not loc < scores.min():
        return _empirical_fallback(
            scores,
            quantile,
            f"the fitted gamma's support starts at {loc:.6g}, at or above the lowest training score {scores.min():.6g}",
        )
    return float(threshold)


def _empirical_fallback(scores, quantile, why):
    """The empirical ``quantile`` of ``scores``, with a warning that says why the gamma fit was not used."""
    warnings.warn(
        f"gamma threshold: {why}; using the empirical {quantile:g} quantile of the {scores.size} training "
        "scores instead",
        ThresholdFallbackWarning,
        # Past this helper and gamma_threshold: the line that asked for the threshold.
        stacklevel=3,
    )
    return float(np.quantile(scores, quantile))


def threshold(train_scores, rule: str = "contamination", *, contamination: float = 0.1, quantile: float = 0.9) -> float:
    """Threshold of training scores by the named rule; what a detector's ``threshold_rule`` selects.

    Parameters
    ----------
    train_scores : array-like of shape (n_clips,)
        Anomaly scores of the (normal) training clips; higher = more abnormal.
    rule : {'contamination', 'gamma'}, default 'contamination'
        ``'contamination'`` calls :func:`contamination_threshold` (PyOD's rule),
        ``'gamma'`` calls :func:`gamma_threshold` (the DCASE baselines' rule).
    contamination : float, default 0.1
        Used by the ``'contamination'`` rule only.
    quantile : float, default 0.9
        Used by the ``'gamma'`` rule only.

    Returns
    -------
    threshold : float

    Examples
    --------
    >>> threshold([1.0, 2.0, 3.0, 4.0, 5.0], rule="contamination", contamination=0.25)
    4.0
    >>> threshold([2.0, 2.0], rule="gamma")
    2.0
    """
    if rule == "contamination":
        return contamination_threshold(train_scores, contamination=contamination)
    if rule == "gamma":
        return gamma_threshold(train_scores, quantile=quantile)
    raise ValueError(f"unknown threshold rule {rule!r}; use one of {', '.join(map(repr, RULES))}")


def false_alarm_threshold(train_scores, rate: float) -> float:
    """Threshold that normal audio exceeds at the share ``rate`` of its segments (or clips): a false-alarm rate.

    ``train_scores`` are scores of normal audio the detector did not learn from (a detector's
    held-out training scores, ``decision_scores_``). Where ``rate`` is at least one score in
    ``len(train_scores)``, the threshold is their empirical ``1 - rate`` quantile. Rarer rates
    lie beyond the scores seen: the tail is extrapolated by a gamma fit
    (:func:`gamma_threshold` at ``1 - rate``), and never set below the highest score seen. Such
    a threshold is an estimate; more normal audio makes it a measurement.

    Parameters
    ----------
    train_scores : array-like of shape (n,)
        Scores of held-out normal audio.
    rate : float
        False alarms per scored segment, in (0, 1): 0.01 is one segment in a hundred.

    Returns
    -------
    threshold : float

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.random.default_rng(0).gamma(shape=2.0, scale=1.0, size=1000)
    >>> round(false_alarm_threshold(scores, 0.1), 2), round(false_alarm_threshold(scores, 1e-5), 2)
    (3.85, 14.19)
    """
    scores = check_scores(train_scores, name="train_scores")
    if not 0.0 < rate < 1.0:
        raise ValueError(f"a false-alarm rate must be in (0, 1), e.g. 0.01 for one segment in a hundred; got {rate!r}")
    if rate * scores.size >= 1.0:
        return float(np.quantile(scores, 1.0 - rate))
    return max(gamma_threshold(scores, quantile=1.0 - rate), float(scores.max()))


def file_threshold(train_scores, per_hour: float, hop_seconds: float, k: int = 1, n: int = 1) -> float:
    """Threshold for the file verdict: normal audio raises ``per_hour`` false alarms an hour under "k of n segments".

    An hour holds ``3600 / hop_seconds`` segments; with each segment above the threshold at rate
    ``p``, the rule "k of n consecutive segments above it" holds by chance at about
    ``segments * C(n, k) * p**k`` places an hour, taking segments to be independent (they
    are not quite: a machine's state lasts, so the true rate is lower for k = 1 and may be
    higher for k > 1). The threshold is :func:`false_alarm_threshold` at the ``p`` that makes
    this ``per_hour``.

    Parameters
    ----------
    train_scores : array-like
        Scores of held-out normal segments (``decision_scores_`` of a model fitted on segments).
    per_hour : float
        False file alarms allowed per hour of normal audio, e.g. 0.01 (one in 100 hours).
    hop_seconds : float
        Time between segment starts.
    k, n : int
        The verdict rule (1, 1 for "any segment").

    Returns
    -------
    threshold : float

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.random.default_rng(0).gamma(shape=2.0, scale=1.0, size=1000)
    >>> any_segment = file_threshold(scores, per_hour=0.01, hop_seconds=10)
    >>> two_of_three = file_threshold(scores, per_hour=0.01, hop_seconds=10, k=2, n=3)
    >>> bool(any_segment > two_of_three > false_alarm_threshold(scores, 0.1))
    True
    """
    return false_alarm_threshold(train_scores, file_segment_rate(per_hour, hop_seconds, k, n))


def file_segment_rate(per_hour: float, hop_seconds: float, k: int = 1, n: int = 1) -> float:
    """Share of normal segments above the file threshold that gives ``per_hour`` false verdicts an hour.

    The segment rate behind :func:`file_threshold` (see there), at most 0.5. Where it is below
    one in the number of held-out scores, the threshold is an extrapolation.

    Examples
    --------
    >>> round(1 / file_segment_rate(per_hour=0.1, hop_seconds=10))  # one segment in 3,600
    3600
    """
    if not per_hour > 0 or not hop_seconds > 0:
        raise ValueError(f"per_hour and hop_seconds must be positive, got {per_hour!r} and {hop_seconds!r}")
    if not 1 <= k <= n:
        raise ValueError(f"the rule needs 1 <= k <= n, got k={k!r}, n={n!r}")
    segments = 3600.0 / hop_seconds
    return min((per_hour / (segments * math.comb(n, k))) ** (1.0 / k), 0.5)


#: Which normal audio a threshold's scores are of: what the model held out at fit, or recordings to calibrate on.
HELD_OUT = "held-out training audio"
CALIBRATION = "calibration recordings"


class Threshold(NamedTuple):
    """A threshold and how it was obtained.

    Attributes
    ----------
    value : float
    how : {'given', 'measured', 'extrapolated'}
        Given by the caller; measured (a quantile within the normal scores, or a rule fitted to
        them); or extrapolated beyond the highest of them (an estimate: more normal audio makes
        it a measurement).
    n_scores : int
        How many normal scores (segments, or clips) it was obtained from; 0 where given.
    audio : str
        Which audio they are scores of: :data:`HELD_OUT` or :data:`CALIBRATION`; ``""`` where given.
    rate : float or None
        The share of normal scores above it that it was set for (a false-alarm rate, or the
        contamination of the contamination rule); None where given or fitted by another rule.

    Examples
    --------
    >>> str(Threshold(1.605, "measured", 17, CALIBRATION))
    '1.605 (measured on 17 segments of the calibration recordings)'
    >>> str(Threshold(2.0, "given", 0, ""))
    '2 (given)'
    >>> Threshold(1.2, "measured", 5, CALIBRATION, rate=0.1).too_few
    True
    """

    value: float
    how: str
    n_scores: int
    audio: str
    rate: float | None = None

    @property
    def too_few(self):
        """Whether it was measured on fewer scores than one in ``rate`` needs: 1 in 10 cannot be measured on 5.

        On so few, a quantile lies between the highest scores, and new normal audio passes it more
        often than ``rate`` (``benchmarks/false_alarms.py`` measures it for calibration recordings).
        An extrapolated threshold (a false-alarm rate rarer than the scores show) is not measured.
        """
        return self.how == "measured" and self.rate is not None and self.rate * self.n_scores < 1

    def __str__(self):
        if self.how == "given":
            return f"{self.value:.4g} (given)"
        on = "on" if self.how == "measured" else "from"
        return f"{self.value:.4g} ({self.how} {on} {self.n_scores} segments of the {self.audio})"


def segment_threshold(
    normal, audio=HELD_OUT, given=None, false_alarm_rate=None, rule="contamination", contamination=0.1
):
    """The segment threshold, with how it was obtained: given, at a false-alarm rate, or by a detector's rule.

    Parameters
    ----------
    normal : array-like
        Scores of normal audio the model did not learn from.
    audio : str
        Which audio ``normal`` is of (:data:`HELD_OUT` or :data:`CALIBRATION`).
    given : float or None
        A threshold chosen already.
    false_alarm_rate : float or None
        The share of normal segments above the threshold (:func:`false_alarm_threshold`).
    rule, contamination
        Where neither is given: :func:`threshold` of ``normal`` by this rule (a detector's
        ``threshold_rule`` and ``contamination``).

    Returns
    -------
    Threshold

    Examples
    --------
    >>> import numpy as np
    >>> normal = np.linspace(0.0, 1.0, 101)
    >>> str(segment_threshold(normal, CALIBRATION, false_alarm_rate=0.1))
    '0.9 (measured on 101 segments of the calibration recordings)'
    >>> segment_threshold(normal, false_alarm_rate=0.001).how
    'extrapolated'
    """
    if given is not None and false_alarm_rate is not None:
        raise ValueError("a threshold and a false-alarm rate both set the segment threshold: give one of them")
    if given is not None:
        return Threshold(float(given), "given", 0, "")
    scores = check_scores(normal, name="normal scores")
    if false_alarm_rate is not None:
        value = false_alarm_threshold(scores, false_alarm_rate)
        how = "measured" if false_alarm_rate * scores.size >= 1.0 else "extrapolated"
        return Threshold(value, how, scores.size, audio, false_alarm_rate)
    value = threshold(scores, rule, contamination=contamination)
    return Threshold(value, "measured", scores.size, audio, rule_rate(rule, contamination))


def rule_rate(rule, contamination):
    """The share of normal scores a rule sets its threshold for: ``contamination`` for the contamination rule,
    None for a rule fitted to the scores (``gamma``).

    Examples
    --------
    >>> rule_rate("contamination", 0.1), rule_rate("gamma", 0.1)
    (0.1, None)
    """
    return contamination if rule == "contamination" else None


def alarm_threshold(normal, segment, hop_seconds, per_hour=0.1, k=1, n=1, audio=HELD_OUT):
    """The file threshold (alarm level) for ``per_hour`` false alarms under "k of n segments", with how it was obtained.

    :func:`file_threshold`, never below the ``segment`` threshold (an alarm on segments not
    labelled anomalous would read as nonsense); the segment threshold where ``hop_seconds`` is
    None (no segments an hour to count).

    Returns
    -------
    Threshold

    Examples
    --------
    >>> import numpy as np
    >>> normal = np.linspace(0.0, 1.0, 400)
    >>> segment = segment_threshold(normal, false_alarm_rate=0.1)
    >>> alarm_threshold(normal, segment, hop_seconds=10.0, per_hour=3.6).how
    'measured'
    >>> alarm_threshold(normal, segment, hop_seconds=10.0, per_hour=0.1).how
    'extrapolated'
    """
    scores = check_scores(normal, name="normal scores")
    if not hop_seconds:
        return segment
    rate = file_segment_rate(per_hour, hop_seconds, k, n)
    value = false_alarm_threshold(scores, rate)
    if value <= segment.value:
        return segment
    return Threshold(value, "measured" if rate * scores.size >= 1.0 else "extrapolated", scores.size, audio)
