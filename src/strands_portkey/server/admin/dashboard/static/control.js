// Providers & keys, and Models: the control plane's state, with the actions an operator needs.
// Each section asks its own routes; a route this server does not serve shows "not available".
(function () {
  "use strict";
  const SPK = window.SPK;
  const { el, fmt } = SPK;
  const pick = (o, ...names) => { for (const n of names) if (o && o[n] !== undefined && o[n] !== null) return o[n]; return undefined; };
  const listOf = (answer) => (Array.isArray(answer) ? answer : (answer && (answer.data || answer.providers || answer.keys)) || []);

  // a panel filled by draw(); returns a function that draws it again
  function section(main, title, routes, draw) {
    const box = el("section", { class: "panel", "aria-label": title, style: null }, el("h2", { text: title }), el("p", { class: "empty", text: "Loading…" }));
    box.style.marginBottom = "12px";
    main.append(box);
    const fill = async () => {
      try {
        const content = await draw();
        SPK.clear(box).append(el("h2", { text: title }), content);
      } catch (error) {
        if (error.status === 401) return;
        SPK.clear(box).append(el("h2", { text: title }), SPK.missingRoute(error) ? SPK.unavailable(title, routes) : SPK.errorBox(error));
      }
    };
    fill();
    return fill;
  }

  // ------------------------------------------------------------------ providers and keys

  async function health() {
    const answer = await SPK.api("/api/ai-providers/health");
    const rows = [];
    for (const [provider, keys] of Object.entries(answer.providers || {})) {
      for (const [name, state] of Object.entries(keys)) rows.push({ provider, name, running: state.running });
    }
    if (!rows.length) return el("p", { class: "muted", text: "No provider credentials are stored yet." });
    const down = rows.filter((r) => !r.running).length;
    return el("div", {},
      el("p", {}, el("span", { class: "badge " + (down ? "bad" : "ok"), text: down ? down + " down" : "all running" }),
        el("span", { class: "muted", text: " · checked " + fmt.time(answer.timestamp) })),
      SPK.table([
        { label: "Provider", value: (r) => r.provider },
        { label: "Credential", value: (r) => r.name },
        { label: "State", value: (r) => el("span", { class: "badge " + (r.running ? "ok" : "bad"), text: r.running ? "running" : "down" }) },
      ], rows));
  }

  function credentialRow(provider, c, redraw, results) {
    const active = pick(c, "active", "isActive", "is_active");
    const state = el("span", { class: "badge " + (active ? "ok" : "bad"), "data-state": active ? "active" : "inactive", text: active ? "active" : "inactive" });
    const result = el("span", { class: "muted small", role: "status", text: results.get(c.id) || "" });
    const test = el("button", { type: "button", class: "test", text: "Test", "aria-label": "Test " + c.name });
    test.addEventListener("click", async () => {
      test.disabled = true;
      result.textContent = "testing…";
      try {
        const answer = await SPK.api(`/api/ai-providers/${encodeURIComponent(provider.id)}/credentials/${encodeURIComponent(c.id)}/check`);
        const ok = pick(answer, "success", "valid", "running", "active");
        results.set(c.id, (ok ? "works" : "failed") + (pick(answer, "message", "error") ? ": " + pick(answer, "message", "error") : ""));
        await redraw();
      } catch (error) {
        result.textContent = error.message;
      } finally {
        test.disabled = false;
      }
    });
    return {
      provider: pick(provider, "displayName", "display_name", "name"),
      name: c.name,
      state,
      weight: pick(c, "weight"),
      error: pick(c, "lastError", "error", "last_error") || "",
      masked: pick(c, "maskedValue", "maskedKey", "masked_key", "masked") || "",
      tested: pick(c, "lastTestedAt", "last_tested_at"),
      action: el("span", {}, test, " ", result),
    };
  }

  async function credentials(onTested) {
    const results = new Map(); // the last Test answer of each credential, kept across redraws
    const draw = async () => {
      const providers = listOf(await SPK.api("/api/ai-providers"));
      const rows = [];
      for (const p of providers) for (const c of p.credentials || []) rows.push(credentialRow(p, c, () => redraw(), results));
      if (!rows.length) return el("p", { class: "muted", text: providers.length ? "Providers exist but hold no credentials." : "No providers are configured." });
      return SPK.table([
        { label: "Provider", value: (r) => r.provider },
        { label: "Credential", value: (r) => r.name },
        { label: "State", value: (r) => r.state },
        { label: "Weight", num: true, value: (r) => (r.weight === undefined ? "–" : String(r.weight)) },
        { label: "Key", value: (r) => el("span", { class: "mono", text: r.masked }) },
        { label: "Last error", cls: "wrap", value: (r) => el("span", { title: r.error, text: r.error.length > 90 ? r.error.slice(0, 90) + "…" : r.error }) },
        { label: "Last tested", cls: "hide-narrow", value: (r) => (r.tested ? fmt.time(r.tested) : "never") },
        { label: "", value: (r) => r.action },
      ], rows);
    };
    const holder = el("div", { class: "creds" });
    const redraw = async () => {
      holder.replaceChildren(await draw());
      if (onTested) onTested();
    };
    holder.replaceChildren(await draw());
    return holder;
  }

  // a key's limits and what it used of them now (GET /api/keys/{id}/usage)
  function usageText(u) {
    const parts = [];
    for (const r of u.rate_limits || []) {
      const used = r.remaining === null || r.remaining === undefined ? "?" : fmt.compact(Math.max(r.value - r.remaining, 0));
      const per = { rps: "second", rpm: "minute", rph: "hour", rpd: "day" }[r.unit] || r.unit;
      parts.push(`${used} / ${fmt.compact(r.value)} ${r.type} per ${per}`);
    }
    for (const l of u.usage_limits || []) {
      const used = l.used === null || l.used === undefined ? "?" : fmt.compact(l.used);
      parts.push(`${used} / ${fmt.compact(l.credit_limit)} credits` + (l.periodic_reset ? " this " + l.periodic_reset.replace("ly", "") : "") + (l.alerting ? " (alert)" : ""));
    }
    if (!parts.length) return "no limits";
    return parts.join(" · ") + (u.counted_in ? "" : " (not counted on this server)");
  }

  function usageCell(k) {
    const cell = el("span", { class: "muted", text: "…" });
    SPK.api(`/api/keys/${encodeURIComponent(k.id)}/usage`)
      .then((u) => { cell.className = ""; cell.textContent = usageText(u); })
      .catch((error) => { cell.textContent = SPK.missingRoute(error) ? "–" : error.message; });
    return cell;
  }

  async function gatewayKeys() {
    const keys = listOf(await SPK.api("/api/keys?limit=100"));
    if (!keys.length) return el("p", { class: "muted", text: "No gateway API keys yet." });
    const state = { active: "ok", expired: "warn", revoked: "bad" };
    return SPK.table([
      { label: "Name", value: (k) => k.name },
      { label: "Key", value: (k) => el("span", { class: "mono", text: k.masked_key || k.id }) },
      { label: "User", value: (k) => (k.user || "–") + (k.organization_id ? " · " + k.organization_id : "") },
      { label: "Role", value: (k) => el("span", { class: "badge", text: k.role || "member" }) },
      { label: "State", value: (k) => el("span", { class: "badge " + (state[k.status] || ""), text: k.status || "active" }) },
      { label: "Usage against limits", value: (k) => (k.status === "active" ? usageCell(k) : "–") },
    ], keys);
  }

  SPK.pages.providers = function (main) {
    main.append(el("div", { class: "page-head" }, el("div", {}, el("h1", { text: "Providers & keys" }),
      el("p", { class: "muted", text: "Which provider keys work, how traffic is spread over them, and the gateway keys in use." }))));
    const refreshHealth = section(main, "Provider health", "/api/ai-providers/health", health);
    section(main, "Provider credentials", "/api/ai-providers", () => credentials(refreshHealth));
    section(main, "Gateway API keys", "/api/keys", gatewayKeys);
  };

  // ------------------------------------------------------------------ models

  async function modelsOverview() {
    const o = await SPK.api("/api/ai/models/overview");
    const card = (label, value) => el("div", { class: "panel card" }, el("div", { class: "label", text: label }), el("div", { class: "value", text: fmt.int(value) }));
    return el("div", { class: "cards compact" }, Object.entries(o).filter(([, v]) => typeof v === "number").map(([k, v]) => card(k.replace(/_/g, " "), v)));
  }

  const selfHosted = (m) => m.type === "self-hosted" || m.type === "self_hosted";

  // replicas of a self-hosted model, from GET /api/ai/models/{id}/status
  function replicasCell(m) {
    if (!selfHosted(m)) return "–";
    const cell = el("span", { class: "muted", text: "…" });
    SPK.api(`/api/ai/models/${encodeURIComponent(m.id)}/status`)
      .then((s) => { cell.className = ""; cell.textContent = `${s.ready_replicas} / ${s.replicas} ready`; })
      .catch(() => { cell.textContent = "–"; });
    return cell;
  }

  function logText(answer) {
    const logs = answer && answer.logs;
    if (typeof logs === "string") return logs;
    if (logs && typeof logs === "object") return Object.entries(logs).map(([replica, text]) => `== ${replica}\n${text}`).join("\n");
    return JSON.stringify(answer, null, 2);
  }

  function modelActions(m, refresh, logsBox) {
    if (!selfHosted(m)) return "";
    const act = async (action, button) => {
      button.disabled = true;
      try {
        await SPK.api(`/api/ai/models/${encodeURIComponent(m.id)}/${action}`, { method: "POST", json: action === "deploy" ? {} : undefined });
        await refresh();
      } catch (error) {
        logsBox.replaceChildren(SPK.errorBox(error));
      } finally {
        button.disabled = false;
      }
    };
    const logs = async () => {
      try {
        const answer = await SPK.api(`/api/ai/models/${encodeURIComponent(m.id)}/logs?lines=200`);
        logsBox.replaceChildren(el("h3", { text: "Logs of " + m.name }), el("pre", { class: "mono logs", tabindex: "0", text: logText(answer) || "(empty)" }));
      } catch (error) {
        logsBox.replaceChildren(SPK.errorBox(error));
      }
    };
    const button = (label, action) => {
      const b = el("button", { type: "button", text: label });
      b.addEventListener("click", () => (action ? act(action, b) : logs()));
      return b;
    };
    return el("span", { class: "controls" }, button("Deploy", "deploy"), button("Start", "start"), button("Stop", "stop"), button("Logs", null));
  }

  SPK.pages.models = function (main) {
    main.append(el("div", { class: "page-head" }, el("div", {}, el("h1", { text: "Models" }),
      el("p", { class: "muted", text: "The model registry: third-party and self-hosted models, their status and replicas." }))));
    section(main, "Registry overview", "/api/ai/models/overview", modelsOverview);
    const logsBox = el("div", { "aria-live": "polite" });
    const search = el("input", { type: "search", placeholder: "Search models", "aria-label": "Search models" });
    const type = el("select", { "aria-label": "Type" }, [["", "any type"], ["third-party", "third-party"], ["self-hosted", "self-hosted"]].map(([v, t]) => el("option", { value: v, text: t })));
    const status = el("select", { "aria-label": "Status" }, ["", "active", "deploying", "stopped", "failed"].map((v) => el("option", { value: v, text: v || "any status" })));
    section(main, "Registered models", "/api/ai/models", async () => {
      const holder = el("div");
      const refresh = async () => {
        const q = new URLSearchParams({ limit: "100" });
        if (search.value) q.set("search", search.value);
        if (type.value) q.set("type", type.value);
        if (status.value) q.set("status", status.value);
        const models = listOf(await SPK.api("/api/ai/models?" + q));
        const badge = (v) => (/active|running|ready/.test(v) ? "ok" : /fail|error/.test(v) ? "bad" : /deploy/.test(v) ? "warn" : "");
        holder.replaceChildren(models.length ? SPK.table([
          { label: "Name", value: (m) => m.name },
          { label: "Type", value: (m) => m.type || "–" },
          { label: "Provider", value: (m) => m.provider || "–" },
          { label: "Kind", cls: "hide-narrow", value: (m) => m.model_type || "–" },
          { label: "Status", value: (m) => el("span", { class: "badge " + badge(m.status || ""), text: m.status || "–" }) },
          { label: "Replicas", value: replicasCell },
          { label: "", value: (m) => modelActions(m, refresh, logsBox) },
        ], models) : el("p", { class: "muted", text: "No models match." }));
      };
      await refresh();
      for (const input of [search, type, status]) input.addEventListener("change", refresh);
      return el("div", {}, el("div", { class: "controls" }, search, type, status), holder, logsBox);
    });
  };
})();
