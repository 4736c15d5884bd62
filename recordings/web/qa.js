// QA review page: log in, search, play with seek and previous/next, score against the scorecard.
// One login for all of hotline: POST /api/auth/login gives the token every API takes (Bearer); the audio
// element cannot send headers, so /api/recordings/session also puts that token into an HttpOnly cookie.
"use strict";

const state = { token: null, user: null, page: 1, pageSize: 20, items: [], total: 0, current: -1, scorecard: null };
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  if (options.body && typeof options.body !== "string") {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, Object.assign({}, options, { headers, credentials: "same-origin" }));
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const reason = data && (data.detail || data.error);
    const detail = reason ? (typeof reason === "string" ? reason : JSON.stringify(reason)) : response.statusText;
    throw new Error(response.status + ": " + detail);
  }
  return data;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const login = await api("/api/auth/login", { method: "POST", body: { agent_id: $("login-id").value, pin: $("login-pin").value } });
    state.token = login.token;
    const data = await api("/api/recordings/session", { method: "POST" });
    state.user = data.user;
    $("whoami").textContent = `${data.user.name} (${data.user.id}, ${data.user.role})`;
    $("login-panel").hidden = true;
    $("app").hidden = false;
    if (data.user.role === "agent") { $("f-agent").value = data.user.id; $("f-agent").readOnly = true; }
    state.scorecard = await api("/api/recordings/scorecard");
    buildScorecard();
  } catch (err) {
    $("login-error").textContent = err.message;
  }
});

function localParam(value) {
  // datetime-local gives 2026-11-01T08:00 (or with seconds): the server reads it in the hotline's time zone.
  return value || "";
}

async function runSearch() {
  $("search-error").textContent = "";
  const params = new URLSearchParams();
  const fields = { agent: "f-agent", from: "f-from", to: "f-to", caller: "f-caller", queue: "f-queue", customer: "f-customer", min_duration: "f-min", sort: "f-sort", order: "f-order" };
  for (const [name, id] of Object.entries(fields)) {
    const value = name === "from" || name === "to" ? localParam($(id).value) : $(id).value.trim();
    if (value !== "") params.set(name, value);
  }
  params.set("page", state.page);
  params.set("page_size", state.pageSize);
  try {
    const data = await api("/api/recordings?" + params.toString());
    state.items = data.items;
    state.total = data.total;
    renderResults(data);
  } catch (err) {
    $("search-error").textContent = err.message;
  }
}

function renderResults(data) {
  const body = $("results").querySelector("tbody");
  body.innerHTML = "";
  data.items.forEach((item, index) => {
    const row = document.createElement("tr");
    row.dataset.id = item.id;
    const cells = [item.id, item.started_local, `${item.agent_id} ${item.agent_name || ""}`, item.caller, item.called, item.queue,
      item.duration_s == null ? "" : item.duration_s.toFixed(1), item.segment, item.satisfaction, item.status];
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.textContent = value == null ? "" : String(value);
      row.appendChild(cell);
    }
    row.addEventListener("click", () => select(index));
    body.appendChild(row);
  });
  $("result-count").textContent = `共 ${data.total} 条`;
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  $("page-info").textContent = `${data.page} / ${pages}`;
  $("page-prev").disabled = data.page <= 1;
  $("page-next").disabled = !data.has_next;
}

async function select(index) {
  if (index < 0 || index >= state.items.length) return;
  state.current = index;
  const item = state.items[index];
  document.querySelectorAll("#results tbody tr").forEach((tr, i) => tr.classList.toggle("selected", i === index));
  $("player-panel").hidden = false;
  $("now-playing").textContent = `#${item.id} · ${item.started_local} · ${item.agent_id} · ${item.caller}`;
  const player = $("player");
  player.src = `/api/recordings/${item.id}/audio`;
  player.load();
  $("prev-rec").disabled = index <= 0;
  $("next-rec").disabled = index >= state.items.length - 1;
  $("eval-panel").hidden = false;
  $("eval-submit").disabled = state.user.role === "agent";
  $("eval-status").textContent = "";
  await loadEvaluations(item.id);
}

function buildScorecard() {
  const body = $("scorecard").querySelector("tbody");
  body.innerHTML = "";
  for (const item of state.scorecard.items) {
    const row = document.createElement("tr");
    const label = document.createElement("td");
    label.textContent = item.label;
    const weight = document.createElement("td");
    weight.textContent = item.weight;
    const score = document.createElement("td");
    const input = document.createElement("input");
    input.type = "number"; input.min = 0; input.max = state.scorecard.scale; input.step = "0.5";
    input.value = state.scorecard.scale; input.name = item.id; input.id = "score-" + item.id;
    score.appendChild(input);
    row.append(label, weight, score);
    body.appendChild(row);
  }
}

async function loadEvaluations(recordingId) {
  const list = $("eval-list");
  list.innerHTML = "";
  try {
    const rows = await api(`/api/recordings/${recordingId}/evaluations`);
    for (const row of rows) {
      const li = document.createElement("li");
      li.textContent = `${row.created_at} · 评分人 ${row.reviewer_id} · 总分 ${row.total} · ${row.comments}`;
      list.appendChild(li);
    }
  } catch (err) {
    list.textContent = err.message;
  }
}

$("eval-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.current < 0) return;
  const item = state.items[state.current];
  const scores = {};
  for (const entry of state.scorecard.items) scores[entry.id] = Number($("score-" + entry.id).value);
  try {
    const saved = await api(`/api/recordings/${item.id}/evaluations`, { method: "POST", body: { scores, comments: $("eval-comments").value } });
    $("eval-status").textContent = `已保存 saved: 总分 ${saved.total}`;
    await loadEvaluations(item.id);
  } catch (err) {
    $("eval-status").textContent = err.message;
  }
});

$("search-form").addEventListener("submit", (event) => { event.preventDefault(); state.page = 1; runSearch(); });
$("page-prev").addEventListener("click", () => { state.page -= 1; runSearch(); });
$("page-next").addEventListener("click", () => { state.page += 1; runSearch(); });
$("prev-rec").addEventListener("click", () => select(state.current - 1));
$("next-rec").addEventListener("click", () => select(state.current + 1));
