// aiohyperv fleet dashboard: plain JS, no build step, no dependencies.
// Everything shown comes from the JSON API; text is set with textContent only.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const FEED_MAX = 200;
const state = { view: "overview", hosts: [], vms: [], changes: [], feed: [],
  sort: { hosts: ["host", 1], vms: ["host", 1] }, refreshTimer: null };

function $(sel) { return document.querySelector(sel); }
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}
function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}
function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}
function mib(n) { return n === null || n === undefined ? "–" : bytes(n * 1048576); }
function when(iso) {
  if (!iso) return "never";
  const d = new Date(iso); return d.toLocaleString();
}
function clock(iso) { return iso ? new Date(iso).toLocaleTimeString() : ""; }
function duration(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return `${Math.round(s)} s`; if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`; return `${(s / 86400).toFixed(1)} d`;
}
function stateClass(s) {
  if (s === "running") return "state-running";
  if (s === "shut off" || s === "off") return "state-off";
  if (s === "paused") return "state-paused";
  if (s === "saved") return "state-saved";
  return "state-other";
}
function vmLink(host, uuid, name) {
  return el("a", { href: `#/vm/${encodeURIComponent(host)}/${encodeURIComponent(uuid)}`, text: name });
}
const KIND_TEXT = {
  host_added: "host added", host_unreachable: "host unreachable", host_back: "host back",
  vm_created: "created", vm_removed: "removed", vm_renamed: "renamed",
  vm_state_changed: "state", vm_memory_changed: "memory", vm_vcpus_changed: "vCPUs",
  vm_disks_changed: "disks", vm_nics_changed: "NICs",
};
function kindClass(kind) {
  if (kind === "host_unreachable" || kind === "vm_removed") return "kind bad";
  if (kind === "host_back" || kind === "vm_created") return "kind good";
  return "kind";
}
function short(text) {
  if (text === null || text === undefined) return "";
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}

// --- charts (inline SVG) -------------------------------------------------------------------
function barChart(svg, items, { height = 150 } = {}) {
  svg.replaceChildren();
  const width = svg.clientWidth || 400; svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", height);
  const max = Math.max(1, ...items.map((i) => i.value));
  const slot = width / Math.max(1, items.length); const barW = Math.min(70, slot * 0.6);
  items.forEach((item, i) => {
    const h = (height - 40) * item.value / max; const x = i * slot + (slot - barW) / 2;
    svg.append(svgEl("rect", { x, y: height - 22 - h, width: barW, height: Math.max(h, 1), class: item.cls, rx: 3 }));
    svg.append(svgEl("text", { x: x + barW / 2, y: height - 26 - h, "text-anchor": "middle" }, String(item.value)));
    svg.append(svgEl("text", { x: x + barW / 2, y: height - 6, "text-anchor": "middle", class: "muted" }, item.label));
  });
}
function hostGrid(svg, hosts) {
  svg.replaceChildren();
  const width = svg.clientWidth || 400; const tileW = 150; const tileH = 28; const gap = 6;
  const perRow = Math.max(1, Math.floor((width + gap) / (tileW + gap)));
  const rows = Math.max(1, Math.ceil(hosts.length / perRow)); const height = rows * (tileH + gap) + 2;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`); svg.setAttribute("height", height);
  hosts.forEach((h, i) => {
    const x = (i % perRow) * (tileW + gap); const y = Math.floor(i / perRow) * (tileH + gap);
    const group = svgEl("g", { class: "tile" });
    const rect = svgEl("rect", { x, y, width: tileW, height: tileH, rx: 4, class: h.up ? "host-up" : "host-down" });
    group.append(rect, svgEl("text", { x: x + 8, y: y + 18, class: "tile-text" }, `${h.up ? "▲" : "▼"} ${h.hostname || h.host}`));
    group.append(svgEl("title", {}, `${h.host} ${h.up ? "up" : "down"}`));
    svg.append(group);
  });
}
function memoryChart(svg, rows) {
  svg.replaceChildren();
  const width = svg.clientWidth || 800; const label = 170; const rowH = 18; const gap = 6;
  const height = Math.max(30, rows.length * (rowH + gap));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`); svg.setAttribute("height", height);
  const max = Math.max(1, ...rows.map((r) => Math.max(r.total || 0, r.assigned)));
  const scale = (width - label - 90) / max;
  rows.forEach((r, i) => {
    const y = i * (rowH + gap);
    const name = svgEl("text", { x: 0, y: y + 13, class: r.up ? "" : "muted" }, (r.hostname || r.host) + (r.up ? "" : " (down)"));
    name.append(svgEl("title", {}, r.host)); svg.append(name);
    svg.append(svgEl("rect", { x: label, y, width: Math.max(1, (r.total || 0) * scale), height: rowH, class: "bar-total", rx: 2 }));
    svg.append(svgEl("rect", { x: label, y: y + 2, width: Math.max(0, r.assigned * scale), height: rowH - 4, class: "bar-assigned", rx: 2 }));
    svg.append(svgEl("rect", { x: label, y: y + 6, width: Math.max(0, r.demand * scale), height: rowH - 12, class: "bar-demand" }));
    const pct = r.total ? Math.round(100 * r.assigned / r.total) : 0;
    svg.append(svgEl("text", { x: label + Math.max((r.total || 0), r.assigned) * scale + 6, y: y + 13, class: "muted" }, `${bytes(r.assigned)} · ${pct}%`));
  });
}

function timeline(svg, samples) {
  svg.replaceChildren();
  const width = svg.clientWidth || 800; const height = 110; const left = 60; const band = 18;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`); svg.setAttribute("height", height);
  const points = samples.slice().reverse().map((s) => ({ ...s, t: Date.parse(s.at) }));
  if (!points.length) { svg.append(svgEl("text", { x: 0, y: 20, class: "muted" }, "no samples stored yet")); return; }
  const t0 = points[0].t; const t1 = Math.max(Date.now(), points[points.length - 1].t + 1);
  const x = (t) => left + (width - left - 10) * (t - t0) / (t1 - t0);
  svg.append(svgEl("text", { x: 0, y: 14, class: "muted" }, "state"));
  points.forEach((p, i) => {
    const end = i + 1 < points.length ? points[i + 1].t : t1;
    const rect = svgEl("rect", { x: x(p.t), y: 2, width: Math.max(1, x(end) - x(p.t)), height: band, class: stateClass(p.state) });
    rect.append(svgEl("title", {}, `${p.state} from ${when(p.at)}`)); svg.append(rect);
  });
  const max = Math.max(1, ...points.map((p) => Math.max(p.memory_demand_mib || 0, p.memory_mib || 0)));
  const y = (v) => height - 14 - (height - band - 30) * v / max;
  svg.append(svgEl("text", { x: 0, y: y(max) + 4, class: "muted" }, mib(max)));
  svg.append(svgEl("text", { x: 0, y: height - 10, class: "muted" }, "0"));
  let path = "";
  points.forEach((p, i) => {
    const end = i + 1 < points.length ? points[i + 1].t : t1;
    const v = y(p.memory_demand_mib || 0);
    path += `${i ? "L" : "M"}${x(p.t).toFixed(1)},${v.toFixed(1)}L${x(end).toFixed(1)},${v.toFixed(1)}`;
  });
  svg.append(svgEl("path", { d: path, class: "demand-line" }));
  svg.append(svgEl("text", { x: left, y: height - 1, class: "muted" }, when(points[0].at)));
  svg.append(svgEl("text", { x: width - 10, y: height - 1, class: "muted", "text-anchor": "end" }, "now"));
}

// --- tables --------------------------------------------------------------------------------
function sortRows(rows, [key, dir]) {
  return rows.slice().sort((a, b) => {
    let x = a[key], y = b[key];
    if (x === null || x === undefined) x = ""; if (y === null || y === undefined) y = "";
    if (typeof x === "string" || typeof y === "string") return dir * String(x).localeCompare(String(y), undefined, { numeric: true });
    return dir * ((x > y) - (x < y));
  });
}
function markSorted(table, [key, dir]) {
  for (const th of table.querySelectorAll("th[data-key]")) {
    th.classList.toggle("sorted-asc", th.dataset.key === key && dir > 0);
    th.classList.toggle("sorted-desc", th.dataset.key === key && dir < 0);
  }
}
function wireSort(tableId, name, render) {
  const table = document.getElementById(tableId);
  table.querySelector("thead").addEventListener("click", (event) => {
    const th = event.target.closest("th[data-key]"); if (!th) return;
    const [key, dir] = state.sort[name];
    state.sort[name] = [th.dataset.key, key === th.dataset.key ? -dir : 1];
    render();
  });
}
function renderHosts() {
  const table = $("#hosts-table"); const q = $("#hosts-search").value.trim().toLowerCase();
  const rows = state.hosts.map((h) => ({ ...h, running: h.vm_states.running || 0 }))
    .filter((h) => !q || [h.host, h.hostname, h.os_caption, h.error].some((v) => v && v.toLowerCase().includes(q)));
  const body = table.querySelector("tbody"); body.replaceChildren();
  for (const h of sortRows(rows, state.sort.hosts)) {
    const status = el("span", { class: h.up ? "badge up" : "badge down", text: h.up ? "up" : "down" });
    if (!h.up && h.error) status.title = h.error;
    body.append(el("tr", { "data-host": h.host },
      el("td", {}, el("a", { href: `#/vms?host=${encodeURIComponent(h.host)}`, text: h.host })),
      el("td", {}, status), el("td", { text: h.hostname || "" }), el("td", { text: h.os_caption || "" }),
      el("td", { class: "num", text: String(h.vm_count) }), el("td", { class: "num", text: String(h.running) }),
      el("td", { class: "num", text: String(h.vcpus) }), el("td", { class: "num", text: bytes(h.memory_assigned) }),
      el("td", { class: "num", text: bytes(h.memory_total) }), el("td", { text: when(h.last_success) })));
  }
  markSorted(table, state.sort.hosts);
}
function renderVMs() {
  const table = $("#vms-table"); const q = $("#vms-search").value.trim().toLowerCase();
  const host = $("#vms-host").value; const st = $("#vms-state").value;
  const rows = state.vms.filter((v) => (!q || v.name.toLowerCase().includes(q) || v.uuid.toLowerCase().includes(q))
    && (!host || v.host === host) && (!st || v.state === st));
  const body = table.querySelector("tbody"); body.replaceChildren();
  for (const v of sortRows(rows, state.sort.vms)) {
    body.append(el("tr", { "data-uuid": v.uuid },
      el("td", {}, vmLink(v.host, v.uuid, v.name)), el("td", { text: v.host }),
      el("td", {}, el("span", { class: stateClass(v.state), text: v.state })),
      el("td", { class: "num", text: v.vcpus ?? "–" }), el("td", { class: "num", text: mib(v.memory_mib) }),
      el("td", { class: "num", text: mib(v.memory_demand_mib) }), el("td", { class: "num", text: v.generation ?? "–" }),
      el("td", { class: "num", text: duration(v.uptime) })));
  }
  $("#vms-count").textContent = `${rows.length} of ${state.vms.length} VMs`;
  markSorted(table, state.sort.vms);
}
function fillSelect(select, values) {
  const current = select.value; const first = select.options[0];
  select.replaceChildren(first);
  for (const v of values) select.append(el("option", { value: v, text: v }));
  if (values.includes(current)) select.value = current;
}

// --- views ---------------------------------------------------------------------------------
async function loadOverview() {
  const summary = await api("/api/summary");
  $("#card-up").textContent = summary.hosts.up; $("#card-down").textContent = summary.hosts.down;
  $("#card-vms").textContent = summary.vms.total; $("#card-running").textContent = summary.vms.by_state.running || 0;
  $("#card-run").textContent = summary.last_run ? `#${summary.last_run.id} · ${clock(summary.last_run.finished)} · ${summary.last_run.duration.toFixed(2)} s` : (summary.running ? "running…" : "none yet");
  barChart($("#chart-states"), Object.entries(summary.vms.by_state).map(([label, value]) => ({ label, value, cls: stateClass(label) })));
  hostGrid($("#chart-hosts"), summary.memory.length ? summary.memory : []);
  memoryChart($("#chart-memory"), summary.memory);
  if (!state.feed.length) {
    const recent = await api("/api/changes?limit=50");
    state.feed = recent.items; renderFeed(null);
  }
}
function feedItem(c, fresh) {
  const what = c.vm_name ? [vmLink(c.host, c.uuid, c.vm_name), ` on ${c.host}`] : [c.host];
  const detail = c.old !== null && c.new !== null ? `${short(c.old)} → ${short(c.new)}` : short(c.new ?? c.old ?? "");
  return el("li", { class: fresh ? "fresh" : "", "data-kind": c.kind },
    el("time", { text: clock(c.at) }), el("span", { class: kindClass(c.kind), text: KIND_TEXT[c.kind] || c.kind }),
    el("span", {}, ...what), el("span", { class: "muted", text: detail }));
}
function renderFeed(fresh) {
  const list = $("#feed");
  if (fresh) { list.prepend(feedItem(fresh, true)); while (list.children.length > FEED_MAX) list.lastChild.remove(); return; }
  list.replaceChildren(...state.feed.map((c) => feedItem(c, false)));
}
async function loadHosts() { state.hosts = (await api("/api/hosts")).items; renderHosts(); }
async function loadVMs() {
  const [vms, hosts] = await Promise.all([api("/api/vms?limit=1000"), api("/api/hosts")]);
  state.vms = vms.items; state.hosts = hosts.items;
  fillSelect($("#vms-host"), state.hosts.map((h) => h.host));
  fillSelect($("#vms-state"), [...new Set(state.vms.map((v) => v.state))].sort());
  renderVMs();
}
async function loadVM(host, uuid) {
  const h = await api(`/api/hosts/${encodeURIComponent(host)}/vms/${encodeURIComponent(uuid)}/history?limit=200`);
  const vm = h.vm;
  $("#vm-title").textContent = vm ? `${vm.name} on ${host}` : `${uuid} on ${host} (no longer seen)`;
  const fields = $("#vm-fields"); fields.replaceChildren();
  if (vm) {
    const pairs = [["UUID", vm.uuid], ["State", vm.state], ["vCPUs", vm.vcpus ?? "–"], ["Memory", mib(vm.memory_mib) + (vm.memory_dynamic ? ` (dynamic, max ${mib(vm.memory_max_mib)})` : "")],
      ["Demand", mib(vm.memory_demand_mib)], ["Uptime", duration(vm.uptime)], ["Generation", vm.generation ?? "–"], ["Version", vm.config_version ?? "–"],
      ["Disks", vm.disks.map((d) => d.path).join(", ") || "none"], ["NICs", vm.nics.map((n) => `${n.name} (${n.switch || "not connected"})`).join(", ") || "none"], ["Notes", vm.notes || ""]];
    for (const [k, v] of pairs) fields.append(el("dt", { text: k }), el("dd", { text: String(v) }));
  }
  timeline($("#vm-timeline"), h.samples);
  const changes = $("#vm-changes tbody"); changes.replaceChildren();
  for (const c of h.changes) changes.append(el("tr", {}, el("td", { text: when(c.at) }), el("td", { class: kindClass(c.kind), text: KIND_TEXT[c.kind] || c.kind }), el("td", { text: short(c.old) }), el("td", { text: short(c.new) })));
  if (!h.changes.length) changes.append(el("tr", {}, el("td", { colspan: 4, class: "muted", text: "no changes recorded" })));
  const samples = $("#vm-samples tbody"); samples.replaceChildren();
  for (const s of h.samples) samples.append(el("tr", {}, el("td", { text: when(s.at) }), el("td", { text: `#${s.run_id}` }), el("td", { text: s.name }),
    el("td", {}, el("span", { class: stateClass(s.state), text: s.state })), el("td", { class: "num", text: s.vcpus ?? "–" }), el("td", { class: "num", text: mib(s.memory_mib) }), el("td", { class: "num", text: mib(s.memory_demand_mib) })));
}
async function loadChanges() { state.changes = (await api("/api/changes?limit=500")).items; renderChanges(); }
function renderChanges() {
  const q = $("#changes-search").value.trim().toLowerCase(); const body = $("#changes-table tbody"); body.replaceChildren();
  for (const c of state.changes) {
    const hay = [c.host, c.vm_name, c.kind, c.old, c.new].filter(Boolean).join(" ").toLowerCase();
    if (q && !hay.includes(q)) continue;
    body.append(el("tr", {}, el("td", { text: when(c.at) }), el("td", { text: c.host }), el("td", {}, c.vm_name ? vmLink(c.host, c.uuid, c.vm_name) : ""),
      el("td", { class: kindClass(c.kind), text: KIND_TEXT[c.kind] || c.kind }), el("td", { text: short(c.old) }), el("td", { text: short(c.new) })));
  }
}

function route() {
  const hash = location.hash.slice(1) || "/";
  const [path, query] = hash.split("?"); const parts = path.split("/").filter(Boolean);
  let view = parts[0] || "overview"; let load;
  if (view === "vm" && parts.length >= 3) load = () => loadVM(decodeURIComponent(parts[1]), decodeURIComponent(parts[2]));
  else if (view === "hosts") load = loadHosts;
  else if (view === "vms") {
    const params = new URLSearchParams(query || "");
    load = async () => { await loadVMs(); if (params.get("host")) { $("#vms-host").value = params.get("host"); renderVMs(); } };
  } else if (view === "changes") load = loadChanges;
  else { view = "overview"; load = loadOverview; }
  state.view = view;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
  state.reload = load;
  load().catch(showError);
}
function showError(err) { const s = $("#status"); s.textContent = String(err.message || err); s.className = "status down"; }
function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => { if (state.reload) state.reload().catch(showError); }, 250);
}

function connectFeed() {
  const status = $("#status"); const source = new EventSource("/api/events");
  source.addEventListener("open", () => { status.textContent = "live"; status.className = "status live"; });
  source.addEventListener("error", () => { status.textContent = "reconnecting…"; status.className = "status down"; });
  source.addEventListener("change", (event) => {
    const change = JSON.parse(event.data);
    state.feed.unshift(change); if (state.feed.length > FEED_MAX) state.feed.pop();
    renderFeed(change);
    if (state.view === "changes") { state.changes.unshift(change); renderChanges(); }
  });
  source.addEventListener("run", (event) => {
    const run = JSON.parse(event.data);
    status.textContent = `live · run #${run.id} at ${clock(run.finished)}`; status.className = "status live";
    refreshSoon();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wireSort("hosts-table", "hosts", renderHosts); wireSort("vms-table", "vms", renderVMs);
  $("#hosts-search").addEventListener("input", renderHosts);
  $("#vms-search").addEventListener("input", renderVMs);
  $("#vms-host").addEventListener("change", renderVMs); $("#vms-state").addEventListener("change", renderVMs);
  $("#changes-search").addEventListener("input", renderChanges);
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => { if (state.view === "overview") refreshSoon(); });
  connectFeed(); route();
});
