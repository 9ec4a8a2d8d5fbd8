// Shared helpers of the dashboard: calling the admin API, building elements, formatting numbers.
// Everything hangs off one global, SPK, so the page scripts stay plain files (no build step).
(function () {
  "use strict";
  const SPK = (window.SPK = { pages: {}, session: null });

  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }
  SPK.ApiError = ApiError;

  // fetch a JSON route of the admin API with the session cookie (and its CSRF token on changes)
  SPK.api = async function (path, options = {}) {
    const method = options.method || "GET";
    const headers = { Accept: "application/json" };
    if (method !== "GET" && SPK.session && SPK.session.csrf) headers["x-csrf-token"] = SPK.session.csrf;
    let body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
    if (response.status === 401) {
      window.location.assign("/ui/login?next=" + encodeURIComponent(window.location.pathname));
      throw new ApiError(401, "signed out");
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const message = (data && data.error && data.error.message) || response.status + " " + response.statusText;
      throw new ApiError(response.status, message, data);
    }
    return data;
  };

  // whether a route exists on this server (a 404 "no route" or 405 means: not available here)
  SPK.missingRoute = function (error) {
    return error instanceof ApiError && (error.status === 405 || (error.status === 404 && /no route/.test(error.message)));
  };

  // el("div", {class: "x", onclick: f}, child, "text", ...)
  SPK.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  SPK.clear = function (node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  };

  // the "not available on this server" state of a section whose routes this server does not have
  SPK.unavailable = function (what, routes) {
    return SPK.el("div", { class: "unavailable", role: "status" },
      SPK.el("p", { class: "unavailable-title", text: "Not available on this server" }),
      SPK.el("p", { class: "muted" }, what + " needs ", SPK.el("code", { text: routes }),
        ", which this server does not serve. A newer server (with a store) shows it here."));
  };

  SPK.errorBox = function (error) {
    return SPK.el("p", { class: "notice error", role: "alert", text: error.message || String(error) });
  };

  // --- formatting
  const nf = new Intl.NumberFormat("en-US");
  SPK.fmt = {
    int: (v) => (v === null || v === undefined ? "–" : nf.format(Math.round(v))),
    compact: (v) => {
      if (v === null || v === undefined) return "–";
      const a = Math.abs(v);
      if (a >= 1e9) return (v / 1e9).toFixed(1) + "B";
      if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
      if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
      return nf.format(Math.round(v * 100) / 100);
    },
    usd: (v) => {
      if (v === null || v === undefined) return "–";
      if (v !== 0 && Math.abs(v) < 0.01) return "$" + v.toFixed(5);
      return "$" + v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    },
    ms: (v) => {
      if (v === null || v === undefined) return "–";
      if (v >= 10000) return (v / 1000).toFixed(1) + " s";
      if (v >= 1000) return (v / 1000).toFixed(2) + " s";
      return (v >= 100 ? Math.round(v) : Math.round(v * 10) / 10) + " ms";
    },
    pct: (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(v < 0.1 && v > 0 ? 2 : 1) + " %"),
    day: (iso) => (iso ? new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "–"),
    time: (iso) => {
      if (!iso) return "–";
      const d = new Date(iso);
      return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    },
  };

  SPK.statusBadge = function (status, code) {
    const kind = status === "success" ? "ok" : status === "error" ? "bad" : "warn";
    return SPK.el("span", { class: "badge " + kind, text: status + (code ? " " + code : "") });
  };

  SPK.cacheBadge = function (status) {
    const kind = /HIT/.test(status) && !/MISS/.test(status) ? "ok" : "";
    return SPK.el("span", { class: "badge " + kind, text: status });
  };

  // a table from column specs [{label, value(row) -> node|string, num}] and rows
  SPK.table = function (columns, rows, rowAttrs) {
    return SPK.el("div", { class: "table-wrap" },
      SPK.el("table", {},
        SPK.el("thead", {}, SPK.el("tr", {}, columns.map((c) => SPK.el("th", { class: c.num ? "num" : c.cls, scope: "col", text: c.label })))),
        SPK.el("tbody", {}, rows.map((row) =>
          SPK.el("tr", rowAttrs ? rowAttrs(row) : {}, columns.map((c) => SPK.el("td", { class: c.num ? "num" : c.cls }, c.value(row))))))));
  };
})();
