// Removing a mark, clip or still: it goes at once, and a "Removed · Undo" bar stays for a
// few seconds (longer while a finger or the keyboard is on it) instead of a "Are you
// sure?" box. The kit keeps the last few removed items in the notes, so Undo brings one
// back whole (a clip's exact in and out, name, principles and exported file) from any phone.

import { el } from "./common.js";
import { change, remove, restore, say } from "./notes.js";

const SHOWN_MS = 10_000;
const bar = () => document.querySelector("[data-undo]");
let last = null; // { list, id }
let timer = null;

function hide() {
  const box = bar();
  if (!box) return;
  if (box.contains(document.activeElement)) {
    timer = setTimeout(hide, SHOWN_MS / 2); // someone is about to use it: keep it
    return;
  }
  box.hidden = true;
  last = null;
}

function show(words) {
  const box = bar();
  if (!box) return;
  box.querySelector("[data-undo-text]").textContent = words;
  box.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(hide, SHOWN_MS);
}

// Remove item ``id`` of ``list`` ("marks", "clips" or "stills"); ``words`` name it
// ("the clip “A shared smile”"). Resolves once the kit has removed it.
async function removeItem(list, id, words) {
  try {
    await change([remove(list, id)], { quiet: true });
  } catch (error) {
    say(error.message, { problem: true });
    return;
  }
  last = { list, id };
  say("");
  show(`Removed ${words}`);
}

// The "Remove" button of one item: ``label`` completes its spoken name ("Remove
// <label>"), ``words`` name the item in the bar (the label unless given). Placed at the
// far end of its row (CSS), away from the item's other buttons.
export function removeButton(list, id, { label, words = label }) {
  return el("button", {
    type: "button",
    class: "quiet remove",
    "aria-label": `Remove ${label}`,
    text: "Remove",
    onclick: () => removeItem(list, id, words),
  });
}

async function undo() {
  if (!last) return;
  const { list, id } = last;
  clearTimeout(timer);
  bar().hidden = true;
  last = null;
  try {
    await change([restore(list, id)], { quiet: true });
    say("Brought back.");
  } catch (error) {
    say(error.message, { problem: true });
  }
}

export function undoBar() {
  bar()?.querySelector("[data-undo-button]")?.addEventListener("click", undo);
}
