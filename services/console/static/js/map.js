// 一张图: the district's grids drawn as SVG polygons from the city data; open cases as points coloured
// by state and lateness; filters by street, item class, level and age; hotspots as rings.
import * as api from "./api.js";
import { h, LATENESS_NAMES, LEVEL_NAMES, s, STATE_NAMES } from "./dom.js";

const WIDTH = 1000;

export function projection(bbox) {
  const [minx, miny, maxx, maxy] = bbox;
  const k = Math.cos(((miny + maxy) / 2) * Math.PI / 180);
  const scale = WIDTH / ((maxx - minx) * k);
  return { width: WIDTH, height: Math.round((maxy - miny) * scale),
           xy: (lon, lat) => [((lon - minx) * k * scale), ((maxy - lat) * scale)],
           metres: (m) => (m / 111320) * scale };
}

export function drawGrids(svg, map, proj) {
  const streetIds = [...new Set(map.grids.map((g) => g.street_id))];
  const g = s("g", { class: "grids" });
  for (const grid of map.grids) {
    const points = grid.ring.map(([x, y]) => proj.xy(x, y).map((v) => v.toFixed(1)).join(",")).join(" ");
    g.append(s("polygon", { points, class: `grid street-${streetIds.indexOf(grid.street_id) % 8} kind-${grid.kind}`,
                            "data-grid": grid.id }, s("title", {}, `${grid.name} ${grid.id}`)));
  }
  svg.append(g);
}

export function mapSvg(map) {
  const proj = projection(map.bbox);
  const svg = s("svg", { viewBox: `0 0 ${proj.width} ${proj.height}`, class: "map", role: "img",
                         "aria-label": "网格地图 grid map" });
  drawGrids(svg, map, proj);
  return { svg, proj };
}

function select(name, label, options) {
  return h("label", {}, label, " ", h("select", { name, "data-testid": `filter-${name}` },
    h("option", { value: "" }, "全部 All"), ...options.map(([v, t]) => h("option", { value: v }, t))));
}

export async function renderMap(main, { app }) {
  const { map, names } = app.city;
  const streets = [...new Set(map.grids.map((g) => g.street_id))].map((id) => [id, names[id] || id]);
  const classes = [...new Set(app.items.map((i) => i.service_code.split(".")[0]))].sort()
    .map((c) => [c, `${c} ${app.items.find((i) => i.service_code.startsWith(c))?.group || ""}`]);
  const filters = h("form", { class: "filters", "data-testid": "map-filters" },
    select("street", "街道 Street", streets),
    select("item_class", "事项类别 Item class", classes),
    select("level", "层级 Level", Object.entries(LEVEL_NAMES)),
    select("max_age_hours", "时长 Age", [["1", "1 小时内"], ["24", "24 小时内"], ["168", "7 天内"], ["720", "30 天内"]]),
    h("label", {}, h("input", { type: "checkbox", name: "hotspots", checked: true }), " 热点 Hotspots"));
  const { svg, proj } = mapSvg(map);
  const points = s("g", { class: "points" });
  const rings = s("g", { class: "hotspot-rings" });
  svg.append(rings, points);
  const summary = h("p", { class: "muted", "data-testid": "map-summary" });
  main.replaceChildren(h("h2", {}, "一张图 Open cases by grid"), filters, legend(), summary,
                       h("div", { class: "map-wrap" }, svg));

  async function load() {
    const form = new FormData(filters);
    const params = Object.fromEntries([...form].filter(([k]) => k !== "hotspots"));
    const [data, spots] = await Promise.all([api.get("/api/cases", params),
      form.get("hotspots") ? api.get("/api/hotspots") : Promise.resolve({ hotspots: [] })]);
    points.replaceChildren(...data.cases.filter((c) => c.lon != null).map((c) => point(c, proj, names)));
    rings.replaceChildren(...spots.hotspots.map((hs) => {
      const [x, y] = proj.xy(hs.lon, hs.lat);
      return s("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: Math.max(6, proj.metres(200)).toFixed(1),
                           class: "hotspot" }, s("title", {}, `热点 ${hs.item_code} ${hs.item_name || ""} × ${hs.count}`));
    }));
    const placed = data.cases.filter((c) => c.lon != null).length;
    summary.textContent = `${data.cases.length} 件在办 open · ${placed} 件有坐标 on the map · ${spots.hotspots.length} 个热点 hotspots`;
  }
  filters.addEventListener("change", load);
  app.refresh = load;
  await load();
}

function point(c, proj, names) {
  const [x, y] = proj.xy(c.lon, c.lat);
  const title = `${c.case_id} ${STATE_NAMES[c.state] || c.state} · ${LATENESS_NAMES[c.lateness]} · ` +
    `${c.item_name || c.item_code || "未分类"} · ${names[c.owner] || c.owner || "—"}`;
  return s("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 5,
                       class: `case state-${c.state} late-${c.lateness}`, "data-case-id": c.case_id,
                       "data-state": c.state, "data-testid": "map-case",
                       onclick: () => { location.hash = `#/case/${encodeURIComponent(c.case_id)}`; } },
           s("title", {}, title));
}

function legend() {
  const entries = [["manual", "待分拨/仲裁"], ["dispatched", "已派遣"], ["accepted", "已签收"], ["resolved", "已办结"]];
  const late = [["warned", "预警 due soon"], ["overdue", "超期 overdue"]];
  return h("div", { class: "legend" },
    ...entries.map(([k, t]) => h("span", {}, h("i", { class: `dot state-${k}` }), t)),
    ...late.map(([k, t]) => h("span", {}, h("i", { class: `dot ring late-${k}` }), t)),
    h("span", {}, h("i", { class: "dot hotspot" }), "热点 hotspot (200 m)"));
}
