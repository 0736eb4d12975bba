// Marking moments for micro-analysis: one tap marks the moment a little before now (so it
// is not missed); the principle chips toggle, each on its own, on the moment just marked
// (or the one chosen), which also takes a one-line note of what happened, a flag for
// supervision (where the case's consent allows a supervisor) and "Make a clip". Every
// mark shows as a pin on the timeline (a thumb-sized tap area around a slim line) and a
// line in the list. Tapping either goes to that moment. Button marks arrive with the notes.

import { clipFromMark } from "./clips.js";
import { el, timeText } from "./common.js";
import { duration, now, seek } from "./player.js";
import { add, change, newestId, notes, onNotes, say, update } from "./notes.js";
import { removeButton } from "./undo.js";

const TYPING_MS = 1200;
const $ = (selector) => document.querySelector(selector);
let selected = null; // the mark the chips, the note and the flag act on

function preroll() {
  return Number($("[data-film]")?.dataset.preroll) || 2;
}

function current() {
  return notes()?.marks.find((m) => m.id === selected) ?? null;
}

function describe(mark) {
  const parts = [timeText(mark.t)];
  parts.push(mark.principles.length ? mark.principles.join(", ") : "No principle yet");
  if (mark.source === "button") parts.push("from the kit's button");
  return parts.join(" · ");
}

// Principles asked for on a mark and not yet saved (mark id → list): quick taps build on
// each other, and an earlier answer arriving meanwhile does not flick a chip back.
const asked = new Map();

const principlesOf = (mark) => asked.get(mark.id) ?? mark.principles;

function drawTools(mark) {
  for (const chip of document.querySelectorAll("[data-chips] [data-principle]")) {
    const on = Boolean(mark && principlesOf(mark).includes(chip.dataset.principle));
    chip.setAttribute("aria-pressed", String(on));
  }
  const hint = $("[data-mark-hint]");
  if (hint) {
    hint.textContent = mark
      ? `The moment at ${timeText(mark.t)}: tap every principle you see in it.`
      : `A mark starts ${preroll()} seconds before your tap, so the moment is not missed.`;
  }
  const tools = $("[data-mark-tools]");
  if (tools) tools.hidden = !mark;
  const note = $("[data-mark-note]");
  if (note && mark && (note !== document.activeElement || note.dataset.markId !== mark.id)) {
    note.value = mark.note;
    note.dataset.markId = mark.id;
  }
  $("[data-mark-supervise]")?.setAttribute("aria-pressed", String(Boolean(mark?.supervision)));
}

function drawList(doc) {
  const list = $("[data-mark-list]");
  if (!list) return;
  list.replaceChildren(
    ...doc.marks.map((mark) => {
      const at = timeText(mark.t);
      return el(
        "li",
        { class: "item" },
        el(
          "button",
          {
            type: "button",
            class: "item-main",
            "data-mark-id": mark.id,
            "aria-current": mark.id === selected ? "true" : null,
          },
          el("span", { text: describe(mark) }),
          // the leading spaces keep the button's spoken name in words: "… Guiding He offers…"
          mark.note ? el("span", { class: "item-sub", text: ` ${mark.note}` }) : null,
          mark.supervision ? el("span", { class: "item-sub", text: " For supervision" }) : null,
        ),
        el(
          "div",
          { class: "item-actions spread" },
          el("button", {
            type: "button",
            "data-clip-from": mark.id,
            "aria-label": `Make a clip from the moment at ${at}`,
            text: "Make a clip",
          }),
          removeButton("marks", mark.id, { label: `the moment at ${at}` }),
        ),
      );
    }),
  );
  $("[data-marks-empty]")?.toggleAttribute("hidden", doc.marks.length > 0);
}

function drawPins(doc) {
  const pins = $("[data-pins]");
  const length = duration();
  if (!pins || !length) return;
  pins.replaceChildren(
    ...doc.marks.map((mark) => {
      const pin = el("button", {
        type: "button",
        class: mark.id === selected ? "pin current" : "pin",
        "data-pin": mark.id,
        "aria-label": `Go to the moment at ${timeText(mark.t)}`,
        title: describe(mark),
      });
      pin.style.left = `${Math.min(100, (100 * mark.t) / length).toFixed(3)}%`;
      return pin;
    }),
  );
}

function draw(doc) {
  if (selected && !doc.marks.some((m) => m.id === selected)) selected = null;
  drawTools(current());
  drawList(doc);
  drawPins(doc);
}

function choose(id) {
  selected = id;
  const mark = current();
  if (mark) seek(mark.t);
  draw(notes());
}

async function markNow(button) {
  const t = Math.round(Math.max(0, now() - preroll()) * 1000) / 1000;
  button.disabled = true;
  try {
    const doc = await change([add("marks", { t })], { quiet: true });
    selected = newestId("m", doc);
    draw(doc);
    say(`Moment marked at ${timeText(t)}. Tap the principles you see in it.`);
  } catch (error) {
    say(error.message, { problem: true });
  } finally {
    button.disabled = false;
  }
}

async function edit(mark, fields) {
  try {
    await change([update("marks", mark.id, fields)]);
  } catch {
    // change() has said why
  }
}

async function toggle(chip) {
  const mark = current();
  if (!mark) {
    say("Mark a moment first (or choose one in the list), then tap a principle.");
    return;
  }
  const name = chip.dataset.principle;
  const before = principlesOf(mark);
  const on = before.includes(name);
  const principles = on ? before.filter((p) => p !== name) : [...before, name];
  asked.set(mark.id, principles);
  chip.setAttribute("aria-pressed", String(!on));
  await edit(mark, { principles });
  if (asked.get(mark.id) === principles) {
    asked.delete(mark.id); // the last one asked is saved (or refused): show the kit's
    draw(notes());
  }
}

// The note saves a moment after typing stops, and when the field is left.
function noteField() {
  const note = $("[data-mark-note]");
  if (!note) return;
  const save = () => {
    clearTimeout(note.typingTimer);
    const mark = notes().marks.find((m) => m.id === note.dataset.markId);
    const text = note.value.replace(/\s+/g, " ").trim();
    if (mark && text !== mark.note) edit(mark, { note: text });
  };
  note.addEventListener("input", () => {
    clearTimeout(note.typingTimer);
    note.typingTimer = setTimeout(save, TYPING_MS);
  });
  note.addEventListener("change", save);
}

function listClicks(event) {
  const target = event.target.closest("button");
  if (!target) return;
  const mark = notes().marks.find((m) => m.id === (target.dataset.markId ?? target.dataset.clipFrom));
  if (!mark) return;
  if (target.dataset.markId) choose(mark.id);
  else if (target.dataset.clipFrom) clipFromMark(mark);
}

export function marks() {
  const button = $("[data-mark]");
  if (!button) return;
  button.addEventListener("click", () => markNow(button));
  $("[data-chips]")?.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-principle]");
    if (chip) toggle(chip);
  });
  noteField();
  $("[data-mark-clip]")?.addEventListener("click", () => {
    if (current()) clipFromMark(current());
  });
  $("[data-mark-supervise]")?.addEventListener("click", () => {
    const mark = current();
    if (mark) edit(mark, { supervision: !mark.supervision });
  });
  $("[data-mark-list]")?.addEventListener("click", listClicks);
  $("[data-pins]")?.addEventListener("click", (event) => {
    const pin = event.target.closest("[data-pin]");
    if (pin) choose(pin.dataset.pin);
  });
  onNotes(draw);
}
