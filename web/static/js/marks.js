// Marking moments: one tap marks the moment a little before now (so it is not missed),
// the principle chips tag the moment just marked (or the one chosen in the list), and
// every mark shows as a pin on the timeline and a line in the list. Tapping either goes
// to that moment. Marks from the kit's own button arrive with the notes.

import { duration, now, seek } from "./player.js";
import { el, timeText } from "./common.js";
import { add, change, newestId, notes, onNotes, remove, say, update } from "./notes.js";

let selected = null; // the mark the chips tag

function preroll() {
  return Number(document.querySelector("[data-film]")?.dataset.preroll) || 2;
}

function describe(mark) {
  const parts = [timeText(mark.t)];
  parts.push(mark.principle || "No principle yet");
  if (mark.source === "button") parts.push("from the kit's button");
  return parts.join(" · ");
}

function drawChips(doc) {
  const mark = doc.marks.find((m) => m.id === selected);
  for (const chip of document.querySelectorAll("[data-chips] [data-principle]")) {
    chip.setAttribute("aria-pressed", String(Boolean(mark && mark.principle === chip.dataset.principle)));
  }
  const hint = document.querySelector("[data-mark-hint]");
  if (hint) {
    hint.textContent = mark
      ? `Tag the moment at ${timeText(mark.t)} with a principle:`
      : `A mark starts ${preroll()} seconds before your tap, so the moment is not missed.`;
  }
}

function drawList(doc) {
  const list = document.querySelector("[data-mark-list]");
  if (!list) return;
  list.replaceChildren(
    ...doc.marks.map((mark) =>
      el(
        "li",
        { class: "item" },
        el("button", {
          type: "button",
          class: "item-main",
          "data-mark-id": mark.id,
          "aria-current": mark.id === selected ? "true" : null,
          text: describe(mark),
        }),
        el("button", {
          type: "button",
          class: "quiet small",
          "data-remove-mark": mark.id,
          "aria-label": `Remove the moment at ${timeText(mark.t)}`,
          text: "Remove",
        }),
      ),
    ),
  );
  document.querySelector("[data-marks-empty]")?.toggleAttribute("hidden", doc.marks.length > 0);
}

function drawPins(doc) {
  const pins = document.querySelector("[data-pins]");
  const length = duration();
  if (!pins || !length) return;
  pins.replaceChildren(
    ...doc.marks.map((mark) => {
      const pin = el("span", {
        class: mark.id === selected ? "pin current" : "pin",
        "data-t": String(mark.t),
        title: describe(mark),
      });
      pin.style.left = `${Math.min(100, (100 * mark.t) / length).toFixed(3)}%`;
      return pin;
    }),
  );
}

function draw(doc) {
  if (selected && !doc.marks.some((m) => m.id === selected)) selected = null;
  drawChips(doc);
  drawList(doc);
  drawPins(doc);
}

function choose(id) {
  selected = id;
  const mark = notes().marks.find((m) => m.id === id);
  if (mark) seek(mark.t);
  draw(notes());
}

export function marks() {
  const button = document.querySelector("[data-mark]");
  if (!button) return;
  button.addEventListener("click", async () => {
    const t = Math.round(Math.max(0, now() - preroll()) * 1000) / 1000;
    button.disabled = true;
    try {
      const doc = await change([add("marks", { t })], { quiet: true });
      selected = newestId("m", doc);
      draw(doc);
      say(`Moment marked at ${timeText(t)}. Tap a principle to tag it.`);
    } catch (error) {
      say(error.message, { problem: true });
    } finally {
      button.disabled = false;
    }
  });
  document.querySelector("[data-chips]")?.addEventListener("click", async (event) => {
    const chip = event.target.closest("[data-principle]");
    if (!chip) return;
    const mark = notes().marks.find((m) => m.id === selected);
    if (!mark) {
      say("Mark a moment first (or choose one in the list), then tap a principle.");
      return;
    }
    const principle = mark.principle === chip.dataset.principle ? "" : chip.dataset.principle;
    try {
      await change([update("marks", mark.id, { principle })]);
    } catch {
      // said
    }
  });
  document.querySelector("[data-mark-list]")?.addEventListener("click", async (event) => {
    const jump = event.target.closest("[data-mark-id]");
    if (jump) choose(jump.dataset.markId);
    const gone = event.target.closest("[data-remove-mark]");
    if (gone) {
      try {
        await change([remove("marks", gone.dataset.removeMark)]);
      } catch {
        // said
      }
    }
  });
  document.querySelector("[data-pins]")?.addEventListener("click", (event) => {
    const pins = [...event.currentTarget.querySelectorAll(".pin")];
    if (!pins.length) return;
    const x = event.clientX;
    const nearest = pins.reduce((best, pin) => {
      const r = pin.getBoundingClientRect();
      const d = Math.abs(r.left + r.width / 2 - x);
      return d < best.d ? { pin, d } : best;
    }, { pin: null, d: Infinity });
    const mark = notes().marks.find((m) => String(m.t) === nearest.pin?.dataset.t);
    if (mark) choose(mark.id);
  });
  onNotes(draw);
}
