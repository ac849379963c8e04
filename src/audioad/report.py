"""One self-contained HTML page for a scoring run or an evaluation, to open in any browser.

A maintenance team asks three things of a run: how many clips sound wrong, how sure is that, and
what is wrong with each. :func:`build_report` answers them on one page: a summary (clips, flagged,
false-alarm and detection rates where labels are known, per section and condition), the ROC
curve and score histogram with the threshold, a table of every clip that sorts by any column,
and for the most anomalous clips their spectrogram beside the normal reference, deviation map,
explanation (:mod:`audioad.explain`) and an audio player.

The page needs no network: its style and script are inline, its pictures base64 PNG, its sound
base64 WAV (a short excerpt around the worst moment of a long clip). :func:`write_report` writes
it atomically.
"""

from __future__ import annotations

import base64
import datetime as _datetime
import html
import inspect
import io
import json
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .audio import AudioInputError, clip_name, is_long_file, load_audio, load_excerpt
from .datasets import section_name
from .folders import counted
from .metrics import auc, check_labels, pauc, rates_at
from .segments import parse_rule
from .thresholds import HELD_OUT
from .verdicts import ALARM, CALIBRATE, NORMAL, NOT_SCORED, UNUSUAL, hms

__all__ = [
    "build_report",
    "run_report",
    "ReportRun",
    "report_from_scores",
    "run_report_of_scores",
    "score_table_kind",
    "SCORE_TABLES",
    "evaluation_report",
    "SectionDetails",
    "render_report",
    "clip_details",
    "summarise",
    "describe_detector",
    "write_report",
    "EXCERPT_SECONDS",
]

#: Longest stretch of a clip embedded as sound; a longer clip is cut around its worst moment.
EXCERPT_SECONDS = 10.0
# Rate of the embedded sound: enough for machine sounds to be recognised, a third of the bytes of 48 kHz.
_AUDIO_SR = 16000
_DPI = 72

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;
color:#222;background:#fff}h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.6em}.meta{color:#666;font-size:.9em}.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:9em}
.card .value{font-size:1.6em;font-weight:600}
.card .name{color:#666;font-size:.85em}.flag{color:#c0392b;font-weight:600}table{border-collapse:collapse;
font-size:.88em;width:100%}th,td{border-bottom:1px solid #eee;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f6f6;position:sticky;top:0}#clips th{cursor:pointer;user-select:none}
#clips th[aria-sort=ascending]::after{content:" \\25B2"}#clips th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.flagged td{background:#fdf0ee}.figures img{max-width:49%}
.clip{border:1px solid #ddd;border-radius:6px;padding:.8em 1em;margin:1em 0}.clip img{max-width:100%}
.explanation{font-family:ui-monospace,monospace;font-size:.9em}#js-errors{color:#c0392b}
.recording{border:1px solid #ccc;border-radius:6px;padding:.8em 1em;margin:1em 0}.recording>img{max-width:100%}
.verdict{font-size:.8em;padding:.15em .5em;border-radius:4px;color:#fff;background:#27ae60}
.verdict.unusual{background:#d68910}.verdict.alarm{background:#c0392b}.verdict.not-scored{background:#7f8c8d}
#failures{color:#c0392b}
table.about th{width:16em;background:none}
"""

# Sorts the clip table by a column on a click (numbers as numbers, empty cells last); the
# sort is kept in the address (#sort=column:asc), so a shared link opens the same view.
_SCRIPT = """
(function(){
  var table=document.getElementById('clips');var heads=table.querySelectorAll('th');
  function key(cell,numeric){var t=cell.getAttribute('data-value');if(t===null)t=cell.textContent;
    if(numeric){var v=parseFloat(t);return isNaN(v)?null:v;}return t===''?null:t.toLowerCase();}
  function sortBy(index,dir){var numeric=heads[index].getAttribute('data-type')==='number';
    var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=key(a.cells[index],numeric),y=key(b.cells[index],numeric);
      if(x===y)return 0;if(x===null)return 1;if(y===null)return -1;return (x<y?-1:1)*(dir==='asc'?1:-1);});
    rows.forEach(function(r){body.appendChild(r);});
    heads.forEach(function(h){h.removeAttribute('aria-sort');});
    heads[index].setAttribute('aria-sort',dir==='asc'?'ascending':'descending');
    history.replaceState(null,'','#sort='+heads[index].getAttribute('data-key')+':'+dir);}
  heads.forEach(function(h,i){h.addEventListener('click',function(){
    var dir=h.getAttribute('aria-sort')==='descending'?'asc':(h.getAttribute('aria-sort')==='ascending'?'desc':
      (h.getAttribute('data-type')==='number'?'desc':'asc'));sortBy(i,dir);});});
  var m=/^#sort=([a-z_]+):(asc|desc)$/.exec(location.hash);
  if(m){heads.forEach(function(h,i){if(h.getAttribute('data-key')===m[1])sortBy(i,m[2]);});}
  document.body.setAttribute('data-ready','1');
})();
"""

# Caught before the page's own script runs, so that an error in it shows on the page too.
_ERRORS_SCRIPT = """
window.addEventListener('error',function(e){var p=document.getElementById('js-errors');
if(p){p.textContent+=(e.message||'error')+'\\n';}});
"""

# Verdicts of recordings, in the order the summary counts them.
_STATES = (ALARM, UNUSUAL, NORMAL, NOT_SCORED)

_COLUMNS = (
    ("path", "Clip", "text"),
    ("start", "Time", "number"),
    ("section", "Section", "text"),
    ("condition", "Condition", "text"),
    ("score", "Score", "number"),
    ("flagged", "Flagged", "number"),
    ("truth", "Label", "text"),
    ("explanation", "Explanation", "text"),
)


def _png(figure, dpi=_DPI):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _data_uri(data, mime):
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _wav(y, sr):
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.clip(y, -1.0, 1.0), sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def clip_details(detector, clip, *, span=None, excerpt_seconds=EXCERPT_SECONDS, dpi=_DPI):
    """What the report shows of one clip, or of one segment of a recording: its picture, explanation and sound.

    Parameters
    ----------
    detector : ClipDetector
        The fitted detector that scored it.
    clip : str, pathlib.Path, array-like or tuple
        The clip, in any form :func:`~audioad.audio.load_audio` accepts.
    span : (float, float) or None
        Start and end (seconds) of the segment to show; only that stretch of the clip is read,
        explained and drawn, on the recording's clock. None: the whole clip.
    excerpt_seconds : float
        Longest stretch of sound embedded; a longer clip is cut around its first finding (or
        its start). A long file (:func:`~audioad.audio.is_long_file`) is explained as it is
        decoded, and only that stretch of it is read again, drawn and embedded.
    dpi : int
        Resolution of the picture.

    Returns
    -------
    dict
        ``png`` (:func:`audioad.plotting.plot_clip`'s figure), ``wav`` (16-bit, 16 kHz),
        ``excerpt`` (start and end of the sound, seconds), ``summary`` and ``findings``
        (:meth:`audioad.explain.Explanation.rows`; empty without a log-mel front end).

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> clips = [0.1 * np.random.default_rng(s).standard_normal(16000) for s in range(6)]
    >>> details = clip_details(MelKNN(n_mels=32).fit(clips[1:]), clips[0])
    >>> details["png"][:4], details["wav"][:4], details["excerpt"], details["summary"].split(";")[0]
    (b'\\x89PNG', b'RIFF', (0.0, 1.0), 'no band departs from normal')
    >>> recording = np.concatenate(clips[1:4])
    >>> clip_details(MelKNN(n_mels=32).fit(clips[1:]), (recording, 16000), span=(1.0, 2.0))["excerpt"]
    (1.0, 2.0)
    """
    from .plotting import plot_clip

    sr = getattr(detector, "sr", None)
    offset = 0.0  # where the stretch read starts on the recording's clock
    if span is not None:
        y, y_sr, offset = load_excerpt(clip, sr, (span[0] + span[1]) / 2, span[1] - span[0])
        clip = (y, y_sr)
    long = is_long_file(clip)
    # A short clip is read once for everything; a long file is explained as it is decoded.
    loaded = None if long else load_audio(clip, sr=sr)
    summary, findings, centre = "", [], 0.0
    if _explains(detector):
        from .explain import explain

        explanation = explain(detector, [clip if long else loaded])[0]
        if explanation.findings:
            centre = (explanation.findings[0].start + explanation.findings[0].end) / 2
        if offset:
            shifted = [f._replace(start=f.start + offset, end=f.end + offset) for f in explanation.findings]
            explanation = explanation._replace(findings=shifted)
        summary, findings = explanation.summary(), explanation.rows()
    # Only the excerpt of a long file is read, drawn and embedded: an hour of sound is neither plotted nor sent.
    excerpt, excerpt_sr, start = load_excerpt(clip if long else loaded, sr, centre, excerpt_seconds)
    start += offset
    shown = (excerpt, excerpt_sr) if long else loaded
    # An excerpt or a segment is drawn on its recording's clock, the clock of the table and the findings.
    png = _png(plot_clip(detector, shown, start=start if long or span is not None else None), dpi)
    audio, _ = load_audio((excerpt, excerpt_sr), sr=_AUDIO_SR)
    return {
        "png": png,
        "wav": _wav(audio, _AUDIO_SR),
        "excerpt": (round(start, 3), round(start + len(excerpt) / excerpt_sr, 3)),
        "summary": summary,
        "findings": findings,
    }


def _explains(detector):
    """Whether :func:`audioad.explain.explain` can explain the detector's clips."""
    from .detectors.frontend import log_mel_part

    return getattr(detector, "band_levels_", None) is not None and log_mel_part(detector.frontend) is not None


def _rates(rows, threshold):
    """Clips, flagged, and where labels are known false-alarm rate, detection rate, AUC, pAUC."""
    scored = [r for r in rows if r.get("score") is not None and np.isfinite(r["score"])]
    result = {"clips": len(rows), "scored": len(scored), "flagged": sum(bool(r.get("flagged")) for r in scored)}
    labelled = [r for r in scored if r.get("truth") is not None]
    if labelled:
        labels = check_labels([r["truth"] for r in labelled]).ravel()
        scores = np.array([r["score"] for r in labelled])
        flags = np.array([bool(r["flagged"]) for r in labelled])
        normal, anomalous = flags[labels == 0], flags[labels == 1]
        result["normal"], result["anomalous"] = int(normal.size), int(anomalous.size)
        if threshold is not None:
            result["false_alarm_rate"], result["detection_rate"] = rates_at(labels, scores, threshold)
        else:
            result["false_alarm_rate"] = float(normal.mean()) if normal.size else float("nan")
            result["detection_rate"] = float(anomalous.mean()) if anomalous.size else float("nan")
        if normal.size and anomalous.size:
            result["AUC"], result["pAUC"] = auc(labels, scores), pauc(labels, scores)
    return result


def summarise(rows, threshold=None):
    """The report's summary: over all clips, and per section and condition where known.

    Parameters
    ----------
    rows : list of dict
        One per clip: ``score`` (NaN or None where it failed), ``flagged`` (0/1), and where
        known ``truth`` (0/1 or ``'normal'``/``'anomaly'``), ``section`` and ``condition``.
    threshold : float or None
        The clip threshold; ``None`` takes ``flagged`` as given.

    Returns
    -------
    dict
        ``overall`` and ``groups`` (``(section, condition) -> figures``); figures are
        ``clips``, ``scored``, ``flagged`` and, with labels, ``normal``, ``anomalous``,
        ``false_alarm_rate``, ``detection_rate``, ``AUC`` and ``pAUC`` (both classes only).

    Examples
    --------
    >>> rows = [{"score": s, "flagged": int(s > 0.5), "truth": t, "section": "00", "condition": "source"}
    ...         for s, t in [(0.1, 0), (0.7, 0), (0.9, 1), (0.4, 1)]]
    >>> figures = summarise(rows, threshold=0.5)["overall"]
    >>> figures["flagged"], figures["false_alarm_rate"], figures["detection_rate"], figures["AUC"]
    (2, 0.5, 0.5, 0.75)
    """
    groups = {}
    for row in rows:
        key = (str(row.get("section") or ""), str(row.get("condition") or ""))
        groups.setdefault(key, []).append(row)
    return {
        "overall": _rates(rows, threshold),
        "groups": {key: _rates(group, threshold) for key, group in sorted(groups.items())} if len(groups) > 1 else {},
    }


def _json(figures):
    """The summary as JSON inside a script element: NaN as null, and no markup (``<``, ``>``, ``&``) in it.

    A file name or an error in it is written as JSON escapes, so no name can end the element early
    or read as markup to a scanner of the page.
    """
    plain = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in figures.items()}
    return json.dumps(plain).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _percent(value):
    return "" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _number(value, digits=3):
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _cards(figures, rows=(), recordings=()):
    timed = sum(row.get("start") is not None for row in rows)
    counted_as = "clips" if not timed else ("segments" if timed == len(rows) else "clips and segments")
    cards = [
        (counted_as, str(figures["clips"])),
        ("flagged", f"{figures['flagged']} ({figures['flagged'] / max(figures['scored'], 1):.0%})"),
    ]
    if figures["clips"] != figures["scored"]:
        cards.append(("failed", str(figures["clips"] - figures["scored"])))
    if "false_alarm_rate" in figures:
        cards += [
            ("false-alarm rate", _percent(figures["false_alarm_rate"])),
            ("detection rate", _percent(figures["detection_rate"])),
        ]
    if "AUC" in figures:
        cards += [("AUC", _number(figures["AUC"])), ("pAUC", _number(figures["pAUC"]))]
    if recordings:
        cards.append(("recordings", str(len(recordings))))
        states = [entry["verdict"].state for entry in recordings]
        cards += [(state, str(states.count(state))) for state in _STATES if state in states]
    return "".join(
        f'<div class="card" data-name="{html.escape(name)}"><div class="value">{html.escape(value)}</div>'
        f'<div class="name">{html.escape(name)}</div></div>'
        for name, value in cards
    )


def _groups_table(groups):
    if not groups:
        return ""
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Section", "Condition", "Clips", "Flagged", "False-alarm rate", "Detection rate", "AUC", "pAUC")
    )
    body = []
    for (section, condition), f in groups.items():
        cells = [
            html.escape(section),
            html.escape(condition),
            str(f["clips"]),
            str(f["flagged"]),
            _percent(f.get("false_alarm_rate")),
            _percent(f.get("detection_rate")),
            _number(f.get("AUC")),
            _number(f.get("pAUC")),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<h3>Per section and condition</h3><table id="groups"><tr>{head}</tr>{"".join(body)}</table>'


def _score_order(row):
    score = row.get("score")
    return -float(score) if score is not None and np.isfinite(score) else np.inf


def _clip_table(rows, top_paths):
    # Highest score first, as a person reads down to what to look at; columns no clip fills are left out.
    rows = sorted(rows, key=_score_order)
    shown = [
        c
        for c in _COLUMNS
        if c[0] not in ("section", "condition", "start") or any(row.get(c[0]) not in (None, "") for row in rows)
    ]
    head = "".join(f'<th data-key="{key}" data-type="{kind}" scope="col">{title}</th>' for key, title, kind in shown)
    keys = [key for key, _, _ in _COLUMNS]
    body = []
    for row in rows:
        score = row.get("score")
        finite = score is not None and np.isfinite(score)
        truth = row.get("truth")
        truth_text = "" if truth is None else ("anomaly" if check_labels([truth])[0] == 1 else "normal")
        path, key, start = str(row["path"]), _row_key(row), row.get("start")
        name = html.escape(Path(path).name) if path else ""
        link = f'<a href="#clip-{top_paths[key]}">{name}</a>' if key in top_paths else name
        cells = [
            f'<td data-value="{html.escape(path)}" title="{html.escape(path)}">{link}</td>',
            f'<td class="num" data-value="{repr(float(start))}">{hms(start)}-{hms(row["end"])}</td>'
            if start is not None
            else "<td></td>",
            f"<td>{html.escape(str(row.get('section') or ''))}</td>",
            f"<td>{html.escape(str(row.get('condition') or ''))}</td>",
            f'<td class="num" data-value="{repr(float(score)) if finite else ""}">{_number(score, 4)}</td>',
            f'<td class="num" data-value="{int(bool(row.get("flagged"))) if finite else ""}">'
            f"{'yes' if finite and row.get('flagged') else ('' if not finite else 'no')}</td>",
            f"<td>{truth_text}</td>",
            f'<td class="explanation">{html.escape(row.get("explanation") or row.get("error") or "")}</td>',
        ]
        cells = [cell for key, cell in zip(keys, cells) if any(key == c[0] for c in shown)]
        flagged = ' class="flagged"' if finite and row.get("flagged") else ""
        body.append(f"<tr{flagged}>{''.join(cells)}</tr>")
    return f'<table id="clips"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _clip_section(number, row, details):
    findings = details.get("findings") or []
    table = ""
    if findings:
        lines = "".join(
            f"<tr><td>{f['low_hz']:.0f}-{f['high_hz']:.0f} Hz</td><td>{f['start_s']:.2f}-{f['end_s']:.2f} s</td>"
            f"<td>{f['change_db']:+.1f} dB</td><td>{f['share']:.0%}</td></tr>"
            for f in findings
        )
        table = (
            "<table class='findings'><tr><th>Band</th><th>Time</th><th>Change from normal</th><th>Share</th></tr>"
            f"{lines}</table>"
        )
    start, end = details["excerpt"]
    when = f" {hms(row['start'])}-{hms(row['end'])}" if row.get("start") is not None else ""
    return (
        f'<div class="clip" id="clip-{number}"><h3>{number}. {html.escape(Path(str(row["path"])).name)}{when} '
        f"<small>score {_number(row['score'], 4)}{' · flagged' if row.get('flagged') else ''}</small></h3>"
        f'<p class="meta">{html.escape(str(row["path"]))}</p>'
        f'<p class="explanation">{html.escape(details.get("summary") or "")}</p>{table}'
        f'<p><audio controls preload="none" src="{_data_uri(details["wav"], "audio/wav")}"></audio> '
        f'<span class="meta">sound from {start:.1f} to {end:.1f} s</span></p>'
        f'<img alt="spectrogram, deviation map and scores of {html.escape(Path(str(row["path"])).name)}" '
        f'src="{_data_uri(details["png"], "image/png")}"></div>'
    )


def render_report(rows, *, title, threshold=None, about=(), figures=(), details=None, recordings=(), failures=()):
    """The report's HTML from its parts; :func:`build_report` gathers them from a detector.

    Parameters
    ----------
    rows : list of dict
        One per clip, as :func:`summarise` takes them, with ``path`` and optionally
        ``explanation`` and ``error``.
    title : str
        Title of the page.
    threshold : float or None
        The clip threshold, stated in the summary.
    about : sequence of (str, str)
        What was run, as (name, value) lines: the detector, its parameters, its training clips.
    figures : sequence of (str, bytes)
        Captioned PNG images (ROC curve, histogram).
    details : dict or None
        ``path -> clip_details(...)`` of the clips shown in full, most anomalous first; a
        segment's key is its path and times (``a.wav 0:07:00-0:07:10``).
    recordings : sequence of dict
        Recordings scored in segments, in order: ``path``, ``verdict``
        (:class:`~audioad.verdicts.Verdict`), ``png`` (the recording view, or None) and
        ``shown`` (the keys in ``details`` of its segments shown in full). Their segments are
        rows, with ``start`` and ``end``.
    failures : sequence of str
        What could not be scored or shown (``path: cause``), listed on the page.

    Returns
    -------
    str
        One HTML page that needs nothing else.

    Examples
    --------
    >>> page = render_report([{"path": "a.wav", "score": 0.7, "flagged": 1}], title="Pump 3")
    >>> page.startswith("<!DOCTYPE html>"), "http" in page.replace("http-equiv", "")
    (True, False)
    """
    details = details or {}
    summary = summarise(rows, threshold)
    top_paths = {key: n for n, key in enumerate(details, start=1)}
    about_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in about)
    if threshold is not None:
        timed = sum(row.get("start") is not None for row in rows)
        what = "clip" if not timed else ("segment" if timed == len(rows) else "clip or segment")
        about_rows += (
            f"<tr><th>{what.capitalize()} threshold</th><td>{threshold:.4g} (a {what} scoring above it is flagged)"
            "</td></tr>"
        )
    images = "".join(
        f'<img alt="{html.escape(caption)}" title="{html.escape(caption)}" src="{_data_uri(png, "image/png")}">'
        for caption, png in figures
    )
    by_key = {_row_key(r): r for r in rows}
    in_recordings = {key for entry in recordings for key in entry["shown"]}
    clips = "".join(
        _clip_section(top_paths[key], by_key[key], d) for key, d in details.items() if key not in in_recordings
    )
    views = "".join(
        _recording_section(n, entry, [(top_paths[k], by_key[k], details[k]) for k in entry["shown"]])
        for n, entry in enumerate(recordings, start=1)
    )
    failed = "".join(f"<li>{html.escape(line)}</li>" for line in failures)
    data = {
        **summary["overall"],
        "recordings": [{"path": str(e["path"]), "verdict": e["verdict"].state} for e in recordings],
        "failures": list(failures),
    }
    created = _datetime.datetime.now(_datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_STYLE}</style><script>{_ERRORS_SCRIPT}</script></head>
<body>
<h1>{html.escape(title)}</h1><p class="meta">audioad report, {created}</p><pre id="js-errors"></pre>
<h2>Summary</h2><div class="cards" id="summary">{_cards(summary["overall"], rows, recordings)}</div>
<table class="about">{about_rows}</table>
{f'<h2>Not scored or not shown</h2><ul id="failures">{failed}</ul>' if failed else ""}
{_groups_table(summary["groups"])}
{f"<h2>Recordings</h2>{views}" if views else ""}
{f'<h2>Scores</h2><div class="figures">{images}</div>' if images else ""}
<h2>Clips</h2><p class="meta">Click a column to sort by it; flagged clips are shaded.</p>
{_clip_table(rows, top_paths)}
{f"<h2>Most anomalous clips</h2>{clips}" if clips else ""}
<script type="application/json" id="report-data">{_json(data)}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


class ReportRun(NamedTuple):
    """What a report run made: its page, and what to tell the person who asked for it.

    Attributes
    ----------
    page : str
        The HTML page (:func:`render_report`).
    failures : list of str
        One line (``path: cause``) per clip or recording that could not be scored, or not shown;
        each is also on the page.
    shown : int
        Clips and segments shown in full (picture, explanation, sound).
    verdicts : list of (str, Verdict)
        Each recording scored in segments, with its :class:`~audioad.verdicts.Verdict`.
    levels : Levels
        The thresholds of the run (:class:`~audioad.verdicts.Levels`), each with how it was obtained.
    """

    page: str
    failures: list
    shown: int
    verdicts: list
    levels: object


def run_report(
    detector, clips, *, table=None, title=None, top=5, about=(), progress=False, segment=None, hop=None,
    threshold=None, false_alarm_rate=None, rule="any", per_hour=0.1, file_threshold=None, calibration=None,
    normal=None, calibrate=CALIBRATE,
):  # fmt: skip
    """Score clips with a fitted detector as ``audioad score`` does, and report the run (:class:`ReportRun`).

    The clips go through one :class:`~audioad.scoring.ScoringRun`, as ``audioad score`` and
    :meth:`~audioad.detectors.base.ClipDetector.score_segments` score them: the same segments,
    thresholds and verdicts. A recording much longer than the training clips (or any, with
    ``segment``) is scored in segments: the page shows its verdict (normal, unusual or alarm;
    :mod:`audioad.verdicts`), its recording view (:func:`~audioad.plotting.plot_recording`), and
    its ``top`` highest segments above the segment threshold in full (its worst segment where none
    is), a row each in the table. Other clips are scored whole, a row each, flagged above the
    segment threshold, and the ``top`` highest-scoring are shown in full.

    Parameters
    ----------
    detector, clips, table, title, top, about, progress
        As in :func:`build_report`.
    segment, hop, threshold, false_alarm_rate, rule, per_hour, file_threshold, calibration, normal
        As in :class:`~audioad.scoring.ScoringRun`.
    calibrate : str
        How a verdict's advice offers calibration (:func:`~audioad.verdicts.file_verdict`).

    Returns
    -------
    ReportRun

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> rng = np.random.default_rng(0)
    >>> detector = MelKNN(n_mels=32).fit([0.1 * rng.standard_normal(16000) for _ in range(6)])
    >>> recording = 0.1 * rng.standard_normal(16000 * 8)
    >>> recording[16000 * 5 : 16000 * 6] += np.sin(np.arange(16000) * 0.9)  # a tone at 0:05
    >>> run = run_report(detector, [(recording, 16000)], top=1, segment="1s")
    >>> [(name, verdict.state) for name, verdict in run.verdicts], run.shown, run.failures
    ([('clip 0', 'alarm')], 1, [])
    """
    from .scoring import ScoringRun

    clips = list(clips)
    run = ScoringRun(
        detector, clips, segment, hop, threshold, false_alarm_rate, rule, per_hour, file_threshold, calibration, normal
    )
    level = run.levels.segment
    rows, whole = [], [i for i, how in enumerate(run.cuts) if how is None]
    failures = []
    if whole:
        # Scored a batch at a time with a progress bar: the same scores as the run's rows of whole clips.
        result = detector.score_clips([clips[i] for i in whole], progress=progress)
        # An error names the clip's place among all the clips given, not among those scored whole.
        errors = {whole[e.index]: e.at(whole[e.index]) for e in result.errors}
        for i, score in zip(whole, result.scores):
            finite = bool(np.isfinite(score))
            rows.append(
                {**_known(clips[i], i, table), "clip": clips[i], "score": float(score) if finite else None,
                 "flagged": int(finite and score > level), "error": str(errors.get(i, ""))}
            )  # fmt: skip
        failures = [f"{rows[whole.index(i)]['path']}: {error.cause}" for i, error in sorted(errors.items())]
    # A clip scored whole is one piece: skipping it leaves the recordings cut in segments.
    scored = run.result({i: 1 for i in whole}, calibrate) if run.segmented else None
    return _report_of_rows(detector, clips, rows, scored, run.levels, top, title, about, failures, explain_all=True)


def _recording_section(number, entry, shown):
    """A recording scored in segments: its verdict, recording view and the segments ``shown`` in full."""
    verdict, name = entry["verdict"], Path(str(entry["path"])).name
    advice = f'<p class="advice">Next: {html.escape(verdict.advice)}.</p>' if verdict.advice else ""
    view = (
        f'<img alt="segment scores over the recording {html.escape(name)}, and its worst minute" '
        f'src="{_data_uri(entry["png"], "image/png")}">'
        if entry["png"]
        else ""
    )
    heading = (
        "Segments above the segment threshold"
        if any(row.get("flagged") for _, row, _ in shown)
        else ("Its worst segment (none is above the segment threshold)")
    )
    segments = "".join(_clip_section(n, row, details) for n, row, details in shown)
    return (
        f'<div class="recording" id="recording-{number}" data-verdict="{html.escape(verdict.state)}">'
        f'<h3>{number}. {html.escape(name)} <span class="verdict {html.escape(verdict.state.replace(" ", "-"))}">'
        f"{html.escape(verdict.head)}</span></h3>"
        f'<p class="meta">{html.escape(str(entry["path"]))}</p><p class="reason">{html.escape(verdict.reason)}.</p>'
        f"{advice}{view}{f'<h4>{heading}</h4>{segments}' if segments else ''}</div>"
    )


def build_report(detector, clips, *, table=None, title=None, top=5, about=(), progress=False, **scoring):
    """Score clips with a fitted detector and return the HTML report of the run.

    Parameters
    ----------
    detector : ClipDetector
        Fitted.
    clips : list
        The clips, in any form :func:`~audioad.audio.load_audio` accepts. A recording much
        longer than the training clips is scored and shown in segments (see :func:`run_report`).
    table : ClipTable or None
        What is known of the clips (label, section, domain), in the same order, e.g. from
        :func:`~audioad.datasets.read_dataset`; labels give false-alarm and detection rates and
        the ROC curve.
    title : str or None
        Title of the page; ``None`` names the detector.
    top : int
        How many of the highest-scoring clips are shown in full (picture, explanation, sound).
        Every clip that scored gets its explanation in the table (read a second time for it).
    about : sequence of (str, str)
        Further lines on what was run (e.g. the model file).
    progress : bool
        Show a progress bar while scoring.
    **scoring
        ``segment``, ``hop`` and the thresholds, as in :func:`run_report`.

    Returns
    -------
    str
        :func:`run_report`'s page.

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> clips = [0.1 * np.random.default_rng(s).standard_normal(16000) for s in range(8)]
    >>> page = build_report(MelKNN(n_mels=32).fit(clips[:6]), clips[6:], top=1)
    >>> page.count('<div class="clip"'), page.count("<tr") > 2
    (1, True)
    """
    return run_report(
        detector, clips, table=table, title=title, top=top, about=about, progress=progress, **scoring
    ).page


def _known(clip, index, table):
    """A row's path and what the table knows of its clip (its true label, section and condition)."""
    info = table[index] if table is not None else None
    return {
        "path": clip if isinstance(clip, (str, Path)) else f"clip {index}",
        "truth": None if info is None else info.label,
        "section": None if info is None else info.section,
        "condition": None if info is None else info.domain,
    }


#: Headers of the CSVs :func:`run_report_of_scores` reads: ``audioad score`` (clips, or segments) and ``watch``.
SCORE_TABLES = {
    "clips": ("path", "score", "label", "peak_time", "error", "warning"),
    "clips explained": ("path", "score", "label", "peak_time", "error", "warning", "explanation"),
    "segments": ("path", "start", "end", "score", "label", "peak_time", "error", "warning"),
    "watch": ("source", "start", "end", "score", "label", "alert", "scored_at", "error", "warning"),
}


def score_table_kind(path):
    """Which of :data:`SCORE_TABLES` the CSV at ``path`` is (by its header), or None.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> _ = open(path, "w").write("path,start,end,score,label,peak_time,error,warning\\n")
    >>> score_table_kind(path), score_table_kind("no/such.csv")
    ('segments', None)
    """
    from .score_csv import is_table

    if not str(path).lower().endswith(".csv") or not os.path.isfile(path) or not os.path.getsize(path):
        return None
    return next((kind for kind, columns in SCORE_TABLES.items() if is_table(path, columns)), None)


def run_report_of_scores(
    detector, csv_path, *, table=None, title=None, top=5, about=(), threshold=None, false_alarm_rate=None, rule="any",
    per_hour=0.1, calibration=None, normal=None, calibrate=CALIBRATE,
):  # fmt: skip
    """Report a CSV of ``audioad score`` or ``watch`` without scoring again (:class:`ReportRun`).

    A clip CSV gives each clip's score, flag and explanation (if it has that column). A segment
    CSV (``path,start,end,...``, or the watch's ``source,start,end,...``) gives each segment's score:
    each recording gets its verdict, recording view and highest segments as :func:`run_report`
    gives them. They are read against a :class:`~audioad.scoring.ScoringRun` of the CSV's segments
    (their length and hop read off its rows) with the thresholds ``audioad score`` wrote beside it
    (``<csv>.files.csv``: threshold, file threshold, rule); where it wrote none, or where the
    options given set these same thresholds, the run's own thresholds with how they were
    obtained. The CSV's ``label`` column is a prediction: it flags rows, never gives their true
    label (``table`` does). The detector that wrote it draws and explains what is shown in full.

    Parameters
    ----------
    detector : ClipDetector
        The fitted detector that wrote the CSV.
    csv_path : str or pathlib.Path
        The CSV (:data:`SCORE_TABLES`).
    table, title, top, about
        As in :func:`build_report`; ``table`` is matched to a clip CSV's rows in order.
    threshold, false_alarm_rate, rule, per_hour, calibration, normal
        The options the CSV was scored with, as in :class:`~audioad.scoring.ScoringRun`.
    calibrate : str
        How a verdict's advice offers calibration (:func:`~audioad.verdicts.file_verdict`).

    Returns
    -------
    ReportRun

    Raises
    ------
    ValueError
        The CSV is not one of :data:`SCORE_TABLES`, naming it.
    """
    from .score_csv import files_path, read_rows
    from .scoring import ScoringRun

    kind = score_table_kind(csv_path)
    if kind is None:
        raise ValueError(f"{csv_path}: not a score CSV of audioad score or watch (it needs path and score columns)")
    records = read_rows(csv_path)
    about = [("Scores", str(csv_path)), *about]
    options = dict(
        threshold=threshold, false_alarm_rate=false_alarm_rate, rule=rule, per_hour=per_hour, calibration=calibration,
        normal=normal,
    )  # fmt: skip
    if kind.startswith("clips"):
        rows, clips = [], []
        for i, record in enumerate(records):
            score = float(record["score"]) if record.get("score") else math.nan
            rows.append(
                {**_known(record["path"], i, table), "score": score if np.isfinite(score) else None,
                 "clip": record["path"], "flagged": int(record.get("label") or 0),
                 "explanation": record.get("explanation", ""),
                 "error": record.get("error", "")}
            )  # fmt: skip
            clips.append(record["path"])
        failures = [f"{row['path']}: {row['error']}" for row in rows if row["error"]]
        levels = ScoringRun(detector, [], **options).levels
        return _report_of_rows(detector, clips, rows, None, levels, top, title, about, failures, explain_all=False)
    rows = _segments_of_records(records)
    timed = [row for row in rows if math.isfinite(row.start)]
    # One score run cuts every recording alike: its segments' length and hop are those of its first recording.
    first = [row for row in timed if row.clip == timed[0].clip] if timed else []
    segment = first[0].end - first[0].start if first else None
    hop = first[1].start - first[0].start if len(first) > 1 else segment
    run = ScoringRun(detector, [], segment, hop, **options)
    summary = files_path(csv_path)
    written = read_rows(summary) if summary.exists() else []
    if written:
        levels = run.levels
        segment_level, alarm, rule = (
            float(written[0]["threshold"]), float(written[0]["file_threshold"]), parse_rule(written[0]["rule"])
        )  # fmt: skip
        if (levels.segment, levels.alarm, levels.rule) != (segment_level, alarm, rule):
            # Scored with other options than these: the thresholds it was scored at, as given.
            calibrated = None if levels.audio == HELD_OUT else levels.normal
            run = ScoringRun(
                detector, [], segment, hop, segment_level, rule=rule, per_hour=per_hour, file_threshold=alarm,
                normal=calibrated,
            )  # fmt: skip
    scored = run.summarised(rows, calibrate)
    clips = list(dict.fromkeys(row.path for row in scored.rows))
    return _report_of_rows(detector, clips, [], scored, run.levels, top, title, about, [], explain_all=False)


def _segments_of_records(records):
    """The :class:`~audioad.detectors.segmented.SegmentScore` rows of a segment CSV, each recording numbered."""
    from .detectors.segmented import SegmentScore

    def number(text):
        return float(text) if text else math.nan

    paths = list(dict.fromkeys(record.get("path") or record["source"] for record in records))
    index = {path: i for i, path in enumerate(paths)}
    return [
        SegmentScore(index[path], path, number(r["start"]), number(r["end"]), number(r["score"]),
                     int(r["label"]) if r.get("label") else -1, r.get("warning", ""), r.get("error", ""))
        for r in records
        for path in [r.get("path") or r["source"]]
    ]  # fmt: skip


def report_from_scores(detector, csv_path, *, table=None, title=None, top=5, about=()):
    """The HTML report of a score CSV written by ``audioad score`` or ``watch``, without scoring again.

    See :func:`run_report_of_scores`, whose page it returns.

    Parameters
    ----------
    detector : ClipDetector
        The fitted detector that wrote the CSV.
    csv_path : str or pathlib.Path
        A score CSV (``path, score, label, peak_time, error, warning[, explanation]``), or one
        of segments (:data:`SCORE_TABLES`).
    table, title, top, about
        As in :func:`build_report`; ``table`` is matched to the CSV's rows in order.

    Returns
    -------
    str

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> detector = MelKNN(n_mels=32).fit([0.1 * np.random.default_rng(s).standard_normal(16000) for s in range(4)])
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("path,score,label,peak_time,error,warning\\na.wav,9.5,1,,,\\nb.wav,,,,file not found,\\n")
    >>> page = report_from_scores(detector, path, top=0)
    >>> 'data-value="9.5"' in page, '<td class="explanation">file not found</td>' in page
    (True, True)
    """
    return run_report_of_scores(detector, csv_path, table=table, title=title, top=top, about=about).page


def _report_of_rows(detector, clips, rows, scored, levels, top, title, about, failures, explain_all):
    """The report of scored clip rows and segment scores: the ``top`` clips in full, each recording's view.

    ``levels`` are the run's (:class:`~audioad.verdicts.Levels`); its segment threshold is the clips' too.

    ``failures`` (``path: cause``) are the clips that could not be scored; what cannot be read
    for the page is added to them. ``explain_all`` explains every clip that scored (a second
    read of each); segments are explained where they are shown in full.
    """
    from .plotting import plot_roc, plot_score_histogram

    failures = list(failures)
    noun = "clip" if rows else "recording"
    scores = np.array([np.nan if r["score"] is None else r["score"] for r in rows])
    order = [i for i in np.argsort(-np.nan_to_num(scores, nan=-np.inf)) if np.isfinite(scores[i])]
    if explain_all and order and _explains(detector):
        from .explain import explain

        for i, explanation in zip(order, explain(detector, [rows[i]["clip"] for i in order])):
            rows[i]["explanation"] = explanation.summary(2)
    details, verdicts, recordings = {}, [], []
    for i in order[:top]:
        try:
            details[_row_key(rows[i])] = clip_details(detector, rows[i]["clip"])
        except AudioInputError as exc:
            failures.append(f"{rows[i]['path']}: not shown ({exc.cause})")
        rows[i]["explanation"] = rows[i].get("explanation") or details.get(_row_key(rows[i]), {}).get("summary", "")
    if scored is not None:
        for summary, verdict in zip(scored.files, scored.verdicts):
            recording = _recording(detector, clips[summary.clip], summary, verdict, scored, top, details, failures)
            rows.extend(recording.pop("rows"))
            recordings.append(recording)
            verdicts.append((str(recording["path"]), verdict))
    level = levels.segment
    figures = _figures(rows, level, plot_roc, plot_score_histogram)
    described = [("Detector", describe_detector(detector))]
    n_train = len(getattr(detector, "decision_scores_", ()))
    seconds = (getattr(detector, "training_audio_", None) or {}).get("seconds")
    shortest, longest = (f"{value:.1f}" for value in seconds) if seconds else ("", "")
    span = shortest if shortest == longest else f"{shortest}-{longest}"
    trained = f"{n_train} normal clips" + (f", {span} s each" if seconds else "")
    described.append(("Trained on", trained))
    if scored is not None:
        described.append(("Alarm level", f"{levels.alarm:.4g} (rule {levels.rule}; a recording is an ALARM when "
                                          "the rule holds over segments above it)"))  # fmt: skip
        if levels.note():
            described.append(("Note", levels.note()))
    page = render_report(
        rows,
        title=title or f"audioad report: {type(detector).__name__} on {counted(len(clips), noun)}",
        threshold=level,
        about=[*described, *about],
        figures=figures,
        details=details,
        recordings=recordings,
        failures=failures,
    )
    return ReportRun(page, failures, len(details), verdicts, levels)


def _row_key(row):
    """How the page names a row: its path, and a segment's times."""
    start = row.get("start")
    if start is None:
        return str(row["path"])
    return f"{row['path']} {hms(start)}-{hms(row['end'])}"


def _recording(detector, recording, summary, verdict, scored, top, details, failures):
    """A recording scored in segments, as the page shows it: verdict, recording view, its highest segments.

    Its ``top`` highest segments above the segment threshold (else its worst) go into ``details``;
    what cannot be read for the page goes into ``failures``.
    """
    from .detectors.segmented import SegmentScores
    from .plotting import plot_recording

    own = [row for row in scored.rows if row.clip == summary.clip]
    path = str(recording) if isinstance(recording, (str, Path)) else clip_name(summary.clip)
    rows = []
    for row in own:
        timed = math.isfinite(row.start)
        rows.append(
            {"path": path, "start": row.start if timed else None, "end": row.end if timed else None,
             "score": row.score if math.isfinite(row.score) else None, "flagged": int(row.label == 1),
             "truth": None, "error": row.error, "warning": row.warning}
        )  # fmt: skip
        if row.error:
            failures.append(f"{path}: {row.error}" + (f" (after {hms(row.start)})" if timed else ""))
    levels = scored.levels
    entry = {"path": path, "verdict": verdict, "png": None, "shown": [], "rows": rows}
    scoring = [r for r in rows if r["score"] is not None]
    if not scoring:
        return entry
    first = next(row for row in own if math.isfinite(row.score))
    above = sorted((r for r in scoring if r["flagged"]), key=_score_order)
    for row in (above or sorted(scoring, key=_score_order))[: max(top, 0) if above else min(top, 1)]:
        key = _row_key(row)
        try:
            details[key] = clip_details(detector, recording, span=(row["start"], row["end"]))
        except AudioInputError as exc:
            failures.append(f"{path}: {hms(row['start'])}-{hms(row['end'])} not shown ({exc.cause})")
            continue
        row["explanation"] = details[key]["summary"]
        entry["shown"].append(key)
    try:
        own_scores = SegmentScores(own, [summary], [verdict], levels)
        figure = plot_recording(
            detector, recording, first.end - first.start, levels.hop, levels.segment, levels.alarm,
            rule=levels.rule, scores=own_scores, title=f"{Path(path).name}: score over time and the worst minute",
        )  # fmt: skip
        entry["png"] = _png(figure)
    except AudioInputError as exc:
        failures.append(f"{path}: no recording view ({exc.cause})")
    return entry


class SectionDetails:
    """Collects what an evaluation report shows of each section, while its model is at hand.

    Pass its :meth:`add` as (or call it from) :func:`audioad.evaluation.evaluate`'s
    ``on_section``: each section's test clips get their explanation, and its ``top``
    highest-scoring clips their :func:`clip_details`.

    Parameters
    ----------
    top : int
        Clips of each section shown in full.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from types import SimpleNamespace
    >>> from audioad import MelKNN
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.wav") for i in range(6)]
    >>> for i, path in enumerate(paths):
    ...     sf.write(path, 0.1 * np.random.default_rng(i).standard_normal(16000), 16000)
    >>> detector = MelKNN(n_mels=32).fit(paths[:4])
    >>> collected = SectionDetails(top=1)
    >>> collected.add("fan", "00", detector, SimpleNamespace(paths=paths[4:]), detector.decision_function(paths[4:]))
    >>> len(collected.details), sorted(e.split(";")[0] for e in collected.explanations.values())
    (1, ['no band departs from normal', 'no band departs from normal'])
    """

    def __init__(self, top=2):
        self.top = top
        self.explanations, self.details = {}, {}

    def add(self, machine, section, detector, test, scores):
        """Record a section's explanations and its highest-scoring clips' details."""
        paths = list(test.paths)
        if _explains(detector):
            from .explain import explain

            self.explanations.update((p, e.summary(2)) for p, e in zip(paths, explain(detector, paths)))
        order = [i for i in np.argsort(-np.nan_to_num(np.asarray(scores), nan=-np.inf)) if np.isfinite(scores[i])]
        for i in order[: self.top]:
            self.details[str(paths[i])] = clip_details(detector, paths[i])


def evaluation_report(evaluation, *, collected=None, title="audioad evaluation", about=()):
    """The HTML report of an :class:`~audioad.evaluation.Evaluation`.

    Parameters
    ----------
    evaluation : Evaluation
        What :func:`audioad.evaluation.evaluate` returned.
    collected : SectionDetails or None
        The explanations and clip details gathered while it ran.
    title : str
        Title of the page.
    about : sequence of (str, str)
        Lines on what was run: the detector, the data set.

    Returns
    -------
    str

    Examples
    --------
    >>> from audioad.evaluation import Evaluation
    >>> results = [dict(path=f"{i}.wav", machine="fan", section="00", domain=None, label=label, score=s,
    ...                 decision=int(s > 0.5)) for i, (label, s) in enumerate([("normal", 0.2), ("anomaly", 0.9)])]
    >>> sections = [{"machine": "fan", "section": "00", "AUC": 1.0, "pAUC": 1.0}]
    >>> page = evaluation_report(Evaluation(results, sections, None, 1.0, {("fan", "00"): 0.5}))
    >>> "ROC curve" in page, 'data-name="detection rate"' in page
    (True, True)
    """
    from .plotting import plot_roc, plot_score_histogram

    collected = collected or SectionDetails(top=0)
    rows = [
        {
            "path": r["path"],
            "score": r["score"],
            "flagged": r["decision"],
            "truth": r["label"],
            "section": section_name(r["machine"], r["section"]),
            "condition": r["domain"],
            "explanation": collected.explanations.get(r["path"], ""),
        }
        for r in evaluation.results
    ]
    thresholds = evaluation.thresholds
    single = next(iter(thresholds.values())) if len(thresholds) == 1 else None
    ax = None
    for key in sorted({(r["machine"], r["section"]) for r in evaluation.results}, key=str):
        chosen = [r for r in evaluation.results if (r["machine"], r["section"]) == key]
        labels = check_labels([r["label"] for r in chosen]).ravel()
        if 0 < labels.sum() < labels.size:
            ax = plot_roc(labels, [r["score"] for r in chosen], label=section_name(*key), ax=ax).axes[0]
    figures = [("ROC curve of each section", _png(ax.figure))] if ax is not None else []
    scores = np.array([r["score"] for r in rows])
    labels = check_labels([r["truth"] for r in rows]).ravel()
    figures.append(("Score histogram", _png(plot_score_histogram(scores, labels, single))))
    # The cards pool every clip; DCASE's figures are per section, then averaged.
    lines = [(f"{name} (DCASE)", f"{value:.3f}") for name, value in evaluation.summary().items()]
    lines += [
        (f"Model of {section_name(*key)}", f"threshold {t:.4g}") for key, t in sorted(thresholds.items(), key=str)
    ]
    for key, paths in sorted(evaluation.training.items(), key=str):
        lines.append((f"Trained {section_name(*key)} on", f"{len(paths)} normal clips"))
    return render_report(
        rows, title=title, threshold=single, about=[*about, *lines], figures=figures, details=collected.details
    )


def _figures(rows, threshold, plot_roc, plot_score_histogram):
    scored = [r for r in rows if r["score"] is not None]
    if not scored:
        return []
    scores = np.array([r["score"] for r in scored])
    labelled = all(r.get("truth") is not None for r in scored)
    labels = check_labels([r["truth"] for r in scored]).ravel() if labelled else None
    figures = []
    if labels is not None and 0 < labels.sum() < labels.size:
        figures.append(("ROC curve", _png(plot_roc(labels, scores))))
    figures.append(("Score histogram", _png(plot_score_histogram(scores, labels, threshold))))
    return figures


def describe_detector(detector):
    """The detector in one line: its class and the parameters that differ from its defaults.

    An ensemble lists its members the same way.

    Examples
    --------
    >>> from audioad import Ensemble, MelKNN, WindowKNN
    >>> describe_detector(MelKNN(n_mels=64))
    'MelKNN(n_mels=64)'
    >>> describe_detector(Ensemble([MelKNN(), WindowKNN(context=5)], n_folds=3))
    'Ensemble of MelKNN(), WindowKNN(context=5) (n_folds=3)'
    """
    params = detector.get_params(deep=False)
    signature = inspect.signature(type(detector).__init__).parameters.values()
    defaults = {p.name: p.default for p in signature if p.default is not inspect.Parameter.empty}
    members = params.pop("members", None)
    changed = ", ".join(
        f"{k}={describe_detector(v) if hasattr(v, 'get_params') else repr(v)}"
        for k, v in sorted(params.items())
        if k in defaults and repr(defaults[k]) != repr(v)
    )
    if members is not None:
        listed = ", ".join(describe_detector(m) for m in members)
        return f"{type(detector).__name__} of {listed}" + (f" ({changed})" if changed else "")
    return f"{type(detector).__name__}({changed})"


def write_report(page, path):
    """Write a report page to ``path`` (atomically: a reader never sees half of it); return the path.

    Examples
    --------
    >>> import tempfile, os
    >>> out = write_report(render_report([], title="empty"), os.path.join(tempfile.mkdtemp(), "r.html"))
    >>> out.read_text()[:15]
    '<!DOCTYPE html>'
    """
    from .outputs import atomic_path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as part:
        Path(part).write_text(page, encoding="utf-8")
    return path
