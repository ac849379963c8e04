// The plant's page: polls /api/state, draws each machine and the alert list, opens an alert.
// Built with DOM calls and textContent only: file and machine names never become markup.
"use strict";
(function () {
  const POLL_MS = 250;
  const SVG = "http://www.w3.org/2000/svg";
  let range = "hour";
  let lastBody = "";
  let allowAck = false;
  let openAlert = null;
  const lastSeen = {};
  // [row's scored_at, when the page showed it] in seconds: how long a row takes to reach the screen.
  window.audioadShown = [];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }
  const num = (v) => (v === null || v === undefined ? "–" : Number(v).toPrecision(4));
  const clock = (t) => (t === null || t === undefined ? "–" : new Date(t * 1000).toLocaleString());
  function ago(t) {
    if (t === null || t === undefined) return "no row yet";
    const s = Math.max(0, Date.now() / 1000 - t);
    return s < 90 ? `${s.toFixed(0)} s ago` : s < 5400 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
  }
  const segment = (a) => `${a.file.split("/").pop()} ${num(a.start)}–${num(a.stop)} s`;

  function chart(source, since, now) {
    const W = 300, H = 90, top = 4, bottom = 12;
    const box = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
    box.setAttribute("aria-label", `score of ${source.name} over the last ${range}`);
    const scores = source.series.map((p) => p[1]);
    // The scale spans the scores and both thresholds, so a line's distance to its threshold shows.
    const values = [...scores, source.threshold, source.alert_threshold].filter((v) => v !== null);
    let low = Math.min(...values, Infinity), high = Math.max(...values, -Infinity);
    if (!isFinite(low)) [low, high] = [0, 1];
    const pad = (high - low) * 0.1 || Math.abs(high) * 0.1 || 1;
    [low, high] = [low - pad, high + pad];
    const x = (t) => ((t - since) / (now - since)) * W;
    const y = (v) => top + (1 - (v - low) / (high - low)) * (H - top - bottom);
    for (const [cls, value] of [["label-threshold", source.threshold], ["alert-threshold", source.alert_threshold]]) {
      if (value !== null) box.appendChild(svg("line", { class: cls, x1: 0, x2: W, y1: y(value), y2: y(value) }));
    }
    if (source.series.length > 1) {
      const points = source.series.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
      box.appendChild(svg("polyline", { class: "score", points }));
    } else if (source.series.length === 1) {
      const p = source.series[0];
      box.appendChild(svg("circle", { class: "dot", cx: x(p[0]), cy: y(p[1]), r: 2.5 }));
    }
    const label = svg("text", { x: 2, y: H - 2 });
    label.textContent = `last ${range}; max ${num(Math.max(...scores, 0))}`;
    box.appendChild(label);
    return box;
  }

  function drawSources(state) {
    const now = Date.now() / 1000;
    const holder = document.getElementById("sources");
    holder.replaceChildren();
    if (state.sources.length === 0) {
      holder.appendChild(el("p", { id: "no-sources" },
        "No machine has written into this store yet: audioad watch MODEL SOURCE --db STORE --name MACHINE"));
    }
    for (const s of state.sources) {
      const card = el("section", { class: "source", "data-name": s.name, "data-state": s.state, "data-segments": s.segments });
      const head = el("h3", {}, s.name);
      head.appendChild(el("span", { class: "badge" }, s.state));
      card.appendChild(head);
      const score = el("p", { class: "facts" }, "last score ");
      score.append(el("b", { class: "last-score" }, num(s.last_score)), ` · ${s.segments} segments · ${ago(s.last_at)}`);
      // The words are coloured as the chart's lines: they are its legend.
      const limits = el("p", { class: "facts" });
      limits.append(el("span", { class: "label-threshold" }, `threshold ${num(s.threshold)}`), " · ",
        el("span", { class: "alert-threshold" }, `alert ${num(s.alert_threshold)} (${s.rule || "–"})`));
      card.append(score, limits);
      card.title = `${s.name}: model ${s.model}…`;
      if (s.last_error) card.appendChild(el("p", { class: "facts gone" }, `last file failed: ${s.last_error}`));
      card.appendChild(chart(s, state.since, Math.max(now, state.since + 1)));
      holder.appendChild(card);
      if (s.last_at !== null && lastSeen[s.id] !== s.last_at) {
        if (lastSeen[s.id] !== undefined) {
          window.audioadShown.push([s.last_at, Date.now() / 1000]);
          if (window.audioadShown.length > 2000) window.audioadShown.shift();
        }
        lastSeen[s.id] = s.last_at;
      }
    }
  }

  function drawAlerts(state) {
    const body = document.querySelector("#alerts tbody");
    body.replaceChildren();
    document.getElementById("no-alerts").hidden = state.alerts.length > 0;
    for (const a of state.alerts) {
      const row = el("tr", { "data-alert-id": a.id, class: a.cleared_at === null ? "open" : "cleared" });
      if (openAlert === a.id) row.classList.add("selected");
      row.append(el("td", {}, clock(a.raised_at)), el("td", {}, a.source), el("td", {}, segment(a)),
        el("td", {}, num(a.score)), el("td", {}, a.cleared_at === null ? "active" : `cleared ${clock(a.cleared_at)}`),
        el("td", { class: "ack" }, a.acknowledged_at === null ? "" : `${a.acknowledged_by}: ${a.note || ""}`));
      row.addEventListener("click", () => openDetail(a.id));
      body.appendChild(row);
    }
  }

  async function poll() {
    try {
      const response = await fetch(`api/state?range=${range}`, { cache: "no-store" });
      const text = await response.text();
      if (!response.ok) throw new Error(text);
      document.getElementById("status").textContent = `live · ${new Date().toLocaleTimeString()}`;
      if (text !== lastBody) {
        lastBody = text;
        const state = JSON.parse(text);
        allowAck = state.allow_ack;
        drawSources(state);
        drawAlerts(state);
        document.body.dataset.ready = "1";
      }
    } catch (error) {
      document.getElementById("status").textContent = `no answer from the server (${error.message})`;
    }
    setTimeout(poll, POLL_MS);
  }

  async function openDetail(id) {
    openAlert = id;
    const panel = document.getElementById("detail");
    const response = await fetch(`api/alerts/${id}`, { cache: "no-store" });
    const a = await response.json();
    panel.hidden = false;
    panel.dataset.alertId = id;
    document.getElementById("detail-title").textContent = `${a.source.name}: ${segment(a)}, score ${num(a.score)}`;
    document.getElementById("detail-when").textContent =
      `raised ${clock(a.raised_at)}` + (a.cleared_at === null ? ", still up" : `, cleared ${clock(a.cleared_at)}`);
    const gone = document.getElementById("detail-gone");
    const media = document.getElementById("detail-media");
    const findings = document.querySelector("#findings tbody");
    findings.replaceChildren();
    if (a.unavailable) {
      gone.hidden = false;
      gone.textContent = `No sound or picture: ${a.unavailable}`;
      media.hidden = true;
      document.getElementById("detail-summary").textContent = "";
    } else {
      gone.hidden = true;
      media.hidden = false;
      document.getElementById("detail-summary").textContent = `What departs from normal: ${a.explanation.summary}`;
      for (const f of a.explanation.findings) {
        findings.appendChild(el("tr")).append(el("td", {}, `${num(f.low_hz)}–${num(f.high_hz)} Hz`),
          el("td", {}, `${f.start_s}–${f.end_s} s`), el("td", {}, `${f.change_db > 0 ? "+" : ""}${f.change_db} dB`),
          el("td", {}, `${Math.round(f.share * 100)} %`));
      }
      document.getElementById("detail-audio").src = `api/alerts/${id}/audio.wav`;
      document.getElementById("detail-spectrogram").src = `api/alerts/${id}/spectrogram.png`;
    }
    document.getElementById("ack-form").hidden = !allowAck || a.acknowledged_at !== null;
    document.getElementById("ack-done").textContent =
      a.acknowledged_at === null ? "" : `Acknowledged by ${a.acknowledged_by} (${clock(a.acknowledged_at)}): ${a.note || ""}`;
    for (const row of document.querySelectorAll("#alerts tbody tr")) {
      row.classList.toggle("selected", Number(row.dataset.alertId) === id);
    }
  }

  document.getElementById("ack-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = JSON.stringify({ by: document.getElementById("ack-by").value, note: document.getElementById("ack-note").value });
    const response = await fetch(`api/alerts/${openAlert}/ack`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    if (!response.ok) {
      document.getElementById("ack-done").textContent = `Not acknowledged: ${await response.text()}`;
      return;
    }
    await openDetail(openAlert);
  });
  document.getElementById("detail-close").addEventListener("click", () => {
    document.getElementById("detail").hidden = true;
    document.getElementById("detail-audio").removeAttribute("src");
    openAlert = null;
  });
  for (const button of document.querySelectorAll("#ranges button")) {
    button.addEventListener("click", () => {
      range = button.dataset.range;
      for (const b of document.querySelectorAll("#ranges button")) b.classList.toggle("on", b === button);
      lastBody = "";
    });
  }
  poll();
})();
