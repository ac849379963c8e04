"""Ensemble of detectors on one scale, and :func:`default_detector`, audioad's first choice.

No single detector wins on every machine: a pooled spectrum misses a short
click, a window detector is blind to a slow drift of level across the clip,
and each has machines where its view is the wrong one. An ensemble of
detectors that look at the sound in different ways is robust when nothing
about the machine is known, which is DCASE's first-shot setting: no tuning per
machine, no anomalous clips to tune on.

Scores of different detectors live on different scales (distances, negative
log-likelihoods), so each member's score is standardised by how the member
scores *unseen normal clips*: the training clips are cut into folds, the
member is fitted on all folds but one and scores the clips of the one left
out. A member's score on a new clip then reads as "so many spreads above
what a normal clip it has not heard gets", and these standardised scores
are averaged. Scores of the training clips themselves would not do: a k-NN
detector gives every training clip distance zero to itself.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from .base import ClipDetector
from .folds import consecutive_folds
from .frontend import CombinedFrontend
from .knn import MelKNN
from .registry import member_names
from .window_knn import WindowKNN

__all__ = ["Ensemble", "default_detector", "COMBINATIONS", "NORMALIZATIONS"]

#: How the members' standardised scores are combined.
COMBINATIONS = ("mean", "max")

#: Centre and spread of a member's held-out training scores used to standardise it.
NORMALIZATIONS = ("robust", "zscore")

# The interquartile range of a normal distribution, in standard deviations.
_IQR_PER_STD = 1.3489795003921634


def _column(features, position):
    """One member's features from the ensemble's per-clip tuples, in the form the member made them."""
    items = [clip[position] for clip in features]
    if all(isinstance(item, np.ndarray) and item.ndim == 1 for item in items):
        return np.stack(items)
    return items


class Ensemble(ClipDetector):
    """Several detectors, each standardised on held-out normal clips, their scores combined.

    Every member sees the same clips, loaded once at the members' common
    ``sr``; members with equal front ends (the same log-mel settings, say)
    share one computation of it, from which each makes its own features. At fit, the training
    clips are cut into ``n_folds`` consecutive folds (consecutive, so that
    clips cut from one recording, which usually sit together, mostly stay in
    one fold and the held-out scores are those of a recording the member has
    not heard). Each member is fitted on all the training clips, and its
    ``held_out_scores`` score each fold by the member fitted on the other
    folds; the median and interquartile range of these held-out scores (or
    their mean and standard deviation) standardise the member. A clip's
    score is the mean (or maximum) of its standardised member scores. No
    test label is looked at.

    Parameters
    ----------
    members : list of ClipDetector
        The detectors, unfitted; they are cloned. All must share one ``sr``.
    combine : {"mean", "max"}, default "mean"
        Combine the standardised scores by their mean (every member has a
        say) or their maximum (the most alarmed member decides).
    normalize : {"robust", "zscore"}, default "robust"
        Standardise a member's scores by the median and interquartile range
        (in standard deviations of a normal distribution) of its held-out
        training scores, which one odd training clip cannot inflate, or by
        their mean and standard deviation.
    n_folds : int, default 5
        Folds of the training clips for the held-out scores; fewer when there
        are fewer clips.
    contamination : float, default 0.1
        Expected share of anomalous training clips; sets ``threshold_``.
    threshold_rule : {"contamination", "gamma"}, default "contamination"
        How ``threshold_`` is set from the held-out training scores.
    n_jobs : int or None
        Threads for decoding clips and computing the members' features;
        ``None`` leaves each member's own ``n_jobs`` (every core by default).

    Notes
    -----
    Members' parameters are named as scikit-learn names nested ones,
    ``<member>__<parameter>``, a member being named by its class in snake case
    and numbered where a class comes more than once
    (:func:`~audioad.detectors.registry.member_names`): the default's are
    ``mel_knn_1``, ``mel_knn_2`` and ``window_knn``, so ``mel_knn_2__n_neighbors``
    is the second member's ``n_neighbors``. ``get_params(deep=True)`` lists
    them, and :meth:`set_params` sets them.

    :meth:`set_params` also takes a member's parameter without a member's
    name (``n_mels=64``) and sets it on every member that has it. That is what
    one means by it: the members share one front end, and ``sr`` must be the
    same for all of them, so a front-end setting (``sr``, ``n_fft``,
    ``hop_length``, ``n_mels``) made on one member alone would split that
    computation or fail. A name neither the ensemble nor any member has is a
    ``ValueError`` that lists the names there are.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (n_clips,)
        Combined standardised held-out scores of the training clips: scores
        of clips the members had not seen, so :attr:`threshold_` holds for new
        normal clips.
    threshold_ : float
        Scores above it are labelled anomalous.
    labels_ : numpy.ndarray of shape (n_clips,)
        Labels of the training clips (0 normal, 1 anomalous).
    members_ : list of ClipDetector
        The members, fitted on all the training clips.
    member_centers_, member_scales_ : numpy.ndarray of shape (n_members,)
        Standardisation of each member's scores.
    held_out_scores_ : numpy.ndarray of shape (n_clips, n_members)
        Each member's raw score of each training clip, from the fold that left it out.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.detectors.ensemble import Ensemble
    >>> from audioad.detectors.knn import MelKNN
    >>> from audioad.detectors.mahalanobis import MelMahalanobis
    >>> rng = np.random.default_rng(0)
    >>> normal = [0.1 * rng.standard_normal(8000) for _ in range(25)]
    >>> t = np.arange(8000) / 16000
    >>> odd = [n + 0.2 * np.sin(2 * np.pi * 1000 * t) for n in normal[:3]]
    >>> clf = Ensemble([MelKNN(), MelMahalanobis()]).fit(normal[3:])
    >>> bool(clf.decision_function(odd).min() > clf.decision_function(normal[:3]).max())
    True
    """

    def __init__(
        self,
        members,
        combine="mean",
        normalize="robust",
        n_folds=5,
        contamination=0.1,
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(contamination=contamination)
        self.members = members
        self.combine = combine
        self.normalize = normalize
        self.n_folds = n_folds
        self.threshold_rule = threshold_rule
        self.n_jobs = n_jobs

    def named_members(self):
        """``(name, member)`` pairs, by the names that prefix the members' parameters."""
        members = list(self.members) if isinstance(self.members, (list, tuple)) else []
        if not all(hasattr(member, "get_params") for member in members):
            return []
        return list(zip(member_names([type(member).__name__ for member in members]), members))

    def get_params(self, deep=True):
        """The ensemble's parameters; with ``deep``, also each member and its parameters as ``name__param``."""
        params = super().get_params(deep=False)
        if deep:
            for name, member in self.named_members():
                params[name] = member
                params.update((f"{name}__{key}", value) for key, value in member.get_params(deep=True).items())
        return params

    def set_params(self, **params):
        """Set the ensemble's parameters, a member's (``mel_knn_1__k``), or every member's that has it (``n_mels``).

        Parameters are set in the order given, so a member's own setting given after a shared
        one wins: ``set_params(n_mels=64, window_knn__n_mels=32)``. A member named alone
        (``mel_knn_1=MelKNN()``) is replaced in a new ``members`` list; the caller's list is
        left as it was.

        Returns
        -------
        Ensemble
            ``self``.

        Raises
        ------
        ValueError
            For a name that neither the ensemble nor any member has; it lists the names there are.
        """
        own = self.get_params(deep=False)
        for key, value in params.items():
            members = dict(self.named_members())
            name, nested, sub_key = key.partition("__")
            if key in own:
                setattr(self, key, value)
                own[key] = value
            elif nested and name in members:
                members[name].set_params(**{sub_key: value})
            elif key in members:
                self.members = [value if member is members[key] else member for member in self.members]
            else:
                having = [m for m in members.values() if key in m.get_params(deep=True)]
                if not having:
                    valid = ", ".join(sorted(self.get_params(deep=True)))
                    raise ValueError(
                        f"{type(self).__name__} has no parameter {key!r}, and none of its members has one; "
                        f"its parameters are: {valid}"
                    )
                for member in having:
                    member.set_params(**{key: value})
        return self

    @property
    def sr(self):
        """Rate clips are loaded at: the members' common ``sr``."""
        return self.members[0].sr

    @property
    def frontend(self):
        """The members' front ends, each distinct one computed once, on the ensemble's ``n_jobs`` threads."""
        return CombinedFrontend(tuple(self._threaded(member).frontend for member in self.members))

    def _threaded(self, member):
        """``member``, or a copy of it on the ensemble's ``n_jobs`` threads where that is set."""
        if self.n_jobs is None or "n_jobs" not in member.get_params(deep=False):
            return member
        return clone(member).set_params(n_jobs=self.n_jobs)

    def check_parameters(self):
        super().check_parameters()
        members = list(self.members) if isinstance(self.members, (list, tuple)) else []
        if not members or not all(isinstance(m, ClipDetector) for m in members):
            raise ValueError(f"members must be a non-empty list of audioad detectors, got {self.members!r}")
        rates = sorted({m.sr for m in members})
        if len(rates) > 1:
            raise ValueError(f"members must load clips at one sr, got {rates}; set the same sr on each")
        if self.combine not in COMBINATIONS:
            raise ValueError(f"combine must be one of {COMBINATIONS}, got {self.combine!r}")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {self.normalize!r}")
        if not isinstance(self.n_folds, (int, np.integer)) or self.n_folds < 2:
            raise ValueError(f"n_folds must be an integer >= 2, got {self.n_folds!r}")
        for name, member in self.named_members():
            try:
                member.check_parameters()
            except ValueError as exc:
                # Named as set_params names it, so the message says which member's setting is wrong.
                raise ValueError(f"member {name}: {exc}") from exc

    # -- features ------------------------------------------------------------

    def features_from(self, transformed):
        """Per clip, a tuple of every member's features, from the front ends' per-clip tuples."""
        per_member = [
            member.features_from([clip[position] for clip in transformed])
            for position, member in enumerate(self.members)
        ]
        return list(zip(*per_member))

    # -- fitting -------------------------------------------------------------

    def fit_features(self, features):
        n_clips = len(features)
        if n_clips < 3:
            raise ValueError(f"Ensemble needs at least 3 training clips to score held-out folds, got {n_clips}")
        folds = consecutive_folds(n_clips, self.n_folds)
        self.members_ = []
        self.held_out_scores_ = np.empty((n_clips, len(self.members)))
        for position, template in enumerate(self.members):
            column = _column(features, position)
            member = clone(template)
            member.check_parameters()
            self.members_.append(member.fit_features(column))
            self.held_out_scores_[:, position] = member.held_out_scores(column, folds)
            member.calibrate(self.held_out_scores_[:, position])
        self.member_centers_, self.member_scales_ = self._standardisation(self.held_out_scores_)
        return self

    def training_scores(self, features):
        """The combined standardised held-out scores the members gave the training clips at fit."""
        return self._combined(self.held_out_scores_)

    def _standardisation(self, scores):
        if self.normalize == "robust":
            low, centre, high = np.percentile(scores, [25, 50, 75], axis=0)
            scale = (high - low) / _IQR_PER_STD
        else:
            centre, scale = scores.mean(axis=0), np.zeros(scores.shape[1])
        # Fall back on the standard deviation, then on 1, where the spread is nil.
        std = scores.std(axis=0)
        scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
        return centre, scale

    def _combined(self, scores):
        standardised = (scores - self.member_centers_) / self.member_scales_
        return standardised.mean(axis=1) if self.combine == "mean" else standardised.max(axis=1)

    # -- scoring -------------------------------------------------------------

    def score_features(self, features):
        scores = np.column_stack(
            [member.score_features(_column(features, position)) for position, member in enumerate(self.members_)]
        )
        return self._combined(scores)


def default_detector(**kwargs):
    """audioad's default detector: the nearest normal clip, at three time scales.

    An :class:`Ensemble` (mean of robustly standardised held-out scores) of three
    nearest-neighbour detectors, each asking "how far is this from the closest
    normal sound?" at its own time scale:

    - the whole clip, :class:`~audioad.detectors.knn.MelKNN` on the
      time-averaged log-mel spectrum: what the machine sounds like on average
      (its stationary spectrum; the classic training-free detector);
    - frame to frame, :class:`~audioad.detectors.knn.MelKNN` on the standard
      deviation of each band's change from one frame to the next
      (``pooling="delta_std"``): how the sound fluctuates (roughness, rattle,
      imbalance, beating), whatever its average level;
    - the moment, :class:`~audioad.detectors.window_knn.WindowKNN` on windows
      of 5 log-mel frames (160 ms), a clip scored by its worst tenth: short
      events (clicks, impacts, a tone that comes and goes) and their shape in
      time, which pooling over the clip averages away. Its references are
      2,048 windows drawn from the training clips (a fifth of WindowKNN's
      own default, five times faster), and it scores every other window
      (``window_hop=2``: half the work, and every frame still falls in two
      or three windows). On synthetic machines made for these checks, not
      the benchmark's, neither choice moved the ensemble's AUC by more than
      0.002.

    Nearest-neighbour scoring assumes no shape for the normal sound, so a
    machine with several operating states (speeds, loads) is modelled as
    well as one with a single state. All three use the DCASE baselines'
    features (16 kHz, n_fft 1024, hop 512, 128 mels), computed once for the
    three; nothing is tuned to a machine, nothing needs torch, and fitting
    costs one pass of window distances over the training clips.

    Parameters
    ----------
    **kwargs
        Parameters of :class:`Ensemble` (``contamination``, ``combine``,
        ``n_folds``, ``n_jobs``, ...); ``members`` replaces the three. Any
        other name is set by :meth:`Ensemble.set_params`: a member's
        parameter by its name (``window_knn__top_fraction=0.2``), or on every
        member that has it (``n_mels=64``).

    Returns
    -------
    Ensemble
        Unfitted.

    Examples
    --------
    >>> from audioad.detectors.ensemble import default_detector
    >>> [(type(m).__name__, m.get_params().get("pooling")) for m in default_detector().members]
    [('MelKNN', 'mean'), ('MelKNN', 'delta_std'), ('WindowKNN', None)]
    >>> detector = default_detector(n_mels=64, mel_knn_2__n_neighbors=3)
    >>> [m.n_mels for m in detector.members], detector.get_params()["mel_knn_2__n_neighbors"]
    ([64, 64, 64], 3)
    """
    members = [
        MelKNN(pooling="mean"),
        MelKNN(pooling="delta_std"),
        WindowKNN(context=5, window_hop=2, max_windows=2048),
    ]
    return Ensemble(members).set_params(**kwargs)
