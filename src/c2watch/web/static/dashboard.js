// c2watch dashboard: draws the month view and a destination's history with plotly.js (served by the app).
"use strict";

(function () {
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"];
  const DASHES = ["solid", "dot", "dash", "longdash", "dashdot"];
  const CONFIG = { responsive: true, displaylogo: false };

  // Destination names come from watchlists: plotly reads a few HTML tags in names, so escape them.
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function indexer() {
    const seen = new Map();
    return (key) => {
      if (!seen.has(key)) seen.set(key, seen.size);
      return seen.get(key);
    };
  }

  function lineTraces(traces, field, labels) {
    const dest = indexer();
    const obs = indexer();
    return traces.map((t) => {
      const y = field === "http_status" ? t.http_status.map((v) => (v === null ? 0 : v)) : t.ping_loss_pct;
      return {
        type: "scatter",
        mode: t.times.length > 400 ? "lines" : "lines+markers",
        line: { shape: "hv", width: 1.5, color: PALETTE[dest(t.destination) % PALETTE.length],
          dash: DASHES[obs(t.observer) % DASHES.length] },
        marker: { size: 4 },
        name: esc(t.destination) + " · " + esc(t.observer),
        x: t.times,
        y: y,
        hovertemplate: field === "http_status"
          ? "%{x}<br>%{customdata}<extra>%{fullData.name}</extra>"
          : "%{x}<br>%{y:.0f} %<extra>%{fullData.name}</extra>",
        customdata: field === "http_status" ? t.http_status.map((v) => (v === null ? labels.none : v)) : undefined,
      };
    });
  }

  function layout(title, xTitle, yAxis) {
    return {
      title: { text: title, font: { size: 15 } },
      margin: { l: 90, r: 20, t: 40, b: 50 },
      xaxis: { title: { text: xTitle }, type: "date" },
      yaxis: yAxis,
      legend: { orientation: "h", y: -0.25 },
      height: 380,
    };
  }

  function statusAxis(labels) {
    return { title: { text: labels.status }, range: [-20, 620], tickvals: [0, 100, 200, 300, 400, 500, 600],
      ticktext: [labels.none, "100", "200", "300", "400", "500", "600"], zeroline: false };
  }

  // Where the server behind a destination changed (identity events): a dotted line and the event's label.
  function identityMarks(marks, labels) {
    const kinds = labels.kinds || {};
    const shapes = marks.map((m) => ({ type: "line", xref: "x", yref: "paper", x0: m.at, x1: m.at, y0: 0, y1: 1,
      line: { color: "#6b3fa0", width: 1, dash: "dot" } }));
    const annotations = marks.map((m, i) => ({ x: m.at, xref: "x", yref: "paper", y: 1 - (i % 3) * 0.07,
      text: esc(kinds[m.kind] || m.kind), showarrow: false, xanchor: "left", font: { size: 10, color: "#6b3fa0" },
      hovertext: esc(m.summary) }));
    return { shapes: shapes, annotations: annotations };
  }

  function drawLines(data, labels) {
    const httpLayout = Object.assign(layout(labels.http, labels.time, statusAxis(labels)),
      identityMarks(data.marks || [], labels));
    const http = Plotly.newPlot("chart-http", lineTraces(data.traces, "http_status", labels), httpLayout, CONFIG);
    const loss = Plotly.newPlot("chart-loss", lineTraces(data.traces, "ping_loss_pct", labels),
      layout(labels.loss, labels.time, { title: { text: labels.loss_axis }, range: [-5, 105] }), CONFIG);
    return [http, loss];
  }

  function drawPie(pie, labels) {
    const keys = Object.keys(pie);
    const trace = { type: "pie", labels: keys.map((k) => (k === "none" ? labels.none : k)),
      values: keys.map((k) => pie[k]), sort: false, hole: 0.35, textinfo: "label+percent" };
    return Plotly.newPlot("chart-pie", [trace],
      { title: { text: labels.pie, font: { size: 15 } }, height: 380, margin: { l: 20, r: 20, t: 40, b: 20 } },
      CONFIG);
  }

  function fail(section, message) {
    const note = document.createElement("p");
    note.className = "error";
    note.textContent = message;
    section.appendChild(note);
    section.dataset.rendered = "error";
  }

  async function render(section, withPie) {
    const labels = JSON.parse(section.dataset.labels);
    const response = await fetch(section.dataset.api, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      fail(section, "HTTP " + response.status);
      return;
    }
    const data = await response.json();
    const drawn = drawLines(data, labels);
    if (withPie) drawn.push(drawPie(data.pie, labels));
    await Promise.all(drawn);
    section.dataset.rendered = "true";
  }

  function watchPicker() {
    const picker = document.getElementById("month-picker");
    if (picker) picker.addEventListener("change", () => picker.form.submit());
  }

  document.addEventListener("DOMContentLoaded", () => {
    watchPicker();
    const month = document.getElementById("month-view");
    if (month) render(month, true);
    const history = document.getElementById("history-view");
    if (history) render(history, false);
  });
})();
