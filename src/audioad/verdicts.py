"""Plain verdicts on a scored recording: normal, unusual (review it), or alarm, with the reason and what to do.

A score means nothing to the person who looks after the machine; what they need is one of three
states, the reason in one line with times as h:mm:ss, and what to do next:

- **alarm**: the verdict rule holds over segments above the alarm level (the file threshold), set
  for a rare false alarm (0.1 an hour of normal running by default).
- **unusual, review it**: no alarm, but a segment scores above every segment of normal audio the
  model held out, so the model has never seen normal running sound like it; the alarm level it
  stays below is often a guess (extrapolated from a few minutes of normal audio). Or the segment
  threshold does not fit the recording at all: far more of its segments are above it than normal
  audio has (another microphone, place or load).
- **normal**: neither.

:func:`alarm_levels` sets the levels from held-out normal scores and says how they were set;
:func:`file_verdict` reads a :class:`~audioad.segments.FileSummary` against them. ``audioad score``,
``watch`` and ``plot`` print these verdicts, and ``score_segments`` returns them: the same words in
Python and on the command line.

Examples
--------
>>> import numpy as np
>>> from audioad.segments import summarize
>>> normal = np.linspace(0.0, 1.0, 12)  # 12 held-out normal segments of 10 s: 2 minutes
>>> levels = alarm_levels(normal, segment_threshold=0.9, hop=10.0)
>>> starts = np.arange(0, 900, 10.0)
>>> scores = np.full(90, 0.2)
>>> scores[42] = 1.5  # 0:07:00
>>> summary = summarize(0, "motor.wav", starts, starts + 10, scores, levels.segment, levels.alarm)
>>> print(file_verdict(summary, levels).line("motor.wav"))  # doctest: +NORMALIZE_WHITESPACE
motor.wav: unusual, review it: 0:07:00-0:07:10 scores 1.5, higher than all 12 segments of normal
running the model was tested on (up to 1); the alarm level 1.58 is a guess from their 2 minutes. Next: listen to
0:07:00-0:07:10; to settle the alarm level, record 20 more minutes of normal running and fit again,
or set the thresholds from a normal recording the model did not learn from.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .segments import parse_rule
from .thresholds import CALIBRATION, HELD_OUT, Threshold, alarm_threshold, file_segment_rate

__all__ = [
    "NORMAL",
    "UNUSUAL",
    "ALARM",
    "NOT_SCORED",
    "Levels",
    "Verdict",
    "alarm_levels",
    "file_verdict",
    "hms",
    "unusual_segment",
]

NORMAL, UNUSUAL, ALARM, NOT_SCORED = "normal", "unusual", "alarm", "not scored"

# How each state is written at the head of a verdict line.
_HEADS = {NORMAL: "normal", UNUSUAL: "unusual, review it", ALARM: "ALARM", NOT_SCORED: "not scored"}

#: What the advice says where a caller has no other way to calibrate to offer.
CALIBRATE = "set the thresholds from a normal recording the model did not learn from"

# The segment threshold does not fit a recording when more than this many times the share of
# normal audio above it is above it (and at least _UNFIT_SEGMENTS segments, at least _UNFIT_SHARE
# of them): normal audio's share is a rate, and a few segments over it are chance.
_UNFIT_FACTOR, _UNFIT_SEGMENTS, _UNFIT_SHARE = 3.0, 5, 0.2

# More normal audio to record: at least as much again as there is (the extrapolation's error
# shrinks with the number of scores), and at least this many minutes.
_MORE_MINUTES = 20


def hms(seconds):
    """Seconds as ``h:mm:ss``, the way a person reads a time into a recording; tenths where not whole.

    Examples
    --------
    >>> hms(420.0), hms(3725.4), hms(14.5), hms(float("nan"))
    ('0:07:00', '1:02:05.4', '0:00:14.5', '?')
    """
    if not math.isfinite(seconds):
        return "?"
    tenths = int(round(seconds * 10))
    whole, tenth = divmod(tenths, 10)
    fraction = f".{tenth}" if tenth else ""
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}{fraction}"


def _number(value):
    return f"{value:.3g}"


class Levels(NamedTuple):
    """The levels a recording's verdict is read against, and what they were set from.

    Attributes
    ----------
    segment : float
        The segment threshold: a segment above it is labelled 1.
    alarm : float
        The alarm level (file threshold): segments above it count for the rule.
    rule : VerdictRule
        When a recording raises an alarm (:func:`audioad.segments.parse_rule`).
    normal : numpy.ndarray
        Scores of normal audio the model did not learn from (held out at fit, or calibration).
    rate : float
        The share of normal segments above ``alarm`` it was set for; 1.0 where no rate set it.
    hop : float or None
        Seconds between segments, where known.
    audio : str
        Which audio ``normal`` is of: :data:`~audioad.thresholds.HELD_OUT` or
        :data:`~audioad.thresholds.CALIBRATION`.
    segment_threshold, file_threshold : Threshold or None
        ``segment`` and ``alarm`` with how each was obtained (:class:`~audioad.thresholds.Threshold`).
    """

    segment: float
    alarm: float
    rule: object
    normal: np.ndarray
    rate: float
    hop: float | None
    audio: str = HELD_OUT
    segment_threshold: Threshold | None = None
    file_threshold: Threshold | None = None

    @property
    def guessed(self):
        """Whether the alarm level lies beyond the normal scores seen: an extrapolation, not a measurement.

        Not where the extrapolation fell below the segment threshold, which then sets the alarm level.
        """
        return self.rate * len(self.normal) < 1 and self.alarm > self.segment

    @property
    def normal_minutes(self):
        """Minutes of normal audio behind the levels, where the hop is known."""
        return None if not self.hop else len(self.normal) * self.hop / 60

    @property
    def normal_share(self):
        """Share of the normal segments above the segment threshold."""
        return float(np.mean(self.normal > self.segment)) if len(self.normal) else 0.0

    def more_minutes(self):
        """Minutes of normal running to record to firm up a guessed alarm level (see the module's notes)."""
        return max(_MORE_MINUTES, math.ceil(self.normal_minutes or 0))

    def note(self):
        """One line on how the alarm level was set, or ``""`` where it was measured."""
        if not self.guessed:
            return ""
        minutes = self.normal_minutes
        audio = f"{len(self.normal)} segments ({minutes:.0f} min)" if minutes else f"{len(self.normal)} segments"
        return (
            f"alarm level {_number(self.alarm)} is a guess: the score normal running would pass once in "
            f"{1 / self.rate:,.0f} segments, extrapolated from {audio} of the {self.audio}"
        )


def alarm_levels(normal, segment_threshold, hop, rule="any", per_hour=0.1, alarm=None, audio=HELD_OUT):
    """The :class:`Levels` for a rule: the alarm level set for ``per_hour`` false alarms an hour.

    Parameters
    ----------
    normal : array-like
        Scores of normal audio the model did not learn from (``decision_scores_``, or calibration).
    segment_threshold : float or Threshold
        The segment threshold (a float: given).
    hop : float or None
        Seconds between segments. None (a model file that does not say): the alarm level is the
        segment threshold.
    rule : str or VerdictRule
    per_hour : float
        False alarms allowed per hour of normal running (:func:`audioad.thresholds.file_threshold`).
    alarm : float or None
        An alarm level chosen already; None sets it from ``per_hour``
        (:func:`audioad.thresholds.alarm_threshold`).
    audio : str
        Which audio ``normal`` is of: :data:`~audioad.thresholds.HELD_OUT` or
        :data:`~audioad.thresholds.CALIBRATION`.

    Returns
    -------
    Levels
        The alarm level is never below the segment threshold: an alarm on segments not labelled
        anomalous would read as nonsense.

    Examples
    --------
    >>> levels = alarm_levels(np.linspace(0, 1, 400), 0.9, hop=10.0, per_hour=3.6)
    >>> round(levels.alarm, 3), levels.guessed
    (0.99, False)
    """
    rule = parse_rule(rule)
    normal = np.asarray(normal, dtype=np.float64)
    segment = segment_threshold
    if not isinstance(segment, Threshold):
        segment = Threshold(float(segment), "given", 0, "")
    if alarm is not None:
        rate = float(np.mean(normal > alarm)) if len(normal) else 1.0
        rate = max(rate, 1.0 / max(len(normal), 1))
        return Levels(
            segment.value,
            float(alarm),
            rule,
            normal,
            rate,
            hop,
            audio,
            segment,
            Threshold(float(alarm), "given", 0, ""),
        )
    if not hop:
        return Levels(segment.value, segment.value, rule, normal, 1.0, None, audio, segment, segment)
    rate = file_segment_rate(per_hour, hop, rule.k, rule.n)
    level = alarm_threshold(normal, segment, hop, per_hour, rule.k, rule.n, audio)
    return Levels(segment.value, level.value, rule, normal, rate, float(hop), audio, segment, level)


class Verdict(NamedTuple):
    """A recording's verdict in words.

    Attributes
    ----------
    state : {"normal", "unusual", "alarm", "not scored"}
    reason : str
        Why, in one line, times as h:mm:ss.
    advice : str
        What to do next; empty where nothing is to be done.
    """

    state: str
    reason: str
    advice: str

    @property
    def head(self):
        """The state as a verdict line starts with it: ``ALARM``, ``unusual, review it``, ``normal``, ``not scored``."""
        return _HEADS[self.state]

    def line(self, name):
        """``name: STATE: reason. Next: advice.`` on one line."""
        advice = f" Next: {self.advice}." if self.advice else ""
        return f"{name}: {self.head}: {self.reason}.{advice}"


def _unfit(summary, levels):
    """Whether far more of the recording's segments are above the segment threshold than normal audio's."""
    share = summary.n_above / summary.n_segments
    return summary.n_above >= _UNFIT_SEGMENTS and share > _UNFIT_SHARE and share > _UNFIT_FACTOR * levels.normal_share


def file_verdict(summary, levels, calibrate=CALIBRATE):
    """The :class:`Verdict` on a recording's :class:`~audioad.segments.FileSummary`, read against ``levels``.

    Parameters
    ----------
    summary : FileSummary
        Summarised with ``levels.segment`` and ``levels.alarm`` and ``levels.rule``.
    levels : Levels
    calibrate : str
        How to set the thresholds from normal audio, as the caller offers it (the command line names
        its option).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> from audioad.segments import summarize
    >>> levels = alarm_levels(np.linspace(0, 1, 400), 0.9, hop=10.0, per_hour=3.6)
    >>> starts = np.arange(0, 3600, 10.0)
    >>> half = summarize(0, "a.wav", starts, starts + 10, np.tile([0.2, 0.95], 180), 0.9, levels.alarm)
    >>> print(file_verdict(half, levels).reason)  # doctest: +NORMALIZE_WHITESPACE
    the segment threshold 0.9 does not fit this recording: 180 of 360 segments (50%) are above it,
    where normal running has 10%
    """
    if summary.n_segments == 0:
        return Verdict(NOT_SCORED, summary.error or "no segment could be scored", "check the file")
    worst = f"{hms(summary.worst_start)}-{hms(summary.worst_end)}"
    highest = float(np.max(levels.normal)) if len(levels.normal) else math.inf
    above = (
        f"{summary.n_above} of {summary.n_segments} segments ({summary.n_above / summary.n_segments:.0%}) "
        "are above {}, where normal running has "
        f"{levels.normal_share:.0%}"
    )
    unfit = _unfit(summary, levels)
    calibrated = levels.audio == CALIBRATION
    tested = "in the calibration recordings" if calibrated else "the model was tested on"
    if calibrated:
        calibrate = "calibrate on normal recordings like it"
    stopped = f"; the file stopped at {summary.error}" if summary.error else ""
    if summary.flagged:
        rule = "" if (levels.rule.k, levels.rule.n) == (1, 1) else f" ({levels.rule.k} of {levels.rule.n} segments)"
        reason = (
            f"from {hms(summary.flagged_at)} the sound is far from normal running{rule}: worst {worst} scores "
            f"{_number(summary.worst_score)}, above the alarm level {_number(levels.alarm)} (normal running scores "
            f"up to {_number(highest)})"
        )
        if unfit:
            reason += "; " + above.format(f"the segment threshold {_number(levels.segment)}")
        return Verdict(ALARM, reason + stopped, f"listen to {worst} and inspect the machine")
    if unfit:
        reason = f"the segment threshold {_number(levels.segment)} does not fit this recording: " + above.format("it")
        advice = (
            "if the machine ran normally, this recording differs from the training audio (microphone, place, "
            f"speed or load): fit on recordings like it, or {calibrate}"
        )
        return Verdict(UNUSUAL, reason + stopped, advice)
    if summary.worst_score > highest:
        reason = (
            f"{worst} scores {_number(summary.worst_score)}, higher than all {len(levels.normal)} segments of "
            f"normal running {tested} (up to {_number(highest)})"
        )
        if levels.guessed:
            minutes = levels.normal_minutes
            audio = f"their {minutes:.0f} minutes" if minutes else "them"
            reason += f"; the alarm level {_number(levels.alarm)} is a guess from {audio}"
            more = f"record {levels.more_minutes()} more minutes of normal running and "
            more += "add them to the calibration recordings" if calibrated else f"fit again, or {calibrate}"
            advice = f"listen to {worst}; to settle the alarm level, {more}"
        else:
            reason += f", but below the alarm level {_number(levels.alarm)} or too briefly for the rule"
            advice = f"listen to {worst}"
        return Verdict(UNUSUAL, reason + stopped, advice)
    some = ", as normal running has some" if summary.n_above else ""
    reason = (
        f"{summary.n_above} of {summary.n_segments} segments above the segment threshold "
        f"{_number(levels.segment)}{some}; worst {worst} scores {_number(summary.worst_score)}, within normal "
        f"running's scores (up to {_number(highest)})"
    )
    return Verdict(NORMAL, reason + stopped, "")


def unusual_segment(start, end, score, levels):
    """The reason a lone segment is unusual (above every held-out normal score, below the alarm level), or ``""``.

    What ``audioad watch`` prints for a segment that raises no alert.

    Examples
    --------
    >>> levels = alarm_levels(np.linspace(0, 1, 12), 0.9, hop=10.0)
    >>> unusual_segment(420.0, 430.0, 1.5, levels)  # doctest: +ELLIPSIS
    '0:07:00-0:07:10 scores 1.5, higher than all normal running ... (up to 1), below the alarm level 1.58; listen to it'
    >>> unusual_segment(0.0, 10.0, 0.5, levels)
    ''
    """
    highest = float(np.max(levels.normal)) if len(levels.normal) else math.inf
    if not (highest < score <= levels.alarm):
        return ""
    return (
        f"{hms(start)}-{hms(end)} scores {_number(score)}, higher than all normal running the model was tested "
        f"on (up to {_number(highest)}), below the alarm level {_number(levels.alarm)}; listen to it"
    )
