"""Torch layers of the detectors' networks.

This module imports torch at its top: import it only where torch is needed
(:func:`~audioad.detectors.autoencoder.import_torch` has checked it is there).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["SeededDropout", "network_from_weights"]


class SeededDropout(torch.nn.Module):
    """Dropout whose CPU masks come from its own seeded numpy generator.

    Inverted dropout, as :class:`torch.nn.Dropout`: in training mode each
    value is kept with probability ``1 - p`` and scaled by ``1 / (1 - p)``,
    the others are zeroed; in eval mode it is the identity. On the CPU the
    mask is drawn from ``rng`` (uniform float32 values compared with ``p``,
    so a value is dropped with probability ``p`` to within ``2**-24``),
    which is several times faster than torch's CPU dropout and makes the
    masks a function of the seed alone. On any other device the mask is
    torch's own, drawn where the tensor lives, so no mask crosses the bus.

    The layer holds no parameters or buffers: its ``state_dict`` is empty,
    so a network saved with :class:`torch.nn.Dropout` in its place loads.

    Parameters
    ----------
    p : float, default 0.5
        Probability that a value is dropped, in ``[0, 1]``.
    rng : numpy.random.Generator, int, numpy.random.SeedSequence or None
        Source of the CPU masks, as :func:`numpy.random.default_rng` takes it;
        a Generator is used as is, so layers given the same one share its stream.

    Attributes
    ----------
    p : float
        The drop probability.
    rng : numpy.random.Generator
        The generator of the CPU masks.

    Examples
    --------
    >>> import torch
    >>> from audioad.detectors.layers import SeededDropout
    >>> layer = SeededDropout(0.25, rng=0)
    >>> sorted(set(layer(torch.ones(4, 1000)).unique().tolist()))
    [0.0, 1.3333333730697632]
    >>> torch.equal(layer.eval()(torch.ones(3)), torch.ones(3))
    True
    >>> layer.state_dict()
    OrderedDict()
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be between 0 and 1, got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu":
            return torch.nn.functional.dropout(x, self.p, training=True)
        scale = 1.0 / (1.0 - self.p) if self.p < 1.0 else 0.0
        # Uniform [0, 1) values become the mask in place: 1.0 where kept, then times the scale.
        mask = torch.from_numpy(self.rng.random(tuple(x.shape), dtype=np.float32)).ge_(self.p).mul_(scale)
        return x * mask.to(x.dtype)


def network_from_weights(torch, build, weights):
    """The network ``build()`` makes, holding ``weights`` (name -> array) as its parameters and buffers.

    The network is built on torch's ``meta`` device, so building it allocates no
    weights and draws nothing from torch's global generator; every array is
    checked against the layer's name, shape and dtype before it is used, so
    weights from a model file can neither resize a layer nor be half-loaded.

    Examples
    --------
    >>> import numpy as np, torch
    >>> weights = {"weight": np.ones((2, 3), np.float32), "bias": np.zeros(2, np.float32)}
    >>> network_from_weights(torch, lambda: torch.nn.Linear(3, 2), weights)(torch.ones(1, 3))
    tensor([[3., 3.]], grad_fn=<AddmmBackward0>)
    >>> network_from_weights(torch, lambda: torch.nn.Linear(4, 2), weights)
    Traceback (most recent call last):
    ...
    ValueError: weight: shape (2, 3) and dtype float32, the network's layer takes (2, 4) and float32
    """
    with torch.device("meta"):
        network = build()
    expected = network.state_dict()
    if set(expected) != set(weights):
        missing, unknown = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise ValueError(
            f"the network's weights do not match its layers (missing {missing[:3]}, unknown {unknown[:3]})"
        )
    tensors = {}
    for name, layer in expected.items():
        # np.require, not np.ascontiguousarray: that makes a 0-d array (a batch count) 1-d.
        tensor = torch.from_numpy(np.require(weights[name], requirements="C"))
        if tensor.shape != layer.shape or tensor.dtype != layer.dtype:
            raise ValueError(
                f"{name}: shape {tuple(tensor.shape)} and dtype {str(tensor.dtype)[6:]}, "
                f"the network's layer takes {tuple(layer.shape)} and {str(layer.dtype)[6:]}"
            )
        tensors[name] = tensor
    network.load_state_dict(tensors, assign=True)
    return network
