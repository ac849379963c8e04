"""Pictures of what a detector hears: a clip, a long recording, an evaluation.

- :func:`plot_frame_scores`: a clip's log-mel spectrogram above its window scores, on one
  time axis, with the threshold and the stretches above it marked;
- :func:`plot_explanation`: a clip's spectrogram beside the normal reference, its deviation map
  (dB from normal over time and band) with its findings, and its window scores;
- :func:`plot_clip`: one clip straight from a fitted detector (with the deviation map where the
  detector recorded its normal reference);
- :func:`plot_recording`: a long recording's segment scores over time, and its worst minute in detail;
- :func:`plot_roc`: ROC curve with AUC and the DCASE pAUC;
- :func:`plot_score_histogram`: scores of normal and anomalous clips, and the threshold.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing
needs a display and no global figure state is touched; save it with :func:`save_figure` or
``fig.savefig``. Pass ``ax`` (or ``fig``) to draw into a figure of your own.

The pictures live in :mod:`.clip`, :mod:`.recording` and :mod:`.evaluation`; what they share
(colours, clock-time axes, new figures, saving) in :mod:`.figures`.
"""

from .clip import DEVIATION_RANGE_DB, level_range, plot_clip, plot_explanation, plot_frame_scores
from .evaluation import plot_roc, plot_score_histogram
from .figures import save_figure
from .recording import DETAIL_SECONDS, plot_recording

__all__ = [
    "plot_frame_scores",
    "plot_explanation",
    "plot_clip",
    "plot_recording",
    "plot_roc",
    "plot_score_histogram",
    "save_figure",
    "level_range",
    "DEVIATION_RANGE_DB",
    "DETAIL_SECONDS",
]
