// The case page: the whole timeline across services (router's transitions, sla's clocks and escalation
// documents, the console's audit), the routing explanation and the reporters (masked ids only).
import * as api from "./api.js";
import { badge, h, LATENESS_NAMES, LEVEL_NAMES, STATE_NAMES, URGENCY_NAMES, when } from "./dom.js";
import { itemSearch } from "./queue.js";
import { printDocument } from "./documents.js";

const KIND_NAMES = {
  created: "登记", dispatched: "派遣", queued_manual: "转人工分拨", accepted: "签收", progressed: "进展",
  returned: "退单", arbitration_requested: "提请仲裁", resolved: "办结", verified: "核查", reopened: "重办",
  rated: "回访评价", closed: "结案", escalated: "提级", merged: "合并", repeat_reported: "重复上报",
  suspended: "挂起", resumed: "恢复", extension_requested: "申请延期", extended: "延期", rejected: "不予受理",
  action_refused: "操作被拒",
};

export async function renderCase(main, { arg, app }) {
  async function load() {
    const data = await api.get(`/api/cases/${encodeURIComponent(arg)}`);
    main.replaceChildren(...page(data, app, load));
  }
  app.refresh = (notice) => { if (notice.case_id === arg) load(); };
  await load();
}

function page(data, app, reload) {
  const c = data.case || {};
  const row = data.read_model || {};
  const a = c.assignment || {};
  const n = (id) => (id ? app.city.names[id] || id : "—");
  const facts = h("dl", { class: "facts" },
    ...[["状态 State", badge("state", c.state || row.state, STATE_NAMES)],
        ["时效 Clock", badge("late", row.lateness || "on_time", LATENESS_NAMES)],
        ["紧急 Urgency", badge("urgency", c.urgency || row.urgency, URGENCY_NAMES)],
        ["事项 Item", `${a.item_code || "—"} ${a.item_name || ""}`],
        ["责任单位 Owner", `${n(a.owner)}${a.owner_unit ? ` (${n(a.owner_unit)})` : ""}`],
        ["层级 Level", LEVEL_NAMES[a.level] || a.level || "—"],
        ["协办 Assisting", (c.explanation?.dispatch?.assisting || []).map((x) => `${n(x.owner)} (${x.item_code})`).join("、") || "—"],
        ["位置 Place", `${n(a.street_id || row.street_id)} · ${n(a.community_id || row.community_id)} · ${n(a.grid_id || row.grid_id)}`],
        ["渠道 Channel", c.channel || row.channel || "—"],
        ["受理 Opened", when(c.opened_at || row.opened_at)],
        ["退单 Returns", c.returns ?? 0],
        ["上报人 Reporters", (c.reporters || []).map((r) => `${r.kind}${r.id ? ":" + r.id : ""}`).join("、") || "—"],
      ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  return [
    h("h2", {}, "案件 Case ", h("span", { class: "case-id", "data-testid": "case-id" }, c.case_id || row.case_id)),
    h("p", { class: "text" }, c.text || ""),
    facts,
    actions(c, app, reload),
    h("h3", {}, "全流程 Timeline"), timeline(data),
    h("h3", {}, "时限 Clocks (sla)"), clocks(data.clocks),
    h("h3", {}, "两函一单 Documents"), documents(data, app),
    h("h3", {}, "分拨依据 Routing explanation"),
    h("pre", { class: "explanation" }, JSON.stringify(c.explanation || {}, null, 2)),
  ];
}

function timeline(data) {
  const entries = [];
  for (const e of data.case?.timeline || []) {
    entries.push({ at: e.at, who: e.actor, what: KIND_NAMES[e.kind] || e.kind, state: e.state, why: e.reason,
                   source: "router", extra: e.satisfaction ? `满意度 ${e.satisfaction}/5` : "" });
  }
  for (const d of data.documents || []) {
    entries.push({ at: d.at, who: "sla", what: `提级至 ${LEVEL_NAMES[d.to_level] || d.to_level}`,
                   why: data.document_titles[d.document] || d.document, source: "sla" });
  }
  for (const d of data.clocks?.deadlines || []) {
    if (d.started_at) entries.push({ at: d.started_at, who: "sla", what: `${d.stage === "accept" ? "签收" : "办结"}计时 ${d.limit}`,
                                     why: `截止 due ${when(d.due)}`, source: "sla" });
  }
  for (const x of data.audit || []) {
    entries.push({ at: x.at, who: x.username, what: `控制台 ${x.action}`, why: `${x.detail.target || ""} ${x.outcome}`,
                   source: "console" });
  }
  entries.sort((p, q) => new Date(p.at) - new Date(q.at));
  return h("ol", { class: "timeline", "data-testid": "timeline" }, ...entries.map((e) =>
    h("li", { class: `src-${e.source}`, "data-state": e.state || "" },
      h("time", {}, when(e.at)), " ", h("b", {}, e.what), " ",
      e.state ? badge("state", e.state, STATE_NAMES) : "", " ",
      h("span", { class: "muted" }, e.who), e.why ? h("div", { class: "why" }, e.why) : "", e.extra || "")));
}

function clocks(data) {
  const rows = data?.deadlines || [];
  if (!rows.length) return h("p", { class: "muted" }, "无计时 No clocks");
  return h("table", {}, h("tr", {}, ...["阶段", "时限", "开始", "截止", "状态", "责任", "层级"].map((t) => h("th", {}, t))),
    ...rows.map((d) => h("tr", {}, h("td", {}, d.stage), h("td", {}, `${d.limit} (${d.clock})`), h("td", {}, when(d.started_at)),
      h("td", {}, when(d.due)), h("td", {}, d.state), h("td", {}, d.owner || ""), h("td", {}, d.level || ""))));
}

function documents(data, app) {
  const numbered = data.clocks?.documents || [];
  if (numbered.length) {  // sla numbers and renders them: print its own document
    return h("ul", { class: "documents", "data-testid": "documents" }, ...numbered.map((d) => h("li", {},
      h("b", {}, data.document_titles[d.kind] || d.kind), ` ${d.doc_no} · ${when(d.issued_at)} · ${d.addressee || ""} `,
      h("a", { href: `/api/documents/${encodeURIComponent(d.doc_id)}.html`, target: "_blank", rel: "noopener" }, "打印 Print"))));
  }
  if (!data.documents.length) return h("p", { class: "muted" }, "无 None (no escalation yet)");
  return h("ul", { class: "documents" }, ...data.documents.map((d, i) => h("li", {},
    h("b", {}, data.document_titles[d.document] || d.document), ` · ${when(d.at)} · → ${LEVEL_NAMES[d.to_level] || d.to_level} `,
    h("button", { onclick: () => printDocument(data, d, i + 1, app) }, "打印 Print"))));
}

function actions(c, app, reload) {
  const status = h("span", { class: "status", role: "status" });
  async function send(kind, extra = {}) {
    try {
      await api.post(`/api/cases/${encodeURIComponent(c.case_id)}/actions`, { kind, ...extra });
      status.textContent = "已提交 Sent; the page updates when the router applies it";
    } catch (err) { status.textContent = `失败 Failed: ${err.message}`; }
  }
  const buttons = [];
  if (app.user.role === "centre" && ["manual", "arbitration", "returned"].includes(c.state)) {
    const kind = c.state === "arbitration" ? "arbitrate" : "dispatch";
    buttons.push(itemSearch(app.items, (i) => send(kind, { target: i.service_code, reason: "控制台派遣" })));
  }
  if (app.user.role === "department" && ["dispatched", "escalated"].includes(c.state)) {
    buttons.push(h("button", { onclick: () => send("accept") }, "签收 Accept"));
    const reason = h("input", { placeholder: "退单理由 reason" });
    buttons.push(reason, h("button", { onclick: () => send("return", { reason: reason.value || "不属于本单位职责" }) }, "退单 Return"));
  }
  return buttons.length ? h("div", { class: "actions" }, ...buttons, status) : h("div");
}
