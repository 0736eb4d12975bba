// Clips: set the start and end from the player (or "Make a clip" from a mark), nudge
// either by a frame or half a second (the player shows the frame), step the film frame by
// frame, play the clip on repeat to check it; name it, tag it with any of the principles,
// flag it for supervision, order clips; export them as their own encrypted MP4 (stream
// copy, or frame-exact). The shared review plays the exported clips.

import { duration, fps, now, player, showFrame, snap, stepFrames } from "./player.js";
import { el, timeText } from "./common.js";
import { act, add, change, newestId, notes, onNotes, recordingId, say, update } from "./notes.js";
import { removeButton } from "./undo.js";

// a clip made from a mark starts at the mark (already a few seconds before the tap) and
// runs this long, or to the end of the film; then the nudges set it to the frame
export const CLIP_FROM_MARK_S = 8;
const LONG_CLIP_S = 60; // over this, a hint that review clips are usually under 30 s
const editor = { id: null, in: null, out: null, principles: [], supervision: false, mark: null };
let looping = false;

const $ = (selector) => document.querySelector(selector);
const frame = () => 1 / fps();
// the case's consent lets a supervisor watch: only then can a clip be flagged
const mayFlag = () => $("[data-film]")?.dataset.supervision === "yes";

function length(clip) {
  return `${(clip.out - clip.in).toFixed(1)} s`;
}

export function stale(clip) {
  if (!clip.file) return true;
  const slack = frame() + 0.002;
  return Math.abs(clip.exported_in - clip.in) > slack || Math.abs(clip.exported_out - clip.out) > slack;
}

function exportState(clip) {
  if (!clip.file) return "Not exported yet";
  return stale(clip) ? "Changed since it was exported" : clip.exact ? "Exported, frame-exact" : "Exported";
}

function drawEditor() {
  const points = { in: editor.in, out: editor.out };
  for (const [point, value] of Object.entries(points)) {
    const out = $(`[data-point="${point}"] [data-time]`);
    if (out) out.textContent = value === null ? "not set" : timeText(value, { fraction: true });
    for (const nudge of document.querySelectorAll(`[data-point="${point}"] [data-nudge]`)) {
      nudge.disabled = value === null;
    }
  }
  for (const chip of document.querySelectorAll("[data-clip-chips] [data-principle]")) {
    chip.setAttribute("aria-pressed", String(editor.principles.includes(chip.dataset.principle)));
  }
  $("[data-clip-supervise]")?.setAttribute("aria-pressed", String(editor.supervision));
  $("[data-editor-title]").textContent = editor.id ? "Change this clip" : "New clip";
  $("[data-clip-save]").textContent = editor.id ? "Save changes" : "Save clip";
  $("[data-clip-new]").hidden = !editor.id;
  $("[data-loop]").disabled = editor.in === null || editor.out === null;
  // a gentle word before a long clip is saved, not a refusal
  const long = editor.in !== null && editor.out !== null && editor.out - editor.in > LONG_CLIP_S;
  $("[data-clip-long]").hidden = !long;
}

function drawList(doc) {
  const list = $("[data-clip-list]");
  if (!list) return;
  const downloads = $("[data-film]")?.dataset.downloads === "yes";
  const clips = doc.clips;
  list.replaceChildren(
    ...clips.map((clip, n) => {
      const title = clip.name || `Clip ${n + 1}`;
      return el(
        "li",
        { class: "item clip", "aria-current": clip.id === editor.id ? "true" : null },
        el(
          "div",
          { class: "item-text" },
          el("strong", { text: title }),
          el("span", {
            text: ` ${timeText(clip.in, { fraction: true })} to ${timeText(clip.out, { fraction: true })} (${length(clip)})`,
          }),
          el("span", {
            class: "item-sub",
            text: clip.principles.length ? clip.principles.join(", ") : "No principle yet",
          }),
          clip.supervision ? el("span", { class: "item-sub", text: "For supervision" }) : null,
          el("span", { class: "item-sub", "data-export-state": "", text: exportState(clip) }),
        ),
        el(
          "div",
          { class: "item-actions" },
          el("button", { type: "button", "data-edit": clip.id, text: "Change", "aria-label": `Change ${title}` }),
          el("button", {
            type: "button",
            "data-move": clip.id,
            "data-by": "-1",
            disabled: n === 0,
            "aria-label": `Move ${title} earlier`,
            text: "↑",
          }),
          el("button", {
            type: "button",
            "data-move": clip.id,
            "data-by": "1",
            disabled: n === clips.length - 1,
            "aria-label": `Move ${title} later`,
            text: "↓",
          }),
          el("button", { type: "button", "data-export": clip.id, text: "Export", "aria-label": `Export ${title}` }),
          downloads && clip.file
            ? el("a", {
                class: "button-link",
                href: `/recordings/${recordingId()}/clips/${clip.id}/download`,
                text: "Download",
                "aria-label": `Download ${title}`,
              })
            : null,
        ),
        // apart from Change and the others, so a slip never removes a clip
        el(
          "div",
          { class: "item-remove" },
          removeButton("clips", clip.id, {
            label: title,
            words: clip.name ? `the clip “${clip.name}”` : `clip ${n + 1}`,
          }),
        ),
      );
    }),
  );
  $("[data-clips-empty]")?.toggleAttribute("hidden", clips.length > 0);
  if (editor.id && !clips.some((c) => c.id === editor.id)) newClip();
}

// Show these points, principles, flag and name in the editor.
function fill({ id, in: start, out, principles, supervision, mark }, name) {
  Object.assign(editor, { id, in: start, out, principles: [...principles], supervision, mark });
  $("[data-clip-name]").value = name;
  stopLoop();
  drawEditor();
}

function newClip() {
  fill({ id: null, in: null, out: null, principles: [], supervision: false, mark: null }, "");
}

function open(clip, name) {
  fill(clip, name);
  showFrame(clip.in);
  drawList(notes());
  document.getElementById("tab-clips")?.click(); // the Clips tab, where the editor is
  $("[data-clip-editor]").scrollIntoView({ block: "start", behavior: "smooth" });
}

// "Make a clip" from a mark: a new clip from the mark's time (its pre-roll included) to a
// few seconds on (or the end of the film), with the mark's principles, flag and note as
// its name; then nudged. A mark in the film's last frame starts the clip earlier.
export function clipFromMark(mark) {
  const out = Math.min(snap(mark.t + CLIP_FROM_MARK_S), duration());
  let start = snap(mark.t);
  if (out - start < frame()) start = snap(Math.max(0, out - CLIP_FROM_MARK_S));
  const fields = { id: null, in: start, out, principles: mark.principles, mark: mark.id };
  open({ ...fields, supervision: mark.supervision && mayFlag() }, mark.note.slice(0, 80));
  say(`A clip from the moment at ${timeText(mark.t)}: check its start and end, then save it.`);
}

// A Start after the End (or an End before the Start) is not taken: the page says so in
// the editor's own words, and both points stay as they were.
function crossed(point, value) {
  const other = point === "in" ? editor.out : editor.in;
  if (other === null || (point === "in" ? value < other : value > other)) return false;
  const [mine, theirs] = point === "in" ? ["Start", "End"] : ["End", "Start"];
  const way = point === "in" ? "before" : "after";
  say(
    `The ${mine} must be ${way} the ${theirs} (${timeText(other, { fraction: true })}). ` +
      `Choose a moment ${way} it, or move the ${theirs} first.`,
    { problem: true },
  );
  return true;
}

function setPoint(point) {
  const here = snap(now());
  // the end includes the frame on screen: the clip stops after it
  const value = point === "in" ? here : Math.min(snap(here + frame()), duration());
  if (crossed(point, value)) return;
  editor[point] = value;
  drawEditor();
}

function nudge(point, seconds) {
  const value = editor[point];
  if (value === null) return;
  const moved = Math.max(0, Math.min(snap(value + seconds), duration()));
  if (crossed(point, moved)) return;
  editor[point] = moved;
  player()?.pause();
  stopLoop();
  // show the frame that changed: the first of the clip, or its last
  showFrame(point === "in" ? moved : Math.max(0, moved - frame()));
  drawEditor();
}

function loopStep() {
  if (!looping) return;
  const video = player();
  if (video.currentTime >= editor.out - frame() / 2 || video.currentTime < editor.in - 0.25) {
    video.currentTime = editor.in + 0.001;
  }
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(loopStep);
}

function startLoop() {
  const video = player();
  if (!video || editor.in === null || editor.out === null) return;
  looping = true;
  $("[data-loop]").setAttribute("aria-pressed", "true");
  $("[data-loop]").textContent = "Stop playing the clip";
  video.currentTime = editor.in + 0.001;
  video.play().catch(() => {});
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(loopStep);
  else video.addEventListener("timeupdate", loopStep);
}

function stopLoop() {
  if (!looping) return;
  looping = false;
  player()?.pause();
  player()?.removeEventListener("timeupdate", loopStep);
  $("[data-loop]").setAttribute("aria-pressed", "false");
  $("[data-loop]").textContent = "Play the clip on repeat";
}

async function save() {
  if (editor.in === null || editor.out === null) {
    say("Set both the start and the end of the clip first.", { problem: true });
    return;
  }
  const fields = {
    in: Math.round(editor.in * 1000) / 1000,
    out: Math.round(editor.out * 1000) / 1000,
    name: $("[data-clip-name]").value.trim(),
    principles: editor.principles,
    mark: editor.mark,
  };
  if (mayFlag()) fields.supervision = editor.supervision;
  try {
    if (editor.id) {
      await change([update("clips", editor.id, fields)]);
    } else {
      const doc = await change([add("clips", fields)]);
      editor.id = newestId("c", doc);
    }
    newClip();
  } catch {
    // change() has said why; the editor keeps what was set
  }
}

async function move(id, by) {
  const clips = notes().clips;
  const at = clips.findIndex((c) => c.id === id);
  const other = clips[at + by];
  if (at < 0 || !other) return;
  const mine = clips[at];
  const [a, b] = mine.order === other.order ? [other.order + by, other.order] : [other.order, mine.order];
  try {
    await change([update("clips", mine.id, { order: a }), update("clips", other.id, { order: b })]);
  } catch {
    // said
  }
}

export async function exportClip(id) {
  const exact = Boolean($("[data-exact]")?.checked);
  return act(`/recordings/${recordingId()}/clips/${id}/export`, { exact }, "Exporting the clip…");
}

export function clips() {
  const box = $("[data-clip-editor]");
  if (!box) return;
  for (const point of ["in", "out"]) {
    const row = $(`[data-point="${point}"]`);
    row.querySelector("[data-set]").addEventListener("click", () => setPoint(point));
    row.addEventListener("click", (event) => {
      const button = event.target.closest("[data-nudge]");
      if (!button) return;
      const amount = Number(button.dataset.nudge);
      nudge(point, button.dataset.unit === "frames" ? amount * frame() : amount);
    });
  }
  for (const button of document.querySelectorAll("[data-step]")) {
    button.addEventListener("click", () => stepFrames(Number(button.dataset.step)));
  }
  const nowText = $("[data-now]");
  const video = player();
  if (nowText && video) {
    const show = () => {
      nowText.textContent = timeText(video.currentTime, { fraction: true });
    };
    video.addEventListener("timeupdate", show);
    video.addEventListener("seeked", show);
  }
  $("[data-loop]").addEventListener("click", () => (looping ? stopLoop() : startLoop()));
  $("[data-clip-save]").addEventListener("click", save);
  $("[data-clip-new]").addEventListener("click", newClip);
  $("[data-clip-list]").addEventListener("click", async (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    const doc = notes();
    if (target.dataset.edit) {
      const clip = doc.clips.find((c) => c.id === target.dataset.edit);
      if (clip) open(clip, clip.name);
    } else if (target.dataset.move) {
      await move(target.dataset.move, Number(target.dataset.by));
    } else if (target.dataset.export) {
      target.disabled = true;
      try {
        await exportClip(target.dataset.export);
      } catch {
        // said
      } finally {
        target.disabled = false;
      }
    }
  });
  $("[data-clip-chips]")?.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-principle]");
    if (!chip) return;
    const name = chip.dataset.principle;
    const on = editor.principles.includes(name);
    editor.principles = on ? editor.principles.filter((p) => p !== name) : [...editor.principles, name];
    drawEditor();
  });
  $("[data-clip-supervise]")?.addEventListener("click", () => {
    editor.supervision = !editor.supervision;
    drawEditor();
  });
  onNotes(drawList);
  drawEditor();
}
