"""A long recording in one picture: its segment scores over time, and its worst minute in detail.

:func:`plot_recording` scores a recording segment by segment as it is decoded (never whole;
:mod:`audioad.segments`), keeping three floats a segment, and draws the scores over the whole
recording with the segment threshold, the segments above it and the worst one. Beneath, the
minute around the worst segment, read alone from the file (:func:`~audioad.audio.load_excerpt`),
is drawn as :func:`~audioad.plotting.plot_clip` draws a clip: log-mel beside the normal reference,
deviation map with its findings, window scores against the window threshold. Memory is that of
one segment batch and one minute, whatever the recording's duration or format.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..audio import AudioInputError, load_excerpt
from ..detectors.segmented import iter_segment_scores, training_length
from ..segments import DEFAULT_SEGMENT_SECONDS, parse_duration, parse_rule, summarize
from ..verdicts import ALARM, UNUSUAL, alarm_levels, file_verdict
from .clip import plot_clip
from .figures import THRESHOLD_COLOR, clock, clock_axis, new_figure, save_figure

__all__ = ["plot_recording", "DETAIL_SECONDS"]

#: Seconds of the recording around its worst segment drawn in detail.
DETAIL_SECONDS = 60.0

_FILETHRESHOLD_COLOR = "tab:purple"
_DETAIL_COLOR = "0.88"
_DOTTED = 240  # most segments drawn with a dot each


def _segment_table(detector, recording, seconds, step, threshold, scores):
    """Start, end and score of each scored segment (float arrays), and why reading stopped early ("" if not)."""
    if scores is None:
        batches = iter_segment_scores(detector, [recording], plan=[(seconds, step)], threshold=threshold)
        rows = (row for batch in batches for row in batch)
    else:
        rows = scores.rows
    table, error = [], ""
    for row in rows:
        if math.isfinite(row.score):
            table.append((row.start, row.end, row.score))
        elif row.error:
            error = row.error
    starts, ends, values = np.array(table, dtype=np.float64).reshape(-1, 3).T
    return starts, ends, values, error


def plot_recording(
    detector,
    recording,
    segment=None,
    hop=None,
    threshold=None,
    file_threshold=None,
    *,
    rule="any",
    scores=None,
    title=None,
    fig=None,
    path=None,
    dpi=150,
):
    """Plot a long recording: its segment scores over time, and the minute around its worst segment in detail.

    On top, the score of every segment over the whole recording (time as h:mm or h:mm:ss), the
    segment threshold (dashed red), the file threshold where it differs (dotted), the segments
    above the segment threshold (red dots), the worst segment (a red triangle) and the minute
    drawn beneath (shaded grey). Beneath, :data:`DETAIL_SECONDS` of the recording centred on the
    worst segment (moved to lie inside the recording), as :func:`~audioad.plotting.plot_clip`
    draws a clip, on the recording's clock.

    The recording is cut as it is decoded and only its scores are kept (three floats a
    segment); the detailed minute is then read alone, by a seek. A three-hour file costs what
    scoring it does (``benchmarks/long_recordings.py``), in any format.

    Parameters
    ----------
    detector : ClipDetector
        A fitted audioad detector.
    recording : str, pathlib.Path, array-like or tuple
        A recording in any form :func:`~audioad.audio.load_audio` accepts; a file is streamed.
    segment : float, str or None
        Segment length (``"10s"``; see :func:`~audioad.segments.parse_duration`); None: the
        length of the clips the detector learnt from
        (:func:`~audioad.detectors.segmented.training_length`), or
        :data:`~audioad.segments.DEFAULT_SEGMENT_SECONDS` where the model does not say.
    hop : float, str or None
        Time between segment starts; None: ``segment``.
    threshold : float or None
        Segment threshold; None: the detector's ``threshold_``.
    file_threshold : float or None
        Threshold of the file's verdict (see
        :meth:`~audioad.detectors.base.ClipDetector.score_segments`); None: ``threshold``.
    rule : str or VerdictRule
        The verdict's rule (:func:`~audioad.segments.parse_rule`), named in the title.
    scores : SegmentScores or None
        What ``detector.score_segments([recording], segment, hop, ...)`` returned for this
        recording, to draw without scoring it again; None scores it here.
    title : str or None
        Title of the figure; None names the file and gives its verdict.
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into; None makes a new one.
    path : str or pathlib.Path, optional
        Also save the figure there (format from the extension), via
        :func:`~audioad.plotting.save_figure`.
    dpi : int, default 150
        Resolution of the saved file.

    Returns
    -------
    matplotlib.figure.Figure
        Its overview axes is labelled ``"overview"``; the detail's axes are plot_clip's.

    Raises
    ------
    AudioInputError
        Naming the file, when not one segment of it can be read.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> rng = np.random.default_rng(0)
    >>> detector = MelKNN(n_mels=32).fit([0.1 * rng.standard_normal(16000 * 20)], segment="1s")
    >>> recording = 0.1 * rng.standard_normal(16000 * 90)
    >>> recording[16000 * 70 : 16000 * 71] += np.sin(np.arange(16000) * 0.9)  # a tone at 1:10
    >>> fig = plot_recording(detector, (recording, 16000))
    >>> overview = next(ax for ax in fig.axes if ax.get_label() == "overview")
    >>> lines = {line.get_gid(): line for line in overview.lines}
    >>> len(lines["segment-scores"].get_xdata()), float(lines["worst-segment"].get_xdata()[0])  # its middle, in s
    (90, 70.5)
    """
    seconds = parse_duration(segment, "segment") if segment is not None else None
    seconds = seconds or training_length(detector) or DEFAULT_SEGMENT_SECONDS
    step = seconds if hop is None else parse_duration(hop, "hop")
    threshold = float(detector.threshold_ if threshold is None else threshold)
    file_threshold = threshold if file_threshold is None else float(file_threshold)
    rule = parse_rule(rule)
    is_file = isinstance(recording, (str, os.PathLike))
    name = Path(recording).name if is_file else "recording"

    starts, ends, values, error = _segment_table(detector, recording, seconds, step, threshold, scores)
    if len(values) == 0:
        raise AudioInputError(error or "not one segment could be scored", path=recording if is_file else None)
    summary = summarize(0, name, starts, ends, values, threshold, file_threshold, rule, error)
    worst = (summary.worst_start + summary.worst_end) / 2
    y, sr, detail_start = load_excerpt(recording, detector.sr, worst, DETAIL_SECONDS)
    detail_end = detail_start + len(y) / sr

    fig = new_figure(fig, (11.0, 13.0))
    top, bottom = fig.subfigures(2, 1, height_ratios=(3.2, 9.8))
    ax = top.subplots()
    ax.set_label("overview")
    centres = (starts + ends) / 2
    duration = float(ends.max())
    ax.axvspan(
        detail_start, detail_end, color=_DETAIL_COLOR, linewidth=0, zorder=0, gid="detail-window",
        label=f"shown below: {clock(detail_start)}-{clock(detail_end)}",
    )  # fmt: skip
    # A dot a segment while there is room for one; hours of segments read better as a line.
    ax.plot(
        centres, values, color="black", linewidth=0.7, marker="." if len(values) <= _DOTTED else None,
        markersize=2.5, gid="segment-scores",
        label=f"segment score ({len(values)} segments of {seconds:g} s)",
    )  # fmt: skip
    ax.axhline(
        threshold, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.3, label=f"segment threshold {threshold:.3g}"
    )
    if file_threshold != threshold:
        ax.axhline(
            file_threshold, color=_FILETHRESHOLD_COLOR, linestyle=":", linewidth=1.5,
            label=f"file threshold {file_threshold:.3g} (verdict: {rule})",
        )  # fmt: skip
    above = values > threshold
    ax.plot(
        centres[above], values[above], linestyle="none", marker="o", markersize=4, color=THRESHOLD_COLOR,
        gid="above-threshold", label=f"{summary.n_above} above the segment threshold",
    )  # fmt: skip
    ax.plot(
        [worst], [summary.worst_score], linestyle="none", marker="v", markersize=11, color=THRESHOLD_COLOR,
        markeredgecolor="black", gid="worst-segment",
        label=f"worst {clock(summary.worst_start)}-{clock(summary.worst_end)}, score {summary.worst_score:.3g}",
    )  # fmt: skip
    low = min(float(values.min()), threshold)
    high = max(float(values.max()), file_threshold)
    margin = 0.08 * (high - low or abs(high) or 1.0)
    ax.set_ylim(low - margin, high + 2.5 * margin)  # room above the worst segment's marker
    ax.set_xlim(0.0, duration)
    clock_axis(ax, 0.0, duration, max_ticks=10)
    ax.set_ylabel("Segment score")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small", framealpha=0.9)
    # The verdict in the words audioad score prints (audioad.verdicts), read against these thresholds.
    levels = alarm_levels(detector.decision_scores_, threshold, step, rule, alarm=file_threshold)
    state = file_verdict(summary, levels).state
    verdict = f"ALARM (rule {rule} from {clock(summary.flagged_at)})" if state == ALARM else state
    verdict = "unusual, review it" if state == UNUSUAL else verdict
    stopped = f"; stopped at {clock(float(ends.max()))}: {error}" if error else ""
    ax.set_title(
        f"{clock(duration)} recording: {verdict}; {summary.n_above} of {summary.n_segments} segments above the "
        f"segment threshold{stopped}",
        fontsize="medium",
    )
    plot_clip(
        detector,
        (y, sr),
        start=detail_start,
        score_clip=False,
        title=f"The minute around the worst segment, {clock(detail_start)}-{clock(detail_end)}",
        fig=bottom,
    )
    fig.suptitle(title or f"{type(detector).__name__}: {name}, score over time and the worst minute")
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig
