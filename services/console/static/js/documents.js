// 两函一单 printable from the case: 信访风险警示函, 信访问责建议函, 督办单 — filled from the case and the
// escalation decision, printed by the browser (print stylesheet shows only the document).
import { h, LEVEL_NAMES, when } from "./dom.js";

export function printDocument(data, doc, number, app) {
  const c = data.case || {};
  const a = c.assignment || {};
  const n = (id) => (id ? app.city.names[id] || id : "—");
  const title = data.document_titles[doc.document] || doc.document;
  const year = new Date(doc.at).getFullYear();
  const box = document.getElementById("print-doc");
  box.replaceChildren(
    h("h1", {}, title),
    h("p", { class: "doc-no" }, doc.number || `${app.city.map.district || ""}指〔${year}〕${String(number).padStart(3, "0")}号`),
    h("p", {}, `${n(doc.owner || a.owner)}：`),
    h("p", {}, `案件 ${c.case_id}（${a.item_code || ""} ${a.item_name || ""}，${n(a.street_id)}${n(a.community_id)}）`,
      `已超过处置时限，现按规定提级至${LEVEL_NAMES[doc.to_level] || doc.to_level}。`),
    h("p", {}, `事由：${doc.reason || "超期未办结"}`),
    h("p", {}, "请于收到本函后立即落实处置，并将结果报指挥中心。"),
    h("p", { class: "sign" }, app.city.names.CENTER || "区社会治理现代化指挥中心"),
    h("p", { class: "sign" }, when(doc.at)));
  box.hidden = false;
  document.body.classList.add("printing");
  const done = () => { document.body.classList.remove("printing"); box.hidden = true; window.removeEventListener("afterprint", done); };
  window.addEventListener("afterprint", done);
  window.print();
}
