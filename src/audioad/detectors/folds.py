"""Folds of the training clips, and the scores each fold gets from a model fitted on the others.

A detector's threshold must hold for clips it has not heard, so the scores
that set it are held out: the training clips are cut into consecutive folds
(clips cut from one recording usually sit together, so a fold held out is
mostly a recording unheard), and each fold is scored by a model fitted on the
others. An ensemble standardises its members by the same held-out scores.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TRAINING_FOLDS", "consecutive_folds", "group_folds", "training_folds", "fold_scores", "clips_of"]

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


def group_folds(groups, n_folds):
    """The fold of each clip from its group (its recording): whole groups, by first appearance, in ``n_folds`` runs.

    No recording is on both sides of a fold, however its clips are ordered; the groups are
    spread over the folds as :func:`consecutive_folds` spreads clips, so neighbouring
    recordings (in time, as a training list usually holds them) share a fold.

    Examples
    --------
    >>> group_folds(["b", "a", "b", "c", "c", "d"], 2).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    names, first, index = np.unique(
        np.asarray(groups, dtype=object).astype(str), return_index=True, return_inverse=True
    )
    order = np.argsort(np.argsort(first))  # each group's rank by first appearance
    return consecutive_folds(len(names), n_folds)[order[index]]


def training_folds(n_clips, n_folds, groups=None):
    """Folds of the training clips: by group (:func:`group_folds`) where groups are given, else consecutive.

    Groups that are too few to fold (fewer than two) fall back to consecutive folds.

    Examples
    --------
    >>> training_folds(4, 2).tolist(), training_folds(4, 2, ["x", "y", "x", "y"]).tolist()
    ([0, 0, 1, 1], [0, 1, 0, 1])
    """
    if groups is not None:
        if len(groups) != n_clips:
            raise ValueError(f"groups must name the group of each of the {n_clips} training clips, got {len(groups)}")
        if len(set(map(str, groups))) >= 2:
            return group_folds(groups, n_folds)
    return consecutive_folds(n_clips, n_folds)


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
