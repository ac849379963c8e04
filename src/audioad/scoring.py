"""One scoring run: which segments, which thresholds, which verdicts (normal / unusual / alarm).

``audioad score``, ``watch``, ``plot``, ``report`` and ``evaluate`` and Python's
:meth:`~audioad.detectors.base.ClipDetector.score_segments` all make a :class:`ScoringRun`, so the
same recording with the same model and options gets the same segments, thresholds and verdicts
from each. The thresholds are set in one order: the normal audio the model did not learn from
(its held-out training scores, or calibration recordings), the segment threshold from it (the
model's rule, a false-alarm rate, or a value given), then the file threshold (the alarm level)
for a number of false alarms an hour. None of it is set on the detector: a loaded model is
never changed by scoring with it.
"""

from __future__ import annotations

import math

import numpy as np

from .detectors.segmented import SegmentScores, iter_segment_scores, scoring_plan, training_length
from .detectors.streaming import as_clips
from .segments import FileSummaries, parse_rule
from .thresholds import CALIBRATION, HELD_OUT, Threshold, rule_rate, segment_threshold
from .verdicts import CALIBRATE, alarm_levels, file_verdict

__all__ = ["CalibrationError", "ScoringRun", "calibration_scores", "score_segments"]


class CalibrationError(ValueError):
    """Too few segments of the calibration recordings could be scored to set thresholds from."""


def calibration_scores(detector, recordings, segment=None, hop=None):
    """Scores of the segments of normal ``recordings`` the model did not learn from, to set thresholds from.

    Raises
    ------
    CalibrationError
        Where fewer than two segments could be scored.
    """
    scores = [
        row.score
        for batch in iter_segment_scores(detector, as_clips(recordings), segment, hop)
        for row in batch
        if not row.error and np.isfinite(row.score)
    ]
    if len(scores) < 2:
        raise CalibrationError(f"{len(scores)} segment(s) of the calibration recordings could be scored; pass more")
    return np.array(scores)


class ScoringRun:
    """How a fitted detector scores recordings: which segments, which thresholds, which verdicts.

    Parameters
    ----------
    detector : ClipDetector
        Fitted; never changed.
    X : list
        Recordings in any form :func:`~audioad.audio.load_audio` accepts.
    segment, hop : float, str or None
        As in :func:`~audioad.detectors.segmented.scoring_plan`: None cuts only recordings much
        longer than the training clips, at their length.
    threshold : float or None
        The segment threshold, given.
    false_alarm_rate : float or None
        Or the share of normal segments above it.
    rule : str or VerdictRule
        When a recording raises an alarm (:func:`audioad.segments.parse_rule`).
    per_hour : float
        False alarms an hour of normal running that the file threshold is set for.
    file_threshold : float or None
        The file threshold, given.
    calibration : list or None
        Normal recordings the model did not learn from: both thresholds are set from their
        segments' scores (cut as ``X`` is) instead of the model's held-out training scores.
    normal : array-like or None
        Or such scores, computed already.

    Attributes
    ----------
    clips : list
    cuts : list
        Per recording, the ``(segment, hop)`` seconds it is cut at, or None to score it whole.
    levels : Levels
        The thresholds, each with how it was obtained (``levels.segment_threshold``,
        ``levels.file_threshold``: :class:`~audioad.thresholds.Threshold`).
    calibration : list or None
        The calibration recordings, as given.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> rng = np.random.default_rng(0)
    >>> clf = MelKNN().fit([0.1 * rng.standard_normal(16000 * 20)], segment="1s")
    >>> run = ScoringRun(clf, [0.1 * rng.standard_normal(16000 * 4)], segment="1s", false_alarm_rate=0.1)
    >>> run.levels.segment_threshold.how, len(run.result().rows)
    ('measured', 4)
    """

    def __init__(
        self, detector, X, segment=None, hop=None, threshold=None, false_alarm_rate=None, rule="any",
        per_hour=0.1, file_threshold=None, calibration=None, normal=None,
    ):  # fmt: skip
        self.detector, self.calibration = detector, calibration
        # A watch makes its run before any recording has come: X is then empty.
        self.clips = as_clips(X) if len(X) else []
        self.cuts = scoring_plan(detector, self.clips, segment, hop)
        if calibration is not None:
            normal = calibration_scores(detector, calibration, segment, hop)
        audio = HELD_OUT if normal is None else CALIBRATION
        scores = detector.decision_scores_ if normal is None else np.asarray(normal, dtype=np.float64)
        rule_name = getattr(detector, "threshold_rule", "contamination")
        if audio == HELD_OUT and threshold is None and false_alarm_rate is None:
            # The model's own threshold, set at fit by its rule on these scores.
            rate = rule_rate(rule_name, detector.contamination)
            chosen = Threshold(float(detector.threshold_), "measured", len(scores), HELD_OUT, rate)
        else:
            chosen = segment_threshold(scores, audio, threshold, false_alarm_rate, rule_name, detector.contamination)
        # With no recordings yet (a watch), the segments are the ones given.
        cuts = self.cuts if self.clips or segment is None else scoring_plan(detector, [None], segment, hop)
        hops = [how[1] for how in cuts if how is not None]
        hop_seconds = min(hops) if hops else training_length(detector, hop=True)
        self.levels = alarm_levels(scores, chosen, hop_seconds, parse_rule(rule), per_hour, file_threshold, audio)

    @property
    def segmented(self):
        """Whether any recording is cut into segments (else every one is scored whole)."""
        return any(how is not None for how in self.cuts)

    def rows(self, skip=None):
        """Each batch's :class:`~audioad.detectors.segmented.SegmentScore` rows, labelled at the segment threshold.

        ``skip`` maps a recording's index to how many of its first segments to leave out (scored
        by an earlier run).
        """
        return iter_segment_scores(self.detector, self.clips, threshold=self.levels.segment, plan=self.cuts, skip=skip)

    def summaries(self):
        """A :class:`~audioad.segments.FileSummaries` that summarises rows against this run's levels."""
        return FileSummaries(self.levels.segment, self.levels.alarm, self.levels.rule)

    def verdict(self, summary, calibrate=CALIBRATE):
        """The :class:`~audioad.verdicts.Verdict` on a recording's summary; ``calibrate`` is the advice to calibrate."""
        return file_verdict(summary, self.levels, calibrate)

    def result(self, skip=None, calibrate=CALIBRATE):
        """Score every recording: :class:`~audioad.detectors.segmented.SegmentScores`.

        ``skip`` as in :meth:`rows`, ``calibrate`` as in :meth:`verdict`.
        """
        return self.summarised((row for batch in self.rows(skip) for row in batch), calibrate)

    def summarised(self, rows, calibrate=CALIBRATE):
        """The :class:`~audioad.detectors.segmented.SegmentScores` of rows, read against this run's levels.

        ``rows`` are :class:`~audioad.detectors.segmented.SegmentScore`, recordings in order and
        segments in time order: scored by this run, or read back from a score CSV (each labelled
        again at the segment threshold; their own labels are another run's). ``calibrate`` as in
        :meth:`verdict`.
        """
        kept, files = [], []
        summaries = self.summaries()
        for row in rows:
            kept.append(row._replace(label=-1 if math.isnan(row.score) else int(row.score > self.levels.segment)))
            files.extend(summaries.add(row.clip, row.path, row.start, row.end, row.score, row.error))
        files.extend(summaries.close())
        return SegmentScores(kept, files, [self.verdict(summary, calibrate) for summary in files], self.levels)


def score_segments(
    detector, X, segment=None, hop=None, threshold=None, file_threshold=None, rule="any", per_hour=0.1, normal=None
):
    """What ``ClipDetector.score_segments`` returns, from a :class:`ScoringRun` (see there)."""
    return ScoringRun(
        detector, X, segment, hop, threshold, rule=rule, per_hour=per_hour, file_threshold=file_threshold,
        normal=normal,
    ).result()  # fmt: skip
