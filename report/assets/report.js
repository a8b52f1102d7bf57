// decompose HTML report: draws the plan with cytoscape.js and shows the
// evidence of whatever is clicked. Every string here came from a trace:
// it is only ever put in the page with textContent (never innerHTML) and
// drawn by cytoscape on a canvas.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("plan-data").textContent);
  var plan = data.plan;
  var colors = {
    file: "#d62728", config: "#7f7f7f", dir: "#ff7f0e", pipe: "#8c564b", fifo: "#e377c2",
    unix: "#9467bd", tcp: "#1f77b4", udp: "#17becf", shm: "#bcbd22", signal: "#2ca02c"
  };

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function list(v) { return (v || []).join(", "); }

  function time(ns) {
    if (!ns) { return "-"; }
    var d = new Date(Number(ns) / 1e6);
    return isNaN(d.getTime()) ? String(ns) : d.toISOString();
  }

  function bytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    n = Number(n) || 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(1)) + " " + units[i];
  }

  // facts renders [label, value] pairs as a definition list.
  function facts(rows) {
    var dl = el("dl");
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null || r[1] === "") { return; }
      dl.appendChild(el("dt", r[0]));
      dl.appendChild(el("dd", r[1]));
    });
    return dl;
  }

  // table renders rows of cells under a header.
  function table(head, rows) {
    var t = el("table"), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", h)); });
    t.appendChild(el("thead")).appendChild(tr);
    var body = t.appendChild(el("tbody"));
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c) { row.appendChild(el("td", c)); });
      body.appendChild(row);
    });
    return t;
  }

  function showPod(p) {
    return [el("h3", "pod " + p.name), facts([
      ["workload", p.workload], ["components", list(p.components)],
      ["services", (p.services || []).map(function (s) { return s.name + " " + s.protocol + "/" + s.port + (s.exposed ? " (exposed)" : ""); }).join("; ")],
      ["volumes", (p.volumes || []).map(function (v) { return v.name + ": " + v.kind + " at " + v.path + " (" + v.why + ")"; }).join("; ")],
      ["config", (p.configMaps || []).map(function (c) { return c.name + ": " + list(c.files); }).join("; ")],
      ["secrets", (p.secrets || []).map(function (s) { return s.name + ": " + s.keys + " from " + s.component; }).join("; ")],
      ["share process namespace", p.shareProcessNamespace ? "yes" : "no"],
      ["why together", (p.why || []).join("; ")]
    ])];
  }

  function showComponent(c) {
    var traits = [c.exposed ? "exposed" : "", c.stateful ? "stateful" : "", c.backing ? "backing service" : ""].filter(Boolean);
    var couplings = plan.couplings.filter(function (k) { return (k.components || []).indexOf(c.name) >= 0; });
    return [el("h3", "component " + c.name), facts([
      ["executable", c.exe], ["script", c.script], ["command", (c.command || []).join(" ")],
      ["processes", c.processes], ["users", list(c.users)], ["uids", list(c.uids)],
      ["listens", list(c.listens)], ["traits", traits.join(", ")], ["data directories", list(c.dataDirs)],
      ["hosts", list(c.hosts)], ["redacted secrets", c.secrets || ""],
      ["couplings", couplings.map(function (k) { return k.kind + " " + k.resource; }).join("; ")]
    ]), el("h4", "processes"), table(["host", "pid", "ppid", "executable", "argv", "uid", "started", "exited"],
      (c.members || []).map(function (m) { return [m.host, m.pid, m.ppid, m.exe, (m.argv || []).join(" "), m.uid, time(m.startNs), time(m.exitNs)]; }))];
  }

  function showCoupling(k) {
    var ev = k.evidence || {};
    var res = (ev.resources || []).join(", ");
    if (ev.resourcesTotal > (ev.resources || []).length) { res += " (" + ev.resourcesTotal + " in all)"; }
    return [el("h3", k.kind + " " + k.resource), facts([
      ["components", list(k.components)], ["from", list(k.from)], ["distance", k.distance],
      ["hidden", k.hidden ? "yes" : "no"], ["crosses pods", k.crossesPods ? "yes" : "no"],
      ["bytes", bytes(k.bytes)], ["operations", k.count], ["why", k.why], ["remedy", k.remedy],
      ["first seen", time(ev.firstNs)], ["last seen", time(ev.lastNs)], ["hosts", list(ev.hosts)], ["resources", res]
    ]), el("h4", "processes"), table(["component", "host", "pid", "executable", "role", "reads", "read bytes", "writes", "written bytes"],
      (ev.processes || []).map(function (p) { return [p.component, p.host, p.pid, p.exe, p.role, p.reads, bytes(p.readBytes), p.writes, bytes(p.writeBytes)]; }))]
      .concat(k.code && k.code.length ? [el("h4", "code"), table(["component", "binary", "position", "function", "call", "match"],
        k.code.map(function (s) { return [s.component, s.binary, s.pos, s.function, s.call, s.match]; }))] : []);
  }

  function show(d) {
    var panel = document.getElementById("details");
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.appendChild(el("h2", "Evidence"));
    var parts = d.kind === "pod" ? showPod(plan.pods[d.ref]) :
      d.kind === "component" ? showComponent(plan.components[d.ref]) : showCoupling(plan.couplings[d.ref]);
    parts.forEach(function (p) { panel.appendChild(p); });
    document.body.setAttribute("data-selected", d.id);
  }

  function legend() {
    var box = document.getElementById("legend");
    Object.keys(colors).forEach(function (k) {
      var item = el("span", k, "legend-item");
      item.style.borderColor = colors[k];
      box.appendChild(item);
    });
    box.appendChild(el("span", "dashed: crosses pods; width: bytes", "legend-note"));
  }

  var style = [
    { selector: "node", style: { "label": "data(label)", "font-size": 11, "text-valign": "center", "text-halign": "center",
      "background-color": "#e8eef7", "border-width": 1, "border-color": "#4a6fa5", "shape": "round-rectangle",
      "width": "data(w)", "height": 28, "padding": "6px", "text-wrap": "ellipsis", "text-max-width": 160 } },
    { selector: "node[kind = 'pod']", style: { "text-valign": "top", "background-color": "#f6f8fb", "border-style": "dashed",
      "border-color": "#888", "font-weight": "bold" } },
    { selector: "edge", style: { "curve-style": "bezier", "target-arrow-shape": "triangle", "width": "data(width)",
      "label": "data(label)", "font-size": 9, "text-rotation": "autorotate", "text-background-color": "#fff",
      "text-background-opacity": 0.8 } },
    { selector: "edge[?cross]", style: { "line-style": "dashed" } },
    { selector: ":selected", style: { "overlay-color": "#000", "overlay-opacity": 0.15 } }
  ];
  Object.keys(colors).forEach(function (k) {
    style.push({ selector: "edge[kind = '" + k + "']", style: { "line-color": colors[k], "target-arrow-color": colors[k] } });
  });

  var cy = cytoscape({ container: document.getElementById("cy"), elements: data.elements, style: style,
    layout: { name: "cose", animate: false, randomize: false, nodeDimensionsIncludeLabels: true, padding: 20 } });
  cy.on("tap", "node, edge", function (evt) { show(evt.target.data()); });
  legend();
  var hash = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (hash) {
    var target = cy.getElementById(hash);
    if (target.nonempty()) { target.select(); show(target.data()); }
  }
  document.body.setAttribute("data-nodes", String(cy.nodes().length));
  document.body.setAttribute("data-edges", String(cy.edges().length));
  document.body.setAttribute("data-ready", "1");
})();
