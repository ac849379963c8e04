"""Which bands and which moments of a clip depart from normal, in Hz, seconds and dB.

After "is it abnormal?" comes "what is wrong with it?". :func:`explain` compares each clip's
log-mel spectrogram, made by the detector's own front end, with the normal reference the
detector recorded at fit: the distribution of every mel band's level over all the training
clips' frames (its median and its 1st and 99th percentiles; see
:class:`~audioad.features.BandLevels`). A cell of the clip's spectrogram departs from normal by
as much as it lies outside that band's normal spread; neighbouring cells that depart the same
way are one finding, reported as a band range in Hz, a time range in seconds, a change in dB
from the band's normal median, and its share of the clip's whole departure.

A clip the detector flags is first said to be flagged by what the view that flagged it heard
(:mod:`audioad.views`): the default flags some clips by how their sound fluctuates, or by a
short event, with every level within its normal range.

This works for every detector whose front end makes a log-mel spectrogram (the default
ensemble and every log-mel detector); it says where the sound differs from the training clips,
which is what the detectors score, whatever their model.

Examples
--------
>>> import numpy as np
>>> from audioad import MelKNN
>>> rng = np.random.default_rng(0)
>>> normal = [0.1 * rng.standard_normal(16000) for _ in range(8)]
>>> detector = MelKNN().fit(normal)
>>> clip = 0.1 * rng.standard_normal(16000)
>>> t = np.arange(4000) / 16000
>>> clip[8000:12000] += 0.5 * np.sin(2 * np.pi * 3000 * t)   # a 3 kHz tone from 0.5 to 0.75 s
>>> for part in explain(detector, [clip])[0].summary().split("; "):   # flagged: what flagged it, then the finding
...     print(part)
its overall spectrum is unlike any normal recording, most in 2.9-3.2 kHz (+4 dB against the closest normal recording)
+24 dB at 2.9-3.1 kHz, 0.46-0.78 s (100%)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage
from scipy.ndimage import uniform_filter1d

from .audio import AudioInputError, AudioStream, clip_name, is_long_file, load_audio
from .detectors.frontend import TrainingLevels, log_mel_part
from .features import hz_to_mel, mel_frequencies, mel_to_hz
from .views import band_range, flagging_view

__all__ = ["explain", "event_view", "normal_reference", "band_edges_hz", "Explanation", "Finding"]

# A cell departs from normal when it lies this far outside its band's LOW_Q-HIGH_Q range.
MIN_DEPARTURE_DB = 3.0
LOW_Q, HIGH_Q = 0.01, 0.99
# Departures this close in time (seconds) belong to one finding: a train of clicks is one event.
JOIN_SECONDS = 0.2
# Findings with a smaller share of the clip's departure are left out of its table.
MIN_SHARE = 0.05
# Against the nearest normal frames, a cell departs where its stretch departs by this many spreads.
EVENT_SPREADS = 5.0
# A finding has at least this many departing cells: a lone cell is the chance dip or peak of a narrow band.
MIN_CELLS = 3


class Finding(NamedTuple):
    """One region of a clip's spectrogram that departs from normal.

    Attributes
    ----------
    low_hz, high_hz : float
        Frequency range of the mel bands it covers.
    start, end : float
        Time range, in seconds from the start of the clip.
    change_db : float
        Mean level of its cells minus their bands' normal median, in dB (negative: quieter).
    share : float
        Its share of the clip's whole departure from normal (the dB outside the normal
        range, summed over cells), in [0, 1].
    """

    low_hz: float
    high_hz: float
    start: float
    end: float
    change_db: float
    share: float

    @property
    def band(self):
        """The frequency range as people write it: ``2.3-2.6 kHz`` or ``120-450 Hz``."""
        return band_range(self.low_hz, self.high_hz)

    def __str__(self):
        return f"{self.change_db:+.0f} dB at {self.band}, {self.start:.2f}-{self.end:.2f} s"


class Explanation(NamedTuple):
    """How one clip departs from normal: its findings and the deviation map they come from.

    Attributes
    ----------
    clip : str
        The clip, as messages name it (``clip 3 (pump/x.wav)``).
    findings : list of Finding
        The regions that depart from normal, largest share first.
    deviation : numpy.ndarray of shape (n_mels, n_frames)
        The clip's log-mel minus each band's normal median, in dB: the deviation map (with the
        conditional reference: each cell's departure from its nearest normal frames, see :func:`explain`).
    spectrogram : numpy.ndarray of shape (n_mels, n_frames)
        The clip's log-mel spectrogram in dB, as the detector's front end made it.
    times : numpy.ndarray of shape (n_frames,)
        Centre of each frame, in seconds.
    band_edges : numpy.ndarray of shape (n_mels + 1,)
        Frequency edges of the mel bands, in Hz (see :func:`band_edges_hz`).
    reference : dict
        The normal reference compared with (see :func:`normal_reference`).
    flagged_by : str
        For a clip the detector flags, what the view that flagged it heard, in band and time
        (:func:`audioad.views.flagging_view`); ``""`` for a clip it does not flag.
    nearest : bool
        Whether ``deviation`` is against the nearest normal frames (the conditional reference),
        not each band's normal median.
    """

    clip: str
    findings: list
    deviation: np.ndarray
    spectrogram: np.ndarray
    times: np.ndarray
    band_edges: np.ndarray
    reference: dict
    flagged_by: str = ""
    nearest: bool = False

    def summary(self, n=3):
        """One line: what flagged the clip (if it is flagged), then its ``n`` largest findings.

        A clip not flagged and with no finding says what sets it apart instead (see
        :meth:`within_normal`); a flagged one always starts with what its view heard, and never
        reads as if nothing departed.
        """
        findings = [f"{f} ({f.share:.0%})" for f in self.findings[:n]]
        if self.flagged_by:
            return "; ".join([self.flagged_by, *findings])
        if not findings:
            return f"no band departs from normal; {self.within_normal()}"
        return "; ".join(findings)

    def within_normal(self):
        """What sets a clip apart when no band leaves its normal range, in one phrase.

        A detector may flag a clip whose every level lies within the normal range: its views of
        how the sound fluctuates (``delta_std`` pooling, context windows) see what levels do not.
        Where the middle 80 % of the clip's levels in some bands spread over far more dB than the
        normal clips' 1-99 % range (half again as many or more), that is said; else the band
        nearest to departing.
        """
        low, high = _level(self.reference, LOW_Q), _level(self.reference, HIGH_Q)
        # The middle 80 % of its frames: the end frames half heard the zero padding, not the machine.
        spread = np.percentile(self.spectrogram, 90, axis=1) - np.percentile(self.spectrogram, 10, axis=1)
        ratio = spread / np.maximum(high - low, 1e-3)
        if ratio.max() >= 1.5:
            # The run of neighbouring bands that fluctuate as much, around the one that does most.
            peak = int(np.argmax(ratio))
            first, last = peak, peak
            while first > 0 and ratio[first - 1] >= 1.5:
                first -= 1
            while last < len(ratio) - 1 and ratio[last + 1] >= 1.5:
                last += 1
            band = Finding(self.band_edges[first], self.band_edges[last + 1], 0, 0, 0, 0).band
            return (
                f"its sound fluctuates unlike normal in {band} (over {spread[peak]:.0f} dB, normal "
                f"{high[peak] - low[peak]:.0f} dB)"
            )
        shift = np.median(self.deviation, axis=1)
        nearest = int(np.argmax(np.abs(shift)))
        band = Finding(self.band_edges[nearest], self.band_edges[nearest + 1], 0, 0, 0, 0).band
        return f"nearest to departing: {band}, {shift[nearest]:+.0f} dB (median), within its normal range"

    def rows(self):
        """The findings as a table: one dict a finding (band, times, dB change, share)."""
        return [
            {
                "low_hz": round(f.low_hz, 1),
                "high_hz": round(f.high_hz, 1),
                "start_s": round(f.start, 3),
                "end_s": round(f.end, 3),
                "change_db": round(f.change_db, 1),
                "share": round(f.share, 3),
            }
            for f in self.findings
        ]


def band_edges_hz(sr, n_mels):
    """Frequency edges of the mel bands of a log-mel spectrogram at ``sr``, in Hz.

    Band ``i`` is centred on its mel filter's peak; its edges lie halfway (on the mel scale)
    to its neighbours' centres, the first at 0 Hz and the last at ``sr / 2``, so the bands
    tile the spectrum as the mel filters do.

    Parameters
    ----------
    sr : int
        Sample rate, in Hz.
    n_mels : int
        Number of mel bands (0 Hz to ``sr / 2``, Slaney's scale, as :func:`~audioad.features.log_mel`).

    Returns
    -------
    numpy.ndarray of shape (n_mels + 1,)

    Examples
    --------
    >>> band_edges_hz(16000, 4).round().tolist()
    [0.0, 905.0, 1689.0, 3146.0, 8000.0]
    """
    centres = hz_to_mel(mel_frequencies(n_mels + 2, 0.0, sr / 2.0)[1:-1])
    inner = mel_to_hz((centres[:-1] + centres[1:]) / 2.0)
    return np.concatenate([[0.0], inner, [sr / 2.0]])


def _log_mel_frontend(detector):
    part = log_mel_part(detector.frontend)
    if part is None:
        raise TypeError(
            f"{type(detector).__name__} has no log-mel front end, so there are no bands to explain; "
            "use a log-mel detector (the default, MelKNN, WindowKNN, AudioAE, ...)"
        )
    return part[0]


def event_view(detector):
    """The fitted :class:`~audioad.detectors.event_knn.EventKNN` of ``detector``, or None.

    The detector itself, an ensemble's frame detector, or one of its members, where its front end
    is the detector's own log-mel front end (so its spectrogram is the one explained).
    """
    from .detectors.event_knn import EventKNN

    candidates = [detector, getattr(detector, "frame_detector_", None), *getattr(detector, "members_", [])]
    for candidate in candidates:
        if isinstance(candidate, EventKNN) and hasattr(candidate, "residual_scale_"):
            if log_mel_part(candidate.frontend)[0] == _log_mel_frontend(detector):
                return candidate
    return None


def _spectrogram(frontend, clip, index):
    """The clip's log-mel by ``frontend``; a long file is decoded a block at a time."""
    try:
        if is_long_file(clip):
            return frontend.transform_stream(AudioStream(clip, frontend.sr))[0]
        y, _ = load_audio(clip, sr=frontend.sr)
        return frontend.transform([y])[0]
    except AudioInputError as exc:
        raise exc.at(index) from exc.__cause__


def normal_reference(detector, clips):
    """The normal reference of ``detector``'s front end over ``clips``: each band's level quantiles.

    A detector records this from its training clips at fit (``band_levels_``); this computes it
    for a detector fitted before it did so, or for another set of normal clips.

    Parameters
    ----------
    detector : ClipDetector
        A detector with a log-mel front end (fitted or not: only its settings are used).
    clips : list
        Normal clips in any form :func:`~audioad.audio.load_audio` accepts.

    Returns
    -------
    dict
        ``quantiles`` (the levels' quantiles), ``levels`` (len(quantiles), n_mels) in dB and
        ``n_frames``.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> reference = normal_reference(MelKNN(n_mels=16), [np.ones(16000) * 0.01])
    >>> reference["levels"].shape, reference["n_frames"]
    ((7, 16), 30)
    """
    frontend = _log_mel_frontend(detector)
    record = TrainingLevels(frontend, None)
    for index, clip in enumerate(clips):
        record([_spectrogram(frontend, clip, index)])
    return record.reference()


def _level(reference, q):
    quantiles = np.asarray(reference["quantiles"])
    where = np.flatnonzero(np.isclose(quantiles, q))
    if not where.size:
        raise ValueError(f"the normal reference has no {q:.0%} quantile (it has {quantiles.tolist()})")
    return np.asarray(reference["levels"])[where[0]]


def _findings(spec, reference, band_edges, frontend, min_db, join_seconds, min_share):
    median, low, high = (_level(reference, q)[:, None] for q in (0.5, LOW_Q, HIGH_Q))
    deviation = spec - median
    outside = np.where(spec > high, spec - high, np.where(spec < low, spec - low, 0.0))
    # The end frames half heard the zero padding, not the machine; the reference left them out too.
    edge = frontend.edge_frames
    if spec.shape[1] > 2 * edge:
        outside[:, :edge] = outside[:, spec.shape[1] - edge :] = 0.0
    return _regions(outside, deviation, band_edges, frontend, min_db, join_seconds, min_share), deviation


def _regions(outside, deviation, band_edges, frontend, min_db, join_seconds, min_share):
    """Findings from the cells that depart (``outside``, dB beyond normal, signed), their change from ``deviation``."""
    hop_seconds = frontend.hop_seconds
    join = max(1, int(round(join_seconds / hop_seconds)))
    regions = []
    for sign in (1.0, -1.0):
        cells = sign * outside >= min_db
        # Close gaps of up to `join` frames within a band, so a train of clicks is one region.
        closed = ndimage.binary_closing(cells, structure=np.ones((1, join + 1), bool)) | cells
        labels, _ = ndimage.label(closed, structure=np.ones((3, 3), bool))
        for label, box in enumerate(ndimage.find_objects(labels), start=1):
            member = (labels[box] == label) & cells[box]
            if member.sum() < MIN_CELLS:
                continue
            bands = np.flatnonzero(member.any(axis=1)) + box[0].start
            frames = np.flatnonzero(member.any(axis=0)) + box[1].start
            weight = float(np.sum(np.abs(outside[box][member])))
            change = float(np.mean(deviation[box][member]))
            regions.append((weight, bands, frames, change))
    total = sum(r[0] for r in regions) or 1.0
    duration = outside.shape[1] * hop_seconds
    findings = []
    for weight, bands, frames, change in sorted(regions, key=lambda r: -r[0]):
        if weight / total < min_share:
            break
        start = max(0.0, (frames[0] - 0.5) * hop_seconds)
        end = min(duration, (frames[-1] + 0.5) * hop_seconds)
        findings.append(
            Finding(float(band_edges[bands[0]]), float(band_edges[bands[-1] + 1]), start, end, change, weight / total)
        )
    return findings


def _conditional_findings(departures, stretch_frames, band_edges, frontend, min_db, join_seconds, min_share):
    """Findings against the nearest normal frames, and the cells' departures they are made of (see :func:`explain`).

    ``departures`` are the event view's :class:`~audioad.detectors.event_knn.Departures` of the
    clip; ``stretch_frames`` the frames of its shortest stretch.
    """
    cells = departures.departing_db()
    outside = np.where((departures.spreads >= EVENT_SPREADS) & (np.abs(cells) >= min_db), cells, 0.0)
    # A frame's residual carries the frame-to-frame flicker of normal sound, and the cells picked
    # for departing by min_db are its upper tail: the change is the mean over the stretch the
    # view judges a cell by (its shortest, in the cell's band), which averages the flicker down
    # and keeps a steady event whole.
    change = uniform_filter1d(cells, min(stretch_frames, cells.shape[1]), axis=1)
    findings = _regions(outside, change, band_edges, frontend, min_db, join_seconds, min_share)
    # Sound added comes before sound missing: a frame's nearest normal frames are found with the
    # event in it, and an added sound pulls them towards frames louder elsewhere, which leaves a
    # dip in other bands at the same moment; the dip is a consequence, not the finding.
    return sorted(findings, key=lambda f: f.change_db < 0), cells


def explain(
    detector,
    clips,
    *,
    reference=None,
    min_db=MIN_DEPARTURE_DB,
    join_seconds=JOIN_SECONDS,
    min_share=MIN_SHARE,
    conditional=True,
):
    """Say which mel bands of each clip depart from normal, when, and by how many dB.

    Where the detector has a fitted :class:`~audioad.detectors.event_knn.EventKNN` (the
    default's event view and frame detector) and ``conditional`` is true, the reference is
    *conditional*: each frame is compared with its nearest normal training frames (what the
    machine sounds like in that state), and a cell departs where the stretch of time around it
    departs by :data:`EVENT_SPREADS` spreads of normal sound or more and where it departs by
    ``min_db`` or more, the same way, both from its nearest normal frames as heard and from them
    less what the clip shows all along (by the nearer of the two: a clip that lacks a harmonic
    most of its nearest frames hold does not depart where the others lack it too). A finding's
    change is in dB from the nearest normal frames, averaged over the shortest stretch the event
    view judges its cells by (half a second at the defaults), as flicker is averaged there. This
    finds a short tone, click train or burst before the machine's own harmonics, which a
    marginal range puts first when the clip runs at another speed than most training clips.
    Otherwise it is the marginal reference:
    Each clip's log-mel spectrogram, from the detector's own front end, is compared cell by
    cell with the normal reference: a cell departs when its level lies at least ``min_db``
    above its band's 99th percentile over the training frames (or below its 1st).
    Departing cells that touch, or lie within ``join_seconds`` of each other in one band,
    form one :class:`Finding`: its band range, its time range, its mean change from the
    bands' normal median, and its share of the clip's departure (the dB outside the normal
    range, summed); a lone departing cell or two are chance, not a finding. The frames at
    each end whose window reaches into the padding are not judged. The result depends on
    each clip alone.

    Parameters
    ----------
    detector : ClipDetector
        A fitted detector with a log-mel front end.
    clips : list
        Clips in any form :func:`~audioad.audio.load_audio` accepts.
    reference : dict or None
        The normal reference (see :func:`normal_reference`); ``None`` uses the one the
        detector recorded from its training clips at fit.
    min_db : float
        How far outside the normal 1-99 % range a cell must lie to depart, in dB.
    join_seconds : float
        Departures of one band closer than this in time are one finding.
    min_share : float
        Findings with a smaller share of the clip's departure are left out.
    conditional : bool
        Compare with the nearest normal frames where the detector can (see above); False, or a
        ``reference`` given, compares with the marginal range of every band.

    Returns
    -------
    list of Explanation
        One per clip, in order: findings, deviation map (dB over time and band), the spectrogram.

    Raises
    ------
    TypeError
        The detector has no log-mel front end.
    ValueError
        The detector recorded no normal reference (fitted by an older audioad) and none was given.
    AudioInputError
        A clip cannot be loaded; it names the clip and the cause.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> rng = np.random.default_rng(1)
    >>> detector = MelKNN(n_mels=64).fit([0.1 * rng.standard_normal(16000) for _ in range(6)])
    >>> explanation = explain(detector, [0.1 * rng.standard_normal(16000)])[0]
    >>> explanation.summary().split(";")[0], explanation.deviation.shape
    ('no band departs from normal', (64, 32))
    """
    frontend = _log_mel_frontend(detector)
    conditional = conditional and reference is None
    if reference is None:
        reference = getattr(detector, "band_levels_", None)
        if reference is None:
            raise ValueError(
                f"this {type(detector).__name__} holds no normal reference (fitted by an older audioad?); "
                "refit it, or pass reference=normal_reference(detector, training_clips)"
            )
    if np.shape(reference["levels"])[1] != frontend.n_mels:
        raise ValueError(
            f"the normal reference has {np.shape(reference['levels'])[1]} bands but the detector makes "
            f"{frontend.n_mels}; compute it with normal_reference(detector, training_clips)"
        )
    edges = band_edges_hz(frontend.sr, frontend.n_mels)
    view = event_view(detector) if conditional else None
    # the shortest stretch the event view judges a cell by: a finding's change is averaged over it
    stretch_frames = min(n_frames for _, n_frames in view.scales) if view is not None else None
    explanations = []
    for index, clip in enumerate(clips):
        made = _spectrogram(frontend, clip, index)
        spec = np.asarray(made, dtype=np.float64)
        event = None
        if view is not None:
            event = (view, view.departures(made))
            findings, deviation = _conditional_findings(
                event[1], stretch_frames, edges, frontend, min_db, join_seconds, min_share
            )
        else:
            findings, deviation = _findings(spec, reference, edges, frontend, min_db, join_seconds, min_share)
        # Scored from the spectrogram the detector itself makes, so flagged here is flagged by the score.
        flagged_by = flagging_view(detector, frontend, made, edges, event)
        name = clip_name(index, clip if isinstance(clip, (str, bytes)) or hasattr(clip, "__fspath__") else None)
        times = np.arange(spec.shape[1]) * frontend.hop_seconds
        explanations.append(
            Explanation(name, findings, deviation, spec, times, edges, reference, flagged_by, view is not None)
        )
    return explanations
