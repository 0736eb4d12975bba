// The recording's notes on the page: the latest document, and changes sent as small
// operations (never the whole document), so two phones editing at once both keep their
// edits. Every answer carries the new document; every listener redraws from it.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const listeners = [];
let doc = null;
let recId = "";
let savedTimer = null;

export function notes() {
  return doc;
}

export function onNotes(callback) {
  listeners.push(callback);
  if (doc) callback(doc);
}

function publish(next) {
  doc = next;
  for (const callback of listeners) callback(doc);
}

export function initNotes() {
  const data = document.getElementById("notes-data");
  recId = document.querySelector("[data-film]")?.dataset.id ?? "";
  if (data) publish(JSON.parse(data.textContent));
}

export function recordingId() {
  return recId;
}

// The one line that says what happened: "Saving…", "Saved", or a plain sentence.
export function say(text, { problem = false } = {}) {
  const line = document.querySelector("[data-saved]");
  if (!line) return;
  clearTimeout(savedTimer);
  line.textContent = text;
  line.classList.toggle("problem", problem);
  if (!problem && text === "Saved") {
    savedTimer = setTimeout(() => {
      line.textContent = "";
    }, 4000);
  }
}

export class Refusal extends Error {
  constructor(status, body) {
    super(`${body?.error ?? "The kit did not answer."} ${body?.hint ?? ""}`.trim());
    this.status = status;
    this.sentence = body?.error ?? "The kit did not answer.";
  }
}

// POST JSON to the kit; the parsed answer, or a Refusal carrying the kit's sentence.
export async function postJson(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": csrf,
      },
      body: JSON.stringify(body),
      keepalive: true, // a field saved as the page closes still arrives
    });
  } catch {
    throw new Refusal(0, {
      error: "The kit could not be reached.",
      hint: "Check the phone is on the kit's Wi-Fi, then try again.",
    });
  }
  if (response.status === 401) {
    window.location.assign("/unlock");
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

// Apply operations and show the result; resolves to the new document (or throws).
export async function change(ops, { quiet = false } = {}) {
  if (!quiet) say("Saving…");
  try {
    const answer = await postJson(`/recordings/${recId}/notes`, { ops });
    publish(answer.notes);
    if (!quiet) say("Saved");
    return answer.notes;
  } catch (error) {
    if (!quiet) say(error.message, { problem: true });
    throw error;
  }
}

// Send any request whose answer is the new notes (exports, stills).
export async function act(url, body, busyText) {
  say(busyText);
  try {
    const answer = await postJson(url, body);
    publish(answer.notes);
    say("Saved");
    return answer.notes;
  } catch (error) {
    say(error.message, { problem: true });
    throw error;
  }
}

export const set = (field, value) => ({ op: "set", field, value });
export const add = (list, item) => ({ op: "add", list, item });
export const update = (list, id, fields) => ({ op: "update", list, id, fields });
export const remove = (list, id) => ({ op: "delete", list, id });

// The id of the item an "add" just made: the add was the last operation applied.
export function newestId(prefix, next) {
  return `${prefix}${next.next_id - 1}`;
}

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
