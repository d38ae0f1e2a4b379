// 主动治理: the same item again and again in one place (≥ 3 cases within 200 m in 30 days), listed and mapped.
import * as api from "./api.js";
import { h, s } from "./dom.js";
import { mapSvg } from "./map.js";

export async function renderHotspots(main, { app }) {
  async function load() {
    const data = await api.get("/api/hotspots");
    const { svg, proj } = mapSvg(app.city.map);
    const names = app.city.names;
    for (const hs of data.hotspots) {
      const [x, y] = proj.xy(hs.lon, hs.lat);
      svg.append(s("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: Math.max(6, proj.metres(data.radius_m)).toFixed(1),
                               class: "hotspot" }, s("title", {}, `${hs.item_code} × ${hs.count}`)));
    }
    main.replaceChildren(h("h2", {}, "主动治理 Hotspots"),
      h("p", { class: "muted" }, `同一事项 ${data.window_days} 天内同一小区或 ${data.radius_m} 米范围 ≥ ${data.min_cases} 件`),
      h("div", { class: "split" },
        h("table", { "data-testid": "hotspots" }, h("tr", {}, ...["事项", "件数", "小区", "网格", "街道", "案件"].map((t) => h("th", {}, t))),
          ...data.hotspots.map((hs) => h("tr", {}, h("td", {}, `${hs.item_code} ${hs.item_name || ""}`), h("td", {}, h("b", {}, hs.count)),
            h("td", {}, hs.compound || "—"), h("td", {}, names[hs.grid_id] || hs.grid_id || ""), h("td", {}, names[hs.street_id] || hs.street_id || ""),
            h("td", {}, ...hs.case_ids.slice(0, 6).map((id) => h("a", { href: `#/case/${encodeURIComponent(id)}`, class: "chip" }, id.slice(-6))))))),
        h("div", { class: "map-wrap" }, svg)));
  }
  app.refresh = null;
  await load();
}
