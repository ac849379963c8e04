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
from pathlib import Path

import numpy as np

from .audio import is_long_file, load_audio, load_excerpt
from .datasets import section_name
from .metrics import auc, check_labels, pauc, rates_at

__all__ = [
    "build_report",
    "report_from_scores",
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

_COLUMNS = (
    ("path", "Clip", "text"),
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


def clip_details(detector, clip, *, excerpt_seconds=EXCERPT_SECONDS, dpi=_DPI):
    """What the report shows of one clip: its picture, explanation and sound.

    Parameters
    ----------
    detector : ClipDetector
        The fitted detector that scored it.
    clip : str, pathlib.Path, array-like or tuple
        The clip, in any form :func:`~audioad.audio.load_audio` accepts.
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
    """
    from .plotting import plot_clip

    long = is_long_file(clip)
    # A short clip is read once for everything; a long file is explained as it is decoded.
    loaded = None if long else load_audio(clip, sr=getattr(detector, "sr", None))
    summary, findings, centre = "", [], 0.0
    if _explains(detector):
        from .explain import explain

        explanation = explain(detector, [clip if long else loaded])[0]
        summary, findings = explanation.summary(), explanation.rows()
        if explanation.findings:
            centre = (explanation.findings[0].start + explanation.findings[0].end) / 2
    # Only the excerpt of a long file is read, drawn and embedded: an hour of sound is neither plotted nor sent.
    excerpt, sr, start = load_excerpt(clip if long else loaded, getattr(detector, "sr", None), centre, excerpt_seconds)
    shown = (excerpt, sr) if long else loaded
    # An excerpt is drawn on its recording's clock, the clock of the table and the findings.
    png = _png(plot_clip(detector, shown, start=start if long else None), dpi)
    audio, _ = load_audio((excerpt, sr), sr=_AUDIO_SR)
    return {
        "png": png,
        "wav": _wav(audio, _AUDIO_SR),
        "excerpt": (round(start, 3), round(start + len(excerpt) / sr, 3)),
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
    """The summary as JSON inside a script element: NaN as null, and no ``</`` to end the element early."""
    plain = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in figures.items()}
    return json.dumps(plain).replace("</", "<\\/")


def _percent(value):
    return "" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _number(value, digits=3):
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _cards(figures):
    cards = [
        ("clips", str(figures["clips"])),
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
    shown = [c for c in _COLUMNS if c[0] not in ("section", "condition") or any(row.get(c[0]) for row in rows)]
    head = "".join(f'<th data-key="{key}" data-type="{kind}" scope="col">{title}</th>' for key, title, kind in shown)
    keys = [key for key, _, _ in _COLUMNS]
    body = []
    for row in rows:
        score = row.get("score")
        finite = score is not None and np.isfinite(score)
        truth = row.get("truth")
        truth_text = "" if truth is None else ("anomaly" if check_labels([truth])[0] == 1 else "normal")
        path = str(row["path"])
        name = html.escape(Path(path).name) if path else ""
        link = f'<a href="#clip-{top_paths[path]}">{name}</a>' if path in top_paths else name
        cells = [
            f'<td data-value="{html.escape(path)}" title="{html.escape(path)}">{link}</td>',
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
    return (
        f'<div class="clip" id="clip-{number}"><h3>{number}. {html.escape(Path(str(row["path"])).name)} '
        f"<small>score {_number(row['score'], 4)}{' · flagged' if row.get('flagged') else ''}</small></h3>"
        f'<p class="meta">{html.escape(str(row["path"]))}</p>'
        f'<p class="explanation">{html.escape(details.get("summary") or "")}</p>{table}'
        f'<p><audio controls preload="none" src="{_data_uri(details["wav"], "audio/wav")}"></audio> '
        f'<span class="meta">sound from {start:.1f} to {end:.1f} s</span></p>'
        f'<img alt="spectrogram, deviation map and scores of {html.escape(Path(str(row["path"])).name)}" '
        f'src="{_data_uri(details["png"], "image/png")}"></div>'
    )


def render_report(rows, *, title, threshold=None, about=(), figures=(), details=None):
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
        ``path -> clip_details(...)`` of the clips shown in full, most anomalous first.

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
    top_paths = {path: n for n, path in enumerate(details, start=1)}
    about_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in about)
    if threshold is not None:
        about_rows += f"<tr><th>Clip threshold</th><td>{threshold:.4g} (a clip scoring above it is flagged)</td></tr>"
    images = "".join(
        f'<img alt="{html.escape(caption)}" title="{html.escape(caption)}" src="{_data_uri(png, "image/png")}">'
        for caption, png in figures
    )
    by_path = {str(r["path"]): r for r in rows}
    clips = "".join(_clip_section(n, by_path[path], d) for n, (path, d) in enumerate(details.items(), start=1))
    created = _datetime.datetime.now(_datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_STYLE}</style><script>{_ERRORS_SCRIPT}</script></head>
<body>
<h1>{html.escape(title)}</h1><p class="meta">audioad report, {created}</p><pre id="js-errors"></pre>
<h2>Summary</h2><div class="cards" id="summary">{_cards(summary["overall"])}</div>
<table class="about">{about_rows}</table>
{_groups_table(summary["groups"])}
{f'<h2>Scores</h2><div class="figures">{images}</div>' if images else ""}
<h2>Clips</h2><p class="meta">Click a column to sort by it; flagged clips are shaded.</p>
{_clip_table(rows, top_paths)}
{f"<h2>Most anomalous clips</h2>{clips}" if clips else ""}
<script type="application/json" id="report-data">{_json(summary["overall"])}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


def build_report(detector, clips, *, table=None, title=None, top=5, about=(), progress=False):
    """Score clips with a fitted detector and return the HTML report of the run.

    Parameters
    ----------
    detector : ClipDetector
        Fitted.
    clips : list
        The clips, in any form :func:`~audioad.audio.load_audio` accepts.
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

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> from audioad import MelKNN
    >>> clips = [0.1 * np.random.default_rng(s).standard_normal(16000) for s in range(8)]
    >>> page = build_report(MelKNN(n_mels=32).fit(clips[:6]), clips[6:], top=1)
    >>> page.count('<div class="clip"'), page.count("<tr") > 2
    (1, True)
    """
    clips = list(clips)
    result = detector.score_clips(clips, progress=progress)
    errors = {e.index: str(e) for e in result.errors}
    threshold = float(detector.threshold_)
    rows = []
    for i, (clip, score) in enumerate(zip(clips, result.scores)):
        info = table[i] if table is not None else None
        finite = bool(np.isfinite(score))
        rows.append(
            {
                "path": clip if isinstance(clip, (str, Path)) else f"clip {i}",
                "score": float(score) if finite else None,
                "flagged": int(finite and score > threshold),
                "truth": None if info is None else info.label,
                "section": None if info is None else info.section,
                "condition": None if info is None else info.domain,
                "error": errors.get(i, ""),
            }
        )
    return _report_of_rows(detector, clips, rows, top, title, about, explain_all=True)


def report_from_scores(detector, csv_path, *, table=None, title=None, top=5, about=()):
    """The HTML report of a score CSV written by ``audioad score``, without scoring again.

    The CSV gives each clip's score, label and explanation (if it has that column); the
    detector that wrote it draws and explains the ``top`` highest-scoring clips.

    Parameters
    ----------
    detector : ClipDetector
        The fitted detector that wrote the CSV.
    csv_path : str or pathlib.Path
        A score CSV (``path, score, label, peak_time, error, warning[, explanation]``).
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
    from .score_csv import read_rows

    records = read_rows(csv_path)
    if not records or "score" not in records[0] or "path" not in records[0]:
        raise ValueError(f"{csv_path}: not a score CSV of audioad score (it needs path and score columns)")
    rows, clips = [], []
    for i, record in enumerate(records):
        info = table[i] if table is not None else None
        score = float(record["score"]) if record.get("score") else None
        rows.append(
            {
                "path": record["path"],
                "score": score if score is not None and np.isfinite(score) else None,
                "flagged": int(record.get("label") or 0),
                "truth": None if info is None else info.label,
                "section": None if info is None else info.section,
                "condition": None if info is None else info.domain,
                "explanation": record.get("explanation", ""),
                "error": record.get("error", ""),
            }
        )
        clips.append(record["path"])
    return _report_of_rows(detector, clips, rows, top, title, [("Scores", str(csv_path)), *about], explain_all=False)


def _report_of_rows(detector, clips, rows, top, title, about, explain_all):
    """The report of scored rows: the ``top`` clips in full, every clip explained where ``explain_all``."""
    from .plotting import plot_roc, plot_score_histogram

    threshold = float(detector.threshold_)
    scores = np.array([np.nan if r["score"] is None else r["score"] for r in rows])
    order = [i for i in np.argsort(-np.nan_to_num(scores, nan=-np.inf)) if np.isfinite(scores[i])]
    if explain_all and _explains(detector):
        from .explain import explain

        for i, explanation in zip(order, explain(detector, [clips[i] for i in order])):
            rows[i]["explanation"] = explanation.summary(2)
    details = {str(rows[i]["path"]): clip_details(detector, clips[i]) for i in order[:top]}
    for i in order[:top]:
        rows[i]["explanation"] = rows[i].get("explanation") or details[str(rows[i]["path"])]["summary"]
    figures = _figures(rows, threshold, plot_roc, plot_score_histogram)
    described = [("Detector", describe_detector(detector))]
    n_train = len(getattr(detector, "decision_scores_", ()))
    seconds = (getattr(detector, "training_audio_", None) or {}).get("seconds")
    trained = f"{n_train} normal clips" + (f", {seconds[0]:.1f}-{seconds[1]:.1f} s each" if seconds else "")
    described.append(("Trained on", trained))
    return render_report(
        rows,
        title=title or f"audioad report: {type(detector).__name__} on {len(clips)} clips",
        threshold=threshold,
        about=[*described, *about],
        figures=figures,
        details=details,
    )


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
