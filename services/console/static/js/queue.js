// 人工分拨 manual queue and 仲裁 arbitration: text, place, urgency, top candidates; one click dispatches.
import * as api from "./api.js";
import { age, badge, h, URGENCY_NAMES } from "./dom.js";

function place(c, names) {
  const n = (id) => (id ? names[id] || id : "—");
  return `${n(c.street_id)} · ${n(c.community_id)} · ${n(c.grid_id)}`;
}

export async function renderQueue(main, { view, app }) {
  const kind = view === "arbitration" ? "arbitration" : "manual";
  const title = kind === "manual" ? "人工分拨 Manual queue" : "仲裁 Arbitration";
  const list = h("div", { class: "queue", "data-testid": "queue" });
  const count = h("span", { class: "count" });
  main.replaceChildren(h("h2", {}, title, " ", count), list);

  async function load() {
    const data = await api.get("/api/queue", { kind });
    count.textContent = `${data.cases.length} 件`;
    list.replaceChildren(...(data.cases.length ? data.cases.map((c) => caseCard(c, kind, app, load))
      : [h("p", { class: "muted", "data-testid": "queue-empty" }, "队列为空 Nothing waiting")]));
  }
  app.refresh = (notice) => { if (!notice || notice.topic.startsWith("case.")) load(); };
  await load();
}

function caseCard(c, kind, app, reload) {
  const status = h("p", { class: "status", role: "status" });
  const action = kind === "arbitration" ? "arbitrate" : "dispatch";
  async function send(target, label) {
    status.textContent = `正在派遣至 ${label} …`;
    try {
      await api.post(`/api/cases/${encodeURIComponent(c.case_id)}/actions`,
                     { kind: action, target, reason: `控制台${kind === "manual" ? "人工分拨" : "仲裁"}` });
      status.textContent = `已提交，等待路由确认 Sent to ${label}; waiting for the router…`;
      card.classList.add("sent");
    } catch (err) {
      status.textContent = `失败 Failed: ${err.message}`;
    }
  }
  const candidates = c.candidates.length
    ? c.candidates.map((k, i) => h("li", { class: "candidate" },
        h("button", { class: "primary", "data-testid": "dispatch-candidate", "data-item": k.item_code,
                      onclick: () => send(k.item_code, `${k.item_code} ${k.item_name || ""}`) },
          i === 0 ? "一键派遣 Dispatch" : "派遣 Dispatch"),
        h("span", { class: "code" }, k.item_code), " ", h("b", {}, k.item_name || ""),
        k.owner ? h("span", { class: "muted" }, ` → ${app.city.names[k.owner] || k.owner}`) : "",
        k.score != null ? h("span", { class: "score" }, ` 置信 ${Number(k.score).toFixed(2)}`) : "",
        h("div", { class: "why" }, k.why)))
    : [h("li", { class: "muted" }, "无候选事项 No candidate: search the list below")];
  const search = itemSearch(app.items, (item) => send(item.service_code, `${item.service_code} ${item.service_name}`));
  const why = c.explanation?.why_manual || (kind === "arbitration" ? `退单 ${c.returns || 0} 次 returned twice` : "");
  const card = h("article", { class: `case-card urgency-${c.urgency}`, "data-case-id": c.case_id, "data-testid": "queue-case" },
    h("header", {},
      h("a", { href: `#/case/${encodeURIComponent(c.case_id)}`, class: "case-id" }, c.case_id), " ",
      badge("urgency", c.urgency, URGENCY_NAMES), " ",
      c.explanation?.urgency?.urgent && c.urgency === "normal" ? [badge("urgency", "urgent", { urgent: "疑似紧急 flagged urgent" }), " "] : "",
      h("span", { class: "muted" }, `${age(c.opened_at)}前 · ${c.channel || ""}`)),
    h("p", { class: "text" }, c.text || "（无文本）"),
    h("p", { class: "place" }, h("span", { class: "muted" }, "位置 Place "), place(c, app.city.names)),
    why ? h("p", { class: "muted" }, "原因 Why here: ", why) : "",
    h("h4", {}, "候选事项 Top candidates"),
    h("ol", { class: "candidates" }, candidates),
    search, status);
  return card;
}

export function itemSearch(items, choose) {
  const input = h("input", { type: "search", placeholder: "搜索权责清单 Search the list (名称或编码)", "data-testid": "item-search" });
  const results = h("ul", { class: "search-results" });
  input.addEventListener("input", () => {
    const q = input.value.trim();
    const found = q ? items.filter((i) => i.service_code.includes(q) || i.service_name.includes(q)).slice(0, 8) : [];
    results.replaceChildren(...found.map((i) => h("li", {},
      h("button", { onclick: () => choose(i) }, "派遣"), " ", h("span", { class: "code" }, i.service_code), " ", i.service_name,
      h("span", { class: "muted" }, ` · ${i.group || ""}`))));
  });
  return h("div", { class: "item-search" }, input, results);
}
