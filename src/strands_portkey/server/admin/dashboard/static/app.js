// The dashboard's shell: who is signed in, the navigation, and which page the path names.
(function () {
  "use strict";
  const SPK = window.SPK;
  let leaving = [];

  function route(path) {
    const parts = path.replace(/\/+$/, "").split("/").slice(2); // after "/ui"
    if (parts[0] === "requests" && parts[1]) return { page: "request", arg: decodeURIComponent(parts[1]), nav: "requests" };
    const page = parts[0] && SPK.pages[parts[0]] ? parts[0] : "overview";
    return { page, nav: page };
  }

  function render() {
    leaving.forEach((f) => f());
    leaving = [];
    SPK.dropCharts();
    const main = SPK.clear(document.getElementById("main"));
    const { page, arg, nav } = route(window.location.pathname);
    for (const link of document.querySelectorAll(".topbar nav a")) {
      if (link.dataset.page === nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const titles = { overview: "Overview", requests: "Requests", request: "Request", providers: "Providers & keys", models: "Models", configs: "Configs" };
    document.title = titles[page] + " · strands-portkey gateway";
    SPK.pages[page](main, { onLeave: (f) => leaving.push(f) }, arg);
  }
  SPK.render = render;

  async function start() {
    try {
      SPK.session = await SPK.api("/ui/session");
    } catch (error) {
      if (error.status !== 401) document.getElementById("main").append(SPK.errorBox(error));
      return;
    }
    const s = SPK.session;
    document.getElementById("who").textContent = `${s.user || s.name} · ${s.role}` + (s.organizationId ? ` · ${s.organizationId}` : "");
    if (s.csrf) {
      document.getElementById("csrf").value = s.csrf;
      document.getElementById("logout").hidden = false;
    }
    render();
    // re-draw the charts in the other palette when the system switches between light and dark
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", render);
  }
  start();
})();
