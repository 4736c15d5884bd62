// The /reports page: log in, pick a report, a range and filters, see the table and its charts (ECharts),
// download the same report as XLSX or CSV. Everything comes from /api/reports.
"use strict";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("hotline_token");
let charts = [];

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401) { sessionStorage.removeItem("hotline_token"); showLogin(); throw new Error("请重新登录 log in again"); }
  if (!response.ok) {
    let reason = response.statusText;
    try { reason = (await response.json()).detail || reason; } catch (e) { /* not JSON */ }
    throw new Error(reason);
  }
  return response;
}

function showLogin() { $("login").hidden = false; $("app").hidden = true; }

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ agent_id: form.get("agent_id"), pin: form.get("pin") }) });
  const body = await response.json();
  if (!response.ok) { $("login-error").textContent = body.error || body.detail || "登录失败 login failed"; return; }
  token = body.token;
  sessionStorage.setItem("hotline_token", token);
  start();
});

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value; o.textContent = text || value; select.appendChild(o);
}

async function start() {
  let info;
  try { info = await (await api("/api/reports")).json(); } catch (e) { $("login-error").textContent = e.message; showLogin(); return; }
  $("login").hidden = true; $("app").hidden = false;
  $("who").textContent = `${info.user.name} (${info.user.id}, ${info.user.role}) · ${info.time_zone}`;
  for (const id of ["report", "interval"]) $(id).textContent = "";
  info.reports.forEach((r) => option($("report"), r.name, `${r.zh} ${r.en}`));
  info.intervals.forEach((i) => option($("interval"), i));
  $("interval").value = "1h";
  info.queues.forEach((q) => option($("queue"), q));
  info.teams.forEach((t) => option($("team"), t));
  info.agents.forEach((a) => option($("agent"), a));
  const today = new Date().toISOString().slice(0, 10);
  if (!$("from").value) $("from").value = today;
  if (!$("to").value) $("to").value = today;
}

function query(format) {
  const form = new FormData($("filters"));
  const params = new URLSearchParams({ from: form.get("from"), to: form.get("to"), interval: form.get("interval"), format });
  for (const key of ["queue", "team", "agent"]) if (form.get(key)) params.set(key, form.get(key));
  return `/api/reports/${encodeURIComponent(form.get("report"))}?${params}`;
}

function cell(value, kind) {
  if (value === null || value === undefined) return "-";
  if (kind === "%" && typeof value === "number") return `${(value * 100).toFixed(1)}%`;
  if (typeof value === "number" && !Number.isInteger(value)) return value.toFixed(kind === "s" ? 1 : 2);
  return String(value);
}

function render(data) {
  const head = $("table").tHead, body = $("table").tBodies[0];
  head.textContent = ""; body.textContent = "";
  const tr = head.insertRow();
  for (const c of data.columns) {
    const th = document.createElement("th");
    th.textContent = c.zh;
    const en = document.createElement("small"); en.textContent = c.en; th.appendChild(en);
    tr.appendChild(th);
  }
  for (const row of data.rows) {
    const line = body.insertRow();
    for (const c of data.columns) {
      const td = line.insertCell();
      const kind = c.key === "value" ? row.kind : c.kind;
      td.textContent = cell(row[c.key], kind);
      if (c.kind === "text") td.className = "text";
    }
  }
  $("summary").textContent = "";
  for (const s of data.summary) {
    const d = document.createElement("div");
    d.textContent = `${s.zh} ${s.en}: ${cell(s.value, typeof s.value === "number" && s.value <= 1 && s.en.includes("containment") ? "%" : "")}`;
    $("summary").appendChild(d);
  }
  drawCharts(data);
}

function drawCharts(data) {
  charts.forEach((c) => c.dispose()); charts = [];
  $("charts").textContent = "";
  const label = (key) => { const c = data.columns.find((x) => x.key === key); return c ? `${c.zh} ${c.en}` : key; };
  for (const def of data.charts) {
    if (!data.rows.length) break;
    const box = document.createElement("div");
    box.className = "chart"; box.dataset.kind = def.kind;
    $("charts").appendChild(box);
    const chart = echarts.init(box, null, { renderer: "canvas" });
    const categories = data.rows.map((r) => String(r[def.category]));
    let option;
    if (def.kind === "pie") {
      option = { title: { text: `${def.title_zh} ${def.title_en}`, left: "center" }, tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: "60%", data: data.rows.map((r) => ({ name: String(r[def.category]), value: r[def.values[0]] || 0 })) }] };
    } else {
      option = { title: { text: `${def.title_zh} ${def.title_en}` }, tooltip: { trigger: "axis" },
        legend: { top: 24 }, grid: { top: 60, bottom: 40, left: 50, right: 20 },
        xAxis: { type: "category", data: categories }, yAxis: { type: "value" },
        series: def.values.map((key) => ({ name: label(key), type: def.kind, data: data.rows.map((r) => r[key] ?? 0) })) };
    }
    chart.setOption(option);
    charts.push(chart);
  }
  // the grid settles its column widths only once every box is in (and the table below may add a scrollbar)
  requestAnimationFrame(() => charts.forEach((c) => c.resize()));
}

$("filters").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("error").textContent = "";
  try { render(await (await api(query("json"))).json()); } catch (e) { $("error").textContent = e.message; }
});

async function download(format) {
  $("error").textContent = "";
  try {
    const response = await api(query(format));
    const name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = name ? name[1] : `report.${format}`;
    document.body.appendChild(link); link.click(); link.remove();
  } catch (e) { $("error").textContent = e.message; }
}
$("xlsx").addEventListener("click", () => download("xlsx"));
$("csv").addEventListener("click", () => download("csv"));
new ResizeObserver(() => charts.forEach((c) => c.resize())).observe($("charts"));

if (token) start(); else showLogin();
