"""The command's exit codes as exceptions: 1 some inputs failed, 2 refused, 130 interrupted."""

from __future__ import annotations

import click

__all__ = ["Failure", "Refused", "Interrupted", "refused", "usage_error"]


class Failure(click.ClickException):
    """A run that did its work but for some inputs: exit code 1."""

    exit_code = 1


class Refused(click.ClickException):
    """An output the run must not write, or a CSV it cannot resume: exit code 2, one line naming the file."""

    exit_code = 2


class Interrupted(click.ClickException):
    """Ctrl-C: exit code 130, as a shell reports a process stopped by SIGINT."""

    exit_code = 130

    def show(self, file=None):
        click.echo(self.message, err=True)


def usage_error(exc):
    """A library's ValueError about what the user gave, as a usage error (exit 2, with the usage line)."""
    return click.UsageError(str(exc))


def refused(exc):
    """A refused output (:class:`audioad.outputs.OutputFileError`) as :class:`Refused`, naming the option that
    replaces an existing one."""
    from ..outputs import OutputExistsError

    if isinstance(exc, OutputExistsError):
        return Refused(f"{exc.name} exists; pass --force to replace it, or choose another file")
    return Refused(str(exc))
