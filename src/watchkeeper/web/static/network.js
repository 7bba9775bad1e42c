// The network view: Cytoscape.js from /static/vendor; parties coloured by their status
// under the chosen ownership rule, statements styled by kind with their share, blocked
// paths in red; a click adds a party's neighbours; PNG and GraphML export.
// Every value from the server is put in the page as text, never as HTML.
(function () {
  "use strict";
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const box = document.getElementById("network");
  if (!page.entity || !box || !window.cytoscape) return;
  const expanded = [];
  const summary = document.getElementById("network-summary");
  const selected = document.getElementById("selected");

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function query(format) {
    const q = new URLSearchParams({ entity: page.entity, regime: page.regime, format });
    for (const e of expanded) q.append("expand", e);
    return `/web/api/network?${q}`;
  }

  const OWNERSHIP = ["ownership", "voting", "control"];
  const ASSETS = ["vessel_owner", "vessel_manager", "aircraft_operator"];
  const cy = window.cytoscape({
    container: box,
    style: [
      { selector: "node", style: {
        label: "data(label)", "font-size": 10, "text-wrap": "ellipsis", "text-max-width": 120,
        "text-valign": "bottom", "text-margin-y": 3, color: "#1b1f24",
        "background-color": "#8fb3d9", "border-width": 1, "border-color": "#3a3f47", width: 22, height: 22 } },
      { selector: "node[schema = 'Vessel'], node[schema = 'Airplane']", style: { shape: "round-triangle" } },
      { selector: "node[schema = 'Person']", style: { shape: "ellipse" } },
      { selector: "node[schema != 'Person'][schema != 'Vessel'][schema != 'Airplane']", style: { shape: "round-rectangle" } },
      { selector: "node[status = 'blocked']", style: { "background-color": "#c0161c" } },
      { selector: "node[status = 'possibly_blocked']", style: { "background-color": "#e89a3c" } },
      { selector: "node[?center]", style: { "border-width": 4, "border-color": "#0b57a4", width: 30, height: 30 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#c2410c" } },
      { selector: "edge", style: {
        width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
        "line-color": "#8a94a1", "target-arrow-color": "#8a94a1", "line-style": "dashed",
        label: "data(label)", "font-size": 9, "text-rotation": "autorotate", "text-background-color": "#ffffff",
        "text-background-opacity": 0.85, "text-background-padding": 1, color: "#1b1f24" } },
      { selector: OWNERSHIP.map((k) => `edge[kind = '${k}']`).join(", "), style: {
        "line-style": "solid", "line-color": "#3a3f47", "target-arrow-color": "#3a3f47", width: 2 } },
      { selector: ASSETS.map((k) => `edge[kind = '${k}']`).join(", "), style: {
        "line-style": "solid", "line-color": "#2f7d4a", "target-arrow-color": "#2f7d4a" } },
      { selector: "edge[?blocked]", style: { "line-color": "#c0161c", "target-arrow-color": "#c0161c", width: 3 } },
    ],
  });
  window.wk = Object.assign(window.wk || {}, { cy });

  // Only shares are written on the edges (colour and dash say the kind; a tap tells
  // all): a hundred "unknown link" labels hide the graph.
  function edgeLabel(rel) {
    return rel.share ? rel.share.text : "";
  }
  function edgeTitle(rel) {
    const kind = rel.kind.replace(/_/g, " ");
    return rel.share ? `${kind} ${rel.share.text}` : kind;
  }

  async function load() {
    const response = await fetch(query("json"), { headers: { Accept: "application/json" } });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    const net = await response.json();
    const fresh = [];
    for (const n of net.nodes) {
      const data = { id: n.id, label: n.name, schema: n.schema, status: n.status, center: n.center,
        listed: n.listed.join(", "), why: n.why, country: n.country || "" };
      const have = cy.getElementById(n.id);
      if (have.length) have.data(data); else fresh.push({ group: "nodes", data });
    }
    for (const r of net.relations) {
      const data = { id: `r:${r.id}`, source: r.holder, target: r.held, kind: r.kind,
        label: edgeLabel(r), title: edgeTitle(r), blocked: r.blocked_path, start: r.start || "", end: r.end || "", src: r.source };
      const have = cy.getElementById(data.id);
      if (have.length) have.data(data); else fresh.push({ group: "edges", data });
    }
    cy.add(fresh);
    cy.layout({ name: "cose", animate: false, randomize: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 90 }).run();
    cy.fit(undefined, 30);
    const blocked = net.relations.filter((r) => r.blocked_path).length;
    summary.textContent = `${cy.nodes().length} parties, ${cy.edges().length} statements (${blocked} on a blocked path) as of ${net.as_of}, ${net.regime.toUpperCase()} rule${net.truncated ? "; capped: not every neighbour is shown" : ""}.`;
    document.getElementById("export-graphml").href = query("graphml");
    listParties();
    window.wk.networkNodes = cy.nodes().length;
    window.wk.networkEdges = cy.edges().length;
    document.body.dataset.networkReady = String(expanded.length);
  }

  // The parties as a list too: reachable from the keyboard and by screen readers.
  function listParties() {
    const list = document.getElementById("party-list");
    list.replaceChildren();
    const nodes = cy.nodes().sort((a, b) => a.data("label").localeCompare(b.data("label")));
    nodes.forEach((node) => {
      const d = node.data();
      const li = el("li");
      const name = el("button", d.label, { type: "button", class: "link" });
      name.addEventListener("click", () => { cy.$(":selected").unselect(); node.select(); show(node); });
      li.append(name, " ", el("span", d.status.replace(/_/g, " "), { class: `badge ${d.status === "blocked" ? "bad" : d.status === "possibly_blocked" ? "warn" : "ok"}` }));
      if (!expanded.includes(d.id) && d.id !== page.entity) {
        const more = el("button", "add its neighbours", { type: "button", class: "secondary small" });
        more.addEventListener("click", () => expand(d.id));
        li.append(" ", more);
      }
      list.append(li);
    });
  }

  function expand(id) {
    if (expanded.includes(id) || id === page.entity) return;
    expanded.push(id);
    load().catch(fail);
  }

  function show(node) {
    const d = node.data();
    selected.replaceChildren();
    const dl = el("dl", null, { class: "facts" });
    const add = (k, v) => { if (v) dl.append(el("dt", k), el("dd", v)); };
    add("Name", d.label); add("Id", d.id); add("Kind", d.schema); add("Country", d.country);
    add("Listed", d.listed); add("Status", d.status.replace(/_/g, " ")); add("Why", d.why);
    const links = el("p");
    links.append(el("a", "Open its page", { href: `/entity/${encodeURIComponent(d.id)}` }), " · ",
      el("a", "Centre the network on it", { href: `/network?entity=${encodeURIComponent(d.id)}&regime=${page.regime}` }));
    selected.append(dl, links);
  }

  function fail(err) {
    const box2 = document.getElementById("network-error");
    box2.hidden = false;
    box2.textContent = `The network could not load: ${err.message}`;
  }

  cy.on("tap", "node", (e) => {
    const id = e.target.id();
    show(e.target);
    expand(id);
  });
  cy.on("dbltap", "node", (e) => { window.location.href = `/entity/${encodeURIComponent(e.target.id())}`; });
  cy.on("tap", "edge", (e) => {
    const d = e.target.data();
    selected.replaceChildren();
    const dl = el("dl", null, { class: "facts" });
    const add = (k, v) => { if (v) dl.append(el("dt", k), el("dd", v)); };
    add("Statement", d.title); add("Holder", d.source); add("Held", d.target);
    add("From", d.start); add("To", d.end); add("Source", d.src);
    add("Blocked path", d.blocked ? "yes" : "no");
    selected.append(dl);
  });
  document.getElementById("export-png").addEventListener("click", () => {
    const a = el("a", null, { href: cy.png({ full: true, scale: 2, bg: "#ffffff" }), download: "network.png" });
    document.body.append(a);
    a.click();
    a.remove();
  });
  document.getElementById("relayout").addEventListener("click", () => {
    cy.layout({ name: "cose", animate: false }).run();
  });
  load().catch(fail);
})();
