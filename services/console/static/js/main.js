// The console's shell: sign-in, navigation by URL hash, live refresh of the page on view.
import * as api from "./api.js";
import { h } from "./dom.js";
import { renderQueue } from "./queue.js";
import { renderMap } from "./map.js";
import { renderBoard } from "./board.js";
import { renderCase } from "./case.js";
import { renderHotspots } from "./hotspots.js";
import { renderScores } from "./scores.js";

const VIEWS = { queue: renderQueue, arbitration: renderQueue, map: renderMap, board: renderBoard,
                hotspots: renderHotspots, scores: renderScores, case: renderCase };
export const app = { user: null, city: null, items: null, refresh: null };

function route() {
  const [, name = "queue", arg] = location.hash.split("/");
  const view = VIEWS[name] ? name : app.user.role === "centre" ? "queue" : "map";
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === view);
  const main = document.getElementById("view");
  main.replaceChildren(h("p", { class: "muted" }, "加载中 Loading…"));
  main.dataset.view = view;
  app.refresh = null;
  Promise.resolve(VIEWS[view](main, { view, arg: arg ? decodeURIComponent(arg) : null, app }))
    .catch((err) => main.replaceChildren(h("p", { class: "error" }, `出错了 Error: ${err.message}`)));
}

let pending = null;
function onNotice(notice) {
  if (!app.refresh || pending) return;
  pending = setTimeout(() => { pending = null; if (app.refresh) app.refresh(notice); }, 400);
}

async function start(user) {
  app.user = user;
  document.getElementById("login").hidden = true;
  document.getElementById("shell").hidden = false;
  document.getElementById("who").textContent = `${user.name} (${user.role === "centre" ? "指挥中心" : user.department})`;
  for (const a of document.querySelectorAll('#nav a[data-view="queue"], #nav a[data-view="arbitration"]'))
    a.hidden = user.role !== "centre";
  const [city, items] = await Promise.all([api.get("/api/city"), api.get("/api/items").catch(() => [])]);
  app.city = city;
  app.items = items;
  document.getElementById("district").textContent = city.map.district || "";
  api.live(onNotice, (up) => document.getElementById("live").classList.toggle("up", up));
  window.addEventListener("hashchange", route);
  route();
}

function showLogin() {
  document.getElementById("shell").hidden = true;
  document.getElementById("login").hidden = false;
  const form = document.getElementById("login-form");
  form.onsubmit = async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      await start(await api.login(data.get("username"), data.get("password")));
    } catch (err) {
      document.getElementById("login-error").textContent = err.status === 401 ? "用户名或密码错误 Wrong name or password" : err.message;
    }
  };
}

document.getElementById("logout").onclick = async () => { await api.logout(); location.hash = ""; location.reload(); };
api.me().then(start, showLogin);
