// The thumbnail strip under the player: tap a picture to go to that moment; the picture
// of the moment being played is marked, and kept in view.

import { onTime, seek } from "./player.js";

export function timeline() {
  const strip = document.querySelector("[data-strip]");
  if (!strip) return;
  const thumbs = [...strip.querySelectorAll("[data-t]")];
  const times = thumbs.map((b) => Number(b.dataset.t));
  strip.addEventListener("click", (event) => {
    const button = event.target.closest("[data-t]");
    if (button) seek(Number(button.dataset.t));
  });
  let current = -1;
  onTime((t) => {
    let i = times.length - 1;
    while (i > 0 && times[i] > t) i -= 1;
    if (i === current) return;
    thumbs[current]?.removeAttribute("aria-current");
    current = i;
    thumbs[i]?.setAttribute("aria-current", "true");
    thumbs[i]?.scrollIntoView({ block: "nearest", inline: "center" });
  });
}
