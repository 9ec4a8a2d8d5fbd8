// Requests: the log (filters, pages, live) and one request's whole route.
(function () {
  "use strict";
  const SPK = window.SPK;
  const { el, fmt } = SPK;
  const FIELDS = [
    ["model", "Model"], ["provider", "Provider"], ["key", "Gateway key id"], ["user", "User"], ["trace_id", "Trace id"],
  ];
  const PAGE = 50;

  function filterForm(values, onSubmit) {
    const select = (name, label, options) => el("label", {}, label,
      el("select", { name }, el("option", { value: "", text: "any" }), options.map((o) => el("option", { value: o, text: o, selected: values[name] === o }))));
    const form = el("form", { class: "filters panel", role: "search", "aria-label": "Filter requests" },
      FIELDS.map(([name, label]) => el("label", {}, label, el("input", { name, value: values[name] || "", autocomplete: "off" }))),
      select("status", "Status", ["success", "error", "cancelled"]),
      select("cache", "Cache", ["HIT", "SEMANTIC HIT", "MISS", "SEMANTIC MISS", "REFRESH", "DISABLED"]),
      el("label", {}, "Since (UTC)", el("input", { name: "since", type: "datetime-local", value: values.since || "" })),
      el("label", {}, "Until (UTC)", el("input", { name: "until", type: "datetime-local", value: values.until || "" })),
      el("div", { class: "controls" }, el("button", { type: "submit", class: "primary", text: "Filter" }),
        el("button", { type: "reset", class: "ghost", text: "Clear" })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const out = {};
      for (const [name, value] of new FormData(form).entries()) if (value) out[name] = value;
      onSubmit(out);
    });
    form.addEventListener("reset", () => setTimeout(() => onSubmit({}), 0));
    return form;
  }

  const COLUMNS = [
    { label: "Time", value: (r) => el("a", { href: "/ui/requests/" + r.id, text: fmt.time(r.created_at) }) },
    { label: "Model", value: (r) => r.model },
    { label: "Provider", value: (r) => r.provider },
    { label: "Status", value: (r) => SPK.statusBadge(r.status, r.status_code) },
    { label: "Latency", num: true, value: (r) => fmt.ms(r.latency_ms) },
    { label: "Tokens", num: true, value: (r) => fmt.int(r.total_tokens) },
    { label: "Cost", num: true, value: (r) => fmt.usd(r.cost_usd) },
    { label: "Cache", cls: "hide-narrow", value: (r) => SPK.cacheBadge(r.cache_status) },
    { label: "Route", cls: "hide-narrow", value: (r) => (r.rescued ? el("span", { class: "badge warn", text: "fallback" }) : r.retries ? r.retries + " retries" : "") },
    { label: "Key", cls: "hide-narrow", value: (r) => el("span", { class: "mono", text: r.key || "–" }) },
  ];

  SPK.pages.requests = function (main, ctx) {
    const params = new URLSearchParams(window.location.search);
    const values = Object.fromEntries(params.entries());
    let offset = Number(values.offset || 0);
    delete values.offset;
    const list = el("div", { id: "request-list" }, el("p", { class: "empty", text: "Loading…" }));
    const status = el("span", { class: "muted small", role: "status", "aria-live": "polite" });
    main.append(el("div", { class: "page-head" }, el("div", {}, el("h1", { text: "Requests" }),
      el("p", { class: "muted" }, "Every request through the gateway, newest first. Open one to see its whole route. ", status))),
      filterForm(values, (next) => {
        Object.keys(values).forEach((k) => delete values[k]);
        Object.assign(values, next);
        offset = 0;
        load();
      }), el("div", { class: "panel" }, list));

    function query() {
      const q = new URLSearchParams();
      for (const [name, value] of Object.entries(values)) {
        if (!value) continue;
        q.set(name, (name === "since" || name === "until") && value.length === 16 ? value + ":00Z" : value);
      }
      return q;
    }

    let drawn = ""; // the page last drawn (total and ids)
    async function load(quiet) {
      const q = query();
      const shown = new URLSearchParams(Object.entries(values).filter(([, v]) => v));
      if (offset) shown.set("offset", offset);
      history.replaceState(null, "", "/ui/requests" + (shown.toString() ? "?" + shown : ""));
      q.set("limit", PAGE);
      q.set("offset", offset);
      try {
        const page = await SPK.api("/api/requests?" + q);
        const rows = page.data;
        const seen = JSON.stringify([page.total, rows.map((r) => r.id)]);
        if (quiet && seen === drawn) {  // nothing new: keep the table (and the keyboard focus in it)
          status.textContent = "Updated " + new Date().toLocaleTimeString();
          return;
        }
        drawn = seen;
        const body = rows.length
          ? SPK.table(COLUMNS, rows, (r) => ({ "data-id": r.id }))
          : el("p", { class: "empty", text: "No requests match. Requests appear here a second or two after they finish." });
        const total = page.total_capped ? "more than " + fmt.int(page.total) : fmt.int(page.total);
        const pager = el("div", { class: "pager" },
          el("span", { class: "muted", text: rows.length ? `${fmt.int(offset + 1)}–${fmt.int(offset + rows.length)} of ${total}` : "" }),
          el("button", { type: "button", disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - PAGE); load(); }, text: "Newer" }),
          el("button", { type: "button", disabled: offset + rows.length >= page.total && !page.total_capped, onclick: () => { offset += PAGE; load(); }, text: "Older" }));
        SPK.clear(list).append(body, pager);
        status.textContent = "Updated " + new Date().toLocaleTimeString();
      } catch (error) {
        if (error.status !== 401) SPK.clear(list).append(SPK.errorBox(error));
      }
    }
    load();
    const timer = setInterval(() => offset === 0 && load(true), 5000);
    ctx.onLeave(() => clearInterval(timer));
  };

  function attemptList(detail) {
    const attempts = detail.attempts || [];
    if (!attempts.length) {
      const why = detail.cache_status.includes("HIT") ? "Answered from the cache: no provider was called." : "No provider call was made (refused before routing).";
      return el("p", { class: "muted", text: why });
    }
    return el("ol", { class: "route", "aria-label": "Attempts in order" }, attempts.map((a, i) => {
      const last = i === attempts.length - 1;
      const ok = last && detail.status === "success";
      const failed = a.error || (a.status && a.status >= 400);
      return el("li", { class: ok ? "final" : failed ? "failed" : "" },
        el("span", { class: "step", text: ok ? "✓" : failed ? "✗" : String(i + 1) }),
        el("div", {}, el("div", { class: "mono", text: a.path }),
          el("div", { class: "muted small", text: a.provider + (a.error ? " · " + a.error : "") + (i > 0 && attempts[i - 1].path === a.path ? " · retry" : i > 0 ? " · fallback" : "") })),
        el("div", { class: "num" }, el("span", { class: "badge " + (failed ? "bad" : "ok"), text: a.status === null ? "no answer" : String(a.status) }), " ", fmt.ms(a.latency_ms)));
    }));
  }

  function hookList(hooks) {
    if (!hooks.length) return el("p", { class: "muted", text: "No guardrails ran for this request." });
    return SPK.table([
      { label: "Hook", value: (h) => el("span", { class: "mono", text: h.id }) },
      { label: "When", value: (h) => (h.event === "beforeRequestHook" ? "before" : "after") },
      { label: "Verdict", value: (h) => el("span", { class: "badge " + (h.verdict ? "ok" : h.deny ? "bad" : "warn"), text: h.verdict ? "passed" : h.deny ? "denied" : "failed" }) },
      { label: "Checks", value: (h) => h.checks.map((c) => (c.verdict ? "✓ " : "✗ ") + c.id).join(", ") },
    ], hooks);
  }

  SPK.pages.request = async function (main, ctx, id) {
    main.append(el("p", {}, el("a", { href: "/ui/requests", text: "← All requests" })));
    let d;
    try {
      d = await SPK.api("/api/requests/" + encodeURIComponent(id));
    } catch (error) {
      main.append(error.status === 404 ? el("div", { class: "panel unavailable" }, el("p", { class: "unavailable-title", text: "Request not found" }),
        el("p", { class: "muted", text: "It does not exist, or it was made with a key of another user." })) : SPK.errorBox(error));
      return;
    }
    const fact = (k, v) => [el("dt", { text: k }), el("dd", {}, v === null || v === undefined || v === "" ? "–" : v)];
    main.append(...[
      el("div", { class: "page-head" }, el("div", {}, el("h1", {}, "Request ", el("span", { class: "mono", text: d.id })),
        el("p", { class: "muted", text: fmt.time(d.created_at) + " · trace " + d.trace_id })), SPK.statusBadge(d.status, d.status_code)),
      el("div", { class: "grid-2" },
        el("section", { class: "panel", "aria-labelledby": "route-h" }, el("h2", { id: "route-h", text: "Route" }),
          el("p", {}, "Answered by ", el("code", { text: d.option_path }), " (" + d.provider + (d.served_model ? ", " + d.served_model : "") + ")",
            d.rescued ? [" ", el("span", { class: "badge warn", text: "rescued by a fallback" })] : null),
          attemptList(d),
          el("p", { class: "muted small", text: "Retries at the answering target: " + (d.retry_attempt_count === -1 ? "all used up" : d.retry_attempt_count) })),
        el("section", { class: "panel", "aria-labelledby": "facts-h" }, el("h2", { id: "facts-h", text: "Outcome" }),
          el("dl", { class: "facts" },
            fact("Model asked", d.requested_model), fact("Model id", d.model), fact("Latency", fmt.ms(d.latency_ms)),
            fact("Time to first token", d.ttft_ms === null ? null : fmt.ms(d.ttft_ms)), fact("Streamed", d.streamed ? "yes" : "no"),
            fact("Cache", SPK.cacheBadge(d.cache_status)), fact("Saved by the cache", d.saved_usd === null ? null : fmt.usd(d.saved_usd)),
            fact("Tokens", `${fmt.int(d.prompt_tokens)} in · ${fmt.int(d.completion_tokens)} out · ${fmt.int(d.total_tokens)} total`),
            fact("Cost", fmt.usd(d.cost_usd) + (d.cost_credits !== null ? " · " + fmt.compact(d.cost_credits) + " credits" : "")),
            fact("Error", d.error_type), fact("Gateway key", d.key ? el("span", { class: "mono", text: d.key }) : null),
            fact("User", d.user), fact("Provider key id", d.credential_id ? el("span", { class: "mono", text: d.credential_id }) : null),
            fact("Prompt", d.prompt ? d.prompt.id + " v" + d.prompt.version : null)))),
      el("section", { class: "panel", style: null, "aria-labelledby": "hooks-h" }, el("h2", { id: "hooks-h", text: "Guardrails" }), hookList(d.hooks || [])),
      Object.keys(d.metadata || {}).length ? el("section", { class: "panel", "aria-labelledby": "meta-h" }, el("h2", { id: "meta-h", text: "Metadata" }),
        el("dl", { class: "facts" }, Object.entries(d.metadata).map(([k, v]) => fact(k, v)))) : null,
    ].filter(Boolean));
    for (const panel of main.querySelectorAll("section.panel")) panel.style.marginTop = "12px";
  };
})();
