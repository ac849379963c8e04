"""No library module names a command-line option in what it says; the command line adds its options.

A message from ``audioad.score_segments`` or ``audioad.Ensemble.fit`` is read by a Python user, who has no
``--calibrate`` to pass; the ``audioad`` command maps the library's words onto its options (issue 23).
"""

import ast
import re
import warnings
from pathlib import Path

import click
import pytest

from audioad.cli import main
from audioad.cli.errors import refused
from audioad.cli.inputs import notices
from audioad.detectors.ensemble import CoverageWarning
from audioad.outputs import OutputExistsError, OutputFileError, check_output

SOURCE = Path(__file__).resolve().parent.parent / "src" / "audioad"


def option_names():
    """Every long option of every ``audioad`` command (``--force``, ``--calibrate``, ...)."""
    names = set()
    for command in [main, *main.commands.values()]:
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                names.update(name for name in parameter.opts + parameter.secondary_opts if name.startswith("--"))
    return names - {"--help"}


def docstrings(tree):
    """The string constants that are docstrings (they document the command line; they are not messages)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def library_strings():
    """``(module, line, text)`` of every string constant outside ``audioad.cli`` but docstrings and comments."""
    for path in sorted(SOURCE.rglob("*.py")):
        if "cli" in path.relative_to(SOURCE).parts[:1]:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                yield path.relative_to(SOURCE), node.lineno, node.value


def test_the_options_are_found():
    assert {"--force", "--calibrate", "--segment", "--allow-ack", "--dask"} <= option_names()


def test_no_library_message_names_an_option():
    flag = re.compile("|".join(re.escape(name) + r"(?![\w-])" for name in sorted(option_names(), key=len)[::-1]))
    named = [f"{path}:{line}: {text[:80]!r}" for path, line, text in library_strings() if flag.search(text)]
    assert named == []


def test_an_existing_output_is_refused_in_the_librarys_words_and_the_commands(tmp_path):
    existing = tmp_path / "scores.csv"
    existing.write_text("path,score\n")
    with pytest.raises(OutputExistsError, match="exists; choose another file, or replace it .force.") as caught:
        check_output(existing, "score CSV", [])
    assert "--force" not in str(caught.value)
    assert refused(caught.value).message == f"{existing} exists; pass --force to replace it, or choose another file"
    other = OutputFileError("x.wav is an audio file name; choose another file for the score CSV")
    assert refused(other).message == str(other)


def test_the_coverage_note_names_the_option_on_the_command_line(capsys):
    message = "the training recordings do not cover each other; ... or set the thresholds from new normal recordings"
    with notices():
        warnings.warn(CoverageWarning(f"{message} (calibration recordings)"), stacklevel=1)
    err = capsys.readouterr().err
    assert err.startswith(f"note: {message} (--calibrate NORMAL on score, watch, plot and report)")
