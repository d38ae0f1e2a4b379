// The console's own API (same origin). State-changing calls carry the session's CSRF token.
let csrf = null;

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf || "";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                   credentials: "same-origin" });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, data.detail ?? data);
  return data;
}

export const get = (path, params) => {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)) : null;
  return call("GET", q && [...q].length ? `${path}?${q}` : path);
};
export const post = (path, body) => call("POST", path, body ?? {});

export async function me() {
  const data = await get("/api/me");
  csrf = data.csrf;
  return data.user;
}

export async function login(username, password) {
  const data = await post("/api/login", { username, password });
  csrf = data.csrf;
  return data.user;
}

export async function logout() {
  await post("/api/logout");
  csrf = null;
}

// Live notices: the page re-queries what it shows (debounced), so nothing is patched by hand.
export function live(onNotice, onState) {
  const source = new EventSource("/api/events");
  source.onopen = () => onState(true);
  source.onerror = () => onState(false);
  for (const kind of ["case", "sla"]) source.addEventListener(kind, (e) => onNotice(JSON.parse(e.data)));
  return source;
}
