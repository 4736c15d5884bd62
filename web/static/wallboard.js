// 班长监控 / 大屏: KPI tiles, queues, agents grid, supervisor actions, announcements.
// ?tv=1 is the big-screen mode: no controls, a read-only token from the address (#token=...), no login prompt.
import {
  api, ApiError, centerTime, centerZone, clock, duration, elapsed, el, LiveSocket, login, maskNumber, percent, REASON_ZH,
  seconds, session,
  setText, showConnection, showIn, STATE_ZH, SYSTEM_REASONS,
} from "/web/common.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const TV = params.get("tv") === "1";
const GRADE_ZH = { green: "达标", amber: "预警", red: "未达标", none: "暂无数据" };
const KPI_ORDER = ["connection_rate", "live_answer_rate", "satisfaction", "service_level"];
const ON_CALL = ["ringing", "talking", "on-hold", "transferring"];
const STATE_ORDER = ["ringing", "talking", "on-hold", "transferring", "wrap-up", "ready", "not-ready", "reserved", "logged-out"];

const board = { me: null, agents: new Map(), calls: new Map(), queues: new Map(), members: {}, kpis: {},
                devices: {}, socket: null, dirty: false, updated: null, frames: 0 };
window.hotlineBoard = board;

if (TV) {
  document.body.classList.add("tv");
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) session.token = hash.get("token");
}

const showMessage = (text, kind = "error") => showIn($("message"), text, kind);

function backToLogin(reason) {
  session.token = "";
  if (board.socket) board.socket.stop();
  board.socket = null;
  $("app").hidden = true;
  if (TV) {                       // a TV never shows a login form: it says what is wrong and keeps retrying
    document.body.replaceChildren(el("p", { class: "stale", id: "tv-error" }, `大屏令牌无效：${reason}`));
    return;
  }
  $("login").hidden = false;
  setText($("login-error"), reason || "");
  $("login-error").hidden = !reason;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await login($("login-id").value.trim(), $("login-pin").value);
    $("login-pin").value = "";
    await start();
  } catch (exc) {
    setText($("login-error"), exc.message);
    $("login-error").hidden = false;
  }
});

async function start() {
  centerZone.name = (await api("/api/desktop/config")).time_zone || centerZone.name;
  await resync();
  $("login").hidden = true;
  $("app").hidden = false;
  board.socket = new LiveSocket({
    resync, onFrame,
    onStatus: (status, reason) => {
      showConnection($("conn"), $("stale"), status, reason, board.updated);
      if (status !== "up") document.querySelectorAll(".card .chip").forEach((chip) => chip.classList.add("unknown"));
    },
    onAuthFailed: (reason) => backToLogin(reason),
  });
  board.socket.start();
  setInterval(() => resync().catch(() => {}), 60000);      // a missed hang-up never pins an agent "in call"
  setInterval(() => loadStaffing(), 15000);
}

async function resync() {
  const snap = await api("/api/live/snapshot");
  clock.sync(snap.server_time);
  board.me = snap.me;
  if (!snap.agents) throw new ApiError(403, "只有班长、质检或大屏可以查看监控");
  board.agents = new Map(snap.agents.map((a) => [a.agent_id, a]));
  board.calls = new Map(snap.calls.map((c) => [c.linkedid, c]));
  board.queues = new Map(Object.entries(snap.queues));
  board.members = snap.queue_members || {};
  board.kpis = snap.kpis || {};
  board.devices = snap.devices || {};
  setText($("who"), board.me.agent_id ? `${board.me.agent_id} ${board.me.name}` : "大屏");
  fillFilters();
  touch();
  renderAll();
  loadRequests();
  loadStaffing();
}

// the day view: per hour, the agents logged in next to the agents needed for the service level (Erlang C,
// from the call-detail records: GET /api/reports/staffing); a TV token does not read reports
board.loadStaffing = loadStaffing;
async function loadStaffing() {
  if (!board.me || !board.me.agent_id) return;
  try {
    const day = new Date(clock.now()).toLocaleDateString("sv-SE", { timeZone: centerZone.name });
    const staffing = await api(`/api/reports/staffing?from=${day}&to=${day}&interval=1h`);
    const rows = staffing.rows.filter((r) => r.offered || r.agents_logged_in);
    $("staffing-table").tBodies[0].replaceChildren(...rows.map((r) => el("tr", {
      class: r.agents_needed !== null && r.agents_logged_in < r.agents_needed ? "short" : "" },
      el("td", {}, String(r.interval)), el("td", {}, String(r.offered)), el("td", {}, seconds(r.aht_s)),
      el("td", {}, percent(r.service_level)), el("td", {}, r.agents_logged_in === null ? "—" : r.agents_logged_in.toFixed(1)),
      el("td", { class: "needed" }, r.agents_needed === null ? "—" : String(r.agents_needed)))));
    setText($("staffing-note"), rows.length ? "" : "今日尚无来电");
  } catch (exc) {
    setText($("staffing-note"), exc.message);                 // e.g. nothing recorded yet today
  }
  $("staffing").hidden = false;
}

const COMMAND_ZH = { listen: "监听", whisper: "耳语", barge: "强插", "force-hangup": "强拆", "force-state": "强制状态" };
const REQUEST_STATUS_ZH = {
  open: "待处理", in_progress: "处理中", waiting_customer: "待客户", answered: "已答复", closed: "已关闭", reopened: "重开",
};

// 工单 near or past their due time (escalated to the supervisors); a TV token does not read requests
async function loadRequests() {
  if (!board.me.agent_id) return;
  try {
    const [counts, due] = await Promise.all([api("/api/requests/summary"), api("/api/requests?due=near&limit=20")]);
    setText($("req-counts"), `未结 ${counts.open} · 即将到期 ${counts.near_due} · 已超时 ${counts.overdue}`);
    $("req-due").tBodies[0].replaceChildren(...due.requests.map((r) => el("tr", { class: `due-${r.due_state}`, "data-id": r.id },
      el("td", {}, `#${r.id}`), el("td", {}, r.type_label), el("td", {}, r.owner_id),
      el("td", {}, `${centerTime(r.due_at)}${r.due_state === "overdue" ? " 已超时" : " 即将到期"}`),
      el("td", {}, REQUEST_STATUS_ZH[r.status] || r.status), el("td", {}, r.customer_number), el("td", {}, r.summary))));
    $("requests").hidden = false;
  } catch (exc) {
    showMessage(`工单未能读取：${exc.message}`);
  }
}

function onFrame(frame) {
  clock.sync(frame.server_time);
  if (frame.type !== "batch") return;
  board.frames += 1;
  for (const item of frame.items) {
    const d = item.data;
    if (item.type === "agent") board.agents.set(d.agent_id, d);
    else if (item.type === "call") {
      if (d.state === "ended") board.calls.delete(d.linkedid); else board.calls.set(d.linkedid, d);
    } else if (item.type === "queue") board.queues.set(d.queue, d);
    else if (item.type === "kpis") board.kpis = d;
    else if (item.type === "request") board.requestsDirty = true;
  }
  if (board.requestsDirty) { board.requestsDirty = false; loadRequests(); }
  touch();
  schedule();
}

function touch() { board.updated = centerTime(new Date(clock.now()), { date: false }); }

function schedule() {                 // coalesce bursts: one render per animation frame at most
  if (board.dirty) return;
  board.dirty = true;
  requestAnimationFrame(() => { board.dirty = false; renderAll(); });
}

function fillFilters() {
  const teams = [...new Set([...board.agents.values()].map((a) => a.team).filter(Boolean))].sort();
  const keep = (select, values) => {
    const current = select.value;
    select.replaceChildren(el("option", { value: "" }, "全部"), ...values.map((v) => el("option", { value: v }, v)));
    select.value = values.includes(current) ? current : "";
  };
  keep($("f-team"), teams);
  keep($("f-queue"), [...board.queues.keys()]);
}
$("f-team").onchange = () => renderAgents();
$("f-queue").onchange = () => renderAgents();

// ---------------------------------------------------------------------------------------------- render
function renderAll() {
  setText($("updated"), board.updated || "—");
  renderKpis();
  renderQueues();
  renderAgents();
}

function renderKpis() {
  const box = $("kpis");
  for (const name of KPI_ORDER) {
    const k = board.kpis[name];
    if (!k) continue;
    let tile = box.querySelector(`[data-kpi="${name}"]`);
    if (!tile) {
      tile = el("div", { class: "tile", dataset: { kpi: name } }, el("div", { class: "label" }),
        el("div", { class: "value" }), el("div", { class: "grade" }));
      box.append(tile);
    }
    tile.className = `tile ${k.grade}`;
    tile.title = `${k.label}：${k.basis}（今日 00:00 起，目标 ≥ ${percent(k.target)}）`;
    setText(tile.querySelector(".label"), `${k.label}（今日）`);
    setText(tile.querySelector(".value"), percent(k.value));
    tile.querySelector(".value").dataset.value = k.value === null ? "" : String(k.value);
    setText(tile.querySelector(".grade"), `${GRADE_ZH[k.grade]} · 目标 ≥ ${percent(k.target)}`);
  }
}

const QUEUE_FIELDS = [
  ["waiting", (q) => q.waiting], ["longest_wait_s", (q) => duration(q.longest_wait_s)],
  ["offered", (q) => q.offered], ["answered", (q) => q.answered], ["abandoned", (q) => q.abandoned],
  ["service_level", (q) => percent(q.service_level)], ["service_level_target", (q) => percent(q.service_level_target)],
  ["asa_s", (q) => seconds(q.asa_s)], ["aht_s", (q) => seconds(q.aht_s)], ["abandon_rate", (q) => percent(q.abandon_rate)],
  ["agents", (q) => q.agents ? `${q.agents.ready}/${q.agents.busy}/${q.agents.wrap_up}/${q.agents.not_ready}` : "—"],
];

function renderQueues() {
  const body = $("queues").tBodies[0];
  for (const [name, q] of board.queues) {
    let row = body.querySelector(`tr[data-queue="${name}"]`);
    if (!row) {
      row = el("tr", { dataset: { queue: name } }, el("th", {}, name),
        ...QUEUE_FIELDS.map(([f]) => el("td", { dataset: { f } })));
      body.append(row);
    }
    for (const [f, show] of QUEUE_FIELDS) {
      const cell = row.querySelector(`td[data-f="${f}"]`);
      setText(cell, show(q) ?? "—");
      cell.dataset.raw = q[f] === null || q[f] === undefined || typeof q[f] === "object" ? "" : String(q[f]);
    }
    const sl = row.querySelector('td[data-f="service_level"]');
    sl.classList.toggle("bad", q.service_level !== null && q.service_level < q.service_level_target);
    row.querySelector('td[data-f="longest_wait_s"]').classList.toggle("bad", q.longest_wait_s >= 60);
  }
}

function callerOf(call, agent) {
  if (!call) return "";
  const other = call.channels.find((c) => c.endpoint !== agent.endpoint) || call.channels[0];
  return other ? other.caller.num : "";
}

function renderAgents() {
  const box = $("agents");
  const team = $("f-team").value, queue = $("f-queue").value;
  const members = queue ? new Set(board.members[queue] || []) : null;
  const shown = [...board.agents.values()]
    .filter((a) => a.role === "agent" || a.state !== "logged-out")
    .filter((a) => (!team || a.team === team) && (!members || members.has(a.agent_id)))
    .sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || Date.parse(a.since) - Date.parse(b.since));
  const seen = new Set();
  let index = 0;
  for (const a of shown) {
    seen.add(a.agent_id);
    let card = box.querySelector(`.card[data-agent="${a.agent_id}"]`);
    if (!card) card = buildCard(a);
    if (box.children[index] !== card) box.insertBefore(card, box.children[index] || null);   // sort order, no churn
    index += 1;
    const chip = card.querySelector(".chip");
    const reason = a.state === "not-ready" && a.reason ? ` ${REASON_ZH[a.reason] || a.reason}` : "";
    setText(chip, `${STATE_ZH[a.state] || a.state}${reason}`);
    chip.className = `chip ${a.state}${SYSTEM_REASONS.has(a.reason) ? " system" : ""}`;
    card.dataset.state = a.state;
    setText(card.querySelector(".timer"), elapsed(a.since));
    const call = a.linkedid ? board.calls.get(a.linkedid) : null;
    setText(card.querySelector(".call"), ON_CALL.includes(a.state) || a.state === "wrap-up"
      ? `${a.queue || "—"} · ${call ? duration(clock.now() / 1000 - call.started_at) : ""} · ${maskNumber(callerOf(call, a))}` : "");
    setText(card.querySelector(".handled"), `今日接听 ${a.calls_handled}`);
    for (const button of card.querySelectorAll("button[data-oncall]")) button.disabled = !ON_CALL.includes(a.state);
  }
  for (const card of [...box.children]) if (!seen.has(card.dataset.agent)) card.remove();
}

function buildCard(a) {
  const supervises = board.me && !board.me.read_only;
  const act = (label, cmd, extra = {}) => el("button", { dataset: { cmd, oncall: "1" }, onclick: () => action(a.agent_id, cmd), ...extra }, label);
  const force = el("select", { "aria-label": "强制状态" },
    el("option", { value: "ready" }, "强制示闲"), el("option", { value: "not-ready" }, "强制示忙"),
    el("option", { value: "logged-out" }, "强制签出"));
  return el("div", { class: "card", dataset: { agent: a.agent_id } },
    el("div", { class: "top" }, el("strong", {}, `${a.name} ${a.agent_id}`), el("span", { class: "timer" })),
    el("div", {}, el("span", { class: "chip" }), " ", el("span", { class: "muted" }, a.team || "")),
    el("div", { class: "call" }), el("div", { class: "handled muted" }),
    supervises ? el("div", { class: "actions" }, act("监听", "listen"), act("耳语", "whisper"), act("强插", "barge"),
      act("强拆", "force-hangup", { class: "danger" }), force,
      el("button", { dataset: { cmd: "force-state" }, onclick: () => action(a.agent_id, "force-state", { state: force.value }) }, "执行")) : null);
}

// ---------------------------------------------------------------------------------------------- actions
async function action(agentId, cmd, body = {}) {
  if (cmd === "force-hangup" && !confirm(`强拆坐席 ${agentId} 的通话？`)) return;
  showMessage("");
  try {
    await api(`/api/agents/${encodeURIComponent(agentId)}/${cmd}`, { method: "POST", body });
    showMessage(`已执行${COMMAND_ZH[cmd] || cmd}（坐席 ${agentId}）`, "info");
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) backToLogin(`登录已失效：${exc.message}`);
    else showMessage(exc.message);
  }
}

$("ann-send").onclick = async () => {
  const kind = $("ann-audience").value, target = $("ann-target").value.trim();
  const audience = kind === "all" ? { all: true } : kind === "team" ? { team: target }
    : { agents: target.split(/[,，\s]+/).filter(Boolean) };
  try {
    const result = await api("/api/supervisor/announcements", { method: "POST", body: { text: $("ann-text").value, audience } });
    showMessage(`公告已发送给 ${result.announcement.recipients.length} 位坐席`, "info");
    $("ann-text").value = "";
  } catch (exc) {
    showMessage(exc.message);
  }
};
$("btn-logout").onclick = () => backToLogin("");

setInterval(() => {
  setText($("clock"), centerTime(new Date(clock.now()), { date: false }));
  if (!$("app").hidden) renderAgents();           // timers from server timestamps
}, 1000);

if (session.token) start().catch((exc) => backToLogin(exc.message));
else backToLogin(TV ? "缺少令牌：请用班长生成的 /wallboard?tv=1#token=… 地址打开" : "");
