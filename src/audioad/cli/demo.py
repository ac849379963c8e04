"""``audioad demo``: the whole path on a synthetic machine set."""

from __future__ import annotations

from pathlib import Path

import click

from .group import main


@main.command()
@click.option("--out", "-o", default="audioad-demo", show_default=True, type=click.Path(file_okay=False))
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def demo(out, quiet):
    """Run audioad end to end on a synthetic DCASE-style machine set.

    Generates the set, fits the default detector, scores and explains,
    evaluates, plots, writes an HTML report, and says where everything is.
    """
    from ..datasets import make_machine_sounds

    out = Path(out)
    click.echo(f"1/6 generating synthetic machine sounds in {out / 'data'}")
    table = make_machine_sounds(out / "data", random_state=0)
    machine, section = table.machines[0], table.sections[0]
    # One model per machine and section, as DCASE fits them.
    clips = table.filter(machine=machine, section=section)
    train, test = clips.filter(split="train").paths, clips.filter(split="test").paths
    model = out / f"{machine}_section_{section}.audioad"
    quiet_flag = ["-q"] if quiet else []
    steps = [
        (
            f"2/6 fitting the default detector on {machine} section {section}",
            ["fit", *train, "--out", str(model), "--force", *quiet_flag],
        ),
        (
            "3/6 scoring its test clips, each with what departs from normal",
            ["score", str(model), *test, "--out", str(out / "scores.csv"), "--explain", "--force", *quiet_flag],
        ),
        (
            "4/6 evaluating every machine and section",
            ["evaluate", str(out / "data"), "--out", str(out / "evaluation"), "--force", *quiet_flag],
        ),
    ]
    for title, args in steps:
        click.echo(title)
        main.main(args, standalone_mode=False)
    from ..score_csv import read_rows

    rows = [r for r in read_rows(out / "scores.csv") if "anomaly" in Path(r["path"]).name]
    loudest = max(rows, key=lambda r: float(r["score"]))["path"]
    click.echo("5/6 plotting the highest-scoring anomalous clip")
    main.main(["plot", str(model), loudest, "--out", str(out / "clip.png"), "--force"], standalone_mode=False)
    click.echo("6/6 writing the report of the scores (open it in a browser)")
    report_args = ["report", str(model), str(out / "scores.csv"), "--out", str(out / "report.html"), "--force"]
    main.main([*report_args, *quiet_flag], standalone_mode=False)
    click.echo(
        f"\ndone. In {out}/: data/ (the clips), {model.name} (the model), scores.csv, "
        "evaluation/ (DCASE result files, ROC curves, histograms), clip.png, report.html"
    )
