"""Folds of the training clips, and the scores each fold gets from a model fitted on the others.

A detector's threshold must hold for clips it has not heard, so the scores
that set it are held out: the training clips are cut into consecutive folds
(clips cut from one recording usually sit together, so a fold held out is
mostly a recording unheard), and each fold is scored by a model fitted on the
others. An ensemble standardises its members by the same held-out scores.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TRAINING_FOLDS", "consecutive_folds", "fold_scores", "clips_of"]

#: Consecutive folds of the training clips whose held-out scores set a detector's threshold.
TRAINING_FOLDS = 5


def consecutive_folds(n_clips, n_folds):
    """The fold of each of ``n_clips`` clips: ``n_folds`` (at most one a clip) runs of near-equal size.

    Consecutive, so that clips cut from one recording, which usually sit
    together, mostly share a fold, and a fold held out is a recording unheard.

    Examples
    --------
    >>> consecutive_folds(7, 3).tolist()
    [0, 0, 0, 1, 1, 2, 2]
    """
    return np.arange(n_clips) * min(n_folds, n_clips) // n_clips


def fold_scores(folds, fit_and_score):
    """Each fold's scores from a model fitted on the other folds.

    ``fit_and_score(train, held_out)`` gets two index arrays of the clips,
    fits a fresh model on ``train`` and returns its scores of ``held_out``.

    Examples
    --------
    >>> values = np.array([1.0, 2.0, 3.0, 10.0])
    >>> def distance_to_mean(train, held_out):
    ...     return np.abs(values[held_out] - values[train].mean())
    >>> fold_scores(np.array([0, 0, 1, 1]), distance_to_mean).tolist()
    [5.5, 4.5, 1.5, 8.5]
    """
    folds = np.asarray(folds)
    scores = np.empty(len(folds))
    for fold in np.unique(folds):
        scores[folds == fold] = fit_and_score(np.flatnonzero(folds != fold), np.flatnonzero(folds == fold))
    return scores


def clips_of(features, index):
    """The features of the clips at ``index``, for either form a detector's features take.

    Features are an (n_clips, ...) array or a list with one item per clip.

    Examples
    --------
    >>> clips_of(np.arange(6).reshape(3, 2), [2, 0]).tolist(), clips_of(["a", "b", "c"], [1])
    ([[4, 5], [0, 1]], ['b'])
    """
    if isinstance(features, np.ndarray):
        return features[index]
    return [features[i] for i in index]
