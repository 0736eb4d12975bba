// What every page script shares: the CSRF token, POSTs to the kit with their errors in
// plain words, the film-time text and a small DOM builder. One copy of each.

// The page's CSRF token (base.html and review.html carry it in a meta tag).
export const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class Refusal extends Error {
  constructor(status, body) {
    super(`${body?.error ?? "The kit did not answer."} ${body?.hint ?? ""}`.trim());
    this.status = status;
    this.sentence = body?.error ?? "The kit did not answer.";
  }
}

// POST to the kit and return its parsed JSON answer, or throw a Refusal carrying the
// kit's sentence and hint (status 0: the kit could not be reached). A FormData or
// URLSearchParams body is sent as a form; anything else as JSON. A locked kit sends the
// phone to the unlock page.
export async function post(url, body) {
  const form = body instanceof FormData || body instanceof URLSearchParams;
  const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
  if (!form) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers,
      body: form ? body : JSON.stringify(body),
      keepalive: true, // a field saved as the page closes still arrives
    });
  } catch {
    throw new Refusal(0, {
      error: "The kit could not be reached.",
      hint: "Check the phone is on the kit's Wi-Fi, then try again.",
    });
  }
  if (response.status === 401) {
    // back to this page once unlocked
    const here = window.location.pathname + window.location.search;
    window.location.assign(`/unlock?next=${encodeURIComponent(here)}`);
    throw new Refusal(401, { error: "The kit is locked." });
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) throw new Refusal(response.status, answer);
  return answer;
}

// Film time as m:ss or h:mm:ss (with hundredths if asked): 75.5 -> "1:15".
export function timeText(seconds, { fraction = false } = {}) {
  const t = Math.max(0, seconds ?? 0);
  const whole = Math.floor(t);
  const m = Math.floor(whole / 60);
  const h = Math.floor(m / 60);
  const s = String(whole % 60).padStart(2, "0");
  const base = h ? `${h}:${String(m % 60).padStart(2, "0")}:${s}` : `${m}:${s}`;
  if (!fraction) return base;
  return `${base}.${String(Math.floor((t - whole) * 100)).padStart(2, "0")}`;
}

// Small DOM builder: el("li", { class: "x", text: "y" }, child, ...)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
