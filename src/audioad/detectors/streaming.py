"""Clips streamed through a detector's front end in chunks, so that memory stays bounded.

A list of clips in any form :func:`audioad.audio.load_audio` accepts is cut
into runs: up to a few hundred short clips are loaded whole and transformed
together, and a long file (:func:`~audioad.audio.is_long_file`) is
transformed alone, from blocks as they are decoded. A clip that fails is
reported in its place, naming its index and path.
"""

from __future__ import annotations

import os

import numpy as np
from tqdm.auto import tqdm

from ..audio import AudioInputError, AudioStream, is_long_file, load_many, source_of
from ..domain import ClipProfile, profile_clip

__all__ = ["as_clips", "featurised_chunks", "joined"]

# Clips loaded and featurised together: bounds memory for long lists.
_CHUNK_CLIPS = 256


def as_clips(X):
    """Return X as a list of clips, refusing a lone clip passed where a list belongs."""
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(f"X must be a list of clips, got a single path {X!r}; pass [{X!r}]")
    if isinstance(X, tuple) and len(X) == 2 and np.isscalar(X[1]):
        raise TypeError("X must be a list of clips, got one (waveform, sample_rate) tuple; wrap it in a list")
    if isinstance(X, np.ndarray) and X.ndim != 2:
        raise TypeError(f"an array X must be 2-D (n_clips, n_samples), got shape {X.shape}; pass a list of clips")
    clips = list(X)
    if not clips:
        raise ValueError("X holds no clips")
    return clips


def _runs(clips):
    """Cut clips into (start, stop, long) runs: at most ``_CHUNK_CLIPS`` clips loaded whole, or one long file."""
    run = 0
    for i, clip in enumerate(clips):
        if is_long_file(clip):
            if i > run:
                yield run, i, False
            yield i, i + 1, True
            run = i + 1
        elif i - run == _CHUNK_CLIPS:
            yield run, i, False
            run = i
    if run < len(clips):
        yield run, len(clips), False


def featurised_chunks(detector, clips, on_error="raise", progress=False, failed=None, observe=None):
    """Yield (positions, features, profiles) per chunk of ``clips``, in input order; clips that fail go to ``failed``.

    ``detector`` gives ``sr``, ``frontend``, ``features_from`` and ``n_jobs``
    (the threads that decode). Each clip's :class:`~audioad.domain.ClipProfile`
    comes with its features. With ``on_error="raise"`` the first clip that
    fails raises its :class:`~audioad.audio.AudioInputError`, naming the clip.
    ``observe``, if given, is called with each chunk's front-end items before
    they become features (fit records the training clips' band levels so).
    """
    # disable=None: a bar only where stderr is a terminal. The bar closes on every path, an
    # exception or an abandoned generator included.
    with tqdm(total=len(clips), unit="clip", desc=type(detector).__name__, disable=None if progress else True) as bar:
        for start, stop, long in _runs(clips):
            if long:
                try:
                    stream = AudioStream(clips[start], detector.sr)
                    transformed = detector.frontend.transform_stream(stream)
                    if observe is not None:
                        observe(transformed)
                    codec = source_of(clips[start]).codec
                except AudioInputError as exc:
                    if on_error == "raise":
                        raise exc.at(start) from exc.__cause__
                    failed.append(exc.at(start))
                else:
                    # Read a block at a time, a long file's level is not measured.
                    profile = ClipProfile(stream.n_samples / detector.sr, stream.rate, codec, None, None)
                    yield np.array([start]), detector.features_from(transformed), [profile]
                bar.update(1)
                continue
            loaded = load_many(
                clips[start:stop],
                sr=detector.sr,
                n_jobs=getattr(detector, "n_jobs", None),
                on_error="raise" if on_error == "raise" else "return",
            )
            good = [i for i, w in enumerate(loaded) if not isinstance(w, AudioInputError)]
            for i, w in enumerate(loaded):
                if isinstance(w, AudioInputError):
                    failed.append(w.at(start + i))
            if good:
                waves = [loaded[i] for i in good]
                transformed = detector.frontend.transform(waves)
                if observe is not None:
                    observe(transformed)
                profiles = [
                    profile_clip(wave, detector.sr, source_of(clips[start + i]), clips[start + i])
                    for i, wave in zip(good, waves)
                ]
                yield np.asarray(good) + start, detector.features_from(transformed), profiles
            bar.update(stop - start)


def joined(parts):
    """Features of several chunks as one: arrays concatenated, lists chained.

    Examples
    --------
    >>> joined([np.zeros((2, 3)), np.ones((1, 3))]).shape, joined([["a"], ["b", "c"]])
    ((3, 3), ['a', 'b', 'c'])
    """
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts)
    return [f for part in parts for f in part]
