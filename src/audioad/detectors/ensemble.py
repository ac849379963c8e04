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
are combined, by their mean or their maximum. Scores of the training clips
themselves would not do: a k-NN detector gives every training clip distance
zero to itself. A member whose held-out scores do not vary at all (the
fluctuation of clips shorter than two frames) says nothing, and is left out.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone

from ..window_threshold import WINDOW_FALSE_ALARM_RATE, set_window_threshold
from .base import ClipDetector
from .event_knn import EventKNN
from .folds import clips_of
from .frontend import CombinedFrontend
from .knn import MelKNN
from .registry import member_names
from .schema import Array, Detector, Float, Int, ListOf, NoneOr, Str
from .window_knn import WindowKNN

__all__ = [
    "Ensemble",
    "default_detector",
    "member_features",
    "member_standardisation",
    "combined_scores",
    "far_out_fence",
    "COMBINATIONS",
    "NORMALIZATIONS",
    "COVERAGE_LIMIT",
    "CoverageWarning",
]

#: How the members' standardised scores are combined.
COMBINATIONS = ("mean", "max")

#: Centre and spread of a member's held-out training scores used to standardise it.
NORMALIZATIONS = ("robust", "zscore")

#: Above this :attr:`Ensemble.coverage_` (held-out recordings this many times farther from the
#: others than a clip from its own recording), fit warns that new recordings may raise false alarms.
#: On the development sets coverage_ reached 3.9 (the motors, two seconds cut from each recording)
#: where threshold_ held on new recordings (benchmarks/group_folds.py), so the limit lies above it.
COVERAGE_LIMIT = 5.0


class CoverageWarning(UserWarning):
    """The training recordings do not cover each other: new normal recordings will raise false alarms."""


# The interquartile range of a normal distribution, in standard deviations.
_IQR_PER_STD = 1.3489795003921634


def member_features(features, position):
    """One member's features from the ensemble's per-clip tuples, in the form the member made them."""
    items = [clip[position] for clip in features]
    if all(isinstance(item, np.ndarray) and item.ndim == 1 for item in items):
        return np.stack(items)
    return items


def member_standardisation(held_out, normalize="robust"):
    """Centre, scale and say of each member, from its held-out scores of normal clips.

    Parameters
    ----------
    held_out : numpy.ndarray
        (n_clips, n_members) scores of clips each member had not seen.
    normalize : {"robust", "zscore"}
        Median and interquartile range (in standard deviations of a normal
        distribution), or mean and standard deviation. Where the spread is nil
        the standard deviation stands in, then 1.

    Returns
    -------
    centres, scales : numpy.ndarray of shape (n_members,)
    informative : numpy.ndarray of bool, shape (n_members,)
        Members whose held-out scores vary at all (every member if none does):
        one whose scores are all equal says nothing about a new clip.

    Examples
    --------
    >>> centres, scales, informative = member_standardisation(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]))
    >>> centres.tolist(), informative.tolist()
    ([2.0, 0.0], [True, False])
    """
    if normalize == "robust":
        low, centre, high = np.percentile(held_out, [25, 50, 75], axis=0)
        scale = (high - low) / _IQR_PER_STD
    else:
        centre, scale = held_out.mean(axis=0), held_out.std(axis=0)
    std = held_out.std(axis=0)
    scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
    informative = np.ptp(held_out, axis=0) > 0
    return centre, scale, informative if informative.any() else np.ones_like(informative)


def far_out_fence(scores):
    """Tukey's far-out fence of ``scores``: the third quartile plus three interquartile ranges.

    A held-out training clip scored beyond it is of a condition the other folds did not hear (a
    speed, a domain that sits together in the training list): the final model, which has heard
    it, will not score such clips so high.

    Examples
    --------
    >>> far_out_fence(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 100.0]))  # 4.75 + 3 * (4.75 - 2.25)
    12.25
    """
    low, high = np.percentile(scores, [25, 75])
    return float(high + 3 * (high - low))


def combined_scores(scores, centres, scales, informative, combine="mean"):
    """Members' scores standardised and combined: the mean or the maximum over the informative members.

    Examples
    --------
    >>> scores = np.array([[4.0, 0.0, 9.0]])
    >>> informative = np.array([True, True, False])
    >>> combined_scores(scores, np.zeros(3), np.array([2.0, 1.0, 1.0]), informative, "max").tolist()
    [2.0]
    """
    standardised = ((scores - centres) / scales)[:, informative]
    return standardised.mean(axis=1) if combine == "mean" else standardised.max(axis=1)


class Ensemble(ClipDetector):
    """Several detectors, each standardised on held-out normal clips, their scores combined.

    Every member sees the same clips, loaded once at the members' common
    ``sr``; members with equal front ends (the same log-mel settings, say)
    share one computation of it, from which each makes its own features. At fit, the training
    clips are cut into ``n_folds`` consecutive folds (consecutive, so that
    clips cut from one recording, which usually sit together, mostly stay in
    one fold and the held-out scores are those of a recording the member has
    not heard; folds of whole recordings where ``fit`` is given ``groups``).
    Each member is fitted on all the training clips, and its
    ``held_out_scores`` score each fold by the member fitted on the other
    folds; the median and interquartile range of these held-out scores (or
    their mean and standard deviation) standardise the member. A clip's
    score is the mean (or maximum) of its standardised member scores. No
    test label is looked at.

    A ``frame_detector`` (a detector that scores windows, such as
    :class:`~audioad.detectors.window_knn.WindowKNN`) is fitted beside the
    members to say *when* in a clip it sounds wrong: :meth:`frame_scores` and
    ``score_clips(frames=True)`` give its window scores, and
    :attr:`window_threshold_` is the window score that held-out normal windows
    exceed at :data:`~audioad.window_threshold.WINDOW_FALSE_ALARM_RATE`. It has no say in a clip's score,
    unless a member is its equal (same class and parameters, as in
    :func:`default_detector`): that member is then the frame detector itself,
    fitted and held out once, and its clip score (made from the windows)
    counts as any member's does.

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
    frame_detector : ClipDetector or None, default None
        A detector that scores windows, unfitted (it is cloned), for the frame
        scores; it must load clips at the members' ``sr``.

    Notes
    -----
    Members' parameters are named as scikit-learn names nested ones,
    ``<member>__<parameter>``, a member being named by its class in snake case
    and numbered where a class comes more than once
    (:func:`~audioad.detectors.registry.member_names`): the default's are
    ``mel_knn_1``, ``mel_knn_2`` and ``window_knn``, so ``mel_knn_2__n_neighbors``
    is the second member's ``n_neighbors``. The frame detector's are
    ``frame_detector__<parameter>``. ``get_params(deep=True)`` lists them,
    and :meth:`set_params` sets them.

    :meth:`set_params` also takes a member's parameter without a member's
    name (``n_mels=64``) and sets it on every member (and the frame detector)
    that has it. That is what one means by it: the members share one front end, and ``sr`` must be the
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
    member_informative_ : numpy.ndarray of bool, shape (n_members,)
        Members whose held-out scores vary; only these have a say (all of them
        if none does).
    frame_detector_ : ClipDetector or None
        The frame detector, fitted on all the training clips.
    frame_twin_ : int
        The member that is the frame detector (its equal), or -1.
    coverage_ : float
        How many times farther a held-out fold of recordings lies from the other folds than a
        clip from its own recording's neighbours (the ratio of the medians of the two held-out
        scores; the largest over the members, the frame detector's twin aside; NaN where no
        member's scores are positive distances). Near 1: the training recordings cover each
        other, and :attr:`threshold_` holds for new recordings like them. Above
        :data:`COVERAGE_LIMIT`, fit warns (:class:`CoverageWarning`).
    coverage_message_ : str
        What the warning said, one line for the CLI to print; empty where fit did not warn.
    window_threshold_ : float
        With a frame detector: the window score that held-out normal windows
        exceed at :data:`~audioad.window_threshold.WINDOW_FALSE_ALARM_RATE`, from the training clips whose
        held-out scores are not far above the rest (Tukey's far-out fence).

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

    params_schema = {
        **ClipDetector.params_schema,
        "members": ListOf(Detector(fitted=False), 1, 64),
        "combine": Str(),
        "normalize": Str(),
        "n_folds": Int(2, 10_000),
        "frame_detector": NoneOr(Detector(fitted=False)),
    }
    state_schema = {
        **ClipDetector.state_schema,
        "members_": ListOf(Detector(), 1, 64),
        "held_out_scores_": Array("f", ("n_clips", "n_members")),
        "member_centers_": Array("f", ("n_members",)),
        "member_scales_": Array("f", ("n_members",)),
        "member_informative_": Array("b", ("n_members",)),
        "frame_detector_": NoneOr(Detector()),
        "frame_twin_": Int(-1, 63),
        "coverage_": Float(finite=False),
        "coverage_message_": Str(),
    }

    def __init__(
        self,
        members,
        combine="mean",
        normalize="robust",
        n_folds=5,
        contamination=0.1,
        threshold_rule="contamination",
        n_jobs=None,
        frame_detector=None,
    ):
        super().__init__(contamination=contamination)
        self.members = members
        self.combine = combine
        self.normalize = normalize
        self.n_folds = n_folds
        self.threshold_rule = threshold_rule
        self.n_jobs = n_jobs
        self.frame_detector = frame_detector

    def named_members(self):
        """``(name, member)`` pairs, by the names that prefix the members' parameters."""
        members = list(self.members) if isinstance(self.members, (list, tuple)) else []
        if not all(hasattr(member, "get_params") for member in members):
            return []
        return list(zip(member_names([type(member).__name__ for member in members]), members))

    def _nested(self):
        """``(name, detector)`` of every member and of the frame detector, by the names that prefix their parameters."""
        nested = self.named_members()
        if isinstance(self.frame_detector, ClipDetector):
            nested.append(("frame_detector", self.frame_detector))
        return nested

    def get_params(self, deep=True):
        """The ensemble's parameters; with ``deep``, also each member's and the frame detector's, as ``name__param``."""
        params = super().get_params(deep=False)
        if deep:
            for name, member in self._nested():
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
            members = dict(self._nested())
            name, nested, sub_key = key.partition("__")
            if key in own:
                setattr(self, key, value)
                own[key] = value
            elif nested and name in members:
                members[name].set_params(**{sub_key: value})
            elif key in members and key != "frame_detector":
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

    def _all_detectors(self):
        """The members, then the frame detector if there is one: whose features a clip's tuple holds, in order."""
        return list(self.members) + ([self.frame_detector] if self.frame_detector is not None else [])

    @property
    def frontend(self):
        """The members' front ends, each distinct one computed once, on the ensemble's ``n_jobs`` threads."""
        return CombinedFrontend(tuple(self._threaded(detector).frontend for detector in self._all_detectors()))

    @property
    def scores_windows(self):
        """Whether the ensemble gives frame scores: when it has a frame detector."""
        return self.frame_detector is not None

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
        if self.frame_detector is not None and not (
            isinstance(self.frame_detector, ClipDetector) and self.frame_detector.scores_windows
        ):
            raise ValueError(f"frame_detector must be a detector that scores windows, got {self.frame_detector!r}")
        rates = sorted({m.sr for m in self._all_detectors()})
        if len(rates) > 1:
            raise ValueError(f"members and frame_detector must load clips at one sr, got {rates}; set one sr on each")
        if self.combine not in COMBINATIONS:
            raise ValueError(f"combine must be one of {COMBINATIONS}, got {self.combine!r}")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {self.normalize!r}")
        if not isinstance(self.n_folds, (int, np.integer)) or self.n_folds < 2:
            raise ValueError(f"n_folds must be an integer >= 2, got {self.n_folds!r}")
        for name, member in self._nested():
            try:
                member.check_parameters()
            except ValueError as exc:
                # Named as set_params names it, so the message says which member's setting is wrong.
                raise ValueError(f"member {name}: {exc}") from exc

    # -- features ------------------------------------------------------------

    def features_from(self, transformed):
        """Per clip, a tuple of every member's features and the frame detector's (last), from the front ends'."""
        per_member = [
            member.features_from([clip[position] for clip in transformed])
            for position, member in enumerate(self._all_detectors())
        ]
        return list(zip(*per_member))

    # -- fitting -------------------------------------------------------------

    def restore(self):
        # Each member's and the frame detector's own state was checked as it was read; here, that they fit together.
        n_members = len(self.member_centers_)
        if not len(self.members) == len(self.members_) == n_members:
            raise ValueError(f"{len(self.members)} members, {len(self.members_)} fitted, {n_members} standardised")
        if [type(m) for m in self.members] != [type(m) for m in self.members_]:
            raise ValueError("the fitted members are not of the members' classes")
        if (self.frame_detector is None) != (self.frame_detector_ is None):
            raise ValueError("a frame detector is set without being fitted, or fitted without being set")

    def fit_features(self, features):
        n_clips = len(features)
        if n_clips < 3:
            raise ValueError(f"Ensemble needs at least 3 training clips to score held-out folds, got {n_clips}")
        folds = self.training_folds(n_clips, self.n_folds)
        self.frame_detector_ = None
        twin, held_out_windows = None, None
        if self.frame_detector is not None:
            held_out_windows = self._fit_frame_detector(member_features(features, len(self.members)), folds)
            twin = self._frame_twin()
        self.frame_twin_ = -1 if twin is None else twin
        self.members_ = []
        self.held_out_scores_ = np.empty((n_clips, len(self.members)))
        for position, template in enumerate(self.members):
            if position == twin:
                # The member is the frame detector's twin: its model and held-out clip scores are the
                # frame detector's, fitted once.
                member = self.frame_detector_
                self.held_out_scores_[:, position] = member.decision_scores_
                self.members_.append(member)
                continue
            column = member_features(features, position)
            member = clone(template)
            member.check_parameters()
            self.members_.append(member.fit_features(column))
            self.held_out_scores_[:, position] = member.held_out_scores(column, folds)
            member.calibrate(self.held_out_scores_[:, position])
        self.member_centers_, self.member_scales_, self.member_informative_ = member_standardisation(
            self.held_out_scores_, self.normalize
        )
        self._measure_coverage(features, twin)
        if held_out_windows is not None:
            self._set_window_threshold(held_out_windows)
        return self

    def _measure_coverage(self, features, twin):
        """Set :attr:`coverage_` and :attr:`coverage_message_`; warn where training recordings do not cover each other.

        Each member (but the frame detector's twin, whose windows cost the most) scores the
        training clips again from interleaved folds, which put a clip's neighbours in the list,
        usually of its own recording, on the other side: how far a clip lies from its own
        recording. Against the held-out scores of whole folds (how far a recording lies from the
        others), the ratio of their medians says whether new recordings will look like the
        training ones.
        """
        n_clips = len(features)
        interleaved = np.arange(n_clips) % min(self.n_folds, n_clips)
        ratios = []
        for position, member in enumerate(self.members_):
            if position == twin:
                continue
            across = float(np.median(self.held_out_scores_[:, position]))
            within = float(np.median(member.held_out_scores(member_features(features, position), interleaved)))
            if within > 0 and across > 0:
                ratios.append(across / within)
        self.coverage_ = float(max(ratios)) if ratios else float("nan")
        self.coverage_message_ = ""
        if self.coverage_ > COVERAGE_LIMIT:
            self.coverage_message_ = (
                f"the training recordings do not cover each other: a recording held out lies {self.coverage_:.1f} "
                "times farther from the others than a clip from its own recording, so threshold_ may flag "
                "more than contamination of new normal recordings; fit on more recordings (every speed, load "
                "and session), or set the thresholds from new normal recordings (calibration recordings)"
            )
            warnings.warn(CoverageWarning(self.coverage_message_), stacklevel=4)

    def _frame_twin(self):
        """The position of the member that is the frame detector's equal (same class and parameters), or None."""
        wanted = (type(self.frame_detector), self.frame_detector.get_params(deep=False))
        for position, member in enumerate(self.members):
            if (type(member), member.get_params(deep=False)) == wanted:
                return position
        return None

    def _fit_frame_detector(self, column, folds):
        """Fit the frame detector and its clip threshold from held-out windows; return those windows."""
        template = clone(self.frame_detector)
        template.check_parameters()
        held_out = [None] * len(column)
        for fold in np.unique(folds):
            model = clone(template).fit_features(clips_of(column, np.flatnonzero(folds != fold)))
            left_out = np.flatnonzero(folds == fold)
            for position, windows in zip(left_out, model.window_scores(clips_of(column, left_out))):
                held_out[position] = windows
        self.frame_detector_ = template.fit_features(column).calibrate(template.clip_scores(held_out))
        return held_out

    def _set_window_threshold(self, held_out):
        """:attr:`window_threshold_` from the held-out windows of the clips whose combined scores are not far out."""
        # Training clips far above the rest of the held-out scores (beyond Tukey's far-out fence: a
        # condition heard in one fold only, say) would set the window threshold by their windows alone.
        combined = self._combined(self.held_out_scores_)
        normal = combined <= far_out_fence(combined)
        set_window_threshold(self, [held_out[i] for i in np.flatnonzero(normal)], WINDOW_FALSE_ALARM_RATE)

    def training_scores(self, features):
        """The combined standardised held-out scores the members gave the training clips at fit."""
        return self._combined(self.held_out_scores_)

    def _process_decision_scores(self):
        """PyOD's rule, with :attr:`threshold_` at most the held-out scores' far-out fence.

        Where more than ``contamination`` of the training clips are of a condition heard in one
        fold only, the contamination quantile would lie among their held-out scores, far above
        what the fitted ensemble gives such clips (make_machine_sounds' target-domain clips, a
        fifth of a training list, set it to 79.9 against normal clips near 0): the fence
        (:func:`far_out_fence`) caps it. Elsewhere it is PyOD's contamination quantile.
        """
        super()._process_decision_scores()
        fence = far_out_fence(self.decision_scores_)
        if self.threshold_ > fence:
            self.threshold_ = fence
            self.labels_ = (self.decision_scores_ > fence).astype(int)
        return self

    def _combined(self, scores):
        return combined_scores(
            scores, self.member_centers_, self.member_scales_, self.member_informative_, self.combine
        )

    # -- scoring -------------------------------------------------------------

    def score_features(self, features):
        return self._combined(self._member_scores(features))

    def _member_scores(self, features, windows=None):
        """(n_clips, n_members) raw member scores; the frame detector's twin scores from ``windows`` when given."""
        columns = []
        for position, member in enumerate(self.members_):
            if position == self.frame_twin_ and windows is not None:
                columns.append(member.clip_scores(windows))
            else:
                columns.append(member.score_features(member_features(features, position)))
        return np.column_stack(columns)

    def window_scores(self, features):
        """The frame detector's scores of each clip's windows over time."""
        fitted = getattr(self, "frame_detector_", None)
        if fitted is None:
            raise TypeError("this Ensemble has no fitted frame_detector; it scores whole clips")
        return fitted.window_scores(member_features(features, len(self.members_)))

    @property
    def window_hop_seconds(self):
        """Seconds between the starts of the frame detector's consecutive windows."""
        if self.frame_detector is None:
            raise TypeError("this Ensemble has no frame_detector; it scores whole clips")
        return self.frame_detector.window_hop_seconds

    def scores_and_windows(self, features):
        """The clips' ensemble scores, and the frame detector's window scores of each (scored once for its twin)."""
        windows = self.window_scores(features)
        return self._combined(self._member_scores(features, windows)), windows


def default_detector(**kwargs):
    """audioad's default detector: the nearest normal clip in two views, the nearest normal frames in a third.

    An :class:`Ensemble` of three nearest-neighbour detectors, each standardised
    on held-out normal clips, a clip's score being the largest of the three
    (``combine="max"``):

    - what the machine sounds like on average: :class:`~audioad.detectors.knn.MelKNN`
      on the time-averaged log-mel spectrum (``pooling="mean"``), a new tone,
      a new resonance, a changed balance of bands;
    - how it fluctuates: :class:`~audioad.detectors.knn.MelKNN` on the
      standard deviation of each band's change from one frame to the next
      (``pooling="delta_std"``): roughness, rattle, clicks, imbalance,
      beating, whatever the average level;
    - what happens for a moment: :class:`~audioad.detectors.event_knn.EventKNN`,
      each frame against its nearest normal training frames, band by band,
      averaged over half a second to 1.5 s: a tone, a click train or a noise
      burst of a few seconds inside a longer clip, which moves neither pooled
      view much.

    The MelKNN views measure distance in the Mahalanobis metric of the normal
    clips (``metric="mahalanobis"``): the ways normal clips vary together, such
    as every harmonic moving with the speed of a machine run at many speeds,
    cost little, and a change no normal clip shows costs much. A fault shows
    in one view and not the others, so the views are not averaged, which
    would dilute the view that hears the fault with those that do not:
    the most alarmed view decides, each view's alarm measured in spreads of
    its scores of normal clips it had not heard.

    A :class:`~audioad.detectors.window_knn.WindowKNN` on windows of 5
    log-mel frames (160 ms) is fitted beside them to say when in a clip it
    sounds unlike any normal window (``frame_scores``, ``score_clips(frames=True)``,
    the plots), with its own threshold for windows; it has no say in a clip's
    score. The event view has its say, and :func:`audioad.explain.explain`
    compares each frame with the nearest normal frames through it. The event
    view scores clips of at least 3 s (twice its longest stretch); on shorter
    clips it is constant and left out, and the default is its two pooled views.

    These choices were made leave-one-set-out over the development sets of
    ``benchmarks/devsets.py`` (the shared recordings and synthetic machines
    whose faults change only the average spectrum or only its fluctuation,
    at 1, 2 and 10 s and 16 and 48 kHz), by the regret against the best
    detector on each set; ``benchmarks/choices.py`` reruns them,
    ``benchmarks/local_events.py`` measures the short events, and
    ``benchmarks/README.md`` gives the figures. All use the DCASE baselines'
    features (16 kHz, n_fft 1024, hop 512, 128 mels), computed once; nothing
    is tuned to a machine and nothing needs torch.

    Parameters
    ----------
    **kwargs
        Parameters of :class:`Ensemble` (``contamination``, ``combine``,
        ``n_folds``, ``n_jobs``, ``frame_detector``, ...); ``members``
        replaces the two. Any other name is set by :meth:`Ensemble.set_params`:
        a member's parameter by its name (``mel_knn_2__n_neighbors=3``,
        ``frame_detector__top_fraction=0.2``), or on every member that has it
        (``n_mels=64``).

    Returns
    -------
    Ensemble
        Unfitted.

    Examples
    --------
    >>> from audioad.detectors.ensemble import default_detector
    >>> [type(m).__name__ for m in default_detector().members]
    ['MelKNN', 'MelKNN', 'EventKNN']
    >>> detector = default_detector(n_mels=64, mel_knn_2__n_neighbors=3)
    >>> [m.n_mels for m in detector.members], detector.frame_detector.n_mels
    ([64, 64, 64], 64)
    >>> detector.get_params()["mel_knn_2__n_neighbors"]
    3
    """
    members = [
        MelKNN(pooling="mean", metric="mahalanobis"),
        MelKNN(pooling="delta_std", metric="mahalanobis"),
        EventKNN(),
    ]
    frames = WindowKNN(context=5, window_hop=2, max_windows=2048)
    return Ensemble(members, combine="max", frame_detector=frames).set_params(**kwargs)
