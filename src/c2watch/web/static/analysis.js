// c2watch analysis pages: HTTP x ping per destination and month (the paper's Fig. 6), status-code phases and
// reactivations, drawn with plotly.js (served by the app) from the JSON in each section's data-chart attribute.
"use strict";

(function () {
  const CONFIG = { responsive: true, displaylogo: false };
  const STATES = { "200": "#2ca02c", "404": "#ff7f0e", "500": "#d62728", "503": "#9467bd", none: "#9aa4b1" };
  const EXTRA = ["#1f77b4", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#7f7f7f"];

  // Destination names come from watchlists: plotly reads a few HTML tags in names, so escape them.
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function colourOf(state, others) {
    if (STATES[state]) return STATES[state];
    if (!others.has(state)) others.set(state, EXTRA[others.size % EXTRA.length]);
    return others.get(state);
  }

  function title(text) {
    return { text: text, font: { size: 15 } };
  }

  function rowsHeight(rows) {
    return Math.max(320, 120 + 28 * rows);
  }

  function phiHeatmap(chart, labels) {
    const cellText = chart.phi.map((row) => row.map((v) => (v === null ? "" : v.toFixed(2))));
    const hover = chart.counts.map((row, r) => row.map((c, m) => (c === null ? "-"
      : labels.pairs.map((name, i) => name + ": " + c[i]).join("<br>") + "<br>" + labels.agreement + ": "
        + (100 * chart.agreement[r][m]).toFixed(1) + " %")));
    const trace = { type: "heatmap", x: chart.months, y: chart.rows.map(esc), z: chart.phi, zmin: -1, zmax: 1,
      colorscale: "RdBu", reversescale: true, text: cellText, texttemplate: "%{text}", customdata: hover,
      hovertemplate: "%{y}<br>%{x}<br>" + esc(labels.phi) + ": %{z}<br>%{customdata}<extra></extra>",
      colorbar: { title: { text: labels.phi } }, xgap: 2, ygap: 2, hoverongaps: false };
    return Plotly.newPlot("chart-phi", [trace], { title: title(labels.phi_chart), height: rowsHeight(chart.rows.length),
      margin: { l: 330, r: 20, t: 40, b: 50 }, plot_bgcolor: "#eef1f4", xaxis: { title: { text: labels.month }, type: "category" },
      yaxis: { automargin: true, autorange: "reversed" } }, CONFIG);
  }

  function pairsPie(chart, labels) {
    const colours = ["#2ca02c", "#1f77b4", "#ff7f0e", "#9aa4b1"];
    const shown = chart.totals.map((v, i) => i).filter((i) => chart.totals[i] > 0);  // no label for an empty slice
    const trace = { type: "pie", labels: shown.map((i) => labels.pairs[i]), values: shown.map((i) => chart.totals[i]),
      sort: false, hole: 0.35, marker: { colors: shown.map((i) => colours[i]) }, textinfo: "label+percent" };
    return Plotly.newPlot("chart-pairs", [trace], { title: title(labels.pairs_chart), height: 380,
      margin: { l: 20, r: 20, t: 40, b: 20 } }, CONFIG);
  }

  // One horizontal bar per phase (or gap) on a date axis: base = start, length = duration in ms.
  function timeline(element, bars, labels, legendTitle, stateName, hoverExtra) {
    const others = new Map();
    const groups = new Map();
    for (const bar of bars) {
      if (!groups.has(bar.state)) groups.set(bar.state, []);
      groups.get(bar.state).push(bar);
    }
    const rows = [...new Set(bars.map((b) => b.row))];
    const traces = [...groups.entries()].map(([state, group]) => ({
      type: "bar", orientation: "h", name: esc(stateName(state)), y: group.map((b) => esc(b.row)),
      base: group.map((b) => b.start), x: group.map((b) => Math.max(b.ms, 60000)),
      marker: { color: colourOf(state, others) }, customdata: group.map((b) => [b.start, b.end, hoverExtra(b)]),
      hovertemplate: "%{y}<br>%{customdata[0]} → %{customdata[1]}<br>%{customdata[2]}<extra>%{fullData.name}</extra>",
    }));
    return Plotly.newPlot(element, traces, { title: title(labels.chart), barmode: "overlay",
      height: rowsHeight(rows.length), margin: { l: 20, r: 20, t: 40, b: 50 },
      xaxis: { title: { text: labels.time }, type: "date" },
      yaxis: { automargin: true, autorange: "reversed", type: "category", categoryarray: rows.map(esc) },
      showlegend: true, legend: { title: { text: legendTitle } } }, CONFIG);
  }

  function drawCorrelation(chart, labels) {
    return [phiHeatmap(chart, labels), pairsPie(chart, labels)];
  }

  function drawTransitions(chart, labels) {
    const name = (state) => (state === "none" ? labels.none : state);
    return [timeline("chart-phases", chart.bars, labels, "", name, (b) => labels.observations + ": " + b.observations)];
  }

  function drawReactivations(chart, labels) {
    return [timeline("chart-dormant", chart.bars, labels, labels.status, (s) => s, (b) => labels.days + ": " + b.days)];
  }

  async function render(section, draw) {
    try {
      await Promise.all(draw(JSON.parse(section.dataset.chart), JSON.parse(section.dataset.labels)));
      section.dataset.rendered = "true";
    } catch (error) {
      const note = document.createElement("p");
      note.className = "error";
      note.textContent = String(error);
      section.appendChild(note);
      section.dataset.rendered = "error";
      throw error;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const views = { "correlation-view": drawCorrelation, "transitions-view": drawTransitions,
      "reactivations-view": drawReactivations };
    for (const [id, draw] of Object.entries(views)) {
      const section = document.getElementById(id);
      if (section) render(section, draw);
    }
  });
})();
