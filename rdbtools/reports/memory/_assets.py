"""The style sheet and script of the HTML memory report, inlined into the page (no
network: no CDN, no font, no image fetched)."""

from __future__ import annotations

CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #dde1e8; --bg: #f6f7f9; --accent: #3b6fd8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--fg); background: var(--bg); }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: #c7cedb; }
main { padding: 10px 28px 40px; max-width: 1240px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px;
          padding: 14px 18px; margin: 16px 0; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 13px; margin: 10px 0 6px; color: var(--muted); text-transform: uppercase;
     letter-spacing: .04em; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.key { font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { flex: 1 1 150px; background: var(--bg); border-radius: 6px; padding: 10px 14px; }
.card b { display: block; font-size: 20px; }
.card span { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr));
        gap: 8px 24px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin: 6px 0; }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg .bar { fill: var(--accent); }
svg .muted { fill: var(--muted); }
#treemap { width: 100%; border: 1px solid var(--line); border-radius: 4px; background: #fff;
           display: block; }
#treemap g.node { cursor: pointer; }
#treemap g.node rect { stroke: #fff; stroke-width: 1; }
#treemap g.node:hover > rect { opacity: .85; }
#treemap .crumb { fill: #1d2330; cursor: pointer; }
#treemap .crumb-text { fill: #fff; }
#treemap .label { fill: #fff; pointer-events: none; }
#crumbs { margin: 0 0 8px; }
#crumbs a { color: var(--accent); cursor: pointer; text-decoration: underline; }
.note { color: var(--muted); font-size: 12px; }
#error { background: #fde8e8; color: #8a1c1c; border: 1px solid #e6a5a5; padding: 10px;
         border-radius: 6px; margin: 16px 0; }
"""

JS = r"""
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  function fail(msg) {
    var box = document.getElementById("error");
    box.hidden = false;
    box.textContent = "report script error: " + msg;
    document.body.setAttribute("data-rendered", "error");
  }
  window.addEventListener("error", function (e) { fail(e.message); });
  var D = JSON.parse(document.getElementById("report-data").textContent);

  function svgEl(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function text(parent, x, y, s, cls, anchor) {
    var t = svgEl("text", {x: x, y: y}, parent);
    if (cls) { t.setAttribute("class", cls); }
    if (anchor) { t.setAttribute("text-anchor", anchor); }
    t.textContent = s;
    return t;
  }
  function human(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0, x = n;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (i ? x.toFixed(1) : String(x)) + " " + units[i];
  }
  function pct(part, whole) { return whole ? (100 * part / whole).toFixed(1) + "%" : "-"; }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  // Horizontal bars: one row per bucket, bar length by memory, keys and share beside.
  function bars(svg, items) {
    var W = 540, row = 22, left = 130, right = 200;
    var max = 0;
    items.forEach(function (it) { max = Math.max(max, it.memory); });
    svg.setAttribute("viewBox", "0 0 " + W + " " + Math.max(row, items.length * row));
    svg.setAttribute("width", "100%");
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    items.forEach(function (it, i) {
      var g = svgEl("g", {"class": "row", "data-name": it.name, "data-keys": it.keys,
                          "data-memory": it.memory}, svg);
      var y = i * row;
      text(g, left - 6, y + 15, clip(it.name, 20), null, "end");
      var w = max ? (W - left - right) * it.memory / max : 0;
      svgEl("rect", {"class": "bar", x: left, y: y + 4, width: Math.max(w, it.keys ? 1 : 0),
                     height: row - 8}, g);
      text(g, left + w + 6, y + 15, human(it.memory) + " \u00b7 " + it.keys + " keys \u00b7 " +
           pct(it.memory, D.memory), "muted");
      var title = svgEl("title", {}, g);
      title.textContent = it.name + ": " + it.keys + " keys, " + it.memory + " bytes";
    });
  }

  // Per type: min .. max on a log scale, a box from p50 to p99, a tick at p90.
  function spreads(svg, which) {
    var W = 540, row = 26, left = 70, right = 20;
    var lo = Infinity, hi = 0;
    D.spreads.forEach(function (s) {
      lo = Math.min(lo, Math.max(1, s[which].min)); hi = Math.max(hi, s[which].max);
    });
    if (!isFinite(lo)) { lo = 1; }
    hi = Math.max(hi, lo * 10);
    var l0 = Math.log(lo), span = Math.log(hi) - l0 || 1;
    function xOf(v) { return left + (W - left - right) * (Math.log(Math.max(v, lo)) - l0) / span; }
    var h = (D.spreads.length + 1) * row;
    svg.setAttribute("viewBox", "0 0 " + W + " " + h);
    svg.setAttribute("width", "100%");
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    D.spreads.forEach(function (s, i) {
      var v = s[which], y = i * row + 6;
      var g = svgEl("g", {"class": "row", "data-type": s.type, "data-p50": v.p50,
                          "data-p90": v.p90, "data-p99": v.p99, "data-max": v.max}, svg);
      text(g, left - 6, y + 12, s.type, null, "end");
      svgEl("line", {x1: xOf(v.min), x2: xOf(v.max), y1: y + 8, y2: y + 8,
                     stroke: "#5b6475"}, g);
      svgEl("rect", {"class": "bar", x: xOf(v.p50), y: y + 2,
                     width: Math.max(2, xOf(v.p99) - xOf(v.p50)), height: 12}, g);
      svgEl("line", {x1: xOf(v.p90), x2: xOf(v.p90), y1: y, y2: y + 16, stroke: "#1d2330",
                     "stroke-width": 2}, g);
      var title = svgEl("title", {}, g);
      title.textContent = s.type + ": min " + v.min + ", p50 " + v.p50 + ", p90 " + v.p90 +
        ", p99 " + v.p99 + ", max " + v.max;
    });
    var y = D.spreads.length * row + 16;
    text(svg, left, y, String(lo), "muted", "start");
    text(svg, W - right, y, String(hi), "muted", "end");
  }

  // The prefix treemap: squarified rectangles; click a prefix to zoom into it, click the
  // bar at the top (or a link above) to zoom out.
  function worst(row, side) {
    var sum = 0, mx = 0, mn = Infinity;
    row.forEach(function (c) { sum += c.a; mx = Math.max(mx, c.a); mn = Math.min(mn, c.a); });
    var s2 = side * side, sum2 = sum * sum;
    return Math.max(s2 * mx / sum2, sum2 / (s2 * mn));
  }
  function squarify(items, x, y, w, h) {
    var out = [], total = 0;
    items.forEach(function (it) { total += it.v; });
    if (total <= 0 || w <= 0 || h <= 0) { return out; }
    var scale = w * h / total;
    var rest = items.filter(function (it) { return it.v > 0; })
                    .map(function (it) { return {it: it, a: it.v * scale}; });
    while (rest.length) {
      var side = Math.min(w, h), row = [], best = Infinity, i = 0;
      while (i < rest.length) {
        var cand = row.concat([rest[i]]), r = worst(cand, side);
        if (row.length && r > best) { break; }
        row = cand; best = r; i++;
      }
      var area = 0;
      row.forEach(function (c) { area += c.a; });
      var thick = area / side;
      if (!(thick > 0)) { break; }
      if (w >= h) {
        var yy = y;
        row.forEach(function (c) {
          out.push({it: c.it, x: x, y: yy, w: thick, h: c.a / thick}); yy += c.a / thick;
        });
        x += thick; w -= thick;
      } else {
        var xx = x;
        row.forEach(function (c) {
          out.push({it: c.it, x: xx, y: y, w: c.a / thick, h: thick}); xx += c.a / thick;
        });
        y += thick; h -= thick;
      }
      rest = rest.slice(i);
    }
    return out;
  }
  var PALETTE = ["#3b6fd8", "#d8573b", "#2f9e6e", "#9b59b6", "#d89b3b", "#2b9bb5",
                 "#c0392b", "#6c7a89", "#8e6c3b", "#5d8c2a"];
  function parents(node) {
    var path = [];
    for (var n = node; n; n = n.parent) { path.unshift(n); }
    return path;
  }
  function link(node, parent) {
    (node.c || []).forEach(function (ch, i) {
      ch.parent = node;
      ch.color = parent ? node.color : PALETTE[i % PALETTE.length];
      link(ch, node);
    });
  }
  var tree = D.tree, current = tree;
  tree.color = PALETTE[0];
  link(tree, null);

  function label(g, x, y, w, s) {
    if (w > 40) { text(g, x + 4, y + 14, clip(s, Math.floor((w - 8) / 7)), "label"); }
  }
  function drawTree(node) {
    current = node;
    var svg = document.getElementById("treemap");
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var W = 1180, H = 560, top = 26;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("data-zoom", node.n);
    var path = parents(node);
    var crumb = svgEl("g", {"class": "crumb-bar"}, svg);
    svgEl("rect", {"class": "crumb", x: 0, y: 0, width: W, height: top - 2}, crumb);
    text(crumb, 8, 17, path.map(function (n) { return n.n; }).join("  \u203a  ") + "   (" +
         human(node.v) + ", " + node.k + " keys" +
         (node.parent ? "; click here to zoom out)" : ")"), "crumb-text");
    crumb.addEventListener("click", function () { if (node.parent) { drawTree(node.parent); } });
    var crumbs = document.getElementById("crumbs");
    while (crumbs.firstChild) { crumbs.removeChild(crumbs.firstChild); }
    path.forEach(function (n, i) {
      if (i) { crumbs.appendChild(document.createTextNode(" \u203a ")); }
      if (n === node) {
        var b = document.createElement("b"); b.textContent = n.n; crumbs.appendChild(b);
      } else {
        var a = document.createElement("a"); a.textContent = n.n;
        a.addEventListener("click", function () { drawTree(n); });
        crumbs.appendChild(a);
      }
    });
    squarify(node.c || [], 0, top, W, H - top).forEach(function (cell) {
      var ch = cell.it;
      var g = svgEl("g", {"class": "node", "data-prefix": ch.n, "data-memory": ch.v,
                          "data-keys": ch.k}, svg);
      svgEl("rect", {x: cell.x, y: cell.y, width: cell.w, height: cell.h, fill: ch.color,
                     opacity: ch.rest ? 0.55 : 1}, g);
      var title = svgEl("title", {}, g);
      title.textContent = ch.n + "\n" + ch.k + " keys, " + ch.v + " bytes (" +
        human(ch.v) + ", " + pct(ch.v, D.memory) + " of all)" +
        (ch.c && ch.c.length ? "\nclick to zoom in" : "");
      label(g, cell.x, cell.y, cell.w, ch.n + " " + human(ch.v));
      if (ch.c && ch.c.length && cell.w > 30 && cell.h > 40) {
        squarify(ch.c, cell.x + 3, cell.y + 20, cell.w - 6, cell.h - 23).forEach(function (sub) {
          svgEl("rect", {x: sub.x, y: sub.y, width: sub.w, height: sub.h, fill: "#ffffff",
                         "fill-opacity": sub.it.rest ? 0.08 : 0.22, "class": "sub"}, g);
          if (sub.h > 18) { label(g, sub.x, sub.y, sub.w, sub.it.n); }
        });
      }
      if (ch.c && ch.c.length) {
        g.addEventListener("click", function () { drawTree(ch); });
      }
    });
  }
  function find(node, name) {
    if (node.n === name) { return node; }
    var kids = node.c || [];
    for (var i = 0; i < kids.length; i++) {
      var hit = find(kids[i], name);
      if (hit) { return hit; }
    }
    return null;
  }

  document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
    var name = svg.getAttribute("data-chart");
    if (name === "elements" || name === "memory") { spreads(svg, name); }
    else { bars(svg, D.charts[name] || []); }
  });
  var start = tree;
  var m = /^#prefix=(.*)$/.exec(window.location.hash);
  if (m) { start = find(tree, decodeURIComponent(m[1])) || tree; }
  drawTree(start);
  if (document.body.getAttribute("data-rendered") !== "error") {
    document.body.setAttribute("data-rendered", "ok");
  }
})();
"""
