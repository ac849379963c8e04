"""Detectors from the command line: made with ``--set`` settings, or loaded from a model file."""

from __future__ import annotations

import difflib
import json

import click

from ..detectors.registry import make_detector
from .errors import Refused

__all__ = ["build_detector", "parse_settings", "load_model", "with_jobs", "band"]


def parse_settings(settings):
    """``key=value`` pairs; values are read as JSON where they parse (10, 0.5, true, [1, 2])."""
    params = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--set takes key=value, got {setting!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def build_detector(name, settings):
    """The detector ``name`` with the ``--set`` parameters, checked before any clip is read.

    A key is a parameter as the detector's ``get_params(deep=True)`` names it: an ensemble's
    members' as ``member__param`` (``mel_knn_1__n_neighbors``, scikit-learn's nested names). On an
    ensemble (the default) a member's parameter without the member's name, ``--set n_mels=64``,
    sets it on every member that has it: the help's own example, and what one means by it, since
    the members share one front end (see :class:`~audioad.detectors.ensemble.Ensemble`). Settings
    apply in the order given, so ``--set n_mels=64 --set window_knn__n_mels=32`` ends with 32 for
    that member. A key the detector does not have is a usage error that lists the keys it has; a
    value it refuses is a usage error naming the parameter, from the ``check_parameters`` that
    ``fit`` runs first. Nothing is caught around making the detector: an error there is audioad's,
    not the user's, and keeps its traceback.
    """
    params = parse_settings(settings)
    detector = make_detector(name)
    unknown = []
    for key, value in params.items():
        try:
            detector.set_params(**{key: value})
        # What set_params raises for a name the detector does not have (scikit-learn's contract).
        except ValueError:
            unknown.append(key)
    if unknown:
        settable = _settable(detector)
        # A member's parameter is also set by its name alone: offer both spellings.
        names = sorted({part for key in settable if " " not in key for part in (key, key.rpartition("__")[2])})
        close = [difflib.get_close_matches(key, names, n=1) for key in unknown]
        hint = "; ".join(f"did you mean {match[0]}?" for match in close if match)
        raise click.UsageError(
            f"cannot make detector {name!r}: it has no parameter {', '.join(map(repr, unknown))}"
            + (f"; {hint}" if hint else "")
            + f"\nits parameters are: {', '.join(settable)}"
        )
    try:
        detector.check_parameters()
    # A value of the wrong kind or out of range; check_parameters names the parameter.
    except (ValueError, TypeError) as exc:
        raise click.UsageError(f"cannot make detector {name!r}: {exc}") from exc
    # A dependency the detector needs is missing (torch): one line, before any clip is read.
    except ImportError as exc:
        raise Refused(f"cannot make detector {name!r}: {exc}") from exc
    return detector


def _settable(detector):
    """The keys ``--set`` takes: the detector's deep parameters less those holding detectors."""
    from ..detectors.ensemble import Ensemble

    def holds_estimator(value):
        items = value if isinstance(value, (list, tuple)) else [value]
        return any(hasattr(item, "get_params") for item in items)

    keys = sorted(k for k, v in detector.get_params(deep=True).items() if not holds_estimator(v))
    if isinstance(detector, Ensemble):
        keys.append("or a member's parameter without the member's name, set on every member that has it")
    return keys


def load_model(path):
    """The fitted detector in the model file ``path``; a usage error naming the file where it cannot be read."""
    from ..persistence import ModelFileError, load

    try:
        return load(path)
    except ModelFileError as exc:
        raise click.UsageError(str(exc)) from exc


def with_jobs(detector, n_jobs):
    """``detector`` with ``--n-jobs`` set on it and on every member that takes it."""
    if n_jobs is not None:
        for name in detector.get_params():
            if name == "n_jobs" or name.endswith("__n_jobs"):
                detector.set_params(**{name: n_jobs})
    return detector


def band(detector):
    """``the model hears 0-8 kHz of 48 kHz recordings; ...``, with the option that hears the rest."""
    from ..domain import band_heard

    rates = (getattr(detector, "training_audio_", None) or {}).get("rates", [])
    heard = f"the model {band_heard(detector.sr, rates)}"
    return heard + (f" (--set sr={max(rates)} hears it all)" if "left out" in heard else "")
