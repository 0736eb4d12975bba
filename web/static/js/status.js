// The kit's status on the page: one small JSON poll (twice a second, paused while the
// page is hidden), the live preview once a second, and Record/Stop without a reload.
// Without JavaScript the forms still work.

const POLL_MS = 500; // a press of the physical button shows within a second
const ASK_STOP_MS = 2000; // a Stop this soon after the start is asked once more
const ASK_FOR_MS = 4000; // how long the question waits for a second Stop
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
  setText("[data-space]", status.space_left);
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
  showSaved(status.saved);
  if (recordForm) {
    const recording = status.state === "recording";
    // the start as this page knows it, to ask before a Stop that comes too soon
    recordingSince = recording ? performance.now() - (status.elapsed_s ?? 0) * 1000 : null;
    if (!recording) stopAsked(false);
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

function showSaved(saved) {
  const line = statusBox?.querySelector("[data-just-saved]");
  if (!line) return;
  line.hidden = !saved;
  if (!saved) return;
  setText("[data-just-saved-words]", saved.words);
  const link = line.querySelector("[data-just-saved-link]");
  if (link.getAttribute("href") !== saved.url) link.setAttribute("href", saved.url);
}

let pollTimer = null;
let previewTimer = null;
let recordingSince = null; // performance.now() of the start, while recording
let starting = false; // a Record tap is on its way to the kit
let askTimer = null;

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

// The question after a Stop that came too soon: shown, and a second Stop within a few
// seconds confirms it; otherwise the film simply keeps recording.
function stopAsked(on) {
  const ask = document.querySelector("[data-ask]");
  if (ask) ask.hidden = !on;
  const confirm = recordForm?.querySelector('input[name="confirm"]');
  if (confirm) confirm.value = on ? "yes" : "";
  clearTimeout(askTimer);
  askTimer = on ? setTimeout(() => stopAsked(false), ASK_FOR_MS) : null;
}

// A Stop (or a second tap while the start is on its way) within two seconds of the start.
function tooSoon(action) {
  if (recordForm.querySelector('input[name="confirm"]').value === "yes") return false;
  if (recordingSince !== null) {
    return action === "stop" && performance.now() - recordingSince < ASK_STOP_MS;
  }
  return starting;
}

async function send(action) {
  const body = new FormData(recordForm);
  body.set("action", action);
  if (action === "start") starting = true;
  try {
    show(await post(recordForm.getAttribute("action"), body));
    if (action === "stop") stopAsked(false);
  } catch (refusal) {
    // no answer (status 0): the next poll shows what the kit is doing
    if (refusal.status === 409 && action === "stop") {
      stopAsked(true); // the kit counted less than two seconds: ask, as the page would
      return;
    }
    const warning = statusBox?.querySelector("[data-warning]");
    if (warning && refusal.status > 0) {
      warning.textContent = refusal.message;
      warning.hidden = false;
    }
  } finally {
    if (action === "start") starting = false;
  }
}

if (recordForm) {
  // The button is never disabled while a tap is on its way: a second tap of a double
  // tap must reach this handler, so that it is asked about rather than lost or obeyed.
  recordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const action = recordForm.querySelector('input[name="action"]').value;
    if (tooSoon(action)) {
      stopAsked(true);
      return;
    }
    if (action === "start" && starting) return;
    send(action);
  });
}

if (statusBox) {
  document.addEventListener("visibilitychange", resume);
  resume();
}
