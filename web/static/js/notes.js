// The recording's notes on the page: the latest document, and changes sent as small
// operations (never the whole document), so two phones editing at once both keep their
// edits. Every answer carries the new document; every listener redraws from it.

import { post } from "./common.js";

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

// Changes go one at a time, in the order they were made: two quick taps sent side by
// side could be applied by the kit in the other order, the first tap's answer then
// undoing the second.
let inOrder = Promise.resolve();

// Apply operations and show the result; resolves to the new document (or throws).
export function change(ops, options = {}) {
  const run = inOrder.then(() => send(ops, options));
  inOrder = run.catch(() => {});
  return run;
}

async function send(ops, { quiet = false }) {
  if (!quiet) say("Saving…");
  try {
    const answer = await post(`/recordings/${recId}/notes`, { ops });
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
    const answer = await post(url, body);
    publish(answer.notes);
    say(answer.message ?? "Saved"); // e.g. a frame-exact clip queued until the recording ends
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
export const restore = (list, id) => ({ op: "restore", list, id });

// The id of the item an "add" just made: the add was the last operation applied.
export function newestId(prefix, next) {
  return `${prefix}${next.next_id - 1}`;
}
