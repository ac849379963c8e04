"""Context windows: runs of consecutive frames, flattened into one vector each.

:func:`context_windows` is a zero-copy strided view of one spectrogram's
windows; :class:`WindowBank` holds the frames of many clips once and gathers
their windows on demand.
"""

from __future__ import annotations

import numpy as np

__all__ = ["context_windows", "WindowBank"]


def context_windows(spec, context=5):
    """Windows of ``context`` consecutive frames, flattened, as a zero-copy view.

    Window t is frames t .. t + context - 1 of every band, frame after frame:
    the DCASE baseline's ``vectors[:, n_mels * k : n_mels * (k + 1)] =
    spec[:, k : k + n_windows].T``. A spectrogram with fewer than ``context``
    frames is first padded to one window by repeating its last frame.

    Parameters
    ----------
    spec : numpy.ndarray
        (..., n_mels, n_frames) spectrogram(s). Those returned by
        :func:`log_mel` are time-major in memory and are not copied.
    context : int
        Frames per window.

    Returns
    -------
    numpy.ndarray
        (..., n_windows, n_mels * context) read-only view, with
        ``n_windows = max(n_frames, context) - context + 1``.

    Examples
    --------
    >>> spec = np.arange(12.0).reshape(2, 6)  # 2 bands, 6 frames
    >>> context_windows(spec, context=2)[0]
    array([0., 6., 1., 7.])
    """
    spec = np.asarray(spec)
    if context < 1:
        raise ValueError(f"context must be at least 1 frame, got {context}")
    n_mels, n_frames = spec.shape[-2:]
    if n_frames < context:
        spec = np.pad(spec, [(0, 0)] * (spec.ndim - 1) + [(0, context - n_frames)], mode="edge")
    time_major = np.ascontiguousarray(np.swapaxes(spec, -1, -2))
    n_windows = time_major.shape[-2] - context + 1
    # The item size, not strides[-1]: with one band numpy may report any stride for that axis.
    step = time_major.itemsize
    return np.lib.stride_tricks.as_strided(
        time_major,
        shape=time_major.shape[:-2] + (n_windows, n_mels * context),
        strides=time_major.strides[:-2] + (n_mels * step, step),
        writeable=False,
    )


class WindowBank:
    """The context windows of many clips, held once as frames and indexed on demand.

    Every clip's spectrogram is stacked time-major into one (n_frames, n_mels)
    block; :func:`context_windows` over that block is a view, and a window is
    valid when it does not cross from one clip into the next. A minibatch of
    windows is gathered by index, so training on millions of windows never
    materialises them all.

    Parameters
    ----------
    specs : sequence of numpy.ndarray
        (n_mels, n_frames) spectrograms, one per clip, of any lengths.
    context : int
        Frames per window.
    hop : int, default 1
        Frames between the starts of consecutive windows of a clip; 1 takes
        every window, ``hop`` takes every ``hop``-th from each clip's first.

    Attributes
    ----------
    frames : numpy.ndarray
        (total_frames, n_mels) frames of every clip, each padded to at least
        ``context`` frames as :func:`context_windows` pads it.
    starts : numpy.ndarray
        Row in ``frames`` where each valid window starts.
    offsets : numpy.ndarray
        (n_clips + 1,) window ranges: clip c owns windows ``offsets[c]:offsets[c + 1]``.

    Examples
    --------
    >>> bank = WindowBank([np.zeros((4, 6)), np.ones((4, 3))], context=2)
    >>> len(bank), bank.offsets.tolist(), bank.take([0, 5]).shape
    (7, [0, 5, 7], (2, 8))
    >>> WindowBank([np.zeros((4, 6)), np.ones((4, 3))], context=2, hop=2).starts.tolist()
    [0, 2, 4, 6]
    """

    def __init__(self, specs, context, hop=1):
        if context < 1:
            raise ValueError(f"context must be at least 1 frame, got {context}")
        if hop < 1:
            raise ValueError(f"hop must be at least 1 frame, got {hop}")
        blocks = []
        for spec in specs:
            spec = np.asarray(spec, dtype=np.float32)
            if spec.shape[-1] < context:
                spec = np.pad(spec, [(0, 0), (0, context - spec.shape[-1])], mode="edge")
            blocks.append(spec.T)
        self.context, self.hop = context, hop
        if len(blocks) == 1 and blocks[0].flags.c_contiguous:
            # One time-major spectrogram (a long recording's) is used as it is, not copied.
            self.frames = blocks[0]
        else:
            self.frames = np.concatenate(blocks) if blocks else np.empty((0, 0), np.float32)
        lengths = np.array([len(b) for b in blocks], dtype=np.int64)
        first_frame = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        n_windows = (lengths - context) // hop + 1
        self.offsets = np.concatenate([[0], np.cumsum(n_windows)])
        self.starts = np.repeat(first_frame - hop * self.offsets[:-1], n_windows) + hop * np.arange(self.offsets[-1])
        self._view = context_windows(self.frames.T, context)

    def __len__(self):
        return int(self.offsets[-1])

    @property
    def n_features(self):
        """Length of one window vector, ``n_mels * context``."""
        return self._view.shape[-1]

    def take(self, index):
        """Windows at ``index`` (positions among the valid windows), as a new array."""
        return self._view[self.starts[index]]

    def batches(self, size, per_clip=False):
        """Yield consecutive (index range, windows) blocks of at most ``size`` windows.

        With ``per_clip``, a block holds one clip's windows, cut from that clip's
        first window, so the blocks of a clip are the same whatever clips share the bank.
        """
        bounds = self.offsets if per_clip else np.array([0, len(self)])
        for first, stop in zip(bounds[:-1], bounds[1:]):
            for start in range(first, stop, size):
                index = np.arange(start, min(start + size, stop))
                yield index, self.take(index)

    def split(self, window_scores):
        """Window scores cut into one array per clip."""
        return np.split(np.asarray(window_scores), self.offsets[1:-1])
