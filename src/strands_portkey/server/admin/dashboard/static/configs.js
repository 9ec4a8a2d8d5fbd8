// Configs: a saved (or pasted) config drawn as its plan tree -- strategies, targets, weights, what
// each leaf inherits -- with a validation error shown at the node it concerns.
(function () {
  "use strict";
  const SPK = window.SPK;
  const { el } = SPK;
  const listOf = (answer) => (Array.isArray(answer) ? answer : (answer && answer.data) || []);

  function describe(value) {
    if (value === null || value === undefined) return "";
    if (typeof value !== "object") return String(value);
    if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? v.id || JSON.stringify(v) : v)).join(", ");
    return Object.entries(value).map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join(", ");
  }

  function planNode(node, siblings) {
    const share = siblings && siblings.mode === "loadbalance" ? siblings.total : 0;
    const weight = share ? `weight ${node.weight} (${Math.round((node.weight / share) * 100)} %)` : null;
    if (node.kind === "strategy") {
      const total = node.targets.reduce((sum, t) => sum + t.weight, 0);
      const meta = [weight, node.on_status_codes ? "falls back on " + node.on_status_codes.join(", ") : null,
        node.conditions.length ? node.conditions.length + " conditions" : null, node.default !== null ? "default: target " + node.default : null].filter(Boolean);
      return el("li", {},
        el("div", { class: "node", "data-path": node.path },
          el("span", { class: "title", text: (node.name ? node.name + " · " : "") + node.mode }),
          el("span", { class: "meta mono", text: node.path }), meta.length ? el("span", { class: "meta", text: meta.join(" · ") }) : null),
        el("ul", {}, node.targets.map((t) => planNode(t, { mode: node.mode, total }))));
    }
    const inherited = Object.entries(node.inherited || {});
    return el("li", {},
      el("div", { class: "node", "data-path": node.path },
        el("span", { class: "title", text: [node.name, node.provider, node.model].filter(Boolean).join(" · ") || "target" }),
        el("span", { class: "meta mono", text: node.path }),
        el("span", { class: "meta", text: [weight, node.virtual_key ? "virtual key " + node.virtual_key : null, node.api_key ? "api key set" : null,
          node.retry ? "retry ×" + node.retry.attempts : null, node.cache ? "cache " + node.cache : null].filter(Boolean).join(" · ") }),
        inherited.length ? el("span", { class: "meta" }, el("strong", { text: "inherits " }), inherited.map(([k, v]) => k + ": " + describe(v)).join("; ")) : null));
  }

  // a config that does not validate: its raw shape, with the error at the deepest node its path names
  function rawNode(raw, path, error) {
    const marked = error.path === path || (error.path.startsWith(path + ".") && !hasDeeper(raw, path, error.path));
    const targets = raw && Array.isArray(raw.targets) ? raw.targets : [];
    const mode = raw && raw.strategy && typeof raw.strategy === "object" ? raw.strategy.mode : null;
    const title = [raw && raw.name, mode, raw && raw.provider, raw && raw.override_params && raw.override_params.model].filter(Boolean).join(" · ") || (targets.length ? "strategy" : "target");
    return el("li", {},
      el("div", { class: "node" + (marked ? " error" : ""), "data-path": path },
        el("span", { class: "title", text: title }), el("span", { class: "meta mono", text: path }),
        marked ? el("span", { class: "err", role: "alert", text: error.message }) : null),
      targets.length ? el("ul", {}, targets.map((t, i) => rawNode(t, `${path}.targets[${i}]`, error))) : null);
  }

  function hasDeeper(raw, path, errorPath) {
    const targets = raw && Array.isArray(raw.targets) ? raw.targets : [];
    return targets.some((_, i) => errorPath === `${path}.targets[${i}]` || errorPath.startsWith(`${path}.targets[${i}].`) || errorPath.startsWith(`${path}.targets[${i}][`));
  }

  async function draw(holder, config, title) {
    holder.replaceChildren(el("p", { class: "empty", text: "Drawing…" }));
    try {
      const answer = await SPK.api("/api/dashboard/config-tree", { method: "POST", json: { config } });
      if (answer.valid) {
        holder.replaceChildren(el("p", {}, title ? el("strong", { text: title + " " }) : null, el("span", { class: "badge ok", text: "valid" })), el("ul", { class: "tree", "aria-label": "Config tree" }, planNode(answer.tree, null)));
      } else {
        holder.replaceChildren(el("p", { class: "notice error", role: "alert" }, el("strong", { text: answer.error.path + ": " }), answer.error.message),
          el("ul", { class: "tree", "aria-label": "Config tree with the error marked" }, rawNode(config, "config", answer.error)));
      }
    } catch (error) {
      holder.replaceChildren(SPK.errorBox(error));
    }
  }

  SPK.pages.configs = function (main) {
    main.append(el("div", { class: "page-head" }, el("div", {}, el("h1", { text: "Configs" }),
      el("p", { class: "muted", text: "Routing configs as the gateway runs them: strategy, targets, weights and what each target inherits." }))));
    const tree = el("div", { id: "config-tree" }, el("p", { class: "muted", text: "Choose a saved config, or paste one in \"Check a config\"." }));
    const saved = el("section", { class: "panel", "aria-label": "Saved configs" }, el("h2", { text: "Saved configs" }), el("p", { class: "empty", text: "Loading…" }));
    const text = el("textarea", { id: "config-text", "aria-label": "Config JSON", spellcheck: "false",
      placeholder: '{"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai"}, {"provider": "anthropic"}]}' });
    const check = el("form", { class: "stack" }, el("label", { for: "config-text", text: "Paste a config (JSON) to check it" }), text,
      el("div", {}, el("button", { type: "submit", class: "primary", text: "Draw and check" })));
    check.addEventListener("submit", (event) => {
      event.preventDefault();
      let config;
      try {
        config = JSON.parse(text.value);
      } catch (error) {
        tree.replaceChildren(el("p", { class: "notice error", role: "alert", text: "Not JSON: " + error.message }));
        return;
      }
      draw(tree, config);
    });
    main.append(el("div", { class: "grid-2" }, saved, el("section", { class: "panel", "aria-label": "Check a config" }, el("h2", { text: "Check a config" }), check)),
      el("section", { class: "panel", style: null, "aria-label": "Tree" }, el("h2", { text: "Tree" }), tree));
    main.lastChild.style.marginTop = "12px";
    (async () => {
      try {
        const configs = listOf(await SPK.api("/api/configs?limit=100"));
        const content = configs.length
          ? SPK.table([
              { label: "Name", value: (c) => el("button", { type: "button", class: "ghost", text: c.name || c.id, onclick: () => draw(tree, c.config || {}, c.name) }) },
              { label: "Id", value: (c) => el("span", { class: "mono", text: c.id }) },
              { label: "Version", num: true, value: (c) => String(c.version ?? c.latest_version ?? "–") },
            ], configs)
          : el("p", { class: "muted", text: "No saved configs yet." });
        saved.replaceChildren(el("h2", { text: "Saved configs" }), content);
        if (configs.length) draw(tree, configs[0].config || {}, configs[0].name);
      } catch (error) {
        if (error.status === 401) return;
        saved.replaceChildren(el("h2", { text: "Saved configs" }), SPK.missingRoute(error) ? SPK.unavailable("Saved configs", "/api/configs") : SPK.errorBox(error));
      }
    })();
  };
})();
