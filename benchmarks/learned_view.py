"""Issue 22, item 2: does a small network learned on the machine's own normal recordings earn a place?

One command::

    python benchmarks/learned_view.py            # every set of devsets.py, generator seed 0: 12 minutes on one core
    python benchmarks/learned_view.py --quick    # no 10 s sets

The learned view (:class:`LearnedEmbedding`, here and nowhere in the library): a small 1-D CNN over
windows of 16 log-mel frames (0.5 s at 16 kHz; the front end every MelKNN view shares), trained on
the training clips alone with an auxiliary classification task, as DCASE 2023's best systems were:
which block of the training clips, in their order, a window came from (``n_blocks`` consecutive
blocks: the fit gets no recording ids, as ``audioad fit`` gets none), plus one more class, windows
with a synthetic anomaly pasted in at a random level (outlier exposure: a tone, a click train, a
noise burst or a spectral tilt, in the dB spectrogram). A clip is scored by the mean over its
windows of the anomaly class's log-odds (``--score knn``: the cosine distance of its mean embedding
to the nearest training clip's; lower alone on every set but the fan). Seeds come from
local generators (numpy's and a ``torch.Generator``), the network is built on torch's meta device
and initialised from that generator: nothing is drawn from or written to a global generator.

The view joins ``choices.py``'s candidates (all 14 by default) and is judged as they are: the same
plans of ``devsets.py`` (by recording and by time, both directions), held-out scores from 5 folds
of consecutive training clips (so the network is trained 11 times per section: the fit, 5 held-out
folds and the Ensemble's 5 interleaved folds of ``coverage_``), the same standardisation and
regret. The tables add the default with the learned view as a fourth member, combined by ``max``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from choices import NAMED, chosen_sets, evaluate, set_scores, tables, views
from common import DEFAULT_DATA, RESULTS_PATH, run_lines, write_results
from devsets import DATASETS

from audioad.detectors.log_mel import LogMelDetector

#: Training time of every network fitted in this run: (seconds, fits).
TRAINING = {"seconds": 0.0, "fits": 0}

LEARNED = "learned"
DEFAULT_VIEWS = NAMED["default"][0]
WITH_LEARNED = {
    **NAMED,
    "default + learned": ((*DEFAULT_VIEWS, LEARNED), "max"),
    "default before issue 22 + learned": ((*NAMED["default before issue 22"][0], LEARNED), "max"),
}


def windows_of(spec, width, hop):
    """A clip's (n_windows, n_mels, width) windows; a clip shorter than ``width`` repeated to fill one."""
    if spec.shape[1] < width:
        spec = np.pad(spec, ((0, 0), (0, width - spec.shape[1])), mode="wrap")
    starts = range(0, spec.shape[1] - width + 1, hop)
    return np.stack([spec[:, s : s + width] for s in starts])


def paste_anomaly(window, rng):
    """A copy of a dB window with one synthetic anomaly at a random level (0-20 dB above its band)."""
    n_mels, width = window.shape
    out = window.copy()
    level = rng.uniform(0.0, 20.0)
    kind = rng.integers(4)
    if kind == 3:
        # Spectral tilt: the microphone or a worn part reweighting the bands (dB per whole band range).
        out += rng.choice([-1, 1]) * rng.uniform(3.0, 12.0) * (np.arange(n_mels)[:, None] / n_mels - 0.5)
        return out
    if kind == 0:
        low = rng.integers(n_mels - 1)
        bands = slice(low, low + rng.integers(1, 3))
        length = rng.integers(width // 4, width + 1)
        start = rng.integers(width - length + 1)
        frames = np.arange(start, start + length)
    elif kind == 1:
        bands = slice(rng.integers(n_mels // 2), n_mels)
        frames = np.arange(rng.integers(3), width, rng.integers(2, 6))
    else:
        low = rng.integers(n_mels - 8)
        bands = slice(low, low + rng.integers(8, n_mels - low + 1))
        length = rng.integers(2, width // 2 + 1)
        start = rng.integers(width - length + 1)
        frames = np.arange(start, start + length)
    cells = np.ix_(np.arange(n_mels)[bands], frames)
    added = np.median(window[bands], axis=1, keepdims=True) + level
    out[cells] = 10.0 * np.log10(10.0 ** (out[cells] / 10.0) + 10.0 ** (added / 10.0))
    return out


class LearnedEmbedding(LogMelDetector):
    """A small CNN's view of log-mel windows, trained on the training clips alone.

    The embedding is a small CNN's, trained to tell which consecutive block of the training clips
    a log-mel window came from and whether a synthetic anomaly was pasted into it.

    Parameters
    ----------
    width : int
        Frames a window spans; windows hop by half that.
    n_blocks : int
        Classes of the auxiliary task: consecutive blocks of the training clips (fewer with fewer clips).
    channels, embedding : int
        Width of the two convolutions, and of the embedding.
    steps, batch_size : int
        Adam steps and windows per step (a quarter of them with a synthetic anomaly).
    score : {"knn", "anomaly"}
        A clip's score: the cosine distance of its mean embedding to the nearest training clip's,
        or the mean over its windows of the anomaly class's log-odds.
    random_state : int
        Seed of the window draws, the anomalies and the initial weights.
    """

    def __init__(
        self,
        sr=16000,
        n_fft=1024,
        hop_length=512,
        n_mels=128,
        log="db",
        width=16,
        n_blocks=8,
        channels=64,
        embedding=32,
        steps=300,
        batch_size=64,
        score="knn",
        random_state=0,
        contamination=0.1,
        n_jobs=None,
    ):
        super().__init__(contamination=contamination)
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.log = log
        self.width = width
        self.n_blocks = n_blocks
        self.channels = channels
        self.embedding = embedding
        self.steps = steps
        self.batch_size = batch_size
        self.score = score
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _network(self, torch, n_classes):
        nn = torch.nn
        with torch.device("meta"):
            network = nn.ModuleDict(
                {
                    "convolutions": nn.Sequential(
                        nn.Conv1d(self.n_mels, self.channels, 3, padding=1),
                        nn.ReLU(),
                        nn.Conv1d(self.channels, self.channels, 3, padding=1),
                        nn.ReLU(),
                    ),
                    "embed": nn.Linear(2 * self.channels, self.embedding),
                    "classify": nn.Linear(self.embedding, n_classes),
                }
            )
        network = network.to_empty(device="cpu")
        generator = torch.Generator().manual_seed(self.random_state)
        for name, parameter in network.named_parameters():
            if name.endswith("weight"):
                nn.init.kaiming_uniform_(parameter, a=5**0.5, generator=generator)
            else:
                nn.init.zeros_(parameter)
        return network

    def _embed(self, torch, windows):
        hidden = self.network_["convolutions"](windows)
        return self.network_["embed"](torch.cat([hidden.mean(2), hidden.amax(2)], 1))

    def _standardised(self, torch, windows):
        return torch.from_numpy(((windows - self.band_mean_[:, None]) / self.band_scale_[:, None]).astype(np.float32))

    def fit_features(self, specs):
        import torch

        began = time.perf_counter()
        frames = np.concatenate(specs, axis=1)
        self.band_mean_ = frames.mean(axis=1)
        self.band_scale_ = frames.std(axis=1) + 1e-3
        per_clip = [windows_of(spec, self.width, self.width // 2) for spec in specs]
        n_blocks = max(1, min(self.n_blocks, len(specs) // 2))
        bank = np.concatenate(per_clip)
        blocks = np.concatenate([np.full(len(w), i * n_blocks // len(specs)) for i, w in enumerate(per_clip)])
        rng = np.random.default_rng(self.random_state)
        self.network_ = self._network(torch, n_blocks + 1)
        optimiser = torch.optim.Adam(self.network_.parameters(), lr=1e-3)
        n_pasted = self.batch_size // 4
        for _ in range(self.steps):
            drawn = rng.integers(len(bank), size=self.batch_size)
            batch = bank[drawn]
            labels = blocks[drawn].copy()
            batch[:n_pasted] = [paste_anomaly(window, rng) for window in batch[:n_pasted]]
            labels[:n_pasted] = n_blocks
            logits = self.network_["classify"](torch.relu(self._embed(torch, self._standardised(torch, batch))))
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        self.network_.eval()
        self.reference_ = self._clip_embeddings(torch, per_clip)
        TRAINING["seconds"] += time.perf_counter() - began
        TRAINING["fits"] += 1
        return self

    def _window_outputs(self, torch, per_clip):
        """Per clip, its windows' embeddings and the anomaly class's log-odds."""
        with torch.no_grad():
            embedded = self._embed(torch, self._standardised(torch, np.concatenate(per_clip)))
            logits = torch.log_softmax(self.network_["classify"](torch.relu(embedded)), 1)
            odds = (logits[:, -1] - torch.log1p(-logits[:, -1].exp().clamp(max=1 - 1e-6))).numpy()
        ends = np.cumsum([len(w) for w in per_clip])[:-1]
        return np.split(embedded.numpy(), ends), np.split(odds, ends)

    def _clip_embeddings(self, torch, per_clip):
        means = np.stack([part.mean(axis=0) for part in self._window_outputs(torch, per_clip)[0]])
        return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)

    def score_features(self, specs):
        import torch

        per_clip = [windows_of(spec, self.width, self.width // 2) for spec in specs]
        if self.score == "anomaly":
            return np.array([odds.mean() for odds in self._window_outputs(torch, per_clip)[1]])
        return 1.0 - (self._clip_embeddings(torch, per_clip) @ self.reference_.T).max(axis=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A small network trained on the normal clips, judged by regret.")
    parser.add_argument("--quick", action="store_true", help="no 10 s sets")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, help="development sets (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, help="the synthetic sets' generator seeds (default 0)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the shared recordings")
    parser.add_argument("--top", type=int, default=10, help="configurations listed, best worst-regret first")
    parser.add_argument("--views", nargs="+", metavar="VIEW", help="choices.py's views beside it (default: all 14)")
    parser.add_argument(
        "--score",
        choices=("knn", "anomaly"),
        default="anomaly",
        help="the learned view's clip score: nearest training clip's embedding, or the anomaly class's log-odds",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    import torch

    # One core: the benchmark machine is shared, and the timing is the point.
    torch.set_num_threads(1)
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    command = "python benchmarks/learned_view.py" + "".join(" " + shlex.quote(a) for a in (argv or sys.argv[1:]))
    sets, seeds, notes = chosen_sets(args)
    candidates = views()
    if args.views:
        candidates = {name: candidates[name] for name in dict.fromkeys([*args.views, *DEFAULT_VIEWS])}
    candidates[LEARNED] = LearnedEmbedding(score=args.score, n_jobs=1)
    for detector in candidates.values():
        if "n_jobs" in detector.get_params(deep=False):
            detector.set_params(n_jobs=1)
    names = list(candidates)
    aucs, fit_seconds = {}, {}
    with tempfile.TemporaryDirectory(prefix="audioad-learned-") as tmp:
        for name in sets:
            start, trained = time.perf_counter(), dict(TRAINING)
            runs = [scores[:3] for scores in set_scores(name, seeds, tmp, args.data, candidates)]
            aucs[name] = evaluate(runs, names, WITH_LEARNED)
            fits = TRAINING["fits"] - trained["fits"]
            fit_seconds[name] = (TRAINING["seconds"] - trained["seconds"]) / max(fits, 1)
            print(f"{name}: {time.perf_counter() - start:.0f} s; one network {fit_seconds[name]:.1f} s", flush=True)

    learned_key, default_key = ((LEARNED,), "mean"), NAMED["default"]
    with_key = WITH_LEARNED["default + learned"]
    lines = [
        "### The learned view and the default (AUC, mean over splits)",
        "",
        "| set | learned view | default | default + learned | change | one network's training, s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in sets:
        a = aucs[name]
        lines.append(
            f"| {name} | {a[learned_key]:.3f} | {a[default_key]:.3f} | {a[with_key]:.3f} | "
            f"{a[with_key] - a[default_key]:+.3f} | {fit_seconds[name]:.1f} |"
        )
    lines += [""] + tables(aucs, sets, names, args.top, WITH_LEARNED)
    body = "\n".join(lines)
    print("\n" + body, flush=True)
    section = [
        "## A small network learned on the normal clips (`benchmarks/learned_view.py`)",
        "",
        *run_lines(command, began, load),
        f"- sets: {', '.join(sets)}; synthetic generator seeds {', '.join(map(str, seeds))}; views: "
        f"{', '.join(names)}; configurations: up to 3 views by mean or max, and the named ones",
        f"- the learned view: `{' '.join(repr(candidates[LEARNED]).split())}`; {TRAINING['fits']} networks "
        f"trained in {TRAINING['seconds']:.0f} s on one thread, 11 per section: the fit, 5 held-out folds and "
        "the Ensemble's 5 interleaved folds of `coverage_`",
        "- protocol: choices.py's (devsets.py's splits by recording and by time, both directions; held-out "
        "scores from 5 folds of consecutive training clips, no `groups`)",
        *[f"- note: {note}" for note in notes],
        "",
        body,
    ]
    if not args.no_write:
        write_results("learned_view.py", "\n".join(section))
        print(f"wrote the learned_view.py section of {RESULTS_PATH}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
