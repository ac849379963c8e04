"""AudioAE: the log-mel context-window autoencoder of the DCASE baselines.

Each clip becomes a log-mel spectrogram; every ``context`` consecutive frames
form one window; a dense autoencoder learns to reconstruct the windows of
normal clips; a window's score is how badly it is reconstructed and a clip's
score is the mean over its windows. Parameters, defaults and meaning are
PyOD 3.6.7's ``pyod.models.audio_ae.AudioAE``; training gathers minibatches
straight from a :class:`~audioad.features.WindowBank` instead of a per-window
``Dataset``, so it is many times faster and its memory is that of the
spectrograms alone.
"""

from __future__ import annotations

import numpy as np
from sklearn.covariance import LedoitWolf

from ..features import WindowBank, serial_matmul
from .base import ClipDetector
from .frontend import check_positive_integers
from .log_mel import LogMelDetector
from .schema import Array, Bool, Float, Int, ListOf, MapOf, NoneOr, Str

__all__ = ["AudioAE", "WINDOW_SCORES"]

#: How a window's reconstruction error becomes its score.
WINDOW_SCORES = ("distance", "mse", "mahalanobis")

# Windows scored per forward pass once training is done.
_SCORING_BATCH = 1024


def import_torch():
    """Import torch, or say how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "this detector needs torch; install it with `pip install audioad[deep]` "
            "(or `pip install torch` for your platform)"
        ) from exc
    return torch


def dense_autoencoder(torch, n_features, hidden, batch_norm, dropout_rate, random_state=None):
    """Encoder ``n_features -> hidden...``, mirrored decoder, linear output layer.

    The dropout layers share one numpy generator seeded from ``random_state``: a child of its
    seed sequence, so their masks do not repeat the minibatch order drawn from ``default_rng(random_state)``.
    """
    from .layers import SeededDropout

    nn = torch.nn
    dropout_rng = np.random.default_rng(np.random.SeedSequence(random_state).spawn(1)[0])

    def block(n_in, n_out):
        layers = [nn.Linear(n_in, n_out)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.ReLU())
        if dropout_rate > 0:
            layers.append(SeededDropout(dropout_rate, rng=dropout_rng))
        return layers

    sizes = [n_features, *hidden, *reversed(hidden[:-1])]
    layers = [layer for n_in, n_out in zip(sizes[:-1], sizes[1:]) for layer in block(n_in, n_out)]
    for layer in layers:
        if isinstance(layer, nn.Linear):
            # Kaiming-uniform for hidden layers as PyOD initialises its LinearBlocks; its output
            # layer keeps torch's smaller default, which starts training from a lower loss.
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="leaky_relu")
    return nn.Sequential(*layers, nn.Linear(sizes[-1], n_features))


def contracting_sizes(hidden, n_inputs):
    """The hidden sizes smaller than the input, as PyOD keeps them; none left: half the input."""
    return [h for h in hidden if h < n_inputs] or [max(n_inputs // 2, 2)]


def _adam(torch, model, device, **options):
    """Adam over the model's parameters, fused into one kernel a step where torch has that for the device."""
    parameters = list(model.parameters())
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.Adam(parameters, fused=True, **options)
        except RuntimeError:
            # torch before 2.4 fuses Adam on CUDA only.
            pass
    return torch.optim.Adam(parameters, **options)


class AudioAE(LogMelDetector):
    """Log-mel reconstruction autoencoder for anomalous sound detection.

    A drop-in for PyOD's ``AudioAE``: same parameters, defaults, attributes and
    scores' meaning, on lists of clips in every form
    :func:`~audioad.audio.load_audio` accepts. Needs torch
    (``pip install audioad[deep]``); runs on CUDA when torch sees one.

    Parameters
    ----------
    n_mels : int, default 64
        Mel bands of the spectrogram.
    context : int, default 5
        Consecutive frames in one window; a window has ``n_mels * context`` values.
    hop_length : int, default 512
        STFT hop in samples.
    sr : int, default 22050
        Rate clips are loaded at; other rates are resampled.
    contamination : float, default 0.1
        Expected share of anomalous training clips; sets ``threshold_``.
    epoch_num : int, default 40
        Training epochs.
    batch_size : int, default 1024
        Windows per minibatch.
    lr : float, default 1e-3
        Adam's learning rate.
    hidden_neuron_list : list of int or None
        Encoder sizes; the decoder mirrors them. ``None`` is ``[128, 32, 8]``.
        Sizes not smaller than the window are dropped, as PyOD drops them.
    device : str or None
        Torch device; ``None`` takes CUDA when torch sees one, else the CPU.
    random_state : int, default 42
        Seed of the weights, the minibatch order and the dropout masks.
    verbose : int, default 0
        1 prints the loss of each epoch.
    n_fft : int, default 2048
        FFT size (librosa's default, which PyOD's AudioAE uses).
    log : {"db", "dcase"}, default "db"
        Log convention of :func:`~audioad.features.log_mel`.
    standardize : bool, default True
        Scale each window value to zero mean, unit variance over the training
        windows before the network sees it (PyOD's preprocessing).
    batch_norm : bool, default True
        BatchNorm after every hidden layer.
    dropout_rate : float, default 0.2
        Dropout after every hidden layer.
    weight_decay : float, default 1e-5
        Adam's L2 penalty.
    score : {"distance", "mse", "mahalanobis"}, default "distance"
        Window score: Euclidean norm of the reconstruction error (PyOD),
        its mean square (DCASE 2020), or its Mahalanobis distance under the
        training windows' error covariance, Ledoit-Wolf shrunk (DCASE 2023).
    threshold_rule : {"contamination", "gamma"}, default "contamination"
        How ``threshold_`` is set from the training scores (see
        :mod:`audioad.thresholds`).
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
        The fitted window autoencoder (in eval mode).
    window_mean_, window_scale_ : numpy.ndarray of shape (n_mels * context,)
        Standardisation of the windows (0 and 1 when ``standardize=False``).
    residual_mean_, residual_precision_ : numpy.ndarray or None
        Mean and inverse covariance of training reconstruction errors
        (``score="mahalanobis"`` only).
    n_features_ : int
        Window length, ``n_mels * context``.
    loss_history_ : list of float
        Mean training loss of each epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import AudioAE
    >>> clips = [np.random.RandomState(s).randn(22050) for s in range(20)]
    >>> clf = AudioAE(epoch_num=5).fit(clips)
    >>> clf.decision_function(clips).shape
    (20,)
    """

    params_schema = {
        **LogMelDetector.params_schema,
        "context": Int(1, 64),
        "batch_norm": Bool(),
        "batch_size": Int(1, 2**20),
        "device": NoneOr(Str()),
        "dropout_rate": Float(0.0, 1.0),
        "epoch_num": Int(0, 1_000_000),
        "hidden_neuron_list": NoneOr(ListOf(Int(1, 4096), 1, 32)),
        "lr": Float(0.0),
        "random_state": NoneOr(Int(0, 2**32 - 1)),
        "score": Str(),
        "standardize": Bool(),
        "verbose": Int(0, 100),
        "weight_decay": Float(0.0),
    }
    state_schema = {
        **LogMelDetector.state_schema,
        "n_features_": Int(1, 2**16, dim="n_features"),
        "window_mean_": Array("f", ("n_features",)),
        "window_scale_": Array("f", ("n_features",)),
        "loss_history_": ListOf(Float(finite=False), max_len=1_000_000),
        "residual_mean_": NoneOr(Array("f", (None,))),
        "residual_precision_": NoneOr(Array("f", (None, None))),
        # The network's weights by layer, checked against the network the parameters make (restore).
        "ae_weights": MapOf(Array("fiu", None), max_len=1000),
    }

    def __init__(
        self,
        n_mels=64,
        context=5,
        hop_length=512,
        sr=22050,
        contamination=0.1,
        epoch_num=40,
        batch_size=1024,
        lr=1e-3,
        hidden_neuron_list=None,
        device=None,
        random_state=42,
        verbose=0,
        n_fft=2048,
        log="db",
        standardize=True,
        batch_norm=True,
        dropout_rate=0.2,
        weight_decay=1e-5,
        score="distance",
        threshold_rule="contamination",
        n_jobs=None,
    ):
        super().__init__(contamination=contamination)
        self.n_mels = n_mels
        self.context = context
        self.hop_length = hop_length
        self.sr = sr
        self.epoch_num = epoch_num
        self.batch_size = batch_size
        self.lr = lr
        self.hidden_neuron_list = hidden_neuron_list
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.n_fft = n_fft
        self.log = log
        self.standardize = standardize
        self.batch_norm = batch_norm
        self.dropout_rate = dropout_rate
        self.weight_decay = weight_decay
        self.score = score
        self.threshold_rule = threshold_rule
        self.n_jobs = n_jobs

    @classmethod
    def dcase2020(cls, **overrides):
        """The DCASE 2020 task 2 baseline autoencoder.

        16 kHz, n_fft 1024, hop 512, 128 mels x 5 frames = 640 values a window,
        640-128-128-128-128-8 and mirrored with BatchNorm and ReLU, no dropout,
        ``20 log10`` mel energies, MSE, Adam 1e-3, batch 512, 100 epochs.

        Parameters
        ----------
        **overrides
            Any parameter of :class:`AudioAE`.

        Examples
        --------
        >>> AudioAE.dcase2020(epoch_num=10).n_mels
        128
        """
        settings = dict(
            sr=16000,
            n_fft=1024,
            hop_length=512,
            n_mels=128,
            context=5,
            hidden_neuron_list=[128, 128, 128, 128, 8],
            batch_norm=True,
            dropout_rate=0.0,
            weight_decay=0.0,
            log="dcase",
            standardize=False,
            score="mse",
            lr=1e-3,
            batch_size=512,
            epoch_num=100,
        )
        return cls(**{**settings, **overrides})

    @classmethod
    def dcase2023(cls, **overrides):
        """The DCASE 2023 task 2 baseline: the 2020 network scored by Mahalanobis distance.

        Batch 256, and window scores are the Mahalanobis distance of the
        reconstruction error under the training errors' covariance.

        Examples
        --------
        >>> AudioAE.dcase2023().score
        'mahalanobis'
        """
        return cls.dcase2020(**{"batch_size": 256, "score": "mahalanobis", **overrides})

    def check_parameters(self):
        super().check_parameters()
        # Before any clip is read: without torch, fit would read every clip and then fail.
        import_torch()
        if self.score not in WINDOW_SCORES:
            raise ValueError(f"score must be one of {WINDOW_SCORES}, got {self.score!r}")
        check_positive_integers(self, ("context", "epoch_num", "batch_size"))

    def _device(self, torch):
        if self.device is None:
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    # -- training ------------------------------------------------------------

    scores_windows = True

    def fit_features(self, specs):
        """Train the network on the training clips' standardised windows."""
        torch = import_torch()
        device = self._device(torch)
        bank = WindowBank(specs, self.context)
        if len(bank) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 training windows, got {len(bank)} from {len(specs)} clip(s); "
                "give it more or longer clips"
            )
        self.n_features_ = bank.n_features
        self.window_mean_, self.window_scale_ = self._window_standardisation(bank)

        # torch's generators are seeded inside a fork of them, so the caller's are left as they were.
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(self.random_state)
            self._train(torch, device, bank)
        self.residual_mean_ = self.residual_precision_ = None
        if self.score == "mahalanobis":
            residuals = np.concatenate([r for _, r in self._residuals(bank)])
            covariance = LedoitWolf().fit(residuals)
            self.residual_mean_ = covariance.location_.astype(np.float32)
            self.residual_precision_ = covariance.precision_.astype(np.float32)
        return self

    def _train(self, torch, device, bank):
        """Train a new network on the bank's windows; it becomes ``ae_``."""
        model = self._network(torch).to(device).train()
        optimiser = _adam(torch, model, device, lr=self.lr, weight_decay=self.weight_decay)
        mean = torch.as_tensor(self.window_mean_, device=device)
        scale = torch.as_tensor(self.window_scale_, device=device)
        rng = np.random.default_rng(self.random_state)
        # PyOD drops the last incomplete minibatch; a batch larger than the data shrinks to it.
        batch = max(2, min(self.batch_size, len(bank)))
        n_batches = len(bank) // batch
        self.loss_history_ = []
        for epoch in range(self.epoch_num):
            order = rng.permutation(len(bank))[: n_batches * batch].reshape(n_batches, batch)
            total = torch.zeros((), device=device)
            for index in order:
                # take() returns a new array, so standardising in place spares two temporaries a step.
                x = torch.from_numpy(bank.take(index)).to(device, non_blocking=True).sub_(mean).div_(scale)
                inputs, target = self._split_window(x)
                loss = torch.nn.functional.mse_loss(model(inputs), target)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += loss.detach()
            # One host sync per epoch, not per step.
            self.loss_history_.append(float(total) / max(n_batches, 1))
            if self.verbose:
                print(f"epoch {epoch + 1}/{self.epoch_num}: loss {self.loss_history_[-1]:.4f}")
        self.ae_ = model.eval()

    def training_scores(self, specs):
        """The training clips' scores by the trained network, in-sample, as PyOD's AudioAE gives them."""
        return self.score_features(specs)

    def _split_window(self, x):
        """(network input, reconstruction target) of standardised windows: the window itself, twice."""
        return x, x

    def _network(self, torch):
        """The untrained autoencoder for windows of ``n_features_`` values."""
        hidden = contracting_sizes(self.hidden_neuron_list or [128, 32, 8], self.n_features_)
        return dense_autoencoder(
            torch, self.n_features_, hidden, self.batch_norm, self.dropout_rate, random_state=self.random_state
        )

    not_persisted = (*ClipDetector.not_persisted, "ae_")

    def fitted_state(self):
        state = super().fitted_state()
        state["ae_weights"] = {k: v.detach().cpu().numpy() for k, v in self.ae_.state_dict().items()}
        return state

    def restore(self):
        self.check_feature_count(self.context)
        torch = import_torch()
        from .layers import network_from_weights

        model = network_from_weights(torch, lambda: self._network(torch), self.__dict__.pop("ae_weights"))
        self.ae_ = model.to(self._device(torch)).eval()

    def _window_standardisation(self, bank):
        if not self.standardize:
            return np.zeros(bank.n_features, np.float32), np.ones(bank.n_features, np.float32)
        total = np.zeros(bank.n_features)
        total_sq = np.zeros(bank.n_features)
        for _, windows in bank.batches(_SCORING_BATCH):
            total += windows.sum(axis=0, dtype=np.float64)
            total_sq += np.square(windows, dtype=np.float64).sum(axis=0)
        mean = total / len(bank)
        std = np.sqrt(np.maximum(total_sq / len(bank) - mean**2, 0.0))
        # PyOD's TorchDataset divides by std + 1e-8.
        return mean.astype(np.float32), (std + 1e-8).astype(np.float32)

    # -- scoring -------------------------------------------------------------

    def _residuals(self, bank):
        """Yield (index, reconstruction error) per block of windows, in standardised units.

        Blocks hold one clip's windows, cut from that clip's first window, so a
        clip's errors never depend on which other clips are scored with it.
        """
        torch = import_torch()
        device = next(self.ae_.parameters()).device
        mean = torch.as_tensor(self.window_mean_, device=device)
        scale = torch.as_tensor(self.window_scale_, device=device)
        with torch.inference_mode():
            for index, windows in bank.batches(_SCORING_BATCH, per_clip=True):
                inputs, target = self._split_window((torch.from_numpy(windows).to(device) - mean) / scale)
                yield index, (target - self.ae_(inputs)).cpu().numpy()

    def _bank_scores(self, bank):
        scores = np.empty(len(bank), dtype=np.float64)
        for index, residual in self._residuals(bank):
            if self.score == "distance":
                scores[index] = np.sqrt(np.einsum("ij,ij->i", residual, residual))
            elif self.score == "mse":
                scores[index] = np.einsum("ij,ij->i", residual, residual) / residual.shape[1]
            else:
                centred = residual - self.residual_mean_
                whitened = serial_matmul(centred, self.residual_precision_)
                scores[index] = np.sqrt(np.einsum("ij,ij->i", whitened, centred))
        return scores

    @property
    def window_hop_seconds(self):
        return self.frontend.hop_seconds

    def score_features(self, specs):
        return self.clip_scores(self.window_scores(specs))

    def window_scores(self, specs):
        bank = WindowBank(specs, self.context)
        return bank.split(self._bank_scores(bank))
