"""EventKNN: short events found against the nearest normal frames, band by band, stretch by stretch.

A 2 s tone, click train or noise burst inside a 10 s clip changes a few mel bands for a
fifth of the clip: the clip's average spectrum hardly moves, and a distance over all the bands
of one window dilutes one band 128 times. So each frame of the clip is compared with the frames
of the training clips that sound most like it (its ``n_neighbors`` nearest, a *conditional*
reference: what the machine sounds like in that state, not the median of every state), and what
is left over, band by band, is the frame's residual. A residual the clip shows all along (another
speed, another microphone) is not an event: each band's median residual over the clip is taken
off, as is each frame's median over the bands (a change of gain). The residuals are then averaged
over short stretches of time and neighbouring bands (``scales``: a tone is one band, a noise
burst an octave; half a second or one and a half), which averages the frame-to-frame
flicker of normal sound down and keeps a steady event whole, and each average is measured in
spreads of what normal sound gives there: the larger of the spread held-out training clips give
in that band and the one the clip's own frame-to-frame flicker implies (a clip that flickers more
than the training clips in a band is not alarmed by that alone). A window's score is the largest
of these over the bands and scales; a clip's score is its largest window score. A clip shorter
than twice the longest stretch (3 s at the defaults) holds no event shorter than itself to speak
of: it scores 0 (its windows are still scored).

Memory is bounded on long recordings: a clip's frames are searched, and its stretches averaged,
a chunk of time at a time (each chunk with the frames its longest stretch reaches beyond it),
and its band medians taken a few bands at a time, so scoring an hour as one clip holds one
float32 residual array of its length and a few megabytes besides. A score does not depend on
the chunk size to float64 rounding (relative 1e-9 at the defaults; tested); against the
whole-clip computation of float32 running sums it had before, clip scores agree to 1e-5 (relative).
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.stats import norm

from ..features import serial_matmul
from .frontend import check_positive_integers
from .log_mel import LogMelDetector
from .pooled import standardisation
from .schema import Array, Bool, Int, ListOf, NoneOr

__all__ = ["EventKNN", "Departures", "frame_residuals", "stretch_lengths", "stretch_means"]

#: Training clips whose held-out residuals set the spreads (evenly spaced over the training list).
CALIBRATION_CLIPS = 64
#: The clip's own flicker is read from this quantile of its frame-to-frame changes: a click
#: train changes most frames of its stretch, and a low quantile does not see it.
FLICKER_QUANTILE = 0.25
_FLICKER_NORMAL = float(np.sqrt(2.0) * norm.ppf(0.5 + FLICKER_QUANTILE / 2.0))
_MAD_NORMAL = 1.4826
# Frames whose distances to the references are computed at once (8 MB of float32 at 1024 references).
_FRAME_BLOCK = 2048
# Frames whose stretch means are made at once (4 MB of float64 at 128 bands), and bands whose
# medians and flicker are taken at once (4 MB of float32 an hour): the memory of a long clip.
_CHUNK_FRAMES = 4096
_BAND_BLOCK = 8


class Departures(NamedTuple):
    """Where and by how much a clip departs from its nearest normal frames, band by band (:meth:`EventKNN.departures`).

    Attributes
    ----------
    residuals : numpy.ndarray of shape (n_mels, n_frames)
        Each frame minus the mean of its nearest normal frames, less the clip's median of each
        band and each frame's median over the bands, in dB (0 in the end frames left out).
    spreads : numpy.ndarray of shape (n_mels, n_frames)
        At each band and frame, the largest standardised stretch mean over the scales whose
        stretch is centred there: how many spreads of normal sound the stretch departs by.
    band_offsets : numpy.ndarray of shape (n_mels,)
        The clip's median residual of each band, which ``residuals`` have taken off (what the
        clip shows all along; 0 where ``band_medians`` is False): ``residuals + band_offsets``
        is each frame against its nearest normal frames as heard, less a change of gain.

    All are float32.
    """

    residuals: np.ndarray
    spreads: np.ndarray
    band_offsets: np.ndarray

    def departing_db(self):
        """Each cell's departure in dB, float64: from its nearest normal frames both as heard and less what the clip
        shows all along, by the nearer of the two where both go the same way, else 0.

        Taking off what the clip shows all along keeps a clip of another speed from departing
        everywhere, but where most of its nearest frames hold a harmonic the clip lacks, the
        band's median is low, and taking it off lifts the rest of the band as much: where the
        nearest frames lack the harmonic too, the clip sounds as they do, yet its residual reads
        +10 dB or more (a motor at a speed the training clips lack). Departing from both is departing.

        Examples
        --------
        >>> d = Departures(np.array([[12.0, 4.0, -5.0]]), np.zeros((1, 3)), np.array([-10.0]))
        >>> d.departing_db().tolist()
        [[2.0, 0.0, -5.0]]
        """
        residuals = np.asarray(self.residuals, dtype=np.float64)
        heard = residuals + np.asarray(self.band_offsets, dtype=np.float64)[:, None]
        nearer = np.sign(residuals) * np.minimum(np.abs(residuals), np.abs(heard))
        return np.where(np.sign(residuals) == np.sign(heard), nearer, 0.0)


def frame_residuals(frames, references, keys, n_neighbors, excluded=None):
    """Each frame minus the mean of its ``n_neighbors`` nearest references, band by band.

    Parameters
    ----------
    frames : numpy.ndarray of shape (n_frames, n_mels)
        One clip's log-mel frames in dB.
    references : numpy.ndarray of shape (n_references, n_mels)
        Normal frames in dB.
    keys : tuple of numpy.ndarray
        ``(frame_keys, reference_keys)``: the vectors the neighbours are searched by,
        (n_frames, n_keys) and (n_references, n_keys).
    n_neighbors : int
    excluded : numpy.ndarray of bool or None
        References a frame may not use (those of its own training fold).

    Returns
    -------
    numpy.ndarray of shape (n_frames, n_mels), in the frames' type

    Examples
    --------
    >>> refs = np.array([[0.0, 0.0], [10.0, 10.0]])
    >>> frame_residuals(np.array([[9.0, 12.0]]), refs, (np.array([[9.0, 12.0]]), refs), 1).tolist()
    [[-1.0, 2.0]]
    """
    queries, reference_keys = keys
    reference_sq = np.einsum("ij,ij->i", reference_keys, reference_keys)
    n = min(n_neighbors, len(references) - (0 if excluded is None else int(excluded.sum())))
    residuals = np.empty(frames.shape, dtype=np.result_type(frames, references))
    # Blocks of frames bound the distance matrix's memory on a long recording; each frame's
    # neighbours depend on that frame alone, so the blocks do not change them.
    for start in range(0, len(frames), _FRAME_BLOCK):
        block = slice(start, start + _FRAME_BLOCK)
        distances = -2.0 * serial_matmul(queries[block], reference_keys.T)
        distances += reference_sq
        if excluded is not None:
            distances[:, excluded] = np.inf
        # A few passes of argmin, each taking the nearest left, are several times faster than a partition.
        rows = np.arange(len(distances))
        nearest = np.empty((len(distances), n), dtype=np.intp)
        for j in range(n):
            nearest[:, j] = distances.argmin(axis=1)
            distances[rows, nearest[:, j]] = np.inf
        residuals[block] = frames[block] - references[nearest].mean(axis=1)
    return residuals


def stretch_lengths(scales, n_frames):
    """Frames of each scale's stretch in a clip of ``n_frames`` frames: a shorter clip is one stretch."""
    return [min(length, n_frames) for _, length in scales]


def stretch_means(z, scales, chunk_frames=None):
    """Yield ``(j, first, means)``: means of ``z`` over scale ``j``'s stretches, a chunk of stretches at a time.

    Parameters
    ----------
    z : numpy.ndarray of shape (n_mels, n_frames)
    scales : sequence of (int, int)
        ``(bands, frames)`` of each stretch.
    chunk_frames : int or None
        Stretches (by their first frame) made at once; None: 4096. A chunk reads the frames its longest
        stretch reaches beyond it; its running sums are float64 from the chunk's start, so a
        mean does not depend on the chunk size beyond float64 rounding.

    Yields
    ------
    j : int
        The scale.
    first : int
        The first frame of the chunk's first stretch.
    means : numpy.ndarray of shape (n_mels, n_stretches), float64
        Means of the stretches starting at frames ``first, first + 1, ...``; whole stretches only.

    Examples
    --------
    >>> z = np.arange(6.0)[None, :]
    >>> [(j, first, m.tolist()) for j, first, m in stretch_means(z, ((1, 2),), chunk_frames=3)]
    [(0, 0, [[0.5, 1.5, 2.5]]), (0, 3, [[3.5, 4.5]])]
    """
    n_frames = z.shape[1]
    lengths = stretch_lengths(scales, n_frames)
    chunk_frames = chunk_frames or _CHUNK_FRAMES
    for first in range(0, n_frames, chunk_frames):
        piece = z[:, first : first + chunk_frames + max(lengths) - 1]
        running = np.zeros((piece.shape[0], piece.shape[1] + 1))
        np.cumsum(piece, axis=1, dtype=np.float64, out=running[:, 1:])
        for j, ((bands, _), length) in enumerate(zip(scales, lengths)):
            count = min(chunk_frames, n_frames - length + 1 - first)
            if count <= 0:
                continue
            means = (running[:, length : length + count] - running[:, :count]) / length
            yield j, first, uniform_filter1d(means, bands, axis=0, mode="nearest") if bands > 1 else means


def _row_blocks(n_rows, size):
    return [slice(start, start + size) for start in range(0, n_rows, size)]


def _gathered_rows(blocks, indices):
    """Rows ``indices`` (sorted) of the concatenation of ``blocks``, made without the concatenation."""
    ends = np.cumsum([len(block) for block in blocks])
    owner = np.searchsorted(ends, indices, side="right")
    within = indices - (ends - [len(block) for block in blocks])[owner]
    rows = np.empty((len(indices), blocks[0].shape[1]), np.float32)
    for block in np.unique(owner):
        mine = owner == block
        rows[mine] = blocks[block][within[mine]]
    return rows


def _band_spread(values, axis):
    """Median absolute value, in standard deviations of a normal distribution."""
    return _MAD_NORMAL * np.median(np.abs(values), axis=axis)


class EventKNN(LogMelDetector):
    """Short events (a tone, a click train, a noise burst) against the nearest normal frames.

    Each frame is compared with its ``n_neighbors`` nearest normal training frames, band by
    band; the residuals, less what the clip shows all along, are averaged over stretches of
    time and bands (``scales``) and measured in spreads of normal sound; a window scores its
    largest, a clip its largest window. See the module's text for why.

    Parameters
    ----------
    n_neighbors : int, default 5
        Nearest training frames a frame is compared with (their mean).
    max_frames : int, default 1024
        Reference frames drawn at random from the training clips.
    scales : tuple of (int, int), default ((1, 16), (3, 16), (9, 16), (1, 48))
        ``(bands, frames)`` of each stretch the residuals are averaged over: at the default
        front end (32 ms a frame), 0.5 s of one band, three and nine bands, and 1.5 s of one band.
    search_band_group : int, default 4
        Neighbouring bands averaged into one value of the neighbour search: 128 bands are
        searched in 32 (1: in all 128, slower and no better; benchmarks/event_variants.py).
    band_medians : bool, default True
        Take each band's median residual over the clip off (what the clip shows all along).
        False leaves it in (a variant measured in benchmarks/event_variants.py).
    frame_medians : bool, default True
        Take each frame's median residual over the bands off (a change of gain). False leaves
        it in (a variant measured in benchmarks/event_variants.py).
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
    reference_frames_ : numpy.ndarray of shape (n_references, n_mels)
        Normal training frames in dB, float32.
    frame_mean_, frame_scale_ : numpy.ndarray of shape (n_mels,)
        Standardisation of frames for the neighbour search.
    residual_scale_ : numpy.ndarray of shape (n_mels,)
        Spread of each band's held-out residual, in dB.
    stretch_scale_ : numpy.ndarray of shape (n_scales, n_mels)
        Spread of the stretch means of held-out training clips, per scale and band.
    flicker_ratio_ : numpy.ndarray of shape (n_scales, n_mels)
        Stretch spread per unit of frame-to-frame flicker, per scale and band (median over the
        held-out training clips): turns a clip's own flicker into the stretch spread it implies.
    decision_scores_ : numpy.ndarray of shape (n_clips,)
        Held-out scores of the training clips.
    threshold_ : float
        Scores above it are labelled anomalous.
    labels_ : numpy.ndarray of shape (n_clips,)
        Labels of the training clips (0 normal, 1 anomalous).

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.detectors.event_knn import EventKNN
    >>> rng = np.random.default_rng(0)
    >>> normal = [0.1 * rng.standard_normal(16000 * 4) for _ in range(12)]
    >>> t = np.arange(16000) / 16000
    >>> toned = [n.copy() for n in normal[:3]]
    >>> for clip in toned:
    ...     clip[24000:40000] += 0.05 * np.sin(2 * np.pi * 3000 * t)   # a tone from 1.5 to 2.5 s
    >>> clf = EventKNN().fit(normal[3:])
    >>> bool(clf.decision_function(toned).min() > clf.decision_function(normal[:3]).max())
    True
    >>> frames = clf.frame_scores(toned[:1])[0]
    >>> 1.4 < float(frames.times[np.argmax(frames.scores)]) < 2.6
    True
    """

    scores_windows = True

    params_schema = {
        **LogMelDetector.params_schema,
        "n_neighbors": Int(1, 100_000),
        "max_frames": Int(1, 10_000_000),
        # (bands, frames) pairs: a stretch is at most every band and a minute of frames at the smallest hop.
        "scales": ListOf(ListOf(Int(1, 2**16), 2, 2, as_tuple=True), 1, 64, as_tuple=True),
        "search_band_group": Int(1, 1024),
        "band_medians": Bool(),
        "frame_medians": Bool(),
        "random_state": NoneOr(Int(0, 2**32 - 1)),
    }
    state_schema = {
        **LogMelDetector.state_schema,
        "frame_mean_": Array("f", ("n_mels",)),
        "frame_scale_": Array("f", ("n_mels",)),
        "reference_frames_": Array("f", ("n_references", "n_mels")),
        "residual_scale_": Array("f", ("n_mels",)),
        "stretch_scale_": Array("f", ("n_scales", "n_mels")),
        "flicker_ratio_": Array("f", ("n_scales", "n_mels")),
    }

    def __init__(
        self,
        n_neighbors=5,
        max_frames=1024,
        scales=((1, 16), (3, 16), (9, 16), (1, 48)),
        search_band_group=4,
        band_medians=True,
        frame_medians=True,
        sr=16000,
        n_fft=1024,
        hop_length=512,
        n_mels=128,
        log="db",
        random_state=0,
        contamination=0.1,
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(contamination=contamination)
        self.n_neighbors = n_neighbors
        self.max_frames = max_frames
        self.scales = scales
        self.search_band_group = search_band_group
        self.band_medians = band_medians
        self.frame_medians = frame_medians
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.log = log
        self.random_state = random_state
        self.threshold_rule = threshold_rule
        self.n_jobs = n_jobs

    def check_parameters(self):
        super().check_parameters()
        check_positive_integers(self, ("n_neighbors", "max_frames", "search_band_group"))
        for name in ("band_medians", "frame_medians"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        scales = self.scales
        if not (
            isinstance(scales, (tuple, list))
            and scales
            and all(
                isinstance(s, (tuple, list))
                and len(s) == 2
                and all(isinstance(v, (int, np.integer)) and v >= 1 for v in s)
                for s in scales
            )
        ):
            raise ValueError(
                f"scales must be a non-empty tuple of (bands, frames) pairs of positive integers, got {scales!r}"
            )

    # -- features ------------------------------------------------------------

    def _frames(self, spec):
        """A clip's frames (n_frames, n_mels), less the end frames that heard the padding where it has enough."""
        edge = self.frontend.edge_frames
        spec = np.asarray(spec, dtype=np.float32)
        if spec.shape[1] > 2 * edge + 2:
            spec = spec[:, edge : spec.shape[1] - edge]
        return spec.T

    def _keys(self, frames):
        """The vectors the neighbour search compares: standardised frames, bands averaged in groups."""
        standardised = (frames - self.frame_mean_) / self.frame_scale_
        group = self.search_band_group
        n_keys = -(-standardised.shape[1] // group)
        padded = np.zeros((len(standardised), n_keys * group), np.float32)
        padded[:, : standardised.shape[1]] = standardised
        return padded.reshape(len(standardised), n_keys, group).mean(axis=2)

    # -- fitting -------------------------------------------------------------

    def fit_features(self, specs):
        """Draw the reference frames; set the spreads from held-out training clips."""
        if len(specs) < 2:
            raise ValueError(f"EventKNN needs at least 2 training clips, got {len(specs)}")
        # The clips' frames are views of their spectrograms: none is copied into one array of every frame.
        frames = [self._frames(spec) for spec in specs]
        self.frame_mean_, self.frame_scale_ = standardisation(frames)
        n_frames = np.array([len(f) for f in frames])
        chosen = self._drawn(int(n_frames.sum()))
        self.reference_frames_ = _gathered_rows(frames, chosen)
        self.restore()
        # Spreads from clips scored against references of other folds (of other recordings where
        # fit was given groups; else of other runs of consecutive clips), so of sound unheard.
        folds = self.training_folds(len(frames), 5)
        reference_folds = folds[np.searchsorted(np.cumsum(n_frames), chosen, side="right")]
        calibration = np.unique(
            np.linspace(0, len(frames) - 1, min(CALIBRATION_CLIPS, len(frames))).round().astype(int)
        )
        residuals = []
        for clip in calibration:
            excluded = reference_folds == folds[clip]
            if excluded.all():
                excluded = None
            residuals.append(self._clip_residuals(frames[clip], excluded)[0])
        self.residual_scale_ = np.maximum(_band_spread(np.concatenate(residuals, axis=1), axis=1), 1e-3)
        n_scales = len(self.scales)
        stretches = [[] for _ in range(n_scales)]
        for r in residuals:
            for j, _, means in stretch_means(r / self.residual_scale_[:, None], self.scales):
                stretches[j].append(means.astype(np.float32))
        flicker = np.array([_flicker(r / self.residual_scale_[:, None]) for r in residuals])
        self.stretch_scale_ = np.empty((n_scales, len(self.residual_scale_)))
        self.flicker_ratio_ = np.empty_like(self.stretch_scale_)
        for j, (bands, _) in enumerate(self.scales):
            self.stretch_scale_[j] = np.maximum(_band_spread(np.concatenate(stretches[j], axis=1), axis=1), 1e-6)
            implied = np.array([_banded_flicker(f, bands) for f in flicker])
            with np.errstate(divide="ignore", invalid="ignore"):
                self.flicker_ratio_[j] = np.nan_to_num(np.median(self.stretch_scale_[j] / implied, axis=0), posinf=0.0)
        return self

    def _drawn(self, n_frames):
        """The indices of the reference frames drawn from ``n_frames`` training frames, in order."""
        rng = np.random.default_rng(self.random_state)
        return np.sort(rng.choice(n_frames, min(self.max_frames, n_frames), replace=False))

    def held_out_scores(self, specs, folds):
        """Each fold's clips scored against reference frames drawn from the other folds' clips.

        The spreads are the fitted detector's: fit set them from clips scored against references
        of other folds already, so a model of the other folds would differ from it in its
        references alone, and refitting the spreads for every fold would cost five times the
        fit's calibration. Before fit, a model is fitted on the other folds, as for any detector.
        """
        if not hasattr(self, "residual_scale_"):
            return super().held_out_scores(specs, folds)
        folds = np.asarray(folds)
        scores = np.empty(len(specs))
        for fold in np.unique(folds):
            others = [self._frames(specs[i]) for i in np.flatnonzero(folds != fold)]
            model = copy.copy(self)
            model.reference_frames_ = _gathered_rows(others, self._drawn(sum(len(f) for f in others)))
            model.restore()
            left_out = np.flatnonzero(folds == fold)
            scores[left_out] = model.score_features([specs[i] for i in left_out])
        return scores

    def restore(self):
        """The reference frames' search keys, made again from the stored frames (where it is fitted)."""
        if hasattr(self, "reference_frames_"):
            self._reference_keys = self._keys(self.reference_frames_)

    not_persisted = ("_reference_keys",)

    # -- scoring -------------------------------------------------------------

    def _clip_residuals(self, frames, excluded=None):
        """(n_mels, n_frames) float32 residuals: less the nearest references, the band medians, each frame's median;
        and the band medians taken off (n_mels,), zeros where ``band_medians`` is False.

        A block of frames at a time is searched (its keys, distances and residuals), and a
        few bands or frames at a time have their medians taken: a long recording holds this
        array and nothing else of its length.
        """
        residuals = np.empty(frames.shape[::-1], np.float32)
        for block in _row_blocks(len(frames), _FRAME_BLOCK):
            keys = (self._keys(frames[block]), self._reference_keys)
            residuals[:, block] = frame_residuals(
                frames[block], self.reference_frames_, keys, self.n_neighbors, excluded
            ).T
        offsets = np.zeros(len(residuals), np.float32)
        for bands in _row_blocks(len(residuals), _BAND_BLOCK) if self.band_medians else ():
            offsets[bands] = np.median(residuals[bands], axis=1)
            residuals[bands] -= offsets[bands, None]
        for block in _row_blocks(len(frames), _FRAME_BLOCK) if self.frame_medians else ():
            residuals[:, block] -= np.median(residuals[:, block], axis=0)
        return residuals, offsets

    def _departed_stretches(self, z):
        """Yield ``(centre, departure)``: a chunk of stretches' absolute means of ``z`` in spreads, by their centres.

        ``departure`` is (n_mels, n_stretches) of one scale; ``centre`` the frame of ``z`` its first
        stretch is centred on.
        """
        flicker = _flicker(z)
        spreads = [
            np.maximum(self.stretch_scale_[j], self.flicker_ratio_[j] * _banded_flicker(flicker, bands))[:, None]
            for j, (bands, _) in enumerate(self.scales)
        ]
        lengths = stretch_lengths(self.scales, z.shape[1])
        for j, first, means in stretch_means(z, self.scales):
            yield first + lengths[j] // 2, np.abs(means) / spreads[j]

    def _standardised(self, spec):
        """The frames' residuals in spreads of each band (float32), their first frame in ``spec`` and the band
        medians taken off them (dB); None under 2 frames."""
        frames = self._frames(spec)
        if len(frames) < 2:
            return None, 0, None
        z, band_offsets = self._clip_residuals(frames)
        z /= self.residual_scale_[:, None]
        return z, (spec.shape[1] - len(frames)) // 2, band_offsets

    def _frame_series(self, spec):
        """The clip's per-frame scores: at each frame, the largest standardised stretch mean centred there."""
        series = np.zeros(np.shape(spec)[1])
        z, offset, _ = self._standardised(spec)
        if z is not None:
            for centre, departure in self._departed_stretches(z):
                view = series[offset + centre : offset + centre + departure.shape[1]]
                np.maximum(view, departure.max(axis=0), out=view)
        return series

    def departures(self, spec):
        """Where and by how much a clip departs from its nearest normal frames, band by band.

        Parameters
        ----------
        spec : numpy.ndarray of shape (n_mels, n_frames)
            The clip's log-mel spectrogram, as this detector's front end makes it.

        Returns
        -------
        Departures
            The residuals (dB), the spreads they depart by, and the band medians taken off them.
        """
        spec = np.asarray(spec)
        residuals, spreads = np.zeros(spec.shape, np.float32), np.zeros(spec.shape, np.float32)
        z, offset, band_offsets = self._standardised(spec)
        if z is None:
            return Departures(residuals, spreads, np.zeros(spec.shape[0], np.float32))
        residuals[:, offset : offset + z.shape[1]] = z * self.residual_scale_[:, None]
        for centre, departure in self._departed_stretches(z):
            view = spreads[:, offset + centre : offset + centre + departure.shape[1]]
            np.maximum(view, departure, out=view)
        return Departures(residuals, spreads, band_offsets)

    def window_scores(self, specs):
        return [self._frame_series(spec) for spec in specs]

    def clip_scores(self, windows):
        """A clip's score: its largest window score; 0 for a clip too short for an event (:attr:`min_clip_frames`)."""
        return np.array([float(np.max(w)) if len(w) >= self.min_clip_frames else 0.0 for w in windows])

    @property
    def min_clip_frames(self):
        """Frames a clip needs for a clip score: twice the longest stretch.

        An event is measured against the rest of its clip (each band's median residual over the
        clip is taken off), so the clip must hold more sound outside the stretch than inside it.
        Shorter clips get window scores, and clip score 0, so an ensemble leaves the view out.
        """
        return 2 * max(n_frames for _, n_frames in self.scales)

    def score_features(self, specs):
        return self.clip_scores(self.window_scores(specs))

    @property
    def window_hop_seconds(self):
        return self.frontend.hop_seconds


def _flicker(z):
    """Each band's frame-to-frame flicker of ``z`` (n_mels, n_frames), robust to a click train's changes."""
    flicker = np.zeros(z.shape[0])
    if z.shape[1] < 2:
        return flicker
    for bands in _row_blocks(len(z), _BAND_BLOCK):
        flicker[bands] = np.quantile(np.abs(np.diff(z[bands], axis=1)), FLICKER_QUANTILE, axis=1)
    return flicker / _FLICKER_NORMAL


def _banded_flicker(flicker, bands):
    """The flicker of a mean over ``bands`` neighbouring bands, were the bands independent."""
    if bands == 1:
        return flicker
    return np.sqrt(np.maximum(uniform_filter1d(flicker**2, bands, mode="nearest"), 0.0) / bands)
