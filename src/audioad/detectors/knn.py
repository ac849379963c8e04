"""MelKNN: distance from a clip's pooled log-mel vector to its nearest normal training clips.

The simplest strong detector of anomalous machine sound: standardise the
time-pooled log-mel spectrum of every clip and score a clip by its Euclidean
distance to the nearest training clip (or the mean over the ``n_neighbors``
nearest). A new clip that sounds like some normal clip scores low whatever
the shape of the normal set (several speeds, loads, microphones), which a
single Gaussian cannot promise.

With ``metric="mahalanobis"`` the distance is measured in the metric of the
training clips' covariance, shrunk towards the identity: a change along which
normal clips vary together (the harmonics and bands that move with the speed
of a machine run at many speeds) costs little, and a change no normal clip
shows (a new tone, a new resonance) costs much. With fewer training clips
than values in a vector, which is the usual case, that is mostly the part of
a clip that lies outside the span of the normal clips.
"""

from __future__ import annotations

import numpy as np

from ..features import serial_matmul
from .pooled import PooledMelDetector
from .schema import Array, Float, Int, NoneOr, Str

__all__ = ["MelKNN", "nearest_distances", "squared_distances", "whitening", "KNN_METHODS", "KNN_METRICS"]

#: How the distances to the ``n_neighbors`` nearest references become a score.
KNN_METHODS = ("largest", "mean")

#: The distances MelKNN measures: plain, or in the metric of the training clips' covariance.
KNN_METRICS = ("euclidean", "mahalanobis")

# Entries of one block of the distance matrix (16 MB in float32): bounds its memory, and
# is large enough for an efficient matrix product.
_BLOCK_ENTRIES = 1 << 22

# Values of the (candidate, feature) differences recomputed at once in float64 (32 MB).
_EXACT_VALUES = 1 << 22


def squared_distances(queries, references):
    """Exact squared Euclidean distance of each query row to the reference row beside it, in float64.

    Each distance is a function of its two rows alone (differences, squares, one
    pairwise sum per row), not of the other rows, so it is the same however
    the pairs are batched.

    Examples
    --------
    >>> squared_distances(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[3.0, 4.0], [1.0, 1.0]])).tolist()
    [25.0, 0.0]
    """
    difference = np.asarray(queries, dtype=np.float64) - np.asarray(references, dtype=np.float64)
    np.square(difference, out=difference)
    return difference.sum(axis=1)


def nearest_distances(queries, references, n_neighbors=1, query_groups=None, reference_groups=None):
    """Euclidean distances from each query to its ``n_neighbors`` nearest references, nearest first.

    Exact, and a query's distances depend on that query alone, not on the
    other queries it is batched with: references are shortlisted by the fast
    expansion ``|q|^2 + |r|^2 - 2 q.r`` (one matrix product per block of
    queries), with a margin that covers its rounding error (Higham's bound
    for a dot product of ``n_features`` terms), and the distances to the
    shortlisted references are computed again directly in float64. A
    query's distance to its own twin is 0.

    A query ignores the references of its own group, so scoring the training
    set against itself gives leave-one-out distances (groups = clip indices)
    or leave-one-clip-out distances for the windows of clips (groups = the
    clip of each window).

    Parameters
    ----------
    queries : numpy.ndarray of shape (n_queries, n_features)
    references : numpy.ndarray of shape (n_references, n_features)
    n_neighbors : int
        Neighbours kept; at most the number of references a query may see.
    query_groups, reference_groups : numpy.ndarray of int or None
        Group of each query and reference; both or neither.

    Returns
    -------
    numpy.ndarray of shape (n_queries, n_neighbors), float64
        A query with fewer than ``n_neighbors`` references outside its group
        gets ``inf`` for the missing ones.

    Examples
    --------
    >>> refs = np.array([[0.0], [1.0], [3.0]])
    >>> nearest_distances(np.array([[0.9]]), refs, n_neighbors=2).round(2).tolist()
    [[0.1, 0.9]]
    >>> nearest_distances(refs, refs, query_groups=np.arange(3), reference_groups=np.arange(3)).ravel().tolist()
    [1.0, 1.0, 2.0]
    """
    queries = np.asarray(queries)
    references = np.asarray(references)
    dtype = np.result_type(queries.dtype, references.dtype, np.float32)
    queries, references = queries.astype(dtype, copy=False), references.astype(dtype, copy=False)
    distances = np.full((len(queries), n_neighbors), np.inf)
    n_kept = min(n_neighbors, len(references))
    if n_kept == 0 or len(queries) == 0:
        return distances
    scaled = -2.0 * references.T
    reference_sq = np.einsum("ij,ij->i", references, references)
    # The expansion's rounding error is at most (n + 2) u (|q|^2 + 2 |r|^2) for a dot product of
    # n terms in a type of unit roundoff u; twice that separates a shortlisted reference from any
    # other, and eps = 2u.
    error_per_norm = (queries.shape[1] + 2) * np.finfo(dtype).eps * 1.01
    largest_reference_sq = 2.0 * float(reference_sq.max())
    rows = max(1, _BLOCK_ENTRIES // len(references))
    for start in range(0, len(queries), rows):
        block = queries[start : start + rows]
        partial = block @ scaled
        partial += reference_sq
        if query_groups is not None:
            block_groups = query_groups[start : start + rows]
            for group in np.unique(block_groups):
                partial[np.ix_(block_groups == group, reference_groups == group)] = np.inf
        kth = np.partition(partial, n_kept - 1, axis=1)[:, n_kept - 1]
        margin = error_per_norm * (np.einsum("ij,ij->i", block, block) + largest_reference_sq)
        # ``partial`` lacks |q|^2, the same along a row: compare within rows only.
        shortlist = (partial <= (kth + margin)[:, None]) & np.isfinite(partial)
        distances[start : start + len(block)] = _exact_nearest(block, references, shortlist, n_neighbors)
    return distances


def _exact_nearest(queries, references, shortlist, n_neighbors):
    """The ``n_neighbors`` smallest exact distances from each query to its shortlisted references."""
    rows, columns = np.nonzero(shortlist)
    squared = np.empty(len(rows))
    step = max(1, _EXACT_VALUES // max(queries.shape[1], 1))
    for start in range(0, len(rows), step):
        pairs = slice(start, start + step)
        squared[pairs] = squared_distances(queries[rows[pairs]], references[columns[pairs]])
    order = np.lexsort((squared, rows))
    rows, squared = rows[order], squared[order]
    first = np.searchsorted(rows, np.arange(len(queries)))
    count = np.bincount(rows, minlength=len(queries))
    nearest = np.full((len(queries), n_neighbors), np.inf)
    for k in range(n_neighbors):
        has = count > k
        nearest[has, k] = np.sqrt(squared[first[has] + k])
    return nearest


def whitening(vectors, reg_covar):
    """The matrix ``W`` for which ``|x W - y W|`` is the Mahalanobis distance of the rows' covariance.

    The covariance (of the rows of ``vectors``, about their mean, divided by
    their number) gets ``reg_covar`` added to its diagonal, so that ``W`` exists
    with fewer rows than columns: a direction along which the rows do not vary
    is scaled by ``1 / sqrt(reg_covar)``.

    Parameters
    ----------
    vectors : numpy.ndarray
        (n_samples, n_features) rows, standardised so that ``reg_covar`` is a share of each column's variance.
    reg_covar : float
        Added to the covariance's diagonal; > 0.

    Returns
    -------
    numpy.ndarray of shape (n_features, n_features)

    Examples
    --------
    >>> x = np.array([[0.0, 0.0], [2.0, 0.0]])
    >>> w = whitening(x, reg_covar=1.0)
    >>> d = lambda a, b: float(np.linalg.norm((np.array(a) - np.array(b)) @ w))
    >>> round(d([0, 0], [1, 0]), 3), round(d([0, 0], [0, 1]), 3)  # along the rows' spread, and across it
    (0.707, 1.0)
    """
    centred = vectors - vectors.mean(axis=0)
    covariance = serial_matmul(np.ascontiguousarray(centred.T), centred) / max(len(vectors), 1)
    covariance[np.diag_indices_from(covariance)] += reg_covar
    variances, axes = np.linalg.eigh(covariance)
    return axes / np.sqrt(variances)


class MelKNN(PooledMelDetector):
    """k-nearest-neighbour distance on standardised, time-pooled log-mel spectra.

    A clip's score is its distance to the nearest normal training clip
    (``n_neighbors=1``), or the largest or mean distance to the
    ``n_neighbors`` nearest. The training clips' own scores are held out
    (:data:`~audioad.detectors.folds.TRAINING_FOLDS` consecutive folds), so
    that :attr:`threshold_` reflects clips the detector has not heard.

    Parameters
    ----------
    n_neighbors : int, default 1
        Neighbours a score looks at.
    method : {"largest", "mean"}, default "largest"
        Score by the distance to the ``n_neighbors``-th nearest training clip,
        or by the mean distance to the ``n_neighbors`` nearest.
    pooling : str or tuple of str, default "mean"
        Time pooling(s); the time-averaged spectrum is the classic training-free
        detector of stationary machine sound.
    metric : {"euclidean", "mahalanobis"}, default "euclidean"
        Distance between standardised vectors: Euclidean, or Mahalanobis in the
        training clips' covariance plus ``reg_covar`` on its diagonal (see
        :func:`whitening`), which discounts the ways normal clips vary together.
    reg_covar : float, default 0.1
        With ``metric="mahalanobis"``: added to the covariance's diagonal, a share
        of each standardised value's variance.
    sr, n_fft, hop_length, n_mels, decay, log, standardize, contamination, threshold_rule, n_jobs
        As in :class:`~audioad.detectors.pooled.PooledMelDetector`.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (n_clips,)
        Held-out scores of the training clips: each fold of them scored
        against the clips of the other folds.
    threshold_ : float
        Scores above it are labelled anomalous.
    labels_ : numpy.ndarray of shape (n_clips,)
        Labels of the training clips (0 normal, 1 anomalous).
    train_vectors_ : numpy.ndarray of shape (n_clips, n_features_)
        Standardised vectors of the training clips (whitened with ``metric="mahalanobis"``): the references.
    whitening_ : numpy.ndarray of shape (n_features_, n_features_) or None
        With ``metric="mahalanobis"``, the matrix that maps a standardised vector
        to one whose Euclidean distances are the Mahalanobis distances (None otherwise).
    feature_mean_, feature_scale_, n_features_
        As in :class:`~audioad.detectors.pooled.PooledMelDetector`.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.detectors.knn import MelKNN
    >>> rng = np.random.default_rng(0)
    >>> normal = [0.1 * rng.standard_normal(8000) for _ in range(20)]
    >>> t = np.arange(8000) / 16000
    >>> odd = [n + 0.2 * np.sin(2 * np.pi * 1000 * t) for n in normal[:3]]
    >>> clf = MelKNN().fit(normal[3:])
    >>> bool(clf.decision_function(odd).min() > clf.decision_function(normal[:3]).max())
    True
    """

    params_schema = {
        **PooledMelDetector.params_schema,
        "method": Str(),
        "metric": Str(),
        "n_neighbors": Int(1, 100_000),
        "reg_covar": Float(0.0),
    }
    state_schema = {
        **PooledMelDetector.state_schema,
        "whitening_": NoneOr(Array("f", ("n_features", "n_features"))),
        "train_vectors_": Array("f", ("n_train", "n_features")),
    }

    def __init__(
        self,
        n_neighbors=1,
        method="largest",
        sr=16000,
        n_fft=1024,
        hop_length=512,
        n_mels=128,
        pooling="mean",
        metric="euclidean",
        reg_covar=0.1,
        decay=0.99,
        log="db",
        standardize=True,
        contamination=0.1,
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(
            sr=sr,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            pooling=pooling,
            decay=decay,
            log=log,
            standardize=standardize,
            contamination=contamination,
            threshold_rule=threshold_rule,
            n_jobs=n_jobs,
        )
        self.n_neighbors = n_neighbors
        self.method = method
        self.metric = metric
        self.reg_covar = reg_covar

    def check_parameters(self):
        super().check_parameters()
        if not isinstance(self.n_neighbors, (int, np.integer)) or self.n_neighbors < 1:
            raise ValueError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        if self.method not in KNN_METHODS:
            raise ValueError(f"method must be one of {KNN_METHODS}, got {self.method!r}")
        if self.metric not in KNN_METRICS:
            raise ValueError(f"metric must be one of {KNN_METRICS}, got {self.metric!r}")
        if not isinstance(self.reg_covar, (int, float, np.number)) or not self.reg_covar > 0:
            raise ValueError(f"reg_covar must be a number > 0, got {self.reg_covar!r}")

    def _reduce(self, distances):
        return distances[:, -1] if self.method == "largest" else distances.mean(axis=1)

    def fit_vectors(self, vectors):
        """Keep the standardised training vectors: the references."""
        if len(vectors) < self.n_neighbors:
            raise ValueError(
                f"MelKNN with n_neighbors={self.n_neighbors} needs at least {self.n_neighbors} "
                f"training clips, got {len(vectors)}"
            )
        self.whitening_ = whitening(vectors, float(self.reg_covar)) if self.metric == "mahalanobis" else None
        self.train_vectors_ = self._whitened(vectors)

    def _whitened(self, vectors):
        if self.whitening_ is None:  # metric="euclidean"
            return vectors
        # a row at a time: each row's product is then the same whatever rows come with it
        return np.stack([row @ self.whitening_ for row in vectors]) if len(vectors) else vectors

    def score_vectors(self, vectors):
        return self._reduce(nearest_distances(self._whitened(vectors), self.train_vectors_, self.n_neighbors))

    def nearest_differences(self, features):
        """How each value of a clip's pooled vector differs from the training clip its score measures the distance to.

        That clip is the nearest (``method="mean"``) or the ``n_neighbors``-th nearest
        (``method="largest"``). Each value's part of the squared distance says which bands and
        poolings make the clip unlike it: in the Mahalanobis metric a value's part is its
        difference times the whitened difference carried back to it, so a change that normal
        clips show together costs little however large it is in dB.

        Parameters
        ----------
        features : numpy.ndarray of shape (n_clips, n_features_)
            Pooled vectors, as :meth:`features_from` makes them.

        Returns
        -------
        difference : numpy.ndarray of shape (n_clips, n_features_)
            Each value minus the training clip's, in the values' own units (dB).
        contribution : numpy.ndarray of shape (n_clips, n_features_)
            Each value's part of the squared distance; the parts sum to it (a part is negative
            where a value alone would bring the clips closer).

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> clf = MelKNN(n_mels=8).fit([0.1 * rng.standard_normal(8000) for _ in range(6)])
        >>> vector = clf.features_from([clf.frontend.transform([0.1 * rng.standard_normal(8000)])[0]])
        >>> difference, contribution = clf.nearest_differences(vector)
        >>> bool(np.isclose(np.sqrt(contribution.sum()), clf.score_features(vector)[0]))
        True
        """
        standardised = self._standardised(np.asarray(features, dtype=np.float64))
        whitened = self._whitened(standardised)
        matrix = getattr(self, "whitening_", None)
        if matrix is not None:
            # The whitening's columns are orthogonal (eigenvectors over the square roots of their
            # variances), so its inverse is its transpose with each column divided by its square norm.
            inverse = matrix.T / np.einsum("ij,ij->j", matrix, matrix)[:, None]
        rank = self.n_neighbors - 1 if self.method == "largest" else 0
        difference, contribution = np.empty_like(standardised), np.empty_like(standardised)
        for row, moved in enumerate(whitened):
            squared = squared_distances(np.broadcast_to(moved, self.train_vectors_.shape), self.train_vectors_)
            apart = moved - self.train_vectors_[np.argsort(squared, kind="stable")[rank]]
            if matrix is None:
                standardised_apart, carried = apart, apart
            else:
                standardised_apart = apart @ inverse
                carried = matrix @ apart
            difference[row] = standardised_apart * self.feature_scale_
            contribution[row] = standardised_apart * carried
        return difference, contribution
