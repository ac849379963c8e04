"""One scoring run: which segments, which thresholds, which verdicts.

``audioad score``, ``watch`` and ``plot`` and Python's ``score_segments`` set their thresholds here,
in one order: the normal audio the model did not learn from (its held-out training scores, or
calibration recordings), the segment threshold, then the file threshold (alarm level).
"""

from __future__ import annotations

import numpy as np

from .thresholds import false_alarm_threshold

__all__ = ["calibration_scores", "segment_threshold"]


def calibration_scores(detector, recordings, segment=None, hop=None):
    """Scores of the segments of normal ``recordings`` the model did not learn from, to set thresholds from.

    Raises
    ------
    ValueError
        Where fewer than two segments could be scored.
    """
    result = detector.score_segments(recordings, segment=segment, hop=hop)
    scores = np.array([row.score for row in result.rows if not row.error and np.isfinite(row.score)])
    if len(scores) < 2:
        raise ValueError(f"{len(scores)} segment(s) of normal audio could be scored; pass more")
    return scores


def segment_threshold(detector, threshold=None, false_alarm_rate=None, normal=None):
    """The segment threshold: ``threshold``, the ``false_alarm_rate`` quantile of normal scores, or the model's.

    ``normal`` are scores of normal audio the model did not learn from; None: its held-out training scores.

    Raises
    ------
    ValueError
        Where both ``threshold`` and ``false_alarm_rate`` are given.
    """
    if threshold is not None and false_alarm_rate is not None:
        raise ValueError("a threshold and a false-alarm rate both set the segment threshold: give one of them")
    if threshold is not None:
        return float(threshold)
    if false_alarm_rate is not None:
        return false_alarm_threshold(detector.decision_scores_ if normal is None else normal, false_alarm_rate)
    return float(detector.threshold_)
