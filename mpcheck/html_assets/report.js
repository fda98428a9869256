/* mpcheck --html: the page's script (inlined into the report).  Reads the
 * JSON blob (mpcheck/htmldata.py describes its shapes) and draws: the
 * verdict, the findings with stacks and source, the process list, the
 * selected process's leak groups (kept_by), an icicle flame graph on a
 * canvas (zoom, search), a virtualised sites table and the heap chart.
 * Canvas and a virtualised table, not one DOM node per frame: the page must
 * open in under a second with 100,000 sites. */
"use strict";
(function () {
const T0 = performance.now();
const D = JSON.parse(document.getElementById("data").textContent);
const PHASES = {parse: Math.round(performance.now() - T0)};
function phase(name, t) { PHASES[name] = (PHASES[name] || 0) + Math.round(performance.now() - t); }
const $ = (id) => document.getElementById(id);
const FR = D.frames, SRC = D.source || {}, PROCS = D.processes || [];
const MEASURES = [["peak", 3, "peak live bytes"], ["leaked", 7, "leaked bytes"],
  ["allocated", 2, "bytes allocated"], ["temporary", 6, "temporary bytes"]];
const RUNTIME = /^(malloc|calloc|realloc|free|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|strn?dup|operator (new|delete)(\[\])?|__libc_start_call_main|__libc_start_main.*|_start|_dl_.*|__GI_.*)$/;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  if (attrs) for (const k in attrs) {
    if (k === "class") e.className = attrs[k];
    else if (k === "text") e.textContent = attrs[k];
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}
const NF = new Intl.NumberFormat("en-US");
const num = (n) => NF.format(n);
function bytes(n) {
  const u = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let i = 0, v = n;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return i ? v.toFixed(1) + " " + u[i] : n + " bytes";
}
const base = (p) => p ? p.slice(p.lastIndexOf("/") + 1) : p;

/* one frame, as mpcheck.flame.frame_name writes it */
const NAMES = FR.map((f) => f[0] ? (f[1] && f[2] ? f[0] + " (" + base(f[1]) + ":" + f[2] + ")" : f[0])
  : f[3] ? base(f[3]) + "+" + (f[4] || "0x0") : (f[4] || "??"));
const NAME_ID = new Map(), NAME_OF = [];
const NID = NAMES.map((n) => { let i = NAME_ID.get(n); if (i === undefined) { i = NAME_OF.length; NAME_ID.set(n, i); NAME_OF.push(n); } return i; });
const isRuntime = (fid) => { const f = FR[fid]; return !f[0] || RUNTIME.test(f[0]); };
/* the first frame of a stack that is the program's own code */
function topFrame(stack) {
  for (const fid of stack) if (!isRuntime(fid)) return fid;
  return stack.length ? stack[0] : -1;
}
const frameLabel = (fid) => fid < 0 ? "[no stack]" : NAMES[fid];

/* ---------------------------------------------------------- stacks */
function stackView(stack, title) {
  const box = el("div", {class: "stack"}, title ? el("div", {class: "dim", text: title}) : null);
  if (!stack.length) { box.append(el("div", {class: "dim", text: "(no stack)"})); return box; }
  stack.forEach((fid, i) => {
    const f = FR[fid];
    const where = f[1] ? " " + f[1] + (f[2] ? ":" + f[2] : "") : "";
    const mod = f[3] ? "  [" + base(f[3]) + (f[4] ? "+" + f[4] : "") + "]" : "";
    box.append(el("div", {class: "frame mono" + (isRuntime(fid) ? " rt" : "")},
      "#" + i + " " + (f[0] || "??") + where + mod));
    const s = SRC[fid];
    if (s) {
      const pre = el("pre", {class: "src"});
      s[1].forEach((line, j) => {
        const n = s[0] + j, text = String(n).padStart(5) + "  " + line;
        pre.append(n === f[2] ? el("span", {class: "hl", text: text}) : document.createTextNode(text + "\n"));
      });
      box.append(pre);
    }
  });
  return box;
}
function keptBy(k) {
  if (!k) return null;
  const parts = ["kept by: " + (k.root || "?")];
  if (k.symbol) parts.push("symbol " + k.symbol);
  if (k.module) parts.push("in " + base(k.module));
  if (k.register) parts.push("register " + k.register);
  if (k.thread != null) parts.push("thread " + k.thread + (k.main_thread ? " (main)" : ""));
  if (k.address) parts.push("at " + k.address);
  parts.push(k.direct ? "directly" : "through other blocks");
  if (k.interior) parts.push("interior pointer");
  return el("div", {class: "kept mono", text: parts.join(", ")});
}
/* a finding or group: summary line now, stacks when opened (lazily) */
function group(kindClass, kind, headline, tags, body, open) {
  const d = el("details", {class: "group"});
  const sum = el("summary", null, el("span", {class: "kind " + kindClass, text: kind}), headline);
  for (const t of tags) sum.append(el("span", {class: "tag", text: t}));
  d.append(sum);
  let done = false;
  const fill = () => { if (!done) { done = true; d.append(...body()); } };
  d.addEventListener("toggle", () => { if (d.open) fill(); });
  if (open) { d.open = true; fill(); }
  return d;
}

/* ---------------------------------------------------------- header */
const S = D.summary || {};
$("command").textContent = D.command || "";
const verdict = $("verdict");
verdict.textContent = S.gate || "?";
verdict.className = S.gate || "";
const peak = PROCS.reduce((m, p) => Math.max(m, p.peak || 0), 0);
function count(label, value, id) {
  const c = el("span", {class: "count"}, label + " ", el("b", {text: value}));
  if (id) c.id = id;
  return c;
}
$("counts").append(count("processes", num(S.processes || PROCS.length)),
  count("new errors", num(S.errors || 0)), count("new leaks", num(S.leaks || 0)),
  count("leaked", bytes(S.leak_bytes || 0)), count("suppressed", num(S.suppressed || 0)),
  count("baseline", num(S.baseline || 0)));
const pk = count("peak heap", bytes(peak) + " (" + num(peak) + " bytes)", "peak");
pk.dataset.bytes = peak;
$("counts").append(pk);

/* ---------------------------------------------------------- findings */
const FIND = D.findings || [];
$("findings-count").textContent = "(" + FIND.length + (S.findings_not_listed ? ", " + S.findings_not_listed + " more not listed" : "") + ")";
if (!FIND.length) $("findings").append(el("p", {class: "dim", text: "No errors or gating leaks."}));
FIND.forEach((f, i) => {
  const status = f.suppressed ? "suppressed" : f.baseline ? "baseline" : "new";
  const top = topFrame(f.stack);
  const head = (f.type === "leak" ? " " + bytes(f.bytes) + " in " + num(f.blocks) + " block" + (f.blocks === 1 ? "" : "s") + " " : " ")
    + "in " + frameLabel(top);
  const tags = [status, num(f.processes) + " process" + (f.processes === 1 ? "" : "es")];
  $("findings").append(group(f.type, f.kind, head, tags, () => {
    const out = [];
    if (f.description) out.push(el("div", {class: "mono", text: f.description}));
    out.push(stackView(f.stack, f.type === "leak" ? "allocated at:" : "at:"));
    if (f.alloc_stack && f.alloc_stack.length) out.push(stackView(f.alloc_stack, "allocated at:"));
    if (f.free_stack && f.free_stack.length) out.push(stackView(f.free_stack, "freed at:"));
    if (f.suppressed_by || f.baseline_by) out.push(el("div", {class: "dim", text: "matched by " + (f.suppressed_by || f.baseline_by)}));
    if (f.examples) out.push(el("div", {class: "dim", text: "in: " + f.examples.map((e) => e.pid + " " + e.command).join("; ")}));
    return out;
  }, i === 0 && status === "new"));
});

/* ---------------------------------------------------------- processes */
let current = null;       // the process shown, or "all"
const procRows = [];
$("processes-count").textContent = "(" + PROCS.length + ")";
function procLeaked(p) { const t = p.leak_totals || {}; return (t.definite || 0) + (t.indirect || 0) + (t.possible || 0); }
if (PROCS.length > 1) {
  const tb = el("tbody");
  const head = el("tr", null, ...["pid", "command", "test", "errors", "leaked", "peak", "sites"].map((h, i) =>
    el("th", {class: i > 2 ? "num" : "", text: h})));
  const all = el("tr", {"data-pid": "all", onclick: () => select("all")},
    el("td", {text: "all"}), el("td", {text: "every process together (flame graph, sites)"}), el("td"), el("td"), el("td"), el("td"), el("td"));
  tb.append(all); procRows.push([all, "all"]);
  PROCS.forEach((p, i) => {
    const tr = el("tr", {"data-pid": p.pid, onclick: () => select(i)},
      el("td", {text: p.pid}), el("td", {class: "mono", text: p.command.length > 120 ? p.command.slice(0, 117) + "..." : p.command}),
      el("td", {text: p.test || ""}), el("td", {class: "num", text: num(p.error_count || 0)}),
      el("td", {class: "num", text: bytes(procLeaked(p))}), el("td", {class: "num", text: bytes(p.peak || 0)}),
      el("td", {class: "num", text: p.sites ? num(p.sites.length) : "-"}));
    tb.append(tr); procRows.push([tr, i]);
  });
  $("processes").append(el("table", {class: "procs"}, el("thead", null, head), tb));
  $("proc-filter").addEventListener("input", (e) => {
    const q = e.target.value.toLowerCase();
    for (const [tr, i] of procRows) {
      if (i === "all") continue;
      const p = PROCS[i];
      tr.style.display = !q || (p.command + " " + (p.test || "") + " " + p.pid).toLowerCase().includes(q) ? "" : "none";
    }
  });
} else {
  $("processes-sec").style.display = "none";
}

/* every site of the view: [stack, ...figures, process index] */
PROCS.forEach((p, i) => { for (const s of p.sites || []) s.push(i); });   // s[8]: its process
function viewSites() {
  if (current !== "all") return PROCS[current].sites || [];
  const out = [];
  for (const p of PROCS) for (const s of p.sites || []) out.push(s);
  return out;
}

function select(which) {
  current = which;
  if (PROCS.length > 1) try { history.replaceState(null, "", which === "all" ? "#" : "#pid=" + PROCS[which].pid); } catch (_) { /* a page opened where it may not */ }
  for (const [tr, i] of procRows) tr.classList.toggle("sel", i === which);
  const groups = $("groups"), summ = $("process-summary");
  groups.textContent = ""; summ.textContent = "";
  if (which === "all") {
    $("process-title").textContent = "All processes";
    summ.append(el("p", {class: "dim", text: "The flame graph and the sites table add every process together (a root frame per process); choose a process above for its leak groups and heap chart."}));
  } else {
    const p = PROCS[which];
    $("process-title").textContent = "Process " + p.pid + (p.test ? " [test " + p.test + "]" : "");
    summ.append(el("div", {class: "mono", text: p.command}),
      el("div", null, count("peak", bytes(p.peak) + " (" + num(p.peak) + " bytes)"),
        count("allocations", num(p.allocations)), count("errors", num(p.error_count || 0)),
        ...Object.keys(p.leak_totals || {}).map((k) => count(k, bytes(p.leak_totals[k])))));
    if (!p.sites) summ.append(el("p", {class: "dim", text: "No heap profile for this process (it ran without profile=1)."}));
    if (p.sites_not_listed) summ.append(el("p", {class: "dim", text: num(p.sites_not_listed) + " more sites with the smallest peaks not in the page"}));
    p.errors.forEach((e, i) => groups.append(group("error", e.kind, " in " + frameLabel(topFrame(e.stack)) + (e.function ? " (found by " + e.function + ")" : ""), [], () => [
      e.description ? el("div", {class: "mono", text: e.description}) : null,
      stackView(e.stack, "at:"), e.alloc_stack.length ? stackView(e.alloc_stack, "allocated at:") : null,
      e.free_stack.length ? stackView(e.free_stack, "freed at:") : null].filter((x) => x), i < 5)));
    p.leaks.forEach((g, i) => groups.append(group("leak", g.kind, " " + bytes(g.bytes) + " in " + num(g.blocks) + " block" + (g.blocks === 1 ? "" : "s") + " in " + frameLabel(topFrame(g.stack)),
      g.kept_by ? ["kept by " + g.kept_by.root] : [], () => [keptBy(g.kept_by), stackView(g.stack, "allocated at:")].filter((x) => x),
      i < 5 && PROCS.length > 1)));
    const more = (p.errors_not_listed || 0) + (p.leaks_not_listed || 0);
    if (more) groups.append(el("p", {class: "dim", text: more + " more errors and leak groups not listed"}));
  }
  let t = performance.now();
  sitesAll = viewSites();
  phase("sites", t); t = performance.now();
  flameBuild();
  phase("flame", t); t = performance.now();
  sitesRender(true);
  phase("table", t); t = performance.now();
  chartDraw();
  phase("chart", t);
}

/* ---------------------------------------------------------- flame graph */
/* The tree is expanded lazily: a node holds the indices of its sites, and
 * its children are made (by grouping those sites on the next frame) only
 * when the node is drawn at least half a pixel wide.  A 100,000-site
 * profile thus costs the few thousand nodes on screen, not a million. */
const canvas = $("flame"), ctx = canvas.getContext("2d"), ROW = 18, MAXROWS = 200;
const NOSTACK = -1e9;
let measure = MEASURES[0], tree = null, zoom = null, rects = [], search = null, sitesAll = [], vals = null;
/* every site's frames root first, as name ids, flattened: site i's are
 * path[off[i] .. off[i + 1]) (a process's root frame first in "all") */
let path = null, off = null, pathOf = null;
function paths() {
  const all = current === "all";
  off = new Int32Array(sitesAll.length + 1);
  let n = 0;
  for (let i = 0; i < sitesAll.length; i++) { off[i] = n; n += (sitesAll[i][0].length || 1) + (all ? 1 : 0); }
  off[sitesAll.length] = n;
  path = new Int32Array(n);
  for (let i = 0; i < sitesAll.length; i++) {
    let o = off[i];
    const st = sitesAll[i][0];
    if (all) path[o++] = -2 - sitesAll[i][8];
    if (!st.length) path[o++] = NOSTACK;
    for (let j = st.length - 1; j >= 0; j--) path[o++] = NID[st[j]];
  }
}
function expand(n) {
  if (n.c) return n.c;
  const groups = new Map(), sums = new Map(), idx = n.idx, d = n.d;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j], o = off[i] + d;
    if (o >= off[i + 1]) continue;
    const k = path[o], g = groups.get(k);
    if (g) { g.push(i); sums.set(k, sums.get(k) + vals[i]); }
    else { groups.set(k, [i]); sums.set(k, vals[i]); }
  }
  n.c = [];
  for (const [k, g] of groups) n.c.push({n: k, v: sums.get(k), d: d + 1, p: n, idx: g, c: null});
  n.c.sort((a, b) => b.v - a.v);
  return n.c;
}
function flameBuild() {
  const col = measure[1], idx = [];
  if (pathOf !== sitesAll) { paths(); pathOf = sitesAll; }
  vals = new Float64Array(sitesAll.length);
  let total = 0;
  for (let i = 0; i < sitesAll.length; i++) { const v = sitesAll[i][col]; if (v) { vals[i] = v; idx.push(i); total += v; } }
  tree = {n: -1, v: total, d: 0, p: null, idx: idx, c: null};
  zoom = tree;
  flameDraw();
}
function nodeName(n) {
  if (n.n === -1) return "all (" + measure[2] + ")";
  if (n.n === NOSTACK) return "[no stack]";
  if (n.n <= -2) { const p = PROCS[-2 - n.n]; return base(p.command.split(" ")[0]) + " [" + p.pid + "]"; }
  return NAME_OF[n.n];
}
function hue(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; }
function color(n, name) {
  if (search && search.test(name)) return "#e040fb";
  if (n.n < 0) return "#cfd8dc";
  const h = Math.abs(hue(name));
  return "hsl(" + (10 + h % 40) + "," + (60 + h % 30) + "%," + (55 + (h >> 8) % 15) + "%)";
}
function flameDraw() {
  const W = canvas.clientWidth || 1000, dpr = window.devicePixelRatio || 1;
  // layout first (the canvas is sized to the rows used), then paint
  rects = [];
  const anc = [];
  for (let a = zoom; a; a = a.p) anc.unshift(a);
  anc.forEach((a, i) => rects.push([0, i * ROW, W, a]));
  if (zoom.v > 0) {
    const scale = W / zoom.v;
    const walk = (n, x, y) => {
      if (y >= MAXROWS * ROW) return;
      for (const k of expand(n)) {
        const w = k.v * scale;
        if (w < 0.5) break;
        rects.push([x, y, w, k]);
        walk(k, x, y + ROW);
        x += w;
      }
    };
    walk(zoom, 0, zoom.d * ROW + ROW);
  }
  let rows = 1;
  for (const r of rects) rows = Math.max(rows, r[1] / ROW + 1);
  const H = rows * ROW + 2;
  canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.height = H + "px";
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = "12px ui-monospace, monospace"; ctx.textBaseline = "middle";
  const labels = [];
  for (const [x, y, w, n] of rects) {
    const name = nodeName(n);
    ctx.fillStyle = color(n, name);
    ctx.fillRect(x, y, Math.max(0.5, w - 1), ROW - 1);
    if (w > 40) {
      ctx.fillStyle = "#000";
      const maxc = Math.floor((w - 6) / 7.2);
      const t = name.length > maxc ? name.slice(0, Math.max(0, maxc - 1)) + "\u2026" : name;
      ctx.fillText(t, x + 3, y + ROW / 2);
      if (labels.length < 2000) labels.push(name);
    }
  }
  canvas.dataset.boxes = rects.length;
  canvas.dataset.total = tree.v;
  canvas.dataset.measure = measure[0];
  const lab = $("flame-labels");
  lab.textContent = "";
  for (const l of labels) lab.append(el("span", {class: "flame-frame", text: l}));
  const crumbs = $("flame-crumbs");
  crumbs.textContent = "";
  anc.forEach((a, i) => { if (i) crumbs.append(" \u203a "); crumbs.append(el("span", {text: nodeName(a), onclick: () => { zoom = a; flameDraw(); }})); });
  crumbs.append(el("span", {class: "dim", text: "  " + bytes(zoom.v)}));
  searchTotal();
}
/* what the matching frames under the zoomed node add up to: each site
 * counted once, when a frame of it below the zoomed node matches */
function searchTotal() {
  const m = $("flame-match");
  if (!search) { m.textContent = ""; return; }
  const hitName = NAME_OF.map((nm) => search.test(nm));
  let total = 0;
  for (const i of zoom.idx) {
    const s = sitesAll[i], st = s[0], below = Math.max(0, zoom.d - 1 - (current === "all" ? 1 : 0));
    for (let j = st.length - 1 - below; j >= 0; j--) if (hitName[NID[st[j]]]) { total += vals[i]; break; }
  }
  m.textContent = "matched " + bytes(total) + " (" + (zoom.v ? (100 * total / zoom.v).toFixed(1) : "0") + "%)";
}
function hit(ev) {
  const r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  for (let i = rects.length - 1; i >= 0; i--) { const b = rects[i]; if (x >= b[0] && x < b[0] + b[2] && y >= b[1] && y < b[1] + ROW) return b[3]; }
  return null;
}
canvas.addEventListener("mousemove", (ev) => {
  const n = hit(ev), tip = $("flame-tip");
  if (!n) { tip.style.display = "none"; return; }
  tip.textContent = nodeName(n) + "\n" + bytes(n.v) + " (" + num(n.v) + " bytes, " + (tree.v ? (100 * n.v / tree.v).toFixed(2) : 0) + "% of all)";
  tip.style.display = "block";
  tip.style.left = Math.min(ev.offsetX + 12, canvas.clientWidth - 300) + "px"; tip.style.top = (ev.offsetY + 14) + "px";
});
canvas.addEventListener("mouseleave", () => { $("flame-tip").style.display = "none"; });
canvas.addEventListener("click", (ev) => { const n = hit(ev); if (n) { zoom = n === zoom && n.p ? n.p : n; flameDraw(); } });
for (const m of MEASURES) {
  const b = el("button", {"data-measure": m[0], text: m[0], onclick: () => {
    measure = m; for (const x of $("flame-measures").children) x.classList.toggle("on", x === b); flameBuild(); }});
  if (m === measure) b.classList.add("on");
  $("flame-measures").append(b);
}
$("flame-search").addEventListener("input", (e) => {
  try { search = e.target.value ? new RegExp(e.target.value, "i") : null; } catch (_) { search = null; }
  flameDraw();
});
window.addEventListener("resize", () => { if (tree) flameDraw(); chartDraw(); });

/* ---------------------------------------------------------- sites table */
const COLS = [["site", -1], ["allocations", 1], ["allocated", 2], ["peak", 3], ["temporary", 6], ["leaked", 7], ["live", 4]];
let sortCol = 3, sortAsc = false, shown = [], siteFilter = "";
const sitesBox = $("sites"), spacer = $("sites-spacer"), RH = 22;
COLS.forEach(([name, col]) => {
  const h = el("span", {class: col >= 0 ? "num" : "", text: name, "data-col": col, onclick: () => {
    if (col < 0) return;
    if (sortCol === col) sortAsc = !sortAsc; else { sortCol = col; sortAsc = false; }
    sitesRender(true);
  }});
  $("sites-head").append(h);
});
/* the site's first frame of the program's own code and its caller's
 * function: "_PyObject_Malloc (obmalloc.c:2003) < PyList_New" says more
 * than the allocator's wrapper alone */
function siteName(s) {
  const st = s[0], top = topFrame(st), at = st.indexOf(top);
  const up = at >= 0 && at + 1 < st.length ? FR[st[at + 1]][0] || NAMES[st[at + 1]] : null;
  return frameLabel(top) + (up ? " < " + up : "");
}
function sitesRender(resort) {
  if (resort) {
    const q = siteFilter.toLowerCase();
    // indices sorted by a typed array of keys: 3x faster than sorting
    // the site arrays themselves at 100,000 sites
    const pick = [];
    for (let i = 0; i < sitesAll.length; i++)
      if (!q || sitesAll[i][0].some((fid) => NAMES[fid].toLowerCase().includes(q))) pick.push(i);
    const c = sortCol, key = new Float64Array(sitesAll.length), order = Uint32Array.from(pick);
    for (const i of order) key[i] = sortAsc ? sitesAll[i][c] : -sitesAll[i][c];
    order.sort((a, b) => key[a] - key[b] || a - b);
    shown = order;
    for (const h of $("sites-head").children) { const on = +h.dataset.col === sortCol; h.classList.toggle("sorted", on); h.classList.toggle("asc", on && sortAsc); }
    spacer.style.height = shown.length * RH + "px";
    sitesBox.style.height = Math.min(420, Math.max(3, shown.length) * RH + 2) + "px";
    $("sites-count").textContent = "(" + num(shown.length) + " of " + num(sitesAll.length) + ")";
    for (const r of [...sitesBox.querySelectorAll(".site-row")]) r.remove();
    sitesBox.scrollTop = 0;
  }
  for (const r of [...sitesBox.querySelectorAll(".site-row")]) r.remove();
  const first = Math.floor(sitesBox.scrollTop / RH), last = Math.min(shown.length, first + Math.ceil((sitesBox.clientHeight || 420) / RH) + 2);
  for (let i = first; i < last; i++) {
    const s = sitesAll[shown[i]];
    const row = el("div", {class: "site-row", style: "top:" + i * RH + "px", onclick: () => siteDetail(s)},
      el("span", {class: "mono", title: siteName(s), text: (current === "all" ? PROCS[s[8]].pid + ": " : "") + siteName(s)}),
      ...COLS.slice(1).map(([, col]) => el("span", {class: "num", text: col === 1 ? num(s[1]) : bytes(s[col])})));
    sitesBox.append(row);
  }
}
let scrollQueued = false;
sitesBox.addEventListener("scroll", () => { if (!scrollQueued) { scrollQueued = true; requestAnimationFrame(() => { scrollQueued = false; sitesRender(false); }); } });
$("sites-filter").addEventListener("input", (e) => { siteFilter = e.target.value; sitesRender(true); });
function siteDetail(s) {
  const d = $("site-detail");
  d.textContent = "";
  d.append(el("div", null, "allocations " + num(s[1]) + ", allocated " + num(s[2]) + " bytes, peak " + num(s[3]) + " bytes, live " + num(s[4]) +
    " bytes, temporaries " + num(s[5]) + " (" + num(s[6]) + " bytes), leaked " + num(s[7]) + " bytes"), stackView(s[0], "allocated at:"));
}

/* ---------------------------------------------------------- heap chart */
const chart = $("chart"), cctx = chart.getContext("2d");
let chartPts = [];
function chartDraw() {
  const W = chart.clientWidth || 1000, H = 220, dpr = window.devicePixelRatio || 1;
  chart.width = W * dpr; chart.height = H * dpr; chart.style.height = H + "px";
  cctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  cctx.clearRect(0, 0, W, H);
  const p = typeof current === "number" ? PROCS[current] : null;
  const pts = chartPts = p && p.series ? p.series : [];
  $("chart-note").textContent = p ? (pts.length ? "(" + pts.length + " points: live bytes sampled every few allocations; the dashed line is the exact peak)" : "(no series: the process ran without profile=1)") : "(choose a process)";
  chart.dataset.points = pts.length;
  if (pts.length < 2) return;
  const L = 80, R = 10, TOP = 10, B = 24;
  const t0 = pts[0][0], t1 = pts[pts.length - 1][0] || 1;
  const ymax = Math.max(p.peak || 0, ...pts.map((q) => q[2])) || 1;
  const X = (t) => L + (W - L - R) * (t - t0) / Math.max(1, t1 - t0), Y = (b) => TOP + (H - TOP - B) * (1 - b / ymax);
  cctx.strokeStyle = "#ccc"; cctx.fillStyle = "#555"; cctx.font = "11px system-ui, sans-serif";
  for (let i = 0; i <= 4; i++) { const v = ymax * i / 4, y = Y(v); cctx.beginPath(); cctx.moveTo(L, y); cctx.lineTo(W - R, y); cctx.stroke(); cctx.fillText(bytes(Math.round(v)), 4, y + 4); }
  for (let i = 0; i <= 4; i++) { const t = t0 + (t1 - t0) * i / 4; const lab = (t / 1000).toFixed(1) + " ms"; cctx.fillText(lab, Math.min(X(t) - 20, W - R - cctx.measureText(lab).width), H - 6); }
  cctx.beginPath(); cctx.moveTo(X(pts[0][0]), Y(0));
  for (const q of pts) cctx.lineTo(X(q[0]), Y(q[2]));
  cctx.lineTo(X(pts[pts.length - 1][0]), Y(0)); cctx.closePath();
  cctx.fillStyle = "rgba(26,115,232,.25)"; cctx.fill();
  cctx.beginPath(); pts.forEach((q, i) => i ? cctx.lineTo(X(q[0]), Y(q[2])) : cctx.moveTo(X(q[0]), Y(q[2])));
  cctx.strokeStyle = "#1a73e8"; cctx.lineWidth = 1.5; cctx.stroke(); cctx.lineWidth = 1;
  if (p.peak) { cctx.setLineDash([5, 4]); cctx.strokeStyle = "#b3261e"; cctx.beginPath(); cctx.moveTo(L, Y(p.peak)); cctx.lineTo(W - R, Y(p.peak)); cctx.stroke(); cctx.setLineDash([]); cctx.fillStyle = "#b3261e"; cctx.fillText("peak " + bytes(p.peak), L + 4, Y(p.peak) - 4); }
}
chart.addEventListener("mousemove", (ev) => {
  const tip = $("chart-tip");
  if (chartPts.length < 2) return;
  const W = chart.clientWidth, t0 = chartPts[0][0], t1 = chartPts[chartPts.length - 1][0];
  const t = t0 + (t1 - t0) * Math.max(0, ev.offsetX - 80) / Math.max(1, W - 90);
  let best = chartPts[0];
  for (const q of chartPts) if (Math.abs(q[0] - t) < Math.abs(best[0] - t)) best = q;
  tip.textContent = (best[0] / 1000).toFixed(2) + " ms: " + bytes(best[2]) + " live, " + num(best[1]) + " allocations";
  tip.style.display = "block"; tip.style.left = Math.min(ev.offsetX + 12, W - 260) + "px"; tip.style.top = ev.offsetY + 10 + "px";
});
chart.addEventListener("mouseleave", () => { $("chart-tip").style.display = "none"; });

/* ---------------------------------------------------------- start */
if (PROCS.length) {
  // one process: it; several: every process together
  // or the one the address names: report.html#pid=1234
  const m = /pid=([0-9]+)/.exec(location.hash), want = m ? PROCS.findIndex((p) => String(p.pid) === m[1]) : -1;
  select(want >= 0 ? want : PROCS.length > 1 ? "all" : 0);
} else {
  $("process-sec").style.display = "none";
}
const ms = Math.round(performance.now() - T0);
$("render-ms").textContent = ms;
document.body.dataset.renderMs = ms;
document.body.dataset.phases = Object.keys(PHASES).map((k) => k + "=" + PHASES[k]).join(" ");
document.body.dataset.ready = "1";
})();
