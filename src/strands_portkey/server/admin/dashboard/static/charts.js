// Time-series charts on uPlot (vendored): axes with units, hover values in the legend, colours from
// the page's light or dark palette, arrow keys to move the cursor, and the numbers as a table.
(function () {
  "use strict";
  const SPK = window.SPK;
  const live = new Map(); // chart id -> {plot, labels, observer}

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  SPK.palette = function () {
    return [1, 2, 3, 4, 5, 6, 7].map((i) => css("--s" + i));
  };

  // whole-number steps for counts (no "0.5 requests" ticks)
  const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8, 1e9];

  function axis(format, counts) {
    const stroke = css("--muted");
    const grid = { stroke: css("--grid"), width: 1 };
    const out = { stroke, grid, ticks: { stroke: css("--grid"), width: 1 }, values: format ? (u, ticks) => ticks.map(format) : undefined, size: 62 };
    if (counts) out.incrs = COUNT_STEPS;
    return out;
  }

  function options(spec, width) {
    const colours = SPK.palette();
    return {
      width,
      height: spec.height || 220,
      cursor: { focus: { prox: 24 }, drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min || 0), max > 0 ? max * 1.1 : 1] } },
      axes: [axis(null), axis(spec.format, spec.counts)],
      series: [
        { value: (u, v) => (v === null || v === undefined ? "–" : new Date(v * 1000).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })) },
        ...spec.series.map((s, i) => ({
          label: s.label,
          stroke: s.color || colours[i % colours.length],
          fill: spec.series.length === 1 ? (s.color || colours[0]) + "22" : undefined,
          width: 2,
          points: { show: spec.buckets.length <= 40, size: 5 },
          spanGaps: false,
          value: (u, v) => (v === null || v === undefined ? "–" : spec.format(v)),
        })),
      ],
    };
  }

  function dataOf(spec) {
    const xs = spec.buckets.map((iso) => Date.parse(iso) / 1000);
    return [xs, ...spec.series.map((s) => s.values.map((v) => (v === undefined ? null : v)))];
  }

  function keyboard(holder, getPlot) {
    let index = -1;
    holder.addEventListener("keydown", (event) => {
      const plot = getPlot();
      if (!plot || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
      const count = plot.data[0].length;
      if (!count) return;
      event.preventDefault();
      if (event.key === "Home") index = 0;
      else if (event.key === "End") index = count - 1;
      else index = Math.max(0, Math.min(count - 1, (index < 0 ? count : index) + (event.key === "ArrowLeft" ? -1 : 1)));
      plot.setCursor({ left: plot.valToPos(plot.data[0][index], "x"), top: plot.bbox.height / devicePixelRatio / 2 });
    });
    holder.addEventListener("blur", () => (index = -1));
  }

  function table(spec) {
    const rows = spec.buckets.map((iso, i) => ({ iso, i }));
    return SPK.table(
      [{ label: "Time", value: (r) => SPK.fmt.time(r.iso) }, ...spec.series.map((s) => ({ label: s.label, num: true, value: (r) => (s.values[r.i] === null ? "–" : spec.format(s.values[r.i])) }))],
      rows.slice(-48),
    );
  }

  // draw (or update in place) the chart `id` inside `container`
  SPK.chart = function (container, id, spec) {
    const existing = live.get(id);
    const labels = spec.series.map((s) => s.label).join("|");
    if (existing && existing.labels === labels && existing.holder.isConnected) {
      existing.plot.setData(dataOf(spec));
      SPK.clear(existing.details).append(SPK.el("summary", { text: "Show the numbers" }), table(spec));
      return;
    }
    if (existing) SPK.dropChart(id);
    const holder = SPK.el("div", { class: "chart", tabindex: "0", role: "img",
      "aria-label": spec.title + " over time, " + spec.series.length + " series. Left and right arrow keys read the values." });
    const details = SPK.el("details", { class: "data" }, SPK.el("summary", { text: "Show the numbers" }), table(spec));
    SPK.clear(container).append(holder, details);
    const width = Math.max(holder.clientWidth || container.clientWidth || 320, 260);
    const plot = new uPlot(options(spec, width), dataOf(spec), holder);
    const entry = { plot, labels, holder, details, observer: null };
    keyboard(holder, () => entry.plot);
    if (window.ResizeObserver) {
      entry.observer = new ResizeObserver(() => {
        const w = Math.max(holder.clientWidth, 260);
        if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: plot.height });
      });
      entry.observer.observe(holder);
    }
    live.set(id, entry);
  };

  SPK.dropChart = function (id) {
    const entry = live.get(id);
    if (!entry) return;
    if (entry.observer) entry.observer.disconnect();
    entry.plot.destroy();
    live.delete(id);
  };

  SPK.dropCharts = function () {
    for (const id of [...live.keys()]) SPK.dropChart(id);
  };
})();
