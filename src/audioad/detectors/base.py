"""ClipDetector: PyOD's detector contract for lists of audio clips.

A detector turns each clip into features (a vector, or a spectrogram whose
context windows it scores), learns from the features of normal clips, and
gives every clip a score: higher is more abnormal. This base does the parts
every detector shares: loading clips in any form :func:`audioad.audio.load_audio`
accepts, streaming them through in chunks so memory stays bounded, the
threshold and labels, probabilities and confidence from one pass of scores,
per-window scores with their times, and what to do with a clip that fails.
"""

from __future__ import annotations

import os
import warnings
from typing import NamedTuple

import numpy as np
from pyod.models.base import BaseDetector
from scipy.special import erf
from scipy.stats import binom
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ..audio import AudioInputError
from ..collect import header_errors
from ..domain import TrainingDataWarning, check_training, domain_warnings, training_profile
from ..segments import training_segment_plan
from ..thresholds import threshold as fit_threshold
from .folds import TRAINING_FOLDS, clips_of, fold_scores, training_folds
from .frontend import TrainingLevels
from .schema import Array, Float, Int, ListOf, NoneOr, Optional, Record, Str
from .segmented import segment_features
from .streaming import as_clips, featurised_chunks, joined

__all__ = ["ClipDetector", "ClipScores", "FrameScores", "AudioInputWarning", "ON_ERROR"]

#: What scoring does with a clip that cannot be loaded.
ON_ERROR = ("raise", "skip", "nan")


class AudioInputWarning(UserWarning):
    """Some clips could not be read: scored with ``on_error='skip'`` or ``'nan'``, or left out of a fit (``'skip'``).

    Attributes
    ----------
    errors : list of AudioInputError
        The clips that failed, each naming its index, path and cause.
    """

    def __init__(self, message, errors=()):
        super().__init__(message)
        self.errors = list(errors)


class ClipScores(NamedTuple):
    """What :meth:`ClipDetector.score_clips` returns.

    Attributes
    ----------
    scores : numpy.ndarray
        One score per clip, in input order; NaN where the clip failed.
    frames : list of FrameScores or None
        Per-window scores of each clip (empty where it failed), when asked
        for and the detector scores windows.
    errors : list of AudioInputError
        The clips that failed, each naming its index, path and cause.
    warnings : list of list of str
        For each clip, the ways it is unlike the training clips (too short,
        silent, clipped, a lower rate, a far duration, another codec; see
        :mod:`audioad.domain`); empty for a clip like them or one that failed.
    """

    scores: np.ndarray
    frames: list | None
    errors: list
    warnings: list


class FrameScores(NamedTuple):
    """Scores of one clip's windows over time.

    Attributes
    ----------
    times : numpy.ndarray
        Start of each window, in seconds from the start of the clip.
    scores : numpy.ndarray
        Score of each window; higher is more abnormal.
    """

    times: np.ndarray
    scores: np.ndarray


class ClipDetector(BaseDetector):
    """Base of every audioad detector: PyOD's ``BaseDetector`` for lists of clips.

    A detector is its front end, which turns waveforms into something per clip
    (a log-mel spectrogram, an embedding), and a model of the features it
    makes from that. Subclasses implement this protocol; everything else
    (loading clips in any form :func:`audioad.audio.load_audio` accepts,
    streaming them in chunks so memory stays bounded, long files decoded a
    block at a time, thresholds, labels, probabilities, confidence, what to
    do with a clip that fails) is done here, in terms of it:

    - ``frontend``: a value object (see :mod:`audioad.detectors.frontend`)
      with the settings, ``transform(waves)`` and ``transform_stream(stream)``;
      detectors with equal front ends in an ensemble share one computation;
    - ``features_from(transformed)``: the detector's features from the front
      end's items (the items themselves by default); depends on the
      parameters only, never on what was fitted;
    - ``check_parameters()``: validate the constructor's arguments;
    - ``fit_features(features)``: learn from the training clips' features;
      returns ``self``;
    - ``score_features(features)``: scores of new clips, each a function of
      its own clip alone;
    - ``held_out_scores(features, folds)``: each training clip scored by a
      model that did not see its fold (by default, a fresh model fitted on
      the other folds);
    - ``training_scores(features)``: the training clips' scores that set
      :attr:`threshold_` through :meth:`calibrate` (by default their held-out
      scores over :data:`TRAINING_FOLDS` consecutive folds, so the threshold
      holds for clips the detector has not heard).

    Detectors that score windows over time set ``scores_windows = True`` and
    implement ``window_scores(features)`` (a list of per-window score arrays),
    ``window_hop_seconds`` and, if a clip's score is not the mean of its
    windows', ``clip_scores(windows)``; this gives :meth:`frame_scores`, and
    :meth:`score_clips` gives both from one pass (``scores_and_windows``; a
    detector whose clip score is not made from its windows, such as an
    ensemble with a frame detector, overrides that instead).

    Parameters
    ----------
    contamination : float
        Expected share of anomalous clips in the training set, in (0, 0.5];
        sets :attr:`threshold_` by PyOD's rule.
    """

    #: Whether the detector scores windows over time (and so has :meth:`frame_scores`).
    scores_windows = False

    def __init__(self, contamination=0.1):
        super().__init__(contamination=contamination)

    # -- the protocol ----------------------------------------------------------

    @property
    def frontend(self):
        """The front end that turns this detector's waveforms into per-clip items."""
        raise NotImplementedError

    def features_from(self, transformed):
        """The detector's features from its front end's items: the items themselves."""
        return transformed

    def check_parameters(self):
        """Validate the constructor's arguments; called by :meth:`fit`."""
        rule = getattr(self, "threshold_rule", "contamination")
        if rule not in ("contamination", "gamma"):
            raise ValueError(f"threshold_rule must be 'contamination' or 'gamma', got {rule!r}")
        contamination = getattr(self, "contamination", 0.1)
        # Checked here, before any clip is read, not only where the threshold is set after fitting.
        if isinstance(contamination, bool) or not (
            isinstance(contamination, (int, float, np.integer, np.floating)) and 0 < contamination <= 0.5
        ):
            raise ValueError(
                f"contamination must be in (0, 0.5] (the expected share of anomalous clips), got {contamination!r}"
            )

    def fit_features(self, features):
        """Learn from the features of the training clips; return ``self``."""
        raise NotImplementedError

    def score_features(self, features):
        """Scores of new clips from their features: higher is more abnormal."""
        raise NotImplementedError

    def held_out_scores(self, features, folds):
        """Each training clip's score from a model fitted on the clips of the other folds.

        Parameters
        ----------
        features
            Features of the training clips.
        folds : numpy.ndarray of int
            The fold of each clip.

        Returns
        -------
        numpy.ndarray of shape (n_clips,)
        """

        def fit_and_score(train, held_out):
            return clone(self).fit_features(clips_of(features, train)).score_features(clips_of(features, held_out))

        return fold_scores(folds, fit_and_score)

    def training_scores(self, features):
        """Scores of the fitted detector's training clips, which set :attr:`threshold_`.

        Held out over :data:`TRAINING_FOLDS` folds (:meth:`training_folds`); with fewer than
        three clips there is nothing to hold out, and the clips score in-sample.
        """
        if len(features) < 3:
            return self.score_features(features)
        return self.held_out_scores(features, self.training_folds(len(features), TRAINING_FOLDS))

    def training_folds(self, n_clips, n_folds):
        """Folds of the training clips: by the ``groups`` given to :meth:`fit`, else consecutive runs of clips."""
        return training_folds(n_clips, n_folds, getattr(self, "_fit_groups", None))

    def window_scores(self, features):
        """Scores of each clip's windows over time, a list of arrays (window detectors only)."""
        raise TypeError(f"{type(self).__name__} scores whole clips; it has no frame scores")

    @property
    def window_hop_seconds(self):
        """Seconds between the starts of consecutive windows (window detectors only)."""
        raise TypeError(f"{type(self).__name__} scores whole clips; it has no frame scores")

    def clip_scores(self, windows):
        """Clip scores from per-clip window scores: their mean."""
        return np.array([np.mean(scores) for scores in windows])

    def scores_and_windows(self, features):
        """Clip scores and per-clip window scores in one pass (window detectors only): the windows scored once."""
        windows = self.window_scores(features)
        return self.clip_scores(windows), windows

    def features_of(self, X, progress=False):
        """The detector's features of every clip of X, computed chunk by chunk.

        Parameters
        ----------
        X : list
            Clips in any form :meth:`fit` accepts.
        progress : bool
            Show a progress bar while clips are read.
        """
        return self.features_and_profiles(X, progress)[0]

    def features_and_profiles(self, X, progress=False, observe=None):
        """The features of every clip of X, and each clip's :class:`~audioad.domain.ClipProfile`.

        Parameters
        ----------
        X : list
            Clips in any form :meth:`fit` accepts.
        progress : bool
            Show a progress bar while clips are read.
        observe : callable or None
            Called with each chunk's front-end items before they become features (fit's
            :class:`~audioad.detectors.frontend.TrainingLevels`).
        """
        parts, profiles = [], []
        for _, features, chunk_profiles in featurised_chunks(self, as_clips(X), progress=progress, observe=observe):
            parts.append(features)
            profiles.extend(chunk_profiles)
        return joined(parts), profiles

    def _scores_with(self, X, on_error, score, progress=False, warn=True):
        """Apply ``score(features)`` chunk by chunk, honouring ``on_error``; also return the failures and profiles.

        Nothing is stored on the detector, so threads may score with one detector at once.
        """
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        clips = as_clips(X)
        positions, parts, failed, profiles = [], [], [], []
        for where, features, chunk_profiles in featurised_chunks(self, clips, on_error, progress, failed):
            positions.append(where)
            parts.append(score(features))
            profiles.append(chunk_profiles)
        if failed and warn:
            listed = "; ".join(str(e) for e in failed[:5]) + (" ..." if len(failed) > 5 else "")
            message = f"{len(failed)} of {len(clips)} clips could not be scored: {listed}"
            warnings.warn(AudioInputWarning(message, failed), stacklevel=3)
        return clips, positions, parts, failed, profiles

    # -- PyOD's contract -----------------------------------------------------

    def fit(self, X, y=None, progress=False, segment=None, hop=None, groups=None, on_error="raise"):
        """Learn what normal clips sound like.

        Parameters
        ----------
        X : list
            Training clips: paths, waveform arrays or ``(waveform, sample_rate)``
            tuples, mostly of normal operation.
        y : ignored
            Present for API consistency.
        progress : bool
            Show a progress bar while clips are read.
        segment : float, str or None
            Cut every clip into segments this long (``"10s"``, ``2.5``; see
            :func:`audioad.segments.parse_duration`) and learn from the segments:
            one long recording is enough. None: clips are used whole, unless one
            lasts over :data:`audioad.segments.LONG_RECORDING_SECONDS`, when the
            recordings are cut into 10 s segments with a
            :class:`~audioad.segments.SegmentNotice`.
        hop : float, str or None
            Time between segment starts; None: ``segment`` (back to back).
        groups : sequence or None
            The recording (or session) each clip of X comes from. The held-out scores that set
            :attr:`threshold_` then come from folds of whole recordings, so no recording is on
            both sides of a fold; None: folds of consecutive clips, which keeps a recording
            whose clips sit together on one side. Not with ``segment``: the segments of one
            recording are a group already. With few recordings a fold of whole ones holds out a
            large part of what the model hears: on the shared recordings it did worse than
            consecutive folds (``benchmarks/group_folds.py``).
        on_error : {'raise', 'skip'}, default 'raise'
            A clip that cannot be read: stop there (``'raise'``), or learn from the others
            (``'skip'``). With ``'skip'`` every file's header is read first
            (:func:`audioad.collect.header_errors`), so the bad files are set aside before anything
            is decoded and the rest are decoded once; a file whose samples fail past a good header
            is set aside when fit meets it, and fit starts again without it. Every clip left out
            is named in one :class:`AudioInputWarning` (its ``errors``), also when fit then fails.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Where no training clip is usable (all silent or far shorter than one analysis window,
            :func:`audioad.domain.check_training`, or with ``on_error='skip'`` none can be read);
            where some are unlike a usable recording, a
            :class:`~audioad.domain.TrainingDataWarning` says how many of each kind.
        AudioInputError
            With ``on_error='raise'``, for the first clip that cannot be read, naming it.

        Examples
        --------
        >>> import numpy as np
        >>> from audioad import MelKNN
        >>> recording = 0.1 * np.random.default_rng(0).standard_normal(16000 * 30)
        >>> clf = MelKNN().fit([recording], segment="2s", hop="1s")
        >>> len(clf.decision_scores_), clf.segment_seconds_
        (29, 2.0)
        """
        if on_error == "skip":
            return self._fit_readable(X, progress, segment, hop, groups)
        if on_error != "raise":
            raise ValueError(f"on_error must be 'raise' or 'skip' when fitting, got {on_error!r}")
        self.check_parameters()
        levels = TrainingLevels.of(self.frontend)
        plan = training_segment_plan(X, self.sr, segment, hop)
        if groups is not None and plan is not None:
            raise ValueError("groups cannot be given with segment: the segments of one recording are its group")
        if plan is None:
            features, profiles = self.features_and_profiles(X, progress, observe=levels)
        else:
            features, profiles = segment_features(self, X, *plan, progress=progress, observe=levels)
        # The checks scoring applies, before anything is learned: a model of silence or of 4 ms
        # clips scores every later recording as out of domain.
        odd = check_training(profiles, self.sr, self.frontend.window_samples)
        if odd:
            warnings.warn(TrainingDataWarning(f"{odd}; learned from all the same"), stacklevel=2)
        self._set_n_classes(y)
        # Read by training_folds while fitting only; a fitted detector keeps no list of the clips' groups.
        self._fit_groups = None if groups is None else list(groups)
        try:
            self.fit_features(features)
            # The training spectrum tells a bare array recorded at another rate; none without a log-mel front end.
            self.training_audio_ = training_profile(profiles, None if levels is None else levels.spectrum())
            self.segment_seconds_, self.segment_hop_seconds_ = plan or (None, None)
            # The normal reference that audioad.explain compares clips with; None without a log-mel front end.
            self.band_levels_ = None if levels is None else levels.reference()
            return self.calibrate(self.training_scores(features))
        finally:
            del self._fit_groups

    def _fit_readable(self, X, progress, segment, hop, groups):
        """:meth:`fit` on the clips of X that can be read (``on_error='skip'``); see there."""
        clips = as_clips(X)
        files = [i for i, clip in enumerate(clips) if isinstance(clip, (str, os.PathLike))]
        failed = [error.at(files[error.index]) for error in header_errors([clips[i] for i in files])]
        bad = {error.index for error in failed}
        kept = [i for i in range(len(clips)) if i not in bad]
        try:
            while True:
                if not kept:
                    raise ValueError(f"none of the {len(clips)} clips could be read")
                try:
                    return self.fit(
                        [clips[i] for i in kept],
                        progress=progress,
                        segment=segment,
                        hop=hop,
                        groups=None if groups is None else [groups[i] for i in kept],
                    )
                except AudioInputError as exc:
                    if exc.index is None or not 0 <= exc.index < len(kept):
                        raise
                    failed.append(exc.at(kept.pop(exc.index)))
        finally:
            if failed:
                failed.sort(key=lambda error: error.index)
                listed = "; ".join(str(e) for e in failed[:5]) + (" ..." if len(failed) > 5 else "")
                message = f"{len(failed)} of {len(clips)} clips could not be read and were left out: {listed}"
                warnings.warn(AudioInputWarning(message, failed), stacklevel=3)

    def score_segments(
        self, X, segment=None, hop=None, threshold=None, file_threshold=None, rule="any", per_hour=0.1, normal=None
    ):
        """Score long recordings segment by segment: one row a segment, a summary and a verdict for each recording.

        Recordings are cut as they are decoded (:mod:`audioad.segments`), never held whole; each
        segment is scored as a clip, and its score is that of the same samples scored alone.
        A recording that cannot be read (or stops being readable part way) gets a row with its
        error after the segments read before; the others go on.

        Parameters
        ----------
        X : list
            Recordings in any form :meth:`fit` accepts.
        segment : float, str or None
            Segment length. None: the length the model was fitted on (or its longest training
            clip) for recordings more than :data:`audioad.segments.MUCH_LONGER` times longer,
            with a :class:`~audioad.segments.SegmentNotice`; shorter clips are scored whole.
        hop : float, str or None
            Time between segment starts; None: ``segment``.
        threshold : float or None
            Segment threshold (labels, segments above it); None: :attr:`threshold_`.
        file_threshold : float or None
            The alarm level: segments above it count for the file's verdict; None: the score
            normal audio passes ``per_hour`` times an hour, as ``audioad score`` sets it
            (:func:`audioad.verdicts.alarm_levels`).
        rule : str or VerdictRule
            When a recording raises an alarm: ``"any"`` segment above ``file_threshold``, or ``"K/N"``,
            K of N consecutive segments (:func:`audioad.segments.parse_rule`).
        per_hour : float
            False alarms allowed per hour of normal audio, where ``file_threshold`` is None.
        normal : array-like or None
            Scores of normal audio the model did not learn from, to set the levels from (as
            ``audioad score --calibrate``); None: :attr:`decision_scores_`.

        Returns
        -------
        SegmentScores
            ``rows`` (:class:`~audioad.detectors.segmented.SegmentScore`: clip, path, start, end,
            score, label, warning, error), ``files`` (:class:`~audioad.segments.FileSummary`),
            ``verdicts`` (:class:`~audioad.verdicts.Verdict`: normal, unusual or alarm, why, and
            what to do; the words ``audioad score`` prints) and ``levels``.

        Examples
        --------
        >>> import numpy as np
        >>> from audioad import MelKNN
        >>> rng = np.random.default_rng(0)
        >>> clf = MelKNN().fit([0.1 * rng.standard_normal(16000 * 20)], segment="1s")
        >>> test = 0.1 * rng.standard_normal(16000 * 6)
        >>> test[16000 * 3 : 16000 * 4] += np.sin(np.arange(16000) * 0.3)
        >>> result = clf.score_segments([test], segment="1s")
        >>> [(row.start, row.label) for row in result.rows][2:5], result.files[0].worst_start
        ([(2.0, 0), (3.0, 1), (4.0, 0)], 3.0)
        """
        # Imported here: a scoring run builds on the detectors, not the other way round.
        from ..scoring import score_segments

        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        return score_segments(self, X, segment, hop, threshold, file_threshold, rule, per_hour, normal)

    def calibrate(self, training_scores):
        """Set :attr:`decision_scores_`, :attr:`threshold_` and :attr:`labels_` from the training clips' scores.

        :meth:`fit` gives it :meth:`training_scores`; an ensemble gives each
        member the held-out scores it computed. Returns ``self``.
        """
        self.decision_scores_ = np.asarray(training_scores, dtype=np.float64)
        return self._process_decision_scores()

    def _process_decision_scores(self):
        rule = getattr(self, "threshold_rule", "contamination")
        self.threshold_ = float(fit_threshold(self.decision_scores_, rule=rule, contamination=self.contamination))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        self._mu = float(np.mean(self.decision_scores_))
        self._sigma = float(np.std(self.decision_scores_))
        return self

    def decision_function(self, X, on_error="raise", progress=False):
        """Anomaly score of each clip: higher is more abnormal.

        Parameters
        ----------
        X : list
            Clips in any form :meth:`fit` accepts.
        on_error : {"raise", "skip", "nan"}
            A clip that cannot be loaded raises :class:`~audioad.audio.AudioInputError`
            (``"raise"``), is left out of the result (``"skip"``), or scores NaN in
            its place (``"nan"``). Either of the last two warns with an
            :class:`AudioInputWarning` whose ``errors`` list the failures.
            Scoring writes nothing on the detector, so threads may share one;
            :meth:`score_clips` returns the failures beside the scores.
        progress : bool
            Show a progress bar while clips are scored.

        Returns
        -------
        numpy.ndarray of shape (n_clips,)
        """
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        clips, positions, parts, _, profiles = self._scores_with(X, on_error, self.score_features, progress)
        self._warn_bare_rates(positions, profiles)
        return self._place(len(clips), positions, [np.asarray(p, dtype=np.float64) for p in parts], on_error)

    def _warn_bare_rates(self, positions, profiles):
        """Warn, once a call, where bare arrays look recorded at another rate than the model's (taken at it)."""
        training = getattr(self, "training_audio_", None)
        odd = [
            (position, warning)
            for where, chunk in zip(positions, profiles)
            for position, profile in zip(where, chunk)
            for warning in domain_warnings(profile, training, self.sr)
            if warning.startswith("rate:")
        ]
        if odd:
            position, warning = odd[0]
            more = f" (and {len(odd) - 1} more)" if len(odd) > 1 else ""
            warnings.warn(f"clip {position}{more}: {warning.partition(': ')[2]}", UserWarning, stacklevel=3)

    @staticmethod
    def _place(n_clips, positions, parts, on_error):
        if on_error != "nan":
            return np.concatenate(parts) if parts else np.empty(0)
        scores = np.full(n_clips, np.nan)
        for where, part in zip(positions, parts):
            scores[where] = part
        return scores

    def score_clips(self, X, frames=False, progress=False):
        """Score clips in one pass, with per-window scores if asked; a bad clip never stops it.

        The tool for long batches: a clip that cannot be loaded scores NaN and
        is reported in ``errors``, and a window detector computes its window
        scores once for both the clip scores and ``frames``.

        Parameters
        ----------
        X : list
            Clips in any form :meth:`fit` accepts.
        frames : bool
            Also return each clip's window scores (window detectors only;
            ``frames`` is None for the others).
        progress : bool
            Show a progress bar.

        Returns
        -------
        ClipScores
            ``(scores, frames, errors, warnings)``.
        """
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        frames = frames and self.scores_windows

        def score(features):
            return self.scores_and_windows(features) if frames else (self.score_features(features), None)

        clips, positions, parts, failed, profiles = self._scores_with(X, "nan", score, progress, warn=False)
        scores = self._place(len(clips), positions, [np.asarray(p[0], dtype=np.float64) for p in parts], "nan")
        per_clip_warnings = [[] for _ in clips]
        training = getattr(self, "training_audio_", None)
        for where, chunk_profiles in zip(positions, profiles):
            for position, profile in zip(where, chunk_profiles):
                per_clip_warnings[position] = domain_warnings(profile, training, self.sr, self.frontend.window_samples)
        per_clip = None
        if frames:
            hop = self.window_hop_seconds
            per_clip = [FrameScores(np.empty(0), np.empty(0))] * len(clips)
            for where, (_, windows) in zip(positions, parts):
                for position, window_scores in zip(where, windows):
                    per_clip[position] = FrameScores(
                        np.arange(len(window_scores)) * hop, np.asarray(window_scores, dtype=np.float64)
                    )
        return ClipScores(scores, per_clip, failed, per_clip_warnings)

    def frame_scores(self, X, on_error="raise"):
        """Scores of each clip's windows over time, to see when a clip sounds wrong.

        The clip's score is made from its window scores (by default their mean).

        Parameters
        ----------
        X : list
            Clips in any form :meth:`fit` accepts.
        on_error : {"raise", "skip", "nan"}
            As in :meth:`decision_function`; ``"nan"`` gives an empty
            :class:`FrameScores` for a clip that failed.

        Returns
        -------
        list of FrameScores
            ``(times, scores)`` per clip: each window's start in seconds and its score.
        """
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        hop = self.window_hop_seconds
        clips, positions, parts, *_ = self._scores_with(X, on_error, self.window_scores)
        empty = FrameScores(np.empty(0), np.empty(0))
        result = [empty] * len(clips) if on_error == "nan" else []
        for where, windows in zip(positions, parts):
            for position, scores in zip(where, windows):
                frames = FrameScores(np.arange(len(scores)) * hop, np.asarray(scores, dtype=np.float64))
                if on_error == "nan":
                    result[position] = frames
                else:
                    result.append(frames)
        return result

    def _labels(self, scores):
        return (scores > self.threshold_).astype(int)

    def predict(self, X, return_confidence=False, on_error="raise"):
        """Label each clip: 0 normal, 1 anomalous (score above :attr:`threshold_`).

        Parameters
        ----------
        X : list
            Clips in any form :meth:`fit` accepts.
        return_confidence : bool
            Also return each label's confidence (see :meth:`predict_confidence`).
        on_error : {"raise", "skip", "nan"}
            As in :meth:`decision_function`; with ``"nan"`` a failed clip's label is -1.

        Returns
        -------
        labels : numpy.ndarray of int
        confidence : numpy.ndarray, only with ``return_confidence``
        """
        scores = self.decision_function(X, on_error=on_error)
        labels = np.where(np.isnan(scores), -1, self._labels(scores))
        if return_confidence:
            return labels, self._confidence(scores)
        return labels

    def predict_proba(self, X, method="linear", return_confidence=False, on_error="raise"):
        """Probability that each clip is anomalous, from its score.

        Parameters
        ----------
        X : list
            Clips in any form :meth:`fit` accepts.
        method : {"linear", "unify"}
            Min-max scaling of the score by the training scores (``"linear"``),
            or Kriegel et al.'s unified Gaussian probability (``"unify"``).
        return_confidence : bool
            Also return each label's confidence.
        on_error : {"raise", "skip", "nan"}
            As in :meth:`decision_function`.

        Returns
        -------
        probabilities : numpy.ndarray of shape (n_clips, 2)
            Columns: probability of normal, probability of anomalous.
        confidence : numpy.ndarray, only with ``return_confidence``
        """
        if method not in ("linear", "unify"):
            raise ValueError(f"method must be 'linear' or 'unify', got {method!r}")
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        scores = self.decision_function(X, on_error=on_error)
        if method == "linear":
            low, high = self.decision_scores_.min(), self.decision_scores_.max()
            anomalous = (scores - low) / (high - low if high > low else 1.0)
        else:
            anomalous = erf((scores - self._mu) / (self._sigma * np.sqrt(2) or 1.0))
        anomalous = np.clip(anomalous, 0.0, 1.0)
        probabilities = np.column_stack([1.0 - anomalous, anomalous])
        if return_confidence:
            return probabilities, self._confidence(scores)
        return probabilities

    def predict_confidence(self, X, on_error="raise"):
        """Confidence of each label under small changes of the training set.

        Perini et al. (2020), ExCeeD: the chance that the clip's label would
        stay the same, from where its score ranks among the training scores.

        Returns
        -------
        numpy.ndarray of shape (n_clips,), in [0, 1]
        """
        return self._confidence(self.decision_function(X, on_error=on_error))

    def _confidence(self, scores):
        n = len(self.decision_scores_)
        below = np.searchsorted(np.sort(self.decision_scores_), scores, side="right")
        posterior = (1.0 + below) / (2.0 + n)
        confidence = 1.0 - binom.cdf(n - int(n * self.contamination), n, posterior)
        return np.where(self._labels(scores) == 1, confidence, 1.0 - confidence)

    def fit_predict(self, X, y=None):
        """Fit on X and return the labels of its clips (:attr:`labels_`)."""
        return self.fit(X, y).labels_

    # -- model files -----------------------------------------------------------

    #: Kind of each constructor argument, for model files (:mod:`audioad.detectors.schema`); a subclass
    #: extends it with its own, and bounds every setting that sizes an allocation.
    params_schema = {
        "contamination": Float(0.0, 0.5),
        "threshold_rule": Str(),
        "n_jobs": NoneOr(Int(-1024, 1024)),
    }
    #: Kind of each entry of :meth:`fitted_state`; a subclass extends it with its fitted attributes.
    state_schema = {
        "decision_scores_": Array("f", ("n_clips",)),
        "threshold_": Float(finite=False),
        "labels_": Array("iu", ("n_clips",), lo=0, hi=1),
        "_mu": Float(finite=False),
        "_sigma": Float(finite=False),
        # Set by fit, not by an ensemble that fits its members' features.
        "_classes": Optional(Int(1, 2)),
        "training_audio_": Optional(
            NoneOr(
                Record(
                    {
                        "seconds": ListOf(Float(0.0), 2, 2),
                        "codecs": ListOf(Str(), max_len=1000),
                        "rates": ListOf(Int(1, 10_000_000), max_len=1000),
                        "spectrum": Optional(
                            Record(
                                {
                                    "hz": ListOf(Float(0.0), 1, 2**16),
                                    "db": ListOf(Float(finite=False), 1, 2**16),
                                }
                            )
                        ),
                    }
                )
            )
        ),
        "segment_seconds_": Optional(NoneOr(Float(0.0))),
        # Set by audioad.window_threshold on a detector that scores windows, or by an ensemble's fit.
        "window_threshold_": Optional(Float(finite=False)),
        "window_false_alarm_rate_": Optional(Float(0.0, 1.0)),
        "segment_hop_seconds_": Optional(NoneOr(Float(0.0))),
        "band_levels_": Optional(
            NoneOr(
                Record(
                    {
                        "quantiles": Array("f", ("n_quantiles",)),
                        "levels": Array("f", ("n_quantiles", "n_mels")),
                        "n_frames": Int(0, 2**62),
                    }
                )
            )
        ),
    }
    #: Fitted attributes not stored in a model file: rebuilt by :meth:`restore`, or per call.
    not_persisted = ()

    def fitted_state(self):
        """What a model file stores of the fitted detector: its fitted attributes, as :attr:`state_schema` names them.

        Adding a detector class to model files: declare ``params_schema`` and
        ``state_schema`` beside it (extending its base's), keep what ``fit`` sets
        to arrays, numbers, text and the estimators of
        :mod:`audioad.persistence.estimators`, and add the class to
        :mod:`audioad.persistence.registry`.
        """
        params = set(self.get_params(deep=False))
        return {k: v for k, v in vars(self).items() if k not in params and k not in self.not_persisted}

    def restore(self):
        """Rebuild what :meth:`fitted_state` left out, after a model file set the rest (checked values only)."""
