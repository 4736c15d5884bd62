// Shared by the agent desktop and the wallboard: the token, the HTTP API, the live socket, formats.
// The login token lives in sessionStorage (it survives a reload of the tab, not the closing of it).

const TOKEN_KEY = "hotline.token";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ""; },
  set token(value) { value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY); },
};

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// Every refusal of the server becomes an ApiError carrying its own message (never swallowed).
export async function api(path, { method = "GET", body, token = session.token } = {}) {
  const headers = { "Accept": "application/json" };
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (exc) {
    throw new ApiError(0, `服务器无法连接 (${exc.message})`);
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const detail = data && (data.error || (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)));
    throw new ApiError(response.status, detail || `HTTP ${response.status}`);
  }
  return data;
}

export async function login(agentId, pin) {
  const result = await api("/api/auth/login", { method: "POST", body: { agent_id: agentId, pin }, token: "" });
  session.token = result.token;
  return result;
}

// The live feed: authenticates with its first message, reconnects with back-off and jitter, and calls
// onSnapshot after every (re)connect so the page resynchronises; a missing heartbeat marks it stale.
export class LiveSocket {
  constructor({ onFrame, onStatus, onAuthFailed, resync }) {
    Object.assign(this, { onFrame, onStatus, onAuthFailed, resync });
    this.delay = 500;
    this.ws = null;
    this.closed = false;
    this.lastMessage = 0;
    this.watchdog = setInterval(() => this.checkStale(), 5000);
  }

  start() {
    this.closed = false;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: session.token }));
    ws.onmessage = async (event) => {
      this.lastMessage = Date.now();
      const frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        this.delay = 500;
        this.onStatus("up");
        await this.resync();
      } else if (frame.type === "resync") {
        await this.resync();
      } else {
        this.onFrame(frame);
      }
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (event.code === 4401 || event.code === 4403) {
        this.closed = true;
        this.onStatus("down", event.reason);
        this.onAuthFailed(event.reason || "登录已失效");
        return;
      }
      if (this.closed) return;
      this.onStatus("down", "连接中断，正在重连…");
      const wait = this.delay * (0.5 + Math.random());
      this.delay = Math.min(this.delay * 2, 15000);
      setTimeout(() => { if (!this.closed) this.start(); }, wait);
    };
  }

  checkStale() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastMessage > 35000) {
      this.onStatus("stale");
      this.ws.close();
    }
  }

  stop() {
    this.closed = true;
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
  }

  // for tests and the page's own "重连" button: drop the connection as a network failure would
  drop() { if (this.ws) this.ws.close(4000, "dropped"); }
}

// Server time: elapsed times come from server timestamps plus the measured clock offset.
export const clock = {
  offset: 0,
  sync(serverTime) { if (serverTime) this.offset = serverTime * 1000 - Date.now(); },
  now() { return Date.now() + this.offset; },
};

// Times as the call center reads them: in its configured zone ([service] time_zone, sent by /api/desktop/config),
// whatever zone the computer running the browser is set to (a laptop on the road, a wall TV set up elsewhere).
export const centerZone = { name: "Asia/Shanghai" };

export function centerTime(value, { date = true } = {}) {
  if (value === null || value === undefined || value === "") return "";
  const at = value instanceof Date ? value : new Date(typeof value === "number" ? value : Date.parse(value));
  const options = { hour12: false, timeZone: centerZone.name };
  return date ? at.toLocaleString("zh-CN", options) : at.toLocaleTimeString("zh-CN", options);
}

export function elapsed(isoOrEpoch) {
  if (!isoOrEpoch) return "";
  const start = typeof isoOrEpoch === "number" ? isoOrEpoch * 1000 : Date.parse(isoOrEpoch);
  return duration((clock.now() - start) / 1000);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh ? `${two(hh)}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`;
}

export function percent(ratio) {
  return ratio === null || ratio === undefined ? "—" : `${(ratio * 100).toFixed(1)}%`;
}

export function seconds(value) {
  return value === null || value === undefined ? "—" : `${Number(value).toFixed(1)} s`;
}

export function maskNumber(number) {
  const n = String(number || "");
  return n.length >= 11 ? `${n.slice(0, 3)} **** ${n.slice(-4)}` : n;
}

export function groupNumber(number) {
  const n = String(number || "");
  return n.length === 11 ? `${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}` : n;
}

export const STATE_ZH = {
  "logged-out": "签出", "ready": "示闲", "reserved": "预占", "ringing": "振铃", "talking": "通话中",
  "on-hold": "保持", "transferring": "转接中", "wrap-up": "话后整理", "not-ready": "示忙",
};
export const REASON_ZH = {
  break: "小休", meal: "用餐", training: "培训", meeting: "会议", restroom: "洗手间", coaching: "辅导",
  "admin-work": "处理工单", other: "其他", login: "刚签入", unreachable: "话机未注册",
  "ring-no-answer": "未接来电，已自动置忙", forced: "班长置忙",
};
export const SYSTEM_REASONS = new Set(["unreachable", "ring-no-answer"]);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function setText(node, text) {
  const value = String(text ?? "");
  if (node.textContent !== value) node.textContent = value;
}

// A message line (role=alert): "error" for refusals, "info" for confirmations; an empty text hides it.
export function showIn(box, text, kind = "error") {
  box.className = `message ${kind}`;
  setText(box, text);
  box.hidden = !text;
}

// The connection dot and the staleness banner: "up", or down/stale with when the data was last fresh.
export function showConnection(dot, banner, status, reason, lastUpdate) {
  dot.className = `conn ${status === "up" ? "up" : "down"}`;
  banner.hidden = status === "up";
  if (status !== "up") {
    setText(banner, `连接中断，数据可能已过期（最后更新 ${lastUpdate || "—"}）${reason ? "：" + reason : ""}`);
  }
}
