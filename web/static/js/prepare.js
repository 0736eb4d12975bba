// Opening the shared review from the film page: clips not exported yet (or changed since)
// are exported first, because the review plays only exported clips, never the film.

import { exportClip, stale } from "./clips.js";
import { notes, say } from "./notes.js";

export function review() {
  const link = document.querySelector("[data-review-link]");
  if (!link) return;
  link.addEventListener("click", async (event) => {
    const waiting = notes()?.clips.filter(stale) ?? [];
    if (!waiting.length) return; // the link opens the review as it is
    event.preventDefault();
    link.setAttribute("aria-disabled", "true");
    try {
      for (const [n, clip] of waiting.entries()) {
        say(`Getting the clips ready for the review (${n + 1} of ${waiting.length})…`);
        await exportClip(clip.id);
      }
      window.location.assign(link.href);
    } catch {
      // exportClip has said why; the practitioner can try again
    } finally {
      link.removeAttribute("aria-disabled");
    }
  });
}
