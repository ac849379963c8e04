"""What every picture shares: a new figure, its colours, clock-time axes, and saving it to a file."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator

__all__ = [
    "THRESHOLD_COLOR",
    "NORMAL_COLOR",
    "ANOMALY_COLOR",
    "new_figure",
    "figure_of",
    "clock",
    "clock_axis",
    "save_figure",
]

#: A threshold and what lies above it, in every picture.
THRESHOLD_COLOR = "tab:red"
#: Normal clips.
NORMAL_COLOR = "tab:blue"
#: Anomalous clips, and a clip beside the normal reference.
ANOMALY_COLOR = "tab:orange"
# Steps between time ticks on a recording's clock (seconds): the first that leaves few enough ticks.
_CLOCK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def new_figure(fig, figsize):
    """``fig``, or a new figure of ``figsize`` inches laid out by matplotlib's constrained layout."""
    return Figure(figsize=figsize, layout="constrained") if fig is None else fig


def figure_of(ax):
    """The Figure that holds ``ax``, the one that saves (an Axes in a SubFigure reports the SubFigure)."""
    return ax.figure.figure


def clock(seconds, with_seconds=True, decimals=0):
    """``seconds`` into a recording as h:mm:ss (h:mm without seconds), with ``decimals`` on the seconds."""
    scale = 10**decimals
    whole, fraction = divmod(int(round(seconds * scale)), scale)
    minutes, s = divmod(whole, 60)
    h, m = divmod(minutes, 60)
    if not with_seconds:
        return f"{h}:{m:02d}"
    return f"{h}:{m:02d}:{s:02d}" + (f".{fraction:0{decimals}d}" if decimals else "")


def clock_axis(ax, start, span, max_ticks=8):
    """Label the time axis of ``ax`` (seconds from ``start``, ``span`` of them shown) as clock times, at round steps."""
    step = next((s for s in _CLOCK_STEPS if span / s <= max_ticks), _CLOCK_STEPS[-1])
    with_seconds = step % 60 != 0
    ax.xaxis.set_major_locator(MultipleLocator(step, offset=-start % step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: clock(start + x, with_seconds)))
    ax.set_xlabel(f"Time in the recording ({'h:mm:ss' if with_seconds else 'h:mm'})")


def save_figure(fig, path, dpi=150):
    """Save a figure, making its folder if needed; the format follows the extension.

    Written beside ``path`` and renamed over it once complete, through
    :func:`audioad.outputs.atomic_path`: never through a link, never over audio.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        What one of the plotting functions returned.
    path : str or pathlib.Path
        Where to write it: ``.png``, ``.pdf``, ``.svg``, ...
    dpi : int, default 150
        Resolution of raster formats.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from audioad.plotting import plot_score_histogram
    >>> fig = plot_score_histogram([0.1, 0.2, 0.9])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = save_figure(fig, pathlib.Path(folder) / "scores.png")
    ...     out.read_bytes()[:4]
    b'\\x89PNG'
    """
    from ..outputs import atomic_path

    path = Path(path)
    with atomic_path(path) as part:
        fig.savefig(part, dpi=dpi, facecolor="white")
    return path
