"""One clip in any accepted form -> a float32 waveform at the target rate.

A clip is a path (``str`` or :class:`pathlib.Path`; WAV, FLAC, OGG, and MP3
where libsndfile reads it), a 1-D or 2-D array (channels on the smaller axis,
as PyOD takes them; integer PCM is scaled to [-1, 1]), or a
``(waveform, sample_rate)`` tuple. Every failure raises
:class:`AudioInputError`, which names the clip (its index in a batch and its
path where it has one) and the cause.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import joblib
import numpy as np
import soundfile as sf
import soxr

__all__ = [
    "AudioInputError",
    "load_audio",
    "load_many",
    "load_excerpt",
    "AudioStream",
    "StreamResampler",
    "is_long_file",
    "clip_name",
    "MAX_SAMPLE_RATE",
    "LONG_FILE_BYTES",
    "AUDIO_SUFFIXES",
    "AudioSource",
    "OneChannel",
    "pick_channel",
    "source_of",
]

#: Suffixes that name a format libsndfile reads (``soundfile.available_formats()``), lower case, as
#: ``path.suffix.lower()`` gives them: a folder search takes these files without looking inside.
#: A file with another suffix, or none, is taken when its header reads (:mod:`audioad.folders`);
#: suffixes shared with other kinds of file (``.mat``, ``.raw``) are left to that probe.
AUDIO_SUFFIXES = (
    ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".snd",
    ".w64", ".rf64", ".caf", ".voc", ".sph", ".nist", ".svx", ".8svx", ".paf", ".pvf", ".htk",
)  # fmt: skip

#: Rates above this are taken for a mistake (a swapped argument, samples for a rate).
MAX_SAMPLE_RATE = 768_000

#: Files whose decoded samples (float32, every channel, at the file's rate) would take more than
#: this (32 MiB: 8.7 minutes of 16 kHz mono) are long: detectors decode them a block at a time
#: (:class:`AudioStream`) instead of whole. Measured by duration, from the header, not by size on
#: disk: an hour of FLAC or MP3 is a few megabytes.
LONG_FILE_BYTES = 32 * 2**20

#: Frames decoded per block of a long file or a growing one: 16 s at 16 kHz.
STREAM_FRAMES = 1 << 18

# Integer PCM maps to [-1, 1] by the full scale of its type, as libsndfile does.
_PCM_SCALE = {
    np.dtype(np.int8): (0.0, 2.0**7),
    np.dtype(np.int16): (0.0, 2.0**15),
    np.dtype(np.int32): (0.0, 2.0**31),
    np.dtype(np.int64): (0.0, 2.0**63),
    np.dtype(np.uint8): (128.0, 2.0**7),
    np.dtype(np.uint16): (2.0**15, 2.0**15),
    np.dtype(np.uint32): (2.0**31, 2.0**31),
}


class AudioInputError(ValueError):
    """A clip that cannot be turned into a waveform.

    Parameters
    ----------
    cause : str
        What is wrong, and what to do about it.
    index : int or None
        Position of the clip in the batch it came in, when there was one.
    path : str or None
        The clip's file, when it came as a path.

    Examples
    --------
    >>> err = AudioInputError("file not found", index=3, path="a.wav")
    >>> str(err)
    'clip 3 (a.wav): file not found'
    """

    def __init__(self, cause, index=None, path=None):
        self.cause = cause
        self.index = index
        self.path = None if path is None else str(path)
        super().__init__(f"{clip_name(index, self.path)}: {cause}")

    def at(self, index):
        """The same error, naming the clip's position ``index`` in its batch."""
        return AudioInputError(self.cause, index=index, path=self.path)

    def __reduce__(self):
        # Errors cross process boundaries (joblib, Dask) and must keep their fields.
        return (AudioInputError, (self.cause, self.index, self.path))


def clip_name(index=None, path=None):
    """How messages refer to a clip: ``clip 3 (a.wav)``, ``clip 3`` or ``a.wav``.

    Examples
    --------
    >>> clip_name(2, "pump/x.wav"), clip_name(2), clip_name(path="x.wav")
    ('clip 2 (pump/x.wav)', 'clip 2', 'x.wav')
    """
    if index is None:
        return "clip" if path is None else str(path)
    return f"clip {index}" if path is None else f"clip {index} ({path})"


def _check_rate(sr, what, path=None):
    """Return ``sr`` as an int, or raise when it is not a plausible sample rate."""
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer, float, np.floating)):
        raise AudioInputError(f"{what} must be a number of samples per second, got {sr!r}", path=path)
    # Floats need the finiteness test; ints of any size compare safely as they are.
    whole = isinstance(sr, (int, np.integer)) or (math.isfinite(sr) and sr == int(sr))
    if not whole or sr <= 0:
        raise AudioInputError(f"{what} must be a positive whole number of Hz, got {sr!r}", path=path)
    if sr > MAX_SAMPLE_RATE:
        raise AudioInputError(
            f"{what} {sr} Hz is above {MAX_SAMPLE_RATE} Hz; pass (waveform, sample_rate) "
            "in that order, with the rate in Hz",
            path=path,
        )
    return int(sr)


@contextmanager
def _file_errors(path):
    """Turn what opening, reading or decoding ``path`` raises into an AudioInputError naming it.

    The body is one soundfile call on ``path``: only soundfile's own errors (the file's content)
    and the operating system's (the file itself) are the clip's fault; anything else propagates.
    """
    try:
        if not path.exists():
            raise AudioInputError("file not found; check the path", path=path)
        if path.is_dir():
            raise AudioInputError("is a directory, not an audio file; pass the files inside it", path=path)
        if path.suffix.lower() == ".raw":
            # soundfile reads .raw as headerless PCM and asks for a rate and a channel count (a TypeError).
            raise AudioInputError("headerless RAW audio has no sample rate; convert it to WAV or FLAC", path=path)
        try:
            yield
        except sf.SoundFileError as exc:
            detail = "the file is empty (0 bytes)" if path.stat().st_size == 0 else f"cannot decode it ({exc})"
            raise AudioInputError(f"{detail}; is it a WAV, FLAC, OGG or MP3 file?", path=path) from exc
    except OSError as exc:
        raise AudioInputError(f"cannot read the file ({exc.strerror or exc})", path=path) from exc


def check_finite(data, path, first_sample=0):
    """Raise an AudioInputError naming the first NaN or infinite sample of (samples, channels) data.

    Parameters
    ----------
    data : ndarray of shape (n_samples, n_channels)
    path : str or Path or None
        The clip the samples come from, named in the error.
    first_sample : int, default=0
        The position of ``data``'s first row in the clip (for a block of a stream).

    Raises
    ------
    AudioInputError
        Where any sample is NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> check_finite(np.array([[0.0], [np.nan]]), "fan.wav", first_sample=16000)
    Traceback (most recent call last):
    ...
    audioad.audio.AudioInputError: fan.wav: 1 sample(s) are NaN or infinite (first at sample 16001)
    """
    finite = np.isfinite(data)
    if not finite.all():
        bad = int(data.size - np.count_nonzero(finite))
        first = first_sample + int(np.argmin(finite.all(axis=1)))
        raise AudioInputError(f"{bad} sample(s) are NaN or infinite (first at sample {first})", path=path)


def mix_down(data):
    """(samples, channels) float32 as (samples, 1): the channels' mean, summed in float64.

    Parameters
    ----------
    data : ndarray of shape (n_samples, n_channels), float32

    Returns
    -------
    ndarray of shape (n_samples, 1), float32
        ``data`` itself where it has one channel.

    Examples
    --------
    >>> import numpy as np
    >>> mix_down(np.array([[1.0, 0.0], [0.5, 0.5]], dtype=np.float32))[:, 0]
    array([0.5, 0.5], dtype=float32)
    """
    if data.shape[1] == 1:
        return data
    return data.mean(axis=1, dtype=np.float64)[:, None].astype(np.float32)


# Finite samples near float32's limit can still overflow it once resampled: a resampler overshoots.
_OVERFLOW_CAUSE = "samples overflow float32 once mixed or resampled; is the clip scaled to [-1, 1]?"


def _read_file(path):
    """Decode a file into (samples, channels) float32 and its rate."""
    with _file_errors(path):
        return sf.read(path, dtype="float32", always_2d=True)


def _as_samples_by_channels(wave, path=None):
    """Return an array as (samples, channels) float32, scaling integer PCM."""
    try:
        wave = np.asarray(wave)
    except (ValueError, TypeError) as exc:
        raise AudioInputError(f"cannot be read as an array of samples ({exc})", path=path) from exc
    if wave.dtype == object or not (
        np.issubdtype(wave.dtype, np.number) and not np.issubdtype(wave.dtype, np.complexfloating)
    ):
        raise AudioInputError(f"samples must be real numbers, got an array of dtype {wave.dtype}", path=path)
    if wave.ndim == 0 or wave.ndim > 2:
        raise AudioInputError(
            f"a waveform must be 1-D (samples) or 2-D (channels x samples), got {wave.ndim}-D with shape {wave.shape}",
            path=path,
        )
    if wave.ndim == 1:
        wave = wave[:, None]
    elif wave.shape[0] < wave.shape[1]:
        # Channels lie on the smaller axis, as PyOD reads them.
        wave = wave.T
    native = wave.dtype.newbyteorder("=")
    if native in _PCM_SCALE:
        offset, scale = _PCM_SCALE[native]
        return ((wave.astype(np.float64) - offset) / scale).astype(np.float32)
    if np.issubdtype(wave.dtype, np.integer):
        raise AudioInputError(f"integer samples of dtype {wave.dtype} are not PCM", path=path)
    return wave.astype(np.float32, copy=False)


def _unpack(item):
    """Split a clip into (samples x channels array, its rate or None, its path or None)."""
    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        data, rate = _read_file(path)
        return data, rate, str(item)
    if isinstance(item, tuple):
        if len(item) != 2:
            raise AudioInputError(f"a tuple clip must be (waveform, sample_rate), got a tuple of {len(item)} items")
        wave, rate = item
        return _as_samples_by_channels(wave), _check_rate(rate, "the clip's sample rate"), None
    if isinstance(item, (np.ndarray, list)) or hasattr(item, "__array__"):
        return _as_samples_by_channels(item), None, None
    raise AudioInputError(
        f"unsupported clip type {type(item).__name__}; pass a path, an array of samples, "
        "or a (waveform, sample_rate) tuple"
    )


def load_audio(item, sr=None, mono=True, channel=None):
    """Load one clip as a float32 waveform at sample rate ``sr``.

    Parameters
    ----------
    item : str, pathlib.Path, array-like or tuple
        A path to an audio file, an array of samples (1-D, or 2-D with the
        channels on the smaller axis; integer PCM is scaled to [-1, 1]), or a
        ``(waveform, sample_rate)`` tuple. A bare array is taken to be at
        ``sr`` already.
    sr : int or None
        Target sample rate. The clip is resampled (soxr, high quality) only
        when its own rate differs. ``None`` keeps the clip's rate; a bare
        array then has no known rate and is refused.
    mono : bool
        Average the channels into one. With ``False`` the result is
        (channels, samples).
    channel : int or None
        Take this channel alone instead of averaging (``mono`` is then moot).

    Returns
    -------
    y : numpy.ndarray of float32
        The waveform: (samples,) when mono or a single channel is asked for,
        (channels, samples) otherwise.
    sr : int
        Its sample rate.

    Raises
    ------
    AudioInputError
        With the clip's path and the cause: a missing, unreadable or
        undecodable file, empty audio, NaN or infinite samples, an array of
        more than 2 dimensions, an implausible sample rate, an unsupported type.

    Examples
    --------
    >>> import numpy as np
    >>> y, sr = load_audio((np.zeros((2, 8000), dtype=np.int16), 8000), sr=16000)
    >>> y.shape, y.dtype, sr
    ((16000,), dtype('float32'), 16000)
    """
    data, rate, path = _unpack(item)
    target = None if sr is None else _check_rate(sr, "the target sample rate sr", path=path)
    if rate is None:
        if target is None:
            raise AudioInputError(
                "a bare array has no sample rate; pass sr=... or a (waveform, sample_rate) tuple",
                path=path,
            )
        rate = target
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise AudioInputError("the clip holds no samples", path=path)
    if channel is None and isinstance(item, OneChannel):
        channel = item.channel
    if channel is not None:
        if not isinstance(channel, (int, np.integer)):
            raise AudioInputError(f"channel {channel!r} asked for: a channel is a number, 0 the first", path=path)
        data = pick_channel(data, channel, path)
    check_finite(data, path)
    if mono:
        data = mix_down(data)
    if target is not None and target != rate:
        n_in = len(data)
        data = soxr.resample(data, rate, target, quality="HQ")
        if len(data) == 0:
            raise AudioInputError(
                f"{n_in} sample(s) at {rate} Hz leave no sample at {target} Hz; the clip is too short",
                path=path,
            )
        rate = target
    if not np.isfinite(data).all():
        raise AudioInputError(_OVERFLOW_CAUSE, path=path)
    data = np.ascontiguousarray(data.T, dtype=np.float32)
    return (data[0] if mono or channel is not None else data), int(rate)


def load_excerpt(item, sr, centre, seconds):
    """At most ``seconds`` of a clip around ``centre`` (seconds), mono at ``sr``, and where it starts.

    A file is read from that point alone (a seek), so an excerpt of a three-hour recording costs
    what the excerpt does; anything else is loaded (:func:`load_audio`) and sliced. The excerpt
    is ``seconds`` long, moved to lie inside the clip, unless the clip is shorter (it is then whole).

    Parameters
    ----------
    item : str, pathlib.Path, array-like or tuple
        A clip in any form :func:`load_audio` accepts.
    sr : int or None
        Target sample rate, as in :func:`load_audio`.
    centre, seconds : float
        Middle and length of the excerpt, in seconds.

    Returns
    -------
    y : numpy.ndarray of float32
        The excerpt.
    sr : int
        Its sample rate.
    start : float
        Seconds from the start of the clip to the excerpt's first sample.

    Raises
    ------
    AudioInputError
        As :func:`load_audio` does, naming the file.

    Examples
    --------
    >>> y, sr, start = load_excerpt((np.arange(100.0), 10), sr=10, centre=9.5, seconds=2)
    >>> start, y[[0, -1]].tolist()
    (8.0, [80.0, 99.0])
    """

    def first_and_length(n_frames, rate):
        n = int(seconds * rate)
        return int(np.clip(centre * rate - n / 2, 0, max(n_frames - n, 0))), n

    if not isinstance(item, (str, os.PathLike)):
        y, sr = load_audio(item, sr=sr)
        first, n = first_and_length(len(y), sr)
        return y[first : first + n], sr, first / sr
    path = Path(item)
    with _file_errors(path):
        info = sf.info(str(path))
    rate = info.samplerate
    first, n = first_and_length(info.frames, rate)
    with _file_errors(path):
        data, _ = sf.read(str(path), start=first, frames=n, dtype="float32", always_2d=True)
    check_finite(data, path, first_sample=first)
    if len(data) == 0:
        raise AudioInputError(f"no samples from {first / rate:.1f} s on, though the header says more", path=path)
    y, sr = load_audio((mix_down(data)[:, 0], rate), sr=sr)
    return y, sr, first / rate


def load_many(items, sr, n_jobs=None, mono=True, channel=None, on_error="raise"):
    """Load many clips in parallel threads, in input order.

    Decoding and resampling release the GIL, so threads use every core
    without copying clips between processes.

    Parameters
    ----------
    items : sequence
        Clips in any form :func:`load_audio` accepts.
    sr : int
        Target sample rate of every clip.
    n_jobs : int or None
        Number of threads; ``None`` or ``-1`` uses every core this process may
        run on (``joblib.cpu_count()``: CPU affinity and cgroup quotas
        included), 1 loads serially. The threads live for this call only.
    mono, channel
        As in :func:`load_audio`.
    on_error : {"raise", "return"}
        ``"raise"`` stops at the first clip that fails; ``"return"`` puts
        that clip's :class:`AudioInputError` in its place and goes on.

    Returns
    -------
    list of numpy.ndarray
        One float32 waveform per clip, at ``sr`` (or its error).

    Raises
    ------
    AudioInputError
        For the first clip that fails, naming its index and path.

    Examples
    --------
    >>> import numpy as np
    >>> clips = [np.ones(100), (np.ones(50), 8000)]
    >>> [y.shape for y in load_many(clips, sr=16000)]
    [(100,), (100,)]
    """
    if on_error not in ("raise", "return"):
        raise ValueError(f"on_error must be 'raise' or 'return', got {on_error!r}")
    items = list(items)

    def load(i):
        try:
            return load_audio(items[i], sr=sr, mono=mono, channel=channel)[0]
        except AudioInputError as exc:
            if on_error == "return":
                return exc.at(i)
            raise exc.at(i) from exc.__cause__

    # joblib's count honours CPU affinity and cgroup quotas, which os.cpu_count() does not.
    workers = joblib.cpu_count() if n_jobs in (None, -1) else max(1, int(n_jobs))
    if workers == 1 or len(items) < 2:
        return [load(i) for i in range(len(items))]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(load, range(len(items))))


def is_long_file(item):
    """Whether ``item`` is a path to a file whose samples decode to more than :data:`LONG_FILE_BYTES`, to be streamed.

    Duration decides, for every format: the header's frames and channels at 4 bytes a sample
    (a file larger than that on disk is long too).

    Examples
    --------
    >>> is_long_file("no/such/file.wav"), is_long_file(np.zeros(16000))
    (False, False)
    """
    # os.path.isfile is False for any path it cannot stat (missing, unreadable, a NUL in its name).
    if not isinstance(item, (str, os.PathLike)) or not os.path.isfile(item):
        return False
    try:
        if os.path.getsize(item) > LONG_FILE_BYTES:
            return True
        # A header read costs about 0.1 ms (a WAV) to 1 ms (an OGG), next to milliseconds to decode.
        info = sf.info(str(item))
    except (OSError, sf.SoundFileError, RuntimeError, TypeError):
        # gone, unreadable or not audio (a headerless file is a TypeError): loading it will say what is wrong
        return False
    return info.frames * info.channels * 4 > LONG_FILE_BYTES


class OneChannel(os.PathLike):
    """An audio file of which one channel is read alone, where mixing its channels to mono will not do.

    Two microphones in anti-phase cancel when mixed; a channel alone is the machine's sound. It is
    a path everywhere a path is taken (its ``str`` is the file's), and :func:`load_audio` and
    :class:`AudioStream` read its ``channel`` (0 the first) instead of the mix.

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/two.wav", np.array([[0.5, -0.5]] * 4), 8000)
    ...     mixed, left = load_audio(f"{folder}/two.wav")[0], load_audio(OneChannel(f"{folder}/two.wav", 0))[0]
    >>> mixed.tolist(), left.tolist(), str(OneChannel("a.wav", 1))
    ([0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5], 'a.wav')
    """

    def __init__(self, path, channel):
        self.path, self.channel = os.fspath(path), int(channel)

    def __fspath__(self):
        return self.path

    def __str__(self):
        return self.path

    def __repr__(self):
        return f"OneChannel({self.path!r}, {self.channel})"

    def __eq__(self, other):
        return isinstance(other, OneChannel) and (self.path, self.channel) == (other.path, other.channel)

    def __hash__(self):
        return hash((self.path, self.channel))


def pick_channel(data, channel, path):
    """(samples, channels) data as (samples, 1): the mix of its channels, or ``channel`` alone (0 the first).

    Raises :class:`AudioInputError` naming ``path`` where the clip has no such channel.

    Examples
    --------
    >>> data = np.array([[0.5, -0.5], [0.25, -0.25]], dtype=np.float32)
    >>> pick_channel(data, None, "a.wav")[:, 0].tolist(), pick_channel(data, 1, "a.wav")[:, 0].tolist()
    ([0.0, 0.0], [-0.5, -0.25])
    """
    if channel is None:
        return mix_down(data)
    if not -data.shape[1] <= channel < data.shape[1]:
        raise AudioInputError(f"channel {channel!r} asked for, but the clip has {data.shape[1]} channel(s)", path=path)
    return data[:, [channel]]


class AudioSource(NamedTuple):
    """What a clip was before loading: its own sample rate and, for a file, its codec.

    Attributes
    ----------
    rate : int or None
        The clip's own sample rate; None for a bare array (taken to be at the target rate).
    codec : str or None
        A file's container and encoding as libsndfile names them (``"WAV PCM_16"``,
        ``"MP3 MPEG_LAYER_III"``); None for an array.
    """

    rate: int | None
    codec: str | None


def source_of(item):
    """The :class:`AudioSource` of a clip that loaded: a file's header, a tuple's rate.

    Examples
    --------
    >>> source_of((np.zeros(800), 8000)), source_of(np.zeros(800))
    (AudioSource(rate=8000, codec=None), AudioSource(rate=None, codec=None))
    """
    if isinstance(item, (str, os.PathLike)):
        with _file_errors(Path(item)):
            info = sf.info(item)
        return AudioSource(int(info.samplerate), f"{info.format} {info.subtype}")
    if isinstance(item, tuple) and len(item) == 2:
        return AudioSource(int(item[1]), None)
    return AudioSource(None, None)


class StreamResampler:
    """Float32 blocks at ``rate`` -> blocks at ``sr``, as a stream (soxr, high quality); at one rate, unchanged.

    Parameters
    ----------
    rate, sr : int
        The blocks' rate and the rate wanted.
    name : str or pathlib.Path
        The source, for the error of samples that overflow float32.

    Examples
    --------
    >>> resample = StreamResampler(32000, 16000, "-")
    >>> blocks = [(np.zeros(1000, np.float32), False), (np.zeros(1000, np.float32), True)]
    >>> sum(len(resample(block, last=last)) for block, last in blocks)
    1000
    """

    def __init__(self, rate, sr, name):
        self.stream = None if rate == sr else soxr.ResampleStream(rate, sr, 1, quality="HQ")
        self.name = name

    def __call__(self, block, last=False):
        """The samples at ``sr`` that ``block`` completes; ``last`` flushes the stream."""
        if self.stream is None:
            return block
        block = self.stream.resample_chunk(block, last=last)
        if not np.isfinite(block).all():
            raise AudioInputError(_OVERFLOW_CAUSE, path=self.name)
        return block


class AudioStream:
    """A long audio file read a block at a time: its mono float32 waveform at ``sr``, in pieces.

    Each iteration decodes the file afresh and yields consecutive blocks,
    which joined are :func:`load_audio` ``(path, sr)[0]`` (up to the
    resampler's rounding where rates differ); only one block is held at a
    time, so an hour-long recording costs megabytes, not the 230 MB of its
    whole 16 kHz waveform. The checks of :func:`load_audio` apply: opening
    fails at once on a missing or undecodable file, and a block is checked
    before it is yielded, each failure an :class:`AudioInputError` naming
    the path and the cause.

    Parameters
    ----------
    path : str, pathlib.Path or OneChannel
        The audio file (a :class:`OneChannel`: its one channel, else the mix of its channels).
    sr : int
        Target sample rate; the file is resampled (soxr, high quality, as a
        stream) when its own rate differs.
    block_frames : int
        Frames of the file decoded at once.

    Attributes
    ----------
    n_samples : int
        Length of the waveform at ``sr``, from the file's header (exact at the
        file's own rate, within a sample or two of the resampler's otherwise).

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sf.write(f"{folder}/hum.wav", np.zeros((48000, 2)), 16000)
    ...     stream = AudioStream(f"{folder}/hum.wav", 16000, block_frames=20000)
    ...     stream.n_samples, [len(block) for block in stream]
    (48000, [20000, 20000, 8000])
    """

    def __init__(self, path, sr, block_frames=STREAM_FRAMES):
        self.channel = path.channel if isinstance(path, OneChannel) else None
        self.path = Path(path)
        self.sr = _check_rate(sr, "the target sample rate sr", path=self.path)
        self.block_frames = int(block_frames)
        with _file_errors(self.path):
            info = sf.info(self.path)
        if info.frames <= 0:
            raise AudioInputError("the clip holds no samples", path=self.path)
        self.rate = info.samplerate
        self.n_samples = math.ceil(info.frames * self.sr / self.rate)

    def __iter__(self):
        path = self.path
        with _file_errors(path):
            audio = sf.SoundFile(path)
        with audio:
            resample = StreamResampler(self.rate, self.sr, path)
            position = produced = 0
            while True:
                with _file_errors(path):
                    data = audio.read(self.block_frames, dtype="float32", always_2d=True)
                last = len(data) < self.block_frames
                check_finite(data, path, first_sample=position)
                position += len(data)
                block = resample(pick_channel(data, self.channel, path)[:, 0], last=last)
                produced += len(block)
                if last and produced == 0:
                    cause = f"{position} sample(s) at {self.rate} Hz leave no sample at {self.sr} Hz"
                    raise AudioInputError(f"{cause}; the clip is too short", path=path)
                if len(block):
                    yield np.ascontiguousarray(block)
                if last:
                    return
