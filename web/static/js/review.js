// The shared review: the helping question first, then one moment at a time; after each,
// its prompt and a place for the parent's words (saved when they move on); big Previous,
// Play again and Next; at the end a closing reflection, saved with the review marked
// done. A clip changed since its export is cut again first ("Preparing the clip…").

import { post } from "./common.js";

const main = document.querySelector("[data-review]");
const question = document.querySelector("[data-question]");
const items = [...document.querySelectorAll("[data-item]")];
const reflections = document.querySelector("[data-reflections]");
const controls = document.querySelector("[data-controls]");
const prev = document.querySelector("[data-prev]");
const again = document.querySelector("[data-again]");
const next = document.querySelector("[data-next]");
const first = question ? -1 : 0; // -1: the question; items.length: the closing reflection
let at = first;
const sent = new Map(items.map((item) => [item, words(item)?.value ?? ""]));

function video(item) {
  return item?.querySelector("video") ?? null;
}

function words(item) {
  return item?.querySelector("[data-moment-words]") ?? null;
}

function prompt(item, shown) {
  item.querySelector("[data-prompt]").hidden = !shown;
}

async function ready(item) {
  // a clip changed since its export plays only once the kit has cut it again
  const clip = video(item);
  if (clip.getAttribute("src")) return true;
  const note = item.querySelector("[data-preparing]");
  note.hidden = false;
  note.textContent = "Preparing the clip…";
  try {
    const answer = await post(item.dataset.prepare, {});
    clip.src = answer.src;
    note.hidden = true;
    return true;
  } catch (error) {
    note.textContent = error.message;
    return false;
  }
}

async function play(item) {
  const clip = video(item);
  if (!clip) return;
  prompt(item, false);
  if (!(await ready(item)) || items[at] !== item) return;
  clip.currentTime = 0;
  clip.play().catch(() => {
    // a phone may want a tap first: the prompt and Play again still work
  });
}

async function save(extra = {}) {
  const moments = items
    .filter((item) => words(item) && words(item).value !== sent.get(item))
    .map((item) => ({
      at: item.dataset.at,
      prompt: item.querySelector(".prompt").textContent,
      text: words(item).value,
    }));
  if (!moments.length && !Object.keys(extra).length) return;
  await post(main.dataset.save, { moments, ...extra });
  for (const item of items) if (words(item)) sent.set(item, words(item).value);
}

function show(index) {
  for (const item of items) {
    const clip = video(item);
    if (clip && !clip.paused) clip.pause();
  }
  save().catch(() => {}); // tried again with the closing reflection, which says why
  at = Math.max(first, Math.min(index, items.length));
  if (question) question.hidden = at !== -1;
  items.forEach((item, i) => {
    item.hidden = i !== at;
  });
  const current = items[at];
  reflections.hidden = at < items.length;
  prev.disabled = at === first;
  again.disabled = !video(current);
  again.style.visibility = current && video(current) ? "" : "hidden"; // nothing to play
  next.disabled = at >= items.length;
  next.textContent = at === -1 ? "Begin" : at === items.length - 1 ? "Finish" : "Next";
  if (at === items.length) {
    reflections.querySelector("textarea").focus({ preventScroll: true });
  } else if (video(current)) {
    video(current).preload = "auto";
    play(current);
  } else if (current) {
    prompt(current, true); // a still: look, and talk about it
  }
  const following = video(items[at + 1]); // the next clip loads while this one is watched
  if (following?.getAttribute("src")) following.preload = "auto";
}

async function finish() {
  const line = reflections.querySelector("[data-saved]");
  line.textContent = "Saving…";
  try {
    await save({ closing: reflections.querySelector("[data-reflect]").value, done: true });
    line.textContent = "Thank you. Your thoughts are saved and the review is done.";
  } catch (error) {
    line.textContent = error.message;
  }
}

function start() {
  if (!main) return;
  for (const item of items) {
    const clip = video(item);
    if (clip) clip.addEventListener("ended", () => prompt(item, true));
  }
  controls.hidden = items.length === 0;
  if (!items.length) return; // nothing was watched: nothing to reflect on yet
  prev.addEventListener("click", () => show(at - 1));
  next.addEventListener("click", () => show(at + 1));
  again.addEventListener("click", () => play(items[at]));
  document.querySelector("[data-finish]")?.addEventListener("click", finish);
  show(first);
}

start();
