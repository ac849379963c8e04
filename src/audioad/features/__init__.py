"""Log-mel spectrograms, context windows, time pooling and clip descriptors, as plain functions.

The numbers follow librosa's (``librosa.power_to_db(librosa.feature.
melspectrogram(...))``: periodic Hann window, centred frames, Slaney mel
filters) so that models trained with either agree, but the work is done for a
whole batch of equal-length clips at once, with one cached filterbank and
float32 FFTs on every core (within 1e-3 dB of librosa's float64 ones on
recorded sound; ``fft_dtype="float64"`` matches them to 1e-5 dB). A recording
too long to hold is transformed as it is decoded (:func:`log_mel_stream`).

Spectrograms are returned in librosa's orientation, ``(..., n_mels, n_frames)``,
but laid out time-major in memory, so that :func:`context_windows` is a
zero-copy strided view.

Each idea lives in one module, and every public name is re-exported here:

- :mod:`~audioad.features.mel`: the mel scale and the mel filterbank;
- :mod:`~audioad.features.stft`: frames and power spectra, block by block;
- :mod:`~audioad.features.threads`: thread counts, a map over cores, BLAS held to one thread;
- :mod:`~audioad.features.logmel`: mel spectrograms and log-mel, batched, streamed or a clip a core;
- :mod:`~audioad.features.windows`: context windows, as a view or gathered from a bank;
- :mod:`~audioad.features.pooling`: time pooling;
- :mod:`~audioad.features.levels`: each band's level over many frames, the normal reference;
- :mod:`~audioad.features.descriptors`: the 74 handcrafted clip descriptors of PyOD's ``'audio-mfcc'`` encoder.
"""

from .descriptors import chroma_filterbank, clip_descriptors, clip_descriptors_many, descriptor_names
from .levels import LEVEL_QUANTILES, LEVEL_STEP_DB, BandLevels
from .logmel import LOGS, log_mel, log_mel_many, log_mel_stream, mel_spectrogram, power_to_db
from .mel import hz_to_mel, mel_filterbank, mel_frequencies, mel_to_hz
from .pooling import POOLINGS, time_pool
from .stft import FFT_DTYPES, frame, power_spectrogram
from .threads import map_on_cores, serial_matmul, thread_count
from .windows import WindowBank, context_windows

__all__ = [
    "hz_to_mel",
    "mel_to_hz",
    "mel_frequencies",
    "mel_filterbank",
    "frame",
    "power_spectrogram",
    "mel_spectrogram",
    "power_to_db",
    "log_mel",
    "log_mel_many",
    "log_mel_stream",
    "FFT_DTYPES",
    "LOGS",
    "context_windows",
    "WindowBank",
    "time_pool",
    "POOLINGS",
    "map_on_cores",
    "thread_count",
    "serial_matmul",
    "chroma_filterbank",
    "clip_descriptors",
    "clip_descriptors_many",
    "descriptor_names",
    "BandLevels",
    "LEVEL_QUANTILES",
    "LEVEL_STEP_DB",
]
