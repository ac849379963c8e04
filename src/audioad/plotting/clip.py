"""Pictures of one clip as a detector hears it: when it sounds wrong, and how it departs from normal.

- :func:`plot_frame_scores`: a clip's log-mel spectrogram above its window scores, on one
  time axis, with the threshold and the stretches above it marked;
- :func:`plot_explanation`: a clip's spectrogram beside the normal reference, its deviation map
  (dB from normal over time and band) with its findings, and its window scores;
- :func:`plot_clip`: one clip straight from a fitted detector (with the deviation map where the
  detector recorded its normal reference).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator

from ..audio import load_audio
from ..detectors.frontend import LogMelFrontend, log_mel_part
from ..features import hz_to_mel, log_mel
from .figures import ANOMALY_COLOR, THRESHOLD_COLOR, clock, clock_axis, figure_of, new_figure, save_figure

__all__ = [
    "plot_frame_scores",
    "plot_explanation",
    "plot_clip",
    "spectrogram_frontend",
    "level_range",
    "DEVIATION_RANGE_DB",
]

# Levels further than this below the loudest are drawn as the floor colour, as power_to_db's
# top_db does: a silent stretch would otherwise flatten the colour scale of the rest.
_DYNAMIC_RANGE_DB = 80.0
# Candidate frequency ticks; those that fall inside the mel range are shown.
_HZ_TICKS = (50, 100, 250, 500, 1000, 2000, 4000, 8000, 16000, 32000)
# Ticks closer than this share of the axis to the one below are dropped, so labels never overlap.
_MIN_TICK_GAP = 0.06
#: The deviation map's colours span this many dB either side of normal, in every plot.
DEVIATION_RANGE_DB = 30.0
# Room above the loudest normal level (its 99th percentile) on a model's fixed level scale.
_HEADROOM_DB = 15.0


# Findings boxed and listed beside the deviation map, the largest first.
_FINDINGS_SHOWN = 6


def _hz_label(hz):
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def _draw_log_mel(ax, y, sr, n_fft, hop_length, n_mels, log):
    """Draw the clip's log-mel spectrogram on ``ax``: time in s, frequency in Hz. Returns the image."""
    spec = log_mel(y, sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, log=log)
    n_frames = spec.shape[1]
    frame_seconds = hop_length / sr
    # Frames are centred (log_mel's center=True): frame i is centred at i * hop / sr, so each
    # pixel spans half a hop either side of that, and window scores line up with it.
    extent = (-frame_seconds / 2, (n_frames - 0.5) * frame_seconds, -0.5, n_mels - 0.5)
    top = float(np.max(spec))
    image = ax.imshow(
        spec,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        extent=extent,
        cmap="magma",
        vmin=max(float(np.min(spec)), top - _DYNAMIC_RANGE_DB),
        vmax=top,
    )
    image.set_gid("log-mel")
    _hz_ticks(ax, sr, n_mels)
    ax.set_xlim(0.0, len(y) / sr)
    colorbar = figure_of(ax).colorbar(image, ax=ax, pad=0.01, fraction=0.05)
    colorbar.set_label("Level (dB)")
    return image


def _hz_ticks(ax, sr, n_mels):
    """Label the band axis of ``ax`` (band index) with round frequencies in Hz."""
    # Mel bands are not evenly spaced in Hz: put ticks at round frequencies where their bands lie.
    band_mels = np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2)[1:-1]
    ticks, positions = [], []
    for hz in _HZ_TICKS:
        position = float(np.interp(hz_to_mel(hz), band_mels, np.arange(n_mels), left=np.nan, right=np.nan))
        if np.isfinite(position) and (not positions or position - positions[-1] >= _MIN_TICK_GAP * n_mels):
            ticks.append(hz)
            positions.append(position)
    ax.yaxis.set_major_locator(FixedLocator(positions))
    ax.set_yticklabels([_hz_label(hz) for hz in ticks])
    ax.set_ylabel("Frequency (Hz, mel scale)")


def _when(finding, start=None):
    """A finding's time range: seconds in its clip, or, from the clip's ``start``, clock times in its recording."""
    if start is None:
        return f"{finding.start:.2f}-{finding.end:.2f} s"
    return f"{clock(start + finding.start, decimals=1)}-{clock(start + finding.end, decimals=1)}"


def _runs_above(scores, threshold):
    """(first, last) index of each run of consecutive scores above ``threshold``."""
    above = np.concatenate([[False], scores > threshold, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2] - 1))


def _draw_window_scores(
    ax_scores, ax_spec, times, scores, threshold, window_seconds, clip_score, hop_seconds, duration,
    threshold_label="threshold",
):  # fmt: skip
    """Window scores over time on ``ax_scores``; the stretches above ``threshold`` also marked on ``ax_spec``."""
    centres = times + window_seconds / 2.0
    ax_scores.plot(centres, scores, color="black", linewidth=1.2, marker=".", markersize=3, label="window score")
    if threshold is not None:
        threshold = float(threshold)
        ax_scores.axhline(
            threshold, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.5, label=f"{threshold_label} {threshold:.3g}"
        )
        step = float(np.median(np.diff(times))) if times.size > 1 else hop_seconds
        for n, (first, last) in enumerate(_runs_above(scores, threshold)):
            start, stop = centres[first] - step / 2, centres[last] + step / 2
            ax_scores.axvspan(
                start,
                stop,
                color=THRESHOLD_COLOR,
                alpha=0.12,
                linewidth=0,
                # The legend names the red bar over the spectrogram too: it is the same stretch.
                label=None if n else "above threshold (red bar over the spectrogram)",
                gid="above-threshold",
            )
            # A red bar along the spectrogram's top edge: marks the time without hiding the sound.
            ax_spec.axvspan(start, stop, ymin=0.96, ymax=1.0, color=THRESHOLD_COLOR, linewidth=0, gid="above-threshold")
        ax_scores.fill_between(
            centres,
            threshold,
            scores,
            where=scores > threshold,
            interpolate=True,
            color=THRESHOLD_COLOR,
            alpha=0.45,
            linewidth=0,
            gid="excess",
        )
    if clip_score is not None:
        clip_score = float(clip_score)
        verdict = ""
        if threshold is not None:
            verdict = " \u2192 anomalous" if clip_score > threshold else " \u2192 normal"
        ax_scores.axhline(
            clip_score,
            color="0.35",
            linestyle=":",
            linewidth=1.5,
            label=f"clip score {clip_score:.3g}{verdict}",
            gid="clip-score",
        )
    levels = [v for v in (threshold, clip_score) if v is not None]
    if levels:
        # Keep the threshold and clip score in view even when every window is far from them.
        values = np.concatenate([scores[np.isfinite(scores)], levels])
        low, high = values.min(), values.max()
        margin = 0.08 * (high - low or abs(high) or 1.0)
        ax_scores.set_ylim(low - margin, high + margin)
    ax_scores.set_xlabel("Time (s)")
    ax_scores.set_ylabel("Window score")
    ax_scores.set_title("Anomaly score of each window (higher = more abnormal)", fontsize="medium")
    ax_scores.grid(True, alpha=0.3)
    ax_scores.legend(loc="best", fontsize="small", framealpha=0.9)
    ax_scores.set_xlim(0.0, duration)


def plot_frame_scores(
    y,
    sr,
    frame_scores,
    threshold=None,
    *,
    n_fft=1024,
    hop_length=512,
    n_mels=64,
    log="db",
    window_seconds=0.0,
    clip_score=None,
    start=None,
    title=None,
    fig=None,
):
    """A clip's log-mel spectrogram above its window scores, to see when it sounds wrong.

    Two axes share the time axis: on top the log-mel spectrogram (time in seconds,
    frequency on the mel scale labelled in Hz, a colour bar in dB); below it the score of
    every window over time, the threshold as a dashed red line, and each stretch of windows
    scoring above the threshold shaded red (and marked by a red bar along the top of the
    spectrogram).

    Parameters
    ----------
    y : numpy.ndarray
        The clip's waveform, (n_samples,) or (n_channels, n_samples) (averaged to mono).
    sr : int
        Its sample rate in Hz.
    frame_scores : FrameScores or tuple of (times, scores)
        What :meth:`ClipDetector.frame_scores <audioad.detectors.base.ClipDetector.frame_scores>`
        returns for this clip: each window's start in seconds and its score.
    threshold : float or None
        Scores above it are anomalous (a detector's ``threshold_``); ``None`` draws no line.
    n_fft, hop_length, n_mels : int
        Spectrogram settings, as in :func:`~audioad.features.log_mel`; use the detector's
        own so the picture shows what it saw.
    log : {"db", "dcase"}
        Log convention of :func:`~audioad.features.log_mel`.
    window_seconds : float, default 0
        Time from the centre of a window's first frame to that of its last,
        ``(context - 1) * hop_length / sr`` for a window of ``context`` frames. Each score is
        drawn at its window's centre, ``time + window_seconds / 2``, so it sits over the
        spectrogram frames it was computed from; 0 draws it at the window's start.
    clip_score : float or None
        The clip's own score (``decision_function``), drawn as a dotted grey line with its
        verdict: windows may cross the threshold while the clip as a whole stays normal.
    start : float or None
        Where the clip lies in its recording, in seconds (an excerpt of a long recording): the
        time axis then reads as time in the recording (h:mm:ss); ``None`` reads seconds from 0.
    title : str or None
        Title of the figure; ``None`` gives a generic one.
    fig : matplotlib.figure.Figure or SubFigure, optional
        An empty figure to draw into; ``None`` makes a new one.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import FrameScores
    >>> sr, hop = 16000, 512
    >>> y = np.random.default_rng(0).standard_normal(sr).astype(np.float32)
    >>> times = np.arange(28) * hop / sr
    >>> scores = np.where((times > 0.4) & (times < 0.6), 3.0, 1.0)
    >>> fig = plot_frame_scores(y, sr, FrameScores(times, scores), threshold=2.0,
    ...                         hop_length=hop, window_seconds=4 * hop / sr)
    >>> [ax.get_label() for ax in fig.axes]
    ['spectrogram', 'scores', '<colorbar>']
    """
    y, sr = load_audio((y, sr), sr=sr)
    times, scores = (np.asarray(a, dtype=np.float64).ravel() for a in frame_scores)
    if times.shape != scores.shape:
        raise ValueError(
            f"frame_scores has {times.size} times but {scores.size} scores; pass one time per window score"
        )
    fig = new_figure(fig, (9.0, 6.0))
    ax_spec, ax_scores = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    ax_spec.set_label("spectrogram")
    ax_scores.set_label("scores")
    _draw_log_mel(ax_spec, y, sr, n_fft, hop_length, n_mels, log)
    ax_spec.set_title("Log-mel spectrogram", fontsize="medium")
    ax_spec.tick_params(labelbottom=False)

    _draw_window_scores(
        ax_scores, ax_spec, times, scores, threshold, window_seconds, clip_score, hop_length / sr, len(y) / sr
    )
    if start is not None:
        clock_axis(ax_scores, start, len(y) / sr)
    fig.suptitle(title or "When does the clip sound wrong?")
    return figure_of(ax_scores)


def level_range(reference):
    """The fixed level scale (dB) of a model's spectrograms, from its normal reference.

    80 dB, from 15 dB above the loudest band's 99th percentile
    over the training frames down: the same for every clip a model plots, so that a normal and an
    anomalous clip can be compared by eye.

    Parameters
    ----------
    reference : dict
        A normal reference (a detector's ``band_levels_``; see :func:`audioad.explain.normal_reference`).

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> level_range({"quantiles": np.array([0.5, 0.99]), "levels": np.array([[-40.0, -30.0], [-20.0, -12.0]])})
    (-77.0, 3.0)
    """
    quantiles = np.asarray(reference["quantiles"])
    top = float(np.max(np.asarray(reference["levels"])[int(np.argmax(quantiles))]))
    high = float(np.ceil(top + _HEADROOM_DB))
    return high - _DYNAMIC_RANGE_DB, high


def _band_image(ax, values, hop_seconds, duration, cmap, vmin, vmax, gid):
    """``values`` (n_bands, n_frames) as an image on ``ax``, frame i centred at i * hop_seconds."""
    n_bands, n_frames = values.shape
    extent = (-hop_seconds / 2, (n_frames - 0.5) * hop_seconds, -0.5, n_bands - 0.5)
    image = ax.imshow(
        values, origin="lower", aspect="auto", interpolation="nearest", extent=extent, cmap=cmap, vmin=vmin, vmax=vmax
    )
    image.set_gid(gid)
    ax.set_xlim(0.0, duration)
    return image


def _reference_level(reference, q):
    quantiles = np.asarray(reference["quantiles"])
    return np.asarray(reference["levels"])[int(np.argmin(np.abs(quantiles - q)))]


def plot_explanation(
    explanation,
    frame_scores=None,
    threshold=None,
    *,
    sr,
    window_seconds=0.0,
    clip_score=None,
    clip_threshold=None,
    threshold_label="window threshold",
    levels=None,
    start=None,
    title=None,
    fig=None,
):
    """A clip beside the normal reference: spectrogram, deviation map with its findings, window scores.

    On the left, sharing one time axis: the clip's log-mel spectrogram on the model's fixed level
    scale (:func:`level_range`), its deviation map (dB from each band's normal median, or from the
    nearest normal frames where the explanation's reference is theirs, on a fixed scale of
    ``±DEVIATION_RANGE_DB``) with each finding of :func:`audioad.explain.explain` boxed and
    numbered, and, when given, the window scores against their own threshold. On the right, the
    normal reference beside the spectrogram (each band's median level over the training frames,
    its 25-75 % and 1-99 % ranges, and the clip's own median) and the findings as a table.

    Parameters
    ----------
    explanation : audioad.explain.Explanation
        One clip's explanation.
    frame_scores : FrameScores or tuple of (times, scores), optional
        The clip's window scores; ``None`` leaves the scores panel out.
    threshold : float or None
        The window scores' threshold (a detector's ``window_threshold_``); ``None`` draws none.
    sr : int
        The clip's sample rate (for the frequency axis).
    window_seconds, clip_score
        As in :func:`plot_frame_scores`.
    clip_threshold : float or None
        The clip threshold, for the verdict written beside the clip score.
    threshold_label : str
        Legend name of ``threshold``.
    levels : (float, float) or None
        Level scale of the spectrogram in dB; ``None``: :func:`level_range` of the reference.
    start : float or None
        Where the clip lies in its recording, in seconds (an excerpt of a long recording): the
        time axis then reads as time in the recording (h:mm:ss), the findings' times too; ``None`` reads seconds from 0.
    title : str or None
        Title of the figure; ``None`` names the clip.
    fig : matplotlib.figure.Figure or SubFigure, optional
        An empty figure to draw into; ``None`` makes a new one.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> from audioad.explain import explain
    >>> rng = np.random.default_rng(0)
    >>> detector = MelKNN(n_mels=64).fit([0.1 * rng.standard_normal(16000) for _ in range(6)])
    >>> clip = 0.1 * rng.standard_normal(16000)
    >>> clip[8000:12000] += 0.5 * np.sin(2 * np.pi * 3000 * np.arange(4000) / 16000)
    >>> fig = plot_explanation(explain(detector, [clip])[0], sr=16000)
    >>> [ax.get_label() for ax in fig.axes if not ax.get_label().startswith("<")]
    ['spectrogram', 'reference', 'deviation', 'findings']
    """
    reference = explanation.reference
    spec, deviation = explanation.spectrogram, explanation.deviation
    n_mels = spec.shape[0]
    hop_seconds = float(explanation.times[1] - explanation.times[0]) if len(explanation.times) > 1 else 0.032
    duration = spec.shape[1] * hop_seconds
    low, high = level_range(reference) if levels is None else levels
    rows = 3 if frame_scores is not None else 2
    fig = new_figure(fig, (11.0, 3.0 * rows + 0.6))
    axes = fig.subplots(
        rows, 2, width_ratios=(5, 1.4), height_ratios=(3, 3, 2)[:rows], gridspec_kw={"wspace": 0.02}, squeeze=False
    )
    ax_spec, ax_ref = axes[0]
    ax_dev, ax_text = axes[1]
    for ax, name in ((ax_spec, "spectrogram"), (ax_ref, "reference"), (ax_dev, "deviation"), (ax_text, "findings")):
        ax.set_label(name)
    ax_dev.sharex(ax_spec)
    ax_ref.sharey(ax_spec)

    image = _band_image(ax_spec, spec, hop_seconds, duration, "magma", low, high, "log-mel")
    colorbar = figure_of(ax_spec).colorbar(image, ax=[ax_spec, ax_ref], pad=0.01, fraction=0.04, extend="both")
    colorbar.set_label(f"Level (dB), fixed {low:.0f} to {high:.0f}")
    ax_spec.set_title("Log-mel spectrogram", fontsize="medium")
    ax_spec.tick_params(labelbottom=False)
    _hz_ticks(ax_spec, sr, n_mels)

    bands = np.arange(n_mels)
    ax_ref.fill_betweenx(
        bands, _reference_level(reference, 0.01), _reference_level(reference, 0.99), color="0.85", label="normal 1-99 %"
    )
    ax_ref.fill_betweenx(
        bands, _reference_level(reference, 0.25), _reference_level(reference, 0.75), color="0.6", label="normal 25-75 %"
    )
    ax_ref.plot(_reference_level(reference, 0.5), bands, color="black", linewidth=1.0, label="normal median")
    ax_ref.plot(np.median(spec, axis=1), bands, color=ANOMALY_COLOR, linewidth=1.2, label="this clip (median)")
    ax_ref.set_xlim(low, high)
    ax_ref.set_xlabel("Level (dB)")
    ax_ref.set_title("Normal reference", fontsize="medium")
    ax_ref.tick_params(labelleft=False)
    ax_ref.grid(True, alpha=0.3)
    ax_ref.legend(loc="lower left", fontsize="x-small", framealpha=0.9)

    image = _band_image(ax_dev, deviation, hop_seconds, duration, "RdBu_r", -DEVIATION_RANGE_DB, DEVIATION_RANGE_DB,
                        "deviation")  # fmt: skip
    colorbar = figure_of(ax_dev).colorbar(image, ax=[ax_dev, ax_text], pad=0.01, fraction=0.04, extend="both")
    colorbar.set_label("dB from the nearest normal frames" if explanation.nearest else "dB from normal median")
    edges_mel = hz_to_mel(explanation.band_edges)
    centres = (edges_mel[:-1] + edges_mel[1:]) / 2

    def band_position(hz):
        return float(np.interp(hz_to_mel(hz), centres, bands))

    shown = explanation.findings[:_FINDINGS_SHOWN]
    for number, finding in enumerate(shown, start=1):
        bottom, top = band_position(finding.low_hz) - 0.5, band_position(finding.high_hz) + 0.5
        box = Rectangle(
            (finding.start, bottom), finding.end - finding.start, top - bottom, fill=False, linewidth=1.4,
            edgecolor="black", gid="finding",
        )  # fmt: skip
        ax_dev.add_patch(box)
        ax_dev.annotate(
            str(number),
            (finding.start, top),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize="small",
            fontweight="bold",
            va="top",
            bbox=dict(boxstyle="square,pad=0.1", facecolor="white", alpha=0.8, edgecolor="none"),
        )  # fmt: skip
    ax_dev.set_title("Deviation from normal (red: louder, blue: quieter); findings boxed", fontsize="medium")
    _hz_ticks(ax_dev, sr, n_mels)

    ax_text.axis("off")
    lines = ["Findings (band, time, change, share)"]
    lines += [
        f"{n}. {f.band}\n   {_when(f, start)}  {f.change_db:+.0f} dB  {f.share:.0%}"
        for n, f in enumerate(shown, start=1)
    ] or [textwrap.fill(explanation.flagged_by, 34) if explanation.flagged_by else "no band departs from normal"]
    if len(explanation.findings) > len(shown):
        lines.append(f"and {len(explanation.findings) - len(shown)} smaller (audioad.explain lists all)")
    ax_text.text(0.02, 0.98, "\n".join(lines), va="top", ha="left", fontsize="small", family="monospace",
                 transform=ax_text.transAxes)  # fmt: skip

    last = ax_dev
    if frame_scores is not None:
        ax_scores, ax_off = axes[2]
        ax_scores.set_label("scores")
        ax_off.set_label("<unused>")
        ax_off.axis("off")
        ax_scores.sharex(ax_spec)
        ax_dev.tick_params(labelbottom=False)
        times, scores = (np.asarray(a, dtype=np.float64).ravel() for a in frame_scores)
        _draw_window_scores(
            ax_scores, ax_spec, times, scores, threshold, window_seconds, None, hop_seconds, duration,
            threshold_label=threshold_label,
        )  # fmt: skip
        # In the empty cell beside it, where it hides neither the scores nor the clip score's text.
        handles, labels = ax_scores.get_legend_handles_labels()
        legend = ax_scores.legend(
            handles, [label.replace(" (", "\n(") for label in labels], loc="upper left", bbox_to_anchor=(1.01, 1.0),
            fontsize="small",
        )  # fmt: skip
        legend.set_in_layout(False)  # the cell it lies in is empty: the layout need not make room for it
        if clip_score is not None:
            verdict = ""
            if clip_threshold is not None:
                verdict = " \u2192 ANOMALOUS" if clip_score > clip_threshold else " \u2192 normal"
                verdict = f" (clip threshold {clip_threshold:.3g}){verdict}"
            ax_scores.text(
                0.01, 0.95, f"clip score {clip_score:.3g}{verdict}", transform=ax_scores.transAxes, va="top",
                fontsize="small", gid="clip-score", bbox=dict(boxstyle="round", facecolor="white", alpha=0.85,
                edgecolor="none"),
            )  # fmt: skip
        if threshold is None:
            ax_scores.set_title("Window scores (no window threshold: see audioad.window_threshold)", fontsize="medium")
        last = ax_scores
    if start is None:
        last.set_xlabel("Time (s)")
    else:
        clock_axis(last, start, duration)
    # Wrapped: a long file name and its finding would run off both sides of the figure.
    fig.suptitle(textwrap.fill(title or f"{explanation.clip}: {explanation.summary(1)}", 100))
    return figure_of(ax_spec)


def spectrogram_frontend(detector):
    """The log-mel front end a picture of ``detector``'s clips is drawn with: the detector's own.

    An ensemble's is its first log-mel member's; a detector that makes no log-mel (an encoder's
    embeddings) gets :class:`~audioad.detectors.frontend.LogMelFrontend`'s defaults at its rate.

    Examples
    --------
    >>> from audioad import EmbeddingOD, MelKNN, default_detector
    >>> spectrogram_frontend(MelKNN(n_mels=32)).n_mels, spectrogram_frontend(default_detector()).n_mels
    (32, 128)
    >>> spectrogram_frontend(EmbeddingOD.for_audio("fast", sr=8000)).sr
    8000
    """
    part = log_mel_part(detector.frontend)
    return LogMelFrontend(sr=detector.sr) if part is None else part[0]


def plot_clip(detector, clip, *, start=None, score_clip=True, title=None, fig=None, path=None, dpi=150):
    """Plot one clip as a fitted detector hears it: spectrogram, window scores, threshold.

    The clip is loaded at the detector's ``sr``. A detector that recorded its normal reference
    at fit (every log-mel detector, ``band_levels_``) gets :func:`plot_explanation`: the
    spectrogram on the model's fixed level scale beside the normal reference, the deviation map
    with the findings of :func:`audioad.explain.explain`, and, for a detector that scores windows,
    the window scores against the window threshold (``window_threshold_``, see
    :func:`audioad.window_threshold.calibrate_window_threshold`; none is drawn until it is
    calibrated, since the clip threshold is for clip scores) with the clip score and its
    verdict. Otherwise the spectrogram is drawn as the detector's front end makes it
    (:func:`spectrogram_frontend`): with :func:`plot_frame_scores` for a window detector, alone
    and annotated with the clip's score, the threshold and the verdict for one that scores whole
    clips.

    Parameters
    ----------
    detector : ClipDetector
        A fitted audioad detector.
    clip : str, pathlib.Path, array-like or tuple
        One clip in any form :func:`~audioad.audio.load_audio` accepts; a bare array is taken
        to be at the detector's ``sr``.
    start : float or None
        Where the clip lies in its recording, in seconds (an excerpt of a long recording): the
        time axis then reads as time in the recording (h:mm:ss); ``None`` reads seconds from 0.
    score_clip : bool, default True
        Score the clip as a whole and show its score and verdict; ``False`` for an excerpt
        of a recording, whose segments are what is scored.
    title : str or None
        Title of the figure; ``None`` names the detector and, for a path, the file.
    fig : matplotlib.figure.Figure or SubFigure, optional
        An empty figure to draw into; ``None`` makes a new one.
    path : str or pathlib.Path, optional
        Also save the figure there (format from the extension), via :func:`save_figure`.
    dpi : int, default 150
        Resolution of the saved file.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import EmbeddingOD
    >>> clips = [np.random.default_rng(s).standard_normal(8000) for s in range(12)]
    >>> detector = EmbeddingOD.for_audio("fast", sr=16000).fit(clips)
    >>> fig = plot_clip(detector, clips[0])  # a whole-clip detector: spectrogram and score
    >>> [ax.get_label() for ax in fig.axes]
    ['spectrogram', '<colorbar>']
    """
    y, sr = load_audio(clip, sr=detector.sr)
    frontend = spectrogram_frontend(detector)
    settings = {
        "n_fft": frontend.n_fft,
        "hop_length": frontend.hop_length,
        "n_mels": frontend.n_mels,
        "log": frontend.log,
    }
    if title is None:
        title = type(detector).__name__
        if isinstance(clip, (str, Path)):
            title += f": {Path(clip).name}"
    score = float(detector.decision_function([(y, sr)])[0]) if score_clip else None
    threshold = float(detector.threshold_)
    try:
        frames = detector.frame_scores([(y, sr)])[0]
    except TypeError:
        frames = None
    # an ensemble's windows are its frame detector's
    context = getattr(getattr(detector, "frame_detector", None) or detector, "context", 1)
    if getattr(detector, "band_levels_", None) is not None:
        from ..explain import explain

        explanation = explain(detector, [(y, sr)])[0]
        summary = explanation.summary(1)
        if start is not None and explanation.findings:
            first = explanation.findings[0]
            summary = f"{first.change_db:+.0f} dB at {first.band}, {_when(first, start)} ({first.share:.0%})"
        rate = getattr(detector, "window_false_alarm_rate_", None)
        figure = plot_explanation(
            explanation,
            frames,
            getattr(detector, "window_threshold_", None),
            sr=sr,
            window_seconds=(context - 1) * settings["hop_length"] / sr,
            clip_score=score,
            clip_threshold=threshold,
            threshold_label="window threshold" + ("" if rate is None else f" ({rate:.0%} of normal windows above)"),
            start=start,
            title=f"{title}: {summary}",
            fig=fig,
        )
    elif frames is not None:
        figure = plot_frame_scores(
            y,
            sr,
            frames,
            threshold,
            **settings,
            window_seconds=(context - 1) * settings["hop_length"] / sr,
            clip_score=score,
            start=start,
            title=title,
            fig=fig,
        )
    else:
        fig = new_figure(fig, (9.0, 4.0))
        ax = fig.subplots()
        ax.set_label("spectrogram")
        _draw_log_mel(ax, y, sr, settings["n_fft"], settings["hop_length"], settings["n_mels"], settings["log"])
        if start is None:
            ax.set_xlabel("Time (s)")
        else:
            clock_axis(ax, start, len(y) / sr)
        if score is not None:
            verdict = "ANOMALOUS" if score > threshold else "normal"
            ax.text(
                0.01,
                0.97,
                f"clip score {score:.3g}   threshold {threshold:.3g}   \u2192 {verdict}",
                transform=ax.transAxes,
                va="top",
                ha="left",
                fontsize="medium",
                gid="clip-score",
                color=THRESHOLD_COLOR if score > threshold else "black",
                bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="none"),
            )
        ax.set_title("Log-mel spectrogram (this detector scores whole clips)", fontsize="medium")
        fig.suptitle(title)
        figure = figure_of(ax)
    if path is not None:
        save_figure(figure, path, dpi=dpi)
    return figure
