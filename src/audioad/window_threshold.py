"""A threshold for window scores, calibrated on normal windows the detector has not learned from.

A clip's threshold is for clip scores: a clip's score pools its windows (a mean, the mean of the
worst tenth), so most windows of a normal clip score above the clip threshold or below it for
reasons that say nothing about the window. Window scores need their own reference: the score
that normal windows exceed at a stated rate. :func:`calibrate_window_threshold` measures it on
normal clips held out from training and stores it on the detector as ``window_threshold_``
(saved with the model), so "above normal" means the same in every plot. Every window threshold
is set by :func:`set_window_threshold`: these functions, and an
:class:`~audioad.detectors.ensemble.Ensemble` from the held-out windows of its frame detector at fit.
"""

from __future__ import annotations

import numpy as np

from .thresholds import false_alarm_threshold

__all__ = [
    "set_window_threshold",
    "calibrate_window_threshold",
    "held_out_window_threshold",
    "WINDOW_FALSE_ALARM_RATE",
    "HELD_OUT_SHARE",
]

#: Share of normal windows above the window threshold, unless another is asked for.
WINDOW_FALSE_ALARM_RATE = 0.01
#: Share of the training clips :func:`held_out_window_threshold` holds out (the last ones).
HELD_OUT_SHARE = 0.2


def set_window_threshold(detector, windows, false_alarm_rate=WINDOW_FALSE_ALARM_RATE):
    """Set ``detector.window_threshold_``: the score that ``false_alarm_rate`` of normal windows exceed.

    Parameters
    ----------
    detector : ClipDetector
        The detector whose window scores these are.
    windows : list of numpy.ndarray
        Window scores of normal clips the detector (or the model that scored them) did not learn
        from, one array a clip.
    false_alarm_rate : float
        Share of normal windows above the threshold, in (0, 1).

    Returns
    -------
    float
        The threshold, also stored as ``detector.window_threshold_`` with the rate as
        ``detector.window_false_alarm_rate_``.

    Raises
    ------
    ValueError
        Where ``windows`` hold no score.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import WindowKNN
    >>> detector = WindowKNN()
    >>> set_window_threshold(detector, [np.arange(50.0), np.arange(50.0, 100.0)], 0.1)
    89.1
    >>> detector.window_false_alarm_rate_
    0.1
    """
    scores = np.concatenate(windows) if len(windows) else np.empty(0)
    if scores.size == 0:
        raise ValueError("the normal clips gave no window scores; pass normal clips at least one window long")
    detector.window_threshold_ = float(false_alarm_threshold(scores, false_alarm_rate))
    detector.window_false_alarm_rate_ = float(false_alarm_rate)
    return detector.window_threshold_


def calibrate_window_threshold(detector, normal_clips, false_alarm_rate=WINDOW_FALSE_ALARM_RATE):
    """Set ``detector.window_threshold_``: the window score normal windows exceed at ``false_alarm_rate``.

    Parameters
    ----------
    detector : ClipDetector
        A fitted detector that scores windows (``scores_windows``).
    normal_clips : list
        Normal clips the detector was *not* fitted on (a held-out part of the training
        recordings, the normal test clips): a nearest-neighbour detector gives its own training
        windows a distance of zero.
    false_alarm_rate : float
        Share of normal windows above the threshold, in (0, 1).

    Returns
    -------
    float
        The threshold, also stored as ``detector.window_threshold_`` with the rate as
        ``detector.window_false_alarm_rate_``.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import WindowKNN
    >>> clips = [0.1 * np.random.default_rng(s).standard_normal(16000) for s in range(8)]
    >>> detector = WindowKNN(max_windows=200).fit(clips[:5])
    >>> threshold = calibrate_window_threshold(detector, clips[5:], false_alarm_rate=0.05)
    >>> frames = detector.frame_scores(clips[5:])
    >>> above = np.mean(np.concatenate([f.scores for f in frames]) > threshold)
    >>> bool(0.0 < above <= 0.06), detector.window_threshold_ == threshold
    (True, True)
    """
    if not getattr(detector, "scores_windows", False):
        raise TypeError(f"{type(detector).__name__} scores whole clips; it has no window scores to calibrate")
    frames = detector.frame_scores(list(normal_clips))
    return set_window_threshold(detector, [f.scores for f in frames], false_alarm_rate)


def held_out_window_threshold(detector, training_clips, false_alarm_rate=WINDOW_FALSE_ALARM_RATE):
    """Set ``detector.window_threshold_`` from its own training clips, when no other normal clips are at hand.

    A copy of the detector (same parameters) is fitted on the first clips, all but the last
    :data:`HELD_OUT_SHARE`, and scores the windows of those last ones, which it has not heard;
    the threshold is theirs, as :attr:`threshold_` comes from held-out clips. Consecutive clips
    are held out together, so that clips cut from one recording mostly stay on one side. It
    costs one more fit on four fifths of the clips.

    Parameters
    ----------
    detector : ClipDetector
        Fitted on ``training_clips``, scoring windows.
    training_clips : list
        The clips it was fitted on, in the same order; at least 5 (2 to fit, 1 to hold out).
    false_alarm_rate : float
        Share of normal windows above the threshold, in (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import WindowKNN
    >>> clips = [0.1 * np.random.default_rng(s).standard_normal(16000) for s in range(10)]
    >>> detector = WindowKNN(max_windows=200).fit(clips)
    >>> threshold = held_out_window_threshold(detector, clips)
    >>> detector.window_threshold_ == threshold, detector.window_false_alarm_rate_
    (True, 0.01)
    """
    from sklearn.base import clone

    clips = list(training_clips)
    if len(clips) < 5:
        raise ValueError(f"a held-out window threshold needs at least 5 training clips, got {len(clips)}")
    n_held = max(1, int(round(HELD_OUT_SHARE * len(clips))))
    copy = clone(detector).fit(clips[:-n_held])
    if not getattr(copy, "scores_windows", False):
        raise TypeError(f"{type(detector).__name__} scores whole clips; it has no window scores to calibrate")
    frames = copy.frame_scores(clips[-n_held:])
    return set_window_threshold(detector, [f.scores for f in frames], false_alarm_rate)
