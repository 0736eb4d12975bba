// The typed fields of the film's own notes (its notes, the parent's reflections, review
// done). Each field saves itself: a set operation a moment after typing stops, and when
// it is left. A field someone is typing in is never overwritten; the others follow the
// latest notes (another phone's edits).

import { change, notes, onNotes, say } from "./notes.js";

const TYPING_MS = 1200;
// fields with a save on its way: an older answer arriving meanwhile must not undo them
const pending = new Map();

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

function problemFor(input, text) {
  const box = document.getElementById(`${input.dataset.problemId ?? input.id}-problem`);
  if (!box) return;
  box.textContent = text;
  box.hidden = !text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

async function save(input) {
  clearTimeout(input.typingTimer);
  const field = input.dataset.field;
  const value = valueOf(input);
  const typed = input.type !== "checkbox" && input.type !== "radio";
  // typing then leaving a field fires both the timer and "change": send it once
  if (typed && input.dataset.sent === JSON.stringify(value)) return;
  input.dataset.sent = JSON.stringify(value);
  pending.set(field, (pending.get(field) ?? 0) + 1);
  let saved = false;
  say("Saving…");
  try {
    await change([{ op: "set", field, value }], { quiet: true });
    problemFor(input, "");
    say("Saved");
    saved = true;
  } catch (error) {
    // what was typed stays in the field, with the reason under it
    input.dataset.sent = "";
    problemFor(input, error.message);
    say("Not saved yet: the note under the field says why.", { problem: true });
  } finally {
    pending.set(field, pending.get(field) - 1);
  }
  if (saved && !pending.get(field)) refresh(notes());
}

// The consent and the case belong to the case (its own page); of the notes, only the
// "Review done" badge follows here.
function drawBadges(doc) {
  const reviewDone = document.querySelector("[data-review-done-badge]");
  if (reviewDone) reviewDone.hidden = !doc.review.done;
}

let inputs = [];

// Show the latest notes in every field, except one being typed in or being saved.
function refresh(doc) {
  for (const input of inputs) {
    const typing =
      input === document.activeElement && input.type !== "checkbox" && input.type !== "radio";
    if (typing || pending.get(input.dataset.field)) continue;
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
      input.addEventListener("input", () => {
        clearTimeout(input.typingTimer);
        input.typingTimer = setTimeout(() => save(input), TYPING_MS);
      });
    }
  }
  onNotes(refresh);
  window.addEventListener("pagehide", () => {
    for (const input of inputs) if (input.typingTimer) save(input);
  });
}
