// 考核排名: the ranking of a month per entity type, each card's indicator breakdown on demand.
import * as api from "./api.js";
import { h } from "./dom.js";

function month() {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

export async function renderScores(main, { app }) {
  const form = h("form", { class: "filters" },
    h("label", {}, "月份 Period ", h("input", { name: "period", type: "month", value: month() })),
    h("label", {}, "对象 Entity ", h("select", { name: "entity_type" },
      ...[["department", "部门"], ["street", "街道"], ["community", "社区"], ["grid_worker", "网格员"]]
        .map(([v, t]) => h("option", { value: v }, `${t} ${v}`)))),
    h("label", {}, "标尺 Ruler ", h("select", { name: "ruler" }, h("option", { value: "" }, "当期 in effect"))),
    h("a", { class: "csv", href: "#" }, "下载 CSV"));
  const out = h("div", { "data-testid": "scores" });
  main.replaceChildren(h("h2", {}, "考核排名 Scores"), form, out);
  async function load() {
    const params = Object.fromEntries([...new FormData(form)].filter(([, v]) => v));
    form.querySelector("a.csv").href = `/api/scores.csv?${new URLSearchParams(params)}`;
    try {
      const data = await api.get("/api/scores", params);
      const rulers = form.querySelector("select[name=ruler]");
      for (const version of data.rulers_in_effect || []) {
        if (![...rulers.options].some((o) => o.value === version)) rulers.append(h("option", { value: version }, version));
      }
      out.replaceChildren(h("p", { class: "muted" }, `标尺 Ruler ${data.ruler_version || "—"} · ${data.cards.length} 张`),
        h("table", {}, h("tr", {}, ...["名次", "对象", "得分", "明细 Breakdown"].map((t) => h("th", {}, t))),
          ...data.cards.map((c, i) => h("tr", {}, h("td", {}, c.rank ?? i + 1),
            h("td", {}, app.city.names[c.entity_id] || c.entity_id),
            h("td", {}, h("b", {}, Number(c.total ?? c.score ?? 0).toFixed(1))),
            h("td", {}, breakdown(c.indicators || []))))));
    } catch (err) { out.replaceChildren(h("p", { class: "error" }, err.message)); }
  }
  form.addEventListener("change", load);
  app.refresh = null;
  await load();
}

function breakdown(indicators) {
  return h("details", {}, h("summary", {}, `${indicators.length} 项指标`),
    h("table", { class: "inner" }, ...indicators.map((i) => h("tr", {},
      h("td", {}, i.name || i.code),
      h("td", {}, i.denominator != null ? `${i.numerator}/${i.denominator}` : Number(i.raw).toFixed(3)),
      h("td", {}, `× ${i.weight}`), h("td", {}, h("b", {}, Number(i.points).toFixed(2)))))));
}
