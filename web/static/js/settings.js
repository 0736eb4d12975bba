// VIG Kit Settings page: compare the phone's clock with the kit's, and offer to set the
// kit's clock from the phone when they differ by more than a minute. Without JavaScript
// the page still shows the kit's clock; only the comparison needs the phone's time.

import { post } from "./common.js";

const box = document.querySelector("[data-clock]");

function localTime(ms) {
  return new Date(ms).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function minutesApart(seconds) {
  const minutes = Math.round(Math.abs(seconds) / 60);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

function show(check) {
  const words = box.querySelector("[data-clock-words]");
  const form = box.querySelector("[data-clock-form]");
  box.querySelector("[data-kit-time]").textContent = localTime(check.kit_ms);
  if (check.needs_setting) {
    const way = check.offset_s > 0 ? "behind" : "ahead of";
    words.textContent =
      `The kit's clock is ${minutesApart(check.offset_s)} ${way} your phone's ` +
      `(your phone says ${localTime(check.phone_ms)}).`;
    form.hidden = false;
  } else {
    words.textContent = "The kit's clock agrees with your phone's.";
    form.hidden = true;
  }
}

async function checkClock() {
  const response = await fetch(`/settings/clock?phone_ms=${Date.now()}`, {
    headers: { Accept: "application/json" },
  });
  if (response.ok) show(await response.json());
}

async function setClock(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const words = box.querySelector("[data-clock-words]");
  const body = new URLSearchParams({ phone_ms: String(Date.now()) });
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const answer = await post(form.action, body);
    await checkClock();
    if (answer.set) words.textContent = "The kit's clock is set from your phone.";
  } catch (refusal) {
    words.textContent = refusal.message; // the kit's sentence, or that it was not reached
  } finally {
    button.disabled = false;
  }
}

if (box) {
  const form = box.querySelector("[data-clock-form]");
  form.addEventListener("submit", setClock);
  // A form sent without the script above still carries the phone's time.
  form.querySelector("[data-phone-ms]").value = String(Date.now());
  checkClock().catch(() => {});
}

// Office sync: while a sync runs, show its progress; when it ends, show how it ended.
const syncBox = document.querySelector("[data-sync]");

async function watchSync() {
  const response = await fetch("/settings/sync", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const state = await response.json();
  if (!state.running) {
    window.location.reload();
    return;
  }
  const words = syncBox.querySelector("[data-sync-words]");
  if (words) words.textContent = state.words;
  setTimeout(() => watchSync().catch(() => {}), 2000);
}

if (syncBox?.dataset.running) {
  setTimeout(() => watchSync().catch(() => {}), 2000);
}
