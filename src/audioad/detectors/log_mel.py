"""LogMelDetector: the base of every detector whose front end is the log-mel spectrogram."""

from __future__ import annotations

from .base import ClipDetector
from .frontend import LogMelFrontend
from .schema import Int, Str

__all__ = ["LogMelDetector"]


class LogMelDetector(ClipDetector):
    """A detector whose front end is the log-mel spectrogram of each clip.

    Subclasses set ``sr``, ``n_fft``, ``hop_length``, ``n_mels`` and ``log``
    (librosa's names; see :func:`audioad.features.log_mel`) and ``n_jobs``
    (threads); this base makes the :class:`~audioad.detectors.frontend.LogMelFrontend`
    of them and checks them.
    """

    # Every setting that sizes a spectrogram is bounded: a model file cannot ask for 10**9 mel bands.
    params_schema = {
        **ClipDetector.params_schema,
        "sr": Int(1, 768_000),
        "n_fft": Int(1, 2**16),
        "hop_length": Int(1, 2**16),
        "n_mels": Int(1, 1024, dim="n_mels"),
        "log": Str(),
    }

    @property
    def frontend(self):
        """The :class:`~audioad.detectors.frontend.LogMelFrontend` of this detector's settings."""
        return LogMelFrontend(self.sr, self.n_fft, self.hop_length, self.n_mels, self.log, self.n_jobs)

    def check_parameters(self):
        super().check_parameters()
        self.frontend.check()

    def check_feature_count(self, per_band):
        """Raise ValueError unless ``n_features_`` is ``per_band`` values of each mel band.

        What a model file's ``restore`` checks: the stored arrays must fit the log-mel
        front end its parameters make, or every clip would fail to score.
        """
        if self.n_features_ != self.n_mels * per_band:
            raise ValueError(
                f"n_features_ is {self.n_features_}, but {per_band} values of {self.n_mels} mel bands "
                f"are {self.n_mels * per_band}"
            )
