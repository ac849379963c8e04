"""The ``audioad`` command group that every command module adds itself to."""

from __future__ import annotations

import click

from .. import __version__
from .errors import Interrupted

__all__ = ["main"]


class Commands(click.Group):
    """The command group, turning Ctrl-C anywhere in a command into :class:`~audioad.cli.errors.Interrupted`."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("interrupted") from None


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="audioad")
def main():
    """Find anomalous machine sounds: learn what normal sounds like, then flag what does not.

    \b
    Start with `audioad demo`, then:
      audioad fit recordings/normal/ --out fan.audioad
      audioad score fan.audioad new/ --out scores.csv
      audioad plot fan.audioad new/clip_0042.wav --out clip.png
    """
