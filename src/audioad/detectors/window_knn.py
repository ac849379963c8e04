"""WindowKNN: k-NN distance of every log-mel context window to normal training windows.

Pooling a clip into one vector averages a short event away; scoring each
window on its own does not. Each window of ``context`` consecutive log-mel
frames is compared with a random subsample of the training clips' windows,
its score is the distance to the nearest of them, and a clip scores the mean
of its worst ``top_fraction`` of windows: a click, a rattle or a missing
harmonic that lasts a tenth of the clip counts fully, where the clip mean
would dilute it tenfold. ``context=1`` compares single spectral frames;
longer windows also see how the spectrum moves.
"""

from __future__ import annotations

import numpy as np

from ..features import WindowBank
from .frontend import check_positive_integers
from .knn import nearest_distances
from .log_mel import LogMelDetector
from .pooled import standardisation
from .schema import Array, Bool, Float, Int, NoneOr

__all__ = ["WindowKNN"]

# Windows standardised and scored per block.
_SCORING_BATCH = 4096


class WindowKNN(LogMelDetector):
    """Nearest-neighbour distance of log-mel context windows; a clip scores its worst windows.

    Parameters
    ----------
    context : int, default 1
        Consecutive frames in one window; 1 compares spectral frames.
    window_hop : int, default 1
        Frames between the starts of consecutive windows: 1 scores every
        window, 2 every other one for half the work. Every frame is still
        seen while ``window_hop <= context``.
    n_neighbors : int, default 1
        A window's score is its distance to the ``n_neighbors``-th nearest
        reference window.
    max_windows : int, default 10000
        Reference windows drawn at random from the training clips: bounds
        memory and time on large training sets (scoring is one matrix product
        of the clip's windows with the references).
    top_fraction : float in (0, 1], default 0.1
        A clip's score is the mean of its highest-scoring windows, this share
        of them (at least one); 1 is the mean of all its windows.
    sr : int, default 16000
        Rate clips are loaded at; other rates are resampled.
    n_fft : int, default 1024
        FFT size in samples.
    hop_length : int, default 512
        STFT hop in samples.
    n_mels : int, default 128
        Mel bands.
    log : {"db", "dcase"}, default "db"
        Log convention of :func:`~audioad.features.log_mel`.
    standardize : bool, default True
        Scale each window value to zero mean, unit variance over the reference windows.
    random_state : int or None, default 0
        Seed of the reference subsample.
    contamination : float, default 0.1
        Expected share of anomalous training clips; sets ``threshold_``.
    threshold_rule : {"contamination", "gamma"}, default "contamination"
        How ``threshold_`` is set from the training scores.
    n_jobs : int or None
        Threads for decoding clips; ``None`` uses every core.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (n_clips,)
        Held-out scores of the training clips: each fold of them scored by
        references drawn from the other folds.
    threshold_ : float
        Scores above it are labelled anomalous.
    labels_ : numpy.ndarray of shape (n_clips,)
        Labels of the training clips (0 normal, 1 anomalous).
    reference_windows_ : numpy.ndarray of shape (n_references, n_features_)
        Standardised reference windows, float32.
    window_mean_, window_scale_ : numpy.ndarray of shape (n_features_,)
        Standardisation of the windows (0 and 1 when ``standardize=False``).
    n_features_ : int
        Window length, ``n_mels * context``.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.detectors.window_knn import WindowKNN
    >>> rng = np.random.default_rng(0)
    >>> normal = [0.1 * rng.standard_normal(16000) for _ in range(12)]
    >>> clicked = [n.copy() for n in normal[:3]]
    >>> for clip in clicked:
    ...     clip[8000:8200] += 2.0 * rng.standard_normal(200)
    >>> clf = WindowKNN().fit(normal[3:])
    >>> bool(clf.decision_function(clicked).min() > clf.decision_function(normal[:3]).max())
    True
    >>> frames = clf.frame_scores(clicked[:1])[0]
    >>> float(frames.times[np.argmax(frames.scores)]) in (0.448, 0.48, 0.512)
    True
    """

    params_schema = {
        **LogMelDetector.params_schema,
        "context": Int(1, 64),
        "max_windows": Int(1, 10_000_000),
        "n_neighbors": Int(1, 100_000),
        "random_state": NoneOr(Int(0, 2**32 - 1)),
        "standardize": Bool(),
        "top_fraction": Float(0.0, 1.0),
        "window_hop": Int(1, 10_000),
    }
    state_schema = {
        **LogMelDetector.state_schema,
        "n_features_": Int(1, 2**16, dim="n_features"),
        "window_mean_": Array("f", ("n_features",)),
        "window_scale_": Array("f", ("n_features",)),
        "reference_windows_": Array("f", ("n_windows", "n_features")),
    }

    def __init__(
        self,
        context=1,
        window_hop=1,
        n_neighbors=1,
        max_windows=10000,
        top_fraction=0.1,
        sr=16000,
        n_fft=1024,
        hop_length=512,
        n_mels=128,
        log="db",
        standardize=True,
        random_state=0,
        contamination=0.1,
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(contamination=contamination)
        self.context = context
        self.window_hop = window_hop
        self.n_neighbors = n_neighbors
        self.max_windows = max_windows
        self.top_fraction = top_fraction
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.log = log
        self.standardize = standardize
        self.random_state = random_state
        self.threshold_rule = threshold_rule
        self.n_jobs = n_jobs

    def check_parameters(self):
        super().check_parameters()
        check_positive_integers(self, ("context", "window_hop", "n_neighbors", "max_windows"))
        if not 0.0 < self.top_fraction <= 1.0:
            raise ValueError(f"top_fraction must lie in (0, 1], got {self.top_fraction!r}")

    scores_windows = True

    # -- fitting -------------------------------------------------------------

    def restore(self):
        self.check_feature_count(self.context)

    def fit_features(self, specs):
        """Draw the reference windows from the training clips and standardise them."""
        if len(specs) < 2:
            # A clip's windows would find themselves: a threshold needs clips held out.
            raise ValueError(f"WindowKNN needs at least 2 training clips, got {len(specs)}")
        bank = WindowBank(specs, self.context, self.window_hop)
        self.n_features_ = bank.n_features
        rng = np.random.default_rng(self.random_state)
        index = np.sort(rng.choice(len(bank), min(self.max_windows, len(bank)), replace=False))
        windows = bank.take(index)
        if self.standardize:
            self.window_mean_, self.window_scale_ = standardisation(windows)
        else:
            self.window_mean_ = np.zeros(self.n_features_, np.float32)
            self.window_scale_ = np.ones(self.n_features_, np.float32)
        self.reference_windows_ = self._standardised(windows)
        return self

    def _standardised(self, windows):
        return (windows - self.window_mean_) / self.window_scale_

    # -- scoring -------------------------------------------------------------

    def clip_scores(self, windows):
        """A clip's score: the mean of its ``top_fraction`` highest window scores."""
        clip_scores = []
        for scores in windows:
            n_top = max(1, int(np.ceil(self.top_fraction * len(scores))))
            clip_scores.append(np.partition(scores, len(scores) - n_top)[len(scores) - n_top :].mean())
        return np.asarray(clip_scores)

    @property
    def window_hop_seconds(self):
        return self.window_hop * self.frontend.hop_seconds

    def score_features(self, specs):
        return self.clip_scores(self.window_scores(specs))

    def window_scores(self, specs):
        bank = WindowBank(specs, self.context, self.window_hop)
        scores = np.empty(len(bank), dtype=np.float64)
        for index, windows in bank.batches(_SCORING_BATCH):
            distances = nearest_distances(self._standardised(windows), self.reference_windows_, self.n_neighbors)
            scores[index] = distances[:, -1]
        return bank.split(scores)
