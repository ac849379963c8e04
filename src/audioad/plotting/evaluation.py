"""Pictures of an evaluation: how well scores separate normal from anomalous clips (ROC, score histograms)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import roc_curve

from ..metrics import MAX_FPR, auc, check_labels, check_labels_and_scores, pauc, rates_at
from ..thresholds import check_scores
from .figures import ANOMALY_COLOR, NORMAL_COLOR, THRESHOLD_COLOR, figure_of, new_figure

__all__ = ["plot_roc", "plot_score_histogram"]


def plot_roc(y_true, scores, *, max_fpr=MAX_FPR, label=None, ax=None):
    """ROC curve of clip scores, with AUC and pAUC in the legend and the pAUC region shaded.

    Call it again with the same ``ax`` to compare detectors on one plot.

    Parameters
    ----------
    y_true : array-like of shape (n_clips,)
        0 normal, 1 anomalous (bools and ``'normal'``/``'anomaly'`` too).
    scores : array-like of shape (n_clips,)
        Anomaly scores, higher = more abnormal.
    max_fpr : float, default 0.1
        Largest false-positive rate of the pAUC (DCASE's 0.1); that region is shaded.
    label : str or None
        Name of the curve in the legend, before its AUC and pAUC.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_roc([0, 0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.3], label="AudioAE")
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'AudioAE: AUC 0.667, pAUC 0.737'
    """
    labels, scores = check_labels_and_scores(y_true, scores)
    area, partial = auc(labels, scores), pauc(labels, scores, max_fpr=max_fpr)
    fpr, tpr, _ = roc_curve(labels, scores)
    if ax is None:
        ax = new_figure(None, (5.5, 5.0)).subplots()
    first = not any(patch.get_gid() == "pauc-region" for patch in ax.patches)
    if first:
        ax.axvspan(
            0.0,
            max_fpr,
            color="0.85",
            alpha=0.6,
            linewidth=0,
            gid="pauc-region",
            label=f"pAUC region (FPR \u2264 {max_fpr:g})",
        )
        ax.plot([0, 1], [0, 1], color="0.5", linestyle=":", linewidth=1, label="chance", gid="chance")
    name = f"{label}: " if label else ""
    # Unclipped, so a curve running along an edge of the plot is not hidden by the frame.
    ax.plot(
        fpr,
        tpr,
        linewidth=1.8,
        drawstyle="steps-post",
        clip_on=False,
        zorder=3,
        label=f"{name}AUC {area:.3f}, pAUC {partial:.3f}",
    )
    if first:
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate (normal clips flagged)")
        ax.set_ylabel("True positive rate (anomalies caught)")
        ax.set_title("ROC curve")
        ax.grid(True, alpha=0.3)
    # Curves first, then the chance line and the region, in the legend.
    handles, texts = ax.get_legend_handles_labels()
    order = sorted(range(len(texts)), key=lambda i: (handles[i].get_gid() in ("pauc-region", "chance"), i))
    ax.legend([handles[i] for i in order], [texts[i] for i in order], loc="lower right", fontsize="small")
    return figure_of(ax)


def plot_score_histogram(scores, labels=None, threshold=None, *, ax=None, bins="auto"):
    """Histograms of the scores of normal and anomalous clips, overlaid, with the threshold.

    Parameters
    ----------
    scores : array-like of shape (n_clips,)
        Anomaly scores, higher = more abnormal.
    labels : array-like of shape (n_clips,) or None
        0 normal, 1 anomalous (bools and ``'normal'``/``'anomaly'`` too); ``None`` draws
        one histogram of all the scores.
    threshold : float or None
        Drawn as a dashed red vertical line (a detector's ``threshold_``), labelled with the
        share of normal clips it flags (false alarms) and of anomalous clips (detections).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; ``None`` makes a new figure.
    bins : int, sequence or str, default "auto"
        As :func:`numpy.histogram_bin_edges` takes it; both classes share the same bins.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_score_histogram([0.1, 0.2, 0.25, 0.9, 1.1], [0, 0, 0, 1, 1], threshold=0.5)
    >>> for text in fig.axes[0].get_legend().get_texts():
    ...     print(text.get_text())
    normal (3 clips)
    anomalous (2 clips)
    threshold 0.5:
    0% of normal flagged (false alarms)
    100% of anomalous flagged (detected)
    """
    scores = check_scores(scores, name="scores")
    if ax is None:
        ax = new_figure(None, (6.5, 4.0)).subplots()
    edges = np.histogram_bin_edges(scores if threshold is None else np.append(scores, float(threshold)), bins=bins)
    if labels is None:
        groups = [("clips", scores, NORMAL_COLOR)]
    else:
        labels = check_labels(labels).ravel()
        if labels.shape != scores.shape:
            raise ValueError(f"got {scores.size} scores but {labels.size} labels; pass one label per clip")
        groups = [
            ("normal", scores[labels == 0], NORMAL_COLOR),
            ("anomalous", scores[labels == 1], ANOMALY_COLOR),
        ]
    for name, values, color in groups:
        if values.size:
            ax.hist(
                values,
                bins=edges,
                alpha=0.55,
                color=color,
                edgecolor=color,
                linewidth=0.8,
                label=f"{name} ({values.size} clips)",
            )
    if threshold is not None:
        label = f"threshold {float(threshold):.3g}"
        if labels is not None:
            false_alarms, detections = rates_at(labels, scores, threshold)
            label += ":" + "".join(
                f"\n{rate:.0%} of {name} flagged ({what})"
                for rate, name, what in (
                    (false_alarms, "normal", "false alarms"),
                    (detections, "anomalous", "detected"),
                )
                if np.isfinite(rate)
            )
        else:
            label += f": {np.mean(scores > float(threshold)):.0%} of clips flagged"
        ax.axvline(float(threshold), color=THRESHOLD_COLOR, linestyle="--", linewidth=1.8, label=label)
    ax.set_xlabel("Anomaly score (higher = more abnormal)")
    ax.set_ylabel("Number of clips")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Score distribution")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    return figure_of(ax)
