"""A machine that hums at 150 Hz, its fault (a 2.3 kHz square wave over the hum), and a model of its hum: what the
watch's tests record, score and alert on."""

import numpy as np

from audioad import MelKNN, save

SR = 16000


def hum(seconds, seed=0):
    """``seconds`` of the hum at :data:`SR`, with a little noise drawn from ``seed``."""
    t = np.arange(int(seconds * SR)) / SR
    noise = 0.02 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * np.sin(2 * np.pi * 150 * t) + noise).astype(np.float32)


def faulty(seconds, seed=0):
    """The hum with the fault over it all along."""
    y = hum(seconds, seed)
    return y + (0.3 * np.sign(np.sin(2 * np.pi * 2300 * np.arange(len(y)) / SR))).astype(np.float32)


def save_hum_model(path):
    """A MelKNN fitted on 40 s of the hum in 2 s segments, saved at ``path``; ``path``."""
    save(MelKNN().fit([np.concatenate([hum(10, seed) for seed in range(4)])], segment="2s"), path)
    return path
