// 坐席工作台: state bar, incoming offer, screen pop, call controls, wrap-up, announcements.
// The page draws the agent's state only from the server (snapshot + live events), never from its own clicks.
import {
  api, ApiError, centerTime, centerZone, clock, duration, elapsed, el, groupNumber, LiveSocket, login, REASON_ZH,
  session, setText,
  showConnection, showIn, STATE_ZH, SYSTEM_REASONS,
} from "/web/common.js";
import { ServicePanel } from "/web/service.js";

const $ = (id) => document.getElementById(id);
const ON_CALL = ["ringing", "talking", "on-hold", "transferring"];
// which button is legal in which agent state (cti/agents.py TRANSITIONS and cti/commands.py checks)
const LEGAL = {
  "btn-ready": ["not-ready", "wrap-up", "logged-out"],
  "btn-not-ready": ["ready", "not-ready", "wrap-up"],
  "btn-end-wrapup": ["wrap-up"],
  "btn-hold": ["talking"], "btn-unhold": ["on-hold"],
  "btn-transfer": ["talking"], "btn-consult": ["talking"], "btn-send-ivr": ["talking"],
  "btn-consult-complete": ["transferring"], "btn-consult-swap": ["transferring"],
  "btn-consult-cancel": ["transferring"], "btn-conference": ["transferring"],
  "btn-dial": ["ready", "not-ready", "wrap-up"],
  "btn-hangup": ["talking", "on-hold", "transferring"],
  "btn-logout": ["ready", "not-ready", "wrap-up", "logged-out"],
};

const page = {
  me: null, config: null, agent: null, device: "", pop: null, lastCall: null, announcements: [],
  socket: null, audio: null, titleTimer: null, saved: new Set(),
};

// ---------------------------------------------------------------------------------------------- messages
const showMessage = (text, kind = "error") => showIn($("message"), text, kind);

function fail(exc) {
  if (exc instanceof ApiError && exc.status === 401) {
    backToLogin(`登录已失效：${exc.message}`);
    return;
  }
  showMessage(exc.message || String(exc));
}

// ---------------------------------------------------------------------------------------------- login
function backToLogin(reason) {
  session.token = "";
  if (page.socket) page.socket.stop();
  page.socket = null;
  $("app").hidden = true;
  $("login").hidden = false;
  const box = $("login-error");
  setText(box, reason || "");
  box.hidden = !reason;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  unlockAudio();
  try {
    await login($("login-id").value.trim(), $("login-pin").value);
    $("login-pin").value = "";
    await start();
    if (page.agent && page.agent.state === "logged-out") await command("login");
  } catch (exc) {
    const box = $("login-error");
    setText(box, exc.message);
    box.hidden = false;
  }
});

async function start() {
  page.config = await api("/api/desktop/config");
  centerZone.name = page.config.time_zone || centerZone.name;
  fillMenus();
  await resync();
  $("login").hidden = true;
  $("app").hidden = false;
  $("login-error").hidden = true;
  page.socket = new LiveSocket({
    onFrame, resync,
    onStatus: (status, reason) => showConnection($("conn"), $("stale"), status, reason,
      centerTime(new Date(), { date: false })),
    onAuthFailed: (reason) => backToLogin(`登录已失效：${reason}`),
  });
  page.socket.start();
  page.command = command;
  page.service = page.service || new ServicePanel({ fail });
  page.service.start();
  if (page.pop) page.service.onPop(page.pop);
  window.hotlineDesk = page;           // for tests and support: the page's live state
}

async function resync() {
  const snap = await api("/api/live/snapshot");
  clock.sync(snap.server_time);
  page.me = snap.me;
  applyAgent(snap.agent);
  page.device = snap.device || "";          // the PBX's word on the phone, over what the last state implied
  render();
  if (snap.screenpop) showPop(snap.screenpop, false);
  page.announcements = snap.announcements || [];
  showAnnouncement();
}

function fillMenus() {
  const cfg = page.config;
  $("reason").replaceChildren(...cfg.not_ready_reasons.map((r) => el("option", { value: r }, REASON_ZH[r] || r)));
  $("dispo").replaceChildren(el("option", { value: "" }, "请选择分类"),
    ...Object.entries(cfg.dispositions).map(([code, label]) => el("option", { value: code }, label)));
  $("ivr-flow").replaceChildren(...cfg.ivr_flows.map((f) => el("option", { value: f }, f)));
  $("dial-queue").replaceChildren(el("option", { value: "" }, "主叫：默认"),
    ...cfg.queues.map((q) => el("option", { value: q.name }, `${q.name}${q.caller_id ? " " + q.caller_id : ""}`)));
}

// ---------------------------------------------------------------------------------------------- state
function applyAgent(view) {
  if (!view) return;
  const before = page.agent ? page.agent.state : null;
  page.agent = view;
  if (view.linkedid) page.lastCall = view.linkedid;
  if (view.reason === "unreachable") page.device = "UNAVAILABLE";
  else if (view.state !== "not-ready" && view.state !== "logged-out") page.device = "";   // it takes calls: registered
  render();
  if (view.state === "wrap-up" && before !== "wrap-up") openWrapup();
  if (view.state !== "ringing") stopRinging();
}

function render() {
  const a = page.agent;
  if (!a) return;
  setText($("me"), `${a.agent_id} ${a.name}`);
  const chip = $("state-chip");
  const reason = a.state === "not-ready" && a.reason ? `（${REASON_ZH[a.reason] || a.reason}）` : "";
  setText(chip, `${STATE_ZH[a.state] || a.state}${reason}`);
  chip.className = `chip ${a.state}${SYSTEM_REASONS.has(a.reason) ? " system" : ""}`;
  chip.dataset.state = a.state;
  const unregistered = ["UNAVAILABLE", "INVALID"].includes(page.device);
  setText($("phone"), unregistered ? "话机未注册 ✗ — 话机注册前保持示忙" : "话机 ✓");
  $("phone").className = unregistered ? "blocked" : "muted";
  setText($("handled"), `今日接听 ${a.calls_handled}`);
  setText($("btn-ready"), a.state === "logged-out" ? "签入" : "示闲");
  for (const [id, states] of Object.entries(LEGAL)) $(id).disabled = !states.includes(a.state);
  $("btn-end-wrapup").hidden = a.state !== "wrap-up";
  $("wrapup-countdown").hidden = a.state !== "wrap-up";
  $("btn-save-dispo").disabled = !page.lastCall;
  $("offer").hidden = a.state !== "ringing";
  tick();
}

function tick() {
  const a = page.agent;
  if (!a) return;
  setText($("state-time"), elapsed(a.since));
  if (a.state === "wrap-up" && a.wrapup_until) {
    setText($("wrapup-countdown"), `整理剩余 ${duration((Date.parse(a.wrapup_until) - clock.now()) / 1000)}`);
  }
}
setInterval(tick, 1000);

// ---------------------------------------------------------------------------------------------- commands
async function command(name, args) {
  showMessage("");
  try {
    const result = await api(`/api/agents/${encodeURIComponent(page.me.agent_id)}/${name}`,
      { method: "POST", body: args || {} });
    if (result && result.agent) applyAgent(result.agent);
    if (result && result.warning) showMessage(result.warning, "info");
    return result;
  } catch (exc) {
    fail(exc);
    return null;
  }
}

// 示闲 after a call needs its service summary first (every interaction gets a disposition)
function summaryMissing() {
  if (page.agent.state !== "wrap-up" || !page.lastCall || page.saved.has(page.lastCall)) return false;
  showMessage("请先选择并保存服务小结分类，再结束整理");
  $("dispo").focus();
  return true;
}
$("btn-ready").onclick = () => {
  unlockAudio();
  if (!summaryMissing()) command(page.agent.state === "logged-out" ? "login" : "ready");
};
$("btn-not-ready").onclick = () => command("not-ready", { reason: $("reason").value });
$("btn-end-wrapup").onclick = () => { if (!summaryMissing()) command("end-wrap-up"); };
$("btn-hold").onclick = () => command("hold");
$("btn-unhold").onclick = () => command("unhold");
$("btn-hangup").onclick = () => command("hangup");
$("btn-transfer").onclick = () => command("transfer", { target: $("xfer-target").value.trim() });
$("btn-consult").onclick = () => command("consult", { target: $("xfer-target").value.trim() });
$("btn-consult-complete").onclick = () => command("consult-complete");
$("btn-consult-cancel").onclick = () => command("consult-cancel");
$("btn-consult-swap").onclick = () => command("consult-swap");
$("btn-conference").onclick = () => command("conference");
$("btn-send-ivr").onclick = async () => {
  const result = await command("send-to-ivr", { flow: $("ivr-flow").value });
  if (result) showMessage(`客户已转入自助流程 ${result.sent_to_ivr}，等待结果…`, "info");
};
$("btn-dial").onclick = () => {
  const queue = $("dial-queue").value;
  command("dial", queue ? { number: $("dial-number").value.trim(), queue } : { number: $("dial-number").value.trim() });
};
$("btn-logout").onclick = async () => {
  if (page.agent.state !== "logged-out" && !(await command("logout"))) return;
  backToLogin("");
};
$("btn-ack").onclick = async () => {
  const current = page.announcements[0];
  if (!current) return;
  if (await command("ack-announcement", { announcement_id: current.id })) {
    page.announcements.shift();
    showAnnouncement();
  }
};
$("btn-test-sound").onclick = () => { unlockAudio(); beep(); };

// ---------------------------------------------------------------------------------------------- live
function onFrame(frame) {
  clock.sync(frame.server_time);
  if (frame.type !== "batch") return;
  for (const item of frame.items) {
    if (item.type === "agent" && item.data.agent_id === page.me.agent_id) applyAgent(item.data);
    else if (item.type === "screenpop") showPop(item.data, !item.data.update);
    else if (item.type === "announcement") {
      if (!page.announcements.some((a) => a.id === item.data.id)) page.announcements.push(item.data);
      showAnnouncement();
    } else if (item.type === "call") onCall(item.data);
    else if (item.type === "request" && page.service) page.service.onRequestEvent(item.data);
  }
}

function onCall(call) {
  const result = call.data && call.data.ivr_result;
  if (result && page.pop && call.linkedid === page.pop.linkedid && page.ivrResultShown !== JSON.stringify(result)) {
    page.ivrResultShown = JSON.stringify(result);
    showMessage(`自助流程 ${result.flow} 结果：${result.result}`, "info");
  }
  if (page.pop && call.linkedid === page.pop.linkedid && call.data) {
    setText($("pop-data"), JSON.stringify(call.data, null, 1));
  }
}

function showAnnouncement() {
  const current = page.announcements[0];
  $("announcement").hidden = !current;
  if (current) {
    setText($("announcement-text"), current.text);
    setText($("announcement-by"), `— ${current.by} ${centerTime(current.at)}`);
  }
}

// ---------------------------------------------------------------------------------------------- screen pop
function showPop(pop, ring) {
  page.pop = pop;
  page.lastCall = pop.linkedid;
  setText($("offer-caller"), groupNumber(pop.caller.number));
  setText($("offer-name"), (pop.customer && pop.customer.name) || pop.caller.name || "");
  setText($("offer-queue"), pop.queue || "—");
  setText($("offer-wait"), pop.wait_seconds === null ? "—" : duration(pop.wait_seconds));
  $("pop-empty").hidden = true;
  $("pop-body").hidden = false;
  setText($("pop-caller"), `来电号码 ${groupNumber(pop.caller.number)}${pop.caller.name ? " · " + pop.caller.name : ""}`);
  const weekAgo = clock.now() - 7 * 86400 * 1000;
  const repeats = (pop.history || []).filter((h) => Date.parse(h.date) >= weekAgo).length;
  setText($("pop-repeat"), repeats ? `重复来电：近 7 天 ${repeats} 次` : "");
  const c = pop.customer;
  const customer = $("pop-customer");
  if (c) {
    customer.replaceChildren(
      el("strong", {}, c.name || "—"),
      c.vip_level ? el("span", { class: "vip" }, ` VIP${c.vip_level}`) : "",
      c.key_account ? el("span", { class: "vip" }, " 大客户") : "",
      c.blocked ? el("span", { class: "blocked" }, " 黑名单") : "",
      c.balance !== undefined ? ` 余额 ${c.balance}` : "", c.points !== undefined ? ` 积分 ${c.points}` : "",
      c.notes ? el("div", { class: "muted" }, c.notes) : "");
  } else {
    customer.replaceChildren(el("span", { class: "muted" }, "新客户（未找到资料）"));
  }
  const ivr = pop.ivr || {};
  const collected = Object.entries(ivr.collected || {}).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`);
  $("pop-ivr").replaceChildren(
    el("dt", {}, "语言"), el("dd", { id: "pop-ivr-language" }, ivr.language || "—"),
    el("dt", {}, "流程"), el("dd", { id: "pop-ivr-flow" }, ivr.flow || "—"),
    el("dt", {}, "按键选择"), el("dd", { id: "pop-ivr-choices" }, (ivr.choices || []).join(" → ") || "—"),
    el("dt", {}, "经过节点"), el("dd", { id: "pop-ivr-path" }, (ivr.path || []).join(" → ") || "—"),
    el("dt", {}, "输入/结果"), el("dd", { id: "pop-ivr-collected" }, collected.join("，") || "—"));
  setText($("pop-data"), JSON.stringify(pop.call_data || {}, null, 1));
  $("pop-history").tBodies[0].replaceChildren(...(pop.history || []).map((h) => el("tr", {},
    el("td", {}, centerTime(h.date)),
    el("td", {}, `${h.agent_id || ""} ${h.agent_name || ""}`), el("td", {}, h.queue || ""),
    el("td", { class: "dispo" }, page.config.dispositions[h.disposition] || h.disposition || ""),
    el("td", { class: "notes" }, h.notes || ""))));
  render();
  if (ring) startRinging();
  if (page.service) page.service.onPop(pop);
}

// ---------------------------------------------------------------------------------------------- wrap-up
function draftKey() { return `hotline.draft.${page.lastCall}`; }

function openWrapup() {
  $("wrapup").hidden = false;
  const draft = JSON.parse(sessionStorage.getItem(draftKey()) || "{}");
  $("dispo").value = draft.code || "";
  $("notes").value = draft.notes || "";
  setText($("dispo-status"), "");
}

for (const id of ["dispo", "notes"]) {
  $(id).addEventListener("input", () => sessionStorage.setItem(draftKey(),
    JSON.stringify({ code: $("dispo").value, notes: $("notes").value })));
}

$("btn-save-dispo").onclick = async () => {
  if (!$("dispo").value) { showMessage("请先选择服务小结分类"); return; }
  const result = await command("disposition", { code: $("dispo").value, notes: $("notes").value, linkedid: page.lastCall });
  if (result) {
    sessionStorage.removeItem(draftKey());
    page.saved.add(page.lastCall);
    setText($("dispo-status"), `已保存：${result.disposition.disposition_zh}`);
  }
};

// ---------------------------------------------------------------------------------------------- ringing
function unlockAudio() {
  if (!page.audio) {
    try { page.audio = new AudioContext(); } catch { page.audio = null; }
  }
  if (page.audio && page.audio.state === "suspended") page.audio.resume();
}

function beep() {
  const ctx = page.audio;
  if (!ctx) return;
  for (const [at, freq] of [[0, 880], [0.25, 660]]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.2, ctx.currentTime + at);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + at);
    osc.stop(ctx.currentTime + at + 0.23);
  }
  page.beeps = (page.beeps || 0) + 1;
}

function startRinging() {
  beep();
  stopRinging();
  const title = document.title;
  page.titleTimer = setInterval(() => {
    document.title = document.title.startsWith("【来电】") ? title : `【来电】${title}`;
  }, 800);
  page.baseTitle = title;
}

function stopRinging() {
  if (page.titleTimer) clearInterval(page.titleTimer);
  page.titleTimer = null;
  if (page.baseTitle) document.title = page.baseTitle;
}

// ---------------------------------------------------------------------------------------------- boot
if (session.token) {
  start().catch((exc) => backToLogin(exc instanceof ApiError && exc.status === 401 ? `登录已失效：${exc.message}` : exc.message));
} else {
  backToLogin("");
}
