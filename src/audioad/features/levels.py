"""The distribution of each mel band's level over many frames: the normal reference of a spectrogram.

:class:`BandLevels` takes log-mel spectrograms one at a time and keeps, per band, a histogram
of its frames' levels in steps of :data:`LEVEL_STEP_DB`, so that the quantiles of every band
over all the training frames are known without holding the frames: memory is fixed whatever
the number of clips, and the result does not depend on the order the clips came in.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BandLevels", "LEVEL_QUANTILES", "LEVEL_STEP_DB"]

#: Resolution of the levels' histogram, in dB: quantiles are exact to this step.
LEVEL_STEP_DB = 0.1
#: Quantiles of each band's level that :meth:`BandLevels.quantiles` gives by default.
LEVEL_QUANTILES = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
# Range of the histogram; levels outside it count at its edges (log-mel in dB lives well inside).
_LOWEST_DB, _HIGHEST_DB = -250.0, 250.0


class BandLevels:
    """Per mel band, the histogram of its level over every frame added.

    Parameters
    ----------
    n_mels : int
        Number of bands of the spectrograms that will be added.

    Attributes
    ----------
    n_frames : int
        Frames added so far.

    Examples
    --------
    >>> levels = BandLevels(n_mels=2)
    >>> levels.add(np.array([[-10.0, -20.0, -30.0], [0.0, 0.0, 5.0]]))
    >>> levels.quantiles([0.5]).round().tolist(), levels.n_frames
    ([[-20.0, 0.0]], 3)
    """

    def __init__(self, n_mels):
        self.n_mels = int(n_mels)
        self._n_bins = int(round((_HIGHEST_DB - _LOWEST_DB) / LEVEL_STEP_DB))
        self._counts = np.zeros(self.n_mels * self._n_bins, dtype=np.int64)
        self.n_frames = 0

    def add(self, spec):
        """Count the frames of one (n_mels, n_frames) log-mel spectrogram in dB."""
        spec = np.asarray(spec)
        if spec.ndim != 2 or spec.shape[0] != self.n_mels:
            raise ValueError(f"expected a ({self.n_mels}, n_frames) spectrogram, got shape {spec.shape}")
        bins = np.floor((spec.astype(np.float64) - _LOWEST_DB) / LEVEL_STEP_DB)
        bins = np.clip(bins, 0, self._n_bins - 1).astype(np.int64)
        bins += (np.arange(self.n_mels) * self._n_bins)[:, None]
        self._counts += np.bincount(bins.ravel(), minlength=self._counts.size)
        self.n_frames += spec.shape[1]

    def quantiles(self, q=LEVEL_QUANTILES):
        """Each band's level at the quantiles ``q``: an array (len(q), n_mels) in dB (bin centres)."""
        if self.n_frames == 0:
            raise ValueError("no frames were added")
        cumulative = np.cumsum(self._counts.reshape(self.n_mels, self._n_bins), axis=1)
        ranks = np.asarray(q, dtype=np.float64)[:, None] * (self.n_frames - 1)
        index = np.array([[np.searchsorted(row, rank, side="right") for row in cumulative] for rank in ranks[:, 0]])
        return _LOWEST_DB + (index + 0.5) * LEVEL_STEP_DB
