// Overview: the window's headline numbers and each one over time, refreshed every few seconds.
(function () {
  "use strict";
  const SPK = window.SPK;
  const { el, fmt } = SPK;
  const POLL_MS = 5000;

  function cards(t) {
    const card = (label, value, sub, id) => el("div", { class: "panel card", "data-metric": id },
      el("div", { class: "label", text: label }), el("div", { class: "value", text: value }), sub ? el("div", { class: "sub", text: sub }) : null);
    const guard = t.guard_passed + t.guard_failed + t.guard_denied;
    return el("section", { class: "cards", "aria-label": "Headline numbers" },
      card("Requests", fmt.int(t.requests), fmt.int(t.errors) + " errors", "requests"),
      card("Tokens", fmt.compact(t.total_tokens), null, "tokens"),
      card("Cost", fmt.usd(t.cost_usd), fmt.compact(t.cost_credits) + " credits", "cost"),
      card("Error rate", fmt.pct(t.error_rate), null, "error_rate"),
      card("Latency p50", fmt.ms(t.p50), "p95 " + fmt.ms(t.p95) + " · p99 " + fmt.ms(t.p99), "latency"),
      card("Time to first token", fmt.ms(t.ttft_avg), "mean of " + fmt.int(t.ttft_count) + " streams", "ttft"),
      card("Cache hit rate", fmt.pct(t.cache_hit_rate), fmt.usd(t.saved_usd) + " saved", "cache"),
      card("Fallback rescues", fmt.int(t.rescued), "requests saved by a fallback", "rescued"),
      card("Guardrails", fmt.int(guard) + " checked",
        fmt.int(t.guard_passed) + " passed · " + fmt.int(t.guard_failed) + " failed · " + fmt.int(t.guard_denied) + " denied", "guardrails"));
  }

  function charts(data) {
    const s = data.series;
    const groups = data.groups;
    const by = (metric) => (groups.length ? groups.map((g) => ({ label: g.name, values: g.series[metric] })) : [{ label: "all", values: s[metric] }]);
    const split = data.split === "model" ? "by model" : "by provider";
    return [
      { id: "requests", counts: true, title: "Requests " + split, format: fmt.compact, series: by("requests") },
      { id: "tokens", counts: true, title: "Tokens " + split, format: fmt.compact, series: by("total_tokens") },
      { id: "cost", title: "Cost (USD) " + split, format: fmt.usd, series: by("cost_usd") },
      { id: "errors", counts: true, title: "Errors " + split, format: fmt.compact, series: by("errors") },
      { id: "latency", title: "Latency", format: fmt.ms, series: [
        { label: "p50", values: s.p50 }, { label: "p95", values: s.p95 }, { label: "p99", values: s.p99 }, { label: "TTFT (mean)", values: s.ttft_avg }] },
      { id: "error-rate", title: "Error rate", format: fmt.pct, series: [{ label: "error rate", values: s.error_rate }] },
      { id: "cache", title: "Cache hit rate", format: fmt.pct, series: [{ label: "hit rate", values: s.cache_hit_rate }] },
      { id: "saved", title: "Saved by the cache (USD)", format: fmt.usd, series: [{ label: "saved", values: s.saved_usd }] },
      { id: "rescued", counts: true, title: "Fallback rescues", format: fmt.compact, series: [{ label: "rescued", values: s.rescued }] },
      { id: "guardrails", counts: true, title: "Guardrail verdicts", format: fmt.compact, series: [
        { label: "passed", values: s.guard_passed, color: SPK.palette()[4] },
        { label: "failed", values: s.guard_failed, color: SPK.palette()[2] },
        { label: "denied", values: s.guard_denied, color: SPK.palette()[3] }] },
    ];
  }

  SPK.pages.overview = function (main, ctx) {
    const params = new URLSearchParams(window.location.search);
    const state = { window: params.get("window") || "24h", split: params.get("split") || "model", timer: null, live: true };
    const status = el("span", { class: "muted small", role: "status", "aria-live": "polite" });
    const windowSelect = el("select", { id: "window", "aria-label": "Window" },
      [["1h", "Last hour"], ["24h", "Last 24 hours"], ["7d", "Last 7 days"], ["30d", "Last 30 days"]].map(([v, t]) => el("option", { value: v, text: t, selected: v === state.window })));
    const splitSelect = el("select", { id: "split", "aria-label": "Split by" },
      [["model", "model"], ["provider", "provider"]].map(([v, t]) => el("option", { value: v, text: t, selected: v === state.split })));
    const liveBox = el("input", { type: "checkbox", id: "live", checked: true });
    const body = el("div", { id: "overview-body" }, el("p", { class: "empty", text: "Loading…" }));
    main.append(
      el("div", { class: "page-head" },
        el("div", {}, el("h1", { text: "Overview" }), el("p", { class: "muted", id: "scope" })),
        el("div", { class: "controls" },
          el("label", {}, "Window ", windowSelect), el("label", {}, "Split by ", splitSelect),
          el("label", {}, liveBox, "Live"), status)),
      body);

    let built = false;
    async function load() {
      try {
        const data = await SPK.api(`/api/dashboard/overview?window=${state.window}&split=${state.split}`);
        document.getElementById("scope").textContent = "Showing " + data.scope + " · " + fmt.day(data.window.start) + " – " + fmt.day(data.window.end) + " (UTC buckets of one " + data.window.step + ")";
        const cardsNode = cards(data.totals);
        if (!built) {
          SPK.clear(body).append(cardsNode, el("section", { class: "charts", id: "charts", "aria-label": "Charts" }));
          built = true;
        } else {
          body.replaceChild(cardsNode, body.firstChild);
        }
        const holder = document.getElementById("charts");
        for (const spec of charts(data)) {
          let panel = document.getElementById("chart-" + spec.id);
          if (!panel) {
            panel = el("div", { class: "panel chart-panel", id: "chart-" + spec.id },
              el("h2", {}, el("span", { text: spec.title })), el("div", { class: "chart-box" }));
            holder.append(panel);
          }
          panel.querySelector("h2 span").textContent = spec.title;
          SPK.chart(panel.querySelector(".chart-box"), spec.id, { ...spec, buckets: data.buckets });
        }
        status.textContent = "Updated " + new Date().toLocaleTimeString();
      } catch (error) {
        if (error.status === 401) return;
        SPK.clear(body).append(SPK.errorBox(error));
        built = false;
      }
    }

    function schedule() {
      clearInterval(state.timer);
      state.timer = state.live ? setInterval(load, POLL_MS) : null;
    }

    function changed() {
      state.window = windowSelect.value;
      state.split = splitSelect.value;
      history.replaceState(null, "", `/ui/overview?window=${state.window}&split=${state.split}`);
      SPK.dropCharts();
      built = false;
      load();
    }
    windowSelect.addEventListener("change", changed);
    splitSelect.addEventListener("change", changed);
    liveBox.addEventListener("change", () => {
      state.live = liveBox.checked;
      schedule();
    });
    load();
    schedule();
    ctx.onLeave(() => clearInterval(state.timer));
  };
})();
