// 超期 / 临期 board from sla: the stages past or near their deadline, sla's counts per street, department, level.
import * as api from "./api.js";
import { h, LEVEL_NAMES, when } from "./dom.js";

function tally(title, counts, names) {
  return h("div", { class: "tally" }, h("h4", {}, title),
    h("ul", {}, ...Object.entries(counts).map(([k, v]) => h("li", {}, h("span", {}, names[k] || LEVEL_NAMES[k] || k), h("b", {}, v)))));
}

function section(title, block, names, testid) {
  if (!block.available) return h("section", { class: "board-block", "data-testid": testid },
    h("h3", {}, title), h("p", { class: "muted" }, `sla 暂无此接口 not available from sla (${block.status})`));
  return h("section", { class: "board-block", "data-testid": testid },
    h("h3", {}, title, ` · ${block.total} 件`),
    block.counts_from === "sla" ? "" : h("p", { class: "muted" }, `按已取 ${block.rows.length} 条计 counted from the rows fetched`),
    h("div", { class: "tallies" }, tally("按街道 By street", block.counts.street, names),
      tally("按部门 By department", block.counts.department, names), tally("按层级 By level", block.counts.level, names),
      tally("按社区 By community", block.counts.community, names)),
    h("table", {}, h("tr", {}, ...["案件", "事项", "阶段", "截止", "超期/剩余", "责任单位", "层级", "提级"].map((t) => h("th", {}, t))),
      ...block.rows.slice(0, 200).map((r) => h("tr", {},
        h("td", {}, h("a", { href: `#/case/${encodeURIComponent(r.case_id)}` }, r.case_id)),
        h("td", {}, r.item_name || ""), h("td", {}, r.stage), h("td", {}, when(r.due)),
        h("td", {}, r.overdue_by_seconds ? `超 ${Math.round(r.overdue_by_seconds / 60)} 分钟`
          : (r.due_in_seconds ?? r.remaining_seconds) != null ? `剩 ${Math.round((r.due_in_seconds ?? r.remaining_seconds) / 60)} 分钟` : ""),
        h("td", {}, names[r.owner] || r.owner || ""), h("td", {}, LEVEL_NAMES[r.level] || r.level || ""),
        h("td", {}, LEVEL_NAMES[r.rung] || r.rung || "")))));
}

export async function renderBoard(main, { app }) {
  async function load() {
    const data = await api.get("/api/board");
    main.replaceChildren(h("h2", {}, "超期看板 Overdue and due soon"),
      section("超期 Overdue", data.overdue, app.city.names, "board-overdue"),
      section("临期 Due soon", data.due_soon, app.city.names, "board-due-soon"));
  }
  app.refresh = (notice) => { if (notice.topic.startsWith("sla.")) load(); };
  await load();
}
