// 工单与知识库 on the agent desktop: open a request (工单) from the call, the agent's open requests with their
// deadlines (near due amber, overdue red), and the knowledge base: suggestions for the call and a search box.
import { api, ApiError, centerTime, el, groupNumber, setText } from "/web/common.js";

const $ = (id) => document.getElementById(id);
const STATUS_ZH = {
  open: "待处理", in_progress: "处理中", waiting_customer: "待客户", answered: "已答复", closed: "已关闭", reopened: "重开",
};
const DUE_ZH = { ok: "", near: "即将到期", overdue: "已超时", done: "" };

export class ServicePanel {
  constructor({ fail }) {
    // a refusal of these panels is shown in the panel itself; an expired login goes to the page's handler
    this.fail = (exc) => {
      if (exc instanceof ApiError && exc.status === 401) { fail(exc); return; }
      setText($("req-status"), exc.message || String(exc));
      $("req-status").className = "message error";
    };
    this.call = null;           // the screen pop of the call on hand
    this.types = [];
    $("request-form").addEventListener("submit", (event) => { event.preventDefault(); this.create(); });
    $("kb-form").addEventListener("submit", (event) => { event.preventDefault(); this.search(); });
  }

  async start() {
    try {
      this.types = (await api("/api/requests/types")).types;
      $("service").hidden = $("kb").hidden = false;
      $("req-type").replaceChildren(...this.types.map((t) =>
        el("option", { value: t.type }, `${t.label}（${t.due_hours} 小时内答复）`)));
      await this.refresh();
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 404) {   // a desk without service requests: no panels
        this.disabled = true;
        $("service").hidden = $("kb").hidden = true;
        return;
      }
      this.fail(exc);
    }
  }

  // the call on hand: the form is filed against it, the knowledge base suggests answers for it
  async onPop(pop) {
    if (this.disabled) return;
    this.call = pop;
    setText($("req-call"), pop ? `来自来电 ${groupNumber(pop.caller.number)}` : "");
    $("btn-create-request").disabled = !pop;
    if (!pop) return;
    const ivr = pop.ivr || {};
    const path = (ivr.path || []).join(",");
    try {
      const found = await api(`/api/kb/suggest?queue=${encodeURIComponent(pop.queue || "")}`
        + `&path=${encodeURIComponent(path)}&language=${encodeURIComponent(ivr.language || "")}`);
      this.showArticles($("kb-suggest"), found.articles, "推荐：");
    } catch (exc) { this.fail(exc); }
  }

  onRequestEvent() { if (!this.disabled) this.refresh().catch((exc) => this.fail(exc)); }

  async create() {
    if (!this.call) { this.fail(new Error("没有可关联的来电：工单从来电建立")); return; }
    const body = {
      type: $("req-type").value, summary: $("req-summary").value.trim(), details: $("req-details").value.trim(),
      category: $("req-category").value.trim(), linkedid: this.call.linkedid,
    };
    if (this.call.queue) body.queue = this.call.queue;
    try {
      const made = await api("/api/requests", { method: "POST", body });
      $("req-status").className = "muted";
      setText($("req-status"), `已建立工单 #${made.id}（${made.type_label}），${centerTime(made.due_at)} 前答复`);
      $("req-summary").value = ""; $("req-details").value = ""; $("req-category").value = "";
      await this.refresh();
    } catch (exc) { this.fail(exc); }
  }

  async refresh() {
    const { requests } = await api("/api/requests?status=open-any&limit=50");
    $("req-list").tBodies[0].replaceChildren(...requests.map((r) => el("tr", { class: `due-${r.due_state}`, "data-id": r.id },
      el("td", {}, `#${r.id}`), el("td", {}, r.type_label), el("td", {}, STATUS_ZH[r.status] || r.status),
      el("td", {}, `${centerTime(r.due_at)} ${DUE_ZH[r.due_state] || ""}`),
      el("td", {}, groupNumber(r.customer_number)), el("td", {}, r.summary),
      el("td", {}, this.button(r, "answered", "已答复"), this.button(r, "closed", "关闭")))));
  }

  button(r, status, label) {
    const b = el("button", { type: "button" }, label);
    b.onclick = async () => {
      try {
        await api(`/api/requests/${r.id}`, { method: "PATCH", body: { status } });
        await this.refresh();
      } catch (exc) { this.fail(exc); }
    };
    return b;
  }

  async search() {
    const q = $("kb-query").value.trim();
    if (!q) return;
    try {
      const found = await api(`/api/kb/search?q=${encodeURIComponent(q)}`);
      this.showArticles($("kb-results"), found.articles, found.articles.length ? "" : "没有找到标准答案");
    } catch (exc) { this.fail(exc); }
  }

  showArticles(list, articles, heading) {
    list.replaceChildren(...(heading ? [el("li", { class: "muted" }, heading)] : []), ...articles.map((a) => {
      const link = el("a", { href: "#", "data-id": a.id }, a.title);
      link.onclick = (event) => { event.preventDefault(); this.read(a.id); };
      return el("li", {}, link);
    }));
  }

  async read(id) {
    try {
      const article = await api(`/api/kb/articles/${id}`);
      setText($("kb-title"), article.title);
      setText($("kb-body"), article.body);
      $("kb-article").hidden = false;
    } catch (exc) { this.fail(exc); }
  }
}
