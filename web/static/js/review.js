// The shared review: one moment at a time, then its reflective prompt; big Previous,
// Play again and Next; at the end, a place for the parent's reflections, saved into the
// notes with the review marked done. Clips come from their exported files only.

import { post } from "./common.js";

const main = document.querySelector("[data-review]");
const items = [...document.querySelectorAll("[data-item]")];
const reflections = document.querySelector("[data-reflections]");
const controls = document.querySelector("[data-controls]");
const prev = document.querySelector("[data-prev]");
const again = document.querySelector("[data-again]");
const next = document.querySelector("[data-next]");
let at = 0; // 0..items.length; items.length is the reflections step

function video(item) {
  return item?.querySelector("video") ?? null;
}

function prompt(item, shown) {
  const line = item.querySelector("[data-prompt]");
  line.hidden = !shown;
  if (shown) line.setAttribute("role", "status");
}

function play(item) {
  const clip = video(item);
  if (!clip) return;
  prompt(item, false);
  clip.currentTime = 0;
  clip.play().catch(() => {
    // a phone may want a tap first: the prompt and Play again still work
  });
}

function show(index) {
  for (const item of items) {
    const clip = video(item);
    if (clip && !clip.paused) clip.pause();
  }
  at = Math.max(0, Math.min(index, items.length));
  items.forEach((item, i) => {
    item.hidden = i !== at;
  });
  const current = items[at];
  reflections.hidden = at < items.length;
  prev.disabled = at === 0;
  again.disabled = !video(current);
  again.style.visibility = current && !video(current) ? "hidden" : ""; // a still: nothing to play
  next.disabled = at >= items.length;
  next.textContent = at === items.length - 1 ? "Finish" : "Next";
  if (!current) {
    reflections.querySelector("textarea").focus({ preventScroll: true });
    return;
  }
  if (video(current)) {
    video(current).preload = "auto";
    play(current);
  } else {
    prompt(current, true); // a still: look, and talk about it
  }
  // the next clip starts loading while this one is watched
  const following = video(items[at + 1]);
  if (following) following.preload = "auto";
}

function start() {
  if (!main) return;
  for (const item of items) {
    const clip = video(item);
    if (clip) clip.addEventListener("ended", () => prompt(item, true));
  }
  controls.hidden = items.length === 0;
  if (!items.length) {
    reflections.hidden = true; // nothing was watched: nothing to reflect on yet
    return;
  }
  prev.addEventListener("click", () => show(at - 1));
  next.addEventListener("click", () => show(at + 1));
  again.addEventListener("click", () => play(items[at]));
  document.querySelector("[data-finish]").addEventListener("click", finish);
  show(0);
}

async function finish() {
  const line = reflections.querySelector("[data-saved]");
  const words = reflections.querySelector("[data-reflect]").value;
  line.textContent = "Saving…";
  try {
    await post(`/recordings/${main.dataset.id}/notes`, {
      ops: [
        { op: "set", field: "review.reflections", value: words },
        { op: "set", field: "review.done", value: true },
      ],
    });
    line.textContent = "Thank you. Your thoughts are saved and the review is done.";
  } catch (error) {
    line.textContent = error.message;
  }
}

start();
