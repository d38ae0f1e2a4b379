// Tiny DOM helpers: every text goes in through textContent (no HTML from data, ever).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export const STATE_NAMES = {
  reported: "已登记", dispatched: "已派遣", accepted: "已签收", resolved: "已办结", verified: "已核查",
  closed: "已结案", returned: "已退单", escalated: "已提级", merged: "已合并", suspended: "已挂起",
  extended: "已延期", reopened: "已重办", rejected: "不予受理", manual: "待人工分拨", arbitration: "待仲裁",
};
export const LEVEL_NAMES = { grid: "网格", community: "社区", street: "街道", district: "区级", supervision: "督办" };
export const URGENCY_NAMES = { normal: "一般", urgent: "紧急", critical: "特急" };
export const LATENESS_NAMES = { on_time: "正常", warned: "预警", overdue: "超期" };

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

export function age(iso) {
  if (!iso) return "";
  const mins = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
  if (mins < 60) return `${mins} 分钟`;
  if (mins < 60 * 48) return `${Math.round(mins / 60)} 小时`;
  return `${Math.round(mins / 1440)} 天`;
}

export function badge(kind, value, names) {
  return h("span", { class: `badge ${kind}-${value}` }, (names && names[value]) || value || "—");
}
