"""IDNN: the interpolation network of Suefusa et al. (ICASSP 2020).

An autoencoder must reconstruct every frame of a window, the edge frames
included; for a non-stationary machine (a valve opening, a slider moving) the
edges are hard to predict even on normal clips, and their error swamps that
of an anomaly. IDNN removes the middle frame of each window and predicts it
from the frames on both sides: an interpolation, which normal sound makes
easy and an unexpected event makes hard. A window's score is the error of
the predicted middle frame; a clip's score is the mean over its windows.

Everything but the network and its target is
:class:`~audioad.detectors.autoencoder.AudioAE`'s: features, window
standardisation, scoring of the error by distance, mean square or
Mahalanobis distance, frame scores.
"""

from __future__ import annotations

import numpy as np

from .autoencoder import AudioAE, contracting_sizes, dense_autoencoder

__all__ = ["IDNN"]


class IDNN(AudioAE):
    """Interpolation DNN: predict the middle log-mel frame of a window from the others.

    Parameters
    ----------
    n_mels : int, default 128
        Mel bands of the spectrogram.
    context : int, default 5
        Frames in one window, odd: the middle one is predicted from the
        ``context - 1`` around it.
    hop_length : int, default 512
        STFT hop in samples.
    sr : int, default 16000
        Rate clips are loaded at; other rates are resampled.
    contamination : float, default 0.1
        Expected share of anomalous training clips; sets ``threshold_``.
    epoch_num : int, default 100
        Training epochs.
    batch_size : int, default 512
        Windows per minibatch.
    lr : float, default 1e-3
        Adam's learning rate.
    hidden_neuron_list : list of int or None
        Encoder sizes; the decoder mirrors them up to the ``n_mels`` outputs.
        ``None`` is the paper's ``[64, 32, 16]``.
    device : str or None
        Torch device; ``None`` takes CUDA when torch sees one, else the CPU.
    random_state : int, default 42
        Seed of the weights, the minibatch order and the dropout masks.
    verbose : int, default 0
        1 prints the loss of each epoch.
    n_fft : int, default 1024
        FFT size.
    log : {"db", "dcase"}, default "db"
        Log convention of :func:`~audioad.features.log_mel`.
    standardize : bool, default True
        Scale each window value to zero mean, unit variance over the training windows.
    batch_norm : bool, default False
        BatchNorm after every hidden layer (the paper has none).
    dropout_rate : float, default 0.0
        Dropout after every hidden layer.
    weight_decay : float, default 0.0
        Adam's L2 penalty.
    score : {"distance", "mse", "mahalanobis"}, default "mse"
        Window score from the middle frame's prediction error: its Euclidean
        norm, its mean square (the paper's), or its Mahalanobis distance under
        the training errors' covariance, Ledoit-Wolf shrunk.
    threshold_rule : {"contamination", "gamma"}, default "contamination"
        How ``threshold_`` is set from the training scores.
    n_jobs : int or None
        Threads for decoding clips; ``None`` uses every core.

    Attributes
    ----------
    decision_scores_ : numpy.ndarray of shape (n_clips,)
        Scores of the training clips.
    threshold_ : float
        Scores above it are labelled anomalous.
    labels_ : numpy.ndarray of shape (n_clips,)
        Labels of the training clips (0 normal, 1 anomalous).
    ae_ : torch.nn.Sequential
        The fitted interpolation network (in eval mode), ``(context - 1) * n_mels``
        inputs to ``n_mels`` outputs.
    window_mean_, window_scale_ : numpy.ndarray of shape (n_mels * context,)
        Standardisation of the windows (0 and 1 when ``standardize=False``).
    residual_mean_, residual_precision_ : numpy.ndarray or None
        Mean and inverse covariance of the training prediction errors
        (``score="mahalanobis"`` only).
    n_features_ : int
        Window length, ``n_mels * context``.
    loss_history_ : list of float
        Mean training loss of each epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad.detectors.idnn import IDNN
    >>> clips = [np.random.RandomState(s).randn(16000) for s in range(10)]
    >>> clf = IDNN(epoch_num=2).fit(clips)
    >>> clf.decision_function(clips[:3]).shape
    (3,)
    """

    def __init__(
        self,
        n_mels=128,
        context=5,
        hop_length=512,
        sr=16000,
        contamination=0.1,
        epoch_num=100,
        batch_size=512,
        lr=1e-3,
        hidden_neuron_list=None,
        device=None,
        random_state=42,
        verbose=0,
        n_fft=1024,
        log="db",
        standardize=True,
        batch_norm=False,
        dropout_rate=0.0,
        weight_decay=0.0,
        score="mse",
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(
            n_mels=n_mels,
            context=context,
            hop_length=hop_length,
            sr=sr,
            contamination=contamination,
            epoch_num=epoch_num,
            batch_size=batch_size,
            lr=lr,
            hidden_neuron_list=hidden_neuron_list,
            device=device,
            random_state=random_state,
            verbose=verbose,
            n_fft=n_fft,
            log=log,
            standardize=standardize,
            batch_norm=batch_norm,
            dropout_rate=dropout_rate,
            weight_decay=weight_decay,
            score=score,
            threshold_rule=threshold_rule,
            n_jobs=n_jobs,
        )

    @classmethod
    def dcase2020(cls, **overrides):
        """Not offered: the DCASE 2020 baseline is an :class:`AudioAE`."""
        raise TypeError("IDNN has no DCASE baseline preset; use AudioAE.dcase2020() for the baseline")

    dcase2023 = dcase2020

    def check_parameters(self):
        super().check_parameters()
        if self.context < 3 or self.context % 2 == 0:
            raise ValueError(f"IDNN needs an odd context of at least 3 frames, got {self.context!r}")

    # -- the interpolation task ----------------------------------------------

    def _split_window(self, x):
        """(frames around the middle one, the middle frame) of standardised windows."""
        middle = self.context // 2
        before, after = middle * self.n_mels, (middle + 1) * self.n_mels
        return x[:, np.r_[0:before, after : x.shape[1]]], x[:, before:after]

    def _network(self, torch):
        """The untrained network: the ``context - 1`` outer frames in, the middle frame out."""
        n_inputs = (self.context - 1) * self.n_mels
        hidden = contracting_sizes(self.hidden_neuron_list or [64, 32, 16], n_inputs)
        model = dense_autoencoder(
            torch, n_inputs, hidden, self.batch_norm, self.dropout_rate, random_state=self.random_state
        )
        # The mirrored decoder ends in the input size; the interpolation ends in one frame.
        model[-1] = torch.nn.Linear(model[-1].in_features, self.n_mels)
        return model
