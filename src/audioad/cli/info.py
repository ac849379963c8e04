"""``audioad info``: what a model file holds, and the detectors by name."""

from __future__ import annotations

import json

import click

from ..detectors.registry import DETECTORS
from .errors import usage_error
from .group import main


@main.command()
@click.argument("model", type=click.Path(dir_okay=False), required=False)
@click.option("--detectors", "list_detectors", is_flag=True, help="List the detectors by name.")
def info(model, list_detectors):
    """Describe a model file: detector, parameters, training summary, threshold, versions.

    An ensemble's members are listed each with its parameters, under the name that
    --set takes (--set mel_knn_1__n_neighbors=3).

    \b
    Example:
      audioad info fan.audioad
    """
    if list_detectors or model is None:
        width = max(map(len, DETECTORS))
        for name, (_, about) in DETECTORS.items():
            click.echo(f"{name:<{width}}  {about}")
        return
    from ..detectors.registry import member_names
    from ..outputs import one_line
    from ..persistence import ModelFileError, read_header

    try:
        header = read_header(model)
    except ModelFileError as exc:
        raise usage_error(exc) from exc

    def echo(line):
        # Everything shown comes from the file: its control characters are escaped, never sent to the terminal.
        click.echo(one_line(line))

    training = header["training"]
    echo(f"model file      {model}")
    echo(f"detector        {header['detector']}")
    echo(
        f"written by      audioad {header['audioad_version']} (format {header['format_version']}), {header['created']}"
    )
    echo(f"training clips  {training['n_clips']}, scores {training['score_mean']:.4g} ± {training['score_std']:.4g}")
    echo(f"threshold       {training['threshold']:.6g}")
    if "band" in training:
        echo(f"band            {training['band']}")
    echo("parameters")
    members, nested = {}, {}
    for key, value in sorted(header["params"].items()):
        # read_header gives a stored detector or estimator as a dict with its class and parameters.
        if isinstance(value, list) and value and all(_is_stored_class(v) for v in value):
            members[key] = value
        elif _is_stored_class(value):
            nested[key] = value
        else:
            echo(f"  {key} = {json.dumps(value)}")

    def show(name, detector, indent):
        echo(f"{indent}{name}  {detector['class']}")
        for param, value in sorted(detector.items()):
            if param == "class":
                continue
            if _is_stored_class(value):
                show(param, value, indent + "  ")
            else:
                echo(f"{indent}  {param} = {json.dumps(value)}")

    for key, detectors in members.items():
        names = member_names([d["class"] for d in detectors])
        echo(f"{key} (--set NAME__KEY=VALUE sets one member's)")
        for member_name, member in zip(names, detectors):
            show(member_name, member, "  ")
    for key, detector in nested.items():
        show(f"{key} (--set {key}__KEY=VALUE)", detector, "")


def _is_stored_class(value):
    """Whether a value of read_header's params is a stored detector or estimator: its class and parameters."""
    return isinstance(value, dict) and isinstance(value.get("class"), str)
