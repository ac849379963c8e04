"""Where a watch's audio comes from: a folder a recorder writes into, a pipe, a sound card.

- :class:`FolderSource`: new files in a folder. A file is complete once its size has not changed
  for ``settle`` seconds; with ``growing=True`` the WAV files still being written are listed too,
  and :class:`GrowingWav` reads their samples as they land.
- :class:`GrowingWav`: a PCM or float WAV file a recorder is still writing, read up to the last
  whole frame on disk. Recorders leave a placeholder data size in the header until they close
  the file (arecord and sox a huge one, ffmpeg 0xFFFFFFFF, older ffmpeg and libsndfile 0); until
  then the samples end where the file ends. Other formats (FLAC, OGG, MP3, compressed WAV) are
  scored once complete: their frames are not a fixed number of bytes, so a file cut off
  mid-write has no last whole frame to read to, and a FLAC encoder writes its frame count only
  when it closes the file.
- :class:`PipeSource`: raw PCM (``s16le``, ``s32le``, ``f32le``) or a WAV stream on a pipe.
- :class:`SoundCardSource`: a sound card's input, through the optional ``sounddevice`` package
  (PortAudio): ``pip install 'audioad[soundcard]'``.

Each source gives mono float32 samples at the model's rate, sample for sample as libsndfile
decodes them (:func:`audioad.audio.load_audio`), resampled as a stream where the rates differ.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .audio import AUDIO_SUFFIXES, STREAM_FRAMES, AudioInputError, StreamResampler, check_finite, pick_channel
from .folders import hidden_kind, resolved

__all__ = [
    "PCM_FORMATS",
    "PcmLayout",
    "WavHeader",
    "read_wav_header",
    "declared_shortfall",
    "FolderSource",
    "GrowingWav",
    "PipeSource",
    "SoundCardSource",
    "input_devices",
]

# Sources log to the watch's logger: `audioad watch --log` shows what they report.
log = logging.getLogger("audioad.watch")

#: Raw PCM formats a pipe may carry: the kind of sample and its width in bytes (little-endian).
PCM_FORMATS = {"s16le": ("int", 2), "s32le": ("int", 4), "f32le": ("float", 4)}

# WAV format code and bits a sample -> kind of sample. 8-bit WAV is unsigned; 24-bit is packed.
_WAV_SAMPLES = {(1, 8): "uint", (1, 16): "int", (1, 24): "int", (1, 32): "int", (3, 32): "float", (3, 64): "float"}

# Data sizes a recorder writes in the header until it closes the file: "not known yet".
_PLACEHOLDER_SIZES = (0, 0xFFFFFFFF)
# arecord and sox write a huge data size, about 2 GiB, until they close the file: from here on, a
# declared size is a placeholder, not what a copy of a finished file will hold.
_HUGE_PLACEHOLDER = 0x7FF00000


class PcmLayout(NamedTuple):
    """How samples lie in raw PCM bytes: little-endian, channels interleaved.

    Attributes
    ----------
    kind : {"int", "uint", "float"}
    width : int
        Bytes a sample.
    channels : int
    rate : int
        Samples a second, per channel.
    """

    kind: str
    width: int
    channels: int
    rate: int

    @property
    def frame(self):
        """Bytes a frame: one sample of every channel."""
        return self.width * self.channels


class WavHeader(NamedTuple):
    """What a WAV header says, up to the first sample.

    Attributes
    ----------
    layout : PcmLayout
    data_offset : int
        Byte at which the samples start.
    data_size : int
        Bytes of samples as the header declares them: 0 or 0xFFFFFFFF (or more than the file)
        while a recorder still writes the file, 0xFFFFFFFF in an RF64 file (its ``ds64`` chunk
        holds the size).
    ds64_offset : int or None
        Where an RF64 file's ``ds64`` chunk starts.
    """

    layout: PcmLayout
    data_offset: int
    data_size: int
    ds64_offset: int | None


def read_wav_header(read, name="-"):
    """Parse a WAV (RIFF or RF64) header from ``read(n)``, a file or a pipe at its first byte, up to its samples.

    Parameters
    ----------
    read : callable
        ``read(n)`` gives the next ``n`` bytes, or fewer at the end.
    name : str
        The file (``"-"`` for standard input), for errors.

    Returns
    -------
    WavHeader

    Raises
    ------
    AudioInputError
        Naming ``name``: not a WAV header, one that ends before the samples (a file whose header is
        still being written), or samples that are not 8/16/24/32-bit PCM or 32/64-bit float.

    Examples
    --------
    >>> import io, soundfile as sf
    >>> wav = io.BytesIO()
    >>> sf.write(wav, np.zeros((100, 2)), 16000, format="WAV", subtype="PCM_24")
    >>> header = read_wav_header(io.BytesIO(wav.getvalue()).read)
    >>> header.layout, header.data_offset, header.data_size
    (PcmLayout(kind='int', width=3, channels=2, rate=16000), 44, 600)
    """
    riff = read(12)
    if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RF64") or riff[8:12] != b"WAVE":
        raise AudioInputError("does not start with a WAV header", path=name)
    offset, fmt, ds64 = 12, None, None
    while True:
        head = read(8)
        if len(head) < 8:
            raise AudioInputError("the WAV header ends before its samples", path=name)
        kind, size = head[:4], int.from_bytes(head[4:], "little")
        offset += 8
        if kind == b"data":
            break
        if kind == b"ds64":
            ds64 = offset
        body = read(size + (size & 1))
        offset += len(body)
        if kind == b"fmt ":
            fmt = body
    if fmt is None or len(fmt) < 16:
        raise AudioInputError("the WAV header has no fmt chunk", path=name)
    code, channels = int.from_bytes(fmt[0:2], "little"), int.from_bytes(fmt[2:4], "little")
    rate, bits = int.from_bytes(fmt[4:8], "little"), int.from_bytes(fmt[14:16], "little")
    if code == 0xFFFE and len(fmt) >= 26:
        code = int.from_bytes(fmt[24:26], "little")  # WAVE_FORMAT_EXTENSIBLE: the sub-format's code
    if (code, bits) not in _WAV_SAMPLES:
        raise AudioInputError(f"WAV format {code} at {bits} bits is neither PCM nor float", path=name)
    if channels < 1 or rate < 1:
        raise AudioInputError(f"the WAV header gives {channels} channels at {rate} Hz", path=name)
    return WavHeader(PcmLayout(_WAV_SAMPLES[code, bits], bits // 8, channels, rate), offset, size, ds64)


def _decode(data, layout, name="-", first_sample=0, channel=None):
    """Whole frames of raw PCM bytes -> mono float32 (the mix, or ``channel`` alone), as libsndfile reads each sample
    (int * 2**-(bits-1))."""
    if layout.width == 3:
        # Packed 24-bit: each sample becomes the top three bytes of an int32.
        packed = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        wide = np.zeros((len(packed), 4), dtype=np.uint8)
        wide[:, 1:] = packed
        samples = wide.view("<i4")[:, 0].astype(np.float32) * np.float32(2.0**-31)
    elif layout.kind == "float":
        samples = np.frombuffer(data, dtype=f"<f{layout.width}").astype(np.float32)
    elif layout.kind == "uint":
        samples = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - np.float32(128)) * np.float32(2.0**-7)
    else:
        bits = 8 * layout.width
        samples = np.frombuffer(data, dtype=f"<i{layout.width}").astype(np.float32) * np.float32(2.0 ** (1 - bits))
    frames = samples.reshape(-1, layout.channels)
    if layout.kind == "float":
        check_finite(frames, name, first_sample)
    return pick_channel(frames, channel, name)[:, 0]


def _declared_end(file, header):
    """Where a WAV file's samples end as its header declares them now (the ``ds64`` size of an RF64 file)."""
    file.seek(header.data_offset - 4)
    declared = int.from_bytes(file.read(4), "little")
    if declared == 0xFFFFFFFF and header.ds64_offset is not None:
        file.seek(header.ds64_offset + 8)  # ds64: RIFF size, then the data size, 8 bytes each
        declared = int.from_bytes(file.read(8), "little")
    return declared, header.data_offset + declared


def declared_shortfall(path):
    """Seconds of samples a WAV file's header declares, and seconds on disk, where the header declares more.

    A copy of a finished recording carries its final header from its first bytes: until its last
    byte lands, the file is incomplete however long the copy pauses. A recorder's placeholder
    sizes (0, 0xFFFFFFFF, or about 2 GiB, until it closes the file) declare nothing.

    Returns
    -------
    tuple of float or None
        ``(declared, on_disk)`` seconds; None for a file whose samples are all there, a
        placeholder, or a file that is not a PCM or float WAV.

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> path = os.path.join(tempfile.mkdtemp(), "pump.wav")
    >>> sf.write(path, np.zeros(16000), 16000, subtype="PCM_16")
    >>> declared_shortfall(path) is None
    True
    >>> with open(path, "r+b") as f:
    ...     _ = f.truncate(44 + 8000)
    >>> declared_shortfall(path)
    (1.0, 0.25)
    """
    try:
        with open(path, "rb") as file:
            header = read_wav_header(file.read, str(path))
            declared, end = _declared_end(file, header)
            size = os.fstat(file.fileno()).st_size
    except (OSError, AudioInputError):
        return None
    if declared in _PLACEHOLDER_SIZES or declared >= _HUGE_PLACEHOLDER or end <= size:
        return None
    per_second = header.layout.frame * header.layout.rate
    return declared / per_second, max(size - header.data_offset, 0) / per_second


class FolderSource:
    """New audio files in a folder (not its subfolders), oldest first: complete ones, and those still being written.

    Parameters
    ----------
    folder : str or pathlib.Path
        Where the recorder writes.
    settle : float
        Seconds a file's size must stay unchanged before it is taken as complete.
    suffixes : tuple of str
        File suffixes taken (lower case); others are ignored (a recorder's ``.part`` files).
    growing : bool
        Also list the files still being written, so that a watch scores a WAV file's finished
        segments as they land (:class:`GrowingWav`). Off by default: it reads a file before its
        writer closes it, which is right for a recorder appending to it and wrong for a copy
        that writes a file out of order (a network share's parallel writes, a preallocated file).
    truncated_after : float
        Seconds a WAV file whose header declares more samples than it holds
        (:func:`declared_shortfall`) must stay unchanged before it is taken as complete after all:
        truncated (a copy that failed), scored with what it holds. Until then it is incomplete,
        whatever ``settle`` says.

    Files are named by their :func:`~audioad.folders.resolved` path (the folder's links followed),
    so a watch restarted from another folder or through another spelling knows them again.
    Hidden files (``.rec_05.wav``, a recorder's file before it renames it) and ``._*`` sidecars
    are passed over, as a folder given to ``score`` or ``fit`` is searched
    (:func:`audioad.folders.hidden_kind`).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> FolderSource(folder, settle=0).ready(done={})
    []
    """

    def __init__(self, folder, settle=2.0, suffixes=AUDIO_SUFFIXES, growing=False, truncated_after=300.0):
        if not Path(folder).is_dir():
            raise ValueError(f"{folder}: not a folder; pass the folder the recorder writes into, or the standard input")
        self.folder = Path(resolved(folder))
        self.settle, self.truncated_after = float(settle), float(truncated_after)
        self.suffixes = tuple(suffixes)
        self.growing = bool(growing)
        self._sizes = {}  # path -> (size, when first seen at that size, whether being written)
        self._waiting = set()  # incomplete WAV files whose wait was logged

    def scan(self, done, scored_before=-math.inf):
        """Files not done and modified after ``scored_before``: ``(complete, writing)``, each oldest first.

        ``done`` maps a file scored to ``[size, mtime, ...]`` when it was scored: a file listed
        there is taken again only once its size has changed (a recorder or a copy that went on
        after it was scored). A file is complete once its size has stayed the same for ``settle``
        seconds and, for a WAV file, its samples are all there (:func:`declared_shortfall`);
        whether it decodes is found out when it is scored. ``writing`` is empty unless the source
        is ``growing``: it lists the files being written, whose size changed within ``settle``
        seconds and which were modified as recently, or were being written at the last look, and
        the WAV files whose samples are not all there yet. Other files wait to settle: a watch
        started on a folder full of old recordings scores each whole, following only the files in
        progress.
        """
        now, clock = time.monotonic(), time.time()
        complete, writing, sizes = [], [], {}
        for entry in os.scandir(self.folder):
            if not entry.is_file() or Path(entry.name).suffix.lower() not in self.suffixes or hidden_kind(entry.name):
                continue
            stat = entry.stat()
            scored = done.get(entry.path, False)
            if stat.st_mtime <= scored_before or (scored is None or (scored and scored[0] == stat.st_size)):
                continue
            size, since, was_writing = self._sizes.get(entry.path, (None, now, False))
            since = since if size == stat.st_size else now
            settled = now - since >= self.settle
            if settled and now - since < self.truncated_after and self._incomplete(entry.path):
                settled, was_writing = False, True
            being_written = self.growing and not settled and (was_writing or clock - stat.st_mtime <= self.settle)
            sizes[entry.path] = (stat.st_size, since, being_written)
            if settled or being_written:
                (complete if settled else writing).append((stat.st_mtime, entry.name, entry.path))
        # Only files still there and not yet scored are remembered: memory does not grow with time.
        self._sizes = sizes
        self._waiting &= set(sizes)
        return [path for _, _, path in sorted(complete)], [path for _, _, path in sorted(writing)]

    def _incomplete(self, path):
        """Whether ``path`` is a WAV file whose header declares more samples than it holds; logged once a file."""
        shortfall = declared_shortfall(path)
        if shortfall is not None and path not in self._waiting:
            self._waiting.add(path)
            log.info("waiting for %s: its header declares %.1f s of samples, %.1f s are on disk", path, *shortfall)
        return shortfall is not None

    def ready(self, done, scored_before=-math.inf):
        """The complete files of :meth:`scan`."""
        return self.scan(done, scored_before)[0]


class GrowingWav:
    """A PCM or float WAV file a recorder is still writing: its samples, mono at ``sr``, read as they land.

    Each :meth:`landed` reads the whole frames written since the last call. They end where the
    header's data size says once the recorder has written a real one, and where the file ends
    while the header holds a placeholder (0, 0xFFFFFFFF, or more than the file: what arecord,
    sox, ffmpeg and libsndfile write until they close the file). The samples are those
    :func:`~audioad.audio.load_audio` decodes from the finished file, bit for bit at the model's
    rate; resampled as a stream otherwise (to its rounding, about 1e-6). Memory is one block.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    sr : int
        The model's rate.
    header : WavHeader
        Its header (:meth:`open` reads it).
    block_frames : int
        Frames read at a time.
    channel : int or None
        Read this channel alone (0 the first) instead of the mix of the channels.

    Attributes
    ----------
    position : int
        Bytes of samples read so far.

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> path = os.path.join(tempfile.mkdtemp(), "pump.wav")
    >>> recorder = sf.SoundFile(path, "w", samplerate=16000, channels=1, subtype="PCM_16")
    >>> recorder.write(np.zeros(8000)); recorder.flush()
    >>> wav = GrowingWav.open(path, 16000)
    >>> [len(block) for block in wav.landed()]
    [8000]
    >>> recorder.write(np.zeros(4000)); recorder.close()
    >>> [len(block) for block in wav.landed(last=True)]
    [4000]
    """

    def __init__(self, path, sr, header, block_frames=STREAM_FRAMES, channel=None):
        self.path, self.sr, self.header = str(path), int(sr), header
        self.block_frames, self.channel = int(block_frames), channel
        self.position = 0
        self._resample = StreamResampler(header.layout.rate, self.sr, self.path)

    @classmethod
    def open(cls, path, sr, block_frames=STREAM_FRAMES, channel=None):
        """A :class:`GrowingWav` of ``path``, or None while it does not start with a whole PCM or float WAV header.

        None covers a header not yet written and a file that is not such a WAV at all (FLAC,
        compressed WAV): either is scored once complete, which names what is wrong with it.
        """
        try:
            with open(path, "rb") as file:
                header = read_wav_header(file.read, str(path))
        except (OSError, AudioInputError):
            return None
        return cls(path, sr, header, block_frames, channel)

    def _data_end(self, file, size):
        """Where the samples on disk end now: the declared data size where the header has one, else the file's end."""
        declared, end = _declared_end(file, self.header)
        return size if declared in _PLACEHOLDER_SIZES or end > size else end

    def landed(self, last=False):
        """Yield the samples written since the last call, in blocks; with ``last`` (the file is complete), the rest.

        Raises
        ------
        AudioInputError
            Naming the file: it cannot be read, it got shorter (rewritten from its start), or its
            samples are NaN or infinite.
        """
        layout, start = self.header.layout, self.header.data_offset
        path = Path(self.path)
        try:
            with open(path, "rb") as file:
                end = self._data_end(file, os.fstat(file.fileno()).st_size)
                available = (end - start) // layout.frame * layout.frame
                if available < self.position:
                    raise AudioInputError(
                        f"the file got shorter ({available} bytes of samples after {self.position} were read): "
                        "the recorder rewrote it; it is skipped from here",
                        path=path,
                    )
                file.seek(start + self.position)
                while self.position < available:
                    data = file.read(min(self.block_frames * layout.frame, available - self.position))
                    data = data[: len(data) // layout.frame * layout.frame]
                    if not data:
                        break
                    first = self.position // layout.frame
                    self.position += len(data)
                    block = self._resample(_decode(data, layout, self.path, first, self.channel))
                    if len(block):
                        yield block
        except OSError as exc:
            raise AudioInputError(f"cannot read the file ({exc.strerror or exc})", path=path) from exc
        if last:
            tail = self._resample(np.empty(0, dtype=np.float32), last=True)
            if len(tail):
                yield tail


class PipeSource:
    """Audio blocks from a binary stream (standard input): raw PCM or WAV, mono at ``sr``.

    Parameters
    ----------
    stream : binary file object
        E.g. ``sys.stdin.buffer``.
    sr : int
        The model's rate; the stream is resampled to it as it comes.
    format : {None, "s16le", "s32le", "f32le", "wav"}
        Raw little-endian PCM, or a WAV stream (its header gives the rest: 8/16/24/32-bit PCM or
        32/64-bit float). None: a WAV stream where it starts with a RIFF or RF64 header (as
        ``arecord`` sends by default), else raw ``s16le``.
    rate : int
        The raw stream's rate (ignored for WAV).
    channels : int
        The raw stream's channels (ignored for WAV); they are averaged.
    block_seconds : float
        Audio read at a time.
    channel : int or None
        Read this channel alone (0 the first) instead of the mix of the channels.
    name : str
        The stream, for errors.

    Raises
    ------
    AudioInputError
        Naming the stream: a WAV stream whose header does not read, a WAV header where raw PCM
        was asked for, NaN or infinite float samples, no such channel.

    Examples
    --------
    >>> import io, soundfile as sf
    >>> pcm = (np.ones(8000) * 16384).astype("<i2").tobytes()
    >>> [len(b) for b in PipeSource(io.BytesIO(pcm), sr=16000, format="s16le", rate=16000, block_seconds=0.2)]
    [3200, 3200, 1600]
    >>> wav = io.BytesIO()
    >>> sf.write(wav, np.zeros(8000), 8000, format="WAV", subtype="PCM_16")
    >>> [len(b) for b in PipeSource(io.BytesIO(wav.getvalue()), sr=8000, block_seconds=0.5)]  # detected: WAV
    [4000, 4000]
    >>> list(PipeSource(io.BytesIO(wav.getvalue()), sr=8000, format="s16le"))
    Traceback (most recent call last):
    ...
    audioad.audio.AudioInputError: -: starts with a WAV header, but raw s16le PCM was asked for: ...
    """

    def __init__(
        self, stream, sr, format=None, rate=16000, channels=1, block_seconds=0.25, channel=None, name="-"
    ):  # fmt: skip
        self.stream, self.sr, self.format = stream, int(sr), format
        self.rate, self.channels, self.block_seconds = int(rate), int(channels), float(block_seconds)
        self.channel, self.name = channel, name
        if format not in (None, "wav", *PCM_FORMATS):
            raise ValueError(f"format must be one of {', '.join([*PCM_FORMATS, 'wav'])} or None, got {format!r}")
        self._peeked = b""

    def _read(self, n):
        parts, got = [self._peeked[:n]], len(self._peeked[:n])
        self._peeked = self._peeked[n:]
        while got < n:
            chunk = self.stream.read(n - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def _starts_with_wav(self):
        """Whether the stream starts with a RIFF/RF64 WAVE header; its first bytes are kept for :meth:`_read`."""
        self._peeked = self._read(12)
        return self._peeked[:4] in (b"RIFF", b"RF64") and self._peeked[8:12] == b"WAVE"

    def __iter__(self):
        wav = self._starts_with_wav()
        if wav and self.format in PCM_FORMATS:
            # Read as raw PCM, a WAV header is a burst of noise and its samples a wrong rate: never what was meant.
            raise AudioInputError(
                f"starts with a WAV header, but raw {self.format} PCM was asked for: send raw PCM "
                "(arecord -t raw), or read the stream as WAV",
                path=self.name,
            )
        if wav or self.format == "wav":
            try:
                layout = read_wav_header(self._read, self.name).layout
            except AudioInputError as exc:
                raise AudioInputError(f"{exc.cause}; send a PCM WAV stream, or raw PCM", path=self.name) from None
        else:
            kind, width = PCM_FORMATS[self.format or "s16le"]
            layout = PcmLayout(kind, width, self.channels, self.rate)
        resample = StreamResampler(layout.rate, self.sr, self.name)
        per_block = max(1, int(self.block_seconds * layout.rate)) * layout.frame
        carry, frames = b"", 0
        while True:
            data = carry + self._read(per_block)
            last = len(data) < per_block
            whole = len(data) - len(data) % layout.frame
            data, carry = data[:whole], data[whole:]
            block = resample(_decode(data, layout, self.name, frames, self.channel), last=last)
            frames += whole // layout.frame
            if len(block):
                yield block
            if last:
                return


def _sounddevice():
    """The optional ``sounddevice`` package, or an ImportError that says what to install."""
    try:
        import sounddevice
    except ImportError as exc:
        raise ImportError(
            "reading a sound card needs the sounddevice package: pip install 'audioad[soundcard]'"
        ) from exc
    except OSError as exc:  # sounddevice is there, the PortAudio library it loads is not
        raise ImportError(
            f"sounddevice cannot load the PortAudio library ({exc}); install it "
            "(Debian/Ubuntu: sudo apt install libportaudio2; macOS: brew install portaudio)"
        ) from exc
    return sounddevice


def input_devices():
    """The sound cards with an input, as PortAudio lists them, the default one marked.

    Returns
    -------
    list of dict
        sounddevice's device dicts (``index``, ``name``, ``max_input_channels``,
        ``default_samplerate``, ...), each with ``default``: whether it is the default input.

    Raises
    ------
    ImportError
        Without ``sounddevice`` (``pip install 'audioad[soundcard]'``) or PortAudio.

    Examples
    --------
    >>> [(d["index"], d["name"]) for d in input_devices()]  # doctest: +SKIP
    [(1, 'USB Audio: mic (hw:1,0)')]
    """
    sd = _sounddevice()
    try:
        default = sd.query_devices(kind="input")["index"]
    except (ValueError, sd.PortAudioError):
        default = None  # no default input
    return [
        {**device, "default": device["index"] == default}
        for device in sd.query_devices()
        if device["max_input_channels"] > 0
    ]


class SoundCardSource:
    """Audio blocks from a sound card's input, mono at ``sr``, until :meth:`stop` (or Ctrl-C).

    Needs the optional ``sounddevice`` package and the PortAudio library
    (``pip install 'audioad[soundcard]'``). PortAudio calls back with each block; blocks wait
    in a queue while a segment is scored, so scoring never makes the card lose samples. Where
    scoring falls behind for longer than ``queue_seconds``, or PortAudio reports an input
    overflow, the samples lost are logged and the audio on either side is joined.

    Parameters
    ----------
    sr : int
        The model's rate.
    device : int, str or None
        The input: its number, part of its name (as sounddevice matches it), or None or
        ``"default"`` for the system's default input. :func:`input_devices` lists them.
    channels : int
        Channels recorded; they are averaged.
    channel : int or None
        Take this channel alone (0 the first) instead of the mix; at least ``channel + 1``
        channels are then recorded.
    rate : int or None
        The card's rate; None: ``sr`` where the card takes it, else its default rate, resampled.
    block_seconds : float
        Audio in each block PortAudio delivers.
    queue_seconds : float
        Audio held while scoring is busy.

    Attributes
    ----------
    name : str
        The input's name, as PortAudio gives it.
    index : int
        Its number.

    Raises
    ------
    ImportError
        Without ``sounddevice`` or PortAudio, saying what to install.
    AudioInputError
        No such input, no input at all, or more channels than it has.

    Examples
    --------
    Where a sound card and ``sounddevice`` are (a :class:`~audioad.watch.Watcher` scores it):

    >>> card = SoundCardSource(16000, device="default")  # doctest: +SKIP
    >>> watcher.watch_stream(card, name=card.name)  # doctest: +SKIP
    """

    def __init__(
        self, sr, device=None, channels=1, rate=None, block_seconds=0.25, queue_seconds=30.0, channel=None
    ):  # fmt: skip
        self.sr, self.channel = int(sr), channel
        self.channels = int(channels) if channel is None else max(int(channels), int(channel) + 1)
        self.block_seconds, self.queue_seconds = float(block_seconds), float(queue_seconds)
        self._sd = sd = _sounddevice()
        if isinstance(device, str) and device.strip().lower() in ("", "default"):
            device = None
        elif isinstance(device, str) and device.strip().isdigit():
            device = int(device)
        where = "the default sound card" if device is None else f"sound card {device!r}"
        try:
            info = sd.query_devices(device, "input")
        except (ValueError, sd.PortAudioError) as exc:
            raise AudioInputError(
                f"no such input ({exc}); is a sound card with an input connected? input_devices() lists them",
                path=where,
            ) from exc
        self.index, self.name = int(info["index"]), str(info["name"])
        if self.channels > info["max_input_channels"]:
            raise AudioInputError(
                f"has {info['max_input_channels']} input channel(s), {self.channels} asked for", path=self.name
            )
        if rate is None:
            try:
                sd.check_input_settings(device=self.index, channels=self.channels, dtype="float32", samplerate=self.sr)
                rate = self.sr
            except (ValueError, sd.PortAudioError):
                rate = int(info["default_samplerate"])
        self.rate = int(rate)
        self._stop = threading.Event()

    def stop(self):
        """End the stream: the blocks already recorded are given, then iteration ends."""
        self._stop.set()

    def __iter__(self):
        sd = self._sd
        held = queue.Queue(maxsize=max(1, math.ceil(self.queue_seconds / self.block_seconds)))
        lost = {"dropped": 0, "overflows": 0}  # counted in PortAudio's thread, reported in this one
        told = dict(lost)

        def report():
            nonlocal told
            dropped, overflows = lost["dropped"] - told["dropped"], lost["overflows"] - told["overflows"]
            told = dict(lost)
            what = [f"{dropped} samples dropped (scoring fell behind by over {self.queue_seconds:g} s)"] * bool(dropped)
            what += [f"{overflows} input overflow(s) (PortAudio lost samples)"] * bool(overflows)
            if what:
                log.warning("%s: %s: the audio on either side is joined", self.name, "; ".join(what))

        def callback(indata, frames, _time, status):
            if status.input_overflow:
                lost["overflows"] += 1
            try:
                held.put_nowait(indata.copy())
            except queue.Full:
                lost["dropped"] += frames

        try:
            stream = sd.InputStream(
                samplerate=self.rate,
                blocksize=max(1, round(self.block_seconds * self.rate)),
                device=self.index,
                channels=self.channels,
                dtype="float32",
                callback=callback,
            )
        except (ValueError, sd.PortAudioError) as exc:
            cause = f"cannot open it at {self.rate} Hz, {self.channels} channel(s) ({exc})"
            raise AudioInputError(cause, path=self.name) from exc
        resample = StreamResampler(self.rate, self.sr, self.name)
        with stream:
            while not self._stop.is_set():
                try:
                    # A short wait, so that stop() is seen while the card is silent.
                    data = held.get(timeout=0.1)
                except queue.Empty:
                    if not stream.active and not self._stop.is_set():
                        raise AudioInputError("stopped delivering audio (unplugged?)", path=self.name) from None
                    continue
                report()
                block = resample(pick_channel(data, self.channel, self.name)[:, 0])
                if len(block):
                    yield block
        # The stream is closed: what it recorded before stop() is still scored.
        rest = []
        while not held.empty():
            rest.append(pick_channel(held.get_nowait(), self.channel, self.name)[:, 0])
        report()
        tail = resample(np.concatenate([np.empty(0, dtype=np.float32), *rest]), last=True)
        if len(tail):
            yield tail
