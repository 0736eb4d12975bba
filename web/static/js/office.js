// The office's film page: the same player and thumbnail strip as the kit's page; a
// mark, clip, still or comment with a time goes to that moment; a comment can carry the
// time on screen. Everything else on the page is plain HTML (the comment is a form).

import { timeText } from "./common.js";
import { now, onTime, seek } from "./player.js";
import { timeline } from "./timeline.js";

timeline();

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-seek]");
  if (!button) return;
  seek(Number(button.dataset.seek));
  document.querySelector("[data-player]")?.scrollIntoView({ block: "nearest" });
});

const form = document.querySelector("[data-comment-form]");
const at = document.querySelector("[data-comment-at]");
const shown = document.querySelector("[data-comment-now]");
if (form && at) {
  onTime((t) => {
    shown.textContent = timeText(t);
  });
  form.addEventListener("submit", () => {
    form.querySelector("[data-comment-t]").value = at.checked ? now().toFixed(3) : "";
  });
}
