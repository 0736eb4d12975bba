// The kit's status on the page: one small JSON poll (twice a second, paused while the
// page is hidden), the live preview once a second, and Record/Stop without a reload.
// Without JavaScript the forms still work.

const POLL_MS = 500; // a press of the physical button shows within a second
const PREVIEW_MS = 1000;
const METER_FLOOR_DB = -60; // the meter's left end; speech sits around -30 to -10

import { post, timeText } from "./common.js";

const statusBox = document.querySelector("[data-status]");
const preview = document.querySelector("[data-preview]");
const recordForm = document.querySelector("[data-record]");

function setText(selector, text) {
  const el = statusBox?.querySelector(selector);
  if (el && el.textContent !== text) el.textContent = text;
}

function showLevel(dbfs) {
  const box = statusBox?.querySelector("[data-level]");
  if (!box) return;
  box.hidden = dbfs === null || dbfs === undefined;
  if (box.hidden) return;
  const fraction = Math.min(1, Math.max(0, (dbfs - METER_FLOOR_DB) / -METER_FLOOR_DB));
  // transform, not width: the meter moving never moves anything else on the page
  box.querySelector("[data-level-fill]").style.transform = `scaleX(${fraction.toFixed(3)})`;
}

function show(status) {
  if (!statusBox) return;
  // the kit locked itself (idle timeout, or Lock on another phone): the page reloads
  // into Unlock, since a locked kit tells nothing of what it is doing
  if (status.state === "locked" && !document.querySelector("form.unlock")) {
    location.reload();
    return;
  }
  statusBox.dataset.state = status.state;
  setText("[data-words]", status.words);
  const elapsed = statusBox.querySelector("[data-elapsed]");
  if (elapsed) {
    elapsed.hidden = status.elapsed_s === null;
    setText("[data-elapsed]", timeText(status.elapsed_s));
  }
  setText("[data-minutes]", String(status.minutes_left));
  const warning = statusBox.querySelector("[data-warning]");
  if (warning) {
    warning.textContent = status.warning ?? "";
    warning.hidden = !status.warning;
  }
  for (const [selector, text] of [
    ["[data-repairing]", status.repairing],
    ["[data-repair-problem]", status.repair_problem],
  ]) {
    const line = statusBox.querySelector(selector);
    if (line) {
      line.textContent = text ?? "";
      line.hidden = !text;
    }
  }
  showLevel(status.level_dbfs);
  if (recordForm) {
    const recording = status.state === "recording";
    const busy = status.state === "finalizing";
    const button = recordForm.querySelector("[data-record-button]");
    recordForm.querySelector('input[name="action"]').value = recording ? "stop" : "start";
    button.textContent = recording ? "Stop" : busy ? "Saving…" : "Record";
    button.disabled = busy;
    button.className = `record ${recording ? "stop" : "start"}`;
    // Record is offered only for a case with consent; a film the kit's button started
    // can always be stopped here.
    const offered = recording || busy || recordForm.dataset.mayFilm === "yes";
    recordForm.hidden = !offered;
    const needs = document.querySelector("[data-needs-case]");
    if (needs) needs.hidden = offered;
  }
  document.title = `${status.words} · ${document.title.split(" · ").pop()}`;
}

let pollTimer = null;
let previewTimer = null;

async function poll() {
  pollTimer = null;
  if (document.hidden) return; // visibilitychange starts polling again
  try {
    const response = await fetch("/status", { headers: { Accept: "application/json" } });
    if (response.ok) show(await response.json());
  } catch {
    // the kit may be restarting; the next poll tries again
  }
  if (!document.hidden && pollTimer === null) pollTimer = setTimeout(poll, POLL_MS);
}

function refreshPreview() {
  previewTimer = null;
  if (document.hidden || !preview) return;
  const next = new Image();
  const again = () => {
    if (!document.hidden && previewTimer === null) {
      previewTimer = setTimeout(refreshPreview, PREVIEW_MS);
    }
  };
  next.onload = () => {
    preview.src = next.src;
    again();
  };
  next.onerror = again;
  next.src = `/preview.jpg?t=${Date.now()}`;
}

function resume() {
  if (document.hidden) return;
  if (pollTimer === null) poll();
  if (preview && previewTimer === null) refreshPreview();
}

if (recordForm) {
  recordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = recordForm.querySelector("[data-record-button]");
    button.disabled = true; // one tap, one action
    try {
      show(await post(recordForm.getAttribute("action"), new FormData(recordForm)));
    } catch (refusal) {
      // no answer (status 0): the next poll shows what the kit is doing
      const warning = statusBox?.querySelector("[data-warning]");
      if (warning && refusal.status > 0) {
        warning.textContent = refusal.message;
        warning.hidden = false;
      }
    } finally {
      if (button.textContent !== "Saving…") button.disabled = false;
    }
  });
}

if (statusBox) {
  document.addEventListener("visibilitychange", resume);
  resume();
}
