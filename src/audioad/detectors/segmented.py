"""A detector on segments of long recordings: fit on them, score them, one row a segment.

:meth:`ClipDetector.fit <audioad.detectors.base.ClipDetector.fit>` with
``segment=`` learns from segments cut from its recordings
(:mod:`audioad.segments`), and :meth:`~audioad.detectors.base.ClipDetector.score_segments`
gives each segment of each recording a score, with its start and end, and each
recording a :class:`~audioad.segments.FileSummary`. Segments are scored as clips,
a batch at a time, through the detector's own :meth:`score_clips`: a segment's
score is that of the same samples scored as a clip alone, bit for bit.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import NamedTuple

from ..audio import AudioInputError, AudioSource, clip_name, source_of
from ..domain import ClipProfile, domain_warnings
from ..segments import (
    MUCH_LONGER,
    SegmentNotice,
    cut,
    duration_of,
    parse_duration,
)
from ..verdicts import CALIBRATE, file_verdict
from .streaming import as_clips, joined

__all__ = [
    "SegmentScore",
    "SegmentScores",
    "training_length",
    "scoring_plan",
    "segment_features",
    "iter_segment_scores",
    "describe",
]

# Segments scored (or featurised) together: 32 of 10 s at 16 kHz are 20 MB of waveforms.
_BATCH_SEGMENTS = 32


class SegmentScore(NamedTuple):
    """One scored segment of a recording (or a whole clip, or a recording that failed).

    Attributes
    ----------
    clip : int
        The recording's index in the list scored.
    path : str or None
        Its file.
    start, end : float
        Seconds from the start of the recording; NaN for a recording that could not be read.
    score : float
        Higher is more abnormal; NaN where it failed.
    label : int
        1 above the segment threshold, 0 below, -1 where it failed.
    warning : str
        How the segment is unlike the training clips (:mod:`audioad.domain`), ``"; "``-joined.
    error : str
        Why the recording could not be read (from this point on); empty otherwise.
    """

    clip: int
    path: str | None
    start: float
    end: float
    score: float
    label: int
    warning: str
    error: str


class SegmentScores(NamedTuple):
    """What :meth:`~audioad.detectors.base.ClipDetector.score_segments` returns.

    Attributes
    ----------
    rows : list of SegmentScore
        One per segment, recordings in input order, segments in time order.
    files : list of FileSummary
        One per recording.
    verdicts : list of Verdict
        One per recording (:func:`audioad.verdicts.file_verdict`): normal, unusual or alarm, why,
        and what to do.
    levels : Levels
        The thresholds the verdicts were read against, and what they were set from.
    """

    rows: list
    files: list
    verdicts: list
    levels: object


def _path_of(item):
    return str(item) if isinstance(item, (str, bytes)) or hasattr(item, "__fspath__") else None


def training_length(detector, hop=False):
    """Seconds of the clips a fitted detector learnt from: its segments (or their hop), else its longest clip.

    None for a detector fitted on features alone (an ensemble's member), which records neither.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> clf = MelKNN().fit([np.zeros(16000 * 9) + 0.1], segment="3s", hop="1.5s")
    >>> training_length(clf), training_length(clf, hop=True)
    (3.0, 1.5)
    """
    seconds = getattr(detector, "segment_hop_seconds_" if hop else "segment_seconds_", None)
    if seconds is None:
        training = getattr(detector, "training_audio_", None)
        seconds = training["seconds"][1] if training else None
    return seconds


def scoring_plan(detector, clips, segment=None, hop=None):
    """Per clip, the ``(segment, hop)`` seconds it is cut at, or None to score it whole.

    With ``segment`` given, every clip is cut. Without, a clip is cut at the training clips'
    length (the segments the model was fitted on, or its longest training clip) when it lasts
    more than :data:`~audioad.segments.MUCH_LONGER` times that, with one :class:`~audioad.segments.SegmentNotice`;
    shorter clips, PyOD-style lists of clips among them, are scored whole as before.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> from audioad import MelKNN
    >>> clf = MelKNN().fit([0.1 * np.random.default_rng(i).standard_normal(16000) for i in range(4)])
    >>> with warnings.catch_warnings(record=True) as notices:
    ...     plan = scoring_plan(clf, [np.zeros(16000), np.zeros(16000 * 5)])
    >>> plan, str(notices[0].message).split(":")[0]
    ([None, (1.0, 1.0)], '1 recording(s) much longer than the training clips')
    """
    if segment is not None:
        seconds = parse_duration(segment, "segment")
        step = seconds if hop is None else parse_duration(hop, "hop")
        return [(seconds, step)] * len(clips)
    if hop is not None:
        raise ValueError("hop is given without segment; pass segment='10s' (say) too")
    length = training_length(detector)
    if not length:
        return [None] * len(clips)
    plan = [(length, length) if (duration_of(c, detector.sr) or 0.0) > MUCH_LONGER * length else None for c in clips]
    n_cut = sum(p is not None for p in plan)
    if n_cut:
        warnings.warn(
            SegmentNotice(
                f"{n_cut} recording(s) much longer than the training clips: scored in {length:g} s segments "
                "(pass segment= to choose)"
            ),
            stacklevel=3,
        )
    return plan


def _pieces(clips, plan, sr, skip=None):
    """Per clip, in order: ``(clip, item, start, end)`` for each segment or whole clip, or ``(clip, error)``.

    A segment's item is its waveform; a whole clip's is the clip as given. A recording that fails
    part way gives its segments so far, then its error. ``skip`` maps a clip's index to how many
    of its first pieces to leave out (scored by an earlier run).
    """
    skip = skip or {}
    for index, (item, how) in enumerate(zip(clips, plan)):
        if how is None:
            if skip.get(index, 0) < 1:
                seconds = duration_of(item, sr)
                yield index, item, 0.0, math.nan if seconds is None else seconds
            continue
        try:
            for number, piece in enumerate(cut(item, sr, *how)):
                if number >= skip.get(index, 0):
                    yield index, piece.wave, piece.start, piece.end
        except AudioInputError as exc:
            yield index, exc.at(index)


def _batches(clips, plan, sr, size=_BATCH_SEGMENTS, skip=None):
    """Pieces of :func:`_pieces` in lists of at most ``size``; an error ends its list."""
    batch = []
    for piece in _pieces(clips, plan, sr, skip):
        batch.append(piece)
        if len(batch) == size or len(piece) == 2:
            yield batch
            batch = []
    if batch:
        yield batch


def segment_features(detector, X, segment, hop, progress=False, **options):
    """The detector's features (and :class:`~audioad.domain.ClipProfile`) of every segment of X, for fitting.

    ``options`` go to the detector's ``features_and_profiles`` with each batch of segments.

    Raises
    ------
    AudioInputError
        For the first recording that cannot be read, naming its index and path.
    """
    clips = as_clips(X)
    parts, profiles, sources = [], [], {}
    for batch in _batches(clips, [(segment, hop)] * len(clips), detector.sr):
        if len(batch[-1]) == 2:
            error = batch[-1][1]
            raise error from error.__cause__
        features, batch_profiles = detector.features_and_profiles([piece[1] for piece in batch], False, **options)
        parts.append(features)
        # A segment is a bare waveform: its rate and codec are its recording's (the band heard, the low-rate check).
        for piece, profile in zip(batch, batch_profiles):
            if piece[0] not in sources:
                sources[piece[0]] = source_of(clips[piece[0]])
            profiles.append(profile._replace(rate=sources[piece[0]].rate, codec=sources[piece[0]].codec))
    return joined(parts), profiles


def iter_segment_scores(detector, X, segment=None, hop=None, threshold=None, plan=None, skip=None):
    """Score every segment of every recording in X, a batch at a time; yield each batch's rows.

    The generator behind :meth:`~audioad.detectors.base.ClipDetector.score_segments`, for callers
    that write rows as they come (``audioad score``): a row, once yielded, is final.

    Parameters
    ----------
    detector : ClipDetector
        Fitted.
    X : list
        Recordings in any form :func:`~audioad.audio.load_audio` accepts.
    segment, hop
        As in :func:`scoring_plan`.
    threshold : float or None
        Segment threshold for the labels; None: the detector's ``threshold_``.
    plan : list or None
        A :func:`scoring_plan` made already (the notice is then not given again).
    skip : dict or None
        Recording index -> how many of its first segments to leave out (an earlier run scored them).

    Yields
    ------
    list of SegmentScore

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> clf = MelKNN().fit([0.1 * np.random.default_rng(0).standard_normal(16000 * 8)], segment="1s")
    >>> batches = iter_segment_scores(clf, [0.1 * np.random.default_rng(1).standard_normal(16000 * 3)], segment="1s")
    >>> [(row.start, row.end, row.label) for batch in batches for row in batch]
    [(0.0, 1.0, 0), (1.0, 2.0, 0), (2.0, 3.0, 0)]
    """
    clips = as_clips(X)
    threshold = detector.threshold_ if threshold is None else float(threshold)
    plan = scoring_plan(detector, clips, segment, hop) if plan is None else plan
    recorded = {}  # recording index -> its rate's and codec's warnings, which its segments (bare waveforms) lack
    for batch in _batches(clips, plan, detector.sr, skip=skip):
        failed = batch.pop() if len(batch[-1]) == 2 else None
        rows = []
        if batch:
            result = detector.score_clips([piece[1] for piece in batch])
            errors = {e.index: e.cause for e in result.errors}
            for i, (index, _, start, end) in enumerate(batch):
                value = float(result.scores[i])
                label = -1 if math.isnan(value) else int(value > threshold)
                path = _path_of(clips[index])
                if index not in recorded:
                    recorded[index] = _recording_warnings(detector, clips[index]) if plan[index] else []
                warning = "; ".join([*result.warnings[i], *recorded[index]])
                rows.append(SegmentScore(index, path, start, end, value, label, warning, errors.get(i, "")))
        if failed is not None:
            index, error = failed
            rows.append(SegmentScore(index, _path_of(clips[index]), math.nan, math.nan, math.nan, -1, "", error.cause))
        yield rows


def _recording_warnings(detector, item):
    """A segmented recording's ``low rate`` and ``codec`` warnings: of its rate and codec, not its samples."""
    source = source_of(item) if isinstance(item, (str, os.PathLike)) else AudioSource(None, None)
    profile = ClipProfile(0.0, source.rate, source.codec, None, None)
    training = getattr(detector, "training_audio_", None)
    return [w for w in domain_warnings(profile, training, detector.sr) if w.startswith(("low rate:", "codec:"))]


def describe(summary, levels, calibrate=CALIBRATE):
    """One line on a recording's verdict, as ``audioad score`` prints it (:func:`audioad.verdicts.file_verdict`).

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.segments import summarize
    >>> from audioad.verdicts import alarm_levels
    >>> levels = alarm_levels(np.linspace(0.0, 1.0, 400), 1.0, hop=60.0, per_hour=1)
    >>> summary = summarize(0, "a.wav", [0, 60, 120], [60, 120, 180], [0.1, 3.0, 0.2], levels.segment, levels.alarm)
    >>> print(describe(summary, levels))  # doctest: +NORMALIZE_WHITESPACE
    a.wav: ALARM: from 0:01:00 the sound is far from normal running: worst 0:01:00-0:02:00 scores 3, above
    the alarm level 1 (normal running scores up to 1). Next: listen to 0:01:00-0:02:00 and inspect the machine.
    """
    name = summary.path or clip_name(summary.clip)
    return file_verdict(summary, levels, calibrate).line(name)
