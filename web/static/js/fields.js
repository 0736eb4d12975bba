// The typed fields of the film's own notes (its notes, the parent's reflections, review
// done). Each field saves itself: a set operation a moment after typing stops, and when
// it is left. A field someone is typing in is never overwritten; the others follow the
// latest notes (another phone's edits).
//
// A save the kit refused (its card is full, it could not be reached) leaves the words in
// the field, with the kit's sentence under it: the field is not overwritten by later
// notes until it is saved, it is sent again every RETRY_MS and after any other save
// succeeds, and leaving the page asks first. The words are kept in the page's memory
// only, never in the phone's storage (localStorage would keep notes about a family in
// plain text on a phone that may be shared or lost: the kit keeps nothing unencrypted).

import { el } from "./common.js";
import { change, notes, onNotes, say } from "./notes.js";

const TYPING_MS = 1200;
const RETRY_MS = 20000;
const COUNT_FROM = 0.9; // the character count shows from this share of the limit
// fields with a save on its way: an older answer arriving meanwhile must not undo them
const pending = new Map();
// fields whose last save was refused: what was typed stays until it is saved
const unsaved = new Set();

function valueOf(input) {
  if (input.type === "checkbox") return input.checked;
  return input.value;
}

function lookup(doc, field) {
  const [section, name] = field.split(".");
  const holder = doc[section];
  return holder ? holder[name] : null;
}

function show(input, value) {
  if (input.type === "checkbox") input.checked = Boolean(value);
  else input.value = value ?? "";
}

// The line under a field for the kit's sentence; made when the page has none for it.
function problemBox(input) {
  const id = `${input.dataset.problemId ?? input.id}-problem`;
  let box = document.getElementById(id);
  if (!box && input.id) {
    box = el("p", { class: "problem", id, role: "alert", hidden: true });
    input.after(box);
    const described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
  }
  return box;
}

function problemFor(input, text) {
  const box = problemBox(input);
  if (!box) return;
  box.textContent = text;
  box.hidden = !text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

async function save(input) {
  clearTimeout(input.typingTimer);
  input.typingTimer = undefined;
  const field = input.dataset.field;
  const value = valueOf(input);
  const typed = input.type !== "checkbox" && input.type !== "radio";
  // typing then leaving a field fires both the timer and "change": send it once
  if (typed && input.dataset.sent === JSON.stringify(value)) return;
  input.dataset.sent = JSON.stringify(value);
  pending.set(field, (pending.get(field) ?? 0) + 1);
  let saved = false;
  say("Saving…");
  clearTimeout(input.retryTimer);
  try {
    await change([{ op: "set", field, value }], { quiet: true });
    problemFor(input, "");
    say("Saved");
    saved = true;
    unsaved.delete(input);
  } catch (error) {
    // what was typed stays in the field, with the reason under it, and is sent again
    input.dataset.sent = "";
    unsaved.add(input);
    problemFor(input, error.message);
    const label = document.querySelector(`label[for="${input.id}"]`)?.textContent ?? "This field";
    say(`${label}: not saved yet. The reason is under the field; what you typed is still there.`, {
      problem: true,
    });
    input.retryTimer = setTimeout(() => save(input), RETRY_MS);
  } finally {
    pending.set(field, pending.get(field) - 1);
  }
  if (saved && !pending.get(field)) refresh(notes());
  if (saved) for (const other of unsaved) if (other !== input) save(other);
}

// The consent and the case belong to the case (its own page); of the notes, only the
// "Review done" badge follows here.
function drawBadges(doc) {
  const reviewDone = document.querySelector("[data-review-done-badge]");
  if (reviewDone) reviewDone.hidden = !doc.review.done;
}

let inputs = [];

// "18,532 of 20,000 characters" under a long text, before the limit bites.
function count(input) {
  const line = document.getElementById(`${input.id}-count`);
  const limit = Number(input.dataset.limit);
  if (!line || !limit) return;
  const n = input.value.length;
  line.hidden = n < limit * COUNT_FROM;
  const over = n - limit;
  line.textContent =
    `${n.toLocaleString("en-GB")} of ${limit.toLocaleString("en-GB")} characters` +
    (over > 0 ? `: shorten it by ${over.toLocaleString("en-GB")} to save it.` : "");
  line.classList.toggle("problem", over > 0);
}

// Show the latest notes in every field, except one being typed in or being saved.
function refresh(doc) {
  for (const input of inputs) {
    const typing =
      input === document.activeElement && input.type !== "checkbox" && input.type !== "radio";
    if (typing || pending.get(input.dataset.field) || unsaved.has(input)) continue;
    show(input, lookup(doc, input.dataset.field));
    input.dataset.sent = JSON.stringify(valueOf(input));
  }
  drawBadges(doc);
}

export function fields() {
  inputs = [...document.querySelectorAll("[data-field]")];
  for (const input of inputs) {
    input.dataset.sent = JSON.stringify(valueOf(input));
    input.addEventListener("change", () => save(input));
    if (input.tagName === "TEXTAREA" || input.type === "text") {
      count(input);
      input.addEventListener("input", () => {
        count(input);
        clearTimeout(input.typingTimer);
        input.typingTimer = setTimeout(() => save(input), TYPING_MS);
      });
    }
  }
  onNotes(refresh);
  window.addEventListener("pagehide", () => {
    for (const input of inputs) if (input.typingTimer || unsaved.has(input)) save(input);
  });
  window.addEventListener("beforeunload", (event) => {
    if (unsaved.size) event.preventDefault(); // the browser asks before words are lost
  });
}
