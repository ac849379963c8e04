"""Which view of a detector flagged a clip, and what it measured there: the first words of its explanation.

The default detector hears a clip three ways (its average spectrum, how each band fluctuates,
its short events; see :func:`~audioad.detectors.ensemble.default_detector`) and flags it when
the most alarmed view is far enough from normal. A clip flagged by how its sound fluctuates may
have every level within its normal range, so a table of levels alone would say nothing departs.
:func:`flagging_view` scores the clip as the detector does, from the spectrogram the
explanation is made of, and says in the engineer's words what the view that flagged it heard,
with the band and, for an event, the time it measured.

Examples
--------
>>> import numpy as np
>>> from audioad import MelKNN
>>> from audioad.detectors.frontend import log_mel_part
>>> from audioad.explain import band_edges_hz
>>> rng = np.random.default_rng(0)
>>> detector = MelKNN(n_mels=32).fit([0.1 * rng.standard_normal(16000) for _ in range(8)])
>>> t = np.arange(16000) / 16000
>>> frontend = log_mel_part(detector.frontend)[0]
>>> spec = frontend.transform([0.1 * rng.standard_normal(16000) + 0.3 * np.sin(2 * np.pi * 3000 * t)])[0]
>>> print(flagging_view(detector, frontend, spec, band_edges_hz(16000, 32)))
its overall spectrum is unlike any normal recording, most in 2.5-3.6 kHz (+9 dB against the closest normal recording)
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from .detectors.ensemble import Ensemble, combined_scores
from .detectors.event_knn import EventKNN
from .detectors.frontend import log_mel_part
from .detectors.knn import MelKNN
from .detectors.pooled import PooledMelDetector

__all__ = ["flagging_view", "band_range"]

# Neighbouring bands whose part of a view's departure is at least this share of the largest
# band's are one band range: a resonance or a band of noise spans several mel bands.
_BAND_SHARE = 0.5
# Bands a pooled view's differences are averaged over before its band range is read.
_SMOOTH_BANDS = 3


def band_range(low_hz, high_hz):
    """A frequency range as people write it: ``2.3-2.6 kHz``, ``120-450 Hz``; one narrow band with a digit more.

    Examples
    --------
    >>> band_range(2300, 2600), band_range(120, 450), band_range(1880, 1930)
    ('2.3-2.6 kHz', '120-450 Hz', '1.88-1.93 kHz')
    """
    if high_hz >= 1000:
        digits = 1 if round(low_hz / 1000, 1) != round(high_hz / 1000, 1) else 2
        return f"{low_hz / 1000:.{digits}f}-{high_hz / 1000:.{digits}f} kHz"
    return f"{low_hz:.0f}-{high_hz:.0f} Hz"


def _run(values, peak):
    """The neighbouring bands around ``peak`` whose ``values`` reach :data:`_BAND_SHARE` of its value."""
    first, last = peak, peak
    floor = _BAND_SHARE * values[peak]
    while first > 0 and values[first - 1] >= floor:
        first -= 1
    while last < len(values) - 1 and values[last + 1] >= floor:
        last += 1
    return first, last


def _pooled(detector, spec, edges):
    """What a pooled view heard: the pooling and bands that make the clip most unlike normal, and by how much."""
    vector = detector.features_from([spec])
    if isinstance(detector, MelKNN):
        difference, contribution = (part[0] for part in detector.nearest_differences(vector))
        against = "the closest normal recording"
    else:
        # A pooled view without neighbours: the clip against the training clips' average.
        difference = vector[0] - detector.feature_mean_
        contribution = (difference / detector.feature_scale_) ** 2
        against = "normal recordings on average"
    poolings = (detector.pooling,) if isinstance(detector.pooling, str) else tuple(detector.pooling)
    n_mels = spec.shape[0]
    contribution = contribution.reshape(len(poolings), n_mels)
    which = int(np.argmax(np.clip(contribution, 0, None).sum(axis=1)))
    # A value's part of a Mahalanobis distance flickers from band to band: the peak is that of
    # neighbouring bands together, and the range the neighbours that differ the same way in dB.
    peak = int(np.argmax(uniform_filter1d(contribution[which], _SMOOTH_BANDS, mode="nearest")))
    apart = uniform_filter1d(difference.reshape(len(poolings), n_mels)[which], _SMOOTH_BANDS, mode="nearest")
    first, last = _run((np.sign(apart[peak]) or 1.0) * apart, peak)
    bands = slice(which * n_mels + first, which * n_mels + last + 1)
    band = band_range(edges[first], edges[last + 1])
    change = float(np.mean(difference[bands]))
    value = float(np.mean(vector[0][bands]))
    pooling = poolings[which]
    if pooling.startswith("delta_"):
        return (
            f"its sound fluctuates unlike normal in {band} (frame-to-frame change {value:.1f} dB, "
            f"{against} {value - change:.1f} dB)"
        )
    if pooling == "std":
        return f"its level varies unlike normal in {band} (over {value:.1f} dB, {against} {value - change:.1f} dB)"
    what = "overall spectrum" if pooling == "mean" else "loudest moments"
    return f"its {what} is unlike any normal recording, most in {band} ({change:+.0f} dB against {against})"


def _event(detector, departures, edges, hop_seconds):
    """What an event view heard: the stretch that departs most from the nearest normal frames, in band and time.

    The stretch scored highest locates it; the departures (dB from the nearest normal frames,
    :meth:`~audioad.detectors.event_knn.Departures.departing_db`) bound it: the frames of its
    band, within a stretch of it, that depart at least half as much as its most departing frame,
    then the bands that depart at least half as much over them.
    """
    residuals, spreads = departures.departing_db(), departures.spreads
    band, frame = np.unravel_index(int(np.argmax(spreads)), spreads.shape)
    reach = max(n_frames for _, n_frames in detector.scales) // 2 + 1
    low, high = max(0, frame - reach), min(spreads.shape[1], frame + reach + 1)
    over_time = residuals[band, low:high]
    sign = np.sign(over_time[int(np.argmax(np.abs(over_time)))]) or 1.0
    start, end = (low + i for i in _run(sign * over_time, int(np.argmax(sign * over_time))))
    over_bands = sign * residuals[:, start : end + 1].mean(axis=1)
    near = slice(max(0, band - reach), band + reach + 1)
    first, last = _run(over_bands, near.start + int(np.argmax(over_bands[near])))
    change = float(np.mean(residuals[first : last + 1, start : end + 1]))
    begins, ends = max(0.0, (start - 0.5) * hop_seconds), (end + 0.5) * hop_seconds
    return (
        f"a short event at {begins:.1f}-{ends:.1f} s in {band_range(edges[first], edges[last + 1])} "
        f"({change:+.0f} dB against the nearest normal sound)"
    )


def _heard(detector, spec, edges, hop_seconds, departures):
    """One view's account of a clip it flagged, in the engineer's words."""
    if isinstance(detector, PooledMelDetector):
        return _pooled(detector, spec, edges)
    if isinstance(detector, EventKNN):
        return _event(detector, departures, edges, hop_seconds)
    if detector.scores_windows:
        windows = detector.window_scores(detector.features_from([spec]))[0]
        when = int(np.argmax(windows)) * detector.window_hop_seconds
        return f"it sounds unlike any normal moment, most at {when:.1f} s ({type(detector).__name__})"
    return f"{type(detector).__name__} scores it unlike normal"


def _score(detector, spec, departures):
    """The clip's raw score by one view; an event view's from its ``departures``, which the account reuses."""
    if isinstance(detector, EventKNN):
        return float(detector.clip_scores([departures[1].max(axis=0)])[0])
    return float(detector.score_features(detector.features_from([spec]))[0])


def flagging_view(detector, frontend, spec, edges, event=None):
    """What the view that flagged a clip heard, in one phrase; ``""`` where the clip is not flagged.

    The clip is scored from ``spec`` as the detector scores it: an :class:`~audioad.detectors.
    ensemble.Ensemble` by each member, standardised and combined; the view is the member whose
    standardised score is highest (the one that decides under ``combine="max"``). A pooled view
    names the pooling and band range that make the clip most unlike the closest normal
    recording (the bands whose part of the distance is at least half the largest band's); an
    event view the stretch of bands and time that departs most from the nearest normal frames;
    a window view the moment it scores highest.

    Parameters
    ----------
    detector : ClipDetector
        A fitted detector whose front end makes ``frontend``'s log-mel.
    frontend : LogMelFrontend
        The detector's log-mel front end.
    spec : numpy.ndarray of shape (n_mels, n_frames)
        The clip's log-mel spectrogram by ``frontend``.
    edges : numpy.ndarray of shape (n_mels + 1,)
        The mel bands' edges in Hz (:func:`audioad.explain.band_edges_hz`).
    event : tuple or None
        ``(view, view.departures(spec))`` for an event view whose departures the caller has
        measured already; measured here otherwise.

    Returns
    -------
    str
        ``""`` where the clip scores at or below ``threshold_``, or where a view that has a say
        makes another front end's features (it cannot be scored from ``spec``).
    """
    views = list(detector.members_) if isinstance(detector, Ensemble) else [detector]
    if any(log_mel_part(view.frontend) is None or log_mel_part(view.frontend)[0] != frontend for view in views):
        return ""
    measured = {}
    for position, view in enumerate(views):
        if isinstance(view, EventKNN):
            measured[position] = event[1] if event is not None and event[0] is view else view.departures(spec)
    raw = np.array([_score(view, spec, measured.get(position)) for position, view in enumerate(views)])
    if isinstance(detector, Ensemble):
        informative = getattr(detector, "member_informative_", np.ones(len(views), dtype=bool))
        centres, scales = detector.member_centers_, detector.member_scales_
        score = combined_scores(raw[None], centres, scales, informative, detector.combine)[0]
        standardised = np.where(informative, (raw - centres) / scales, -np.inf)
    else:
        score, standardised = raw[0], raw
    if not score > detector.threshold_:
        return ""
    position = int(np.argmax(standardised))
    return _heard(views[position], spec, edges, frontend.hop_seconds, measured.get(position))
