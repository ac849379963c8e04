"""Long recordings cut into segments on the fly; start and end times travel with the scores.

A recorder by a machine writes an hour-long file, or a new file every few
minutes, or a stream. A detector learns from and scores *clips*; a segment is
a clip cut from a recording: ``segment`` seconds of it every ``hop`` seconds
(``hop = segment`` by default: back to back). Segments are cut as the audio
is decoded (:class:`~audioad.audio.AudioStream` for a file, any iterable of
blocks for a stream), so a recording is never held whole: memory is one
decoded block and one segment per recording, whatever its duration or format.

A recording's last samples are never dropped: when the segments do not reach
its end, one more segment ends at its last sample (it overlaps the one
before it); a recording shorter than one segment is one segment, whole.

A segment's waveform is the same samples as the recording loaded whole
(:func:`~audioad.audio.load_audio`) and sliced, bit for bit, when the file is
at the model's rate: a segment scores as the same audio scored as a clip alone.
Where the file is resampled, the stream's resampler agrees with the whole
file's to its rounding (about 1e-6).

This module also reads a scored recording: :func:`summarize` turns a file's
segment scores into its summary (worst segment, segments and minutes above
the threshold, a verdict by a :class:`VerdictRule`).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from typing import NamedTuple

import numpy as np
import soundfile as sf

from .audio import AudioStream, load_audio

__all__ = [
    "DEFAULT_SEGMENT_SECONDS",
    "LONG_RECORDING_SECONDS",
    "MUCH_LONGER",
    "SegmentNotice",
    "parse_duration",
    "VerdictRule",
    "parse_rule",
    "Segmenter",
    "Segment",
    "duration_of",
    "cut",
    "cut_blocks",
    "training_segment_plan",
    "FileSummary",
    "summarize",
    "FileSummaries",
]

#: Segment length when a recording is cut without one named: DCASE's clip length.
DEFAULT_SEGMENT_SECONDS = 10.0

#: Fitting cuts training recordings longer than this into segments of :data:`DEFAULT_SEGMENT_SECONDS`.
LONG_RECORDING_SECONDS = 60.0

#: Scoring cuts a recording this many times longer than the training clips into segments of their length.
MUCH_LONGER = 3.0

_UNITS = {"ms": 1e-3, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")


class SegmentNotice(UserWarning):
    """A recording was cut into segments without being asked (it is much longer than the training clips)."""


def parse_duration(value, name="duration"):
    """Seconds in ``value``: a number of seconds, or a string such as ``"10s"``, ``"2.5s"``, ``"500ms"``, ``"1min"``.

    Parameters
    ----------
    value : float, int or str
        A positive duration. Units: ``ms``, ``s`` (or ``sec``), ``min`` (or ``m``), ``h``, ``d``, ``w``;
        none means seconds.
    name : str
        What the duration is, for the error message.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a duration that is not positive, or a string that does not read as one; the message names ``name``.

    Examples
    --------
    >>> [parse_duration(value) for value in ("10s", "2.5s", "1min", 4, "250ms")]
    [10.0, 2.5, 60.0, 4.0, 0.25]
    """
    if isinstance(value, str):
        match = _DURATION.match(value.lower())
        if not match or match.group(2) not in ("", *_UNITS):
            raise ValueError(f"{name} {value!r} is not a duration; write it as 10s, 2.5s, 500ms, 1min or 1h")
        seconds = float(match.group(1)) * _UNITS.get(match.group(2), 1.0)
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise ValueError(f"{name} must be a number of seconds or a string such as '10s', got {value!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a positive duration, got {value!r}")
    return seconds


class VerdictRule(NamedTuple):
    """When a file (or a watch) is flagged: ``k`` of ``n`` consecutive segments above the threshold.

    ``VerdictRule(1, 1)`` is "any segment".
    """

    k: int
    n: int

    def __str__(self):
        return "any" if (self.k, self.n) == (1, 1) else f"{self.k}/{self.n}"

    def first_hold(self, above):
        """Index of the segment at which the rule first holds over the flags ``above``, or -1.

        Examples
        --------
        >>> VerdictRule(2, 3).first_hold([1, 0, 0, 1, 0, 1, 1])
        5
        >>> VerdictRule(1, 1).first_hold([0, 0])
        -1
        """
        above = np.asarray(above, dtype=np.int64)
        if len(above) == 0:
            return -1
        # Segments above the threshold among the last n (fewer at the start), at each segment.
        counts = np.convolve(above, np.ones(self.n, dtype=np.int64))[: len(above)]
        holds = np.flatnonzero(counts >= self.k)
        return int(holds[0]) if len(holds) else -1


def parse_rule(rule):
    """A :class:`VerdictRule` from ``"any"``, ``"K/N"`` or ``"K of N"`` (``"3/5"``: 3 of 5 consecutive segments).

    Examples
    --------
    >>> parse_rule("any"), parse_rule("3/5"), parse_rule("2 of 4"), parse_rule((1, 2))
    (VerdictRule(k=1, n=1), VerdictRule(k=3, n=5), VerdictRule(k=2, n=4), VerdictRule(k=1, n=2))
    """
    if isinstance(rule, VerdictRule):
        return rule
    if isinstance(rule, tuple) and len(rule) == 2:
        k, n = rule
    elif isinstance(rule, str) and rule.strip().lower() == "any":
        k, n = 1, 1
    else:
        match = re.match(r"^\s*(\d+)\s*(?:/|of)\s*(\d+)\s*$", str(rule))
        if not match:
            raise ValueError(f"rule {rule!r}: write 'any' or K/N, e.g. 3/5 for 3 of 5 consecutive segments")
        k, n = int(match.group(1)), int(match.group(2))
    if not (isinstance(k, (int, np.integer)) and isinstance(n, (int, np.integer)) and 1 <= k <= n):
        raise ValueError(f"rule {rule!r}: need 1 <= K <= N")
    return VerdictRule(int(k), int(n))


class Segmenter:
    """Cut a stream of sample blocks into segments, as the blocks arrive.

    Holds at most one segment and one block: memory does not grow with the stream.

    Parameters
    ----------
    segment : int
        Samples in a segment.
    hop : int
        Samples between the starts of consecutive segments.

    Attributes
    ----------
    seen : int
        Samples pushed so far.

    Examples
    --------
    >>> cutter = Segmenter(segment=4, hop=4)
    >>> [(start, wave.tolist()) for start, wave in cutter.push(np.arange(10.0))]
    [(0, [0.0, 1.0, 2.0, 3.0]), (4, [4.0, 5.0, 6.0, 7.0])]
    >>> [(start, wave.tolist()) for start, wave in cutter.finish()]
    [(6, [6.0, 7.0, 8.0, 9.0])]
    """

    def __init__(self, segment, hop):
        self.segment, self.hop = int(segment), int(hop)
        if self.segment < 1 or self.hop < 1:
            raise ValueError(f"a segment and its hop must be at least one sample, got {segment} and {hop}")
        self.seen = 0
        self._pending = []  # blocks of samples from self._start on
        self._held = 0
        self._start = 0  # first sample held
        self._skip = 0  # samples still to drop when the hop is longer than the segment
        self._covered = 0  # end of the last segment given
        self._recent = np.empty(0, dtype=np.float32)  # the last `segment` samples, for the final segment

    def push(self, block):
        """Add samples; return the ``(start_sample, waveform)`` of each segment they complete."""
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self.seen += len(block)
        self._recent = np.concatenate([self._recent, block[-self.segment :]])[-self.segment :]
        if self._skip:
            dropped = min(self._skip, len(block))
            block, self._skip, self._start = block[dropped:], self._skip - dropped, self._start + dropped
        if len(block):
            self._pending.append(block)
            self._held += len(block)
        done = []
        while self._held >= self.segment:
            held = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
            done.append((self._start, held[: self.segment].copy()))
            self._covered = self._start + self.segment
            dropped = min(self.hop, self._held)
            self._pending, self._held = [held[dropped:]], self._held - dropped
            self._start += dropped
            self._skip = self.hop - dropped
        return done

    def finish(self):
        """The stream has ended: the segment that reaches its last sample, if none did; an empty list otherwise."""
        if self.seen == 0 or self._covered >= self.seen:
            return []
        self._covered = self.seen
        start = max(0, self.seen - self.segment)
        return [(start, self._recent[-(self.seen - start) :].copy())]


class Segment(NamedTuple):
    """One segment of a recording: where it lies, in seconds from the start, and its samples.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the recording.
    wave : numpy.ndarray of float32
        Its mono waveform at the rate it was cut at.
    """

    start: float
    end: float
    wave: np.ndarray


def duration_of(item, sr):
    """Seconds of a clip without decoding it (a file's header, an array's length), or None where unknown.

    Examples
    --------
    >>> duration_of(np.zeros(32000), 16000), duration_of((np.zeros((2, 8000)), 8000), 16000)
    (2.0, 1.0)
    >>> duration_of("no/such.wav", 16000) is None
    True
    """
    if isinstance(item, (str, os.PathLike)):
        try:
            info = sf.info(str(item))
        except (sf.SoundFileError, OSError, RuntimeError, TypeError):
            return None  # loading it will say what is wrong
        return info.frames / info.samplerate if info.samplerate else None
    rate = sr
    if isinstance(item, tuple) and len(item) == 2:
        item, rate = item
    try:
        shape = np.shape(item)
    except (ValueError, TypeError):
        return None
    if len(shape) not in (1, 2) or not rate:
        return None
    return (shape[0] if len(shape) == 1 else max(shape)) / float(rate)


def _blocks(item, sr):
    """A clip's mono samples at ``sr`` in blocks: a file streamed, anything else loaded whole."""
    if isinstance(item, (str, os.PathLike)):
        yield from AudioStream(item, sr)
    else:
        yield load_audio(item, sr=sr)[0]


def cut(item, sr, segment, hop=None):
    """The segments of one recording, cut as it is decoded.

    Parameters
    ----------
    item : str, pathlib.Path, array-like or tuple
        A recording in any form :func:`~audioad.audio.load_audio` accepts; a file is decoded a
        block at a time (:class:`~audioad.audio.AudioStream`), never whole.
    sr : int
        Rate to cut at (the model's).
    segment : float or str
        Segment length (see :func:`parse_duration`).
    hop : float, str or None
        Time between segment starts; None: ``segment`` (back to back).

    Yields
    ------
    Segment
        ``(start, end, wave)`` in order; see the module's notes for the last one.

    Raises
    ------
    AudioInputError
        Naming the file and the cause, when it cannot be read (segments already yielded stand).

    Examples
    --------
    >>> y = np.arange(25, dtype=np.float32)
    >>> [(s.start, s.end, len(s.wave)) for s in cut(y, sr=10, segment="1s")]
    [(0.0, 1.0, 10), (1.0, 2.0, 10), (1.5, 2.5, 10)]
    """
    seconds = parse_duration(segment, "segment")
    step = seconds if hop is None else parse_duration(hop, "hop")
    yield from cut_blocks(_blocks(item, sr), sr, Segmenter(max(1, round(seconds * sr)), max(1, round(step * sr))))


def cut_blocks(blocks, sr, cutter, finish=True):
    """The segments (:class:`Segment`) that ``cutter``, a :class:`Segmenter`, cuts from ``blocks`` of samples at ``sr``.

    With ``finish``, the stream ends with them: the segment that reaches its last sample follows,
    if none did. Without, more blocks may come (a file still being written).

    Examples
    --------
    >>> cutter = Segmenter(segment=10, hop=10)
    >>> [(s.start, s.end) for s in cut_blocks([np.zeros(15), np.zeros(10)], 10, cutter, finish=False)]
    [(0.0, 1.0), (1.0, 2.0)]
    >>> [(s.start, s.end) for s in cut_blocks([np.zeros(2)], 10, cutter)]
    [(1.7, 2.7)]
    """
    for block in blocks:
        for start, wave in cutter.push(block):
            yield Segment(start / sr, (start + len(wave)) / sr, wave)
    for start, wave in cutter.finish() if finish else ():
        yield Segment(start / sr, (start + len(wave)) / sr, wave)


def training_segment_plan(X, sr, segment=None, hop=None):
    """How :meth:`~audioad.detectors.base.ClipDetector.fit` cuts its clips: ``(segment, hop)`` seconds, or None.

    With ``segment`` given, every clip is cut. Without, clips are used whole, unless one lasts
    longer than :data:`LONG_RECORDING_SECONDS`: a list of long recordings is then cut into
    segments of :data:`DEFAULT_SEGMENT_SECONDS`, with a :class:`SegmentNotice`.

    Examples
    --------
    >>> training_segment_plan([np.zeros(16000)] * 3, 16000), training_segment_plan([], 16000, "5s", "2.5s")
    (None, (5.0, 2.5))
    """
    if segment is not None:
        seconds = parse_duration(segment, "segment")
        return seconds, (seconds if hop is None else parse_duration(hop, "hop"))
    if hop is not None:
        raise ValueError("hop is given without segment; pass segment='10s' (say) too")
    if isinstance(X, (str, bytes, os.PathLike)) or (isinstance(X, np.ndarray) and X.ndim == 2):
        return None  # as_clips refuses the first; rows of a 2-D array are short clips
    longest = max((duration_of(item, sr) or 0.0 for item in X), default=0.0)
    if longest <= LONG_RECORDING_SECONDS:
        return None
    warnings.warn(
        SegmentNotice(
            f"a training recording lasts {longest:.0f} s: cutting the recordings into "
            f"{DEFAULT_SEGMENT_SECONDS:g} s segments (pass segment= to choose)"
        ),
        stacklevel=3,
    )
    return DEFAULT_SEGMENT_SECONDS, DEFAULT_SEGMENT_SECONDS


class FileSummary(NamedTuple):
    """A scored recording in one row.

    Attributes
    ----------
    clip : int
        The recording's index in its batch.
    path : str or None
        Its file.
    n_segments : int
        Segments scored.
    n_above : int
        Segments above the segment threshold.
    worst_start, worst_end, worst_score : float
        The highest-scoring segment.
    minutes : tuple of int
        The minutes (0 is the first) in which a segment above the segment threshold starts.
    flagged : bool
        Whether the :class:`VerdictRule` holds for segments above the file threshold.
    flagged_at : float or None
        Start (seconds) of the segment at which the rule first holds.
    error : str
        Why the recording could not be read to its end; empty when it was.
    """

    clip: int
    path: str | None
    n_segments: int
    n_above: int
    worst_start: float
    worst_end: float
    worst_score: float
    minutes: tuple
    flagged: bool
    flagged_at: float | None
    error: str


def summarize(clip, path, starts, ends, scores, threshold, file_threshold, rule="any", error=""):
    """A recording's :class:`FileSummary` from its segments' scores.

    Parameters
    ----------
    clip : int
        The recording's index.
    path : str or None
        Its file.
    starts, ends, scores : array-like
        Each segment's start and end (seconds) and score, in time order; NaN scores are left out.
    threshold : float
        The segment threshold: a segment above it is labelled anomalous.
    file_threshold : float
        The file threshold: the ``rule`` over segments above it flags the file.
    rule : str or VerdictRule
        See :func:`parse_rule`.
    error : str
        Why the recording stopped early, if it did.

    Examples
    --------
    >>> s = summarize(0, "a.wav", [0, 10, 20, 70], [10, 20, 30, 80], [0.1, 3.0, 0.2, 1.5], 1.0, 2.0)
    >>> s.n_above, s.worst_start, s.minutes, s.flagged, s.flagged_at
    (2, 10.0, (0, 1), True, 10.0)
    """
    scores = np.asarray(scores, dtype=np.float64)
    starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
    keep = np.isfinite(scores)
    starts, ends, scores = starts[keep], ends[keep], scores[keep]
    if len(scores) == 0:
        return FileSummary(clip, path, 0, 0, math.nan, math.nan, math.nan, (), False, None, error)
    worst = int(np.argmax(scores))
    above = scores > threshold
    minutes = tuple(sorted({int(s // 60) for s in starts[above]}))
    first = parse_rule(rule).first_hold(scores > file_threshold)
    return FileSummary(
        clip,
        path,
        len(scores),
        int(above.sum()),
        float(starts[worst]),
        float(ends[worst]),
        float(scores[worst]),
        minutes,
        first >= 0,
        float(starts[first]) if first >= 0 else None,
        error,
    )


class FileSummaries:
    """Per-file summaries of segment rows that come in order, one recording after another.

    Feed it each segment's ``(clip, path, start, end, score)`` with :meth:`add`; it returns the
    summary of a recording as soon as the next one starts, and :meth:`close` the last. Holds one
    recording's scores (three floats a segment), never its audio.

    Parameters
    ----------
    threshold, file_threshold, rule
        As in :func:`summarize`.

    Examples
    --------
    >>> files = FileSummaries(threshold=1.0, file_threshold=2.0)
    >>> files.add(0, "a.wav", 0.0, 10.0, 2.5), files.add(1, "b.wav", 0.0, 10.0, 0.5)[0].flagged
    ([], True)
    >>> [s.path for s in files.close()]
    ['b.wav']
    """

    def __init__(self, threshold, file_threshold, rule="any"):
        self.threshold, self.file_threshold, self.rule = threshold, file_threshold, parse_rule(rule)
        self._clip, self._path, self._rows, self._error = None, None, [], ""

    def _flush(self):
        if self._clip is None:
            return []
        rows = np.array(self._rows, dtype=np.float64).reshape(-1, 3)
        summary = summarize(
            self._clip, self._path, *rows.T, self.threshold, self.file_threshold, self.rule, self._error
        )
        self._clip, self._rows, self._error = None, [], ""
        return [summary]

    def add(self, clip, path, start, end, score, error=""):
        """Add one segment's row (``error`` for a recording that failed there); return the summaries now complete."""
        done = self._flush() if clip != self._clip else []
        self._clip, self._path = clip, path
        if error:
            self._error = error
        else:
            self._rows.append((start, end, score))
        return done

    def close(self):
        """The summary of the last recording, if any."""
        return self._flush()
